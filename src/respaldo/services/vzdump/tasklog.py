"""A backup log: Proxmox-style ``INFO:`` lines, with timestamps in the file next to the archive.

The lines go to the task's context (the terminal or the task log) as they happen, and to a log
file beside the archive that grows line by line, so a backup that dies still leaves its log.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TextIO

from respaldo.tasks.context import TaskContext


class BackupLog:
    def __init__(self, ctx: TaskContext | None = None) -> None:
        self._ctx = ctx
        self._lines: list[str] = []
        self._file: TextIO | None = None
        self.warnings = 0

    def attach(self, path: Path) -> None:
        """From now on also write to ``path`` (the lines so far are written first).

        A log file that cannot be written never fails the backup: the lines stay in memory
        (for the mail and the task) and a warning says why the file is missing.
        """
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")
            for line in self._lines:
                self._file.write(line + "\n")
            self._file.flush()
        except OSError as err:
            self._drop_file(err)

    def _drop_file(self, err: OSError) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
        self._file = None
        self.warn(f"cannot write the log file: {err}")

    def detach(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def _add(self, level: str, message: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        for part in message.splitlines() or [""]:
            line = f"{stamp} {level}: {part}"
            self._lines.append(line)
            if self._file is not None:
                try:
                    self._file.write(line + "\n")
                    self._file.flush()
                except OSError as err:
                    self._drop_file(err)
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

    def text(self) -> str:
        return "".join(line + "\n" for line in self._lines)
