"""Running a backup job in a worker process, and cleaning up when the worker is killed.

The worker does the work; this process only waits. When the worker dies of a signal (killed,
out of memory), nothing in it could undo what it had changed, so the supervisor does it from the
recovery records the worker kept (see recovery.py).
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Callable

from respaldo import memtune
from respaldo.node import Node
from respaldo.services.vzdump import recovery

EXIT_CRASH = 70


def recover_worker(node: Node, pid: int) -> list[str]:
    notes: list[str] = []
    folder = node.run_dir / "vzdump"
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if not path.stem.isdigit():
            continue
        state = recovery.load(node, int(path.stem))
        if state is not None and state.pid == pid:
            recovery.undo(node, state, notes)
    return notes


def run_supervised(node: Node, work: Callable[[], int]) -> int:
    """Run ``work`` in a forked worker; returns its exit code (1 when it was killed)."""
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
        print(f"ERROR: backup worker {pid} was killed by {name}; cleaning up", flush=True)
        for note in recover_worker(node, pid):
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
