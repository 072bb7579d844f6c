"""Disk volumes of VMs: new disks given as ``local:<GiB>``, paths of existing volumes."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from respaldo.config.ids import parse_volid
from respaldo.config.propstring import format_size
from respaldo.config.vmconfig import Drive
from respaldo.errors import InputError, NoSuchVolume
from respaldo.qemu import img
from respaldo.qemu.cmdline import ResolvedDrive
from respaldo.storage.registry import StorageRegistry

_NEW_DISK = re.compile(r"^([a-z][a-z0-9._-]*[a-z0-9]):(\d+(?:\.\d+)?)$")
GIB = 1 << 30
KIB = 1 << 10


@dataclass(frozen=True)
class NewDisk:
    """A disk to allocate: ``local:4`` means 4 GiB on storage ``local``."""

    storage: str
    size: int
    format: str


def new_disk_request(drive: Drive) -> NewDisk | None:
    match = _NEW_DISK.match(drive.volume)
    if not match:
        return None
    storage, gib = match.groups()
    # qemu-server converts the GiB to KiB rounding up (pve-common PVE::Tools::convert_size), so
    # a fraction such as 0.01 is a valid size.
    size = math.ceil(Fraction(gib) * (GIB // KIB)) * KIB
    if size <= 0:
        raise InputError(drive.key, drive.volume, "a new disk needs a size above 0 GiB")
    fmt = drive.props.get("format", "qcow2")
    if fmt not in ("qcow2", "raw"):
        raise InputError(f"{drive.key} format", fmt, "expected qcow2 or raw")
    return NewDisk(storage, size, fmt)


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
            return
        if drive.volume == "none" and drive.is_cdrom:
            return
        self.volume_path(drive.volume, drive.key)

    def allocate(self, vmid: int, drive: Drive) -> Drive:
        """Allocate a requested new disk and return the drive naming the new volume."""
        request = new_disk_request(drive)
        if request is None:
            return drive
        storage = self.storages.get(request.storage)
        volname = storage.alloc_image(vmid, request.format, request.size)
        props = {k: v for k, v in drive.props.items() if k != "format"}
        props["size"] = format_size(request.size)
        return Drive(drive.key, f"{storage.id}:{volname}", props)

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
