"""The ``prune-backups`` property string: retention options as Proxmox spells them.

``keep-all=<0|1>,keep-last=N,keep-hourly=N,keep-daily=N,keep-weekly=N,keep-monthly=N,
keep-yearly=N`` (pve-storage ``PVE/Storage/Plugin.pm``, ``prune-backups`` format). What the
options mean, the marking of backups, lives in :mod:`respaldo.services.prune`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from respaldo.config.schema import Schema, boolean, integer, parse_property_string
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


#: The keys of the ``prune-backups`` property string (pve-storage ``prune-backups`` format).
PRUNE_SCHEMA = Schema(
    (
        boolean("keep-all", "Keep all backups. Conflicts with the other options when true."),
        *(
            integer(rule, f"Keep the backups of the last N {period}.", minimum=0)
            for rule, period in zip(
                KEEP_RULES,
                ("backups", "hours", "days", "weeks", "months", "years"),
                strict=True,
            )
        ),
    ),
    "Retention options.",
)


def parse_prune_backups(text: str) -> PruneOptions:
    """Parse Proxmox's ``keep-last=3,keep-daily=7``; an empty string means keep all.

    Raises InputError named ``prune-backups`` with the text as its value (``keep-last:
    value must have a minimum value of 0``, ``unknown key 'keep-lats'``...)."""
    parsed = parse_property_string(text, _WHAT, PRUNE_SCHEMA)
    values = {key: int(value) for key, value in parsed.items() if isinstance(value, int)}
    if values.get("keep-all") and any(values.get(rule, 0) for rule in KEEP_RULES):
        raise InputError(_WHAT, text, _KEEP_ALL_CONFLICT)
    return PruneOptions(**{_attr(key): value for key, value in values.items()}).normalized()


def prune_json(options: PruneOptions) -> dict[str, int]:
    """The options as the API returns them: ``{"keep-last": 3, "keep-daily": 7}``."""
    return {
        option: getattr(options, _attr(option))
        for option in sorted(OPTION_NAMES)
        if getattr(options, _attr(option)) is not None
    }


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
