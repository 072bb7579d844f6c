"""The UEFI firmware of ``bios: ovmf`` VMs: which OVMF code and variables images to use.

The choice is qemu-server's (``PVE/QemuServer/OVMF.pm``, ``get_ovmf_files``): an EFI disk with
``efitype=4m`` gets the 4 MiB images, with Secure Boot enforced through SMM on ``q35``
machines (``OVMF_CODE_4M.secboot.fd``) and without it on ``pc`` (``OVMF_CODE_4M.fd``), and the
variables template with Microsoft's and the distribution's keys enrolled when
``pre-enrolled-keys=1`` (``OVMF_VARS_4M.ms.fd``); anything else gets the legacy 2 MiB images
(``OVMF_CODE.fd``, ``OVMF_VARS.fd``). The files are those of Debian's ``ovmf`` package, which
uses the same names as Proxmox's ``pve-edk2-firmware``, in ``/usr/share/OVMF``
(``RESPALDO_OVMF_DIR`` overrides).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from respaldo.errors import QemuError

DEFAULT_DIR = Path("/usr/share/OVMF")
#: QEMU node names of the firmware code and of the EFI variables (``-machine pflash0=...``).
CODE_NODE = "pflash0"


def firmware_dir() -> Path:
    return Path(os.environ.get("RESPALDO_OVMF_DIR") or DEFAULT_DIR)


@dataclass(frozen=True)
class OvmfImages:
    """The read-only code image and the variables template a new EFI disk is copied from."""

    code: Path
    vars: Path

    @property
    def vars_size(self) -> int:
        """Bytes of the variables template: the size of an EFI disk using these images."""
        return self.vars.stat().st_size


def ovmf_images(
    efitype: str | None, pre_enrolled_keys: bool, q35: bool, folder: Path | None = None
) -> OvmfImages:
    """The images for an EFI disk of ``efitype`` (``2m`` when None); QemuError when a file is
    missing (Debian's ``ovmf`` package provides them)."""
    folder = folder or firmware_dir()
    if efitype == "4m":
        code = "OVMF_CODE_4M.secboot.fd" if q35 else "OVMF_CODE_4M.fd"
        variables = "OVMF_VARS_4M.ms.fd" if pre_enrolled_keys else "OVMF_VARS_4M.fd"
    else:
        code, variables = "OVMF_CODE.fd", "OVMF_VARS.fd"
    images = OvmfImages(folder / code, folder / variables)
    for what, path in (("EFI base image", images.code), ("EFI vars image", images.vars)):
        if not path.is_file():
            raise QemuError(f"{what} '{path}' not found (install Debian's 'ovmf' package)")
    return images
