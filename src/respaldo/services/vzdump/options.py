"""vzdump's options: Proxmox's names and defaults, node defaults from ``vzdump.conf``.

The faces hand in ``dict[str, str]`` as a user typed them (``--compress zstd``, an API form
field, a ``vzdump.conf`` line); this module turns them into one typed ``VzdumpOptions`` and
names every bad value.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from respaldo.archive.compress import Compression, parse_compress
from respaldo.config.ids import check_storage_id, check_vmid, is_decimal
from respaldo.config.keyvalue import read_keyvalue
from respaldo.errors import InputError
from respaldo.node import Node
from respaldo.notify.mail import parse_mailto
from respaldo.services.prune import PruneOptions, parse_prune_backups


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


_BOOL = {"0": False, "1": True}
_LIST_SPLIT = re.compile(r"[,;\s]+")


def _bool(name: str, value: str) -> bool:
    if value not in _BOOL:
        raise InputError(name, value, "expected 0 or 1")
    return _BOOL[value]


def _int(name: str, value: str, low: int, high: int | None = None) -> int:
    if not is_decimal(value) or int(value) < low or (high is not None and int(value) > high):
        limit = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InputError(name, value, f"expected a whole number {limit}")
    return int(value)


def _vmids(name: str, value: str) -> list[int]:
    return [check_vmid(part) for part in _LIST_SPLIT.split(value.strip()) if part]


def _enum(name: str, value: str, kind: type[BackupMode] | type[MailNotification]) -> enum.Enum:
    try:
        return kind(value)
    except ValueError as err:
        valid = ", ".join(m.value for m in kind)
        raise InputError(name, value, f"expected one of {valid}") from err


_Setter = Callable[[VzdumpOptions, str, str], None]
_SETTERS: dict[str, _Setter] = {
    "vmid": lambda o, k, v: setattr(o, "vmids", _vmids(k, v)),
    "all": lambda o, k, v: setattr(o, "all", _bool(k, v)),
    "exclude": lambda o, k, v: setattr(o, "exclude", _vmids(k, v)),
    "mode": lambda o, k, v: setattr(o, "mode", _enum(k, v, BackupMode)),
    "compress": lambda o, k, v: setattr(o, "compress", parse_compress(v)),
    "zstd": lambda o, k, v: setattr(o, "zstd", _int(k, v, 0, 256)),
    "storage": lambda o, k, v: setattr(o, "storage", check_storage_id(v)),
    "dumpdir": lambda o, k, v: setattr(o, "dumpdir", Path(v)),
    "tmpdir": lambda o, k, v: setattr(o, "tmpdir", Path(v)),
    "bwlimit": lambda o, k, v: setattr(o, "bwlimit", _int(k, v, 0)),
    "ionice": lambda o, k, v: setattr(o, "ionice", _int(k, v, 0, 8)),
    "lockwait": lambda o, k, v: setattr(o, "lockwait", _int(k, v, 0)),
    "stopwait": lambda o, k, v: setattr(o, "stopwait", _int(k, v, 0)),
    "script": lambda o, k, v: setattr(o, "script", Path(v)),
    "remove": lambda o, k, v: setattr(o, "remove", _bool(k, v)),
    "prune-backups": lambda o, k, v: setattr(o, "prune_backups", parse_prune_backups(v)),
    "protected": lambda o, k, v: setattr(o, "protected", _bool(k, v)),
    "notes-template": lambda o, k, v: setattr(o, "notes_template", v),
    "mailto": lambda o, k, v: setattr(o, "mailto", parse_mailto(v)),
    "mailnotification": lambda o, k, v: setattr(
        o, "mailnotification", _enum(k, v, MailNotification)
    ),
    # Accepted for compatibility with Proxmox's command line; nothing to do here.
    "node": lambda o, k, v: None,
    "quiet": lambda o, k, v: None,
}


def _apply(opts: VzdumpOptions, key: str, value: str) -> None:
    setter = _SETTERS.get(key)
    if setter is None:
        valid = ", ".join(_SETTERS)
        raise InputError("option", key, f"unknown vzdump option (valid: {valid})")
    setter(opts, key, value)


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
        opts.node_prune_backups = parse_prune_backups(node_prune)
    for key, value in {**node, **given}.items():
        _apply(opts, key, value)
    if opts.all and opts.vmids:
        raise InputError("vmid", " ".join(map(str, opts.vmids)), "give VMIDs or --all 1, not both")
    if not opts.all and not opts.vmids:
        raise InputError("vmid", "", "give at least one VMID, or --all 1")
    if opts.exclude and not opts.all:
        raise InputError("exclude", ",".join(map(str, opts.exclude)), "only valid with --all 1")
    if opts.storage and opts.dumpdir:
        raise InputError("dumpdir", str(opts.dumpdir), "give --storage or --dumpdir, not both")
    return opts
