"""Login on a running server: no method but the open ones answers without a valid ticket or
token; expired, forged and other users' tickets are refused; a write with a ticket needs the
CSRF token; no password or token secret is stored in clear.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from respaldo.access.control import Access
from respaldo.access.tickets import assemble_rsa_ticket
from respaldo.access.tokens import add_token
from respaldo.access.users import add_user
from respaldo.api.method import ApiMethod
from respaldo.api.methods import all_methods
from respaldo.node import Node
from tests.e2e.conftest import Login, Server, running_server, wait_task

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]

BOB_PASSWORD = "bob-secret-Pa55word"
WRONG_PASSWORD = "not-the-password-4711"
#: The methods anyone may call (pve-access-control: domains and ticket creation).
OPEN = {("GET", "/access/domains"), ("GET", "/access/ticket"), ("POST", "/access/ticket")}


@dataclass
class Secrets:
    server: Server
    admin: Login
    bob: Login
    token_header: str
    token_secret: str


@pytest.fixture(scope="module")
def site() -> Iterator[Secrets]:
    """A server with admin@pve, bob@pve (a password) and an API token of admin@pve."""
    with running_server() as server:
        access = Access(Node(server.home, server.node))
        add_user(access, "bob@pve", password=BOB_PASSWORD)
        secret = add_token(access, "admin@pve", "e2e", privsep=False)["value"]
        yield Secrets(
            server,
            server.login(),
            server.login("bob@pve", BOB_PASSWORD),
            f"PVEAPIToken=admin@pve!e2e={secret}",
            secret,
        )


def example_path(method: ApiMethod, server: Server) -> str:
    """The method's path with a plausible value for each path parameter."""
    values = {
        "node": server.node,
        "vmid": "100",
        "storage": "local",
        "volume": "local:backup/vzdump-qemu-100-2024_01_01-00_00_00.vma.zst",
        "upid": "UPID:vm:00001234:00005678:66A1B2C3:vzdump:100:admin@pve:",
    }
    return re.sub(r"\{([a-z0-9_-]+)\}", lambda m: values.get(m.group(1), "x1"), method.path)


def signed_ticket(key: rsa.RSAPrivateKey, userid: str, made: float) -> str:
    return assemble_rsa_ticket(key, "PVE", userid, int(made))


def server_key(server: Server) -> rsa.RSAPrivateKey:
    pem = (server.home / "config" / "priv" / "authkey.key").read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def test_the_open_methods_are_proxmoxs(site: Secrets) -> None:
    declared = {(m.http, m.path) for m in all_methods() if m.permission.user == "world"}
    assert declared == OPEN
    domains = site.server.request("GET", "/access/domains")
    assert domains.status_code == 200
    assert {d["realm"] for d in domains.json()["data"]} >= {"pam", "pve"}


def test_no_other_method_answers_without_valid_credentials(site: Secrets) -> None:
    server = site.server
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = {
        "none": {},
        "forged ticket": {
            "Cookie": f"PVEAuthCookie={signed_ticket(other_key, 'admin@pve', time.time())}"
        },
        "wrong token secret": {
            "Authorization": "PVEAPIToken=admin@pve!e2e=00000000-0000-0000-0000-000000000000"
        },
        "unknown token": {"Authorization": site.token_header.replace("!e2e=", "!nope=")},
    }
    calls = [
        (method, name, headers)
        for method in all_methods()
        if (method.http, method.path) not in OPEN
        for name, headers in bad.items()
    ]

    def call(item: tuple[ApiMethod, str, dict[str, str]]) -> tuple[str, int, object]:
        method, name, headers = item
        path = example_path(method, server)
        reply = requests.request(
            method.http, server.url + path, headers=headers, verify=server.ca, timeout=30
        )
        return f"{name}: {method.http} {path}", reply.status_code, reply.json()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(call, calls))
    assert len(answers) >= 4 * 40
    wrong = [(what, status) for what, status, body in answers if status != 401]
    assert wrong == []
    assert all(body.get("data", 1) is None for _, _, body in answers)  # type: ignore[attr-defined]


def test_expired_and_future_tickets_are_refused(site: Secrets) -> None:
    server = site.server
    key = server_key(server)
    # a key made three hours ago may have signed a ticket of two hours ago
    now = time.time()
    pub = server.home / "config" / "authkey.pub"
    os.utime(pub, (now - 3 * 3600, now - 3 * 3600))
    path = f"/nodes/{server.node}/qemu"
    for made, status in [
        (now - 7200 + 120, 200),  # not yet expired
        (now - 7200 - 120, 401),  # expired
        (now + 3600, 401),  # from the future
    ]:
        ticket = signed_ticket(key, "admin@pve", made)
        reply = server.request("GET", path, Login("admin@pve", ticket, ""))
        assert reply.status_code == status, (made - now, reply.text)


def test_forged_tickets_are_refused(site: Secrets) -> None:
    server = site.server
    path = f"/nodes/{server.node}/qemu"
    plain, _, signature = site.bob.ticket.partition("::")
    forged = [
        site.bob.ticket.replace("bob@pve", "admin@pve"),  # someone else's name on bob's ticket
        f"{plain}::{signature[:-8]}AAAAAAA=",  # a broken signature
        f"{plain}::",
        plain.replace("bob@pve", "root@pam") + "::" + signature,
        signed_ticket(
            rsa.generate_private_key(public_exponent=65537, key_size=2048), "root@pam", time.time()
        ),
    ]
    assert server.request("GET", path, site.bob).status_code in (200, 403)  # bob's own: valid
    for ticket in forged:
        reply = server.request("GET", path, Login("root@pam", ticket, ""))
        assert reply.status_code == 401, (ticket, reply.text)


def test_another_users_ticket_does_not_make_a_ticket_for_me(site: Secrets) -> None:
    """Renewal: the old ticket as the password, only for the user it was made for."""
    server = site.server
    renew = server.request(
        "POST", "/access/ticket", data={"username": "bob@pve", "password": site.bob.ticket}
    )
    assert renew.status_code == 200 and renew.json()["data"]["username"] == "bob@pve"
    as_admin = server.request(
        "POST", "/access/ticket", data={"username": "admin@pve", "password": site.bob.ticket}
    )
    assert as_admin.status_code == 401 and as_admin.json()["data"] is None


def test_a_write_with_a_ticket_needs_its_csrf_token(site: Secrets) -> None:
    server = site.server
    path = f"/nodes/{server.node}/qemu/100/config"
    # (the VM does not exist: a request that passes the login answers 500, not 401)
    refused = [
        server.request("PUT", path, site.admin, csrf=False, data={"name": "x"}),
        server.request(
            "PUT",
            path,
            Login(site.admin.userid, site.admin.ticket, site.bob.csrf),  # bob's token
            data={"name": "x"},
        ),
        server.request(
            "PUT", path, Login(site.admin.userid, site.admin.ticket, "garbage"), data={"name": "x"}
        ),
    ]
    for reply in refused:
        assert reply.status_code == 401 and "csrf" in reply.reason.lower(), reply.text
    with_csrf = server.request("PUT", path, site.admin, data={"name": "x"})
    assert with_csrf.status_code == 500 and "does not exist" in with_csrf.reason
    # a read needs no CSRF token, and an API token never does
    assert server.request("GET", "/version", site.admin, csrf=False).status_code == 200
    token_write = server.request(
        "PUT", path, headers={"Authorization": site.token_header}, data={"name": "x"}
    )
    assert token_write.status_code == 500 and "does not exist" in token_write.reason


def test_no_password_or_token_secret_is_stored_in_clear(site: Secrets) -> None:
    server = site.server
    admin_password_file = server.home / "config" / "priv" / "admin-password"
    admin_password = admin_password_file.read_text().strip()
    # make the server handle every secret once: logins (one failed), a token request, a task
    server.login("bob@pve", BOB_PASSWORD)
    failed = server.request(
        "POST", "/access/ticket", data={"username": "admin@pve", "password": WRONG_PASSWORD}
    )
    assert failed.status_code == 401
    task = server.request(
        "POST",
        f"/nodes/{server.node}/qemu",
        headers={"Authorization": site.token_header},
        data={"vmid": "170", "memory": "64"},
    )
    assert task.status_code == 200, task.text
    wait_task(server.proxmox(), task.json()["data"])
    secrets = [admin_password, BOB_PASSWORD, WRONG_PASSWORD, site.token_secret]
    holders = []
    for path in sorted(server.home.rglob("*")):
        if path.is_file() and path != admin_password_file:
            data = path.read_bytes()
            holders += [(str(path), s) for s in secrets if s.encode() in data]
    assert holders == []
    # the admin's first password is kept, by design, readable by its owner only
    priv = server.home / "config" / "priv"
    assert stat.S_IMODE(priv.stat().st_mode) == 0o700
    for path in priv.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
