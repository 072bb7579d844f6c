"""Backup retention (``prune-backups``) with the semantics of Proxmox VE.

The backups of one guest are taken newest first. ``keep-last`` runs first, then
``keep-hourly``, ``keep-daily``, ``keep-weekly`` (ISO weeks), ``keep-monthly`` and
``keep-yearly``. Each rule keeps the newest backup of each of its periods, for up to N periods,
and marks the other backups of those periods for removal. A period that already holds a backup
kept by an earlier rule is skipped: it is "already covered", and it does *not* use up one of the
rule's N periods — the rule only looks at older periods (Proxmox's documentation: "keep-daily=13,
together with keep-last, which covers at least one day, ensures at least two weeks"). What no rule
keeps is removed. Protected backups are never removed; they are marked ``protected`` and neither
take a slot of any rule nor cover a period. ``keep-all=1``, or no positive ``keep-*`` at all,
keeps everything.

``keep-last`` counts distinct creation times, as Proxmox does: two backups with the same
timestamp are one "period", and only the first of them (in the sort order) is kept by it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, fields
from datetime import datetime, tzinfo
from typing import Literal

from respaldo.errors import InputError, NoSuchVolume, RespaldoError, StorageError
from respaldo.storage.backups import DirBackupStore

Mark = Literal["keep", "remove", "protected"]

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
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
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
            if value.lower() in _TRUE:
                values[key] = 1
            elif value.lower() in _FALSE:
                values[key] = 0
            else:
                raise InputError(_WHAT, text, f"keep-all must be 0 or 1, not '{value}'")
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


# -- marking ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PruneCandidate:
    id: str
    ctime: int
    protected: bool = False


def _local(ctime: int, tz: tzinfo | None) -> datetime:
    return datetime.fromtimestamp(ctime, tz) if tz is not None else datetime.fromtimestamp(ctime)


def _period_functions(tz: tzinfo | None) -> dict[str, Callable[[int], Hashable]]:
    def hourly(ctime: int) -> Hashable:
        t = _local(ctime, tz)
        return (t.year, t.month, t.day, t.hour)

    def daily(ctime: int) -> Hashable:
        t = _local(ctime, tz)
        return (t.year, t.month, t.day)

    def weekly(ctime: int) -> Hashable:
        iso = _local(ctime, tz).isocalendar()
        return (iso.year, iso.week)

    def monthly(ctime: int) -> Hashable:
        t = _local(ctime, tz)
        return (t.year, t.month)

    def yearly(ctime: int) -> Hashable:
        return _local(ctime, tz).year

    return {
        "keep-last": lambda ctime: ctime,
        "keep-hourly": hourly,
        "keep-daily": daily,
        "keep-weekly": weekly,
        "keep-monthly": monthly,
        "keep-yearly": yearly,
    }


def _apply_rule(
    ordered: list[PruneCandidate],
    marks: dict[str, Mark],
    keep_count: int,
    period: Callable[[int], Hashable],
) -> None:
    covered = {period(c.ctime) for c in ordered if marks.get(c.id) == "keep"}
    included: set[Hashable] = set()
    for candidate in ordered:
        key = period(candidate.ctime)
        if candidate.id in marks or key in covered:
            continue
        if key in included:
            marks[candidate.id] = "remove"
            continue
        if len(included) >= keep_count:
            break
        included.add(key)
        marks[candidate.id] = "keep"


def mark_backups(
    backups: Iterable[PruneCandidate], options: PruneOptions, tz: tzinfo | None = None
) -> dict[str, str]:
    """Mark each backup of one guest ``keep``, ``remove`` or ``protected``.

    Periods are taken in ``tz``, or in the local time zone when it is None. Backups are sorted
    newest first; equal creation times are ordered by id, descending, so the result does not
    depend on the input order.
    """
    candidates = list(backups)
    ids = [c.id for c in candidates]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise InputError("backups", duplicate, "the same backup is listed twice")
    marks: dict[str, Mark] = {c.id: "protected" for c in candidates if c.protected}
    if options.is_keep_all():
        return {c.id: marks.get(c.id, "keep") for c in candidates}
    ordered = sorted(candidates, key=lambda c: (c.ctime, c.id), reverse=True)
    periods = _period_functions(tz)
    for rule in KEEP_RULES:
        count = options.count(rule)
        if count > 0:
            _apply_rule(ordered, marks, count, periods[rule])
    return {c.id: marks.get(c.id, "remove") for c in candidates}


# -- pruning a storage ------------------------------------------------------------------------


@dataclass(frozen=True)
class PruneResult:
    volid: str
    ctime: int
    #: ``keep``, ``remove`` or ``protected``.
    mark: str
    vmid: int
    type: str = "qemu"


def prune(
    store: DirBackupStore,
    vmid: int,
    options: PruneOptions,
    dry_run: bool,
    *,
    subtype: str = "qemu",
    tz: tzinfo | None = None,
    log: Callable[[str], None] | None = None,
) -> list[PruneResult]:
    """Mark the standard-named ``subtype`` backups of ``vmid`` and remove the ``remove`` ones.

    Returns every considered backup with its mark, newest first. Removal goes on past a failure
    (as Proxmox does) and then raises StorageError naming what could not be removed.
    """
    backups = [
        info
        for info in store.list(vmid)
        if info.standard and info.subtype == subtype and info.vmid == vmid
    ]
    marks = mark_backups(
        [PruneCandidate(info.filename, info.ctime, info.protected) for info in backups],
        options,
        tz,
    )
    results = [
        PruneResult(info.volid, info.ctime, marks[info.filename], vmid, subtype) for info in backups
    ]
    if dry_run:
        return results
    failures: list[tuple[str, RespaldoError]] = []
    for info in backups:
        if marks[info.filename] != "remove":
            continue
        if log is not None:
            log(f"removing backup '{info.volid}'")
        try:
            store.remove(info.filename)
        except NoSuchVolume:
            pass  # removed meanwhile: what prune wanted
        except RespaldoError as err:
            failures.append((info.volid, err))
    if failures:
        detail = "; ".join(f"{volid}: {err}" for volid, err in failures)
        raise StorageError(f"error pruning backups of VM {vmid}: {detail}") from failures[0][1]
    return results
