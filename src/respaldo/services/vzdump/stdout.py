"""``vzdump --stdout``: the archive streamed to a file descriptor (the CLI's standard output),
as pve-manager ``PVE/VZDump.pm`` does (``sending archive to stdout``): one VM, no archive on
a storage, so no notes, protection, digest sidecar or prune; the backup's log still goes to
the storage's dump folder, as Proxmox's does.

:class:`StdoutStore` is a :class:`~respaldo.storage.backupstore.BackupStore` over the job's
real store: the archive being written goes to the descriptor, everything else (the log,
listings) to the real store.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from respaldo.archive.digest import DeviceDigest
from respaldo.errors import StorageError
from respaldo.storage.backups import BackupInfo, PendingBase, parse_backup_name
from respaldo.storage.backupstore import BackupStore

#: What the log and the hooks' ``TARGET`` call an archive sent to standard output.
STDOUT_TARGET = "-"


class StdoutWrite(PendingBase):
    """A :class:`~respaldo.storage.backupstore.PendingWrite` whose bytes go to ``fd`` as they
    come: committing flushes them, aborting can take nothing back (the reader sees the
    stream end early, as with Proxmox's)."""

    def __init__(self, fd: int, filename: str) -> None:
        super().__init__(STDOUT_TARGET)
        self.filename = filename
        self._sink = os.fdopen(os.dup(fd), "wb")

    @property
    def sink(self) -> BinaryIO:
        return self._sink

    @property
    def partial_path(self) -> Path | None:
        return None

    def advance(self, nbytes: int) -> None:
        """Nothing to make durable on a pipe."""

    def commit(self) -> str:
        try:
            self._sink.flush()
        except OSError as err:
            raise StorageError(f"writing the archive to standard output failed: {err}") from err
        finally:
            self._close()
        return STDOUT_TARGET

    def abort(self) -> None:
        self._close()

    def _close(self) -> None:
        if not self._done:
            self._done = True
            with contextlib.suppress(OSError):
                self._sink.close()


class StdoutStore:
    """The job's store ``inner``, but the archives it begins are written to ``fd``."""

    def __init__(self, inner: BackupStore, fd: int) -> None:
        self.inner = inner
        self.fd = fd
        self.storage_id = inner.storage_id
        self._streamed: set[str] = set()

    def volid(self, filename: str) -> str:
        return STDOUT_TARGET if filename in self._streamed else self.inner.volid(filename)

    def begin(self, filename: str) -> StdoutWrite:
        self._streamed.add(filename)
        return StdoutWrite(self.fd, filename)

    def open(self, filename: str) -> BinaryIO:
        return self.inner.open(filename)

    def clean_stale(self) -> list[str]:
        return self.inner.clean_stale()

    def remove(self, filename: str, *, keep_log: bool = False) -> None:
        self.inner.remove(filename, keep_log=keep_log)

    def read_notes(self, filename: str) -> str | None:
        return self.inner.read_notes(filename)

    def set_notes(self, filename: str, notes: str) -> None:
        self.inner.set_notes(filename, notes)

    def set_protected(self, filename: str, protected: bool) -> None:
        self.inner.set_protected(filename, protected)

    def append_log(self, filename: str, lines: Sequence[str]) -> None:
        self.inner.append_log(filename, lines)

    def read_log(self, filename: str) -> str | None:
        return self.inner.read_log(filename)

    def write_digest(self, filename: str, devices: Sequence[DeviceDigest]) -> None:
        """No sidecar: no archive is kept here to put it beside."""

    def read_digest(self, filename: str) -> list[DeviceDigest] | None:
        return None if filename in self._streamed else self.inner.read_digest(filename)

    @property
    def dump_dir(self) -> Path | None:
        return self.inner.dump_dir

    def archive_path(self, filename: str) -> Path | None:
        return None if filename in self._streamed else self.inner.archive_path(filename)

    def log_path(self, filename: str) -> Path | None:
        return self.inner.log_path(filename)

    def list(self, vmid: int | None = None) -> list[BackupInfo]:
        return self.inner.list(vmid)

    def get(self, filename: str) -> BackupInfo:
        """A streamed archive's row: its size is not known here (0)."""
        if filename not in self._streamed:
            return self.inner.get(filename)
        name = parse_backup_name(filename)
        assert name is not None  # the job names its archives
        return BackupInfo(
            volid=STDOUT_TARGET,
            filename=filename,
            format=name.format,
            size=0,
            ctime=0,
            vmid=name.vmid,
            subtype=name.subtype,
            notes=None,
            protected=False,
            log=None,
            standard=name.standard,
        )
