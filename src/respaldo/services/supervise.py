"""Running long work (a backup, a restore) in a worker process, cleaning up if it is killed.

The worker does the work; this process only waits. When the worker dies of a signal (killed,
out of memory), nothing in it could undo what it had changed, so the supervisor does it from the
recovery records the worker kept (``recover(pid)``, e.g. vzdump's recovery.py).
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Callable

from respaldo import memtune

EXIT_CRASH = 70


def run_supervised(work: Callable[[], int], recover: Callable[[int], list[str]]) -> int:
    """Run ``work`` in a forked worker; returns its exit code (1 when it was killed).

    ``recover(pid)`` undoes what a killed worker left and says what it did.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _worker(work)
    # Ctrl-C reaches the worker too (same process group); it cleans up by itself.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _, status = os.waitpid(pid, 0)
    finally:
        signal.signal(signal.SIGINT, previous)
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        print(f"ERROR: worker {pid} was killed by {name}; cleaning up", flush=True)
        for note in recover(pid):
            print(f"INFO: {note}", flush=True)
        return 1
    return os.waitstatus_to_exitcode(status)


def _worker(work: Callable[[], int]) -> None:
    code = EXIT_CRASH
    memtune.keep_freed_buffers()
    try:
        code = work()
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
