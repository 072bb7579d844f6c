"""The server's own defences, over real connections to an in-process server: failed logins
limited per user and client address, TLS 1.2 and newer with forward-secret AEAD ciphers only,
the security headers on every response (API, errors, the web UI's files)."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import urllib.parse
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path

import pytest
import requests

from respaldo.access import Access, users
from respaldo.api.app import SECURITY_HEADERS
from respaldo.api.tls import server_context

from .accesskit import FakePam, make_access
from .apikit import Client, running_server

PASSWORD = "joe-secret-1"
LIMIT = 5  # AccessSettings.max_failed_logins


@pytest.fixture
def access(tmp_path: Path) -> Access:
    access = make_access(tmp_path, pam=FakePam({}))
    users.add_user(access, "joe@pve", password=PASSWORD)
    users.add_user(access, "ann@pve", password=PASSWORD)
    return access


@pytest.fixture
def base(access: Access) -> Iterator[str]:
    with running_server(access) as url:
        yield url


def login(base: str, user: str, password: str, source: str = "127.0.0.1") -> int:
    """POST /access/ticket from ``source`` (a loopback address); the status."""
    url = urllib.parse.urlsplit(base)
    conn = HTTPConnection(url.hostname or "", url.port, timeout=30, source_address=(source, 0))
    try:
        body = urllib.parse.urlencode({"username": user, "password": password})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        conn.request("POST", "/api2/json/access/ticket", body=body, headers=headers)
        reply = conn.getresponse()
        data = json.loads(reply.read())["data"]
        assert (reply.status == 200) == (data is not None and "ticket" in data)
        return reply.status
    finally:
        conn.close()


def test_failed_logins_lock_out_one_user_from_one_address(base: str) -> None:
    assert login(base, "joe@pve", PASSWORD) == 200
    for _ in range(LIMIT):
        assert login(base, "joe@pve", "guess") == 401
    # the right password no longer helps from this address, for this user
    assert login(base, "joe@pve", PASSWORD) == 401
    # another address, another user: not locked out
    assert login(base, "joe@pve", PASSWORD, source="127.0.0.2") == 200
    assert login(base, "ann@pve", PASSWORD) == 200


def test_failures_spread_over_addresses_lock_out_none(base: str) -> None:
    for n in range(LIMIT - 1):
        assert login(base, "joe@pve", "guess") == 401
        assert login(base, "joe@pve", "guess", source=f"127.0.0.{n + 2}") == 401
    assert login(base, "joe@pve", PASSWORD) == 200
    assert login(base, "joe@pve", PASSWORD, source="127.0.0.2") == 200


# -- TLS --------------------------------------------------------------------------------------


@pytest.fixture
def tls_base(access: Access) -> Iterator[str]:
    with running_server(access, server_context(access.node)) as url:
        yield url


def client_context(
    low: ssl.TLSVersion, high: ssl.TLSVersion, ciphers: str = "ALL:@SECLEVEL=0"
) -> ssl.SSLContext:
    """A client that offers only ``low``..``high`` and ``ciphers`` (old ones allowed: the
    refusal must be the server's)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = low
    context.maximum_version = high
    context.set_ciphers(ciphers)
    return context


def handshake(base: str, context: ssl.SSLContext) -> tuple[str, str]:
    """Connect to the server; its TLS version and cipher, or SSLError."""
    url = urllib.parse.urlsplit(base)
    with (
        socket.create_connection((url.hostname, url.port), timeout=30) as raw,
        context.wrap_socket(raw) as tls,
    ):
        version, cipher = tls.version(), tls.cipher()
        assert version is not None and cipher is not None
        return version, cipher[0]


def permissive_server_accepts(context: ssl.SSLContext, access: Access) -> str | None:
    """The TLS version ``context`` agrees on with a server that takes anything (in memory):
    proof that the client does offer what the real server refuses."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    server.set_ciphers("ALL:@SECLEVEL=0")
    cert = access.node.config_dir / "local"
    server.load_cert_chain(cert / "pve-ssl.pem", cert / "pve-ssl.key")
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = context.wrap_bio(c_in, c_out)
    srv = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        for end in (client, srv):
            with contextlib.suppress(ssl.SSLWantReadError):
                end.do_handshake()
        s_in.write(c_out.read())
        c_in.write(s_out.read())
    return client.version()


def refused(base: str, context: ssl.SSLContext) -> None:
    """The server ends the handshake (asyncio's TLS closes the connection without an alert:
    the client sees an EOF)."""
    with pytest.raises(ssl.SSLError, match=r"EOF|VERSION|PROTOCOL|HANDSHAKE|SHARED_CIPHER"):
        handshake(base, context)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_tls_before_1_2_is_refused(tls_base: str, access: Access, version: ssl.TLSVersion) -> None:
    context = client_context(version, version)
    assert permissive_server_accepts(context, access) == version.name.replace("_", ".")
    refused(tls_base, context)


def test_tls_1_2_and_1_3_are_served(tls_base: str) -> None:
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        got, cipher = handshake(tls_base, client_context(version, version))
        assert got == version.name.replace("_", ".")
        assert "GCM" in cipher or "CHACHA20" in cipher, cipher


@pytest.mark.parametrize("cipher", ["AES128-SHA", "AES256-SHA256", "ECDHE-RSA-AES128-SHA"])
def test_weak_tls_1_2_ciphers_are_refused(tls_base: str, access: Access, cipher: str) -> None:
    tls12 = ssl.TLSVersion.TLSv1_2
    context = client_context(tls12, tls12, f"{cipher}:@SECLEVEL=0")
    assert permissive_server_accepts(context, access) == "TLSv1.2"
    refused(tls_base, context)


# -- security headers -------------------------------------------------------------------------


def test_security_headers_on_every_kind_of_response(base: str, access: Access) -> None:
    root = Client(base, access, userid="root@pam")
    replies = [
        root.session.get(base + "/api2/json/version"),  # 200
        requests.get(base + "/api2/json/version"),  # 401
        Client(base, access, userid="joe@pve").session.get(base + "/api2/json/nodes/pve1/status"),
        root.session.get(base + "/api2/json/nodes/pve1/qemu", params={"full": "maybe"}),  # 400
        root.session.get(base + "/api2/json/no/such/thing"),  # 501
        root.session.get(base + "/api2/json/nodes/pve1/qemu/100/config"),  # 500
        root.session.get(base + "/api2/openapi.json"),
        requests.get(base + "/"),
        requests.get(base + "/static/js/main.js"),
        requests.get(base + "/static/no-such-file.js"),  # 404
    ]
    statuses = [reply.status_code for reply in replies]
    assert statuses == [200, 401, 403, 400, 501, 500, 200, 200, 200, 404]
    for reply in replies:
        web_file = "/api2/" not in reply.url
        for key, value in SECURITY_HEADERS.items():
            # the web UI's files are revalidated, not refetched (Last-Modified)
            wanted = "no-cache" if web_file and key == "Cache-Control" else value
            assert reply.headers.get(key) == wanted, (reply.url, reply.status_code, key)
        if web_file:
            assert "default-src 'self'" in reply.headers["Content-Security-Policy"]
