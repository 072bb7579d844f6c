"""A backup log: Proxmox-style ``INFO:`` lines, with timestamps in the log beside the archive.

The lines go to the task's context (the terminal or the task log) as they happen, and to the
backup's log in its store (``BackupStore.append_log``: the ``<stem>.log`` file of ``dir``
storage), which grows line by line, so a backup that dies still leaves its log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from respaldo.errors import RespaldoError
from respaldo.tasks.context import TaskContext

#: Appends lines (without their newline) to a backup's log; raises RespaldoError.
LogAppender = Callable[[Sequence[str]], None]


class BackupLog:
    def __init__(self, ctx: TaskContext | None = None) -> None:
        self._ctx = ctx
        self._lines: list[str] = []
        self._append: LogAppender | None = None
        self.warnings = 0

    def attach(self, append: LogAppender) -> None:
        """From now on also append every line with ``append`` (the lines so far first), e.g.
        ``functools.partial(store.append_log, filename)``.

        A log that cannot be written never fails the backup: the lines stay in memory (for
        the mail and the task) and a warning says why the log is missing.
        """
        self._append = append
        self._write(self._lines)

    def _write(self, lines: Sequence[str]) -> None:
        if self._append is None:
            return
        try:
            self._append(lines)
        except RespaldoError as err:
            self._append = None
            self.warn(f"cannot write the log file: {err}")

    def detach(self) -> None:
        self._append = None

    def _add(self, level: str, message: str) -> None:
        # time.time(), not strftime's default (glibc's coarse time(), up to a tick behind):
        # the log's stamps agree with the archive's name and "Backup started at"
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time()))
        for part in message.splitlines() or [""]:
            line = f"{stamp} {level}: {part}"
            self._lines.append(line)
            self._write([line])
            if self._ctx is None:
                continue
            if level == "WARN":
                self._ctx.warn(part)
            else:
                self._ctx.log(f"{level}: {part}")

    def info(self, message: str) -> None:
        self._add("INFO", message)

    def warn(self, message: str) -> None:
        self.warnings += 1
        self._add("WARN", message)

    def error(self, message: str) -> None:
        self._add("ERROR", message)

    def check_stop(self) -> None:
        """Raise TaskStopped if the task was asked to stop (see TaskContext.check_stop)."""
        if self._ctx is not None:
            self._ctx.check_stop()

    def text(self) -> str:
        return "".join(line + "\n" for line in self._lines)
