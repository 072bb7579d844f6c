"""Progress lines (percent, rate, ETA) and the bandwidth limit of a copy."""

from __future__ import annotations

import time
from collections.abc import Callable

from respaldo.formats import human_size, short_duration

REPORT_INTERVAL = 1.0
MIB = 1 << 20


class Progress:
    def __init__(
        self, total: int, emit: Callable[[str], None], label: str = "", quiet: bool = False
    ) -> None:
        """``label`` prefixes each progress line (a disk's name); ``quiet`` only counts."""
        self.total = total
        self.emit = emit
        self.label = f"{label}: " if label else ""
        self.quiet = quiet
        self.done = 0
        self.read = 0
        self.started = time.monotonic()
        self._last_report = self.started
        self._last_percent = -1

    def advance(self, length: int, read: int) -> None:
        self.done += length
        self.read += read
        now = time.monotonic()
        percent = self.done * 100 // self.total if self.total else 100
        due = now - self._last_report >= REPORT_INTERVAL and percent != self._last_percent
        if self.quiet:
            return
        if due or (self.done >= self.total and self._last_percent != 100):
            self._report(now, percent)

    def _report(self, now: float, percent: int) -> None:
        self._last_report = now
        self._last_percent = percent
        elapsed = max(now - self.started, 1e-6)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate else 0.0
        self.emit(
            f"{self.label}{percent:3d}% ({human_size(self.done)} of {human_size(self.total)}) "
            f"in {short_duration(elapsed)}, read: {human_size(self.read / elapsed)}/s, "
            f"ETA {short_duration(eta)}"
        )

    def finish(self, zero_bytes: int, written: int) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        share = zero_bytes * 100 / self.total if self.total else 0.0
        self.emit(f"backup is sparse: {human_size(zero_bytes)} ({share:.0f}%) total zero data")
        self.emit(
            f"transferred {human_size(self.total)} in {elapsed:.2f} seconds "
            f"({human_size(self.total / elapsed)}/s), read {human_size(self.read)}, "
            f"wrote {human_size(written)}"
        )


class Throttle:
    """Keeps the data read at or under ``rate`` bytes per second (0 = no limit)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.taken = 0
        self.started = time.monotonic()

    def take(self, length: int) -> None:
        if not self.rate:
            return
        self.taken += length
        ahead = self.taken / self.rate - (time.monotonic() - self.started)
        if ahead > 0:
            time.sleep(ahead)  # a bandwidth limit is a wait by definition
