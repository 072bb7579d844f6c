"""An API server in this process (a thread with its own event loop, plain HTTP on a free
loopback port) and a small client that logs in as a user or with an API token."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from aiohttp import web

from respaldo.access import Access
from respaldo.api.app import ApiServer, ServerSettings
from respaldo.api.methods import all_methods


@dataclass
class Reply:
    status: int
    reason: str
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> dict[str, str]:
        return dict(self.body.get("errors") or {})


class Client:
    """Requests to ``/api2/json`` as one user (ticket, CSRF token on writes) or one API
    token, or unauthenticated when neither is given."""

    def __init__(
        self,
        base: str,
        access: Access,
        userid: str | None = None,
        token: tuple[str, str] | None = None,
    ) -> None:
        self.base = base
        self.session = requests.Session()
        if userid is not None:
            self.session.cookies.set("PVEAuthCookie", access.authkeys.assemble_ticket(userid))
            self.session.headers["CSRFPreventionToken"] = access.csrf.assemble(userid)
        if token is not None:
            tokenid, secret = token
            self.session.headers["Authorization"] = f"PVEAPIToken={tokenid}={secret}"

    def call(self, http: str, where: str, /, **params: str | int) -> Reply:
        url = self.base + "/api2/json" + where
        if http in ("GET", "DELETE"):
            response = self.session.request(http, url, params=params, timeout=30)
        else:
            response = self.session.request(http, url, data=params, timeout=30)
        return Reply(response.status_code, response.reason, response.json(), response.headers)

    def get(self, where: str, /, **params: str | int) -> Reply:
        return self.call("GET", where, **params)

    def post(self, where: str, /, **params: str | int) -> Reply:
        return self.call("POST", where, **params)

    def put(self, where: str, /, **params: str | int) -> Reply:
        return self.call("PUT", where, **params)

    def delete(self, where: str, /, **params: str | int) -> Reply:
        return self.call("DELETE", where, **params)


@contextmanager
def running_server(access: Access, ssl_context: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve every API method of ``access``'s node on ``http://127.0.0.1:<port>`` (https with
    ``ssl_context``) until the block ends; yield that base URL."""
    server = ApiServer(access.node, all_methods(), ServerSettings(auth_delay=0), access)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(server.application(), access_log=None)
    ready = threading.Event()
    stop = asyncio.Event()
    failure: list[BaseException] = []

    async def serve() -> None:
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context).start()
        finally:
            ready.set()
        await stop.wait()
        await runner.cleanup()

    def run() -> None:
        try:
            loop.run_until_complete(serve())
        except BaseException as err:  # handed to the test thread below
            failure.append(err)
            ready.set()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="api-test-server", daemon=True)
    thread.start()
    ready.wait(10)
    if failure:
        raise failure[0]
    host, port = runner.addresses[0][:2]
    try:
        yield f"{'https' if ssl_context else 'http'}://{host}:{port}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
