"""The backup-store interface: what every backend that keeps backups implements.

Services reach backups only through :class:`BackupStore` (and :class:`ArchiveSource` to read
an archive named by the user): ``dir`` storage implements it with files in its ``dump/``
folder (:class:`~respaldo.storage.backups.DirBackupStore`), tests with
:class:`~respaldo.storage.memorystore.MemoryBackupStore`, and a chunk store can later.

Names and rules are Proxmox's (``PVE/Storage/Plugin.pm``, ``PVE/VZDump.pm``; details in
:mod:`respaldo.storage.backups`): a backup is named by its archive file name
``vzdump-qemu-<vmid>-YYYY_MM_DD-HH_MM_SS.vma[.zst|.gz|.lzo]`` and its volume id is
``<storage>:backup/<name>``; beside the archive it has a log, notes (UTF-8, the listing shows
the first line), a protection flag (a protected backup is never removed) and respaldo's data
digest sidecar (:mod:`respaldo.archive.digest`). A new archive appears under its final name
only when it is complete (:meth:`PendingWrite.commit`); until then nothing lists it, and an
abort, or a crash followed by :meth:`BackupStore.clean_stale`, leaves nothing.

Every method raises ``InputError`` for a name that is not a backup archive name (no folder),
``NoSuchVolume`` for a backup that is not there, ``StorageError`` when the backend fails.

Paths: a few callers need files as Proxmox gives them (the hook script's ``TARGET``,
``LOGFILE`` and ``DUMPDIR``; a supervisor removing the partial archive of a killed writer).
The optional members :attr:`BackupStore.dump_dir`, :meth:`BackupStore.archive_path`,
:meth:`BackupStore.log_path` and :attr:`PendingWrite.partial_path` give them, or None when the
store keeps no files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol

from respaldo.archive.digest import DeviceDigest, read_sidecar, sidecar_path
from respaldo.errors import NotFoundError, StorageError
from respaldo.storage.backups import BackupInfo


class PendingWrite(Protocol):
    """A new backup being written: :attr:`sink` takes the archive's bytes, :meth:`commit`
    makes it appear under its final name at once, :meth:`abort` leaves nothing.

    As a context manager it is aborted when the block ends without a commit. Do not close
    :attr:`sink` yourself.
    """

    #: The archive's final file name.
    filename: str
    #: ``<storage>:backup/<filename>``.
    volid: str

    @property
    def sink(self) -> BinaryIO:
        """Where the archive's bytes are written, in order (a real file for ``dir``: its fd
        is what the compressors write to)."""
        ...

    @property
    def done(self) -> bool:
        """Committed or aborted."""
        ...

    @property
    def partial_path(self) -> Path | None:
        """Optional: the file being written, for a supervisor that must remove it after this
        process was killed; None when a partial write dies with the process."""
        ...

    def advance(self, nbytes: int) -> None:
        """About ``nbytes`` more bytes were handed towards :attr:`sink` (before compression).

        A store may use it to make the archive durable as it grows (``dir``: an fdatasync in
        a thread every 32 MiB, see :mod:`respaldo.storage.writebehind`); it never waits.
        Raises StorageError when such a background step failed.
        """
        ...

    def commit(self) -> str:
        """Make the archive durable and give it its final name; returns the volume id.

        ConflictError when a backup of that name appeared meanwhile; the write is aborted
        on every error.
        """
        ...

    def abort(self) -> None:
        """Drop the partial archive. Never raises; does nothing after commit or abort."""
        ...

    def __enter__(self) -> PendingWrite: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class BackupStore(Protocol):
    """The backups of one storage (or of a ``dumpdir``)."""

    #: The storage id in volume ids ('' for a ``dumpdir``).
    storage_id: str

    def volid(self, filename: str) -> str:
        """``<storage>:backup/<filename>``."""
        ...

    # -- writing and reading the archive ----------------------------------------------------

    def begin(self, filename: str) -> PendingWrite:
        """Start writing a new archive. ConflictError when a backup of that name exists or is
        being written (or a partial write of a crash is left: :meth:`clean_stale`)."""
        ...

    def open(self, filename: str) -> BinaryIO:
        """The archive's bytes (as stored, compressed or not), from the start; the caller
        closes the stream (``archive.compress.open_reader`` takes it)."""
        ...

    def clean_stale(self) -> list[str]:
        """Remove partial archives no live writer holds (left by a crash); returns their
        names."""
        ...

    # -- changing -------------------------------------------------------------------------

    def remove(self, filename: str, *, keep_log: bool = False) -> None:
        """Remove the archive with its notes, digest and (unless ``keep_log``) its log.
        ConflictError while the backup is protected."""
        ...

    def read_notes(self, filename: str) -> str | None:
        """The whole notes text (the listing shows its first line); None without notes."""
        ...

    def set_notes(self, filename: str, notes: str) -> None:
        """Store the notes (UTF-8); an empty string removes them."""
        ...

    def set_protected(self, filename: str, protected: bool) -> None: ...

    # -- the log and the digest sidecar --------------------------------------------------------

    def append_log(self, filename: str, lines: Sequence[str]) -> None:
        """Append lines (without their newline) to the log of ``filename``; the archive need
        not exist yet (the log grows while the backup is written, and stays when it fails)."""
        ...

    def read_log(self, filename: str) -> str | None:
        """The log's text; None when the backup has no log."""
        ...

    def write_digest(self, filename: str, devices: Sequence[DeviceDigest]) -> None:
        """Store the data digest sidecar of a committed archive (replacing any)."""
        ...

    def read_digest(self, filename: str) -> list[DeviceDigest] | None:
        """The sidecar's digests; None without one; ArchiveError when it cannot be read."""
        ...

    # -- optional: files, for those who must have them ----------------------------------------

    @property
    def dump_dir(self) -> Path | None:
        """The folder holding the archives (the hooks' ``DUMPDIR``); None without files."""
        ...

    def archive_path(self, filename: str) -> Path | None:
        """The archive's file (the ``backup-end`` hook's ``TARGET``); None without files."""
        ...

    def log_path(self, filename: str) -> Path | None:
        """The log's file (the ``log-end`` hook's ``LOGFILE``); None without files."""
        ...

    # -- listing (last: ``list`` shadows the built-in in later annotations) -----------------

    def list(self, vmid: int | None = None) -> list[BackupInfo]:
        """The backups, newest first (creation time, then name); with ``vmid`` only those of
        that guest, matched as Proxmox's listing does (a standard name's VMID, or
        ``-<vmid>-`` anywhere in another name)."""
        ...

    def get(self, filename: str) -> BackupInfo:
        """One backup's listing row."""
        ...


def archive_location(store: BackupStore, filename: str) -> str:
    """Where the archive is, as vzdump's log and hooks show it: its path when the store keeps
    files, else its volume id."""
    path = store.archive_path(filename)
    return store.volid(filename) if path is None else str(path)


#: Makes the backup store of a storage from its id and its ``dump`` folder (which a store
#: that keeps no files ignores); the registry's default is ``DirBackupStore``.
BackupStoreFactory = Callable[[str, Path], BackupStore]


class ArchiveSource(Protocol):
    """An archive to read, as the user named it: a backup in a store by its volume id, or
    (as Proxmox's ``qmrestore`` and ``extractconfig`` accept) the path of an archive file."""

    #: The volume id or the path, for messages.
    name: str

    def open(self) -> BinaryIO:
        """The archive's bytes from the start; the caller closes the stream."""
        ...

    def read_digest(self) -> list[DeviceDigest] | None:
        """The data digest sidecar's entries; None without a sidecar."""
        ...


class StoreArchive:
    """A backup in a store, named by its volume id."""

    def __init__(self, store: BackupStore, filename: str) -> None:
        self.store = store
        self.filename = filename
        self.name = store.volid(filename)

    def open(self) -> BinaryIO:
        return self.store.open(self.filename)

    def read_digest(self) -> list[DeviceDigest] | None:
        return self.store.read_digest(self.filename)


class FileArchive:
    """An archive file given by its path, with its sidecar ``<file>.digest.json`` beside it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)

    def open(self) -> BinaryIO:
        try:
            return self.path.open("rb")
        except FileNotFoundError as err:
            raise NotFoundError(f"archive {self.path} does not exist") from err
        except OSError as err:
            raise StorageError(f"cannot open archive {self.path}: {err}") from err

    def read_digest(self) -> list[DeviceDigest] | None:
        sidecar = sidecar_path(self.path)
        return read_sidecar(sidecar) if sidecar.exists() else None


__all__ = [
    "ArchiveSource",
    "BackupStore",
    "BackupStoreFactory",
    "FileArchive",
    "PendingWrite",
    "StoreArchive",
    "archive_location",
]
