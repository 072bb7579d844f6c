"""A backup store in memory, with the semantics of ``dir`` storage's, for fast tests.

The store keeps what a dump folder holds as named entries of one dict, under the names of
Proxmox's files (:mod:`respaldo.storage.backups`): the archive, ``<stem>.log``,
``<name>.notes``, ``<name>.protected``, ``<name>.digest.json``, and the ``.dat`` of an archive
being written. So the listing, notes, protection, removal, log and digest rules are the very
code of :class:`~respaldo.storage.backups.DirBackupStore` (both are
:class:`~respaldo.storage.backups.DumpStore`), and only the entries differ: a test can seed
and inspect :attr:`MemoryBackupStore.files` as it would the folder.

Writing follows the same rules as files: :meth:`MemoryBackupStore.begin` creates the
``.dat`` entry (refused while it or the archive exists), the bytes go to an in-memory sink,
:meth:`MemoryPendingBackup.commit` puts them under the final name in one step under the
store's lock, and :meth:`MemoryPendingBackup.abort` leaves nothing. A ``.dat`` whose writer
is not alive (put there by a test, as a crash would leave it) is what :meth:`clean_stale`
removes.

Limits: the sink has no file descriptor, so only the in-process compressions (none, zstd)
can write into it; gzip and lzo archives can be stored as bytes and read back.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from respaldo.errors import ConflictError
from respaldo.storage.backups import DumpStore, PendingBase, dat_name


@dataclass
class MemoryFile:
    """One entry: its bytes and modification time (ns since the epoch)."""

    data: bytes
    mtime_ns: int
    #: A ``.dat`` whose writer is alive: :meth:`MemoryBackupStore.clean_stale` leaves it.
    live: bool = False


class MemoryPendingBackup(PendingBase):
    """An archive being written into memory; implements
    :class:`~respaldo.storage.backupstore.PendingWrite`."""

    def __init__(self, store: MemoryBackupStore, filename: str, entry: MemoryFile) -> None:
        super().__init__(store.volid(filename))
        self.store = store
        self.filename = filename
        self.dat = dat_name(filename)
        self._entry = entry
        self._sink = io.BytesIO()

    @property
    def sink(self) -> BinaryIO:
        return self._sink

    @property
    def partial_path(self) -> Path | None:
        return None  # the partial archive dies with the process

    def advance(self, nbytes: int) -> None:
        """Nothing to make durable in memory."""

    def commit(self) -> str:
        """Put the bytes under the final name in one step; returns the volume id."""
        self._may_commit(self._sink)
        with self.store.lock:
            if self.filename in self.store.files:
                self.abort()
                raise ConflictError(f"backup '{self.volid}' already exists")
            self._drop_dat()
            self.store.files[self.filename] = MemoryFile(self._sink.getvalue(), self.store.now())
            self._done = True
        self._sink.close()
        return self.volid

    def abort(self) -> None:
        """Drop the partial archive. Never raises; does nothing after commit or abort."""
        if self._done:
            return
        self._done = True
        with self.store.lock:
            self._drop_dat()
        self._sink.close()

    def _drop_dat(self) -> None:
        if self.store.files.get(self.dat) is self._entry:
            del self.store.files[self.dat]


class MemoryBackupStore(DumpStore):
    """The backups of one storage, in memory. ``clock`` gives the modification times (ns)."""

    def __init__(self, storage_id: str, clock: Callable[[], int] = time.time_ns) -> None:
        super().__init__(storage_id)
        #: Every entry by name, as the files of a dump folder.
        self.files: dict[str, MemoryFile] = {}
        #: Held for every change of :attr:`files`.
        self.lock = threading.RLock()
        self._clock = clock

    def now(self) -> int:
        return self._clock()

    # -- no files ---------------------------------------------------------------------------

    @property
    def dump_dir(self) -> Path | None:
        return None

    def archive_path(self, filename: str) -> Path | None:
        self._parse(filename)
        return None

    def log_path(self, filename: str) -> Path | None:
        self._parse(filename)
        return None

    # -- the entries --------------------------------------------------------------------------

    def _entry(self, name: str) -> MemoryFile:
        try:
            return self.files[name]
        except KeyError:
            raise FileNotFoundError(name) from None

    def _names(self) -> list[str]:
        with self.lock:
            return sorted(self.files)

    def _stat(self, name: str) -> tuple[int, int] | None:
        entry = self.files.get(name)
        return None if entry is None else (len(entry.data), entry.mtime_ns // 1_000_000_000)

    def _exists(self, name: str) -> bool:
        return name in self.files

    def _read(self, name: str) -> bytes:
        return self._entry(name).data

    def _open(self, name: str) -> BinaryIO:
        return io.BytesIO(self._entry(name).data)

    def _replace(self, name: str, data: bytes) -> None:
        with self.lock:
            self.files[name] = MemoryFile(bytes(data), self.now())

    def _append(self, name: str, data: bytes) -> None:
        with self.lock:
            old = self.files.get(name)
            self.files[name] = MemoryFile((old.data if old else b"") + data, self.now())

    def _touch(self, name: str) -> None:
        with self.lock:
            self.files.setdefault(name, MemoryFile(b"", self.now()))

    def _unlink(self, name: str) -> None:
        with self.lock:
            self._entry(name)
            del self.files[name]

    def _where(self, name: str) -> str:
        return f"{self.storage_id or '<memory>'}:{name}"

    # -- writing --------------------------------------------------------------------------

    def begin(self, filename: str) -> MemoryPendingBackup:
        """Start writing ``filename``: its ``.dat`` entry marks it as being written."""
        self._parse(filename)
        dat = dat_name(filename)
        volid = self.volid(filename)
        with self.lock:
            if filename in self.files:
                raise ConflictError(f"backup '{volid}' already exists")
            if dat in self.files:
                raise ConflictError(
                    f"backup '{volid}' is already being written ({dat} exists; "
                    "if no backup is running, it is stale and clean_stale removes it)"
                )
            entry = MemoryFile(b"", self.now(), live=True)
            self.files[dat] = entry
        return MemoryPendingBackup(self, filename, entry)

    def clean_stale(self) -> list[str]:
        """Remove the ``.dat`` entries no live writer holds; return their names."""
        with self.lock:
            stale = [name for name in self._stale_candidates() if not self.files[name].live]
            for name in stale:
                del self.files[name]
        return stale


__all__ = ["MemoryBackupStore", "MemoryFile", "MemoryPendingBackup"]
