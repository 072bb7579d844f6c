"""The backup log: lines go to the backup store's log as they happen, and never fail a backup."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from respaldo.errors import StorageError
from respaldo.services.vzdump.tasklog import BackupLog
from tests.unit.conftest import Backend

NAME = "vzdump-qemu-100-2024_05_20-18_11_48.vma.zst"


def test_lines_before_and_after_attach_reach_the_store(backend: Backend, tmp_path: Path) -> None:
    store = backend.store("local", tmp_path / "dump")
    log = BackupLog()
    log.info("Starting Backup of VM 100 (qemu)")
    log.attach(functools.partial(store.append_log, NAME))
    log.warn("guest agent not answering")
    log.detach()
    log.info("after detach: in memory only")
    text = store.read_log(NAME)
    assert text is not None
    assert [line.split(" ", 2)[2] for line in text.splitlines()] == [
        "INFO: Starting Backup of VM 100 (qemu)",
        "WARN: guest agent not answering",
    ]
    assert log.text().count("\n") == 3 and log.warnings == 1


def test_a_log_that_cannot_be_written_is_a_warning() -> None:
    calls: list[Sequence[str]] = []

    def broken(lines: Sequence[str]) -> None:
        calls.append(list(lines))
        if len(calls) > 1:
            raise StorageError("cannot write log /x.log: disk full")

    log = BackupLog()
    log.attach(broken)
    log.info("one")
    log.info("two")
    assert len(calls) == 2  # given up after the failure
    assert log.warnings == 1
    assert "WARN: cannot write the log file: cannot write log /x.log: disk full" in log.text()
    assert "INFO: two" in log.text()
