"""The server process as a user runs it: first start, a second start, a port already taken,
SIGTERM."""

from __future__ import annotations

import subprocess

import pytest

from tests.e2e.conftest import Server
from tests.serverproc import RESPALDO

pytestmark = [pytest.mark.server, pytest.mark.timeout(90)]


def test_first_start_and_a_second_server_on_a_taken_port(server: Server) -> None:
    first = "".join(server.output)
    password_file = server.home / "config" / "priv" / "admin-password"
    assert f"created admin@pve with the password: {server.password}" in first
    assert str(password_file) in first
    assert f"respaldo is listening on https://127.0.0.1:{server.port}/" in first
    second = subprocess.run(
        [str(RESPALDO), "server", "--listen", "127.0.0.1", "--port", str(server.port)],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode == 2, second
    assert "Traceback" not in second.stderr
    assert f"cannot listen on 127.0.0.1 port {server.port}: Address already in use" in second.stderr
    assert "created admin@pve" not in second.stdout  # made once, at the first start
    assert password_file.read_text().strip() == server.password
    # the first server still answers, and stops cleanly on SIGTERM
    assert server.request("GET", "/version", server.login()).status_code == 200
    assert server.stop() == 0
