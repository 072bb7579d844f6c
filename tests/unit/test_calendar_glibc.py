"""The next occurrence is the one proxmox-time computes with glibc's mktime(3).

proxmox-time (``src/calendar_event.rs``) searches with a ``struct tm`` that it normalises
with ``mktime`` after each step (``src/tm_editor.rs``). This test runs that search on the C
library of this machine through ctypes, with ``TZ`` set, and compares it with
:mod:`respaldo.jobs.calendar`, which does the same on :mod:`zoneinfo`, for random events and
start times around the DST changes of Europe/Berlin and America/New_York.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from respaldo.jobs.calendar import CalendarEvent, Value, parse_calendar_event
from tests.conftest import local_tz
from tests.unit.test_calendar import expressions


class _Tm(ctypes.Structure):
    _fields_ = [
        ("tm_sec", ctypes.c_int),
        ("tm_min", ctypes.c_int),
        ("tm_hour", ctypes.c_int),
        ("tm_mday", ctypes.c_int),
        ("tm_mon", ctypes.c_int),
        ("tm_year", ctypes.c_int),
        ("tm_wday", ctypes.c_int),
        ("tm_yday", ctypes.c_int),
        ("tm_isdst", ctypes.c_int),
        ("tm_gmtoff", ctypes.c_long),
        ("tm_zone", ctypes.c_char_p),
    ]


_libc = ctypes.CDLL(ctypes.util.find_library("c"))
_libc.mktime.restype = ctypes.c_long
_libc.mktime.argtypes = [ctypes.POINTER(_Tm)]
_libc.localtime_r.restype = ctypes.c_void_p
_libc.localtime_r.argtypes = [ctypes.POINTER(ctypes.c_long), ctypes.POINTER(_Tm)]


def _localtime(epoch: int) -> _Tm:
    tm = _Tm()
    _libc.localtime_r(ctypes.byref(ctypes.c_long(epoch)), ctypes.byref(tm))
    return tm


def _mktime(tm: _Tm) -> int:
    tm.tm_isdst = -1
    return int(_libc.mktime(ctypes.byref(tm)))


def _first(values: tuple[Value, ...], current: int) -> int | None:
    found = [n for n in (v.next_after(current) for v in values) if n is not None]
    return min(found, default=None)


def _skip(values: tuple[Value, ...], current: int) -> bool:
    return bool(values) and not any(v.contains(current) for v in values)


def glibc_next_event(event: CalendarEvent, last: int) -> int | None:
    """proxmox-time's ``compute_next_event`` on a libc ``struct tm`` (local time)."""
    tm = _localtime(last + 1)
    # glibc guesses the offset of the last mktime call: make it the start's (its tm_isdst
    # as localtime_r set it, so that the call itself is not ambiguous).
    _libc.mktime(ctypes.byref(_localtime(last + 1)))

    def reset(*, mon: int | None = None, mday: int | None = None, hour: int = 0) -> None:
        if mon is not None:
            tm.tm_mon = mon
        if mday is not None:
            tm.tm_mday = mday
        tm.tm_hour, tm.tm_min, tm.tm_sec = hour, 0, 0

    every_day = len(event.weekdays) in (0, 7)
    for _ in range(1001):
        year, month, day = tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday
        weekday = (tm.tm_wday + 6) % 7
        if _skip(event.years, year):
            n = _first(event.years, year)
            if n is None:
                return None
            reset(mon=0, mday=1)
            tm.tm_year += n - year
        elif _skip(event.months, month):
            n = _first(event.months, month)
            reset(mday=1)
            if n is None:
                tm.tm_mon, tm.tm_year = 0, tm.tm_year + 1
            else:
                tm.tm_mon += n - month
        elif _skip(event.days, day):
            n = _first(event.days, day)
            reset(mday=1 if n is None else tm.tm_mday + n - day)
            if n is None:
                tm.tm_mon += 1
        elif not every_day and weekday not in event.weekdays:
            later = [d for d in range(weekday + 1, 7) if d in event.weekdays]
            reset(mday=tm.tm_mday + (later[0] if later else 7) - weekday)
        elif _skip(event.hours, tm.tm_hour):
            n = _first(event.hours, tm.tm_hour)
            reset(mday=tm.tm_mday + 1 if n is None else None, hour=0 if n is None else n)
        elif _skip(event.minutes, tm.tm_min):
            n = _first(event.minutes, tm.tm_min)
            tm.tm_hour, tm.tm_min, tm.tm_sec = (
                (tm.tm_hour + 1, 0, 0) if n is None else (tm.tm_hour, n, 0)
            )
        elif _skip(event.seconds, tm.tm_sec):
            n = _first(event.seconds, tm.tm_sec)
            tm.tm_min, tm.tm_sec = (tm.tm_min + 1, 0) if n is None else (tm.tm_min, n)
        else:
            return _mktime(tm)
        _mktime(tm)
    return None


def _transitions(zone: ZoneInfo) -> list[int]:
    """The DST changes of ``zone`` from 2020 to 2029 (epoch seconds)."""
    found = []
    hour = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp())
    before = datetime.fromtimestamp(hour, zone).utcoffset()
    while hour < datetime(2030, 1, 1, tzinfo=UTC).timestamp():
        hour += 3600
        offset = datetime.fromtimestamp(hour, zone).utcoffset()
        if offset != before:
            found.append(hour)
        before = offset
    return found


_TRANSITIONS = {
    name: _transitions(ZoneInfo(name)) for name in ("Europe/Berlin", "America/New_York")
}


@settings(max_examples=400, deadline=None)
@given(
    expressions,
    st.sampled_from(sorted(_TRANSITIONS)),
    st.integers(0, 19),
    st.integers(-2 * 86400, 2 * 86400),
)
def test_same_as_proxmox_time_on_glibc(text: str, zone: str, which: int, offset: int) -> None:
    event = parse_calendar_event(text)
    start = _TRANSITIONS[zone][which] + offset
    with local_tz(zone):
        expected = glibc_next_event(event, start)
        assert time.localtime(start).tm_zone in {"CET", "CEST", "EST", "EDT"}
    assert event.next_event(start, ZoneInfo(zone)) == expected
