"""The ``dir`` storage: a directory with ``images/<vmid>/`` for disks and ``dump/`` for backups."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from respaldo.errors import ConflictError, InputError, NoSuchVolume, StorageError
from respaldo.qemu import img
from respaldo.storage.base import StorageStatus, VolumeInfo
from respaldo.storage.volid import IMAGE_NAME

_DISK_NUMBER = re.compile(r"^vm-\d+-disk-(\d+)\.")


def _plain_name(volname: str, prefix: str) -> str:
    name = volname.removeprefix(prefix)
    if not name or "/" in name or name.startswith("."):
        raise InputError("volume", volname, f"expected '{prefix}<file name>'")
    return name


class DirStorage:
    type = "dir"

    def __init__(
        self,
        storage_id: str,
        path: Path,
        content: tuple[str, ...],
        prune_backups: str | None = None,
    ) -> None:
        self.id = storage_id
        self.path = path
        self.content = content
        self.prune_backups = prune_backups  # the storage's retention (``prune-backups``)

    # -- layout ---------------------------------------------------------------------------

    @property
    def images_dir(self) -> Path:
        return self.path / "images"

    @property
    def dump_dir(self) -> Path:
        return self.path / "dump"

    def activate(self) -> None:
        """Create the folders on first use, as Proxmox does for a ``dir`` storage."""
        for sub in (self.images_dir, self.dump_dir, self.path / "template" / "iso"):
            sub.mkdir(parents=True, exist_ok=True)

    def _parse_image_volname(self, volname: str) -> tuple[int, str]:
        owner, sep, filename = volname.partition("/")
        match = IMAGE_NAME.match(filename)
        if not sep or not owner.isdigit() or not match or int(match.group(1)) != int(owner):
            raise InputError(
                "volume",
                f"{self.id}:{volname}",
                "expected an image name '<vmid>/vm-<vmid>-disk-<n>.<qcow2|raw>'",
            )
        return int(owner), match.group(2)

    def volume_path(self, volname: str) -> Path:
        if volname.startswith("iso/"):
            return self.path / "template" / "iso" / _plain_name(volname, "iso/")
        if volname.startswith("backup/"):
            return self.dump_dir / _plain_name(volname, "backup/")
        vmid, _ = self._parse_image_volname(volname)
        return self.images_dir / str(vmid) / volname.partition("/")[2]

    def image_format(self, volname: str) -> str:
        if volname.startswith("iso/"):
            return "raw"
        return self._parse_image_volname(volname)[1]

    # -- images ---------------------------------------------------------------------------

    def _next_disk_name(self, vmid: int, fmt: str) -> str:
        folder = self.images_dir / str(vmid)
        taken = set()
        if folder.is_dir():
            for entry in folder.iterdir():
                match = _DISK_NUMBER.match(entry.name)
                if match:
                    taken.add(int(match.group(1)))
        n = 0
        while n in taken:
            n += 1
        return f"vm-{vmid}-disk-{n}.{fmt}"

    def alloc_image(self, vmid: int, fmt: str, size: int, name: str | None = None) -> str:
        if fmt not in img.FORMATS:
            raise InputError("format", fmt, f"a dir storage holds {', '.join(img.FORMATS)}")
        if size <= 0 or size % 512:
            raise InputError("size", size, "must be a positive multiple of 512 bytes")
        self.activate()
        filename = name or self._next_disk_name(vmid, fmt)
        volname = f"{vmid}/{filename}"
        if self.image_format(volname) != fmt:
            raise InputError("filename", filename, f"its extension does not match format {fmt}")
        path = self.volume_path(volname)
        if path.exists():
            raise ConflictError(f"volume '{self.id}:{volname}' already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        img.create(path, fmt, size)
        return volname

    def free_image(self, volname: str) -> None:
        path = self.volume_path(volname)
        try:
            path.unlink()
        except FileNotFoundError as err:
            raise NoSuchVolume(f"{self.id}:{volname}") from err
        with contextlib.suppress(OSError):  # other disks of the VM are still there
            path.parent.rmdir()

    def resize_image(self, volname: str, size: int) -> None:
        path = self.volume_path(volname)
        if not path.exists():
            raise NoSuchVolume(f"{self.id}:{volname}")
        img.resize(path, self.image_format(volname), size)

    def volume_size(self, volname: str) -> int:
        path = self.volume_path(volname)
        if not path.exists():
            raise NoSuchVolume(f"{self.id}:{volname}")
        return img.info(path).virtual_size

    # -- listing, status ------------------------------------------------------------------

    def list_volumes(self, vmid: int | None = None, content: str | None = None) -> list[VolumeInfo]:
        volumes: list[VolumeInfo] = []
        if content in (None, "images") and self.images_dir.is_dir():
            volumes.extend(self._list_images(vmid))
        return volumes

    def _list_images(self, vmid: int | None) -> list[VolumeInfo]:
        result = []
        for folder in sorted(self.images_dir.iterdir()):
            if not folder.name.isdigit() or (vmid is not None and int(folder.name) != vmid):
                continue
            for entry in sorted(folder.iterdir()):
                match = IMAGE_NAME.match(entry.name)
                if not match or int(match.group(1)) != int(folder.name):
                    continue
                info = img.info(entry)
                result.append(
                    VolumeInfo(
                        volid=f"{self.id}:{folder.name}/{entry.name}",
                        format=match.group(2),
                        content="images",
                        size=info.virtual_size,
                        vmid=int(folder.name),
                        used=info.actual_size,
                    )
                )
        return result

    def status(self) -> StorageStatus:
        try:
            self.activate()
            st = os.statvfs(self.path)
        except OSError as err:
            raise StorageError(f"storage '{self.id}' at {self.path} is not usable: {err}") from err
        total = st.f_blocks * st.f_frsize
        return StorageStatus(
            storage=self.id,
            type=self.type,
            active=True,
            total=total,
            used=total - st.f_bfree * st.f_frsize,
            available=st.f_bavail * st.f_frsize,
            content=self.content,
        )
