"""The QEMU processes a test's data dir started: found by its pid files, killed at teardown."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from respaldo.qemu import process


def kill_qemus(home: Path) -> None:
    """Kill every QEMU named by a pid file under ``<home>/run/qemu`` whose command line names
    that folder (a pid reused by another process is left alone)."""
    run_dir = home / "run" / "qemu"
    for pidfile in run_dir.glob("*.pid") if run_dir.is_dir() else []:
        try:
            pid = int(pidfile.read_text())
        except (OSError, ValueError):
            continue
        if os.fsencode(run_dir) in process.command_line(pid):
            with contextlib.suppress(Exception):
                process.kill(pid)
