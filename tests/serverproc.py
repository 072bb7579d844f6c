"""``respaldo server`` started as a user starts it, for the test tiers and benches that need one:
a subprocess of the venv's ``respaldo`` on a loopback port, waited for until it says it
listens."""

from __future__ import annotations

import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

#: The address the servers of the tests listen on.
LOOPBACK = "127.0.0.1"
#: The venv's command, as the README's users run it.
RESPALDO = Path(sys.executable).parent / "respaldo"
#: The line ``respaldo server`` prints once it accepts connections.
LISTENING = "respaldo is listening on "


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


class ServerDidNotStart(AssertionError):
    """The server exited, or did not say it listens in time; the message holds its output."""


@dataclass
class ServerProcess:
    """A started server: its process and every line it printed so far (a thread keeps
    reading them, so that a full pipe never stalls the server)."""

    proc: subprocess.Popen[str]
    port: int
    output: list[str] = field(default_factory=list)

    def stop(self, grace: float = 15.0) -> int:
        """SIGTERM, SIGKILL after ``grace`` seconds; the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


def start_server(
    env: Mapping[str, str],
    port: int,
    *,
    auth_delay: str = "0",
    timeout: float = 60.0,
    cwd: Path | None = None,
    new_session: bool = False,
) -> ServerProcess:
    """Run ``respaldo server --listen 127.0.0.1 --port <port> --auth-delay <auth_delay>``
    with ``env`` and return once it prints :data:`LISTENING` (``timeout`` seconds at most;
    a first start makes RSA keys). Raises ServerDidNotStart with the output when it exits
    first or does not listen in time (then it is killed)."""
    argv = [str(RESPALDO), "server", "--listen", LOOPBACK, "--port", str(port)]
    proc = subprocess.Popen(
        [*argv, "--auth-delay", auth_delay],
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=new_session,
    )
    server = ServerProcess(proc, port)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read, args=(server, lines), daemon=True).start()
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            proc.kill()
            proc.wait()
            raise ServerDidNotStart(
                f"respaldo server did not listen within {timeout:g} s: {''.join(server.output)}"
            ) from None
        if line is None:
            raise ServerDidNotStart(
                f"respaldo server exited ({proc.wait()}): {''.join(server.output)}"
            )
        if line.startswith(LISTENING):
            return server


def _read(server: ServerProcess, lines: queue.Queue[str | None]) -> None:
    assert server.proc.stdout is not None
    for line in server.proc.stdout:
        server.output.append(line)
        lines.put(line)
    lines.put(None)
