"""Freeze and thaw around the point in time, against a fake guest agent on a unix socket.

A freeze that fails or never answers must not stop the backup, and the thaw must still be
sent, over a fresh connection when the old one may hold a late answer.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from respaldo.services.vzdump import guest
from respaldo.services.vzdump.tasklog import BackupLog


class FakeAgent:
    """Answers guest-sync-delimited; freeze and thaw answer as the test says."""

    def __init__(self, path: Path, freeze: str, thaw: str) -> None:
        self.freeze, self.thaw = freeze, thaw
        self.commands: list[str] = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as lines:
            for raw in lines:
                message = json.loads(raw)
                command = message["execute"]
                self.commands.append(command)
                reply = self._reply(command, message.get("arguments", {}))
                if reply is not None:
                    conn.sendall(reply)

    def _reply(self, command: str, arguments: dict[str, int]) -> bytes | None:
        if command == "guest-sync-delimited":
            return b"\xff" + json.dumps({"return": arguments["id"]}).encode() + b"\n"
        behaviour = self.freeze if command == "guest-fsfreeze-freeze" else self.thaw
        if behaviour == "hang":
            return None
        if behaviour == "error":
            return json.dumps({"error": {"desc": f"{command} refused"}}).encode() + b"\n"
        return json.dumps({"return": 1}).encode() + b"\n"

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def qga(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "qga.sock"


def _freeze_and_thaw(qga: Path, freeze: str, thaw: str) -> tuple[FakeAgent, BackupLog, bool]:
    """One freeze and one thaw against a fake agent; its commands, the log, thawed or not."""
    agent = FakeAgent(qga, freeze=freeze, thaw=thaw)
    log = BackupLog()
    freezer = guest._Freezer(qga, log, lambda: None)
    try:
        freezer.freeze()
        freezer.thaw()
    finally:
        agent.close()
    return agent, log, freezer.thawed


@pytest.mark.parametrize("freeze", ["error", "hang"])
def test_a_failed_freeze_is_a_warning_and_the_thaw_is_still_sent(
    qga: Path, monkeypatch: pytest.MonkeyPatch, freeze: str
) -> None:
    monkeypatch.setattr(guest, "FREEZE_TIMEOUT", 0.5)
    agent, log, thawed = _freeze_and_thaw(qga, freeze, "ok")
    assert "unable to freeze guest filesystems" in log.text()
    assert log.warnings == 1
    assert thawed
    assert agent.commands.count("guest-fsfreeze-thaw") == 1
    # the thaw went over a new connection, synced again first
    assert agent.commands.count("guest-sync-delimited") == 2


def test_a_failed_thaw_is_logged_not_raised_and_left_for_undo(qga: Path) -> None:
    _, log, thawed = _freeze_and_thaw(qga, "ok", "error")
    assert "thawing the guest failed" in log.text()
    assert not thawed  # the backup keeps 'frozen' recorded: undo thaws again


def test_freeze_and_thaw_share_one_connection_and_log_the_frozen_time(qga: Path) -> None:
    agent, log, thawed = _freeze_and_thaw(qga, "ok", "ok")
    assert agent.commands == [
        "guest-sync-delimited",
        "guest-fsfreeze-freeze",
        "guest-fsfreeze-thaw",
    ]
    assert "guest filesystems were frozen for" in log.text()
    assert thawed
