from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from respaldo.config.prune import (
    KEEP_RULES,
    PruneOptions,
    format_prune_backups,
    parse_prune_backups,
)
from respaldo.errors import InputError, StorageError
from respaldo.services.prune import PruneCandidate, PruneResult, mark_backups, prune
from respaldo.storage.backups import backup_filename, parse_backup_name
from respaldo.storage.backupstore import BackupStore
from tests.conftest import local_tz
from tests.unit.conftest import Dump


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


def marks_of(backups: list[PruneCandidate], text: str, tz: timezone = UTC) -> dict[str, str]:
    return dict(mark_backups(backups, parse_prune_backups(text), tz))


def kept(marks: Mapping[str, str]) -> set[str]:
    return {key for key, mark in marks.items() if mark == "keep"}


# -- the property string ----------------------------------------------------------------------


def test_parse_and_format() -> None:
    options = parse_prune_backups("keep-last=3,keep-daily=7")
    assert options == PruneOptions(keep_last=3, keep_daily=7)
    assert not options.is_keep_all()
    assert format_prune_backups(options) == "keep-daily=7,keep-last=3"
    assert options.positive() == {"keep-last": 3, "keep-daily": 7}


@pytest.mark.parametrize(
    "text", ["", "keep-all=1", "keep-all=yes", "keep-last=0", "keep-last=0,keep-daily=0", " , "]
)
def test_keep_all_forms(text: str) -> None:
    options = parse_prune_backups(text)
    assert options == PruneOptions(keep_all=1)
    assert options.is_keep_all()
    assert format_prune_backups(options) == "keep-all=1"


def test_keep_all_off_with_rules_is_dropped() -> None:
    options = parse_prune_backups("keep-all=0,keep-weekly=4,keep-hourly=0")
    assert options == PruneOptions(keep_weekly=4, keep_hourly=0)
    assert format_prune_backups(options) == "keep-hourly=0,keep-weekly=4"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("keep-all=1,keep-last=2", "keep-all cannot be set together"),
        ("keep-last=3,keep-lats=2", "unknown key 'keep-lats'"),
        ("keep-last=3,keep-last=4", "duplicate key 'keep-last'"),
        ("keep-last=-1", "keep-last: value must have a minimum value of 0"),
        ("keep-daily=two", "keep-daily: type check ('integer') failed - got 'two'"),
        ("keep-daily=1.5", "keep-daily: type check ('integer') failed"),
        ("keep-last", "'keep-last' has no 'key='"),
        ("keep-last=", "keep-last: type check ('integer') failed - got ''"),
        ("keep-all=maybe", "keep-all: expected a boolean"),
    ],
)
def test_bad_property_strings_name_the_part(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse_prune_backups(text)
    assert info.value.name == "prune-backups" and info.value.value == text
    assert fragment in info.value.reason


def test_options_check_themselves() -> None:
    with pytest.raises(InputError):
        PruneOptions(keep_last=-1)
    with pytest.raises(InputError):
        PruneOptions(keep_all=2)
    with pytest.raises(InputError):
        PruneOptions(keep_all=1, keep_yearly=1)
    assert PruneOptions().is_keep_all()
    assert PruneOptions(keep_all=0, keep_last=0).is_keep_all()


option_values = st.one_of(st.none(), st.integers(min_value=0, max_value=50))


@given(st.fixed_dictionaries({rule.replace("-", "_"): option_values for rule in KEEP_RULES}))
def test_format_parse_round_trip(values: dict[str, int | None]) -> None:
    options = PruneOptions(**values)
    text = format_prune_backups(options)
    assert parse_prune_backups(text) == options.normalized()
    assert format_prune_backups(parse_prune_backups(text)) == text


# -- marking: Proxmox's own test scenario (pve-storage prune_backups_test, in UTC) -----------

BASE = 1577881101  # 2020-01-01 12:18:21 UTC
SCENARIO = [
    PruneCandidate("2018-05-26 11:18", BASE - 585 * 86400 - 3600),
    PruneCandidate("2019-12-31 11:18", BASE - 86400 - 3600),
    PruneCandidate("2019-12-31 11:18:51 protected", BASE - 86400 - 3600 + 30, protected=True),
    PruneCandidate("2019-12-31 11:19", BASE - 86400 - 3600 + 60),
    PruneCandidate("2020-01-01 11:18", BASE - 3600),
    PruneCandidate("2020-01-01 12:18", BASE),
]
UNPROTECTED = [c.id for c in SCENARIO if not c.protected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("keep-last=3", "remove remove keep keep keep"),
        # 2019-12-31 and 2020-01-01 are both in ISO week 1 of 2020.
        ("keep-weekly=2", "keep remove remove remove keep"),
        ("keep-hourly=0,keep-daily=1,keep-weekly=1,keep-monthly=1", "keep remove keep remove keep"),
        ("keep-hourly=4,keep-daily=0", "keep remove keep keep keep"),
        ("keep-yearly=2", "remove remove keep remove keep"),
        ("keep-last=2,keep-hourly=2", "keep remove keep keep keep"),
        ("keep-last=1,keep-monthly=2", "keep remove keep remove keep"),
        ("keep-monthly=3", "keep remove keep remove keep"),
        ("keep-last=1,keep-daily=1,keep-weekly=1", "keep remove keep remove keep"),
        ("keep-daily=2", "remove remove keep remove keep"),
        ("keep-weekly=1,keep-monthly=1", "keep remove remove remove keep"),
        ("keep-weekly=1,keep-yearly=1", "keep remove remove remove keep"),
        ("", "keep keep keep keep keep"),
        ("keep-last=0,keep-hourly=0,keep-daily=0", "keep keep keep keep keep"),
    ],
)
def test_proxmox_scenario(text: str, expected: str) -> None:
    marks = marks_of(SCENARIO, text)
    assert [marks[i] for i in UNPROTECTED] == expected.split()
    assert marks["2019-12-31 11:18:51 protected"] == "protected"


def test_month_already_covered_by_weekly() -> None:
    backups = [
        PruneCandidate("dec25", at(2019, 12, 25, 12, 18, 21)),
        PruneCandidate("dec31", at(2019, 12, 31, 12, 18, 21)),
        PruneCandidate("jan01", at(2020, 1, 1, 12, 18, 21)),
    ]
    marks = marks_of(backups, "keep-daily=1,keep-weekly=1,keep-monthly=1")
    # daily keeps jan01; dec31 is in jan01's ISO week, so weekly keeps dec25, which also
    # covers December for monthly: dec31 goes.
    assert marks == {"dec25": "keep", "dec31": "remove", "jan01": "keep"}


def test_week_boundary() -> None:
    backups = [
        PruneCandidate("thu", at(2020, 12, 3, 12, 18, 21)),
        PruneCandidate("fri", at(2020, 12, 4, 12, 18, 21)),
        PruneCandidate("mon", at(2020, 12, 7, 12, 18, 21)),
    ]
    assert marks_of(backups, "keep-daily=1,keep-weekly=1") == {
        "thu": "remove",
        "fri": "keep",
        "mon": "keep",
    }


def test_iso_weeks_around_new_year() -> None:
    # 2020-12-28 (Mon) .. 2021-01-03 (Sun) is ISO week 53 of 2020; 2021-01-04 starts week 1.
    days = [(2020, 12, 27), (2020, 12, 28), (2020, 12, 31), (2021, 1, 1), (2021, 1, 3)]
    days.append((2021, 1, 4))
    backups = [PruneCandidate(f"{y}-{m:02}-{d:02}", at(y, m, d, 21, 0, 0)) for y, m, d in days]
    marks = marks_of(backups, "keep-weekly=3")
    assert kept(marks) == {"2021-01-04", "2021-01-03", "2020-12-27"}
    # Monthly and yearly go by the calendar, not the ISO year.
    assert kept(marks_of(backups, "keep-yearly=5")) == {"2021-01-04", "2020-12-31"}
    assert kept(marks_of(backups, "keep-monthly=1")) == {"2021-01-04"}


def test_keep_daily_over_a_week_with_several_backups_a_day() -> None:
    backups = [
        PruneCandidate(f"05-{day:02} {hour:02}h", at(2024, 5, day, hour, 0, 0))
        for day in range(13, 20)
        for hour in (1, 9, 17)
    ]
    marks = marks_of(backups, "keep-daily=5")
    # The newest backup of each of the last five days.
    assert kept(marks) == {f"05-{day:02} 17h" for day in range(15, 20)}
    assert sum(mark == "remove" for mark in marks.values()) == len(backups) - 5


def test_keep_last_and_daily_cover_more_than_either() -> None:
    """Proxmox's documented example: keep-last=3 and keep-daily=13 give 16 days."""
    backups = [PruneCandidate(f"day{n}", at(2024, 3, 1, 2, 0, 0) + n * 86400) for n in range(30)]
    marks = marks_of(backups, "keep-last=3,keep-daily=13")
    assert kept(marks) == {f"day{n}" for n in range(14, 30)}


def test_keep_last_and_weekly() -> None:
    # Daily at 03:00 from Mon 2024-04-01 to Sun 2024-04-28 (four full ISO weeks).
    backups = [PruneCandidate(f"04-{day:02}", at(2024, 4, day, 3, 0, 0)) for day in range(1, 29)]
    marks = marks_of(backups, "keep-last=2,keep-weekly=2")
    # keep-last takes Sat 27 and Sun 28 (week 17, now covered); weekly takes the two older
    # weeks' newest backups: Sun 21 (week 16) and Sun 14 (week 15).
    assert kept(marks) == {"04-28", "04-27", "04-21", "04-14"}


def test_extra_backup_same_hour_as_keep_last() -> None:
    backups = [
        PruneCandidate("10:05", at(2024, 6, 1, 10, 5, 0)),
        PruneCandidate("10:50", at(2024, 6, 1, 10, 50, 0)),
        PruneCandidate("09:05", at(2024, 6, 1, 9, 5, 0)),
        PruneCandidate("08:05", at(2024, 6, 1, 8, 5, 0)),
    ]
    marks = marks_of(backups, "keep-last=1,keep-hourly=2")
    # 10:50 is kept by keep-last and covers hour 10, so 10:05 is left to the end and removed;
    # hourly keeps 09:05 and 08:05.
    assert marks == {"10:50": "keep", "10:05": "remove", "09:05": "keep", "08:05": "keep"}


def test_protected_backups_take_no_slot() -> None:
    backups = [
        PruneCandidate("newest", at(2024, 6, 3, 1, 0, 0), protected=True),
        PruneCandidate("middle", at(2024, 6, 2, 1, 0, 0)),
        PruneCandidate("oldest", at(2024, 6, 1, 1, 0, 0)),
        PruneCandidate("ancient", at(2023, 6, 1, 1, 0, 0), protected=True),
    ]
    assert marks_of(backups, "keep-daily=1") == {
        "newest": "protected",
        "middle": "keep",
        "oldest": "remove",
        "ancient": "protected",
    }
    assert marks_of(backups, "keep-all=1")["newest"] == "protected"


def test_same_ctime_counts_once_for_keep_last() -> None:
    stamp = at(2024, 6, 1, 1, 0, 0)
    backups = [
        PruneCandidate("a.vma", stamp),
        PruneCandidate("a.vma.zst", stamp),
        PruneCandidate("older", stamp - 60),
    ]
    assert marks_of(backups, "keep-last=2") == {
        "a.vma.zst": "keep",
        "a.vma": "remove",
        "older": "keep",
    }


def test_periods_are_taken_in_the_given_zone() -> None:
    backups = [
        PruneCandidate("late", at(2024, 6, 1, 23, 30, 0)),  # 01:30 on June 2 at +02:00
        PruneCandidate("early", at(2024, 6, 1, 1, 0, 0)),
    ]
    assert kept(marks_of(backups, "keep-daily=1")) == {"late"}
    plus_two = timezone(timedelta(hours=2))
    assert kept(marks_of(backups, "keep-daily=1", plus_two)) == {"late"}
    minus_two = timezone(timedelta(hours=-2))
    assert kept(marks_of(backups, "keep-daily=1", minus_two)) == {"late"}
    # At +02:00 they fall on different days, so keep-daily=1 plus one more older day keeps both.
    assert kept(marks_of(backups, "keep-daily=2", plus_two)) == {"late", "early"}
    assert kept(marks_of(backups, "keep-daily=2")) == {"late"}


def test_default_zone_is_local_time() -> None:
    backups = [
        PruneCandidate("late", at(2024, 6, 1, 23, 30, 0)),
        PruneCandidate("early", at(2024, 6, 1, 1, 0, 0)),
    ]
    options = parse_prune_backups("keep-daily=2")
    with local_tz("UTC0"):
        assert kept(mark_backups(backups, options)) == {"late"}
    with local_tz("CET-1CEST,M3.5.0,M10.5.0/3"):
        assert kept(mark_backups(backups, options)) == {"late", "early"}


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(InputError):
        mark_backups([PruneCandidate("a", 1), PruneCandidate("a", 2)], PruneOptions(keep_last=1))


# -- properties -------------------------------------------------------------------------------

candidates = st.lists(
    st.builds(
        PruneCandidate,
        id=st.uuids().map(str),
        ctime=st.integers(min_value=0, max_value=4_000_000_000),
        protected=st.booleans(),
    ),
    max_size=40,
    unique_by=lambda c: c.id,
)
options_strategy = st.builds(
    PruneOptions,
    keep_last=option_values,
    keep_hourly=option_values,
    keep_daily=option_values,
    keep_weekly=option_values,
    keep_monthly=option_values,
    keep_yearly=option_values,
)


@given(candidates, options_strategy)
def test_protected_never_removed_and_every_backup_marked(
    backups: list[PruneCandidate], options: PruneOptions
) -> None:
    marks = mark_backups(backups, options, UTC)
    assert set(marks) == {c.id for c in backups}
    for c in backups:
        assert (marks[c.id] == "protected") == c.protected


@given(candidates)
def test_keep_all_keeps_all(backups: list[PruneCandidate]) -> None:
    for options in (PruneOptions(keep_all=1), PruneOptions(), PruneOptions(keep_daily=0)):
        marks = mark_backups(backups, options, UTC)
        assert all(marks[c.id] == ("protected" if c.protected else "keep") for c in backups)


@given(candidates, st.integers(min_value=1, max_value=50))
def test_keep_last_keeps_the_n_newest(backups: list[PruneCandidate], n: int) -> None:
    marks = mark_backups(backups, PruneOptions(keep_last=n), UTC)
    unprotected = [c for c in backups if not c.protected]
    # keep-last counts distinct creation times (Proxmox); with distinct times that is backups.
    distinct = sorted({c.ctime for c in unprotected}, reverse=True)
    assert len(kept(marks)) == min(n, len(distinct))
    assert {c.ctime for c in unprotected if marks[c.id] == "keep"} == set(distinct[:n])


@given(
    st.lists(st.integers(min_value=0, max_value=4_000_000_000), unique=True, max_size=40),
    st.integers(min_value=1, max_value=50),
)
def test_keep_last_with_distinct_times(ctimes: list[int], n: int) -> None:
    backups = [PruneCandidate(str(i), ctime) for i, ctime in enumerate(ctimes)]
    marks = mark_backups(backups, PruneOptions(keep_last=n), UTC)
    assert len(kept(marks)) == min(n, len(backups))


@given(candidates, options_strategy, st.randoms(use_true_random=False))
def test_independent_of_input_order(
    backups: list[PruneCandidate], options: PruneOptions, rnd: random.Random
) -> None:
    shuffled = list(backups)
    rnd.shuffle(shuffled)
    assert mark_backups(backups, options, UTC) == mark_backups(shuffled, options, UTC)


@given(candidates, options_strategy)
def test_never_keeps_more_than_the_rules_allow(
    backups: list[PruneCandidate], options: PruneOptions
) -> None:
    marks = mark_backups(backups, options, UTC)
    kept_count = len(kept(marks))
    assert kept_count <= sum(options.positive().values()) or options.is_keep_all()


# -- pruning a store --------------------------------------------------------------------------


def logname(name: str) -> str:
    parsed = parse_backup_name(name)
    assert parsed is not None
    return parsed.logname


def add(dump: Dump, vmid: int, when: datetime, ext: str = ".zst") -> str:
    name = backup_filename(vmid, when, ext)
    dump.write(name, b"archive")
    dump.write(logname(name), b"log")
    return name


def test_prune_store(store: BackupStore, dump: Dump) -> None:
    with local_tz("UTC0"):
        names = [add(dump, 100, datetime(2024, 5, day, 2, 0, 0)) for day in range(1, 8)]
        protected = names[0]
        store.set_protected(protected, True)
        other_vm = add(dump, 101, datetime(2024, 5, 1, 2, 0, 0))
        renamed = "vzdump-qemu-100-keep-me.vma.zst"
        dump.write(renamed, b"x")
        options = parse_prune_backups("keep-last=2,keep-daily=1")

        results = prune(store, 100, options, dry_run=True)
        assert [r.volid for r in results] == [f"local:backup/{n}" for n in reversed(names)]
        assert [r.mark for r in results] == ["keep"] * 3 + ["remove"] * 3 + ["protected"]
        assert all(r.vmid == 100 and r.type == "qemu" for r in results)
        assert results[0] == PruneResult(
            f"local:backup/{names[6]}",
            store.get(names[6]).ctime,
            "keep",
            100,
            "qemu",
            "keep-last: 1",
        )
        assert [r.reason for r in results] == [
            "keep-last: 1",
            "keep-last: 2",
            "keep-daily: 1",
            None,
            None,
            None,
            "protected",
        ]
        assert len(store.list(100)) == 9 - 1  # nothing removed by the dry run

        logged: list[str] = []
        assert prune(store, 100, options, dry_run=False, log=logged.append) == results

    left = set(dump.names())
    for name in names[1:4]:
        assert name not in left and logname(name) not in left
    for name in (*names[4:], protected, other_vm, renamed):
        assert name in left
    assert logged == [f"removing backup 'local:backup/{n}'" for n in reversed(names[1:4])]


def test_prune_reports_what_it_could_not_remove(
    store: BackupStore, dump: Dump, monkeypatch: pytest.MonkeyPatch
) -> None:
    with local_tz("UTC0"):
        names = [add(dump, 100, datetime(2024, 5, day, 2, 0, 0)) for day in range(1, 4)]
        original = store.remove

        def flaky(filename: str, *, keep_log: bool = False) -> None:
            if filename == names[0]:
                raise StorageError("disk on fire")
            original(filename, keep_log=keep_log)

        monkeypatch.setattr(store, "remove", flaky)
        with pytest.raises(StorageError, match="disk on fire") as info:
            prune(store, 100, PruneOptions(keep_last=1), dry_run=False)
    assert isinstance(info.value.__cause__, StorageError)
    assert {name for name in dump.names() if name.endswith(".zst")} == {names[0], names[2]}
