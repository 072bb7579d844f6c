"""Identifiers as Proxmox spells them: VMIDs, storage ids and volume ids (``<storage>:<volname>``,
e.g. ``local:100/vm-100-disk-0.qcow2``). Rules from pve-common ``PVE/JSONSchema.pm``
(``pve-vmid``, ``pve-storage-id``) and pve-storage ``PVE/Storage.pm`` (``parse_volume_id``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from respaldo.errors import InputError

STORAGE_ID = re.compile(r"[a-z][a-z0-9._-]*[a-z0-9]")
IMAGE_NAME = re.compile(r"^(?:vm|base)-(\d+)-[a-zA-Z0-9_.-]+\.(qcow2|raw)$")
VMID_MIN = 100
VMID_MAX = 999_999_999


@dataclass(frozen=True)
class VolumeId:
    storage: str
    volname: str

    def __str__(self) -> str:
        return f"{self.storage}:{self.volname}"


_VOLID_SHAPE = re.compile(r"[a-z][a-z0-9._-]*[a-z0-9]:.+", re.IGNORECASE | re.DOTALL)


def is_volume_id(text: str) -> bool:
    """Whether ``text`` names a volume (``<storage>:<name>``) rather than a file, by
    pve-storage ``parse_volume_id``'s rule: anything else is a path, relative ones too
    (``vzdump-qemu-100-....vma.zst`` in the current directory)."""
    return _VOLID_SHAPE.fullmatch(text) is not None


def parse_volid(text: str, what: str = "volume") -> VolumeId:
    storage, sep, volname = text.partition(":")
    if not sep or not volname:
        raise InputError(what, text, "expected '<storage>:<volume name>'")
    check_storage_id(storage)
    return VolumeId(storage, volname)


def check_storage_id(storage: str) -> str:
    if not STORAGE_ID.fullmatch(storage):
        raise InputError(
            "storage",
            storage,
            "a storage id starts with a letter and holds lowercase letters, digits, '-', '_', '.'",
        )
    return storage


def is_decimal(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` also accepts ``"²"``, which ``int`` refuses)."""
    return text.isascii() and text.isdigit()


def check_vmid(vmid: int | str) -> int:
    """Proxmox's VMID range: 100..999999999."""
    if isinstance(vmid, str) and not is_decimal(vmid):
        raise InputError("vmid", vmid, "not a whole number")
    value = int(vmid)
    if not VMID_MIN <= value <= VMID_MAX:
        raise InputError("vmid", vmid, f"must be between {VMID_MIN} and {VMID_MAX}")
    return value
