"""Login (POST /access/ticket) and request authentication (ticket cookie, API token, CSRF)."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import pytest

from respaldo.access import Access, AuthMethod
from respaldo.access.realms import SystemPam
from respaldo.access.tickets import TICKET_LIFETIME
from respaldo.access.tokens import add_token
from respaldo.access.users import add_user, modify_user
from respaldo.errors import AuthError

from .accesskit import FakeClock, FakePam, make_access

CFG = """\
user:joe@pve:1:0::::::
user:old@pve:1:1767225000::::::
user:off@pve:0:0::::::
user:admin@pam:1:0::::::
user:root@pam:1:0::::::

acl:1:/vms:joe@pve:PVEVMUser:
"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def access(tmp_path: Path, clock: FakeClock) -> Access:
    pam = FakePam({"root": "rootpw-123", "admin": "adminpw-1"})
    access = make_access(tmp_path, clock, pam, user_cfg=CFG)
    with access.files.locked():
        for userid in ("joe@pve", "old@pve", "off@pve"):
            access.set_password(userid, "secret-pw")
    return access


def test_login_returns_ticket_csrf_token_and_cap(access: Access) -> None:
    result = access.login("joe", "secret-pw", realm="pve")
    data = result.as_dict()
    assert set(data) == {"username", "ticket", "CSRFPreventionToken", "cap"}
    assert data["username"] == "joe@pve"
    assert data["ticket"].startswith("PVE:joe@pve:")
    assert access.csrf.verify("joe@pve", data["CSRFPreventionToken"])
    assert data["cap"]["vms"]["VM.Backup"] == 1
    assert access.login("joe@pve", "secret-pw").username == "joe@pve"


def test_pam_login_uses_the_system_account(access: Access) -> None:
    assert access.login("root@pam", "rootpw-123").username == "root@pam"
    assert access.login("admin", "adminpw-1", "pam").username == "admin@pam"
    with pytest.raises(AuthError):
        access.login("root@pam", "wrong")


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [
        ("joe@pve", "wrong-pw", "invalid credentials"),
        ("joe@pve", "", "no password"),
        ("nobody@pve", "secret-pw", "no such user"),
        ("off@pve", "secret-pw", "disabled"),
        ("old@pve", "secret-pw", "expired"),
        ("joe", "secret-pw", "does not look like|not a valid user id"),
        ("joe@pve", "PVE:joe@pve:00000000::AAAA", "invalid credentials"),
    ],
)
def test_failed_login_is_one_401(access: Access, username: str, password: str, reason: str) -> None:
    with pytest.raises(AuthError) as caught:
        access.login(username, password)
    assert str(caught.value) == "authentication failure"  # the same for every cause
    assert caught.value.http_status == 401
    assert caught.value.delay == 3.0
    assert re.search(reason, caught.value.reason)


def test_renewal_with_a_ticket(access: Access, clock: FakeClock) -> None:
    ticket = access.login("joe@pve", "secret-pw").ticket
    assert ticket is not None
    clock.advance(3600)
    renewed = access.login("joe@pve", ticket)
    assert renewed.ticket is not None and renewed.ticket != ticket
    clock.advance(TICKET_LIFETIME - 1)  # the first one is dead, the renewed one lives
    with pytest.raises(AuthError):
        access.login("joe@pve", ticket)
    assert access.login("joe@pve", renewed.ticket).username == "joe@pve"


def test_a_ticket_renews_only_its_own_user_except_root_s(access: Access) -> None:
    joe = access.login("joe@pve", "secret-pw").ticket
    assert joe is not None
    with pytest.raises(AuthError):
        access.login("root@pam", joe)
    root = access.login("root@pam", "rootpw-123").ticket
    assert root is not None
    assert access.login("joe@pve", root).username == "joe@pve"


def test_otp_without_second_factor_fails(access: Access) -> None:
    with pytest.raises(AuthError):
        access.login("joe@pve", "secret-pw", otp="123456")


def test_check_only_login_with_path_and_privs(access: Access) -> None:
    result = access.login("joe@pve", "secret-pw", path="/vms/100", privs="VM.Backup,VM.Audit")
    assert result.ticket is None and "ticket" not in result.as_dict()
    with pytest.raises(AuthError):
        access.login("joe@pve", "secret-pw", path="/storage/local", privs="Datastore.Audit")


def test_failed_logins_are_limited_per_user_and_address(access: Access) -> None:
    for _ in range(access.settings.max_failed_logins):
        with pytest.raises(AuthError):
            access.login("joe@pve", "guess", client="192.0.2.7")
    with pytest.raises(AuthError) as caught:  # the right password no longer helps from there
        access.login("joe@pve", "secret-pw", client="192.0.2.7")
    assert "too many" in caught.value.reason
    assert access.login("joe@pve", "secret-pw", client="192.0.2.8").username == "joe@pve"


def test_limit_passes_after_the_window(tmp_path: Path) -> None:
    now = [0.0]
    access = make_access(tmp_path)
    access.failed_logins.clock = lambda: now[0]
    for _ in range(5):
        access.failed_logins.failed("joe@pve", "a")
    assert access.failed_logins.blocked("joe@pve", "a")
    now[0] = 301.0
    assert not access.failed_logins.blocked("joe@pve", "a")


def test_request_with_ticket_cookie(access: Access) -> None:
    login = access.login("joe@pve", "secret-pw")
    assert login.ticket is not None and login.csrf_token is not None
    cookie = urllib.parse.quote(login.ticket, safe="")
    principal = access.authenticate_request(cookie, None)
    assert (principal.userid, principal.tokenid, principal.method) == (
        "joe@pve",
        None,
        AuthMethod.TICKET,
    )
    assert principal.authid == "joe@pve" and principal.csrf_required
    # the ticket may also come in the Authorization header
    header = f"PVEAuthCookie={login.ticket}"
    assert access.authenticate_request(None, header).userid == "joe@pve"
    # a change needs the CSRF token of that user
    access.authenticate_request(cookie, None, method="POST", csrf_token=login.csrf_token)
    with pytest.raises(AuthError, match="invalid csrf token"):
        access.authenticate_request(cookie, None, method="POST")
    with pytest.raises(AuthError, match="invalid csrf token"):
        access.authenticate_request(
            cookie, None, method="PUT", csrf_token=access.csrf.assemble("root@pam")
        )


def test_request_ticket_failures(access: Access, clock: FakeClock) -> None:
    ticket = access.login("joe@pve", "secret-pw").ticket
    assert ticket is not None
    with pytest.raises(AuthError, match="No ticket") as caught:
        access.authenticate_request(None, None)
    assert caught.value.delay == 3.0
    with pytest.raises(AuthError, match="invalid PVE ticket"):
        access.authenticate_request(ticket.replace("joe@pve", "root@pam"), None)
    modify_user(access, "joe@pve", enable=False)
    with pytest.raises(AuthError):  # a disabled user's tickets stop working at once
        access.authenticate_request(ticket, None)
    modify_user(access, "joe@pve", enable=True)
    clock.advance(TICKET_LIFETIME)
    with pytest.raises(AuthError, match="invalid PVE ticket"):
        access.authenticate_request(ticket, None)


def test_request_with_api_token(access: Access, clock: FakeClock) -> None:
    created = add_token(access, "joe@pve", "ci", expire=int(clock.now) + 60)
    secret = created["value"]
    wrong = secret[:-1] + ("1" if secret.endswith("0") else "0")  # one character changed
    for header in (f"PVEAPIToken=joe@pve!ci={secret}", f"PVEAPIToken joe@pve!ci={secret}"):
        principal = access.authenticate_request(None, header, method="POST")  # no CSRF needed
        assert (principal.userid, principal.tokenid) == ("joe@pve", "ci")
        assert principal.method is AuthMethod.TOKEN and not principal.csrf_required
        assert principal.authid == "joe@pve!ci"
    for bad in (
        f"PVEAPIToken=joe@pve!ci={wrong}",
        f"PVEAPIToken=joe@pve!other={secret}",
        "PVEAPIToken=joe@pve!ci",
        f"PVEAPIToken=joe@pve={secret}",
    ):
        with pytest.raises(AuthError):
            access.authenticate_request(None, bad)
    clock.advance(61)
    with pytest.raises(AuthError, match="authentication failure") as caught:
        access.authenticate_request(None, f"PVEAPIToken=joe@pve!ci={secret}")
    assert "expired" in caught.value.reason


def test_token_of_a_disabled_user_is_refused(access: Access) -> None:
    add_user(access, "temp@pve")
    secret = add_token(access, "temp@pve", "tk")["value"]
    modify_user(access, "temp@pve", enable=False)
    with pytest.raises(AuthError):
        access.authenticate_request(None, f"PVEAPIToken=temp@pve!tk={secret}")


def test_domains(access: Access) -> None:
    realms = access.domains()
    assert [(d["realm"], d["type"]) for d in realms] == [("pam", "pam"), ("pve", "pve")]
    assert all(d["comment"] for d in realms)


def test_real_pam_refuses_unknown_user_cleanly() -> None:
    """python-pam against the system's PAM stack: a wrong password for an account that does
    not exist is a clean AuthError, not a crash or a hang."""
    with pytest.raises(AuthError) as caught:
        SystemPam().authenticate("respaldo-no-such-user-x9", "not-the-password")
    assert str(caught.value) == "authentication failure"
    assert caught.value.reason.startswith("PAM: ")
