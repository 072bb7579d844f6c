"""A VM's configuration (``qemu-server/<vmid>.conf``) with the typed views respaldo needs.

The file itself stays a ``KeyValueFile``, so unknown keys, their order and the description
(comments at the top) survive every change respaldo makes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from respaldo.config.drive import DISK_BUSES, DRIVE_KEY, Drive, is_drive_key
from respaldo.config.ids import is_decimal
from respaldo.config.keyvalue import Comment, KeyValueFile, Option, parse_keyvalue, read_keyvalue
from respaldo.config.propstring import parse_propstring
from respaldo.config.pvetext import decode_text, encode_text
from respaldo.config.vmformats import NIC_MODELS
from respaldo.errors import ConfigError, InputError, RespaldoError

__all__ = [
    "DISK_BUSES",
    "DRIVE_KEY",
    "NET_KEY",
    "NET_MODELS",
    "UNUSED_KEY",
    "Drive",
    "NetDevice",
    "VmConfig",
    "is_drive_key",
]

NET_KEY = re.compile(r"^net(\d+)$")
UNUSED_KEY = re.compile(r"^unused(\d+)$")
NET_MODELS = tuple(NIC_MODELS)


@dataclass
class NetDevice:
    key: str
    model: str
    mac: str
    props: dict[str, str]

    @classmethod
    def parse(cls, key: str, value: str) -> NetDevice:
        """``virtio=BC:24:11:..,bridge=vmbr0`` (or ``model=virtio,macaddr=...``)."""
        props = parse_propstring(value, "model", key)
        model = next((m for m in NET_MODELS if m in props), None)
        if model is not None:
            mac = props.pop(model)
            props.pop("model", None)
        elif props.get("model") in NET_MODELS:
            model, mac = props.pop("model"), props.pop("macaddr", "")
        else:
            raise InputError(key, value, f"needs a model: one of {', '.join(NET_MODELS)}")
        return cls(key, model, mac, props)


class VmConfig:
    """A parsed VM config file; ``vmid`` is known from the file name."""

    def __init__(self, vmid: int, data: KeyValueFile) -> None:
        self.vmid = vmid
        self.data = data

    @classmethod
    def parse(cls, vmid: int, text: str, path: Path | str = "<string>") -> VmConfig:
        return cls(vmid, parse_keyvalue(text, path))

    @classmethod
    def load(cls, vmid: int, path: Path) -> VmConfig:
        config = cls(vmid, read_keyvalue(path))
        config.validate(path)
        return config

    def validate(self, path: Path | str) -> None:
        """Parse every value respaldo interprets, so a bad one is reported with its file."""
        try:
            self.drives()
            self.nets()
            self.memory  # noqa: B018
            self.cores  # noqa: B018
            self.sockets  # noqa: B018
        except RespaldoError as err:
            raise ConfigError(path, 0, str(err)) from err

    def format(self) -> str:
        return self.data.format()

    # -- generic access ---------------------------------------------------------------------

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.data.main.get(key, default)

    def set(self, key: str, value: str) -> None:
        self.data.main.set(key, value)

    def delete(self, key: str) -> bool:
        return self.data.main.delete(key)

    def keys(self) -> list[str]:
        return self.data.main.keys()

    def as_dict(self) -> dict[str, str]:
        return self.data.main.as_dict()

    @property
    def description(self) -> str:
        """The description as text: every comment line of the main section, decoded, and a
        ``description:`` line (an older form), trailing whitespace removed, as qemu-server's
        ``parse_vm_config`` reads it."""
        text = ""
        for line in self.data.main.lines:
            if isinstance(line, Comment):
                text += decode_text(line.text) + "\n"
            elif line.key == "description":
                text += decode_text(line.value)
        return text.rstrip()

    def set_description(self, text: str) -> None:
        """Proxmox writes the description as comment lines at the top of the file, each line
        encoded with ``encode_text`` (``Web server: prod`` -> ``#Web server%3A prod``)."""
        lines = self.data.main.lines
        lines[:] = [ln for ln in lines if isinstance(ln, Option) and ln.key != "description"]
        if text:
            parts = text.replace("\r", "").split("\n")
            lines[:0] = [Comment(encode_text(part)) for part in parts]

    # -- typed views ------------------------------------------------------------------------

    def get_int(self, key: str, default: int) -> int:
        """A positive whole number the config holds under ``key``, else ``default``."""
        value = self.get(key)
        if value is None:
            return default
        if not is_decimal(value) or int(value) <= 0:
            raise InputError(key, value, "expected a positive whole number")
        return int(value)

    @property
    def name(self) -> str:
        return self.get("name") or f"VM{self.vmid}"

    @property
    def memory(self) -> int:
        """MiB, Proxmox's default 512."""
        return self.get_int("memory", 512)

    @property
    def cores(self) -> int:
        return self.get_int("cores", 1)

    @property
    def sockets(self) -> int:
        return self.get_int("sockets", 1)

    @property
    def lock(self) -> str | None:
        return self.get("lock")

    def drives(self) -> list[Drive]:
        return [Drive.parse(k, v) for k, v in self.data.main.items() if is_drive_key(k)]

    def drive(self, key: str) -> Drive | None:
        value = self.get(key)
        return Drive.parse(key, value) if value is not None and is_drive_key(key) else None

    def disks(self) -> list[Drive]:
        """Drives that hold a disk image (not CD-ROMs)."""
        return [d for d in self.drives() if not d.is_cdrom]

    def nets(self) -> list[NetDevice]:
        return [NetDevice.parse(k, v) for k, v in self.data.main.items() if NET_KEY.match(k)]

    def unused_volumes(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.data.main.items() if UNUSED_KEY.match(k)]

    def next_unused_key(self) -> str:
        taken = {k for k in self.keys() if UNUSED_KEY.match(k)}
        n = 0
        while f"unused{n}" in taken:
            n += 1
        return f"unused{n}"

    def default_boot_devices(self) -> list[str]:
        """qemu-server's ``get_default_bootdevices``: the first disk, the first CD-ROM and the
        first NIC (disks in the order ide, scsi, virtio, sata), as ``qm create`` sets them."""
        drives = sorted((d for d in self.drives() if d.on_bus), key=lambda d: d.rank)
        devices = []
        for cdrom in (False, True):
            first = next((d.key for d in drives if d.is_cdrom == cdrom), None)
            if first is not None:
                devices.append(first)
        nets = sorted(self.nets(), key=lambda n: int(n.key[3:]))
        if nets:
            devices.append(nets[0].key)
        return devices

    def set_drive(self, drive: Drive) -> None:
        self.set(drive.key, drive.format())
