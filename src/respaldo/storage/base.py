"""The storage interface that every backend implements (``dir`` now, an object store later).

Everything above it speaks volume names, never paths to files it has not been given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CONTENT_TYPES = ("images", "rootdir", "iso", "vztmpl", "backup", "snippets")


@dataclass(frozen=True)
class StorageStatus:
    """A storage's state (bytes): ``active`` when usable now; ``enabled`` unless storage.cfg
    says ``disable`` (or names other nodes); ``shared`` as storage.cfg says."""

    storage: str
    type: str
    active: bool
    total: int
    used: int
    available: int
    content: tuple[str, ...]
    enabled: bool = True
    shared: bool = False


@dataclass(frozen=True, slots=True)
class VolumeInfo:
    """One row of a storage's content listing, with the field names of Proxmox's API.

    ``size`` is the virtual size of a disk image and the file size of a backup. The fields
    after ``used`` are set for backups only: ``ctime`` (epoch seconds), ``notes`` (first line),
    ``protected`` and ``subtype`` (``qemu``, ``lxc`` or ``openvz``).
    """

    volid: str
    format: str
    content: str
    size: int
    vmid: int | None
    used: int = 0
    ctime: int | None = None
    notes: str | None = None
    protected: bool = False
    subtype: str | None = None


@dataclass(frozen=True, slots=True)
class VolumeName:
    """What a volume name says (pve-storage ``PVE::Storage::Plugin::parse_volname``): its
    content type (``images``, ``iso``, ``backup``...), its file name and the VMID that owns it,
    if any (a disk image's VM, the guest a backup was made of)."""

    vtype: str
    name: str
    owner: int | None


class Storage(Protocol):
    id: str
    type: str
    content: tuple[str, ...]

    def status(self) -> StorageStatus: ...

    def alloc_image(self, vmid: int, fmt: str, size: int, name: str | None = None) -> str:
        """Create a new disk image; return its volume name."""
        ...

    def free_image(self, volname: str) -> None: ...

    def resize_image(self, volname: str, size: int) -> None: ...

    def volume_path(self, volname: str) -> Path:
        """The file that holds the volume (a disk image, an ISO, a backup)."""
        ...

    def image_format(self, volname: str) -> str: ...

    def parse_volname(self, volname: str) -> VolumeName:
        """The content type and owner of a volume name; InputError if it names none."""
        ...

    def list_volumes(
        self, vmid: int | None = None, content: str | None = None
    ) -> list[VolumeInfo]: ...
