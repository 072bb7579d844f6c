"""The task context: where a service reports while it works, whoever started it.

A service (vzdump, qmrestore, prune, a VM power operation) never prints and never sees a
request, a user or argparse's ``Namespace``: it is handed a :class:`TaskContext` and writes
its log lines, warnings and progress there, and asks it whether a stop was requested. The
CLI's context prints (:class:`PrintContext`); a task's writes its log under ``log/tasks/``
and, in the CLI, prints too (:class:`FileContext`, used by :mod:`respaldo.tasks.worker`);
tests collect lines in memory (:class:`MemoryContext`).

Lines are Proxmox's task log lines as they are written, e.g. ``INFO: starting new backup
job: vzdump 100 ...`` for vzdump or ``progress 45% (read 1234 bytes, duration 3 sec)`` for a
restore; the context adds nothing to them. A warning is counted, so the task can end with
``TASK WARNINGS: <n>`` as Proxmox's do (pve-common ``PVE/RESTEnvironment.pm``: ``warn``
counts and logs ``WARN: <message>``).
"""

from __future__ import annotations

import errno
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TextIO, runtime_checkable

from respaldo.errors import TaskStopped


@runtime_checkable
class TaskContext(Protocol):
    """What a running service reports to. Implementations are thread-safe."""

    @property
    def warnings(self) -> int:
        """How many warnings were reported so far."""
        ...

    def log(self, line: str) -> None:
        """One line of the task log, as is (several lines are split at line breaks)."""
        ...

    def warn(self, message: str) -> None:
        """A warning: logged as ``WARN: <message>`` and counted."""
        ...

    def progress(self, done: int, total: int, line: str) -> None:
        """Progress of the work (``done`` of ``total``, in the work's unit, e.g. bytes),
        with the log line that says it."""
        ...

    def stop_requested(self) -> bool:
        """Whether someone asked the task to stop (``DELETE /nodes/{node}/tasks/{upid}``,
        a signal): the service should end, undoing what it changed."""
        ...

    def check_stop(self) -> None:
        """Raise :class:`~respaldo.errors.TaskStopped` if a stop was requested."""
        ...


class BaseContext:
    """Counting, the stop flag and line splitting; subclasses say where a line goes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._warnings = 0
        self._stop = threading.Event()
        self._reason: str | None = None

    @property
    def warnings(self) -> int:
        return self._warnings

    def _write(self, line: str) -> None:
        raise NotImplementedError

    def log(self, line: str) -> None:
        with self._lock:
            for part in line.splitlines() or [""]:
                self._write(part)

    def warn(self, message: str) -> None:
        with self._lock:
            self._warnings += 1
        self.log(f"WARN: {message}")

    def progress(self, done: int, total: int, line: str) -> None:
        self.log(line)

    def request_stop(self, reason: str | None = None) -> None:
        """Ask the work to stop (from a signal handler or another thread); ``reason`` is what
        :meth:`check_stop` raises (TaskStopped's own by default)."""
        if reason is not None and not self._stop.is_set():
            self._reason = reason
        self._stop.set()

    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def check_stop(self) -> None:
        if self._stop.is_set():
            raise TaskStopped() if self._reason is None else TaskStopped(self._reason)


class PrintContext(BaseContext):
    """The CLI's context: every line to standard output (or ``out``) at once."""

    def __init__(self, out: TextIO | None = None) -> None:
        super().__init__()
        self._out = out

    def _write(self, line: str) -> None:
        out = self._out or sys.stdout  # looked up at call time, so redirected output is honoured
        out.write(line + "\n")
        out.flush()


class MemoryContext(BaseContext):
    """Lines kept in memory (tests, and where the lines are wanted as text afterwards)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def _write(self, line: str) -> None:
        self.lines.append(line)

    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)


class FileContext(BaseContext):
    """A task's context: every line appended to the task log at once, and echoed to ``echo``
    (the CLI's standard output) when given.

    Each line is one ``write`` to a file opened with ``O_APPEND``, so the task process and its
    work process can both write to the log without tearing lines. A failing echo stops the
    echo, never the log; when the echo's reader is gone (a closed pipe, a hung-up terminal)
    ``on_echo_lost()`` is called once. Raises OSError if the log cannot be opened.
    """

    def __init__(
        self,
        path: Path,
        echo: TextIO | None = None,
        on_echo_lost: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        self._fd = os.open(path, flags, 0o640)
        self._echo = echo
        self._on_echo_lost = on_echo_lost

    def _write(self, line: str) -> None:
        data = (line + "\n").encode("utf-8", "replace")
        while data:
            data = data[os.write(self._fd, data) :]
        if self._echo is not None:
            try:
                self._echo.write(line + "\n")
                self._echo.flush()
            except (OSError, ValueError) as err:
                self._echo = None
                lost = isinstance(err, OSError) and err.errno in (errno.EPIPE, errno.EIO)
                if lost and self._on_echo_lost is not None:
                    self._on_echo_lost()

    def stop_echo(self) -> None:
        """Write further lines to the log only."""
        with self._lock:
            self._echo = None

    def close(self) -> None:
        """Close the log (idempotent)."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
