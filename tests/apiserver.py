"""The API server in a thread of the test process, over plain HTTP on loopback, and a client
that logs in with a ticket as proxmoxer does (requests, form bodies, CSRF header)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from aiohttp import web

from respaldo.access import Access
from respaldo.api.app import ApiServer, ServerSettings
from respaldo.api.methods import all_methods
from respaldo.node import Node


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def api_server(node: Node, access: Access) -> Iterator[str]:
    """Serve the node's API on ``http://127.0.0.1:<port>/api2/json`` until the block ends."""
    port = free_port()
    settings = ServerSettings(host="127.0.0.1", port=port, threads=4, auth_delay=0)
    server = ApiServer(node, all_methods(), settings, access)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner = web.AppRunner(server.application(), access_log=None)

    async def start() -> None:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=serve, name="api-test-server", daemon=True)
    thread.start()
    assert ready.wait(10), "the test API server did not start"
    try:
        yield f"http://127.0.0.1:{port}/api2/json"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@dataclass
class Client:
    """Calls as a logged-in user; answers are ``(status, body)``."""

    base: str
    session: requests.Session = field(default_factory=requests.Session)

    def login(self, username: str, password: str) -> Client:
        reply = self.session.post(
            f"{self.base}/access/ticket", data={"username": username, "password": password}
        )
        reply.raise_for_status()
        data = reply.json()["data"]
        self.session.cookies.set("PVEAuthCookie", data["ticket"])
        self.session.headers["CSRFPreventionToken"] = data["CSRFPreventionToken"]
        return self

    def call(self, verb: str, path: str, /, **params: Any) -> tuple[int, dict[str, Any]]:
        if verb in ("GET", "DELETE"):
            reply = self.session.request(verb, f"{self.base}{path}", params=params)
        else:
            reply = self.session.request(verb, f"{self.base}{path}", data=params)
        return reply.status_code, reply.json()

    def data(self, verb: str, path: str, /, **params: Any) -> Any:
        status, body = self.call(verb, path, **params)
        assert status == 200, (status, body)
        return body["data"]
