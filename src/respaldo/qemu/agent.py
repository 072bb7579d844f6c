"""The QEMU guest agent over its virtio-serial channel (a unix socket on the host side).

No maintained Python library speaks the guest agent protocol (qemu.qmp expects QMP's greeting,
which the agent does not send), so this is a small client for the few commands backup needs.
A stale reply from an earlier, timed-out command could be read as the answer to a new one;
``guest-sync-delimited`` with a fresh id flushes the channel before every conversation.
"""

from __future__ import annotations

import json
import random
import socket
import time
from pathlib import Path
from typing import Any

from respaldo.errors import QemuError

SYNC_DELIMITER = b"\xff"


class AgentError(QemuError):
    pass


class GuestAgent:
    def __init__(self, socket_path: Path, timeout: float = 3.0) -> None:
        self.socket_path = socket_path
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buffer = b""

    def __enter__(self) -> GuestAgent:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(self.socket_path))
        except OSError as err:
            sock.close()
            raise AgentError(f"guest agent socket {self.socket_path}: {err}") from err
        self._sock = sock
        self._sync()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _send(self, message: dict[str, Any]) -> None:
        assert self._sock is not None
        try:
            self._sock.sendall(json.dumps(message).encode() + b"\n")
        except OSError as err:
            raise AgentError(f"guest agent: sending {message['execute']} failed: {err}") from err

    def _read_line(self, deadline: float) -> bytes:
        assert self._sock is not None
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AgentError("guest agent: no answer (is qemu-ga running in the guest?)")
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError as err:
                raise AgentError(
                    "guest agent: no answer (is qemu-ga running in the guest?)"
                ) from err
            except OSError as err:
                raise AgentError(f"guest agent: connection failed: {err}") from err
            if not chunk:
                raise AgentError("guest agent: connection closed")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _sync(self) -> None:
        token = random.randrange(1, 1 << 31)
        self._send({"execute": "guest-sync-delimited", "arguments": {"id": token}})
        deadline = time.monotonic() + self.timeout
        while True:
            line = self._read_line(deadline)
            if SYNC_DELIMITER in line:
                line = line.rpartition(SYNC_DELIMITER)[2]
            try:
                reply = json.loads(line)
            except ValueError:
                continue  # garbage from before the delimiter
            if reply.get("return") == token:
                return

    def execute(
        self, command: str, arguments: dict[str, Any] | None = None, timeout: float | None = None
    ) -> Any:
        message: dict[str, Any] = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        self._send(message)
        line = self._read_line(time.monotonic() + (timeout or self.timeout))
        try:
            reply = json.loads(line)
        except ValueError as err:
            raise AgentError(f"guest agent: {command}: unreadable answer {line[:100]!r}") from err
        if "error" in reply:
            raise AgentError(f"guest agent: {command} failed: {reply['error'].get('desc')}")
        return reply.get("return")

    def ping(self) -> None:
        self.execute("guest-ping")

    def freeze(self, timeout: float = 60.0) -> int:
        """Freeze the guest's filesystems; returns how many were frozen."""
        return int(self.execute("guest-fsfreeze-freeze", timeout=timeout))

    def thaw(self, timeout: float = 60.0) -> int:
        return int(self.execute("guest-fsfreeze-thaw", timeout=timeout))

    def freeze_status(self) -> str:
        return str(self.execute("guest-fsfreeze-status"))
