"""The ``prune-backups`` property string: retention options as Proxmox spells them.

``keep-all=<0|1>,keep-last=N,keep-hourly=N,keep-daily=N,keep-weekly=N,keep-monthly=N,
keep-yearly=N`` (pve-storage ``PVE/Storage/Plugin.pm``, ``prune-backups`` format). What the
options mean, the marking of backups, lives in :mod:`respaldo.services.prune`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from respaldo.config.scalars import parse_boolean
from respaldo.errors import InputError

#: In the order Proxmox applies them.
KEEP_RULES = (
    "keep-last",
    "keep-hourly",
    "keep-daily",
    "keep-weekly",
    "keep-monthly",
    "keep-yearly",
)
OPTION_NAMES = ("keep-all", *KEEP_RULES)
_WHAT = "prune-backups"
_COUNT = re.compile(r"[0-9]+", re.ASCII)
_KEEP_ALL_CONFLICT = "keep-all cannot be set together with other options"


def _attr(option: str) -> str:
    return option.replace("-", "_")


@dataclass(frozen=True)
class PruneOptions:
    """Retention options; ``None`` means not set. ``keep_all`` is 0 or 1."""

    keep_all: int | None = None
    keep_last: int | None = None
    keep_hourly: int | None = None
    keep_daily: int | None = None
    keep_weekly: int | None = None
    keep_monthly: int | None = None
    keep_yearly: int | None = None

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            option = field.name.replace("_", "-")
            if value is None:
                continue
            if field.name != "keep_all" and isinstance(value, bool):
                raise InputError(_WHAT, value, f"{option} must be a whole number")
            if not isinstance(value, int):
                raise InputError(_WHAT, value, f"{option} must be a whole number")
            if field.name == "keep_all":
                if value not in (0, 1):
                    raise InputError(_WHAT, value, "keep-all must be 0 or 1")
            elif value < 0:
                raise InputError(_WHAT, value, f"{option} must be 0 or more")
        if self.keep_all and self.positive():
            raise InputError(_WHAT, format_prune_backups(self, normalize=False), _KEEP_ALL_CONFLICT)

    def count(self, option: str) -> int:
        """The value of a ``keep-*`` rule, 0 when not set."""
        value = getattr(self, _attr(option))
        return int(value or 0)

    def positive(self) -> dict[str, int]:
        """The ``keep-*`` rules with a value above 0, in Proxmox's order."""
        return {rule: self.count(rule) for rule in KEEP_RULES if self.count(rule) > 0}

    def is_keep_all(self) -> bool:
        """True for ``keep-all=1`` and when no ``keep-*`` rule is above 0 (Proxmox keeps all)."""
        return bool(self.keep_all) or not self.positive()

    def normalized(self) -> PruneOptions:
        """As Proxmox stores them: ``keep-all=1`` alone, or the ``keep-*`` values given."""
        if self.is_keep_all():
            return PruneOptions(keep_all=1)
        values = {_attr(rule): getattr(self, _attr(rule)) for rule in KEEP_RULES}
        return PruneOptions(**values)


def parse_prune_backups(text: str) -> PruneOptions:
    """Parse Proxmox's ``keep-last=3,keep-daily=7``; an empty string means keep all."""
    values: dict[str, int] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key or not value:
            raise InputError(_WHAT, text, f"'{part}' is not key=value")
        if key not in OPTION_NAMES:
            valid = ", ".join(OPTION_NAMES)
            raise InputError(_WHAT, text, f"unknown option '{key}' (valid: {valid})")
        if key in values:
            raise InputError(_WHAT, text, f"duplicate option '{key}'")
        if key == "keep-all":
            flag = parse_boolean(value)
            if flag is None:
                raise InputError(_WHAT, text, f"keep-all must be 0 or 1, not '{value}'")
            values[key] = int(flag)
        elif _COUNT.fullmatch(value):
            values[key] = int(value)
        else:
            raise InputError(_WHAT, text, f"{key} must be a whole number >= 0, not '{value}'")
    if values.get("keep-all") and any(values.get(rule, 0) > 0 for rule in KEEP_RULES):
        raise InputError(_WHAT, text, _KEEP_ALL_CONFLICT)
    return PruneOptions(**{_attr(key): value for key, value in values.items()}).normalized()


def format_prune_backups(options: PruneOptions, *, normalize: bool = True) -> str:
    """The property string, keys sorted by name as Proxmox prints them.

    Normalized (the default) as Proxmox stores it: ``keep-all=1`` when everything is kept.
    """
    if normalize:
        options = options.normalized()
    parts = [
        f"{option}={getattr(options, _attr(option))}"
        for option in sorted(OPTION_NAMES)
        if getattr(options, _attr(option)) is not None
    ]
    return ",".join(parts)
