"""The ``dir`` storage: a directory with ``images/<vmid>/`` for disks and ``dump/`` for backups."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from pathlib import Path

from respaldo.config.ids import IMAGE_NAME, is_decimal
from respaldo.config.scalars import parse_boolean, parse_integer
from respaldo.errors import ConflictError, InputError, NoSuchVolume, StorageError
from respaldo.qemu import img
from respaldo.storage.backups import (
    BackupInfo,
    DirBackupStore,
    backup_owner,
    escapes,
    parse_backup_name,
)
from respaldo.storage.backupstore import BackupStore, BackupStoreFactory
from respaldo.storage.base import CONTENT_TYPES, StorageStatus, VolumeInfo, VolumeName

_DISK_NUMBER = re.compile(r"^vm-\d+-disk-(\d+)\.")
BACKUP_PREFIX = "backup/"


def _plain_name(volname: str, prefix: str) -> str:
    name = volname.removeprefix(prefix)
    if not name or "/" in name or name.startswith("."):
        raise InputError("volume", volname, f"expected '{prefix}<file name>'")
    return name


def backup_volume(info: BackupInfo) -> VolumeInfo:
    """A backup as a row of the content listing (``used`` is the file size, as ``size``)."""
    return VolumeInfo(
        volid=info.volid,
        format=info.format,
        content="backup",
        size=info.size,
        vmid=info.vmid,
        used=info.size,
        ctime=info.ctime,
        notes=info.notes,
        protected=info.protected,
        subtype=info.subtype,
    )


class DirStorage:
    type = "dir"
    #: The format of a new disk when none is asked for (pve-storage ``DirPlugin``: raw).
    default_format = "raw"

    def __init__(
        self,
        storage_id: str,
        path: Path,
        content: tuple[str, ...],
        prune_backups: str | None = None,
        backup_stores: BackupStoreFactory = DirBackupStore,
        options: Mapping[str, str] | None = None,
        node: str | None = None,
    ) -> None:
        self.id = storage_id
        self.path = path
        self.content = content
        self.prune_backups = prune_backups  # the storage's retention (``prune-backups``)
        self._backup_stores = backup_stores  # files in dump/, unless a test keeps them in memory
        #: The section's other properties, as storage.cfg has them (``shared``, ``disable``...).
        self.options: Mapping[str, str] = dict(options or {})
        #: This node's name, for ``nodes`` (None: any node).
        self.node = node

    def _flag(self, key: str, default: bool = False) -> bool:
        value = parse_boolean(self.options.get(key, ""))
        return default if value is None else value

    @property
    def enabled(self) -> bool:
        """False when storage.cfg says ``disable``, or lists ``nodes`` without this one."""
        return not self._flag("disable") and self._on_this_node()

    def _on_this_node(self) -> bool:
        nodes = self.options.get("nodes")
        if not nodes or self.node is None:
            return True
        return self.node in re.split(r"[,;\s]+", nodes)

    @property
    def mountpoint(self) -> Path | None:
        """``is_mountpoint``: ``yes`` (the path) or a path that must be a mount point."""
        value = self.options.get("is_mountpoint")
        if value is None:
            return None
        flag = parse_boolean(value)
        if flag is None:
            return Path(value)
        return self.path if flag else None

    @property
    def shared(self) -> bool:
        return self._flag("shared")

    @property
    def max_protected_backups(self) -> int:
        """``max-protected-backups``: protected backups per guest, -1 for no limit (respaldo
        acts as root, for whom Proxmox's default is -1)."""
        value = parse_integer(self.options.get("max-protected-backups", ""))
        return -1 if value is None else value

    # -- layout ---------------------------------------------------------------------------

    @property
    def images_dir(self) -> Path:
        return self.path / "images"

    @property
    def dump_dir(self) -> Path:
        return self.path / "dump"

    def activate(self) -> None:
        """Make the storage usable, as pve-storage ``activate_storage`` does for ``dir``:
        refused (StorageError, Proxmox's words) when disabled, when ``is_mountpoint`` is not
        mounted, or when the path is missing and ``create-base-path`` (or the older
        ``mkdir``) is 0; the folders of its content are created unless ``create-subdirs``
        (or ``mkdir``) is 0."""
        if self._flag("disable"):
            raise StorageError(f"storage '{self.id}' is disabled")
        if not self._on_this_node():
            raise StorageError(f"storage '{self.id}' is not available on node '{self.node}'")
        mountpoint = self.mountpoint
        if mountpoint is not None and not os.path.ismount(mountpoint):
            raise StorageError(
                f"unable to activate storage '{self.id}' - directory is expected to be a mount "
                f"point but is not mounted: '{mountpoint}'"
            )
        mkdir = self._flag("mkdir", default=True)
        if self._flag("create-base-path", default=mkdir):
            self.path.mkdir(parents=True, exist_ok=True)
        if not self.path.is_dir():
            raise StorageError(
                f"unable to activate storage '{self.id}' - directory '{self.path}' does not "
                "exist or is unreachable"
            )
        if self._flag("create-subdirs", default=mkdir):
            for sub in (self.images_dir, self.dump_dir, self.path / "template" / "iso"):
                sub.mkdir(parents=True, exist_ok=True)

    def _parse_image_volname(self, volname: str) -> tuple[int, str]:
        owner, sep, filename = volname.partition("/")
        match = IMAGE_NAME.match(filename)
        if not sep or not is_decimal(owner) or not match or int(match.group(1)) != int(owner):
            raise InputError(
                "volume",
                f"{self.id}:{volname}",
                "expected an image name '<vmid>/vm-<vmid>-disk-<n>.<qcow2|raw>'",
            )
        return int(owner), match.group(2)

    def backups(self, *, check_content: bool = True) -> BackupStore:
        """The backups in ``dump/``; InputError when the storage does not hold backups.

        ``check_content=False`` is for a backup named by its volume id: as in Proxmox, it can
        still be read, changed and removed after ``backup`` left the storage's content.
        """
        if check_content and "backup" not in self.content:
            raise InputError(
                "storage",
                self.id,
                f"does not hold backups (content: {','.join(self.content)})",
            )
        return self._backup_stores(self.id, self.dump_dir)

    def backup_filename(self, volname: str) -> str:
        """The archive file name of ``backup/<file>``; InputError unless it names a backup."""
        filename = _plain_name(volname, BACKUP_PREFIX)
        if parse_backup_name(filename) is None:
            raise InputError(
                "volume",
                f"{self.id}:{volname}",
                "not a backup archive name (expected "
                "backup/vzdump-qemu-<vmid>-YYYY_MM_DD-HH_MM_SS.vma[.zst|.gz|.lzo])",
            )
        return filename

    def volume_path(self, volname: str) -> Path:
        """The volume's file; InputError for a name the storage does not use, or one whose
        file is reached through a symbolic link out of the storage."""
        if volname.startswith(BACKUP_PREFIX):
            return self._backup_path(volname)
        if volname.startswith("iso/"):
            path = self.path / "template" / "iso" / _plain_name(volname, "iso/")
        else:
            vmid, _ = self._parse_image_volname(volname)
            path = self.images_dir / str(vmid) / volname.partition("/")[2]
        if escapes(path, self.path):
            raise InputError("volume", f"{self.id}:{volname}", "a symbolic link out of the storage")
        return path

    def _backup_path(self, volname: str) -> Path:
        path = self.backups(check_content=False).archive_path(self.backup_filename(volname))
        if path is None:
            raise StorageError(f"the backups of storage '{self.id}' are not kept as files")
        return path

    def parse_volname(self, volname: str) -> VolumeName:
        """``<vmid>/<image>`` (images of that VM), ``iso/<file>``, ``backup/<archive>`` (the
        guest in its name owns it); InputError for anything else."""
        if volname.startswith("iso/"):
            return VolumeName("iso", _plain_name(volname, "iso/"), None)
        if volname.startswith(BACKUP_PREFIX):
            filename = self.backup_filename(volname)
            return VolumeName("backup", filename, backup_owner(filename))
        vmid, _ = self._parse_image_volname(volname)
        return VolumeName("images", volname.partition("/")[2], vmid)

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
        try:
            img.create(path, fmt, size)
        except BaseException:
            # qemu-img may fail after creating the file (a size the file system refuses):
            # an allocation makes the volume or nothing.
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()
            raise
        return volname

    def free_image(self, volname: str) -> None:
        """Delete a volume. A backup goes with its log, notes and digest, unless protected."""
        if volname.startswith(BACKUP_PREFIX):
            self.backups(check_content=False).remove(self.backup_filename(volname))
            return
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
        """Disk images (by VMID and name), then backups (newest first).

        Without ``content`` the backups are listed when the storage holds backups; asking for
        ``backup`` on a storage that does not hold them is an InputError.
        """
        if content is not None and content not in CONTENT_TYPES:
            raise InputError("content", content, f"expected one of {', '.join(CONTENT_TYPES)}")
        volumes: list[VolumeInfo] = []
        if content in (None, "images") and self.images_dir.is_dir():
            volumes.extend(self._list_images(vmid))
        if content == "backup" or (content is None and "backup" in self.content):
            volumes.extend(self._list_backups(self.backups(), vmid))
        return volumes

    @staticmethod
    def _list_backups(store: BackupStore, vmid: int | None) -> list[VolumeInfo]:
        return [backup_volume(info) for info in store.list(vmid)]

    def _list_images(self, vmid: int | None) -> list[VolumeInfo]:
        result = []
        for folder in sorted(self.images_dir.iterdir()):
            if not is_decimal(folder.name) or (vmid is not None and int(folder.name) != vmid):
                continue
            for entry in sorted(folder.iterdir()):
                match = IMAGE_NAME.match(entry.name)
                if not match or int(match.group(1)) != int(folder.name):
                    continue
                if escapes(entry, self.path):
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
        """Sizes in bytes; a storage that is disabled or cannot be activated (not mounted,
        missing) is listed inactive with zero sizes, as Proxmox lists it."""
        try:
            self.activate()
            st = os.statvfs(self.path)
        except (OSError, StorageError):
            return StorageStatus(
                self.id, self.type, False, 0, 0, 0, self.content, self.enabled, self.shared
            )
        total = st.f_blocks * st.f_frsize
        return StorageStatus(
            storage=self.id,
            type=self.type,
            active=True,
            total=total,
            used=total - st.f_bfree * st.f_frsize,
            available=st.f_bavail * st.f_frsize,
            content=self.content,
            enabled=self.enabled,
            shared=self.shared,
        )
