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

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Literal

from respaldo.config.prune import (
    KEEP_RULES,
    PruneOptions,
)
from respaldo.errors import InputError, NoSuchVolume, RespaldoError, StorageError
from respaldo.storage.backupstore import BackupStore

Mark = Literal["keep", "remove", "protected"]


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


@dataclass(frozen=True)
class PruneMark:
    """A backup's mark and why: ``reason`` names the rule that kept it and which of the
    rule's periods it fills (``keep-daily: 2``: the second day keep-daily keeps), or
    ``protected``, or ``keep-all``; None for a backup to remove."""

    mark: Mark
    reason: str | None = None


def _apply_rule(
    ordered: list[PruneCandidate],
    marks: dict[str, PruneMark],
    rule: str,
    keep_count: int,
    period: Callable[[int], Hashable],
) -> None:
    covered = {period(c.ctime) for c in ordered if _kept(marks.get(c.id))}
    included: set[Hashable] = set()
    for candidate in ordered:
        key = period(candidate.ctime)
        if candidate.id in marks or key in covered:
            continue
        if key in included:
            marks[candidate.id] = PruneMark("remove")
            continue
        if len(included) >= keep_count:
            break
        included.add(key)
        marks[candidate.id] = PruneMark("keep", f"{rule}: {len(included)}")


def _kept(mark: PruneMark | None) -> bool:
    return mark is not None and mark.mark == "keep"


def explain_backups(
    backups: Iterable[PruneCandidate], options: PruneOptions, tz: tzinfo | None = None
) -> dict[str, PruneMark]:
    """Mark each backup of one guest ``keep``, ``remove`` or ``protected``, with the rule
    that kept it (:class:`PruneMark`).

    Periods are taken in ``tz``, or in the local time zone when it is None. Backups are sorted
    newest first; equal creation times are ordered by id, descending, so the result does not
    depend on the input order. Raises InputError for a backup listed twice.
    """
    candidates = list(backups)
    ids = [c.id for c in candidates]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise InputError("backups", duplicate, "the same backup is listed twice")
    marks = {c.id: PruneMark("protected", "protected") for c in candidates if c.protected}
    if options.is_keep_all():
        return {c.id: marks.get(c.id, PruneMark("keep", "keep-all")) for c in candidates}
    ordered = sorted(candidates, key=lambda c: (c.ctime, c.id), reverse=True)
    periods = _period_functions(tz)
    for rule in KEEP_RULES:
        count = options.count(rule)
        if count > 0:
            _apply_rule(ordered, marks, rule, count, periods[rule])
    return {c.id: marks.get(c.id, PruneMark("remove")) for c in candidates}


def mark_backups(
    backups: Iterable[PruneCandidate], options: PruneOptions, tz: tzinfo | None = None
) -> dict[str, str]:
    """Each backup's mark alone (:func:`explain_backups`)."""
    return {key: mark.mark for key, mark in explain_backups(backups, options, tz).items()}


# -- pruning a storage ------------------------------------------------------------------------


@dataclass(frozen=True)
class PruneResult:
    volid: str
    ctime: int
    #: ``keep``, ``remove`` or ``protected``.
    mark: str
    vmid: int
    type: str = "qemu"
    #: The rule that kept it (``keep-daily: 2``), ``protected``, ``keep-all``, or None.
    reason: str | None = None


def prune(
    store: BackupStore,
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
    marks = explain_backups(
        [PruneCandidate(info.filename, info.ctime, info.protected) for info in backups],
        options,
        tz,
    )
    results = [
        PruneResult(
            info.volid,
            info.ctime,
            marks[info.filename].mark,
            vmid,
            subtype,
            marks[info.filename].reason,
        )
        for info in backups
    ]
    if dry_run:
        return results
    failures: list[tuple[str, RespaldoError]] = []
    for info in backups:
        if marks[info.filename].mark != "remove":
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
