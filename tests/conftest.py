from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, settings

# No per-example deadline and no "too slow" health check: how long an example takes says
# nothing of its correctness, and on a loaded 2-core CI machine Hypothesis's defaults (a
# 200 ms deadline) fail by chance.
settings.register_profile("respaldo", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("respaldo")

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
