"""The task process that :func:`respaldo.tasks.worker.spawn` starts:
``python -P -m respaldo.tasks.runner``, the task's description as JSON on standard input.

Its standard output and error become the task log (so that anything a program it runs
prints lands there), standard input ``/dev/null``; then it runs the task
(:class:`respaldo.tasks.worker.TaskRun`) and exits 0 (OK or warnings) or 1.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

from respaldo.tasks.context import FileContext
from respaldo.tasks.store import TaskStore, status_is_error
from respaldo.tasks.upid import decode
from respaldo.tasks.worker import EXIT_FAILED, EXIT_OK, STOP_SIGNALS, TaskRun, resolve_entry


def _redirect(log: Path) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]


def main() -> int:
    # Held back until the task runs (spawn starts this process with them blocked already).
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    spec: dict[str, Any] = json.loads(sys.stdin.buffer.read())
    upid = decode(spec["upid"])
    store = TaskStore(Path(spec["task_dir"]))
    _redirect(store.log_path(upid))
    try:
        work = resolve_entry(spec["entry"])
        recover = resolve_entry(spec["recover"]) if spec["recover"] else None
        run = TaskRun(store, upid, work, spec["params"], recover, spec["grace"], echo=None)
    except Exception as err:
        # The entry was checked when the task was started; the code changed since.
        log = FileContext(store.log_path(upid))
        log.log(traceback.format_exc().rstrip("\n"))
        log.log(f"TASK ERROR: {err}")
        log.close()
        store.finish(upid)
        return EXIT_FAILED
    status = run.run()
    return EXIT_FAILED if status_is_error(status) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
