"""The backup-content tests run against both backup stores: ``dir`` (files) and memory.

A test asks for ``backend`` (parametrized: ``dir``, ``memory``) and sees the store's entries
through a :class:`Dump`: for ``dir`` the files of the dump folder, for memory the entries of
the :class:`MemoryBackupStore`, under the same names. Seeding (a stray ``.dat``, a notes file
written by Proxmox) and checking (nothing left behind) are the same lines for both.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol

import pytest

from respaldo.storage.backups import DirBackupStore
from respaldo.storage.backupstore import BackupStore
from respaldo.storage.memorystore import MemoryBackupStore, MemoryFile


class Dump(Protocol):
    """A backup store's entries, as the files of a dump folder."""

    def write(self, name: str, data: bytes = b"data") -> None: ...

    def write_with(self, name: str, fill: Callable[[BinaryIO], None]) -> None:
        """Write an entry through a real file (the external compressors need an fd)."""
        ...

    def read(self, name: str) -> bytes: ...

    def exists(self, name: str) -> bool: ...

    def names(self) -> list[str]:
        """Every entry, sorted."""
        ...

    def size(self, name: str) -> int: ...

    def set_mtime(self, name: str, seconds: float) -> None: ...

    def unlink(self, name: str) -> None: ...

    def snapshot(self) -> dict[str, tuple[int, int]]:
        """Every entry with its size and mtime (ns): to check that nothing changed."""
        ...


class DirDump:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def write(self, name: str, data: bytes = b"data") -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / name).write_bytes(data)

    def write_with(self, name: str, fill: Callable[[BinaryIO], None]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / name).open("wb") as f:
            fill(f)

    def read(self, name: str) -> bytes:
        return (self.folder / name).read_bytes()

    def exists(self, name: str) -> bool:
        return (self.folder / name).exists()

    def names(self) -> list[str]:
        return sorted(p.name for p in self.folder.iterdir()) if self.folder.is_dir() else []

    def size(self, name: str) -> int:
        return (self.folder / name).stat().st_size

    def set_mtime(self, name: str, seconds: float) -> None:
        os.utime(self.folder / name, (seconds, seconds))

    def unlink(self, name: str) -> None:
        (self.folder / name).unlink()

    def snapshot(self) -> dict[str, tuple[int, int]]:
        return {
            name: ((self.folder / name).stat().st_size, (self.folder / name).stat().st_mtime_ns)
            for name in self.names()
        }


class MemoryDump:
    def __init__(self, store: MemoryBackupStore) -> None:
        self.store = store

    def write(self, name: str, data: bytes = b"data") -> None:
        self.store.files[name] = MemoryFile(data, time.time_ns())

    def write_with(self, name: str, fill: Callable[[BinaryIO], None]) -> None:
        with tempfile.TemporaryFile() as f:
            fill(f)
            f.seek(0)
            self.write(name, f.read())

    def read(self, name: str) -> bytes:
        return self.store.files[name].data

    def exists(self, name: str) -> bool:
        return name in self.store.files

    def names(self) -> list[str]:
        return sorted(self.store.files)

    def size(self, name: str) -> int:
        return len(self.store.files[name].data)

    def set_mtime(self, name: str, seconds: float) -> None:
        self.store.files[name].mtime_ns = int(seconds * 1_000_000_000)

    def unlink(self, name: str) -> None:
        del self.store.files[name]

    def snapshot(self) -> dict[str, tuple[int, int]]:
        return {name: (len(f.data), f.mtime_ns) for name, f in sorted(self.store.files.items())}


class Backend:
    """One kind of backup store for a test: ``dir`` or ``memory``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._memory: dict[str, MemoryBackupStore] = {}

    def store(self, storage_id: str, dump_dir: Path) -> BackupStore:
        """The store of a storage (a ``BackupStoreFactory``: hand it to the registry)."""
        if self.kind == "dir":
            return DirBackupStore(storage_id, dump_dir)
        return self._memory.setdefault(storage_id, MemoryBackupStore(storage_id))

    def dump(self, storage_id: str, dump_dir: Path) -> Dump:
        """The entries of that storage's store."""
        if self.kind == "dir":
            return DirDump(dump_dir)
        store = self.store(storage_id, dump_dir)
        assert isinstance(store, MemoryBackupStore)
        return MemoryDump(store)


@pytest.fixture(params=["dir", "memory"])
def backend(request: pytest.FixtureRequest) -> Backend:
    return Backend(request.param)


@pytest.fixture
def store(backend: Backend, tmp_path: Path) -> BackupStore:
    """The backups of storage 'local', in files or in memory."""
    return backend.store("local", tmp_path / "dump")


@pytest.fixture
def dump(backend: Backend, store: BackupStore, tmp_path: Path) -> Dump:
    """The entries of :func:`store`."""
    return backend.dump("local", tmp_path / "dump")
