"""Backup archives in a ``dir`` storage's ``dump/`` folder, named and laid out as Proxmox VE does.

Names
    ``vzdump-qemu-<vmid>-YYYY_MM_DD-HH_MM_SS.vma[.zst|.gz|.lzo]``, the stamp in local time. Any
    name matching :data:`BACKUP_NAME` is a backup; a *standard* name (:data:`STANDARD_NAME`) also
    gives the VMID and the creation time, and only standard names are pruned.

Files beside an archive
    ``<stem>.log`` (stem = the name without its ``.vma…``/``.tar…``/``.tgz`` extension), the
    notes in ``<full name>.notes`` (first line, UTF-8) and the empty marker
    ``<full name>.protected``.

Writing
    An archive is written as ``<name without its last extension>.dat`` and renamed when it is
    complete. This is the rule of Proxmox's vzdump, which replaces the last extension with
    ``.dat``: ``x.vma.zst`` is written as ``x.vma.dat`` and an uncompressed ``x.vma`` as
    ``x.dat``. The writer holds an ``flock`` on the ``.dat`` for as long as it writes, so
    :meth:`DirBackupStore.clean_stale` can tell a live ``.dat`` from one left by a crash.
"""

from __future__ import annotations

import abc
import contextlib
import fcntl
import functools
import os
import re
import stat
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from respaldo.archive.digest import (
    SIDECAR_SUFFIX,
    DeviceDigest,
    decode_sidecar,
    encode_sidecar,
    sidecar_path,
    write_sidecar,
)
from respaldo.config.ids import check_vmid
from respaldo.errors import ArchiveError, ConflictError, InputError, NoSuchVolume, StorageError
from respaldo.storage.writebehind import WriteBehind

#: Any archive vzdump may have written (Proxmox's ``archive_info``).
BACKUP_NAME = re.compile(
    r"^vzdump-(qemu|lxc|openvz)-.+\.(tgz|(tar|vma)(\.(gz|lzo|zst|bz2))?)$", re.ASCII
)
_STAMP = r"-([1-9][0-9]{2,8})-(\d{4})_(\d{2})_(\d{2})-(\d{2})_(\d{2})_(\d{2})"
#: A standard name is this stem (with the name's own guest type) plus the archive extension.
_STANDARD_STEMS = {
    subtype: re.compile(f"vzdump-{subtype}{_STAMP}", re.ASCII)
    for subtype in ("qemu", "lxc", "openvz")
}
STANDARD_NAME = _STANDARD_STEMS["qemu"]
#: A ``.dat`` that a backup writer of ours (or Proxmox's vzdump) leaves behind.
_DAT_NAME = re.compile(r"^vzdump-(qemu|lxc|openvz)-.+\.dat$", re.ASCII)
#: How Proxmox's listing finds the VMID in a name that is not standard.
_LOOSE_VMID = r"-([1-9][0-9]{{2,8}})-[^/]+\.{fmt}$"

EXTENSIONS = ("", ".zst", ".gz", ".lzo")
LOG_EXT = ".log"
NOTES_EXT = ".notes"
PROTECTED_EXT = ".protected"
DAT_EXT = ".dat"
_FILE_MODE = 0o600


# -- names ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupName:
    """What a backup file name says about the archive (Proxmox's ``archive_info``)."""

    filename: str
    #: ``qemu``, ``lxc`` or ``openvz``.
    subtype: str
    #: The whole archive extension without its dot: ``vma.zst``, ``vma``, ``tar.gz``, ``tgz``.
    format: str
    #: ``vma`` or ``tar`` (``tgz`` is a gzip-compressed ``tar``).
    archive_format: str
    #: ``gz``, ``lzo``, ``zst``, ``bz2`` or None for an uncompressed archive.
    compression: str | None
    #: From a standard name only.
    vmid: int | None
    #: Epoch seconds of the local-time stamp of a standard name.
    ctime: int | None
    standard: bool
    #: ``<name without the archive extension>.log``.
    logname: str


def backup_filename(vmid: int, when: datetime, extension: str = "") -> str:
    """``vzdump-qemu-<vmid>-YYYY_MM_DD-HH_MM_SS.vma<extension>``, the stamp in local time.

    ``when`` may be naive (taken as local time already) or aware (converted to local time).
    """
    check_vmid(vmid)
    if extension not in EXTENSIONS:
        valid = ", ".join(repr(ext) for ext in EXTENSIONS)
        raise InputError("extension", extension, f"expected one of {valid}")
    if when.tzinfo is not None:
        when = when.astimezone().replace(tzinfo=None)
    return f"vzdump-qemu-{vmid}-{when:%Y_%m_%d-%H_%M_%S}.vma{extension}"


def parse_backup_name(filename: str) -> BackupName | None:
    """Parse a file name (no folder); None if it is not a backup archive name.

    A name whose stamp is not a real date (``2024_13_45``) is recognised but not standard.
    Results are remembered per local time zone (a listing parses the same names each time).
    """
    return _parse_name(filename, _zone())


def _zone() -> object:
    """The local time zone as the C library has it now (stamps are local time)."""
    return (time.tzname, time.timezone, time.altzone)


@functools.lru_cache(maxsize=1 << 16)
def _parse_name(filename: str, zone: object) -> BackupName | None:
    """``zone`` keys the cache only: a stamp means another epoch in another time zone."""
    match = BACKUP_NAME.fullmatch(filename)
    if not match:
        return None
    subtype, fmt, archive_format, _, compression = match.groups()
    if fmt == "tgz":
        archive_format, compression = "tar", "gz"
    stem = filename[: -len(fmt) - 1]
    vmid: int | None = None
    ctime: int | None = None
    standard = False
    std = _STANDARD_STEMS[subtype].fullmatch(stem)
    if std:
        year, month, day, hour, minute, second = (int(part) for part in std.groups()[1:])
        try:
            stamp = datetime(year, month, day, hour, minute, second)
            ctime = int(stamp.timestamp())
        except (ValueError, OverflowError, OSError):
            ctime = None
        else:
            vmid = int(std.group(1))
            standard = True
    return BackupName(
        filename=filename,
        subtype=subtype,
        format=fmt,
        archive_format=archive_format,
        compression=compression,
        vmid=vmid,
        ctime=ctime,
        standard=standard,
        logname=stem + LOG_EXT,
    )


_OWNER = re.compile(r"vzdump-(?:openvz|lxc|qemu)-(\d+)-.+", re.ASCII | re.DOTALL)


def backup_owner(filename: str) -> int | None:
    """The guest a backup archive belongs to, for permission checks: the digits after
    ``vzdump-<type>-`` of any backup name, standard or not (pve-storage ``Plugin.pm``
    parse_volname); None for an archive name without them or for no archive name."""
    if BACKUP_NAME.fullmatch(filename) is None:
        return None
    match = _OWNER.match(filename)
    return int(match.group(1)) if match else None


def dat_name(filename: str) -> str:
    """The name an archive has while it is being written: its last extension becomes ``.dat``."""
    base, dot, _ = filename.rpartition(".")
    return (base if dot else filename) + DAT_EXT


# -- listing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupInfo:
    volid: str
    filename: str
    format: str
    size: int
    #: From a standard name, else the archive's modification time.
    ctime: int
    #: From a standard name, else a ``-<vmid>-`` in the name as Proxmox's listing finds it.
    vmid: int | None
    subtype: str
    #: First line of the notes.
    notes: str | None
    protected: bool
    #: The name of its log (``<stem>.log``) when the store holds one.
    log: str | None
    standard: bool


def _loose_vmid(name: BackupName) -> int | None:
    match = re.search(_LOOSE_VMID.format(fmt=re.escape(name.format)), name.filename)
    return int(match.group(1)) if match else None


def _owner(name: BackupName, vmid: int | None) -> tuple[bool, int | None]:
    """Is the backup listed for ``vmid`` (None: for all), and the VMID its row shows."""
    if name.standard:
        return vmid is None or name.vmid == vmid, name.vmid
    if vmid is not None:
        # Proxmox matches '-<vmid>-' anywhere in a name that is not standard.
        return re.search(rf"\S+-{vmid}-\S+", name.filename) is not None, vmid
    return True, _loose_vmid(name)


def _first_line(data: bytes) -> str | None:
    if not data:
        return None
    return data.partition(b"\n")[0].decode("utf-8", errors="replace")


class DumpStore(abc.ABC):
    """The rules of a backup store whose archives and side files are named entries of one
    namespace, as the files of Proxmox's dump folder (see the module docstring): names,
    listing, notes, protection, removal, the log and the digest sidecar.

    Subclasses keep the entries (files: :class:`DirBackupStore`; memory:
    :class:`~respaldo.storage.memorystore.MemoryBackupStore`) and write new archives.
    Implements :class:`~respaldo.storage.backupstore.BackupStore`.
    """

    def __init__(self, storage_id: str) -> None:
        self.storage_id = storage_id

    # -- the entries (subclasses) -------------------------------------------------------------

    @abc.abstractmethod
    def _names(self) -> list[str]:
        """Every entry's name, sorted; StorageError when they cannot be read."""

    @abc.abstractmethod
    def _stat(self, name: str) -> tuple[int, int] | None:
        """(size in bytes, modification time in epoch seconds) of a regular entry; None when
        it is missing or not a regular file."""

    @abc.abstractmethod
    def _exists(self, name: str) -> bool: ...

    @abc.abstractmethod
    def _read(self, name: str) -> bytes:
        """The entry's bytes; FileNotFoundError (an OSError) when it is missing."""

    @abc.abstractmethod
    def _open(self, name: str) -> BinaryIO:
        """A stream of the entry's bytes; OSError as :meth:`_read`."""

    @abc.abstractmethod
    def _replace(self, name: str, data: bytes) -> None:
        """Write the entry so that a reader sees the old or the new bytes; OSError."""

    @abc.abstractmethod
    def _append(self, name: str, data: bytes) -> None:
        """Append to the entry, creating it; OSError."""

    @abc.abstractmethod
    def _touch(self, name: str) -> None:
        """Create the entry empty unless it exists; OSError."""

    @abc.abstractmethod
    def _unlink(self, name: str) -> None:
        """Remove the entry; FileNotFoundError when it is missing, OSError."""

    @abc.abstractmethod
    def _where(self, name: str) -> str:
        """The entry as messages name it (a path, or the name)."""

    # -- names ----------------------------------------------------------------------------

    def volid(self, filename: str) -> str:
        return f"{self.storage_id}:backup/{filename}"

    def _parse(self, filename: str) -> BackupName:
        if not filename or "/" in filename or "\0" in filename:
            raise InputError("backup", filename, "expected a file name without a folder")
        name = parse_backup_name(filename)
        if name is None:
            raise InputError(
                "backup",
                filename,
                "not a backup archive name (expected vzdump-qemu-<vmid>-<date>.vma[.zst|.gz|.lzo])",
            )
        return name

    def _stale_candidates(self) -> list[str]:
        """The names of partial archives (``.dat``), live or left by a crash."""
        return [name for name in self._names() if _DAT_NAME.match(name)]

    # -- reading --------------------------------------------------------------------------

    def _require(self, filename: str) -> None:
        self._parse(filename)
        if self._stat(filename) is None:
            raise NoSuchVolume(self.volid(filename))

    def open(self, filename: str) -> BinaryIO:
        """The archive's bytes from the start; the caller closes the stream."""
        self._require(filename)
        try:
            return self._open(filename)
        except FileNotFoundError as err:
            raise NoSuchVolume(self.volid(filename)) from err
        except OSError as err:
            raise StorageError(f"cannot open backup '{self.volid(filename)}': {err}") from err

    def read_notes(self, filename: str) -> str | None:
        """The whole notes text (the listing shows only its first line)."""
        self._require(filename)
        notes = filename + NOTES_EXT
        try:
            return self._read(notes).decode("utf-8", errors="replace")
        except FileNotFoundError:
            return None
        except OSError as err:
            raise StorageError(f"cannot read notes {self._where(notes)}: {err}") from err

    def read_log(self, filename: str) -> str | None:
        """The log's text; None when there is none."""
        logname = self._parse(filename).logname
        try:
            return self._read(logname).decode("utf-8", errors="replace")
        except FileNotFoundError:
            return None
        except OSError as err:
            raise StorageError(f"cannot read log {self._where(logname)}: {err}") from err

    def read_digest(self, filename: str) -> list[DeviceDigest] | None:
        """The digest sidecar's entries; None without one; ArchiveError if unreadable."""
        self._require(filename)
        sidecar = filename + SIDECAR_SUFFIX
        try:
            text = self._read(sidecar)
        except FileNotFoundError:
            return None
        except OSError as err:
            raise ArchiveError(
                f"{self._where(sidecar)}: not a readable digest file: {err}"
            ) from err
        return decode_sidecar(text, self._where(sidecar))

    # -- changing -------------------------------------------------------------------------

    def remove(self, filename: str, *, keep_log: bool = False) -> None:
        """Remove the archive, its log (unless ``keep_log``), notes and digest; refused while
        it is protected."""
        self._require(filename)
        volid = self.volid(filename)
        if self._exists(filename + PROTECTED_EXT):
            raise ConflictError(f"backup '{volid}' is protected")
        try:
            self._unlink(filename)
        except FileNotFoundError as err:
            raise NoSuchVolume(volid) from err
        except OSError as err:
            raise StorageError(f"cannot remove backup '{volid}': {err}") from err
        extras = [] if keep_log else [self._parse(filename).logname]
        for extra in (*extras, filename + NOTES_EXT, filename + SIDECAR_SUFFIX):
            try:
                self._unlink(extra)
            except FileNotFoundError:
                pass
            except OSError as err:
                raise StorageError(f"backup removed, but not {extra}: {err}") from err

    def set_notes(self, filename: str, notes: str) -> None:
        """Store the notes (UTF-8); an empty string removes them."""
        self._require(filename)
        name = filename + NOTES_EXT
        try:
            if notes:
                self._replace(name, notes.encode("utf-8"))
            else:
                with contextlib.suppress(FileNotFoundError):
                    self._unlink(name)
        except OSError as err:
            raise StorageError(f"cannot write notes {self._where(name)}: {err}") from err

    def set_protected(self, filename: str, protected: bool) -> None:
        self._require(filename)
        name = filename + PROTECTED_EXT
        try:
            if protected:
                self._touch(name)
            else:
                self._unlink(name)
        except FileNotFoundError:
            pass
        except OSError as err:
            what = "set" if protected else "clear"
            raise StorageError(f"cannot {what} protection {self._where(name)}: {err}") from err

    def append_log(self, filename: str, lines: Sequence[str]) -> None:
        """Append lines (without newline) to the backup's log; the archive need not exist."""
        logname = self._parse(filename).logname
        try:
            self._append(logname, "".join(line + "\n" for line in lines).encode("utf-8"))
        except OSError as err:
            raise StorageError(f"cannot write log {self._where(logname)}: {err}") from err

    def write_digest(self, filename: str, devices: Sequence[DeviceDigest]) -> None:
        """Store the data digest sidecar of a committed archive."""
        self._require(filename)
        sidecar = filename + SIDECAR_SUFFIX
        try:
            self._replace(sidecar, encode_sidecar(list(devices)).encode("utf-8"))
        except OSError as err:
            raise StorageError(f"cannot write digest {self._where(sidecar)}: {err}") from err

    # -- listing (last: ``list`` shadows the built-in in later annotations) -----------------

    def _info(
        self,
        name: BackupName,
        size: int,
        mtime: int,
        vmid: int | None,
        present: set[str] | None = None,
    ) -> BackupInfo:
        """A backup's row; ``present`` (the names of one listing) spares asking for each side
        file: a listing of 10,000 backups then reads one stat per archive, not four."""
        filename = name.filename
        has = self._exists if present is None else present.__contains__
        notes = None
        if has(filename + NOTES_EXT):
            try:
                notes = _first_line(self._read(filename + NOTES_EXT))
            except OSError:
                notes = None
        return BackupInfo(
            f"{self.storage_id}:backup/{filename}",
            filename,
            name.format,
            size,
            name.ctime if name.ctime is not None else mtime,
            vmid,
            name.subtype,
            notes,
            has(filename + PROTECTED_EXT),
            name.logname if has(name.logname) else None,
            name.standard,
        )

    def list(self, vmid: int | None = None) -> list[BackupInfo]:
        """The backups, newest first; with ``vmid`` only that guest's (as Proxmox filters)."""
        result: list[BackupInfo] = []
        names = self._names()
        present = set(names)
        for entry in names:
            name = parse_backup_name(entry)
            if name is None:
                continue
            listed, owner = _owner(name, vmid)
            stat_result = self._stat(entry) if listed else None
            if stat_result is not None:
                result.append(self._info(name, *stat_result, owner, present))
        result.sort(key=attrgetter("ctime", "filename"), reverse=True)
        return result

    def get(self, filename: str) -> BackupInfo:
        name = self._parse(filename)
        stat_result = self._stat(filename)
        if stat_result is None:
            raise NoSuchVolume(self.volid(filename))
        return self._info(name, *stat_result, _owner(name, None)[1])


# -- dir storage: files in the dump folder ------------------------------------------------------


def escapes(path: Path, root: Path) -> bool:
    """Whether ``path`` (existing or not) resolves to a place outside ``root``: a symbolic link
    on its way that leads out."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return os.path.commonpath([real_root, real]) != real_root


def _same_file(path: Path, fd: int) -> bool:
    try:
        st = path.stat(follow_symlinks=False)
    except OSError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class PendingBase(abc.ABC):
    """What every pending write shares: one commit or abort, and an abort when its ``with``
    block ends without a commit (by an exception or otherwise)."""

    def __init__(self, volid: str) -> None:
        self.volid = volid
        self._done = False

    @property
    def done(self) -> bool:
        return self._done

    def _may_commit(self, sink: BinaryIO) -> None:
        """Refuse a second commit, and a commit after ``sink`` was closed (which aborts)."""
        if self._done:
            raise StorageError(f"backup '{self.volid}' was already committed or aborted")
        if sink.closed:
            self.abort()
            raise StorageError(f"backup '{self.volid}': file closed before commit")

    @abc.abstractmethod
    def abort(self) -> None:
        """Drop the partial archive. Never raises; does nothing after commit or abort."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()


class PendingBackup(PendingBase):
    """An archive being written as ``.dat``; :meth:`commit` gives it its final name.

    Used as a context manager it is aborted when the block ends without a commit (by an
    exception or otherwise). Do not close :attr:`file` yourself: closing it releases the lock
    that marks the ``.dat`` as live. Implements
    :class:`~respaldo.storage.backupstore.PendingWrite`; :meth:`advance` makes the file
    durable as it grows (:mod:`respaldo.storage.writebehind`).
    """

    def __init__(self, store: DirBackupStore, filename: str, path: Path, file: BinaryIO) -> None:
        super().__init__(store.volid(filename))
        self.store = store
        self.filename = filename
        self.path = path
        self.file = file
        self.final_path = store.dump_dir / filename
        self._behind: WriteBehind | None = None

    @property
    def sink(self) -> BinaryIO:
        return self.file

    @property
    def partial_path(self) -> Path:
        return self.path

    def advance(self, nbytes: int) -> None:
        """Count bytes handed towards the file; every 32 MiB a thread makes them durable."""
        if self._behind is None:
            self._behind = WriteBehind(self.file.fileno(), what="the archive")
        self._behind.advance(nbytes)

    def commit(self) -> str:
        """Make the data durable, rename to the final name and return the volume id."""
        self._may_commit(self.file)
        renamed = False
        try:
            if self._behind is not None:
                self._behind.finish()
            self.file.flush()
            os.fsync(self.file.fileno())
            if self.final_path.exists():
                raise ConflictError(f"backup '{self.volid}' already exists")
            os.rename(self.path, self.final_path)
            renamed = True
            _fsync_dir(self.store.dump_dir)
        except (ConflictError, StorageError):
            self.abort()
            raise
        except OSError as err:
            if renamed:
                with contextlib.suppress(OSError):
                    self.final_path.unlink()
            self.abort()
            raise StorageError(f"cannot complete backup '{self.volid}': {err}") from err
        self._done = True
        with contextlib.suppress(OSError):
            self.file.close()
        return self.volid

    def abort(self) -> None:
        """Drop the partial archive. Never raises; does nothing after commit or abort."""
        if self._done:
            return
        self._done = True
        if self._behind is not None:
            self._behind.stop()  # before the file is closed: its thread syncs the fd
        # Unlink while the lock is still held, so no cleaner races us for the file.
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError, ValueError):
            self.file.close()


@dataclass(frozen=True)
class _Listing:
    """One listing of a dump folder, and the folder's state when it was taken."""

    folder: tuple[int, int, int]  # st_dev, st_ino, st_mtime_ns of the folder
    zone: object  # the local time zone the stamps were read in
    taken: float  # time.monotonic() of the listing
    backups: tuple[BackupInfo, ...]


class ListingCache:
    """The last full listing of each dump folder, in this process.

    A server lists the same folder again and again; a folder of 10,000 backups costs 10,000
    stats each time. Everything respaldo and Proxmox's tools do to a dump folder creates,
    renames or removes an entry (an archive is written as ``.dat`` and renamed, notes are
    replaced, the protection marker is created or removed), which changes the folder's
    modification time: a listing is reused only while that time is unchanged, was at least
    ``settle`` seconds old when the listing was taken (a change within the same clock tick
    cannot hide), the time zone is the same, and for at most ``max_age`` seconds (a file
    rewritten in place by hand shows within that time).
    """

    def __init__(self, settle: float = 1.0, max_age: float = 30.0) -> None:
        self.settle = settle
        self.max_age = max_age
        self._lock = threading.Lock()
        self._listings: dict[str, _Listing] = {}

    def get(
        self, folder: str, state: tuple[int, int, int], zone: object
    ) -> list[BackupInfo] | None:
        with self._lock:
            listing = self._listings.get(folder)
        if listing is None or listing.folder != state or listing.zone != zone:
            return None
        if time.monotonic() - listing.taken > self.max_age:
            return None
        return list(listing.backups)

    def put(
        self, folder: str, state: tuple[int, int, int], zone: object, backups: list[BackupInfo]
    ) -> None:
        if time.time_ns() - state[2] < self.settle * 1e9:
            return  # the folder changed just now: the next change could keep its time
        listing = _Listing(state, zone, time.monotonic(), tuple(backups))
        with self._lock:
            self._listings[folder] = listing


LISTINGS = ListingCache()


class DirBackupStore(DumpStore):
    """The backups in one storage's dump folder (or a ``dumpdir``), as files."""

    _CREATE_ATTEMPTS = 3

    def __init__(self, storage_id: str, dump_dir: Path) -> None:
        super().__init__(storage_id)
        self.dump_dir = dump_dir
        self._dir_prefix = os.path.join(dump_dir, "")

    # -- paths ------------------------------------------------------------------------------

    def path(self, filename: str) -> Path:
        """The archive's path; InputError unless ``filename`` is a backup name without folder
        (and not a symbolic link out of the folder)."""
        self._parse(filename)
        return self._path(filename)

    def archive_path(self, filename: str) -> Path:
        return self.path(filename)

    def log_path(self, filename: str) -> Path:
        return self.dump_dir / self._parse(filename).logname

    def notes_path(self, filename: str) -> Path:
        return self.path(filename).with_name(filename + NOTES_EXT)

    def digest_path(self, filename: str) -> Path:
        return sidecar_path(self.path(filename))

    def protected_path(self, filename: str) -> Path:
        return self.path(filename).with_name(filename + PROTECTED_EXT)

    # -- the entries: files -----------------------------------------------------------------

    def _names(self) -> list[str]:
        """The folder's entries, but symbolic links that lead out of it."""
        try:
            with os.scandir(self.dump_dir) as entries:
                return sorted(
                    entry.name
                    for entry in entries
                    if not (entry.is_symlink() and escapes(Path(entry.path), self.dump_dir))
                )
        except FileNotFoundError:
            return []
        except OSError as err:
            raise StorageError(f"cannot read backup folder {self.dump_dir}: {err}") from err

    def _path(self, name: str) -> Path:
        """The entry's path; InputError for a symbolic link out of the folder (a backup is
        only ever read or changed inside its storage)."""
        path = self.dump_dir / name
        if path.is_symlink() and escapes(path, self.dump_dir):
            raise InputError("volume", self.volid(name), "a symbolic link out of its storage")
        return path

    def _stat(self, name: str) -> tuple[int, int] | None:
        # a plain string path: a listing stats every archive, and pathlib costs as much as
        # the stat itself
        try:
            st = os.lstat(self._dir_prefix + name)  # one call for a file, as a listing needs
            if stat.S_ISLNK(st.st_mode):
                st = self._path(name).stat()
        except OSError:
            return None
        return (st.st_size, int(st.st_mtime)) if stat.S_ISREG(st.st_mode) else None

    def _exists(self, name: str) -> bool:
        return self._path(name).exists()

    def _read(self, name: str) -> bytes:
        return self._path(name).read_bytes()

    def _open(self, name: str) -> BinaryIO:
        return open(self._path(name), "rb")

    def _replace(self, name: str, data: bytes) -> None:
        path = self._path(name)
        tmp = path.with_name(f".{path.name}.tmp.{os.getpid()}")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def _append(self, name: str, data: bytes) -> None:
        path = self._path(name)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        try:
            fd = os.open(path, flags, 0o666)
        except FileNotFoundError:
            self.dump_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, flags, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    def _touch(self, name: str) -> None:
        os.close(os.open(self._path(name), os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))

    def _unlink(self, name: str) -> None:
        self._path(name).unlink()

    def _where(self, name: str) -> str:
        return str(self.dump_dir / name)

    # -- the digest sidecar, written durably as before ----------------------------------------

    def write_digest(self, filename: str, devices: Sequence[DeviceDigest]) -> None:
        self._require(filename)
        path = self.digest_path(filename)
        try:
            write_sidecar(path, list(devices))
        except OSError as err:
            raise StorageError(f"cannot write digest {path}: {err}") from err

    # -- writing --------------------------------------------------------------------------

    def begin(self, filename: str) -> PendingBackup:
        """Start writing ``filename``: create its ``.dat`` exclusively and lock it."""
        final = self.path(filename)
        dat = self.dump_dir / dat_name(filename)
        volid = self.volid(filename)
        try:
            self.dump_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StorageError(f"cannot create backup folder {self.dump_dir}: {err}") from err
        for _ in range(self._CREATE_ATTEMPTS):
            if final.exists():
                raise ConflictError(f"backup '{volid}' already exists")
            try:
                fd = os.open(dat, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, _FILE_MODE)
            except FileExistsError as err:
                raise ConflictError(
                    f"backup '{volid}' is already being written ({dat.name} exists; "
                    "if no backup is running, it is stale and clean_stale removes it)"
                ) from err
            except OSError as err:
                raise StorageError(f"cannot create {dat}: {err}") from err
            try:
                # A cleaner holds the lock only while it unlinks; wait for it, then check the
                # file we created is still the one at the path.
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as err:
                os.close(fd)
                raise StorageError(f"cannot lock {dat}: {err}") from err
            if not _same_file(dat, fd):
                os.close(fd)
                continue
            if final.exists():
                # Another writer committed (renamed its .dat away) between our first check
                # and our create: the name is taken.
                with contextlib.suppress(OSError):
                    dat.unlink()
                os.close(fd)
                raise ConflictError(f"backup '{volid}' already exists")
            return PendingBackup(self, filename, dat, os.fdopen(fd, "wb"))
        raise ConflictError(f"backup '{volid}': {dat.name} keeps being removed while created")

    def clean_stale(self) -> list[str]:
        """Remove the ``.dat`` files no live writer holds; return the names removed."""
        removed: list[str] = []
        for name in self._stale_candidates():
            entry = self.dump_dir / name
            try:
                fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
            except OSError:
                continue  # gone, a symlink, or unreadable: not ours to clean
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    continue
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a writer is alive
                if _same_file(entry, fd):
                    entry.unlink()
                    removed.append(name)
            except OSError as err:
                raise StorageError(f"cannot remove stale {entry}: {err}") from err
            finally:
                os.close(fd)
        return removed

    # -- listing (last: ``list`` shadows the built-in in later annotations) -----------------

    def list(self, vmid: int | None = None) -> list[BackupInfo]:
        """As :meth:`DumpStore.list`; the full listing is reused while the folder is unchanged
        (see :class:`ListingCache`)."""
        if vmid is not None:
            return super().list(vmid)
        try:
            st = os.stat(self.dump_dir)
        except OSError:
            return super().list(vmid)
        state = (st.st_dev, st.st_ino, st.st_mtime_ns)
        zone = _zone()
        cached = LISTINGS.get(self._dir_prefix, state, zone)
        if cached is not None:
            return cached
        backups = super().list(vmid)
        LISTINGS.put(self._dir_prefix, state, zone, backups)
        return backups


__all__ = [
    "BACKUP_NAME",
    "EXTENSIONS",
    "STANDARD_NAME",
    "BackupInfo",
    "BackupName",
    "DirBackupStore",
    "DumpStore",
    "PendingBackup",
    "PendingBase",
    "backup_filename",
    "dat_name",
    "parse_backup_name",
]
