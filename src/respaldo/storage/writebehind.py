"""Write-behind for big sequential files: durable as they grow, kept out of the page cache.

An archive of several GiB left to one fsync at the end makes that fsync wait for all of it.
On this machine's virtual disk an fsync costs time in proportion to what was written since
the one before, even when the kernel had written every page back already (700 MiB: 0.9 s
with no dirty page left; 32 MiB: 0.04 s). Written archives would also fill the page cache
with data nobody reads soon, evicting the VMs' own cache. So every ``step`` bytes a thread of
its own makes the file durable up to there (fdatasync, beside the copy) and then drops those
pages, clean by then (POSIX_FADV_DONTNEED); the final fsync finds little left to do.

The first error of a background fdatasync is kept and raised, as a ``StorageError``, by the
next :meth:`WriteBehind.advance` and by :meth:`WriteBehind.finish`: Linux reports a write-back
error to an open file once, so the final fsync might not see it.
"""

from __future__ import annotations

import contextlib
import os
import threading

from respaldo.errors import StorageError

DEFAULT_STEP = 32 << 20


class WriteBehind:
    def __init__(self, fd: int, step: int = DEFAULT_STEP, what: str = "the file") -> None:
        self.fd = fd
        self.step = step
        self.what = what
        self.syncs = 0
        self.attempted = threading.Event()  # set after each background fdatasync, done or failed
        self.error: OSError | None = None
        self._since = 0
        self._dropped = 0  # the page cache holds nothing of the file below this offset
        self._wake = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="write-behind", daemon=True)
        self._thread.start()

    def advance(self, nbytes: int) -> None:
        """Count bytes handed towards the file; every ``step`` bytes, wake the syncing thread
        (it never makes the caller wait). Raises when an earlier background sync failed."""
        self._raise_error()
        self._since += nbytes
        if self._since >= self.step:
            self._since = 0
            self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stop or self.error is not None:
                return
            self._sync_written()

    def _sync_written(self) -> None:
        try:
            end = os.lseek(self.fd, 0, os.SEEK_CUR)
            os.fdatasync(self.fd)
        except OSError as err:
            self.error = err
            self.attempted.set()
            return
        self.syncs += 1
        with contextlib.suppress(OSError):  # advice only: ignoring it loses nothing
            os.posix_fadvise(self.fd, self._dropped, end - self._dropped, os.POSIX_FADV_DONTNEED)
            self._dropped = end
        self.attempted.set()

    def stop(self) -> None:
        """End the syncing thread; never raises (for error paths)."""
        self._stop = True
        self._wake.set()
        self._thread.join()

    def finish(self) -> None:
        """End the syncing thread; raise the first error a background fdatasync met."""
        self.stop()
        self._raise_error()

    def _raise_error(self) -> None:
        if self.error is not None:
            raise StorageError(f"cannot make {self.what} durable: {self.error}") from self.error

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
