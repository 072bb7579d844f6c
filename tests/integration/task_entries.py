"""Task entry points for tests/integration/test_tasks.py (``tests.integration.task_entries:x``).

Entries that run until stopped write ``<pid> <pstart>`` of their work process to ``pidfile``
first, so that a test can find (and at teardown kill) it.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from respaldo.errors import TaskError, TaskStopped
from respaldo.tasks.context import TaskContext
from respaldo.tasks.proc import process_start

LONG = 600.0  # seconds: longer than any test


def _note_pid(pidfile: str, pid: int | None = None) -> None:
    pid = pid or os.getpid()
    tmp = Path(f"{pidfile}.tmp")
    tmp.write_text(f"{pid} {process_start(pid)}\n")
    tmp.rename(pidfile)


def lines(ctx: TaskContext, lines: list[str]) -> None:
    for line in lines:
        ctx.log(line)


def warns(ctx: TaskContext, count: int) -> None:
    ctx.log("checking")
    for n in range(count):
        ctx.warn(f"something odd #{n + 1}")


def fails(ctx: TaskContext, message: str) -> None:
    ctx.log("about to fail")
    raise TaskError(message)


def crashes(ctx: TaskContext) -> None:
    ctx.log("about to crash")
    raise ValueError("an unexpected\nvalue")


def steps(ctx: TaskContext, fifo: str) -> None:
    """One log line per line written to ``fifo``; ends when the writer closes it."""
    with open(fifo, encoding="utf-8") as f:
        for line in f:
            ctx.log(f"step {line.strip()}")


def waits(ctx: TaskContext, pidfile: str, helper_pidfile: str = "") -> None:
    """Runs until stopped; cleans up in ``finally``. With ``helper_pidfile``, a helper
    program (``sleep``) runs beside it, as a compressor runs beside a backup."""
    helper = None
    if helper_pidfile:
        helper = subprocess.Popen(["sleep", str(LONG)])
        _note_pid(helper_pidfile, helper.pid)
    ctx.log("waiting")
    try:
        _note_pid(pidfile)  # the test acts once it sees this: all above has happened
        time.sleep(LONG)
    finally:
        ctx.log(f"cleanup ran (stop requested: {ctx.stop_requested()})")
        if helper is not None:
            helper.kill()
            helper.wait()


def stubborn(ctx: TaskContext, pidfile: str) -> None:
    """Ignores a stop: the task process has to kill it."""
    deadline = time.monotonic() + LONG
    while time.monotonic() < deadline:
        try:
            if not Path(pidfile).exists():
                _note_pid(pidfile)
            time.sleep(LONG)
        except TaskStopped:
            ctx.log("not stopping")


def recover(pid: int) -> list[str]:
    """Leaves a mark in the node's data dir, as a real recover entry changes the node."""
    home = Path(os.environ["RESPALDO_HOME"])
    (home / f"recovered-{pid}").write_text("done\n")
    return [f"undid what work process {pid} left"]
