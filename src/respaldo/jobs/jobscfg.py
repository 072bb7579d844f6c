"""Backup jobs in ``config/jobs.cfg``, Proxmox's ``/etc/pve/jobs.cfg`` format.

::

    vzdump: backup-1a2b3c4d-5e6f
            schedule mon..fri 21:00
            all 1
            compress zstd
            enabled 1
            mode snapshot
            notes-template {{guestname}}
            prune-backups keep-daily=7,keep-last=3
            storage local

A section config file (:mod:`respaldo.config.sectionconfig`): sections of type ``vzdump``
are backup jobs; sections of other types (``realm-sync``) and keys respaldo does not know
are kept as they are. A job has the job properties of pve-common ``PVE/Job/Registry.pm``
(``schedule``, ``enabled``, ``comment``, ``repeat-missed``) and the vzdump options of
pve-guest-common ``PVE/VZDump/Common.pm`` (selection ``vmid`` | ``all`` + ``exclude`` |
``pool``, ``storage``, ``mode``, ``compress``, ``prune-backups``, ...), each kept as the
string the file holds: booleans as ``0``/``1``, property strings as Proxmox prints them
(default key first, then the keys in order), ``comment`` URI-escaped as
pve-common ``encode_text`` does, and ``exclude-path`` one line per path.

The functions here are what ``/cluster/backup`` does (pve-manager ``PVE/API2/Backup.pm``):
they validate like Proxmox, take the file lock ``run/lock/jobs.cfg.lck``, write the file
atomically, keep the job's state file (:mod:`respaldo.jobs.state`) in step, and return jobs
as the API shows them (:meth:`Job.api`).
"""

from __future__ import annotations

import re
import time
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import tzinfo
from pathlib import Path

from respaldo.config.keyvalue import atomic_write_text
from respaldo.config.schema import (
    ParameterError,
    Schema,
    boolean,
    register_format,
    string,
)
from respaldo.config.sectionconfig import Section, format_sections, parse_sections
from respaldo.errors import ConflictError, InputError
from respaldo.jobs import state
from respaldo.jobs.calendar import parse_calendar_event
from respaldo.locks import file_lock
from respaldo.node import Node
from respaldo.services.vzdump.options import VZDUMP_OPTIONS

JOB_TYPE = state.JOB_TYPE
_LOCK_TIMEOUT = 10.0  # seconds
_LIST_SPLIT = re.compile(r"[,;\s]+")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The characters pve-common ``encode_text`` leaves as they are: printable ASCII but % and :.
_COMMENT_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in "%:")
_NOT_IN_SCHEMA = (
    "property is not defined in schema and the schema does not allow additional properties"
)


class NoSuchJob(InputError):
    """``No such job '<id>'``: Proxmox answers it as a parameter error on ``id``."""

    def __init__(self, job_id: str) -> None:
        super().__init__("id", job_id, f"No such job '{job_id}'")
        self.job_id = job_id


class JobExists(ConflictError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"Job '{job_id}' already exists")
        self.job_id = job_id


# -- the options: vzdump's schema and the job properties ------------------------------------


def _calendar_event(text: str, key: str) -> str:
    parse_calendar_event(text, key)
    return text.strip()


def _days(text: str, key: str) -> list[str]:
    """pve-manager ``pve-day-of-week-list``: ``mon,tue`` (commas, semicolons or spaces)."""
    days = [day for day in _LIST_SPLIT.split(text.strip()) if day]
    for day in days:
        if day not in _DAYS:
            raise InputError(key, text, f"invalid day '{day}' (valid: {', '.join(_DAYS)})")
    return days


register_format("pve-calendar-event", _calendar_event, "<calendar event>")
register_format("pve-day-of-week-list", _days, "<day list>", print=",".join)

#: pve-common ``PVE/Job/Registry.pm``: the properties every job has.
JOB_PROPERTIES = Schema(
    (
        string(
            "schedule",
            "Backup schedule. The format is a subset of `systemd` calendar events.",
            format="pve-calendar-event",
            max_length=128,
        ),
        boolean("enabled", "Enable or disable the job.", default=True),
        string("comment", "Description for the Job.", max_length=512),
        boolean(
            "repeat-missed",
            "If true, the job will be run as soon as possible if it was missed while the "
            "scheduler was not running.",
            default=False,
        ),
    )
)
#: What a ``vzdump`` section of jobs.cfg may hold: every vzdump option and the job properties.
JOB_OPTIONS = VZDUMP_OPTIONS.extend(*JOB_PROPERTIES, description="A vzdump backup job.")
JOB_ID = string("id", "The job ID.", format="pve-configid", max_length=50, optional=False)
#: The deprecated ``starttime`` and ``dow`` that POST/PUT /cluster/backup turn into a schedule.
SCHEDULE_PARTS = (
    string(
        "starttime",
        "Deprecated: Use 'schedule' instead. Job Start time.",
        pattern=r"\d{1,2}:\d{1,2}",
        typetext="HH:MM",
        deprecated=True,
    ),
    string(
        "dow",
        "Deprecated: Use 'schedule' instead. Day of week selection.",
        format="pve-day-of-week-list",
        requires="starttime",
        deprecated=True,
    ),
)
#: ``POST /cluster/backup`` (pve-manager ``PVE/API2/Backup.pm`` ``create_job``).
CREATE_PARAMS = JOB_OPTIONS.extend(
    replace(JOB_ID, optional=True, description="Job ID (will be autogenerated)."),
    *SCHEDULE_PARTS,
    description="Create new vzdump backup job.",
)
#: ``PUT /cluster/backup/{id}`` (``update_job``).
UPDATE_PARAMS = JOB_OPTIONS.extend(
    JOB_ID,
    *SCHEDULE_PARTS,
    string("delete", "A list of settings you want to delete.", format="pve-configid-list"),
    description="Update vzdump backup job definition.",
)
#: What ``delete`` may name besides the vzdump options (PVE/API2/Backup.pm ``update_job``).
_DELETABLE = frozenset({"comment", "repeat-missed"})


def encode_comment(text: str) -> str:
    """pve-common ``encode_text``: control and non-ASCII characters, ``%`` and ``:`` as
    ``%XX`` of their UTF-8 bytes."""
    return urllib.parse.quote(text, safe=_COMMENT_SAFE, encoding="utf-8")


def decode_comment(text: str) -> str:
    return urllib.parse.unquote(text, encoding="utf-8", errors="replace")


# -- a job ------------------------------------------------------------------------------------


@dataclass
class Job:
    """One ``vzdump`` section. ``properties`` are the file's strings (``comment`` encoded,
    ``exclude-path`` elements joined with ``\\n``)."""

    id: str
    properties: dict[str, str]

    @property
    def schedule(self) -> str | None:
        return self.properties.get("schedule")

    @property
    def enabled(self) -> bool:
        """Jobs are enabled unless ``enabled 0`` (PVE/Job/Registry.pm defaults it to 1)."""
        return self.properties.get("enabled", "1") != "0"

    @property
    def repeat_missed(self) -> bool:
        return self.properties.get("repeat-missed", "0") == "1"

    @property
    def node(self) -> str | None:
        """The node the job is restricted to, if any."""
        return self.properties.get("node")

    def vzdump_options(self) -> dict[str, str]:
        """The options a run of this job hands to vzdump, as PVE/Jobs/VZDump.pm ``run``
        builds them: the vzdump options (property strings as strings; ``exclude-path``
        elements joined with NUL, which ``PVE::Tools::split_list`` splits), ``job-id`` and
        ``quiet 1``."""
        options = {
            key: value.replace("\n", "\0") if key == "exclude-path" else value
            for key, value in self.properties.items()
            if key in VZDUMP_OPTIONS
        }
        options["job-id"] = self.id
        options["quiet"] = "1"
        return options

    def api(self) -> dict[str, object]:
        """The job as ``GET /cluster/backup/{id}`` returns it: ``id``, ``type``, every
        property with its JSON type (booleans and integers as numbers, property strings as
        objects, ``exclude-path`` as a list), ``enabled`` 1 when not set, ``comment``
        decoded."""
        view: dict[str, object] = {"id": self.id, "type": JOB_TYPE, "enabled": 1}
        for key, value in self.properties.items():
            if key == "comment":
                view[key] = decode_comment(value)
            elif key == "exclude-path":
                view[key] = value.split("\n")
            else:
                view[key] = JOB_OPTIONS.api_value(key, value)
        return view


def auto_job_id() -> str:
    """``backup-`` and the first 13 characters of a random UUID (``backup-1a2b3c4d-5e6f``),
    as the GUI makes one (www/manager6 ``panel/BackupAdvancedOptions.js``). The API itself
    uses a bare UUID, which is no valid configuration id when it starts with a digit."""
    return f"backup-{str(uuid.uuid4())[:13]}"


def check_job_id(job_id: str) -> str:
    """pve-configid (``[a-z][a-z0-9_-]+``, any case), at most 50 characters (pve-backup-jobid)."""
    return str(JOB_ID.parse(job_id))


# -- the file ---------------------------------------------------------------------------------


def jobs_cfg_path(node: Node) -> Path:
    return node.config_dir / "jobs.cfg"


def _read_sections(node: Node) -> list[Section]:
    path = jobs_cfg_path(node)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return parse_sections(text, path, repeatable=("exclude-path",))


def _write_sections(node: Node, sections: list[Section]) -> None:
    text = format_sections(sections)
    atomic_write_text(jobs_cfg_path(node), text + "\n" if text else "")


@contextmanager
def locked(node: Node) -> Iterator[None]:
    """Hold the ``jobs.cfg`` lock (flock on ``run/lock/jobs.cfg.lck``; LockTimeout after 10 s)."""
    with file_lock(node.lock_dir / "jobs.cfg.lck", "jobs.cfg", _LOCK_TIMEOUT):
        yield


def load_jobs(node: Node) -> list[Job]:
    """The backup jobs in file order. Raises ConfigError for a file that cannot be parsed."""
    return [Job(s.id, dict(s.properties)) for s in _read_sections(node) if s.type == JOB_TYPE]


def _find(sections: list[Section], job_id: str) -> Section:
    for section in sections:
        if section.id == job_id and section.type == JOB_TYPE:
            return section
    raise NoSuchJob(job_id)


def _canonical(properties: Mapping[str, str]) -> dict[str, str]:
    """Proxmox's order of writing (pve-common ``SectionConfig::write_config``): ``comment``,
    the required ``schedule``, then the rest in alphabetical order."""
    first = ("comment", "schedule")
    rest = sorted(k for k in properties if k not in first)
    # An empty value is not written (format_config_line), as if it were not set.
    return {k: properties[k] for k in (*first, *rest) if properties.get(k)}


# -- checks of a request --------------------------------------------------------------------


def _no_line_feed(name: str, value: str) -> str:
    if "\n" in value or "\r" in value:
        raise InputError(name, value, "contains a line feed (a value is one line)")
    return value


def _check_params(
    params: Mapping[str, str | Sequence[str]], schema: Schema = JOB_OPTIONS
) -> dict[str, str]:
    """Each given option checked by ``schema`` and in its file form (:meth:`Param.canonical`);
    ``comment`` encoded. Raises ParameterError naming every bad one."""
    checked: dict[str, str] = {}
    errors: dict[str, InputError] = {}
    for key, raw in params.items():
        try:
            checked[key] = _check_one(schema, key, raw)
        except InputError as err:
            errors[key] = err
    if errors:
        raise ParameterError(errors)
    if "comment" in checked:
        checked["comment"] = encode_comment(checked["comment"])
    return checked


def _check_one(schema: Schema, key: str, raw: str | Sequence[str]) -> str:
    param = schema.find(key)
    if param is None:
        raise InputError(key, raw, _NOT_IN_SCHEMA)
    if key == "exclude-path":  # an array: one line per path in the file
        paths = [raw] if isinstance(raw, str) else list(raw)
        return "\n".join(_no_line_feed(key, path) for path in paths if path)
    if not isinstance(raw, str):
        raise InputError(key, raw, "expected a single value")
    text = param.canonical(raw, key)
    if key != "comment":  # any text: the file holds it encoded
        _no_line_feed(key, raw)
    return text


def _schedule_from_starttime(params: dict[str, str], required: bool) -> None:
    """The deprecated ``starttime`` (``HH:MM``) and ``dow`` (``mon,tue``) become ``schedule``
    (PVE/API2/Backup.pm ``$schedule_param_check``)."""
    starttime = params.pop("starttime", None)
    dow = params.pop("dow", None)
    if "schedule" in params:
        if starttime is not None:
            raise InputError(
                "starttime", starttime, "'starttime' and 'schedule' cannot both be set"
            )
        return
    if starttime is None:
        if dow is not None:
            raise InputError("dow", dow, "requires option 'starttime'")
        if required:
            raise InputError("schedule", "", "neither 'starttime' nor 'schedule' were set")
        return
    days = [d for d in (dow or "").split(",") if d]  # checked and joined by _check_params
    every_day = not days or days == list(_DAYS)
    schedule = starttime if every_day else f"{','.join(days)} {starttime}"
    params["schedule"] = JOB_OPTIONS.get("schedule").canonical(schedule, "schedule")


def _verify(job: dict[str, str]) -> None:
    """pve-manager ``PVE/VZDump.pm`` ``verify_vzdump_parameters`` with ``check_missing``,
    and the options that require ``storage``."""
    for key in ("all", "exclude", "pool"):
        if job.get(key) not in (None, "", "0") and job.get("vmid"):
            raise InputError(key, job[key], "option conflicts with option 'vmid'")
    if "exclude" in job and not job.get("pool"):
        job["all"] = "1"
    selected = any(job.get(key) not in (None, "", "0") for key in ("all", "stop", "pool"))
    if not selected and not job.get("vmid"):
        raise InputError("vmid", "", "property is missing (give 'vmid', 'all' or 'pool')")
    for param in JOB_OPTIONS:
        if param.requires and param.name in job and param.requires not in job:
            reason = f"missing property - '{param.name}' requires this property"
            raise InputError(param.requires, "", reason)


def _select(job: dict[str, str], given: Mapping[str, str]) -> None:
    """A new selection replaces the old (PVE/API2/Backup.pm ``update_job``): ``vmid`` drops
    ``all``, ``exclude`` and ``pool``; ``all`` drops ``vmid`` and ``pool``; a ``pool``
    drops ``vmid``, ``all`` and ``exclude``."""
    if "exclude" in job and "pool" not in job:
        job["all"] = "1"
    if "vmid" in given:
        dropped: tuple[str, ...] = ("all", "exclude", "pool")
    elif given.get("all") == "1":
        dropped = ("vmid", "pool")
    elif job.get("pool"):
        dropped = ("vmid", "all", "exclude")
    else:
        dropped = ()
    for key in dropped:
        job.pop(key, None)


def _split_delete(delete: str | Sequence[str]) -> list[str]:
    items = _LIST_SPLIT.split(delete.strip()) if isinstance(delete, str) else list(delete)
    return [item for item in items if item]


# -- the operations of /cluster/backup --------------------------------------------------------


def list_jobs(
    node: Node, now: float | None = None, zone: tzinfo | None = None
) -> list[dict[str, object]]:
    """``GET /cluster/backup``: every job (:meth:`Job.api`) with ``next-run``, the next
    event of its schedule after ``now`` (default: the current time) in ``zone`` (default:
    the local zone), as Proxmox computes it from now, not from the last run. A schedule
    that does not parse gets no ``next-run``."""
    moment = time.time() if now is None else now
    result = []
    for job in load_jobs(node):
        view = job.api()
        if job.schedule:
            try:
                following = parse_calendar_event(job.schedule).next_event(moment, zone)
            except InputError:
                following = None
            if following is not None:
                view["next-run"] = following
        result.append(view)
    return result


def get_job(node: Node, job_id: str) -> dict[str, object]:
    """``GET /cluster/backup/{id}``. Raises NoSuchJob."""
    for job in load_jobs(node):
        if job.id == job_id:
            return job.api()
    raise NoSuchJob(job_id)


def find_job(node: Node, job_id: str) -> Job:
    """The job ``job_id`` as it is in the file. Raises NoSuchJob."""
    for job in load_jobs(node):
        if job.id == job_id:
            return job
    raise NoSuchJob(job_id)


def create_job(
    node: Node, params: Mapping[str, str | Sequence[str]], now: int | None = None
) -> str:
    """``POST /cluster/backup``: add a job, return its id.

    ``params`` are the request's: ``id`` (made with :func:`auto_job_id` when absent),
    ``schedule`` (or the deprecated ``starttime`` + ``dow``), ``enabled`` (default 1),
    ``repeat-missed``, ``comment`` and vzdump options, each a string (``exclude-path`` may
    be a list). Its state file is created with ``time`` = ``now`` (default: the current
    time), so the first run is the first event after now. Raises InputError naming the bad
    parameter, JobExists.
    """
    given = dict(params)
    raw_id = given.pop("id", None)
    if raw_id is not None and not isinstance(raw_id, str):
        raise InputError("id", raw_id, "expected a single value")
    job_id = check_job_id(raw_id) if raw_id else auto_job_id()
    job = _check_params(given, JOB_OPTIONS.extend(*SCHEDULE_PARTS))
    _schedule_from_starttime(job, required=True)
    job.setdefault("enabled", "1")
    _verify(job)
    with locked(node):
        sections = _read_sections(node)
        if any(section.id == job_id for section in sections):
            raise JobExists(job_id)
        state.create_state(node, job_id, job, int(time.time() if now is None else now))
        sections.append(Section(JOB_TYPE, job_id, _canonical(job)))
        _write_sections(node, sections)
    return job_id


def update_job(
    node: Node,
    job_id: str,
    params: Mapping[str, str | Sequence[str]],
    delete: str | Sequence[str] = (),
    now: int | None = None,
) -> None:
    """``PUT /cluster/backup/{id}``: set ``params``, remove the options named in ``delete``
    (a list, or a string with ``,``/``;``/space between names), then apply the selection
    rules (:func:`_select`). A changed ``schedule`` or ``enabled`` sets the state's
    ``updated`` to ``now``: the next run is computed from then.

    Raises NoSuchJob, InputError (``no options specified``; an unknown option to delete; a
    bad value; a job left with no selection).
    """
    given = _check_params(params, JOB_OPTIONS.extend(*SCHEDULE_PARTS))
    deleted = _split_delete(delete)
    if not given and not deleted:
        raise InputError("delete", "", "no options specified")
    _schedule_from_starttime(given, required=False)
    for key in deleted:
        if key not in VZDUMP_OPTIONS and key not in _DELETABLE:
            raise InputError("delete", key, f"unknown option '{key}'")
    with locked(node):
        sections = _read_sections(node)
        section = _find(sections, job_id)
        job = {k: v for k, v in section.properties.items() if k not in deleted}
        job.update(given)
        _select(job, given)
        _verify(job)
        section.properties = _canonical(job)
        _write_sections(node, sections)
        state.note_config_change(node, job_id, job, int(time.time() if now is None else now))


def delete_job(node: Node, job_id: str) -> None:
    """``DELETE /cluster/backup/{id}``: remove the job and its state. Raises NoSuchJob."""
    with locked(node):
        sections = _read_sections(node)
        section = _find(sections, job_id)
        sections.remove(section)
        state.remove_state(node, job_id)
        _write_sections(node, sections)
