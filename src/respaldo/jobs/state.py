"""Per-job run state: ``run/jobs/vzdump-<id>.json``, as pve-manager ``PVE/Jobs.pm`` keeps it.

Proxmox keeps these in ``/var/lib/pve-manager/jobs/<type>-<id>.json``; respaldo keeps them in
the data directory under ``run/jobs/`` (they must survive a restart: ``repeat-missed`` needs
the last run). Each file is one JSON object::

    {"state": "created",  "time": 1715340000, "config": {"enabled": 1, "schedule": "21:00"}}
    {"state": "starting", "time": 1715367600, "config": {...}}
    {"state": "started",  "upid": "UPID:...", "config": {...}}
    {"state": "stopped",  "upid": "UPID:...", "msg": "OK", "config": {...}}
    {"state": "stopped",  "time": 1715367600, "msg": "<why it did not start>", "config": {...}}

plus ``updated`` (epoch) when the job's schedule or enabled flag changed, or the scheduler
started without ``repeat-missed``: the next run is then computed from that time. A change of
state is made under ``run/lock/job-vzdump-<id>.lck`` (flock); files are replaced atomically.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from respaldo.config.keyvalue import atomic_write_text
from respaldo.errors import ConfigError, ConflictError
from respaldo.locks import file_lock
from respaldo.node import Node

JOB_TYPE = "vzdump"
#: The job properties saved in the state, to notice changes made elsewhere (PVE/Jobs.pm).
SAVED_CONFIG = ("enabled", "schedule")
_LOCK_TIMEOUT = 10.0  # seconds, as PVE::Jobs::lock_job_state
_UPID_START = re.compile(r"^UPID:[^:]+:[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8,9}:([0-9A-Fa-f]{8}):")


class RunState(enum.Enum):
    CREATED = "created"
    STARTING = "starting"
    STARTED = "started"
    STOPPED = "stopped"


_NEXT: dict[RunState, frozenset[RunState]] = {
    RunState.CREATED: frozenset({RunState.STARTING}),
    RunState.STOPPED: frozenset({RunState.STARTING}),
    RunState.STARTING: frozenset({RunState.STARTED, RunState.STOPPED}),
    RunState.STARTED: frozenset({RunState.STOPPED}),
}


class JobStateError(ConflictError):
    """A change of run state that the current state does not allow."""

    def __init__(self, job_id: str, current: RunState, wanted: RunState) -> None:
        super().__init__(
            f"job '{job_id}' is {current.value}: it cannot become {wanted.value} "
            f"(from {current.value} it can become "
            f"{', '.join(sorted(s.value for s in _NEXT[current]))})"
        )
        self.job_id = job_id
        self.current = current
        self.wanted = wanted


def upid_starttime(upid: str) -> int | None:
    """The start time (epoch) in a UPID (pve-common ``PVE/UPID.pm``), None if it is no UPID."""
    found = _UPID_START.match(upid)
    return int(found.group(1), 16) if found else None


@dataclass(frozen=True)
class JobState:
    """One job's state file. ``config`` holds the saved ``enabled`` and ``schedule``."""

    state: RunState = RunState.CREATED
    time: int | None = None
    upid: str | None = None
    msg: str | None = None
    updated: int | None = None
    config: Mapping[str, object] = field(default_factory=dict)

    def last_run(self) -> int:
        """The time the next run is computed from (PVE/Jobs.pm ``get_last_runtime``):
        ``updated`` if set, else the start of the last run's task, else ``time``, else 0."""
        if self.updated is not None:
            return self.updated
        if self.upid is not None:
            started = upid_starttime(self.upid)
            if started is not None:
                return started
        return self.time or 0

    def _moved(self, job_id: str, wanted: RunState) -> None:
        if wanted not in _NEXT[self.state]:
            raise JobStateError(job_id, self.state, wanted)

    def starting(self, job_id: str, now: int) -> JobState:
        """The run is claimed at ``now``; ``updated`` and the last run's task are dropped."""
        self._moved(job_id, RunState.STARTING)
        return JobState(RunState.STARTING, time=now, config=self.config)

    def started(self, job_id: str, upid: str) -> JobState:
        self._moved(job_id, RunState.STARTED)
        return JobState(RunState.STARTED, upid=upid, config=self.config)

    def not_started(self, job_id: str, now: int, msg: str) -> JobState:
        """The run ended as it started: an error, or ``OK`` when there was nothing to do."""
        self._moved(job_id, RunState.STOPPED)
        return JobState(RunState.STOPPED, time=now, msg=msg, config=self.config)

    def stopped(self, job_id: str, exitstatus: str) -> JobState:
        """The run's task ended with ``exitstatus`` (``OK``, ``WARNINGS: 1``, the error)."""
        self._moved(job_id, RunState.STOPPED)
        return JobState(
            RunState.STOPPED,
            upid=self.upid,
            msg=exitstatus,
            updated=self.updated,
            config=self.config,
        )

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"state": self.state.value}
        for key in ("time", "upid", "msg", "updated"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        data["config"] = dict(self.config)
        return data

    @classmethod
    def from_json(cls, data: object, path: Path) -> JobState:
        if not isinstance(data, dict):
            raise ConfigError(path, 0, "expected a JSON object")
        try:
            state = RunState(data.get("state", "created"))
        except ValueError as err:
            valid = ", ".join(s.value for s in RunState)
            raise ConfigError(path, 0, f"unknown state {data.get('state')!r} ({valid})") from err
        config = data.get("config") or {}
        return cls(
            state,
            time=_int_or_none(data, "time", path),
            upid=_str_or_none(data, "upid", path),
            msg=_str_or_none(data, "msg", path),
            updated=_int_or_none(data, "updated", path),
            config=dict(config) if isinstance(config, dict) else {},
        )


def _int_or_none(data: dict[str, object], key: str, path: Path) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(path, 0, f"'{key}' is not a number: {value!r}")
    try:
        return int(value)
    except ValueError as err:
        raise ConfigError(path, 0, f"'{key}' is not a number: {value!r}") from err


def _str_or_none(data: dict[str, object], key: str, path: Path) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def saved_config(properties: Mapping[str, str]) -> dict[str, object]:
    """What the state keeps of a job's properties: ``enabled`` (an int, 1 when absent, as
    pve-common's job registry defaults it) and ``schedule``."""
    saved: dict[str, object] = {"enabled": int(properties.get("enabled", "1") != "0")}
    if "schedule" in properties:
        saved["schedule"] = properties["schedule"]
    return saved


# -- files --------------------------------------------------------------------------------------


def state_dir(node: Node) -> Path:
    return node.run_dir / "jobs"


def state_path(node: Node, job_id: str) -> Path:
    return state_dir(node) / f"{JOB_TYPE}-{job_id}.json"


@contextmanager
def locked(node: Node, job_id: str) -> Iterator[None]:
    """Hold the job's state lock (flock, 10 s timeout: LockTimeout)."""
    path = node.lock_dir / f"job-{JOB_TYPE}-{job_id}.lck"
    with file_lock(path, f"the state of job '{job_id}'", _LOCK_TIMEOUT):
        yield


def read_state(node: Node, job_id: str) -> JobState | None:
    """The job's state; None if it has no state file. An empty file is a new job's state.
    Raises ConfigError for a file that is no state. Reading needs no lock: files are
    replaced whole."""
    path = state_path(node, job_id)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    if not raw.strip():
        return JobState()
    try:
        return JobState.from_json(json.loads(raw), path)
    except json.JSONDecodeError as err:
        raise ConfigError(path, err.lineno, f"invalid JSON: {err.msg}") from err


def write_state(node: Node, job_id: str, state: JobState) -> None:
    atomic_write_text(state_path(node, job_id), json.dumps(state.to_json(), sort_keys=True))


def create_state(node: Node, job_id: str, properties: Mapping[str, str], now: int) -> None:
    """A new job's state: created at ``now``, so its first run is its first event after now.

    Raises ConflictError if the job already has a state beyond ``created``."""
    with locked(node, job_id):
        current = read_state(node, job_id) or JobState()
        if current.state is not RunState.CREATED:
            raise ConflictError(f"job '{job_id}': job state already exists")
        write_state(node, job_id, JobState(time=now, config=saved_config(properties)))


def remove_state(node: Node, job_id: str) -> None:
    state_path(node, job_id).unlink(missing_ok=True)


def note_config_change(node: Node, job_id: str, properties: Mapping[str, str], now: int) -> bool:
    """Save a changed ``enabled`` or ``schedule`` and set ``updated`` to ``now``, so the next
    run is computed from the change (PVE/Jobs.pm ``detect_changed_runtime_props``).
    Returns whether anything changed."""
    with locked(node, job_id):
        current = read_state(node, job_id) or JobState(time=now)
        wanted = saved_config(properties)
        old = {key: str(current.config.get(key, "")) for key in SAVED_CONFIG}
        if old == {key: str(wanted.get(key, "")) for key in SAVED_CONFIG}:
            return False
        write_state(node, job_id, replace(current, config=wanted, updated=now))
        return True


def raise_last_run(node: Node, job_id: str, floor: int) -> bool:
    """Compute the next run from ``floor`` on if the last run is older (``updated`` set to
    ``floor``): runs due before ``floor`` are not made up for (PVE/Jobs.pm
    ``update_last_runtime``, which uses the current time). Returns whether it changed."""
    with locked(node, job_id):
        current = read_state(node, job_id)
        if current is None or current.last_run() >= floor:
            return False
        write_state(node, job_id, replace(current, updated=floor))
        return True


def known_state_ids(node: Node) -> list[str]:
    """The job ids that have a state file."""
    prefix, suffix = f"{JOB_TYPE}-", ".json"
    return sorted(
        path.name[len(prefix) : -len(suffix)] for path in state_dir(node).glob(f"{prefix}*{suffix}")
    )
