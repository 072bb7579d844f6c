"""The pieces a browser test and the UI benchmark share: Debian's Chromium with its flags, and
``respaldo server`` started as a user starts it (a subprocess on a free loopback port)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from respaldo.node import Node
from respaldo.tasks.proc import is_running
from respaldo.tasks.store import TaskStore
from respaldo.tasks.upid import decode
from tests.integration.conftest import Cli
from tests.qemus import kill_qemus
from tests.serverproc import LOOPBACK, free_port, start_server

CHROMIUM = Path("/usr/bin/chromium")
#: Headless Chromium as root, with nothing that reaches out to the network by itself.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-sync",
    "--disable-extensions",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-pings",
]


@dataclass
class Server:
    """A running ``respaldo server`` and the node it serves."""

    home: Path
    env: dict[str, str]
    url: str = ""
    password: str = ""
    proc: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    def cli(self, *args: str, timeout: float = 60) -> str:
        """``respaldo <args>`` on the node (as its user would type it); its stdout."""
        return Cli(self.home, self.env).run(*args, timeout=timeout).stdout

    def start(self) -> None:
        started = start_server(self.env, free_port(), timeout=30, new_session=True)
        self.proc, self.output = started.proc, started.output
        self.url = f"https://{LOOPBACK}:{started.port}/"
        self.password = (self.home / "config" / "priv" / "admin-password").read_text().strip()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.kill_tasks()
        kill_qemus(self.home)

    def kill_tasks(self) -> None:
        """Kill every task process of the node still running (and its work process group)."""
        store = TaskStore.for_node(Node(self.home, self.env.get("RESPALDO_NODE", "")))
        with contextlib.suppress(Exception):
            rows, _ = store.list_tasks(start=0, limit=10_000, source="all")
            for row in rows:
                upid = decode(str(row["upid"]))
                if is_running(upid.pid, upid.pstart):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(upid.pid, signal.SIGKILL)
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(upid.pid, signal.SIGKILL)
