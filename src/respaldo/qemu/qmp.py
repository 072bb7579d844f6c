"""A synchronous face on ``qemu.qmp``'s asyncio client.

The CLI and task workers are synchronous programs; each ``Qmp`` owns a private event loop and
drives the library's ``QMPClient`` on it, so the protocol itself is never re-implemented here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from qemu.qmp import ConnectError, EventListener, ExecuteError, QMPClient, QMPError
from qemu.qmp.message import Message

from respaldo.errors import QmpError

T = TypeVar("T")


class Qmp:
    def __init__(self, socket_path: Path, timeout: float = 10.0) -> None:
        self.socket_path = socket_path
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._client = QMPClient("respaldo")

    def _run(self, coro: Awaitable[T], timeout: float | None) -> T:
        return self._loop.run_until_complete(asyncio.wait_for(coro, timeout))

    def connect(self) -> Qmp:
        try:
            self._run(self._client.connect(str(self.socket_path)), self.timeout)
        except (ConnectError, OSError) as err:
            self.close()
            raise QmpError(f"cannot connect to QMP socket {self.socket_path}: {err}") from err
        except TimeoutError as err:
            self.close()
            raise QmpError(
                f"QMP socket {self.socket_path}: no greeting within "
                f"{self.timeout:g} seconds (is another client connected?)"
            ) from err
        return self

    def execute(
        self, command: str, arguments: dict[str, Any] | None = None, timeout: float | None = None
    ) -> Any:
        try:
            return self._run(
                self._client.execute(command, arguments),
                timeout if timeout is not None else self.timeout,
            )
        except ExecuteError as err:
            raise QmpError(f"QMP command '{command}' failed: {err.error.error.desc}") from err
        except (QMPError, OSError, EOFError) as err:
            raise QmpError(f"QMP command '{command}': connection lost: {err}") from err
        except TimeoutError as err:
            raise QmpError(
                f"QMP command '{command}': no answer within {timeout or self.timeout:g} seconds"
            ) from err

    def hmp(self, command_line: str) -> str:
        """Run a human monitor command; its errors come back as text, as HMP gives them."""
        result = self.execute("human-monitor-command", {"command-line": command_line})
        return str(result)

    @contextmanager
    def listen(self, *names: str) -> Iterator[EventWaiter]:
        """Listen for events from now on, so none that a following command causes is missed."""
        with self._client.listener(names) as listener:
            yield EventWaiter(self, listener)

    def close(self) -> None:
        try:
            if not self._loop.is_closed():
                self._loop.run_until_complete(self._client.disconnect())
        except (QMPError, OSError, EOFError):
            pass  # the peer is gone already (e.g. after 'quit'); nothing left to release
        finally:
            self._loop.close()

    def __enter__(self) -> Qmp:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventWaiter:
    def __init__(self, qmp: Qmp, listener: EventListener) -> None:
        self._qmp = qmp
        self._listener = listener

    def wait(self, timeout: float) -> dict[str, Any]:
        """The next event listened for; QmpError when none comes within ``timeout`` seconds."""
        try:
            message: Message = self._qmp._run(self._listener.get(), timeout)
            return dict(message)
        except TimeoutError as err:
            raise QmpError(
                f"no QMP event {self._listener.names} within {timeout:g} seconds"
            ) from err
