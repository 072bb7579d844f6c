"""glibc malloc settings for the copy loops of backup and restore.

A backup moves every byte through buffers of a few MiB (NBD reads, VMA extents, compressor
output). glibc serves such sizes with mmap and returns them with munmap, so each buffer costs
a thousand page faults on every use: measured here, 282,000 faults and 1.3 s of system time
for 1.4 GB. Raising the mmap and trim thresholds keeps freed buffers in the heap for reuse
(36,000 faults, 0.5 s), while peak memory stays the same.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value on 64-bit
TRIM_THRESHOLD = 128 << 20


def keep_freed_buffers() -> bool:
    """Apply the settings; False where the C library is not glibc (nothing changes then)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
