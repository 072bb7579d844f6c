"""vzdump's options: Proxmox's names and defaults, node defaults from ``vzdump.conf``.

Declared once, in :data:`VZDUMP_OPTIONS`; the CLI's arguments, the ``vzdump.conf`` parser, the
API's validation and the backup jobs are built from it. The faces hand in the values as a user
typed them (``--compress zstd``, an API form field, a ``vzdump.conf`` line); this module turns
them into one typed ``VzdumpOptions`` and names every bad value.
"""

from __future__ import annotations

import enum
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import respaldo.config.formats  # noqa: F401  (registers the basic formats)
from respaldo.archive.compress import Compression, parse_compress
from respaldo.config.keyvalue import read_keyvalue
from respaldo.config.prune import PruneOptions, parse_prune_backups
from respaldo.config.schema import (
    FORMATS,
    ParameterError,
    Schema,
    boolean,
    integer,
    parse_property_string,
    print_property_string,
    property_json,
    register_format,
    string,
)
from respaldo.errors import InputError
from respaldo.node import Node
from respaldo.notify.mail import parse_mailto
from respaldo.services.vzdump.notes import check_notes_template


class BackupMode(enum.Enum):
    SNAPSHOT = "snapshot"
    SUSPEND = "suspend"
    STOP = "stop"


class MailNotification(enum.Enum):
    ALWAYS = "always"
    FAILURE = "failure"


@dataclass
class VzdumpOptions:
    vmids: list[int] = field(default_factory=list)
    all: bool = False
    exclude: list[int] = field(default_factory=list)
    #: Back up the guests of this pool (user.cfg); the faces resolve its members into
    #: ``pool_vmids`` (user.cfg belongs to the access layer, beside this one).
    pool: str | None = None
    pool_vmids: list[int] | None = None
    mode: BackupMode = BackupMode.SNAPSHOT
    compress: Compression = Compression.NONE
    zstd: int = 1
    #: gzip threads: 0 = gzip, 1 = pigz on half the cores, N = pigz on N threads.
    pigz: int = 0
    storage: str | None = None
    dumpdir: Path | None = None
    tmpdir: Path | None = None
    #: Write the archive to standard output (CLI only): no storage, no files beside it.
    stdout: bool = False
    #: The descriptor the CLI hands over for ``stdout`` (its standard output, saved).
    stdout_fd: int | None = None
    bwlimit: int = 0  # KiB/s, 0 = unlimited
    ionice: int = 7
    lockwait: int = 180  # minutes
    stopwait: int = 10  # minutes
    script: Path | None = None
    remove: bool = True
    prune_backups: PruneOptions | None = None  # given for this job
    node_prune_backups: PruneOptions | None = None  # vzdump.conf's, below the storage's
    protected: bool = False
    notes_template: str | None = None
    mailto: list[str] = field(default_factory=list)
    mailnotification: MailNotification = MailNotification.ALWAYS
    notification_mode: str = "auto"
    #: ``fleecing``: {"enabled": bool, "storage": str}: where the scratch images go.
    fleecing: dict[str, object] = field(default_factory=dict)
    #: ``performance``: {"max-workers": int, ...}.
    performance: dict[str, object] = field(default_factory=dict)
    #: The backup job this run belongs to (the scheduler's runs; ``job-id``).
    job_id: str | None = None
    #: Options of Proxmox's schema that this job carries without a field of their own
    #: (``stdexcludes``, ``quiet``...), as parsed.
    extra: dict[str, object] = field(default_factory=dict)
    #: What the job logs as warnings when it starts (vzdump.conf's unknown keys and bad values).
    warnings: list[str] = field(default_factory=list)
    #: What the job logs as information when it starts (options given without effect).
    infos: list[str] = field(default_factory=list)
    #: The job's options as given, as Proxmox logs them (see :func:`command_line`).
    cmdline: str = "vzdump"

    def command_line(self) -> str:
        """``vzdump 100 --compress zstd --storage local``: the options given, in the order
        given, so that the line can be run again (pve-guest-common ``command_line``)."""
        return self.cmdline

    @property
    def max_workers(self) -> int:
        """``performance``'s ``max-workers``: how many reads may be in flight (default 16)."""
        value = self.performance.get("max-workers", 16)
        return value if isinstance(value, int) else 16

    @property
    def fleecing_storage(self) -> str | None:
        """The storage of the fleecing images when ``fleecing`` is enabled, else None."""
        if not self.fleecing.get("enabled"):
            return None
        storage = self.fleecing.get("storage")
        return storage if isinstance(storage, str) else None


def _compress(text: str, key: str) -> Compression:
    return parse_compress(text)


def _mailto(text: str, key: str) -> list[str]:
    return parse_mailto(text)


#: ``backup-fleecing`` (pve-guest-common ``PVE/VZDump/Common.pm``).
FLEECING = Schema(
    (
        boolean("enabled", "Enable backup fleecing.", default=False),
        string(
            "storage",
            "Use this storage for the fleecing images.",
            format="pve-storage-id",
        ),
    )
)
#: ``backup-performance``.
PERFORMANCE = Schema(
    (
        integer(
            "max-workers",
            "Applies to VMs. Allow up to this many IO workers at the same time.",
            minimum=1,
            maximum=256,
            default=16,
        ),
        integer(
            "pbs-entries-max",
            "Applies to container backups sent to PBS.",
            minimum=1,
            default=1048576,
        ),
    )
)


def _fleecing(text: str, key: str) -> dict[str, object]:
    """``[enabled=]<bool>[,storage=<storage id>]``; a storage is needed when enabled."""
    values = parse_property_string(text, key, FLEECING, default_key="enabled")
    if values.get("enabled") and "storage" not in values:
        raise InputError(key, text, "'storage' parameter is required when 'enabled' is set")
    return values


def _performance(text: str, key: str) -> dict[str, object]:
    """``max-workers=<1-256>,pbs-entries-max=<n>``."""
    return parse_property_string(text, key, PERFORMANCE)


register_format("vzdump-compress", _compress, "<0 | 1 | gzip | lzo | zstd>")
register_format("email-or-username-list", _mailto, "<email or user list>")
register_format(
    "backup-fleecing",
    _fleecing,
    "[[enabled=]<1|0>] [,storage=<storage ID>]",
    print=lambda values: print_property_string(values, "enabled"),
    json=property_json,
)
register_format(
    "backup-performance",
    _performance,
    "[max-workers=<integer>] [,pbs-entries-max=<integer>]",
    print=print_property_string,
    json=property_json,
)
register_format("vzdump-notes-template", check_notes_template, "<string>")

#: vzdump's options, as pve-guest-common ``PVE/VZDump/Common.pm`` declares them (its
#: ``confdesc``): what ``respaldo vzdump`` takes, what ``vzdump.conf`` may hold, what
#: ``POST /nodes/{node}/vzdump`` and backup jobs accept.
VZDUMP_OPTIONS = Schema(
    (
        string("vmid", "The ID of the guest system you want to backup.", format="pve-vmid-list"),
        string("node", "Only run if executed on this node.", format="pve-node"),
        boolean("all", "Backup all known guest systems on this host.", default=False),
        boolean("stdexcludes", "Exclude temporary files and logs (containers).", default=True),
        string(
            "compress",
            "Compress dump file.",
            format="vzdump-compress",
            enum=("0", "1", "gzip", "lzo", "zstd"),
            default="0",
        ),
        integer(
            "pigz",
            "Use pigz instead of gzip when N>0. N=1 uses half of cores, N>1 uses N as "
            "thread count.",
            minimum=0,
            default=0,
        ),
        integer(
            "zstd",
            "Zstd threads. N=0 uses half of the available cores, N>0 uses N as thread count.",
            minimum=0,
            maximum=256,
            default=1,
        ),
        boolean("quiet", "Be quiet.", default=False),
        string("mode", "Backup mode.", enum=tuple(m.value for m in BackupMode), default="snapshot"),
        string(
            "exclude",
            "Exclude specified guest systems (assumes --all)",
            format="pve-vmid-list",
        ),
        string(
            "exclude-path",
            "Exclude certain files/directories (shell globs; containers only).",
        ),
        string(
            "mailto",
            "Deprecated: use notification targets/matchers instead. Comma-separated list of "
            "email addresses that should receive email notifications.",
            format="email-or-username-list",
        ),
        string(
            "mailnotification",
            "Deprecated: use notification targets/matchers instead. When to send a mail.",
            enum=tuple(m.value for m in MailNotification),
            default="always",
        ),
        string(
            "notification-mode",
            "Which notification system to use: legacy-sendmail (mailto/mailnotification), "
            "notification-system, or auto (mail if mailto is set).",
            enum=("auto", "legacy-sendmail", "notification-system"),
            default="auto",
        ),
        string(
            "notification-policy",
            "Deprecated: do not use.",
            enum=("always", "failure", "never"),
            deprecated=True,
        ),
        string(
            "notification-target",
            "Deprecated: do not use.",
            format="pve-configid",
            deprecated=True,
        ),
        string("tmpdir", "Store temporary files to specified directory.", root_only=True),
        string("dumpdir", "Store resulting files to specified directory.", root_only=True),
        string("script", "Use specified hook script.", root_only=True),
        string("storage", "Store resulting file to this storage.", format="pve-storage-id"),
        boolean("stop", "Stop running backup jobs on this host.", default=False),
        integer("bwlimit", "Limit I/O bandwidth (in KiB/s).", minimum=0, default=0),
        integer(
            "ionice",
            "Set IO priority: 8 means the idle class, otherwise best-effort with this value.",
            minimum=0,
            maximum=8,
            default=7,
        ),
        string("performance", "Other performance-related settings.", format="backup-performance"),
        integer(
            "lockwait",
            "Maximal time to wait for the global lock (minutes).",
            minimum=0,
            default=180,
        ),
        integer(
            "stopwait",
            "Maximal time to wait until a guest system is stopped (minutes).",
            minimum=0,
            default=10,
        ),
        integer(
            "maxfiles",
            "Deprecated: use 'prune-backups' instead. Maximal number of backup files per guest.",
            minimum=1,
            deprecated=True,
        ),
        string(
            "prune-backups",
            "Use these retention options instead of those from the storage configuration.",
            format="prune-backups",
            default="keep-all=1",
        ),
        boolean("remove", "Prune older backups according to 'prune-backups'.", default=True),
        string("pool", "Backup all known guest systems included in the specified pool."),
        string(
            "notes-template",
            "Template string for generating notes for the backup(s). Variables: "
            "{{cluster}}, {{guestname}}, {{node}}, {{vmid}}. A single line; newline and "
            "backslash escaped as '\\n' and '\\\\'.",
            format="vzdump-notes-template",
            max_length=1024,
            requires="storage",
        ),
        boolean("protected", "If true, mark backup(s) as protected.", requires="storage"),
        string(
            "fleecing",
            "Options for backup fleecing (VM only).",
            format="backup-fleecing",
        ),
        string(
            "pbs-change-detection-mode",
            "PBS mode used to detect file changes (containers to PBS only).",
            enum=("legacy", "data", "metadata"),
        ),
        string(
            "job-id",
            "The ID of the backup job: the notification's 'job-id' field. Only root@pam can "
            "set it.",
            pattern=r"\S+",
            max_length=50,
            root_only=True,
        ),
    ),
    description="Create backup.",
    unknown_what="vzdump option",
)

#: ``POST /nodes/{node}/vzdump`` and ``respaldo vzdump``: the options plus ``stdout``
#: (pve-manager ``PVE/API2/VZDump.pm``), which only the CLI may set.
VZDUMP_PARAMS = VZDUMP_OPTIONS.extend(
    boolean("stdout", "Write the archive to stdout, not to a file (CLI only).", default=False),
)

#: Options respaldo accepts for compatibility without acting on them, and why: logged when
#: given for a job (as in Proxmox, they change nothing for a VM).
NO_EFFECT = {
    "stdexcludes": "applies to containers only",
    "exclude-path": "applies to containers only",
    "pbs-change-detection-mode": "applies to container backups to a Proxmox Backup Server",
    "notification-policy": "deprecated, without effect in Proxmox too",
    "notification-target": "deprecated, without effect in Proxmox too",
}
#: Options that never reach the command line Proxmox logs (pve-guest-common ``command_line``).
_NOT_LOGGED = ("vmid", "stdout", "job-id")
#: Where the node defaults come from, as messages name it.
VZDUMP_CONF = "vzdump.conf"


#: Fields of VzdumpOptions that no option sets.
_NOT_OPTIONS = ("extra", "warnings", "infos", "cmdline", "pool_vmids", "stdout_fd")


def _set(opts: VzdumpOptions, key: str, value: object) -> None:
    attr = key.replace("-", "_")
    if key == "vmid":
        opts.vmids = value  # type: ignore[assignment]
    elif key == "mode":
        opts.mode = BackupMode(value)
    elif key == "mailnotification":
        opts.mailnotification = MailNotification(value)
    elif key in ("dumpdir", "tmpdir", "script"):
        setattr(opts, attr, Path(str(value)))
    elif hasattr(opts, attr) and key not in _NOT_OPTIONS:
        setattr(opts, attr, value)
    else:
        opts.extra[key] = value


def node_defaults(node: Node) -> dict[str, str]:
    """``vzdump.conf``'s ``option: value`` lines (absent file: no defaults)."""
    if not node.vzdump_conf.exists():
        return {}
    return read_keyvalue(node.vzdump_conf, sections=False).main.as_dict()


def _shown(key: str, value: object, text: object) -> str:
    """A checked value as Proxmox prints it in the command line: booleans as 1/0, property
    strings and lists by their format's printer, anything else as given (``text``)."""
    param = VZDUMP_PARAMS.find(key)
    fmt = FORMATS.get(param.format or "") if param is not None else None
    if key == "mailto" and isinstance(value, list):
        return ",".join(str(v) for v in value)
    if fmt is not None and fmt.print is not None:
        return fmt.print(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(text)


def command_line(typed: Mapping[str, object], given: Mapping[str, object]) -> str:
    """The job as Proxmox logs it: ``vzdump <vmids> --<option> <value>...``, the options
    given (checked, in the order given) and shell-quoted, so that the line runs again
    (pve-guest-common ``PVE/VZDump/Common.pm`` ``command_line``)."""
    parts = ["vzdump"]
    vmids = typed.get("vmid")
    if isinstance(vmids, list):
        parts += [str(vmid) for vmid in vmids]
    for key, value in typed.items():
        if key in _NOT_LOGGED:
            continue
        text = _shown(key, value, given.get(key, value))
        if text != "":
            parts += [f"--{key}", shlex.quote(text)]
    return " ".join(parts)


def _check_given(typed: dict[str, object]) -> None:
    """pve-manager ``verify_vzdump_parameters``: what may not be given together, and
    ``exclude`` implying ``all``. Raises ParameterError naming each refused option."""
    errors: dict[str, InputError] = {}
    if "vmid" in typed:
        for key in ("all", "exclude", "pool"):
            if typed.get(key):
                reason = "option conflicts with option 'vmid'"
                errors[key] = InputError(key, typed[key], reason)
    if "prune-backups" in typed and "maxfiles" in typed:
        reason = "option conflicts with option 'maxfiles'"
        errors["prune-backups"] = InputError("prune-backups", typed["prune-backups"], reason)
    if errors:
        raise ParameterError(errors)
    if "exclude" in typed and not typed.get("pool"):
        typed["all"] = True
    if not (typed.get("all") or typed.get("stop") or typed.get("pool") or typed.get("vmid")):
        raise ParameterError({"vmid": InputError("vmid", None, "property is missing")})


def _maxfiles(value: object) -> PruneOptions:
    """Proxmox 8's deprecated ``maxfiles``: ``keep-last=<n>`` (0: keep all)."""
    count = value if isinstance(value, int) else 0
    return parse_prune_backups(f"keep-last={count}" if count else "keep-all=1")


def _typed_defaults(defaults: Mapping[str, str], warnings: list[str]) -> dict[str, object]:
    """``vzdump.conf``'s lines, typed. As Proxmox reads it (pve-common ``parse_config``), a
    bad value is a warning and its key is ignored; an unknown key is a warning too; a
    default needs none of the options its ``requires`` names."""
    typed: dict[str, object] = {}
    for key, value in defaults.items():
        param = VZDUMP_OPTIONS.find(key)
        if param is None:
            warnings.append(f"{VZDUMP_CONF}: ignoring unknown option '{key}'")
            continue
        try:
            typed[key] = param.parse(value, key)
        except InputError as err:
            warnings.append(f"parse error in '{VZDUMP_CONF}' - '{key}': {err.reason}")
    if "storage" in typed and "dumpdir" in typed:
        warnings.append(
            f"both 'storage' and 'dumpdir' defined in '{VZDUMP_CONF}' - ignoring 'dumpdir'"
        )
        del typed["dumpdir"]
    if "maxfiles" in typed:
        maxfiles = typed.pop("maxfiles")
        if "prune-backups" in typed:
            warnings.append(
                f"both 'maxfiles' and 'prune-backups' defined as options in '{VZDUMP_CONF}' "
                "- ignoring 'maxfiles'"
            )
        else:
            typed["prune-backups"] = _maxfiles(maxfiles)
    return typed


def parse_options(given: Mapping[str, str], defaults: Mapping[str, str]) -> VzdumpOptions:
    """Options as given, over the node defaults (``vzdump.conf``), over Proxmox's built-in
    defaults.

    The given options are checked strictly (a ParameterError names every bad one, as
    Proxmox's API does); the defaults leniently (warnings of the job, kept in
    ``warnings``). ``exclude`` implies ``all``; ``maxfiles`` becomes ``keep-last``.
    """
    typed = VZDUMP_PARAMS.parse(given, partial=True)
    _check_given(typed)
    opts = VzdumpOptions(cmdline=command_line(typed, given))
    node = _typed_defaults(defaults, opts.warnings)
    if "storage" in typed or "dumpdir" in typed or typed.get("stdout"):
        # The target given for the job replaces the node's default target, whichever it is.
        node.pop("storage", None)
        node.pop("dumpdir", None)
    node_prune = node.pop("prune-backups", None)
    if isinstance(node_prune, PruneOptions) and "prune-backups" not in typed:
        opts.node_prune_backups = node_prune
    if "maxfiles" in typed:
        typed["prune-backups"] = _maxfiles(typed.pop("maxfiles"))
    for key in ("vmid", "all", "exclude", "pool", "node", "stop", "quiet", "stdout"):
        node.pop(key, None)  # what the job does is the invocation's to say, as Proxmox's
    if "dumpdir" in node or "dumpdir" in typed or typed.get("stdout"):
        # Proxmox drops these defaults when the target is not a storage.
        node.pop("notes-template", None)
        node.pop("protected", None)
    for key, value in {**node, **typed}.items():
        _set(opts, key, value)
    for key in typed:
        if key in NO_EFFECT:
            opts.infos.append(f"option '{key}' {NO_EFFECT[key]}: it has no effect here")
    for other in ("stdout", "dumpdir"):
        if opts.storage and getattr(opts, other):
            reason = f"cannot use options 'storage' and '{other}' at the same time"
            raise InputError(other, given.get(other, "1"), reason)
    return opts
