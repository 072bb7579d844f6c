"""The REST API server: Proxmox's ``/api2/json`` over HTTPS, on aiohttp.

Every request goes the same way (pve-http-server ``PVE/APIServer/AnyEvent.pm`` and
``PVE/HTTPServer.pm``):

1. find the method by HTTP verb and path (unknown: 501 ``Method 'GET /x' not implemented``);
2. authenticate, unless the method is open: a ticket (cookie ``PVEAuthCookie``, CSRF header on
   writes) or an API token (401 after a delay when that fails; 403 for a token on a method that
   takes none);
3. merge the query and the body, check them against the method's schema (400
   ``Parameter verification failed.`` with every bad parameter named);
4. check the permission the method declares (403 ``Permission check failed``);
5. run the handler in a thread (handlers block: files, QMP, processes) and answer
   ``{"data": ...}``; a long operation returns the UPID of the task it started.

Errors map to statuses in :func:`error_status`, in one place.

Beside the API it serves the web UI, static files only (``respaldo/web``): ``/`` is its
``index.html``, ``/static/...`` the rest. The UI is a client of this API like any script.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.resources
import logging
import os
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from respaldo.access.control import Access, AccessSettings, Principal, extract_auth_value
from respaldo.api import openapi
from respaldo.api.method import ApiMethod, Call, Perm, Result
from respaldo.api.wire import (
    PARAM_FAILED,
    WireError,
    data_response,
    error_response,
    merge_params,
    read_body,
)
from respaldo.config.schema import ParameterError
from respaldo.errors import AuthError, InputError, PermissionDenied, RespaldoError
from respaldo.node import Node

log = logging.getLogger("respaldo.api")

API_PREFIX = "/api2/json"
#: Bodies above this size are refused (Proxmox's limit for a request is 64 KiB of params).
MAX_BODY = 1 << 20
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=31536000",
    "Cache-Control": "no-store",
}
#: The web UI's files: revalidated on each load (Last-Modified), scripts from here only.
WEB_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        # the components fetch their built-in icons from data: URLs
        "default-src 'self'; img-src 'self' data:; connect-src 'self' data:; "
        "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'self'"
    ),
}


def web_dir() -> Path:
    """The directory of the web UI's static files (``index.html``, ``js/``, ``vendor/``)."""
    return Path(str(importlib.resources.files("respaldo") / "web"))


@dataclass(frozen=True)
class ServerSettings:
    """How the server runs: where it listens, how many handler threads, the 401 delay."""

    #: an address, or "" for all addresses (IPv4 and IPv6)
    host: str = ""
    port: int = 8006
    threads: int = 8
    #: seconds before a 401 is answered (Proxmox: 3)
    auth_delay: float = 3.0
    max_body: int = MAX_BODY


def error_status(err: BaseException) -> tuple[int, str, dict[str, str] | None]:
    """HTTP status, message and per-parameter errors of an error, as Proxmox answers it."""
    if isinstance(err, ParameterError):
        return 400, PARAM_FAILED, {k: e.reason for k, e in err.errors.items()}
    if isinstance(err, InputError):
        return 400, PARAM_FAILED, {err.name: err.reason}
    if isinstance(err, AuthError):
        return 401, str(err), None
    if isinstance(err, PermissionDenied):
        return 403, str(err), None
    if isinstance(err, WireError):
        return err.http_status, str(err), None
    if isinstance(err, RespaldoError):
        # Proxmox dies with the text and answers 500: clients match on the words
        # ("does not exist", "already exists").
        return 500, str(err), None
    return 500, f"internal error: {type(err).__name__}: {err}", None


class Router:
    """The methods, found by HTTP verb and path."""

    def __init__(self, methods: Iterable[ApiMethod]) -> None:
        self.methods = list(methods)
        seen: set[tuple[str, str]] = set()
        for method in self.methods:
            key = (method.http, method.path)
            if key in seen:
                raise ValueError(f"API method declared twice: {method.http} {method.path}")
            seen.add(key)

    def find(self, http: str, path: str) -> tuple[ApiMethod, dict[str, str]] | None:
        for method in self.methods:
            if method.http != http:
                continue
            found = method.match(path)
            if found is not None:
                return method, found
        return None


class ApiServer:
    """The aiohttp application with the node's API methods."""

    def __init__(
        self,
        node: Node,
        methods: Sequence[ApiMethod],
        settings: ServerSettings | None = None,
        access: Access | None = None,
    ) -> None:
        self.node = node
        self.settings = settings or ServerSettings()
        self.access = access or Access(
            node, AccessSettings(failed_login_delay=self.settings.auth_delay)
        )
        self.router = Router(methods)
        self.executor = ThreadPoolExecutor(self.settings.threads, thread_name_prefix="api")

    def application(self) -> web.Application:
        app = web.Application(client_max_size=self.settings.max_body, middlewares=[self._headers])
        app.router.add_get("/api2/openapi.json", self._openapi)
        # every path under the prefix, line breaks (%0A) included: none falls to the plain 404
        app.router.add_route("*", API_PREFIX + "{tail:(/(?s:.*))?}", self._dispatch)
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", web_dir(), follow_symlinks=False)
        app.on_cleanup.append(self._shutdown)
        return app

    async def _shutdown(self, app: web.Application) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)

    @web.middleware
    async def _headers(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        if not request.path.startswith("/api2/"):
            response.headers.update(WEB_HEADERS)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    async def _index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(web_dir() / "index.html")

    async def _openapi(self, request: web.Request) -> web.Response:
        return web.json_response(openapi.document(self.router.methods, API_PREFIX))

    # -- one request ---------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["tail"] or "/"
        found = self.router.find(request.method, path.rstrip("/") or "/")
        if found is None:
            return error_response(501, f"Method '{request.method} {path}' not implemented")
        method, path_params = found
        try:
            principal = await self._authenticate(request, method)
            raw = await self._raw_params(request, path_params)
            params = method.params.parse(raw)
            check_node(self.node, params)
            call = Call(self.node, self.access, principal, params, raw, request.remote)
            result = await self._run(call, method)
        except RespaldoError as err:
            return await self._error(err, method)
        except Exception as err:  # a bug: answer 500, keep serving, log the traceback
            log.exception("%s %s failed", request.method, path)
            return await self._error(err, method)
        if isinstance(result, Result):
            extra = {"total": result.total} if result.total is not None else None
            return data_response(result.data, extra)
        return data_response(result)

    async def _error(self, err: BaseException, method: ApiMethod) -> web.Response:
        status, message, errors = error_status(err)
        if status == 401:
            await asyncio.sleep(self.settings.auth_delay)
        return error_response(status, message, errors)

    async def _authenticate(self, request: web.Request, method: ApiMethod) -> Principal:
        if method.permission.user == "world":
            # no credential is checked, but a token is still not let in where tokens may not
            # go (pve-manager HTTPServer.pm: creating a ticket with a token)
            if not method.allowtoken and extract_auth_value(
                request.headers.get("Authorization"), "PVEAPIToken"
            ):
                raise self._no_token(method)
            return Principal.user("nobody@pam")
        cookie = request.cookies.get("PVEAuthCookie")
        if cookie is not None:
            cookie = urllib.parse.unquote(cookie)
        principal: Principal = await self._blocking(  # type: ignore[assignment]
            self.access.authenticate_request,
            cookie,
            request.headers.get("Authorization"),
            method=request.method,
            csrf_token=request.headers.get("CSRFPreventionToken"),
        )
        if principal.tokenid is not None and not method.allowtoken:
            raise self._no_token(method)
        return principal

    @staticmethod
    def _no_token(method: ApiMethod) -> PermissionDenied:
        return PermissionDenied(
            f"URI '{API_PREFIX}{method.path}' not available with API token, need proper ticket."
        )

    async def _raw_params(
        self, request: web.Request, path_params: dict[str, str]
    ) -> dict[str, object]:
        body = await read_body(request, self.settings.max_body)
        if body is not None and request.method in ("GET", "DELETE", "HEAD"):
            raise WireError(501, f"Unexpected content for method '{request.method}'")
        given = merge_params(request.query, body)
        # the path is percent-decoded once already (as Proxmox's): a '%' left is the value's
        for key, value in path_params.items():
            if key in given and str(given[key]) != value:
                raise InputError(key, given[key], "sent again with a different value")
            given[key] = value
        return given

    async def _run(self, call: Call, method: ApiMethod) -> object:
        await self._blocking(check_permission, call, method.permission)
        return await self._blocking(method.handler, call)

    async def _blocking(
        self, func: Callable[..., object], *args: object, **kwargs: object
    ) -> object:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: func(*args, **kwargs))


def check_node(node: Node, params: dict[str, object]) -> None:
    """A ``node`` parameter names this node, or ``localhost`` (the only node there is)."""
    given = params.get("node")
    if given is not None and given not in (node.name, "localhost"):
        raise InputError("node", given, f"no such cluster node (this node is '{node.name}')")


def check_permission(call: Call, perm: Perm) -> None:
    """The permission a method declares (root@pam passes every check)."""
    if perm.path is not None:
        call.access.check(call.principal, perm.format_path(call.params), perm.privs, any=perm.any)
    if perm.check is not None:
        perm.check(call)


async def serve(server: ApiServer, ssl_context: object, ready: Callable[[str], None]) -> None:
    """Run until cancelled; ``ready(url)`` once listening. InputError (naming the port) when
    the server cannot listen."""
    runner = web.AppRunner(server.application(), access_log=None)
    await runner.setup()
    site = web.TCPSite(
        runner,
        server.settings.host,
        server.settings.port,
        ssl_context=ssl_context,  # type: ignore[arg-type]
    )
    try:
        await site.start()
    except OSError as err:  # the port is taken, or the address is not this host's
        await runner.cleanup()
        where = f"{server.settings.host or 'all addresses'} port {server.settings.port}"
        why = os.strerror(err.errno) if err.errno else str(err)
        reason = f"cannot listen on {where}: {why}"
        raise InputError("port", server.settings.port, reason) from err
    host = server.settings.host
    shown = "localhost" if host in ("::", "0.0.0.0", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    ready(f"https://{shown}:{server.settings.port}/")
    try:
        await asyncio.Event().wait()
    finally:
        with contextlib.suppress(Exception):
            await runner.cleanup()
