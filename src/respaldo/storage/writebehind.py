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

    def advance(self, nbytes: int) -> None:
        """Count bytes handed towards the file; every ``step`` bytes, push them out."""
        self._since += nbytes
        if self._since >= self.step:
            self._since = 0
            self.push()

    def push(self) -> None:
        with contextlib.suppress(OSError):  # advice only: ignoring it loses nothing
            os.posix_fadvise(self.fd, 0, 0, os.POSIX_FADV_DONTNEED)
