"""Task logs, the list of active tasks and the index of finished ones, as Proxmox keeps them.

Layout under ``<data>/log/tasks/`` (Proxmox: ``/var/log/pve/tasks/``)::

    <X>/<UPID>     the log of one task; X is the last hex digit of its start time
    active         running tasks, one ``<UPID> 0`` line each (pve-common PVE/INotify.pm
                   read_active_workers reads the same lines)
    index          finished tasks, one ``<UPID> <ENDTIME_HEX> <STATUS>`` line each, in the
                   order they ended; renamed to ``index.1`` when it outgrows 50,000 bytes
    index.1        the previous index
    .active.lock   flock held while ``active`` and ``index`` change

A log's last line says how the task ended: ``TASK OK``, ``TASK WARNINGS: <n>`` or
``TASK ERROR: <message>`` (pve-common PVE/UPID.pm read_status). A task whose process is gone
without such a line is finished as ``unexpected status`` by whoever reads the list or a
status next, as Proxmox's ``active_workers`` does.

Listing reads only ``active`` and the two index files (never the logs), newest first, with
the filters of pve-manager PVE/API2/Tasks.pm ``node_tasks``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from respaldo.config.keyvalue import atomic_write_text
from respaldo.errors import BadUpid, InputError, NoSuchTask
from respaldo.locks import file_lock
from respaldo.node import Node
from respaldo.tasks.proc import is_running
from respaldo.tasks.upid import UPID, UPID_RE, decode, split_tokenid

#: Size after which ``index`` becomes ``index.1`` (pve-common RESTEnvironment.pm: "about
#: 1000 entries"); the list shows the tasks of these two files.
INDEX_MAX_BYTES = 50_000

UNEXPECTED_STATUS = "unexpected status"
RUNNING = "RUNNING"
STATUS_TYPES = ("ok", "warning", "error", "unknown")

# pve-common PVE/INotify.pm read_active_workers; pve-manager PVE/API2/Tasks.pm parse_line.
_ACTIVE_LINE = re.compile(r"^(\S+)\s(0|1)(?:\s([0-9A-Za-z]{8})(?:\s(\s*\S.*))?)?$")
_INDEX_LINE = re.compile(r"^(\S+)(?:\s([0-9A-Za-z]{8})(?:\s(\S.*))?)?$")
_WARNINGS = re.compile(r"^WARNINGS: \d+$")
_LIST_SPLIT = re.compile(r"[,;\s\0]+")
_TAIL_BLOCK = 4096

#: ``alive(pid, pstart)``: whether the task process still runs.
Liveness = Callable[[int, int], bool]

Row = dict[str, str | int]


def final_status(line: str) -> str | None:
    """The exit status a log's last line gives (``OK``, ``WARNINGS: <n>``, the error message),
    or None when the line is not a final line (pve-common PVE/UPID.pm read_status)."""
    if line == "TASK OK":
        return "OK"
    if line.startswith("TASK ERROR: ") and len(line) > len("TASK ERROR: "):
        return line[len("TASK ERROR: ") :]
    if line.startswith("TASK ") and _WARNINGS.match(line[5:]):
        return line[5:]
    return None


def normalize_status_type(status: str | None) -> str:
    """``ok``, ``warning``, ``error`` or ``unknown`` for an exit status (PVE/UPID.pm);
    a running task (no status) is ``unknown``."""
    if not status or status == UNEXPECTED_STATUS:
        return "unknown"
    if status == "OK":
        return "ok"
    if _WARNINGS.match(status):
        return "warning"
    return "error"


def status_is_error(status: str) -> bool:
    """Whether an exit status is a failure (anything but ``OK`` and ``WARNINGS: <n>``)."""
    return not (status == "OK" or _WARNINGS.match(status))


def parse_statusfilter(value: str | Iterable[str]) -> frozenset[str]:
    """``ok,warning`` (Proxmox's ``pve-task-status-type-list``) or a list of the same names;
    raises :class:`~respaldo.errors.InputError` for a name outside ok|warning|error|unknown."""
    names = [n for n in _LIST_SPLIT.split(value) if n] if isinstance(value, str) else list(value)
    wanted = frozenset(n.lower() for n in names)
    unknown = sorted(wanted.difference(STATUS_TYPES))
    if unknown:
        raise InputError("statusfilter", value, "expected a list of ok, warning, error, unknown")
    return wanted


def read_last_line(path: Path) -> str:
    """The last line of a file, without its line break ("" for an empty file)."""
    with path.open("rb") as f:
        end = f.seek(0, 2)
        data = b""
        pos = end
        while pos > 0:
            step = min(_TAIL_BLOCK, pos)
            pos -= step
            f.seek(pos)
            data = f.read(step) + data
            body = data[:-1] if data.endswith(b"\n") else data
            if b"\n" in body:
                break
    body = data[:-1] if data.endswith(b"\n") else data
    return body.rpartition(b"\n")[2].decode("utf-8", "replace")


@dataclass(frozen=True)
class TaskEntry:
    """A task as the lists know it: running (no ``endtime``) or finished."""

    upid: UPID
    text: str  # the UPID as written in the list
    endtime: int | None = None
    status: str | None = None

    def row(self, status: str | None = None) -> Row:
        """Proxmox's task list item: upid, node, pid, pstart, starttime, type, id, user,
        tokenid (API token tasks only), endtime and status (where known)."""
        user, tokenid = split_tokenid(self.upid.user)
        row: Row = {
            "upid": self.text,
            "node": self.upid.node,
            "pid": self.upid.pid,
            "pstart": self.upid.pstart,
            "starttime": self.upid.starttime,
            "type": self.upid.type,
            "id": self.upid.id,
            "user": user,
        }
        if tokenid is not None:
            row["tokenid"] = tokenid
        if self.endtime is not None:
            row["endtime"] = self.endtime
        status = status or self.status
        if status is not None:
            row["status"] = status
        return row


def owned_by(upid: UPID, user: str) -> bool:
    """Whether ``user`` (``user@realm`` or ``user@realm!token``) owns the task: a user sees
    their own and their tokens' tasks, a token only its own (pve-manager Tasks.pm
    check_task_user)."""
    owner, tokenid = split_tokenid(upid.user)
    if tokenid is not None:
        return user in (upid.user, owner)
    return user == owner


@dataclass
class _Filter:
    """pve-manager Tasks.pm ``node_tasks`` filter_task: matches, then paging."""

    userfilter: str | None
    typefilter: str | None
    vmid: int | None
    since: int | None
    until: int | None
    statuses: frozenset[str]
    owner: str | None

    def matches(self, entry: TaskEntry) -> bool:
        upid = entry.upid
        if self.userfilter and self.userfilter.lower() not in upid.userid.lower():
            return False
        if self.owner is not None and not owned_by(upid, self.owner):
            return False
        if self.typefilter and upid.type != self.typefilter:
            return False
        if self.vmid and upid.id != str(self.vmid):
            return False
        if self.since is not None and upid.starttime < self.since:
            return False
        if self.until is not None and upid.starttime > self.until:
            return False
        return normalize_status_type(entry.status) in self.statuses


class TaskStore:
    """The tasks of one node under ``task_dir`` (``Node.log_dir / "tasks"``).

    ``alive(pid, pstart)`` says whether a task process still runs (default: ``/proc``);
    tests pass a fake. The parsed index files are remembered by the process (for every store
    of the same folder), and later only what was appended is read: any number of processes
    may write the files, the files are the truth. Thread-safe.
    """

    def __init__(
        self,
        task_dir: Path,
        alive: Liveness = is_running,
        index_max_bytes: int = INDEX_MAX_BYTES,
    ) -> None:
        self.task_dir = task_dir
        self._alive = alive
        self._index_max_bytes = index_max_bytes

    @classmethod
    def for_node(cls, node: Node) -> TaskStore:
        return cls(node.log_dir / "tasks")

    @property
    def active_path(self) -> Path:
        return self.task_dir / "active"

    @property
    def index_path(self) -> Path:
        return self.task_dir / "index"

    @property
    def _old_index_path(self) -> Path:
        return self.task_dir / "index.1"

    def log_path(self, upid: UPID | str) -> Path:
        """The log file of a task; raises BadUpid for a text that is not a UPID."""
        return (decode(upid) if isinstance(upid, str) else upid).log_path(self.task_dir)

    # -- a task's life ---------------------------------------------------------------------

    def create(self, upid: UPID) -> Path:
        """Create the (empty) log of a new task and list it as active; returns the log's path.
        Raises FileExistsError if the task has a log already, LockTimeout if the list stays
        locked."""
        path = self.log_path(upid)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=False)
        with self._locked():
            entries = self._read_active()
            entries.append(TaskEntry(upid, str(upid)))
            self._write_active(entries)
        return path

    def finish(self, upid: UPID, endtime: int | None = None) -> str:
        """Move a task from ``active`` to ``index`` with the exit status its log ends with;
        returns that status. A task no longer active is left as it is (finishing twice
        writes one index line)."""
        status = self.exit_status(upid)
        with self._locked():
            entries = self._read_active()
            rest = [e for e in entries if e.upid != upid]
            if len(rest) < len(entries):
                done = TaskEntry(upid, str(upid), endtime or int(time.time()), status)
                self._append_index([done])
                self._write_active(rest)
        return status

    def reap(self) -> list[TaskEntry]:
        """Finish every active task whose process is gone (its status from its log, or
        ``unexpected status``); returns them."""
        if all(self._alive(e.upid.pid, e.upid.pstart) for e in self._read_active()):
            return []
        with self._locked():
            entries = self._read_active()
            gone = [e for e in entries if not self._alive(e.upid.pid, e.upid.pstart)]
            if not gone:
                return []
            now = int(time.time())
            done = [TaskEntry(e.upid, e.text, now, self.exit_status(e.upid)) for e in gone]
            self._append_index(done)
            self._write_active([e for e in entries if e not in gone])
        return done

    # -- reading ---------------------------------------------------------------------------

    def exit_status(self, upid: UPID) -> str:
        """``OK``, ``WARNINGS: <n>``, the error message, or ``unexpected status`` when the log
        has no final line (yet)."""
        path = self.log_path(upid)
        try:
            line = read_last_line(path)
        except OSError as err:
            return f"unable to get last line from task log - {err}"
        return final_status(line) or UNEXPECTED_STATUS

    def status(self, upid: UPID | str) -> Row:
        """``GET /nodes/{node}/tasks/{upid}/status``: pid, status (running|stopped), type,
        id, user, tokenid (token tasks), upid, starttime, pstart, node, and exitstatus when
        stopped. A task counts as stopped once its log has its final line, or once its
        process is gone (then finished as ``unexpected status`` if the line is missing).

        Raises BadUpid for a text that is not a UPID, NoSuchTask when there is no log."""
        text = upid if isinstance(upid, str) else str(upid)
        task = decode(text) if isinstance(upid, str) else upid
        path = self.log_path(task)
        if not path.is_file():
            raise NoSuchTask(text)
        alive = self._alive(task.pid, task.pstart)  # before the log: a dead task's log is final
        final = final_status(read_last_line(path))
        row = TaskEntry(task, text).row()
        row["status"] = "running" if alive and final is None else "stopped"
        if row["status"] == "stopped":
            if not alive:
                self.reap()
            row["exitstatus"] = final or UNEXPECTED_STATUS
        return row

    def read_log(self, upid: UPID | str, start: int = 0, limit: int = 50) -> tuple[list[Row], int]:
        """``GET .../tasks/{upid}/log``: lines ``{n, t}`` (``n`` 1-based) from line ``start``
        (0-based), at most ``limit`` of them (0: all), and the log's line count. An empty log
        reads as ``[{n: 1, t: "no content"}]`` with a count of 1 (pve-common PVE/Tools.pm
        dump_logfile). Raises BadUpid for a text that is not a UPID."""
        path = self.log_path(upid)
        try:
            data = path.read_bytes()
        except OSError as err:
            return [{"n": 1, "t": f"unable to open file - {err.strerror}"}], 1
        lines = data.decode("utf-8", "replace").split("\n")
        if lines[-1] == "":
            lines.pop()
        if not lines:
            return [{"n": 1, "t": "no content"}], 1
        end = len(lines) if limit == 0 else start + limit
        rows: list[Row] = [{"n": n + 1, "t": lines[n]} for n in range(start, min(end, len(lines)))]
        return rows, len(lines)

    def list_tasks(
        self,
        start: int = 0,
        limit: int = 50,
        userfilter: str | None = None,
        typefilter: str | None = None,
        vmid: int | None = None,
        errors: bool = False,
        source: str = "archive",
        since: int | None = None,
        until: int | None = None,
        statusfilter: str | Iterable[str] | None = None,
        owner: str | None = None,
    ) -> tuple[list[Row], int]:
        """``GET /nodes/{node}/tasks``: the matching tasks, newest first, from ``start`` at
        most ``limit`` (0: none), and how many match in all.

        ``source``: ``archive`` (finished, default), ``active`` (running) or ``all``;
        running tasks come first, with status ``RUNNING``. ``userfilter`` matches part of
        the user, case-insensitive; ``typefilter`` the type exactly; ``vmid`` the id;
        ``since``/``until`` bound the start time (epoch seconds); ``statusfilter`` keeps
        the normalised statuses listed (ok, warning, error, unknown; a running task is
        unknown), and ``errors`` drops ``ok`` instead (it wins over ``statusfilter``).
        ``owner`` keeps the tasks a user may see without Sys.Audit (see :func:`owned_by`).
        Raises InputError for a bad ``source`` or ``statusfilter``.
        """
        if source not in ("archive", "active", "all"):
            raise InputError("source", source, "expected one of archive, active, all")
        statuses = frozenset(STATUS_TYPES)
        if errors:
            statuses -= {"ok"}
        elif statusfilter is not None:
            statuses = parse_statusfilter(statusfilter)
        match = _Filter(userfilter, typefilter, vmid, since, until, statuses, owner)
        self.reap()
        rows: list[Row] = []
        total = 0
        for entry, status in self._newest_first(source):
            if not match.matches(entry):
                continue
            if start <= total < start + limit:
                rows.append(entry.row(status))
            total += 1
        return rows, total

    # -- the files -------------------------------------------------------------------------

    def _newest_first(self, source: str) -> Iterator[tuple[TaskEntry, str | None]]:
        if source in ("active", "all"):
            running = sorted(self._read_active(), key=lambda e: e.upid.starttime, reverse=True)
            for entry in running:
                yield entry, RUNNING
        if source != "active":
            for path in (self.index_path, self._old_index_path):
                for entry in reversed(self._read_index(path)):
                    yield entry, None

    def _read_active(self) -> list[TaskEntry]:
        """The running tasks; Proxmox's finished-but-kept lines (saved=1) are skipped."""
        entries = []
        for line in _read_lines(self.active_path):
            found = _ACTIVE_LINE.match(line)
            if found is None or found.group(2) == "1" or not UPID_RE.match(found.group(1)):
                continue
            entries.append(TaskEntry(decode(found.group(1)), found.group(1)))
        return entries

    def _write_active(self, entries: list[TaskEntry]) -> None:
        atomic_write_text(self.active_path, "".join(f"{e.text} 0\n" for e in entries))

    def _read_index(self, path: Path) -> list[TaskEntry]:
        """The entries of an index file, oldest first; parsed once and then only the lines
        appended since (the server lists often, and an index only grows until rotated)."""
        try:
            st = path.stat()
        except FileNotFoundError:
            return []
        with _CACHE_LOCK:
            cached = _INDEX_CACHE.get(path)
            if cached is None or cached.inode != st.st_ino or cached.offset > st.st_size:
                cached = _ParsedIndex(st.st_ino)
                _INDEX_CACHE[path] = cached
            if cached.offset < st.st_size:
                cached.read_more(path)
            return cached.entries

    def _append_index(self, entries: list[TaskEntry]) -> None:
        lines = "".join(f"{e.text} {e.endtime or 0:08X} {e.status}\n" for e in entries)
        self.task_dir.mkdir(parents=True, exist_ok=True)
        with self.index_path.open("a", encoding="utf-8") as f:
            f.write(lines)
            size = f.tell()
        if size > self._index_max_bytes:
            self.index_path.replace(self._old_index_path)

    def _locked(self) -> AbstractContextManager[None]:
        return file_lock(self.task_dir / ".active.lock", "the task list")


# Index files parsed so far in this process, by path; see TaskStore._read_index.
_INDEX_CACHE: dict[Path, _ParsedIndex] = {}
_CACHE_LOCK = threading.Lock()


@dataclass
class _ParsedIndex:
    """One index file's entries, parsed up to byte ``offset`` (a line boundary)."""

    inode: int
    offset: int = 0
    entries: list[TaskEntry] = field(default_factory=list)

    def read_more(self, path: Path) -> None:
        with path.open("rb") as f:
            f.seek(self.offset)
            data = f.read()
        # A line being appended right now is read next time, whole.
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.decode("utf-8", "replace").splitlines():
            entry = _parse_index_line(line)
            if entry is not None:
                self.entries.append(entry)


def _parse_index_line(line: str) -> TaskEntry | None:
    found = _INDEX_LINE.match(line)
    if found is None:
        return None
    text, endtime, status = found.groups()
    try:
        upid = decode(text)
    except BadUpid:
        return None
    return TaskEntry(upid, text, int(endtime, 16) if endtime else None, status)


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
