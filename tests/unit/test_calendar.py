"""Calendar events: the next occurrences Proxmox computes, from fixed times.

Expected times are written as local times with their UTC offset, so each row reads as what
a user sees on the node's clock.
"""

# ruff: noqa: E501  (the table of occurrences reads best one row a line)
from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from respaldo.errors import InputError
from respaldo.jobs.calendar import (
    CalendarEvent,
    local_zone,
    occurrences,
    parse_calendar_event,
)
from tests.conftest import local_tz

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ZONES = {"UTC": UTC, "Europe/Berlin": BERLIN, "America/New_York": NEW_YORK}


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def local(value: int, zone: str) -> str:
    """``2024-05-10 21:00+02`` (seconds only when not 0), as the table writes times."""
    when = datetime.fromtimestamp(value, ZONES[zone])
    offset = when.utcoffset()
    assert offset is not None
    hours = int(offset.total_seconds()) // 3600
    clock = f"{when:%Y-%m-%d %H:%M}" + (f":{when:%S}" if when.second else "")
    return f"{clock}{hours:+03d}"


def nexts(expression: str, start: str, count: int, zone: str = "UTC") -> list[str]:
    event = parse_calendar_event(expression)
    return [local(t, zone) for t in occurrences(event, epoch(start), count, ZONES[zone])]


# (zone, expression, start, the following occurrences)
TABLE: list[tuple[str, str, str, list[str]]] = [
    # The GUI's presets (www/manager6 form/CalendarEvent.js).
    ("UTC", "*/30", "2024-05-10 10:10+00", ["2024-05-10 10:30+00", "2024-05-10 11:00+00"]),
    ("UTC", "*/2:00", "2024-05-10 21:00+00", ["2024-05-10 22:00+00", "2024-05-11 00:00+00", "2024-05-11 02:00+00"]),
    ("UTC", "21:00", "2024-05-10 21:00+00", ["2024-05-11 21:00+00", "2024-05-12 21:00+00"]),
    ("UTC", "2,22:30", "2024-05-10 03:00+00", ["2024-05-10 22:30+00", "2024-05-11 02:30+00", "2024-05-11 22:30+00"]),
    ("UTC", "mon..fri 00:00", "2024-05-10 12:00+00", ["2024-05-13 00:00+00", "2024-05-14 00:00+00"]),
    ("UTC", "mon..fri */1:00", "2024-05-10 22:30+00", ["2024-05-10 23:00+00", "2024-05-13 00:00+00", "2024-05-13 01:00+00"]),
    ("UTC", "mon..fri 7..18:00/15", "2024-05-10 18:40+00", ["2024-05-10 18:45+00", "2024-05-13 07:00+00", "2024-05-13 07:15+00"]),
    ("UTC", "sun 01:00", "2024-05-12 01:00+00", ["2024-05-19 01:00+00", "2024-05-26 01:00+00"]),
    ("UTC", "monthly", "2024-01-31 12:00+00", ["2024-02-01 00:00+00", "2024-03-01 00:00+00"]),
    ("UTC", "sat *-1..7 15:00", "2024-05-10 00:00+00", ["2024-06-01 15:00+00", "2024-07-06 15:00+00", "2024-08-03 15:00+00"]),
    ("UTC", "yearly", "2024-12-31 23:59:59+00", ["2025-01-01 00:00+00", "2026-01-01 00:00+00"]),
    # The other keywords.
    ("UTC", "minutely", "2024-05-10 10:10:30+00", ["2024-05-10 10:11+00", "2024-05-10 10:12+00"]),
    ("UTC", "hourly", "2024-05-10 23:00+00", ["2024-05-11 00:00+00", "2024-05-11 01:00+00"]),
    ("UTC", "daily", "2024-02-28 00:00+00", ["2024-02-29 00:00+00", "2024-03-01 00:00+00"]),
    ("UTC", "weekly", "2024-05-12 23:59+00", ["2024-05-13 00:00+00", "2024-05-20 00:00+00"]),
    ("UTC", "quarterly", "2024-05-10 00:00+00", ["2024-07-01 00:00+00", "2024-10-01 00:00+00", "2025-01-01 00:00+00"]),
    ("UTC", "semiannually", "2024-05-10 00:00+00", ["2024-07-01 00:00+00", "2025-01-01 00:00+00"]),
    ("UTC", "semi-annually", "2024-07-01 00:00+00", ["2025-01-01 00:00+00"]),
    ("UTC", "annually", "2024-05-10 00:00+00", ["2025-01-01 00:00+00"]),
    # pve-docs calendar-events.adoc, "Schedule Examples".
    ("UTC", "mon,wed,fri", "2024-05-08 00:00+00", ["2024-05-10 00:00+00", "2024-05-13 00:00+00", "2024-05-15 00:00+00"]),
    ("UTC", "sat,sun", "2024-05-10 00:00+00", ["2024-05-11 00:00+00", "2024-05-12 00:00+00", "2024-05-18 00:00+00"]),
    ("UTC", "12:05", "2024-05-10 12:05+00", ["2024-05-11 12:05+00"]),
    ("UTC", "*/5", "2024-05-10 12:58+00", ["2024-05-10 13:00+00", "2024-05-10 13:05+00"]),
    ("UTC", "mon..wed 30/10", "2024-05-16 23:45+00", ["2024-05-20 00:30+00", "2024-05-20 00:40+00", "2024-05-20 00:50+00", "2024-05-20 01:30+00"]),
    ("UTC", "mon..fri 8..17,22:0/15", "2024-05-10 17:50+00", ["2024-05-10 22:00+00", "2024-05-10 22:15+00", "2024-05-10 22:30+00", "2024-05-10 22:45+00", "2024-05-13 08:00+00"]),
    ("UTC", "fri 12..13:5/20", "2024-05-10 00:00+00", ["2024-05-10 12:05+00", "2024-05-10 12:25+00", "2024-05-10 12:45+00", "2024-05-10 13:05+00", "2024-05-10 13:25+00", "2024-05-10 13:45+00", "2024-05-17 12:05+00"]),
    ("UTC", "12/2:5", "2024-05-10 21:00+00", ["2024-05-10 22:05+00", "2024-05-11 12:05+00", "2024-05-11 14:05+00"]),
    ("UTC", "*", "2024-05-10 12:00:30+00", ["2024-05-10 12:01+00", "2024-05-10 12:02+00"]),
    ("UTC", "*-05", "2024-05-10 00:00+00", ["2024-06-05 00:00+00", "2024-07-05 00:00+00"]),
    ("UTC", "Sat *-1..7 15:00", "2024-08-03 15:00+00", ["2024-09-07 15:00+00"]),
    ("UTC", "2015-10-21", "2015-01-01 00:00+00", ["2015-10-21 00:00+00"]),
    # Month ends and leap days.
    ("UTC", "*-*-31", "2024-01-31 00:00+00", ["2024-03-31 00:00+00", "2024-05-31 00:00+00", "2024-07-31 00:00+00", "2024-08-31 00:00+00"]),
    ("UTC", "*-02-29 12:00", "2023-03-01 00:00+00", ["2024-02-29 12:00+00", "2028-02-29 12:00+00"]),
    ("UTC", "*-02-28..29", "2024-02-28 00:00+00", ["2024-02-29 00:00+00", "2025-02-28 00:00+00", "2026-02-28 00:00+00"]),
    ("UTC", "*-*-29..31 23:30", "2023-02-27 00:00+00", ["2023-03-29 23:30+00", "2023-03-30 23:30+00", "2023-03-31 23:30+00", "2023-04-29 23:30+00"]),
    ("UTC", "2100-02-29", "2024-01-01 00:00+00", []),  # 2100 is no leap year
    ("UTC", "2024-02-29 23:59:59", "2024-01-01 00:00+00", ["2024-02-29 23:59:59+00"]),
    # proxmox-time's own table (src/test.rs) and pve-common's test/calendar_event_test.pl.
    ("UTC", "*:3:5", "1970-01-01 00:00+00", ["1970-01-01 00:03:05+00"]),
    ("UTC", "mon 2:50", "1970-01-01 00:00+00", ["1970-01-05 02:50+00"]),
    ("UTC", "4..10/2:0", "1970-01-01 05:00+00", ["1970-01-01 06:00+00", "1970-01-01 08:00+00", "1970-01-01 10:00+00", "1970-01-02 04:00+00"]),
    ("UTC", "6,4..10:23,5/5", "1970-01-01 00:00+00", ["1970-01-01 04:05+00"]),
    ("UTC", "1965/5-01-01", "1969-12-31 23:59:59+00", ["1970-01-01 00:00+00", "1975-01-01 00:00+00"]),
    ("UTC", "2020-7..9-2/2", "2020-07-31 00:00+00", ["2020-08-02 00:00+00", "2020-08-04 00:00+00"]),
    ("UTC", "2020,2021-12-31", "2020-07-31 00:00+00", ["2020-12-31 00:00+00", "2021-12-31 00:00+00"]),
    ("UTC", "1/12:0/15", "1970-01-01 01:45+00", ["1970-01-01 13:00+00", "1970-01-01 13:15+00"]),
    ("UTC", "20..22:*/30", "1970-01-01 22:30+00", ["1970-01-02 20:00+00"]),
    ("UTC", "fri..mon", "1970-01-01 00:00+00", ["1970-01-02 00:00+00", "1970-01-03 00:00+00", "1970-01-04 00:00+00", "1970-01-05 00:00+00", "1970-01-09 00:00+00"]),
    # Europe/Berlin: on 2024-03-31 02:00 CET becomes 03:00 CEST; on 2024-10-27 03:00 CEST
    # becomes 02:00 CET. A time in the skipped hour moves past it, so a daily run in that
    # hour is skipped that day; the repeated hour is run through once, in the offset the
    # search is in.
    ("Europe/Berlin", "02:30", "2024-03-30 12:00+01", ["2024-04-01 02:30+02", "2024-04-02 02:30+02"]),
    ("Europe/Berlin", "*/30", "2024-03-31 01:15+01", ["2024-03-31 01:30+01", "2024-03-31 03:00+02", "2024-03-31 03:30+02"]),
    ("Europe/Berlin", "hourly", "2024-03-31 01:00+01", ["2024-03-31 03:00+02", "2024-03-31 04:00+02"]),
    ("Europe/Berlin", "daily", "2024-03-30 00:00+01", ["2024-03-31 00:00+01", "2024-04-01 00:00+02"]),
    ("Europe/Berlin", "02:30", "2024-10-26 12:00+02", ["2024-10-27 02:30+02", "2024-10-28 02:30+01"]),
    ("Europe/Berlin", "*:30", "2024-10-27 01:45+02", ["2024-10-27 02:30+02", "2024-10-27 03:30+01", "2024-10-27 04:30+01"]),
    ("Europe/Berlin", "*/30", "2024-10-27 02:10+01", ["2024-10-27 02:30+01", "2024-10-27 03:00+01"]),
    ("Europe/Berlin", "sun 02:00", "2024-10-26 00:00+02", ["2024-10-27 02:00+02", "2024-11-03 02:00+01"]),
    ("Europe/Berlin", "mon..fri 21:00", "2024-10-25 22:00+02", ["2024-10-28 21:00+01"]),
    # pve-common's test: the loop ends at the CEST/CET switch (there in Europe/Vienna).
    ("Europe/Berlin", "mon..fri", "2018-10-28 00:00+02", ["2018-10-29 00:00+01"]),
    ("Europe/Berlin", "mon..fri UTC", "2018-10-28 00:00+02", ["2018-10-29 01:00+01"]),
    # America/New_York: 2024-03-10 02:00 EST becomes 03:00 EDT; 2024-11-03 02:00 EDT
    # becomes 01:00 EST.
    ("America/New_York", "02:30", "2024-03-09 12:00-05", ["2024-03-11 02:30-04"]),
    ("America/New_York", "sun 02:00", "2024-03-09 00:00-05", ["2024-03-17 02:00-04"]),
    ("America/New_York", "*/30", "2024-03-10 01:00-05", ["2024-03-10 01:30-05", "2024-03-10 03:00-04"]),
    ("America/New_York", "01:30", "2024-11-02 12:00-04", ["2024-11-03 01:30-04", "2024-11-04 01:30-05"]),
    ("America/New_York", "*/30", "2024-11-03 00:45-04", ["2024-11-03 01:00-04", "2024-11-03 01:30-04", "2024-11-03 02:00-05"]),
    ("America/New_York", "*/30", "2024-11-03 01:10-05", ["2024-11-03 01:30-05", "2024-11-03 02:00-05"]),
    ("America/New_York", "21:00 UTC", "2024-11-02 00:00-04", ["2024-11-02 17:00-04", "2024-11-03 16:00-05"]),
]  # fmt: skip


@pytest.mark.parametrize(("zone", "expression", "start", "expected"), TABLE)
def test_next_occurrences(zone: str, expression: str, start: str, expected: list[str]) -> None:
    assert nexts(expression, start, len(expected) or 1, zone) == expected


# pve-docs lists these as two spellings of one schedule.
@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("mon,tue,wed,thu,fri", "mon..fri"),
        ("sat,sun", "sat..sun"),
        ("*/5", "0/5"),
        ("mon..wed 30/10", "mon,tue,wed 30/10"),
        ("fri 12..13:5/20", "fri 12,13:5/20"),
        ("12,14,16,18,20,22:5", "12/2:5"),
        ("*", "*/1"),
        ("minutely", "*-*-* *:*:00"),
        ("hourly", "*-*-* *:00:00"),
        ("daily", "*-*-* 00:00:00"),
        ("weekly", "mon *-*-* 00:00:00"),
        ("monthly", "*-*-01 00:00:00"),
        ("yearly", "*-01-01 00:00:00"),
        ("quarterly", "*-01,04,07,10-01 00:00:00"),
        ("semiannually", "*-01,07-01 00:00:00"),
        ("MON..Friday 22:00", "mon..fri 22:00"),
    ],
)
def test_documented_spellings_agree(one: str, other: str) -> None:
    start = "2024-02-20 13:17+01"
    assert nexts(one, start, 40, "Europe/Berlin") == nexts(other, start, 40, "Europe/Berlin")


def test_past_and_impossible_dates_never_occur() -> None:
    start = epoch("2024-01-01 00:00+00")
    for expression in ("2021-02-29", "02-30", "2023-05-01", "*-04-31 10:00"):
        assert parse_calendar_event(expression).next_event(start, UTC) is None, expression


def test_repeat_past_the_end_of_its_field_continues_in_the_next_one_as_proxmox() -> None:
    # proxmox-time carries 56+7 into the next hour and goes on from minute 3 there: Proxmox
    # runs '*/7' at xx:56 and then (xx+1):07, and '*/5:00' from 20:00 next at 05:00.
    assert nexts("*/7", "2024-05-10 10:50+00", 2) == [
        "2024-05-10 10:56+00",
        "2024-05-10 11:07+00",
    ]
    assert nexts("*/5:00", "2024-05-10 20:00+00", 1) == ["2024-05-11 05:00+00"]


def test_datetime_and_float_starts() -> None:
    event = parse_calendar_event("21:00")
    start = datetime(2024, 5, 10, 20, 0, tzinfo=BERLIN)
    expected = epoch("2024-05-10 21:00+02")
    assert event.next_event(start, BERLIN) == expected
    assert event.next_event(start.timestamp() + 0.5, BERLIN) == expected
    with pytest.raises(InputError, match="without a time zone"):
        event.next_event(datetime(2024, 5, 10, 20, 0), BERLIN)


def test_local_zone_comes_from_tz() -> None:
    event = parse_calendar_event("12:00")
    start = epoch("2024-07-01 00:00+00")
    with local_tz("America/New_York"):
        assert event.next_event(start) == epoch("2024-07-01 12:00-04")
        assert local_zone().utcoffset(datetime(2024, 1, 1)) == timedelta(hours=-5)
    with local_tz(":Europe/Berlin"):
        assert event.next_event(start) == epoch("2024-07-01 12:00+02")
    with local_tz("No/Such_Zone"):
        assert event.next_event(start) == epoch("2024-07-01 12:00+00")


def test_a_hundred_yearly_occurrences_are_instant() -> None:
    event = parse_calendar_event("yearly")
    began = time.perf_counter()
    found = list(occurrences(event, 0, 100, BERLIN))
    assert time.perf_counter() - began < 0.5
    assert [datetime.fromtimestamp(t, BERLIN).year for t in found] == list(range(1971, 2071))


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "the calendar event is empty"),
        ("   ", "the calendar event is empty"),
        ("UTC", "'UTC' alone is no event"),
        ("Daily", "expected a weekday"),
        ("Daily", "keywords minutely, hourly, daily"),
        ("someday", "at 'someday'"),
        ("mon, tue", "a list of weekdays has no spaces"),
        ("mon..", "expected a weekday"),
        ("mon..fri 25:00", "hour 25 is out of range (valid: 0..23)"),
        ("61", "minute 61 is out of range (valid: 0..59)"),
        ("12:00:60", "second 60 is out of range (valid: 0..59)"),
        ("*/61", "the minute repeat after '/' must be a number from 1 to 59, got '61'"),
        ("*/0", "must be a number from 1 to 59, got '0'"),
        ("0..80", "minute 80 is out of range"),
        ("10..5", "the minute range 10..5 starts after it ends"),
        ("2024-13-01", "month 13 is out of range (valid: 1..12)"),
        ("*-*-32", "day 32 is out of range (valid: 1..31)"),
        ("2200-01-01", "year 2200 is out of range (valid: 0..2199)"),
        ("1-2-3-4", "a date has at most three parts"),
        ("1:2:3:4", "a time has at most three parts"),
        ("12:", "expected a minute (a number, or '*') at the end"),
        (" mon 0 0 0", "unexpected ' 0 0'"),
        ("mon 0 0", "unexpected ' 0'"),
        ("daily 12:00", "expected a weekday"),
        ("12:00 x", "unexpected ' x'"),
    ],
)
def test_errors_name_the_part_and_what_is_valid(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse_calendar_event(text, "schedule")
    assert info.value.name == "schedule"
    assert fragment in str(info.value)


# -- properties ---------------------------------------------------------------------------------


def _values(low: int, high: int) -> st.SearchStrategy[str]:
    single = st.integers(low, high).map(str)
    span = st.tuples(st.integers(low, high), st.integers(low, high)).map(
        lambda p: f"{min(p)}..{max(p)}"
    )
    repeat = st.tuples(st.integers(low, high), st.integers(1, high)).map(lambda p: f"{p[0]}/{p[1]}")
    ranged_repeat = st.tuples(
        st.integers(low, high), st.integers(low, high), st.integers(1, high)
    ).map(lambda p: f"{min(p[0], p[1])}..{max(p[0], p[1])}/{p[2]}")
    every = st.integers(1, high).map(lambda n: f"*/{n}")
    element = st.one_of(single, span, repeat, ranged_repeat)
    return st.one_of(st.just("*"), every, st.lists(element, min_size=1, max_size=3).map(",".join))


_DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
weekdays = st.one_of(
    st.just(""),
    st.lists(st.sampled_from(_DAY_NAMES), min_size=1, max_size=3, unique=True).map(",".join),
    st.tuples(st.sampled_from(_DAY_NAMES), st.sampled_from(_DAY_NAMES)).map("..".join),
)
dates = st.one_of(
    st.just(""),
    st.tuples(_values(1, 12), _values(1, 31)).map("-".join),
    st.tuples(
        st.sampled_from(["*", "2024..2030", "2025", "*/2"]), _values(1, 12), _values(1, 31)
    ).map("-".join),
)
times = st.one_of(
    st.just(""),
    _values(0, 59),
    st.tuples(_values(0, 23), _values(0, 59)).map(":".join),
    st.tuples(_values(0, 23), _values(0, 59), _values(0, 59)).map(":".join),
)
expressions = (
    st.tuples(weekdays, dates, times).map(lambda p: " ".join(x for x in p if x)).filter(bool)
)
zones = st.sampled_from([UTC, BERLIN, NEW_YORK, ZoneInfo("Australia/Lord_Howe")])
starts = st.integers(
    int(datetime(2020, 1, 1, tzinfo=UTC).timestamp()),
    int(datetime(2030, 1, 1, tzinfo=UTC).timestamp()),
)


@settings(max_examples=300, deadline=None)
@given(expressions, starts, zones)
def test_next_is_later_matches_and_is_stable(text: str, start: int, zone: ZoneInfo) -> None:
    event = parse_calendar_event(text)
    following = event.next_event(start, zone)
    if following is None:
        return
    assert following > start
    assert event.matches(following, zone)
    assert event.next_event(following - 1, zone) == following


def _step_free(text: str) -> bool:
    # A repeat without an end can run past its field (see the quirk test above).
    return all("/" not in part or ".." in part for part in re.split(r"[ ,:-]", text))


minute_times = st.one_of(
    _values(0, 59), st.tuples(_values(0, 23), _values(0, 59)).map(":".join)
).filter(_step_free)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.tuples(weekdays, minute_times).map(lambda p: " ".join(x for x in p if x)), starts)
def test_next_is_the_first_match_in_utc(text: str, start: int) -> None:
    event: CalendarEvent = parse_calendar_event(text)
    following = event.next_event(start, UTC)
    assert following is not None  # weekdays and times occur every week
    assert following - start <= 8 * 86400
    # Without seconds in the expression only second 0 of a minute can match.
    for candidate in range(start - start % 60 + 60, following, 60):
        assert not event.matches(candidate, UTC), datetime.fromtimestamp(candidate, UTC)
