from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


@contextmanager
def local_tz(spec: str) -> Iterator[None]:
    """Run with the local time zone set to ``spec`` (a TZ string), then restore it."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = spec
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


def next_second() -> None:
    """Wait into the next wall-clock second. A backup archive is named by the second its
    backup starts in (``vzdump-qemu-<vmid>-YYYY_MM_DD-HH_MM_SS``): a second backup of a VM
    that starts in the same second is refused ("already exists"), as it must be."""
    time.sleep(1.0 - time.time() % 1.0)
