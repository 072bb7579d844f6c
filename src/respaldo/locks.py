"""Advisory file locks (flock) that serialise changes to one VM or one config file.

Several CLI processes, the API server and task workers may act on the same VM at once; the lock
is what makes "read config, check, change, write" one step, as Proxmox's lock-<vmid>.conf does.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from respaldo.errors import LockTimeout

_MAX_BACKOFF = 0.1


@contextmanager
def file_lock(
    path: Path,
    what: str,
    timeout: float = 10.0,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold an exclusive flock on ``path``; raise LockTimeout after ``timeout`` seconds.
    ``on_wait()`` is called once when the lock is held by someone else, before waiting (to
    say that it waits).

    flock has no timeout of its own, and an alarm signal only works in the main thread, so the
    wait retries a non-blocking attempt with a short, growing pause.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + timeout
        pause = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if on_wait is not None:
                    on_wait()
                    on_wait = None
                if time.monotonic() >= deadline:
                    raise LockTimeout(what, timeout) from None
                time.sleep(pause)
                pause = min(pause * 2, _MAX_BACKOFF)
        yield
    finally:
        os.close(fd)
