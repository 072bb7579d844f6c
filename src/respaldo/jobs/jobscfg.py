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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from respaldo.config.ids import check_storage_id, check_vmid
from respaldo.config.keyvalue import atomic_write_text
from respaldo.config.propstring import parse_propstring
from respaldo.config.sectionconfig import Section, format_sections, parse_sections
from respaldo.errors import ConflictError, InputError, RespaldoError
from respaldo.jobs import state
from respaldo.jobs.calendar import parse_calendar_event
from respaldo.locks import file_lock
from respaldo.node import Node

JOB_TYPE = state.JOB_TYPE
_LOCK_TIMEOUT = 10.0  # seconds
_TRUE = frozenset({"1", "on", "yes", "true"})
_FALSE = frozenset({"0", "off", "no", "false"})
_CONFIGID = re.compile(r"[a-z][a-z0-9_-]+", re.IGNORECASE)
_NODE = re.compile(r"[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?")
_LIST_SPLIT = re.compile(r"[,;\s]+")
_STARTTIME = re.compile(r"\d{1,2}:\d{1,2}")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NOTES_VARIABLES = frozenset({"cluster", "guestname", "node", "vmid"})
#: The characters pve-common ``encode_text`` leaves as they are: printable ASCII but % and :.
_COMMENT_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in "%:")


class NoSuchJob(InputError):
    """``No such job '<id>'``: Proxmox answers it as a parameter error on ``id``."""

    def __init__(self, job_id: str) -> None:
        super().__init__("id", job_id, f"No such job '{job_id}'")
        self.job_id = job_id


class JobExists(ConflictError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"Job '{job_id}' already exists")
        self.job_id = job_id


# -- the options and their checks -----------------------------------------------------------

Check = Callable[[str, str], str]
ApiValue = Callable[[str], object]


@dataclass(frozen=True)
class Option:
    """How a job property is checked (and normalised for the file) and shown in the API."""

    check: Check
    api: ApiValue = str


def _no_line_feed(name: str, value: str) -> str:
    if "\n" in value or "\r" in value:
        raise InputError(name, value, "contains a line feed (a value is one line)")
    return value


def _string(max_length: int | None = None) -> Check:
    def check(name: str, value: str) -> str:
        if max_length is not None and len(value) > max_length:
            raise InputError(name, value, f"longer than {max_length} characters")
        return _no_line_feed(name, value)

    return check


def _boolean(name: str, value: str) -> str:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return "1"
    if lowered in _FALSE:
        return "0"
    raise InputError(name, value, "expected a boolean: 1, on, yes, true or 0, off, no, false")


def _integer(minimum: int | None = None, maximum: int | None = None) -> Check:
    def check(name: str, value: str) -> str:
        text = value.strip()
        if not re.fullmatch(r"[+-]?[0-9]+", text, re.ASCII):
            raise InputError(name, value, "type check ('integer') failed")
        number = int(text)
        if minimum is not None and number < minimum:
            raise InputError(name, value, f"value must have a minimum value of {minimum}")
        if maximum is not None and number > maximum:
            raise InputError(name, value, f"value must have a maximum value of {maximum}")
        return str(number)

    return check


def _enum(*choices: str) -> Check:
    def check(name: str, value: str) -> str:
        if value not in choices:
            raise InputError(
                name,
                value,
                f"value does not have a value in the enumeration '{', '.join(choices)}'",
            )
        return value

    return check


def _vmid_list(name: str, value: str) -> str:
    vmids = [part for part in _LIST_SPLIT.split(value.strip()) if part]
    for vmid in vmids:
        try:
            check_vmid(vmid)
        except InputError as err:
            raise InputError(name, value, f"'{vmid}': {err.reason}") from err
    return ",".join(vmids)


def _storage_id(name: str, value: str) -> str:
    try:
        return check_storage_id(value)
    except InputError as err:
        raise InputError(name, value, err.reason) from err


def _node_name(name: str, value: str) -> str:
    if not _NODE.fullmatch(value):
        raise InputError(name, value, "a node name holds letters, digits and inner '-'")
    return value


def _schedule(name: str, value: str) -> str:
    if len(value) > 128:
        raise InputError(name, value, "longer than 128 characters")
    parse_calendar_event(value, name)
    return value.strip()


def _notes_template(name: str, value: str) -> str:
    """pve-manager ``PVE/VZDump.pm`` ``verify_notes_template``."""
    _string(1024)(name, value)
    problems = [
        f"escape sequence '\\{m.group(1)}' at char {m.start()}"
        for m in re.finditer(r"\\(.)", value)
        if m.group(1) not in ("n", "\\")
    ]
    problems += [
        f"variable '{m.group(1)}' at char {m.start(1)}"
        for m in re.finditer(r"\{\{([^\s{}]+)\}\}", value)
        if m.group(1) not in _NOTES_VARIABLES
    ]
    if problems:
        raise InputError(name, value, f"found unknown: {', '.join(problems)}")
    return value


def _comment(name: str, value: str) -> str:
    # Any text: the file holds it encoded (encode_comment), line feeds included.
    if len(value) > 512:
        raise InputError(name, value, "longer than 512 characters")
    return value


def _mailto(name: str, value: str) -> str:
    addresses = [part for part in _LIST_SPLIT.split(value.strip()) if part]
    if not addresses:
        raise InputError(name, value, "expected one or more email addresses or user names")
    return _no_line_feed(name, value)


# Property strings: key -> (check, API value); the default key is written without 'key='.
@dataclass(frozen=True)
class PropertyString:
    keys: Mapping[str, Option]
    default_key: str | None = None
    verify: Callable[[str, str, dict[str, str]], None] | None = None

    def check(self, name: str, value: str) -> str:
        """Validate, and print as pve-common ``print_property_string`` does: the default key
        first without ``key=``, then the other keys in alphabetical order."""
        parsed = parse_propstring(value, self.default_key, name) if value else {}
        normal: dict[str, str] = {}
        for key, text in parsed.items():
            option = self.keys.get(key)
            if option is None:
                raise InputError(
                    name, value, f"unknown key '{key}' (valid: {', '.join(self.keys)})"
                )
            try:
                normal[key] = option.check(key, text)
            except InputError as err:
                raise InputError(name, value, f"{key}: {err.reason}") from err
        if self.verify is not None:
            self.verify(name, value, normal)
        ordered = sorted(normal, key=lambda k: (k != self.default_key, k))
        return ",".join(normal[k] if k == self.default_key else f"{k}={normal[k]}" for k in ordered)

    def api(self, value: str) -> object:
        parsed = parse_propstring(value, self.default_key, "property string") if value else {}
        return {
            key: self.keys[key].api(text) if key in self.keys else text
            for key, text in parsed.items()
        }

    def option(self) -> Option:
        return Option(self.check, self.api)


def _verify_fleecing(name: str, value: str, parsed: dict[str, str]) -> None:
    if parsed.get("enabled") == "1" and "storage" not in parsed:
        raise InputError(name, value, "'storage' parameter is required when 'enabled' is set")


def _verify_prune(name: str, value: str, parsed: dict[str, str]) -> None:
    if parsed.get("keep-all") == "1" and any(
        int(count) > 0 for key, count in parsed.items() if key != "keep-all"
    ):
        raise InputError(name, value, "keep-all cannot be set together with other options")


BOOLEAN = Option(_boolean, int)


def _int_option(minimum: int | None = None, maximum: int | None = None) -> Option:
    return Option(_integer(minimum, maximum), int)


_KEEP = _int_option(0)
PRUNE_BACKUPS = PropertyString(
    {
        "keep-all": BOOLEAN,
        "keep-last": _KEEP,
        "keep-hourly": _KEEP,
        "keep-daily": _KEEP,
        "keep-weekly": _KEEP,
        "keep-monthly": _KEEP,
        "keep-yearly": _KEEP,
    },
    verify=_verify_prune,
)
FLEECING = PropertyString(
    {"enabled": BOOLEAN, "storage": Option(_storage_id)},
    default_key="enabled",
    verify=_verify_fleecing,
)
PERFORMANCE = PropertyString(
    {"max-workers": _int_option(1, 256), "pbs-entries-max": _int_option(1)}
)

#: pve-guest-common ``PVE/VZDump/Common.pm`` ``$confdesc``: every vzdump option.
VZDUMP_OPTIONS: dict[str, Option] = {
    "vmid": Option(_vmid_list),
    "node": Option(_node_name),
    "all": BOOLEAN,
    "stdexcludes": BOOLEAN,
    "compress": Option(_enum("0", "1", "gzip", "lzo", "zstd")),
    "pigz": _int_option(),
    "zstd": _int_option(),
    "quiet": BOOLEAN,
    "mode": Option(_enum("snapshot", "suspend", "stop")),
    "exclude": Option(_vmid_list),
    "exclude-path": Option(_string(), lambda v: v.split("\n")),
    "mailto": Option(_mailto),
    "mailnotification": Option(_enum("always", "failure")),
    "notification-mode": Option(_enum("auto", "legacy-sendmail", "notification-system")),
    "tmpdir": Option(_string()),
    "dumpdir": Option(_string()),
    "script": Option(_string()),
    "storage": Option(_storage_id),
    "stop": BOOLEAN,
    "bwlimit": _int_option(0),
    "ionice": _int_option(0, 8),
    "performance": PERFORMANCE.option(),
    "fleecing": FLEECING.option(),
    "lockwait": _int_option(0),
    "stopwait": _int_option(0),
    "prune-backups": PRUNE_BACKUPS.option(),
    "remove": BOOLEAN,
    "pool": Option(_string()),
    "notes-template": Option(_notes_template),
    "protected": BOOLEAN,
    "pbs-change-detection-mode": Option(_enum("legacy", "data", "metadata")),
}
#: pve-common ``PVE/Job/Registry.pm``: the properties every job has.
JOB_PROPERTIES: dict[str, Option] = {
    "schedule": Option(_schedule),
    "enabled": BOOLEAN,
    "comment": Option(_comment),
    "repeat-missed": BOOLEAN,
}
OPTIONS = {**JOB_PROPERTIES, **VZDUMP_OPTIONS}
#: Options that need ``storage`` (``requires => 'storage'`` in the schema).
_NEEDS_STORAGE = ("notes-template", "protected")
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
            option = OPTIONS.get(key)
            if key == "comment":
                view[key] = decode_comment(value)
            elif option is None:
                view[key] = value
            else:
                try:
                    view[key] = option.api(value)
                except (ValueError, RespaldoError):
                    view[key] = value  # a hand-edited value: shown as the file has it
        return view


def auto_job_id() -> str:
    """``backup-`` and the first 13 characters of a random UUID (``backup-1a2b3c4d-5e6f``),
    as the GUI makes one (www/manager6 ``panel/BackupAdvancedOptions.js``). The API itself
    uses a bare UUID, which is no valid configuration id when it starts with a digit."""
    return f"backup-{str(uuid.uuid4())[:13]}"


def check_job_id(job_id: str) -> str:
    """pve-configid (``[a-z][a-z0-9_-]+``, any case), at most 50 characters (pve-backup-jobid)."""
    if not _CONFIGID.fullmatch(job_id):
        raise InputError(
            "id",
            job_id,
            "invalid configuration ID (a letter, then letters, digits, '-' or '_')",
        )
    if len(job_id) > 50:
        raise InputError("id", job_id, "longer than 50 characters")
    return job_id


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


def _check_params(params: Mapping[str, str | Sequence[str]]) -> dict[str, str]:
    """Each given option checked and in its file form; ``starttime``/``dow`` kept aside."""
    checked: dict[str, str] = {}
    for key, raw in params.items():
        if key == "exclude-path":
            paths = [raw] if isinstance(raw, str) else list(raw)
            checked[key] = "\n".join(_no_line_feed(key, p) for p in paths if p)
            continue
        if not isinstance(raw, str):
            raise InputError(key, raw, "expected a single value")
        if key in ("starttime", "dow"):
            checked[key] = raw
            continue
        option = OPTIONS.get(key)
        if option is None:
            raise InputError(
                key,
                raw,
                "property is not defined in schema and the schema does not allow "
                "additional properties",
            )
        checked[key] = option.check(key, raw)
    if "comment" in checked:
        checked["comment"] = encode_comment(checked["comment"])
    return checked


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
    if not _STARTTIME.fullmatch(starttime):
        raise InputError("starttime", starttime, "expected HH:MM")
    days = [d for d in _LIST_SPLIT.split((dow or "").strip()) if d]
    for day in days:
        if day not in _DAYS:
            raise InputError("dow", dow, f"invalid day '{day}' (valid: {', '.join(_DAYS)})")
    every_day = not days or ",".join(days) == ",".join(_DAYS)
    schedule = starttime if every_day else f"{','.join(days)} {starttime}"
    params["schedule"] = _schedule("schedule", schedule)


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
    for key in _NEEDS_STORAGE:
        if key in job and "storage" not in job:
            raise InputError("storage", "", f"missing property - '{key}' requires this property")


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
    job = _check_params(given)
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
    given = _check_params(params)
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
