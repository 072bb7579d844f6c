"""vzdump's options: Proxmox's names and defaults, node defaults from ``vzdump.conf``.

Declared once, in :data:`VZDUMP_OPTIONS`; the CLI's arguments, the ``vzdump.conf`` parser, the
API's validation and the backup jobs are built from it. The faces hand in the values as a user
typed them (``--compress zstd``, an API form field, a ``vzdump.conf`` line); this module turns
them into one typed ``VzdumpOptions`` and names every bad value.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import respaldo.config.formats  # noqa: F401  (registers the basic formats)
from respaldo.archive.compress import Compression, parse_compress
from respaldo.config.keyvalue import read_keyvalue
from respaldo.config.prune import PruneOptions, parse_prune_backups
from respaldo.config.schema import (
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
    mode: BackupMode = BackupMode.SNAPSHOT
    compress: Compression = Compression.NONE
    zstd: int = 1
    storage: str | None = None
    dumpdir: Path | None = None
    tmpdir: Path | None = None
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
    #: The backup job this run belongs to (the scheduler's runs; ``job-id``).
    job_id: str | None = None
    #: Options of Proxmox's schema that this job carries without a field of their own
    #: (``pigz``, ``fleecing``, ``performance``...), as parsed.
    extra: dict[str, object] = field(default_factory=dict)
    #: What the job logs as warnings when it starts (unknown keys of vzdump.conf).
    warnings: list[str] = field(default_factory=list)

    def command_line(self) -> str:
        """How Proxmox logs the job: ``vzdump 100 101 --mode snapshot --compress zstd ...``."""
        parts = ["vzdump", *map(str, self.vmids)]
        if self.all:
            parts.append("--all 1")
        parts += [f"--mode {self.mode.value}", f"--compress {self.compress.value}"]
        if self.storage:
            parts.append(f"--storage {self.storage}")
        if self.mailto:
            parts.append(f"--mailto {','.join(self.mailto)}")
        return " ".join(parts)


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
_NOTES_VARIABLES = frozenset({"cluster", "guestname", "node", "vmid"})


def _fleecing(text: str, key: str) -> dict[str, object]:
    """``[enabled=]<bool>[,storage=<storage id>]``; a storage is needed when enabled."""
    values = parse_property_string(text, key, FLEECING, default_key="enabled")
    if values.get("enabled") and "storage" not in values:
        raise InputError(key, text, "'storage' parameter is required when 'enabled' is set")
    return values


def _performance(text: str, key: str) -> dict[str, object]:
    """``max-workers=<1-256>,pbs-entries-max=<n>``."""
    return parse_property_string(text, key, PERFORMANCE)


def _notes_template(text: str, key: str) -> str:
    """pve-manager ``PVE/VZDump.pm`` ``verify_notes_template``: only the escapes ``\\n``
    and ``\\\\``, only the variables {{cluster}}, {{guestname}}, {{node}}, {{vmid}}."""
    if "\n" in text or "\r" in text:
        raise InputError(key, text, "contains a line feed (a template is one line)")
    problems = [
        f"escape sequence '\\{m.group(1)}' at char {m.start()}"
        for m in re.finditer(r"\\(.)", text)
        if m.group(1) not in ("n", "\\")
    ]
    problems += [
        f"variable '{m.group(1)}' at char {m.start(1)}"
        for m in re.finditer(r"\{\{([^\s{}]+)\}\}", text)
        if m.group(1) not in _NOTES_VARIABLES
    ]
    if problems:
        raise InputError(key, text, f"found unknown: {', '.join(problems)}")
    return text


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
register_format("vzdump-notes-template", _notes_template, "<string>")

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

#: Options respaldo accepts for compatibility without acting on them, and why.
NO_EFFECT = {
    "stdexcludes": "applies to containers only",
    "exclude-path": "applies to containers only",
    "pbs-change-detection-mode": "applies to container backups to a Proxmox Backup Server",
    "notification-policy": "deprecated, without effect in Proxmox too",
    "notification-target": "deprecated, without effect in Proxmox too",
    "quiet": "the log is always written",
    "node": "this node is the only one",
}


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
    elif hasattr(opts, attr):
        setattr(opts, attr, value)
    else:
        opts.extra[key] = value


def node_defaults(node: Node) -> dict[str, str]:
    """``vzdump.conf``'s ``option: value`` lines (absent file: no defaults)."""
    if not node.vzdump_conf.exists():
        return {}
    return read_keyvalue(node.vzdump_conf, sections=False).main.as_dict()


def parse_options(given: Mapping[str, str], defaults: Mapping[str, str]) -> VzdumpOptions:
    """Options as given, over the node defaults, over Proxmox's built-in defaults."""
    opts = VzdumpOptions()
    node = dict(defaults)
    if "storage" in given or "dumpdir" in given:
        # The target given for the job replaces the node's default target, whichever it is.
        node.pop("storage", None)
        node.pop("dumpdir", None)
    node_prune = node.pop("prune-backups", None)
    if node_prune is not None and "prune-backups" not in given:
        opts.node_prune_backups = parse_prune_backups(str(node_prune))

    # vzdump.conf holds defaults: a key there needs no other (notes-template without storage)
    def unknown(key: str, value: object) -> None:
        opts.warnings.append(f"vzdump.conf: ignoring unknown option '{key}'")

    typed = VZDUMP_OPTIONS.parse(node, partial=True, requires=False, unknown=unknown)
    typed.update(VZDUMP_OPTIONS.parse(given, partial=True))
    for key, value in typed.items():
        _set(opts, key, value)
    if opts.all and opts.vmids:
        raise InputError("vmid", " ".join(map(str, opts.vmids)), "give VMIDs or --all 1, not both")
    if not opts.all and not opts.vmids:
        raise InputError("vmid", "", "give at least one VMID, or --all 1")
    if opts.exclude and not opts.all:
        raise InputError("exclude", ",".join(map(str, opts.exclude)), "only valid with --all 1")
    if opts.storage and opts.dumpdir:
        raise InputError("dumpdir", str(opts.dumpdir), "give --storage or --dumpdir, not both")
    return opts
