"""End-to-end tier: ``respaldo server`` started as a user starts it, driven over HTTPS.

The :func:`server` fixture runs ``.venv/bin/respaldo server`` as a subprocess on a data dir of
its own (``config/node.cfg`` with ``accel: tcg``: KVM does not run guests on the project's
machines), on a free loopback port with a short 401 delay, waits until it says it listens, and
reads the password the first start gave ``admin@pve``. At teardown, passed or failed, it stops
the server, kills every task process of the data dir's active list, every QEMU of its pid
files and any other process whose environment names the data dir (work processes, qemu-nbd,
compressors), and removes the data dir.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from proxmoxer import ProxmoxAPI  # type: ignore[import-untyped]
from proxmoxer.tools import Tasks  # type: ignore[import-untyped]

from respaldo.qemu import process
from respaldo.tasks.proc import is_running
from respaldo.tasks.upid import decode
from tests.qemus import kill_qemus
from tests.serverproc import RESPALDO, free_port, start_server

#: Seconds the server may take to start (first start: RSA keys for TLS and tickets).
START_TIMEOUT = 60.0
#: The 401 delay the tests run with (Proxmox: 3 s).
AUTH_DELAY = "0.1"


def _env_of(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def processes_of(home: Path) -> list[int]:
    """Every process (but this one) whose environment has ``RESPALDO_HOME=<home>``."""
    marker = b"RESPALDO_HOME=" + os.fsencode(home) + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        pid = int(entry.name) if entry.name.isdigit() else os.getpid()
        if pid != os.getpid() and marker in _env_of(pid):
            found.append(pid)
    return found


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def kill_tasks(home: Path) -> None:
    """SIGKILL every live task process of ``log/tasks/active`` (each leads its own session,
    so its group goes with it)."""
    active = home / "log" / "tasks" / "active"
    lines = active.read_text().splitlines() if active.is_file() else []
    for line in lines:
        with contextlib.suppress(Exception):
            upid = decode(line.split()[0])
            if is_running(upid.pid, upid.pstart):
                _signal_group(upid.pid, signal.SIGKILL)


def kill_the_rest(home: Path) -> None:
    for pid in processes_of(home):
        _signal_group(pid, signal.SIGKILL)
    for pid in processes_of(home):
        process.wait_exit(pid, 10)


@dataclass
class Server:
    """A ``respaldo server`` on a data dir of its own; ``start``/``stop`` as often as needed."""

    home: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)
    password: str = ""
    node: str = ""

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RESPALDO_")}
        env["RESPALDO_HOME"] = str(self.home)
        return env

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/api2/json"

    @property
    def ca(self) -> str:
        """The server's certificate, which the tests trust."""
        return str(self.home / "config" / "local" / "pve-ssl.pem")

    def start(self) -> None:
        """Start the server and return once it listens (ServerDidNotStart, with its output,
        if it exits first or does not listen within START_TIMEOUT)."""
        assert self.proc is None or self.proc.poll() is not None
        started = start_server(
            self.env, self.port, auth_delay=AUTH_DELAY, timeout=START_TIMEOUT, cwd=self.home
        )
        self.proc, self.output = started.proc, started.output
        if not self.password:
            self.password = (self.home / "config" / "priv" / "admin-password").read_text().strip()
        if not self.node:
            nodes = self.request("GET", "/nodes", auth=self.login()).json()["data"]
            self.node = nodes[0]["node"]

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Stop the server (SIGKILL after 15 s); its exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.stop()
        kill_tasks(self.home)
        kill_qemus(self.home)
        kill_the_rest(self.home)

    # -- clients ------------------------------------------------------------------------------

    def request(
        self,
        http: str,
        path: str,
        auth: Login | None = None,
        csrf: bool = True,
        **kwargs: Any,
    ) -> requests.Response:
        """A raw request to ``/api2/json<path>`` (with a ticket and CSRF token if given)."""
        headers = dict(kwargs.pop("headers", {}))
        cookies = {}
        if auth is not None:
            cookies["PVEAuthCookie"] = auth.ticket
            if csrf:
                headers["CSRFPreventionToken"] = auth.csrf
        return requests.request(
            http,
            self.url + path,
            headers=headers,
            cookies=cookies,
            verify=self.ca,
            timeout=30,
            **kwargs,
        )

    def login(self, user: str = "admin@pve", password: str | None = None) -> Login:
        reply = self.request(
            "POST",
            "/access/ticket",
            data={"username": user, "password": password or self.password},
        )
        assert reply.status_code == 200, reply.text
        data = reply.json()["data"]
        return Login(data["username"], data["ticket"], data["CSRFPreventionToken"])

    def proxmox(self, **auth: str) -> ProxmoxAPI:
        """proxmoxer on this server: ticket login as admin@pve by default, or ``auth`` (e.g.
        ``user``, ``token_name``, ``token_value``)."""
        if not auth:
            auth = {"user": "admin@pve", "password": self.password}
        return ProxmoxAPI("127.0.0.1", port=self.port, verify_ssl=self.ca, timeout=30, **auth)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``respaldo <args>`` on the server's data dir."""
        proc = subprocess.run(
            [str(RESPALDO), *args],
            env=self.env,
            text=True,
            capture_output=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"respaldo {' '.join(args)}: {proc.returncode}: {proc.stderr}")
        return proc


@dataclass(frozen=True)
class Login:
    userid: str
    ticket: str
    csrf: str


def wait_task(
    prox: ProxmoxAPI, upid: str, timeout: float = 120, exitstatus: str = "OK"
) -> list[str]:
    """Follow a task with proxmoxer to its end; it must end with ``exitstatus`` (``OK``, or
    ``WARNINGS: <n>``). Its log lines."""
    status = Tasks.blocking_status(prox, upid, timeout=timeout, polling_interval=0.2)
    assert status is not None, f"task {upid} still runs after {timeout} s"
    node = Tasks.decode_upid(upid)["node"]
    lines = [row["t"] for row in prox.nodes(node).tasks(upid).log.get(limit=0)]
    assert status["exitstatus"] == exitstatus, "\n".join(lines)
    assert lines[-1] == f"TASK {exitstatus}"
    return lines


def new_home() -> Path:
    """A short data dir (QMP socket paths must fit in 107 bytes) with ``accel: tcg``."""
    home = Path(tempfile.mkdtemp(prefix="rs-e2e-"))
    (home / "config").mkdir()
    (home / "config" / "node.cfg").write_text("accel: tcg\n")
    return home


@contextlib.contextmanager
def running_server() -> Iterator[Server]:
    if shutil.which("qemu-system-x86_64") is None:
        pytest.fail("qemu-system-x86_64 is not installed: run scripts/setup first")
    server = Server(new_home())
    try:
        server.start()
        yield server
    finally:
        try:
            server.cleanup()
        finally:
            shutil.rmtree(server.home, ignore_errors=True)


@pytest.fixture
def server() -> Iterator[Server]:
    """A running server on a fresh data dir (one per test)."""
    with running_server() as running:
        yield running


@pytest.fixture(scope="module")
def shared_server() -> Iterator[Server]:
    """One running server for the tests of a module that only read or make their own VMs."""
    with running_server() as running:
        yield running
