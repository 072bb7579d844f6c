"""The node's storages, as configured in ``storage.cfg``."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from respaldo.config.ids import check_storage_id, is_volume_id, parse_volid
from respaldo.config.keyvalue import atomic_write_text, check_one_line
from respaldo.config.sectionconfig import Section, format_sections, parse_sections
from respaldo.errors import ConfigError, ConflictError, InputError, NoSuchStorage
from respaldo.locks import file_lock
from respaldo.node import Node
from respaldo.storage.backups import DirBackupStore
from respaldo.storage.backupstore import (
    ArchiveSource,
    BackupStore,
    BackupStoreFactory,
    FileArchive,
    StoreArchive,
)
from respaldo.storage.base import CONTENT_TYPES
from respaldo.storage.dirstorage import BACKUP_PREFIX, DirStorage

DEFAULT_CONTENT = "iso,vztmpl,backup,images"
#: What a ``dir`` storage holds when storage.cfg names no content (pve-storage DirPlugin).
DIR_CONTENT = "images,rootdir"
#: pve-storage DirPlugin ``check_config``: the paths a dir storage may have.
_DIR_PATH = re.compile(r"/[-/a-zA-Z0-9_.@]+")


def default_sections(node: Node) -> list[Section]:
    return [
        Section(
            "dir", "local", {"path": str(node.default_storage_path), "content": DEFAULT_CONTENT}
        )
    ]


def parse_content(text: str, what: str = "content") -> tuple[str, ...]:
    items = tuple(part for part in text.split(",") if part)
    for item in items:
        if item not in CONTENT_TYPES:
            raise InputError(what, text, f"'{item}' is not one of {', '.join(CONTENT_TYPES)}")
    return items


class StorageRegistry:
    """The storages of ``storage.cfg``. ``backup_stores`` makes each storage's backup store
    (default: files in its ``dump/`` folder; tests keep them in memory)."""

    def __init__(self, node: Node, backup_stores: BackupStoreFactory = DirBackupStore) -> None:
        self.node = node
        self.backup_stores = backup_stores

    def _load(self) -> list[Section]:
        path = self.node.storage_cfg
        if not path.exists():
            return default_sections(self.node)
        return parse_sections(path.read_text(encoding="utf-8"), path)

    @contextmanager
    def _editing(self) -> Iterator[list[Section]]:
        with file_lock(self.node.lock_dir / "storage.cfg.lock", "storage.cfg"):
            sections = self._load()
            yield sections
            atomic_write_text(self.node.storage_cfg, format_sections(sections))

    def sections(self) -> list[Section]:
        return self._load()

    def ids(self) -> list[str]:
        return [s.id for s in self._load()]

    def get(self, storage_id: str) -> DirStorage:
        for section in self._load():
            if section.id == storage_id:
                return self._plugin(section)
        raise NoSuchStorage(storage_id, self.ids())

    def backup_store(self, storage_id: str, *, check_content: bool = True) -> BackupStore:
        """The backups of a storage; InputError when the storage does not hold backups (unless
        ``check_content`` is false: see :meth:`DirStorage.backups`)."""
        return self.get(storage_id).backups(check_content=check_content)

    def backup(self, volid: str) -> tuple[BackupStore, str]:
        """The store and archive name of a backup volume id (``<storage>:backup/<file>``);
        InputError for any other volume. As in Proxmox, a backup named by its volume id stays
        readable, changeable and removable after ``backup`` left the storage's content."""
        parsed = parse_volid(volid, "volume")
        if not parsed.volname.startswith(BACKUP_PREFIX):
            raise InputError(
                "volume", volid, "not a backup volume (expected '<storage>:backup/<file name>')"
            )
        storage = self.get(parsed.storage)
        return storage.backups(check_content=False), storage.backup_filename(parsed.volname)

    def archive_source(self, archive: str) -> ArchiveSource:
        """A backup given as a volume id (``local:backup/<file>``) or as a file path, absolute
        or relative to the current directory (made absolute here: a task runs elsewhere)."""
        if not is_volume_id(archive):
            path = Path(archive)
            if not path.is_file():
                raise InputError("archive", archive, f"can't find file '{archive}'")
            return FileArchive(path.resolve())
        volid = parse_volid(archive, "archive")
        if not volid.volname.startswith(BACKUP_PREFIX):
            raise InputError("archive", archive, "expected '<storage>:backup/<file>' or a path")
        store, filename = self.backup(archive)
        store.get(filename)  # NoSuchVolume now, before any work
        return StoreArchive(store, filename)

    def all(self) -> list[DirStorage]:
        return [self._plugin(s) for s in self._load() if s.type == "dir"]

    def _plugin(self, section: Section) -> DirStorage:
        where = f"{self.node.storage_cfg}, storage '{section.id}'"
        if section.type != "dir":
            raise ConfigError(
                self.node.storage_cfg,
                0,
                f"storage '{section.id}': type '{section.type}' is not supported (supported: dir)",
            )
        if "path" not in section.properties:
            raise ConfigError(self.node.storage_cfg, 0, f"storage '{section.id}' has no path")
        content = parse_content(section.properties.get("content", DIR_CONTENT), where)
        return DirStorage(
            section.id,
            Path(section.properties["path"]),
            content,
            section.properties.get("prune-backups"),
            self.backup_stores,
            section.properties,
            self.node.name,
        )

    def digest(self) -> str:
        """The SHA-1 of storage.cfg as it is now (Proxmox's ``digest``)."""
        path = self.node.storage_cfg
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        return hashlib.sha1(text.encode()).hexdigest()

    def add_dir(self, storage_id: str, props: Mapping[str, str]) -> DirStorage:
        """A new ``dir`` storage with ``props`` (``path``, ``content``... as storage.cfg
        writes them; content ``images,rootdir`` unless given), activated at once unless
        disabled (pve-storage ``Config.pm`` create). Raises InputError for a bad id or path,
        ConflictError when the id exists, StorageError when it cannot be activated."""
        check_storage_id(storage_id)
        path = props.get("path", "")
        check_one_line("path", path)
        if not _DIR_PATH.fullmatch(path):
            raise InputError("path", path, f"illegal path for directory storage: {path}")
        values = {**props, "path": os.path.normpath(path)}
        values["content"] = ",".join(parse_content(props.get("content") or DIR_CONTENT))
        with self._editing() as sections:
            if any(s.id == storage_id for s in sections):
                raise ConflictError(f"storage ID '{storage_id}' already defined")
            section = Section("dir", storage_id, values)
            plugin = self._plugin(section)
            if plugin.enabled:
                plugin.activate()
            sections.append(section)
        return plugin

    def update(
        self,
        storage_id: str,
        props: Mapping[str, str],
        delete: Sequence[str] = (),
        digest: str | None = None,
    ) -> None:
        """Set ``props`` and delete the options named in ``delete`` (pve-storage
        ``Config.pm`` update). Raises NoSuchStorage, InputError for ``path`` (fixed) or an
        option both set and deleted, ConflictError when ``digest`` is not the file's."""
        for key in delete:
            if key == "path":
                raise InputError("delete", key, "unable to delete required option 'path'")
            if key in props:
                raise InputError(
                    "delete", key, f"cannot set and delete property '{key}' at the same time!"
                )
        if "path" in props:
            raise InputError("path", props["path"], "unable to change fixed option 'path'")
        with self._editing() as sections:
            if digest is not None and digest != self.digest():
                raise ConflictError(
                    "detected modified configuration - file changed by other user? Try again."
                )
            found = [s for s in sections if s.id == storage_id]
            if not found:
                raise NoSuchStorage(storage_id, [s.id for s in sections])
            section = found[0]
            for key in delete:
                section.properties.pop(key, None)
            section.properties.update(props)
            if "content" in props:
                section.properties["content"] = ",".join(parse_content(props["content"]))
            self._plugin(section)  # still a valid storage

    def remove(self, storage_id: str) -> None:
        with self._editing() as sections:
            if not any(s.id == storage_id for s in sections):
                raise NoSuchStorage(storage_id, [s.id for s in sections])
            sections[:] = [s for s in sections if s.id != storage_id]
