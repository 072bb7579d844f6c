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

import contextlib
import fcntl
import os
import re
import stat
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from respaldo.archive.digest import sidecar_path
from respaldo.config.ids import check_vmid
from respaldo.errors import ConflictError, InputError, NoSuchVolume, StorageError

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
#: A standard name of any guest type, with its archive extension (groups as BACKUP_NAME's
#: around the VMID and stamp groups of the stem).
_STANDARD_FULL = re.compile(
    rf"vzdump-(qemu|lxc|openvz){_STAMP}\.(tgz|(tar|vma)(\.(gz|lzo|zst|bz2))?)", re.ASCII
)
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


@dataclass(frozen=True, slots=True)
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
    """
    # Most names are standard: one match gives all (a listing parses thousands of names).
    match = _STANDARD_FULL.fullmatch(filename) or BACKUP_NAME.fullmatch(filename)
    if not match:
        return None
    groups = match.groups()
    subtype, fmt, archive_format, _, compression = groups[:1] + groups[-4:]
    if fmt == "tgz":
        archive_format, compression = "tar", "gz"
    stem = filename[: -len(fmt) - 1]
    vmid: int | None = None
    ctime: int | None = None
    standard = False
    if match.re is _STANDARD_FULL:
        owner, year, month, day, hour, minute, second = map(int, groups[1:8])
        try:
            ctime = int(datetime(year, month, day, hour, minute, second).timestamp())
        except (ValueError, OverflowError, OSError):
            ctime = None
        else:
            vmid = owner
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


def dat_name(filename: str) -> str:
    """The name an archive has while it is being written: its last extension becomes ``.dat``."""
    base, dot, _ = filename.rpartition(".")
    return (base if dot else filename) + DAT_EXT


# -- listing ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BackupInfo:
    volid: str
    filename: str
    format: str
    size: int
    #: From a standard name, else the file's modification time.
    ctime: int
    #: From a standard name, else a ``-<vmid>-`` in the name as Proxmox's listing finds it.
    vmid: int | None
    subtype: str
    #: First line of the notes file.
    notes: str | None
    protected: bool
    #: The log file, when it exists.
    log_path: Path | None
    standard: bool


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


class PendingBackup:
    """An archive being written as ``.dat``; :meth:`commit` gives it its final name.

    Used as a context manager it is aborted when the block ends without a commit (by an
    exception or otherwise). Do not close :attr:`file` yourself: closing it releases the lock
    that marks the ``.dat`` as live.
    """

    def __init__(self, store: DirBackupStore, filename: str, path: Path, file: BinaryIO) -> None:
        self.store = store
        self.filename = filename
        self.path = path
        self.file = file
        self.final_path = store.dump_dir / filename
        self.volid = store.volid(filename)
        self._done = False

    @property
    def done(self) -> bool:
        return self._done

    def commit(self) -> str:
        """Make the data durable, rename to the final name and return the volume id."""
        if self._done:
            raise StorageError(f"backup '{self.volid}' was already committed or aborted")
        if self.file.closed:
            self.abort()
            raise StorageError(f"backup '{self.volid}': file closed before commit")
        renamed = False
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            if self.final_path.exists():
                raise ConflictError(f"backup '{self.volid}' already exists")
            os.rename(self.path, self.final_path)
            renamed = True
            _fsync_dir(self.store.dump_dir)
        except ConflictError:
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
        # Unlink while the lock is still held, so no cleaner races us for the file.
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError, ValueError):
            self.file.close()

    def __enter__(self) -> PendingBackup:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()


class _Folder:
    """Which files a dump folder holds: from one scan of it (``scanned``: a listing of 10,000
    backups then makes one ``stat`` per archive, not four), or asked file by file."""

    def __init__(self, path: Path, scanned: dict[str, os.DirEntry[str]] | None = None) -> None:
        self.path = path
        self.scanned = scanned

    def entries(self) -> list[os.DirEntry[str]]:
        return list((self.scanned or {}).values())

    def has(self, name: str) -> bool:
        if self.scanned is None:
            return (self.path / name).exists()
        return name in self.scanned

    def is_file(self, name: str) -> bool:
        if self.scanned is None:
            return (self.path / name).is_file()
        entry = self.scanned.get(name)
        return entry is not None and entry.is_file()


class DirBackupStore:
    """The backups in one storage's dump folder."""

    _CREATE_ATTEMPTS = 3

    def __init__(self, storage_id: str, dump_dir: Path) -> None:
        self.storage_id = storage_id
        self.dump_dir = dump_dir

    # -- names and paths ------------------------------------------------------------------

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

    def path(self, filename: str) -> Path:
        """The archive's path; InputError unless ``filename`` is a backup name without folder."""
        self._parse(filename)
        return self.dump_dir / filename

    def log_path(self, filename: str) -> Path:
        return self.dump_dir / self._parse(filename).logname

    def notes_path(self, filename: str) -> Path:
        return self.path(filename).with_name(filename + NOTES_EXT)

    def digest_path(self, filename: str) -> Path:
        return sidecar_path(self.path(filename))

    def protected_path(self, filename: str) -> Path:
        return self.path(filename).with_name(filename + PROTECTED_EXT)

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
            if _same_file(dat, fd):
                return PendingBackup(self, filename, dat, os.fdopen(fd, "wb"))
            os.close(fd)
        raise ConflictError(f"backup '{volid}': {dat.name} keeps being removed while created")

    def clean_stale(self) -> list[Path]:
        """Remove the ``.dat`` files no live writer holds; return what was removed."""
        removed: list[Path] = []
        for entry in self._entries():
            if not _DAT_NAME.match(entry.name):
                continue
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
                    removed.append(entry)
            except OSError as err:
                raise StorageError(f"cannot remove stale {entry}: {err}") from err
            finally:
                os.close(fd)
        return removed

    # -- reading --------------------------------------------------------------------------

    def _entries(self) -> list[Path]:
        try:
            return sorted(self.dump_dir.iterdir())
        except FileNotFoundError:
            return []
        except OSError as err:
            raise StorageError(f"cannot read backup folder {self.dump_dir}: {err}") from err

    def _scan(self) -> _Folder:
        """The dump folder's entries, read in one pass (a listing asks no file one by one)."""
        try:
            with os.scandir(self.dump_dir) as found:
                return _Folder(self.dump_dir, {entry.name: entry for entry in found})
        except FileNotFoundError:
            return _Folder(self.dump_dir, {})
        except OSError as err:
            raise StorageError(f"cannot read backup folder {self.dump_dir}: {err}") from err

    def _info(
        self, name: BackupName, st: os.stat_result, vmid: int | None, folder: _Folder
    ) -> BackupInfo:
        notes = name.filename + NOTES_EXT
        return BackupInfo(
            volid=self.volid(name.filename),
            filename=name.filename,
            format=name.format,
            size=st.st_size,
            ctime=name.ctime if name.ctime is not None else int(st.st_mtime),
            vmid=vmid,
            subtype=name.subtype,
            notes=self._first_line(self.dump_dir / notes) if folder.has(notes) else None,
            protected=folder.has(name.filename + PROTECTED_EXT),
            log_path=self.dump_dir / name.logname if folder.is_file(name.logname) else None,
            standard=name.standard,
        )

    @staticmethod
    def _loose_vmid(name: BackupName) -> int | None:
        match = re.search(_LOOSE_VMID.format(fmt=re.escape(name.format)), name.filename)
        return int(match.group(1)) if match else None

    @staticmethod
    def _first_line(path: Path) -> str | None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if not data:
            return None
        return data.partition(b"\n")[0].decode("utf-8", errors="replace")

    @staticmethod
    def _stat_file(path: Path | os.DirEntry[str]) -> os.stat_result | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return st if stat.S_ISREG(st.st_mode) else None

    def list(self, vmid: int | None = None) -> list[BackupInfo]:
        """The backups, newest first; with ``vmid`` only that guest's (as Proxmox filters)."""
        result: list[BackupInfo] = []
        folder = self._scan()
        for entry in folder.entries():
            name = parse_backup_name(entry.name)
            if name is None:
                continue
            if name.standard:
                owner = name.vmid
                if vmid is not None and owner != vmid:
                    continue
            elif vmid is not None:
                # Proxmox matches '-<vmid>-' anywhere in a name that is not standard.
                if not re.search(rf"\S+-{vmid}-\S+", entry.name):
                    continue
                owner = vmid
            else:
                owner = self._loose_vmid(name)
            st = self._stat_file(entry)
            if st is None:
                continue
            result.append(self._info(name, st, owner, folder))
        result.sort(key=attrgetter("ctime", "filename"), reverse=True)
        return result

    def get(self, filename: str) -> BackupInfo:
        name = self._parse(filename)
        st = self._stat_file(self.dump_dir / filename)
        if st is None:
            raise NoSuchVolume(self.volid(filename))
        owner = name.vmid if name.standard else self._loose_vmid(name)
        return self._info(name, st, owner, _Folder(self.dump_dir))

    def read_notes(self, filename: str) -> str | None:
        """The whole notes text (the listing shows only its first line)."""
        path = self.notes_path(filename)
        if not self.path(filename).is_file():
            raise NoSuchVolume(self.volid(filename))
        try:
            return path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return None
        except OSError as err:
            raise StorageError(f"cannot read notes {path}: {err}") from err

    # -- changing -------------------------------------------------------------------------

    def _require(self, filename: str) -> Path:
        path = self.path(filename)
        if self._stat_file(path) is None:
            raise NoSuchVolume(self.volid(filename))
        return path

    def remove(self, filename: str) -> None:
        """Remove the archive, its log, notes and digest; refused while it is protected."""
        path = self._require(filename)
        if self.protected_path(filename).exists():
            raise ConflictError(f"backup '{self.volid(filename)}' is protected")
        try:
            path.unlink()
        except FileNotFoundError as err:
            raise NoSuchVolume(self.volid(filename)) from err
        except OSError as err:
            raise StorageError(f"cannot remove backup '{self.volid(filename)}': {err}") from err
        for extra in (
            self.log_path(filename),
            self.notes_path(filename),
            self.digest_path(filename),
        ):
            try:
                extra.unlink()
            except FileNotFoundError:
                pass
            except OSError as err:
                raise StorageError(f"backup removed, but not {extra.name}: {err}") from err

    def set_notes(self, filename: str, notes: str) -> None:
        """Store the notes (UTF-8); an empty string removes them."""
        self._require(filename)
        path = self.notes_path(filename)
        try:
            if not notes:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                return
            tmp = path.with_name(f".{path.name}.tmp.{os.getpid()}")
            try:
                tmp.write_bytes(notes.encode("utf-8"))
                os.replace(tmp, path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
        except OSError as err:
            raise StorageError(f"cannot write notes {path}: {err}") from err

    def set_protected(self, filename: str, protected: bool) -> None:
        self._require(filename)
        path = self.protected_path(filename)
        try:
            if protected:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))
            else:
                path.unlink()
        except FileNotFoundError:
            pass
        except OSError as err:
            what = "set" if protected else "clear"
            raise StorageError(f"cannot {what} protection {path}: {err}") from err


__all__ = [
    "BACKUP_NAME",
    "EXTENSIONS",
    "STANDARD_NAME",
    "BackupInfo",
    "BackupName",
    "DirBackupStore",
    "PendingBackup",
    "backup_filename",
    "dat_name",
    "parse_backup_name",
]
