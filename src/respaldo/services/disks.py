"""Disk volumes of VMs: new disks given as ``local:<GiB>`` (EFI disks and TPM states too),
existing volumes attached with their size, paths of volumes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from respaldo.config.drive import TPMSTATE_SIZE
from respaldo.config.ids import parse_volid
from respaldo.config.propstring import format_size
from respaldo.config.vmconfig import Drive
from respaldo.errors import InputError, NoSuchVolume
from respaldo.qemu import img
from respaldo.qemu.cmdline import ResolvedDrive
from respaldo.qemu.firmware import OvmfImages, ovmf_images
from respaldo.storage.registry import StorageRegistry

GIB = 1 << 30
KIB = 1 << 10
_TRUE = ("1", "on", "yes", "true")


@dataclass(frozen=True)
class NewDisk:
    """A disk to allocate: ``local:4`` means 4 GiB on storage ``local``; ``format`` None is
    the storage's default (raw on a ``dir`` storage, as in Proxmox)."""

    storage: str
    size: int
    format: str | None


def new_disk_request(drive: Drive) -> NewDisk | None:
    """The allocation a drive asks for (``<storage>:<GiB>``), or None for an existing volume.

    An EFI disk gets the size of its OVMF variables template and a TPM state 4 MiB, whatever
    size is given (qemu-server's ``create_disks``).
    """
    request = drive.new_disk
    if request is None:
        return None
    storage, gib = request
    if storage is None:
        raise InputError(drive.key, drive.volume, "name the storage: <storage>:<size in GiB>")
    # qemu-server converts the GiB to KiB rounding up (pve-common PVE::Tools::convert_size), so
    # a fraction such as 0.01 is a valid size.
    size = math.ceil(Fraction(gib) * (GIB // KIB)) * KIB
    if size <= 0 and drive.on_bus:
        raise InputError(drive.key, drive.volume, "a new disk needs a size above 0 GiB")
    fmt = drive.props.get("format")
    if fmt is not None and fmt not in img.FORMATS:
        raise InputError(f"{drive.key} format", fmt, f"expected {' or '.join(img.FORMATS)}")
    return NewDisk(storage, size, fmt)


def efi_vars_template(drive: Drive) -> OvmfImages:
    """The OVMF images an EFI disk's ``efitype`` and ``pre-enrolled-keys`` ask for (the
    variables template does not depend on the machine type)."""
    keys = drive.props.get("pre-enrolled-keys", "0").lower() in _TRUE
    return ovmf_images(drive.props.get("efitype"), keys, q35=False)


def is_owned_volume(volume: str, vmid: int) -> bool:
    """Whether a volume id names a disk image of this VM (which destroy may free)."""
    if volume.startswith("/") or ":" not in volume or volume == "none":
        return False
    volname = volume.partition(":")[2]
    return volname.startswith(f"{vmid}/")


class DiskManager:
    def __init__(self, storages: StorageRegistry) -> None:
        self.storages = storages

    def check_volume(self, drive: Drive) -> None:
        """Validate a drive before anything is changed: known storage, volume exists."""
        request = new_disk_request(drive)
        if request is not None:
            self.storages.get(request.storage)
            if drive.is_efidisk:
                efi_vars_template(drive)  # the OVMF files are there
            return
        if drive.volume == "none" and drive.is_cdrom:
            return
        self.volume_path(drive.volume, drive.key)

    def allocate(self, vmid: int, drive: Drive) -> Drive:
        """Allocate a requested new disk and return the drive naming the new volume (its
        ``format=`` dropped, its ``size=`` recorded); an EFI disk is filled from the OVMF
        variables template. Any other drive comes back as it is."""
        request = new_disk_request(drive)
        if request is None:
            return drive
        storage = self.storages.get(request.storage)
        fmt = request.format or storage.default_format
        size, template = request.size, None
        if drive.is_tpmstate:
            size = TPMSTATE_SIZE
        elif drive.is_efidisk:
            template = efi_vars_template(drive).vars
            size = template.stat().st_size
        volname = storage.alloc_image(vmid, fmt, size)
        if template is not None:
            try:
                img.write_into(template, storage.volume_path(volname), fmt)
            except BaseException:
                storage.free_image(volname)
                raise
        props = {k: v for k, v in drive.props.items() if k != "format"}
        props["size"] = format_size(size)
        return Drive(drive.key, f"{storage.id}:{volname}", props)

    def attach(self, drive: Drive) -> Drive:
        """An existing volume as a drive: its ``size=`` as the volume has it, ``format=``
        checked against the volume's (qemu-server's ``create_disks``); a CD-ROM has no size."""
        props = dict(drive.props)
        if drive.is_cdrom or drive.volume in ("none", "cdrom"):
            props.pop("size", None)
            return Drive(drive.key, drive.volume, props)
        _, fmt = self.volume_path(drive.volume, drive.key)
        given = props.get("format")
        if given is not None and given != fmt and not drive.volume.startswith("/"):
            raise InputError(
                drive.key,
                drive.format(),
                f"'format={given}' option different from storage format '{fmt}'",
            )
        props["size"] = format_size(self.size_of(drive.volume))
        return Drive(drive.key, drive.volume, props)

    def free(self, volume: str) -> None:
        volid = parse_volid(volume)
        self.storages.get(volid.storage).free_image(volid.volname)

    def volume_path(self, volume: str, what: str = "volume") -> tuple[Path, str]:
        """(path, format) of a volume id or an absolute path."""
        if volume.startswith("/"):
            path = Path(volume)
            if not path.exists():
                raise InputError(what, volume, "no such file")
            return path, "qcow2" if path.suffix == ".qcow2" else "raw"
        volid = parse_volid(volume, what)
        storage = self.storages.get(volid.storage)
        try:
            path = storage.volume_path(volid.volname)
        except InputError as err:
            raise InputError(
                what,
                volume,
                "expected '<storage>:<size in GiB>' for a new disk, "
                "or a volume id such as 'local:100/vm-100-disk-0.qcow2'",
            ) from err
        if not path.exists():
            raise NoSuchVolume(volume)
        return path, storage.image_format(volid.volname)

    def resolve(self, drives: list[Drive]) -> list[ResolvedDrive]:
        resolved = []
        for drive in drives:
            if drive.volume == "none":
                resolved.append(ResolvedDrive(drive, None, "raw"))
                continue
            path, fmt = self.volume_path(drive.volume, drive.key)
            resolved.append(ResolvedDrive(drive, path, drive.props.get("format", fmt)))
        return resolved

    def size_of(self, volume: str) -> int:
        """Virtual size in bytes of a volume id or an image path."""
        if volume.startswith("/"):
            path, _ = self.volume_path(volume)
            return img.info(path).virtual_size
        volid = parse_volid(volume)
        return self.storages.get(volid.storage).volume_size(volid.volname)

    def resize(self, volume: str, size: int) -> None:
        volid = parse_volid(volume)
        self.storages.get(volid.storage).resize_image(volid.volname, size)


def size_gib(size: int) -> float:
    return size / GIB
