"""Write-behind for big sequential files: start writeback early, keep the page cache clean.

An archive of several GiB left to the final fsync makes that fsync wait for all of it, and
fills the page cache with data nobody will read soon (evicting the VMs' own cache). Asking
the kernel every few dozen MiB to write back and drop what is written (POSIX_FADV_DONTNEED
starts writeback of dirty pages and drops clean ones) spreads the writing over the copy, so
the final fsync finds little left to do.
"""

from __future__ import annotations

import contextlib
import os

DEFAULT_STEP = 64 << 20


class WriteBehind:
    def __init__(self, fd: int, step: int = DEFAULT_STEP) -> None:
        self.fd = fd
        self.step = step
        self._since = 0
        self._windows = [0, 0]  # file offsets of the last two pushes

    def advance(self, nbytes: int) -> None:
        """Count bytes handed towards the file; every ``step`` bytes, push them out."""
        self._since += nbytes
        if self._since >= self.step:
            self._since = 0
            self.push()

    def push(self) -> None:
        """Write back what was written since the push before last, drop what is clean.

        Pages still under writeback are not dropped by the kernel, so each range is advised
        twice: once to start its writeback, once more a step later to drop it.
        """
        with contextlib.suppress(OSError):  # advice only: ignoring it loses nothing
            end = os.lseek(self.fd, 0, os.SEEK_CUR)
            start = self._windows[0]
            if end > start:
                os.posix_fadvise(self.fd, start, end - start, os.POSIX_FADV_DONTNEED)
            self._windows = [self._windows[1], end]
