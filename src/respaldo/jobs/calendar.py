"""Proxmox's calendar events: ``mon..fri 21:00``, ``*/30``, ``sat *-1..7 15:00``, ``daily``.

The format is the subset of systemd's calendar events that Proxmox implements (the Rust crate
``proxmox-time``, ``src/calendar_event.rs``, used by pve-common ``PVE/CalendarEvent.pm``;
documented in pve-docs ``calendar-events.adoc``)::

    [WEEKDAYS] [[YEARS-]MONTHS-DAYS] [[HOURS:]MINUTES[:SECONDS]] [UTC]

- WEEKDAYS: ``mon``..``sun`` or the full English names, any case; lists ``mon,wed`` and
  ranges ``mon..fri``; a range may wrap around the week (``fri..mon``).
- Every other field is ``*`` (any value), ``*/N`` (from the field's first value on, every
  N), or a comma-separated list of ``V``, ``A..B`` (inclusive), ``V/N`` (from V on, every N)
  and ``A..B/N``.
- One time value alone is the minute: ``*/30`` is every 30 minutes, ``30`` is every hour at
  minute 30. Seconds default to 0; without a time the event is at 00:00:00.
- Keywords: ``minutely``, ``hourly``, ``daily``, ``weekly`` (Monday 00:00), ``monthly``,
  ``yearly``/``annually``, ``quarterly``, ``semiannually``/``semi-annually``.
- A trailing ``UTC`` evaluates the event in UTC instead of local time.

Where this parser differs from ``proxmox-time``: it is stricter. proxmox-time re-reads a time
whose hour is out of range as minute and second (``25:00`` becomes minute 25), and takes a
repeat of 0 (``5/0``) and month or day 0 (which never match); here those are errors that say
which value is wrong and what would be valid.

Next occurrences follow proxmox-time's search step by step, so they are the times Proxmox
computes, including its quirks: a repeat that runs past the end of its field carries over
into the next hour (day, month) and the search continues from there (``*/7`` after xx:56 is
(xx+1):07, not (xx+1):00). Local time is normalised after each step as ``mktime(3)`` does it
in glibc with ``tm_isdst = -1``:

- a local time that does not exist (the hour skipped when DST starts) moves forward by the
  length of the gap: a daily ``02:30`` in Europe/Berlin is skipped on the day the clocks go
  from 02:00 to 03:00, because 02:30 becomes 03:30 and the search goes on to the next day;
- a local time that exists twice (the hour repeated when DST ends) is taken with the UTC
  offset of the time the search is at, so a run at the first 02:30 is not repeated at the
  second one, and the search never goes back in time. (glibc uses the offset of the last
  ``mktime`` call in the process, which proxmox-time does not control; the offset of the
  time being searched from is what that call saw in the common case.)

Checked against proxmox-time's search run on glibc's ``mktime`` in Europe/Berlin,
America/New_York, Australia/Lord_Howe, America/Sao_Paulo, America/Havana, Asia/Tehran and
Pacific/Apia: the same times, except where glibc moves a time in a gap *backwards* (zones
whose summer time is their standard time, as Europe/Dublin in tzdata's main format), which
can make proxmox-time return a time before the one it was asked to search from.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from respaldo.errors import InputError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_SECOND = timedelta(seconds=1)
#: proxmox-time gives up after this many search steps (``compute_next_event``).
_MAX_STEPS = 1001
_FORMAT = "[WEEKDAYS] [[YEARS-]MONTHS-DAYS] [[HOURS:]MINUTES[:SECONDS]] [UTC], or a keyword"

_WEEKDAYS = {
    "mon": 0,
    "monday": 0,
    "tue": 1,
    "tuesday": 1,
    "wed": 2,
    "wednesday": 2,
    "thu": 3,
    "thursday": 3,
    "fri": 4,
    "friday": 4,
    "sat": 5,
    "saturday": 5,
    "sun": 6,
    "sunday": 6,
}
_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class _Field:
    """What one field of the event accepts: its name, the first value of ``*/N`` and its
    largest valid value."""

    name: str
    first: int
    last: int


_YEAR = _Field("year", 0, 2199)  # proxmox-time keeps systemd's upper limit
_MONTH = _Field("month", 1, 12)
_DAY = _Field("day", 1, 31)
_HOUR = _Field("hour", 0, 23)
_MINUTE = _Field("minute", 0, 59)
_SECOND_FIELD = _Field("second", 0, 59)


@dataclass(frozen=True)
class Value:
    """One element of a field's list: ``V`` (``end`` and ``step`` None), ``A..B`` (``end``),
    ``V/N`` (``step``) or ``A..B/N`` (both); ``*/N`` is the field's first value with ``step``.
    """

    start: int
    end: int | None = None
    step: int | None = None

    def contains(self, value: int) -> bool:
        if self.step is None:
            return self.start <= value <= (self.start if self.end is None else self.end)
        if value < self.start or (self.end is not None and value > self.end):
            return False
        return (value - self.start) % self.step == 0

    def next_after(self, value: int) -> int | None:
        """The smallest value above ``value`` this element yields, as proxmox-time's
        ``DateTimeValue::find_next`` computes it (a repeat without end may go past the
        field's last value)."""
        if value < self.start:
            return self.start
        if self.step is None:
            following = value + 1
            return following if self.end is not None and following <= self.end else None
        following = self.start + ((value - self.start) // self.step + 1) * self.step
        return following if self.end is None or following <= self.end else None


def _contains(values: tuple[Value, ...], value: int) -> bool:
    return any(v.contains(value) for v in values)


def _next_after(values: tuple[Value, ...], value: int) -> int | None:
    found = [n for n in (v.next_after(value) for v in values) if n is not None]
    return min(found, default=None)


_ZERO = (Value(0),)


@dataclass(frozen=True)
class CalendarEvent:
    """A parsed calendar event. Empty tuples (and an empty ``weekdays``) match every value.

    ``weekdays`` holds 0 (Monday) to 6 (Sunday). Build one with :func:`parse_calendar_event`.
    """

    text: str
    utc: bool = False
    weekdays: frozenset[int] = frozenset()
    years: tuple[Value, ...] = ()
    months: tuple[Value, ...] = ()
    days: tuple[Value, ...] = ()
    hours: tuple[Value, ...] = ()
    minutes: tuple[Value, ...] = ()
    seconds: tuple[Value, ...] = field(default=_ZERO)

    def __str__(self) -> str:
        return self.text

    def zone(self, zone: tzinfo | None = None) -> tzinfo:
        """The zone the event is evaluated in: UTC for ``... UTC``, else ``zone`` or the
        local zone (:func:`local_zone`)."""
        if self.utc:
            return UTC
        return zone if zone is not None else local_zone()

    def next_event(self, after: int | float | datetime, zone: tzinfo | None = None) -> int | None:
        """The first occurrence strictly after ``after`` (epoch seconds, or an aware
        datetime), as epoch seconds; None if there is none (a date in the past, ``02-30``).

        ``zone`` is the local time zone (default: :func:`local_zone`); events ending in
        ``UTC`` ignore it. Raises InputError for a naive datetime.
        """
        start = _epoch_of(after) + 1
        try:
            return self._search(_LocalTime(start, self.zone(zone)))
        except _BeyondCalendar:
            return None

    def matches(self, when: int | float | datetime, zone: tzinfo | None = None) -> bool:
        """Whether the event occurs at ``when`` (to the second)."""
        local = _wall(_epoch_of(when), self.zone(zone))
        return self._matches_date(local) and self._matches_time(local)

    def _matches_date(self, local: datetime) -> bool:
        return (
            (not self.years or _contains(self.years, local.year))
            and (not self.months or _contains(self.months, local.month))
            and (not self.days or _contains(self.days, local.day))
            and (not self.weekdays or local.weekday() in self.weekdays)
        )

    def _matches_time(self, local: datetime) -> bool:
        return (
            (not self.hours or _contains(self.hours, local.hour))
            and (not self.minutes or _contains(self.minutes, local.minute))
            and (not self.seconds or _contains(self.seconds, local.second))
        )

    def _search(self, t: _LocalTime) -> int | None:
        every_day = len(self.weekdays) in (0, 7)
        for _ in range(_MAX_STEPS):
            now = t.wall
            if self.years and not _contains(self.years, now.year):
                year = _next_after(self.years, now.year)
                if year is None:
                    return None
                t.add_years(year - now.year)
            elif self.months and not _contains(self.months, now.month):
                month = _next_after(self.months, now.month)
                if month is None:
                    t.add_years(1)
                else:
                    t.add_months(month - now.month)
            elif self.days and not _contains(self.days, now.day):
                day = _next_after(self.days, now.day)
                if day is None:
                    t.add_months(1)
                else:
                    t.add_days(day - now.day)
            elif not every_day and now.weekday() not in self.weekdays:
                later = [d for d in range(now.weekday() + 1, 7) if d in self.weekdays]
                t.add_days((later[0] if later else 7) - now.weekday())
            elif self.hours and not _contains(self.hours, now.hour):
                hour = _next_after(self.hours, now.hour)
                if hour is None:
                    t.add_days(1)
                else:
                    t.set_time(hour, 0, 0)
            elif self.minutes and not _contains(self.minutes, now.minute):
                minute = _next_after(self.minutes, now.minute)
                if minute is None:
                    t.set_time(now.hour + 1, 0, 0)
                else:
                    t.set_time(now.hour, minute, 0)
            elif self.seconds and not _contains(self.seconds, now.second):
                second = _next_after(self.seconds, now.second)
                if second is None:
                    t.set_time(now.hour, now.minute + 1, 0)
                else:
                    t.set_time(now.hour, now.minute, second)
            else:
                return t.epoch
        return None


# -- local time, normalised like mktime(3) ------------------------------------------------------


class _BeyondCalendar(Exception):
    """The search went past the year 9999."""


def _epoch_of(when: int | float | datetime) -> int:
    if isinstance(when, datetime):
        if when.tzinfo is None or when.utcoffset() is None:
            raise InputError("time", when.isoformat(), "a time without a time zone is ambiguous")
        return math.floor(when.timestamp())
    return math.floor(when)


def _wall(epoch: int, zone: tzinfo) -> datetime:
    """The local wall time of ``epoch`` in ``zone``, naive."""
    return (_EPOCH + timedelta(seconds=epoch)).astimezone(zone).replace(tzinfo=None)


def _epoch_at(wall: datetime, offset: timedelta) -> int:
    return (wall - offset - _NAIVE_EPOCH) // _SECOND


def _resolve(wall: datetime, zone: tzinfo, current: timedelta) -> int:
    """The epoch of a naive local time as glibc's ``mktime`` with ``tm_isdst = -1`` gives it.

    A time in a gap is read with the offset before the gap (it ends up after the gap); a time
    that exists twice gets ``current`` if that is one of its offsets, else the earlier one.
    """
    first = wall.replace(tzinfo=zone, fold=0).utcoffset()
    second = wall.replace(tzinfo=zone, fold=1).utcoffset()
    assert first is not None and second is not None  # a tzinfo from local_zone() or UTC
    if first == second:
        return _epoch_at(wall, first)
    early, late = _epoch_at(wall, first), _epoch_at(wall, second)
    if _wall(early, zone) == wall and _wall(late, zone) == wall:
        return late if second == current else early
    return early


class _LocalTime:
    """A broken-down local time changed field by field, normalised after each change (months
    past 12 carry into the year, hour 24 into the next day...) as proxmox-time's ``TmEditor``
    does. Every change resets the smaller fields."""

    def __init__(self, epoch: int, zone: tzinfo) -> None:
        self.zone = zone
        self._moveto(epoch)

    def _moveto(self, epoch: int) -> None:
        local = (_EPOCH + timedelta(seconds=epoch)).astimezone(self.zone)
        offset = local.utcoffset()
        assert offset is not None
        self.epoch, self.wall, self.offset = epoch, local.replace(tzinfo=None), offset

    def _set(self, wall: datetime) -> None:
        self._moveto(_resolve(wall, self.zone, self.offset))

    def _midnight(self, year: int, month: int, day: int) -> datetime:
        try:
            return datetime(year, month, day)
        except ValueError as err:
            raise _BeyondCalendar from err

    def add_years(self, years: int) -> None:
        self._set(self._midnight(self.wall.year + years, 1, 1))

    def add_months(self, months: int) -> None:
        index = self.wall.month - 1 + months
        self._set(self._midnight(self.wall.year + index // 12, index % 12 + 1, 1))

    def add_days(self, days: int) -> None:
        day = self._midnight(self.wall.year, self.wall.month, self.wall.day)
        try:
            self._set(day + timedelta(days=days))
        except OverflowError as err:
            raise _BeyondCalendar from err

    def set_time(self, hour: int, minute: int, second: int) -> None:
        day = self._midnight(self.wall.year, self.wall.month, self.wall.day)
        try:
            self._set(day + timedelta(hours=hour, minutes=minute, seconds=second))
        except OverflowError as err:
            raise _BeyondCalendar from err


def local_zone() -> tzinfo:
    """The local time zone as the C library sees it: ``TZ`` (``Europe/Berlin``,
    ``:Europe/Berlin`` or a path to a zone file), else ``/etc/localtime``, else UTC.

    ``TZ`` in POSIX rule form (``CET-1CEST,M3.5.0,M10.5.0/3``) is not supported and reads as
    UTC, as an unknown zone does in glibc.
    """
    spec = os.environ.get("TZ")
    if spec is not None:
        return _zone_from_tz(spec.removeprefix(":"))
    try:
        with open("/etc/localtime", "rb") as file:
            return ZoneInfo.from_file(file, key="localtime")
    except (OSError, ValueError):
        return UTC


def _zone_from_tz(spec: str) -> tzinfo:
    if not spec or spec == "UTC":
        return UTC
    try:
        if spec.startswith("/"):
            with open(spec, "rb") as file:
                return ZoneInfo.from_file(file, key=spec)
        return ZoneInfo(spec)
    except (OSError, ValueError, ZoneInfoNotFoundError):
        return UTC


# -- the parser ---------------------------------------------------------------------------------


def _every(hour: int | None, minute: int | None, second: int = 0) -> dict[str, object]:
    return {
        "hours": () if hour is None else (Value(hour),),
        "minutes": () if minute is None else (Value(minute),),
        "seconds": (Value(second),),
    }


_MIDNIGHT = _every(0, 0)
_KEYWORDS: dict[str, dict[str, object]] = {
    "minutely": _every(None, None),
    "hourly": _every(None, 0),
    "daily": _MIDNIGHT,
    "weekly": {**_MIDNIGHT, "weekdays": frozenset({0})},
    "monthly": {**_MIDNIGHT, "days": (Value(1),)},
    "yearly": {**_MIDNIGHT, "days": (Value(1),), "months": (Value(1),)},
    "annually": {**_MIDNIGHT, "days": (Value(1),), "months": (Value(1),)},
    "quarterly": {**_MIDNIGHT, "days": (Value(1),), "months": tuple(map(Value, (1, 4, 7, 10)))},
    "semiannually": {**_MIDNIGHT, "days": (Value(1),), "months": (Value(1), Value(7))},
    "semi-annually": {**_MIDNIGHT, "days": (Value(1),), "months": (Value(1), Value(7))},
}
KEYWORDS = tuple(_KEYWORDS)

_NUMBER = re.compile(r"[0-9]+")
_LETTERS = re.compile(r"[A-Za-z]+")
_DATE_AHEAD = re.compile(r"[0-9*,./]*-")
_LIST_CHARS = re.compile(r"[0-9*,./]*")
_TIME_AHEAD = re.compile(r"[0-9*]")


class _Parser:
    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.what = what
        self.pos = 0

    def fail(self, reason: str) -> InputError:
        return InputError(self.what, self.text, reason)

    def rest(self) -> str:
        return self.text[self.pos :]

    def take(self, token: str) -> bool:
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def skip_spaces(self) -> bool:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1
        return self.pos > start

    def match(self, pattern: re.Pattern[str]) -> str | None:
        found = pattern.match(self.text, self.pos)
        if found is None or not found.group():
            return None
        self.pos = found.end()
        return found.group()

    # WEEKDAYS
    def weekdays(self) -> frozenset[int]:
        days: set[int] = set()
        while True:
            first = self.weekday()
            last = self.weekday() if self.take("..") else first
            span = (last - first) % 7
            days.update((first + i) % 7 for i in range(span + 1))
            if not self.take(","):
                return frozenset(days)

    def weekday(self) -> int:
        at_start = self.pos == 0
        name = self.match(_LETTERS)
        if name is not None and name.lower() in _WEEKDAYS:
            return _WEEKDAYS[name.lower()]
        if name is None and self.rest().startswith(" "):
            raise self.fail("a list of weekdays has no spaces (write 'mon,tue', not 'mon, tue')")
        got = f"'{name or self.rest()}'" if name or self.rest() else "the end"
        valid = f"expected a weekday ({', '.join(_WEEKDAY_NAMES)} or the full name) at {got}"
        if at_start:
            valid += f", or one of the keywords {', '.join(KEYWORDS)} (in lower case)"
        raise self.fail(valid)

    # one field: '*', '*/N' or a list of V, A..B, V/N, A..B/N
    def values(self, spec: _Field) -> tuple[Value, ...]:
        if self.take("*"):
            if not self.take("/"):
                return ()
            return (Value(spec.first, step=self.step(spec)),)
        items = [self.value(spec)]
        while self.take(","):
            items.append(self.value(spec))
        return tuple(items)

    def value(self, spec: _Field) -> Value:
        start = self.number(spec)
        end = None
        if self.take(".."):
            end = self.number(spec)
            if start > end:
                raise self.fail(
                    f"the {spec.name} range {start}..{end} starts after it ends "
                    f"(write it as {end}..{start})"
                )
        step = self.step(spec) if self.take("/") else None
        return Value(start, end, step)

    def number(self, spec: _Field) -> int:
        digits = self.match(_NUMBER)
        if digits is None:
            got = f"'{self.rest()}'" if self.rest() else "the end"
            raise self.fail(f"expected a {spec.name} (a number, or '*') at {got}")
        value = int(digits)
        if not spec.first <= value <= spec.last:
            raise self.fail(
                f"{spec.name} {value} is out of range (valid: {spec.first}..{spec.last})"
            )
        return value

    def step(self, spec: _Field) -> int:
        digits = self.match(_NUMBER)
        if digits is None or not 1 <= int(digits) <= spec.last:
            got = digits if digits is not None else self.rest() or "nothing"
            raise self.fail(
                f"the {spec.name} repeat after '/' must be a number from 1 to {spec.last}, "
                f"got '{got}'"
            )
        return int(digits)

    # [[YEARS-]MONTHS-DAYS]
    def date(self) -> dict[str, tuple[Value, ...]]:
        start = self.pos
        parts = [self.match(_LIST_CHARS) or ""]
        while self.take("-"):
            parts.append(self.match(_LIST_CHARS) or "")
        self.pos = start
        if len(parts) > 3:
            raise self.fail(
                f"a date has at most three parts (YEARS-MONTHS-DAYS) at '{self.rest()}'"
            )
        fields = (_YEAR, _MONTH, _DAY) if len(parts) == 3 else (_MONTH, _DAY)
        result: dict[str, tuple[Value, ...]] = {}
        for index, spec in enumerate(fields):
            if index:
                self.take("-")
            result[spec.name] = self.values(spec)
        return result

    # [[HOURS:]MINUTES[:SECONDS]]
    def time(self) -> dict[str, tuple[Value, ...]]:
        start = self.pos
        count = 1
        self.match(_LIST_CHARS)
        while self.take(":"):
            count += 1
            self.match(_LIST_CHARS)
        self.pos = start
        if count > 3:
            raise self.fail(
                f"a time has at most three parts (HOURS:MINUTES:SECONDS) at '{self.rest()}'"
            )
        fields = ((_MINUTE,), (_HOUR, _MINUTE), (_HOUR, _MINUTE, _SECOND_FIELD))[count - 1]
        result: dict[str, tuple[Value, ...]] = {}
        for index, spec in enumerate(fields):
            if index:
                self.take(":")
            result[spec.name] = self.values(spec)
        return result


def parse_calendar_event(text: str, what: str = "schedule") -> CalendarEvent:
    """Parse ``text`` (surrounding whitespace ignored) into a :class:`CalendarEvent`.

    Raises InputError naming ``what``, the part that is wrong, why, and what is valid.
    """
    event = text.strip()
    if not event:
        raise InputError(what, text, f"the calendar event is empty (expected {_FORMAT})")
    body, utc = event, False
    if body.endswith("UTC"):
        body, utc = body[:-3].rstrip(" "), True
    if body in _KEYWORDS:
        return CalendarEvent(event, utc, **_KEYWORDS[body])  # type: ignore[arg-type]
    if not body:
        raise InputError(what, text, f"'UTC' alone is no event (expected {_FORMAT})")
    parser = _Parser(body, what)
    weekdays: frozenset[int] = frozenset()
    if body[0].isascii() and body[0].isalpha():
        weekdays = parser.weekdays()
        parser.skip_spaces()
    date: dict[str, tuple[Value, ...]] = {}
    if _DATE_AHEAD.match(body, parser.pos):
        date = parser.date()
        parser.skip_spaces()
    time: dict[str, tuple[Value, ...]] = {"hour": _ZERO, "minute": _ZERO, "second": _ZERO}
    if _TIME_AHEAD.match(body, parser.pos):
        time = {"second": _ZERO, "hour": (), **parser.time()}
    if parser.pos < len(body):
        raise parser.fail(
            f"unexpected '{parser.rest()}' (expected {_FORMAT}; parts are separated by spaces)"
        )
    return CalendarEvent(
        event,
        utc,
        weekdays,
        years=date.get("year", ()),
        months=date.get("month", ()),
        days=date.get("day", ()),
        hours=time["hour"],
        minutes=time["minute"],
        seconds=time["second"],
    )


def occurrences(
    event: CalendarEvent, after: int | float | datetime, count: int, zone: tzinfo | None = None
) -> Iterable[int]:
    """Up to ``count`` occurrences after ``after``, each computed from the one before."""
    last = _epoch_of(after)
    for _ in range(count):
        following = event.next_event(last, zone)
        if following is None:
            return
        yield following
        last = following
