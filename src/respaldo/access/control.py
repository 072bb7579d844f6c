"""The access layer's facade: login, request authentication and permission checks.

One :class:`Access` per process (the API server keeps one; the CLI makes one per command). It
reads user.cfg afresh whenever the file changed, so changes made by another process apply to
the next request.

Login (``POST /access/ticket``, ``PVE/API2/AccessControl.pm``): the user must exist in
user.cfg, be enabled and not expired; the password is checked by the user's realm, or is a
valid ticket of that user (or of root@pam), which renews it. A failed login raises AuthError
with the one message ``authentication failure`` (the reason only in ``AuthError.reason``, for
the log) and ``delay`` set; after ``max_failed_logins`` failures of one user from one address
within ``failed_login_window`` seconds, that pair is refused without a password check until
the window has passed.

Requests (``PVE/HTTPServer.pm`` auth_handler): a ticket from the ``PVEAuthCookie`` cookie, or
from ``Authorization: PVEAuthCookie=<ticket>``, else an API token from
``Authorization: PVEAPIToken=<user>@<realm>!<token>=<secret>`` (a space may replace the first
``=``). With a ticket, every method but GET needs a valid ``CSRFPreventionToken`` header; with a
token it does not.
"""

from __future__ import annotations

import enum
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from respaldo.access import ids
from respaldo.access.perms import PermissionView
from respaldo.access.realms import PamAuthenticator, SystemPam, domains
from respaldo.access.secrets import Argon2Cost, ShadowFile, TokenSecrets
from respaldo.access.store import AccessFiles
from respaldo.access.tickets import AuthKeys, CsrfSecret
from respaldo.access.usercfg import UserConfig
from respaldo.errors import AuthError, InputError, RespaldoError
from respaldo.node import Node

LOGIN_FAILED = "authentication failure"


@dataclass(frozen=True)
class AccessSettings:
    """Tunables of the access layer; the defaults are what a server should use."""

    argon2: Argon2Cost = field(default_factory=Argon2Cost)
    authkey_bits: int = 2048
    pam_service: str = "respaldo"
    #: seconds the server waits before it answers an unauthorized request (Proxmox: 3)
    failed_login_delay: float = 3.0
    max_failed_logins: int = 5
    failed_login_window: float = 300.0  # seconds
    lock_timeout: float = 10.0  # seconds to wait for the lock of user.cfg


class AuthMethod(enum.Enum):
    TICKET = "ticket"
    TOKEN = "token"


@dataclass(frozen=True)
class Principal:
    """Who made a request: a user (by ticket) or an API token of a user."""

    userid: str  # user@realm
    tokenid: str | None  # the token's name (after '!'), None for a ticket
    method: AuthMethod

    @property
    def authid(self) -> str:
        """The id permissions are computed for: ``user@realm`` or ``user@realm!token``."""
        return f"{self.userid}!{self.tokenid}" if self.tokenid else self.userid

    @property
    def csrf_required(self) -> bool:
        """Whether a request other than GET needs a CSRF prevention token (tickets only)."""
        return self.method is AuthMethod.TICKET

    @classmethod
    def user(cls, userid: str) -> Principal:
        """A principal for a user acting directly (the CLI, where the system user is root)."""
        ids.parse_userid(userid)
        return cls(userid, None, AuthMethod.TICKET)


PrincipalLike = Principal | str


def authid_of(who: PrincipalLike) -> str:
    return who.authid if isinstance(who, Principal) else who


@dataclass(frozen=True)
class LoginResult:
    """What ``POST /access/ticket`` returns (see :meth:`as_dict` for Proxmox's field names).

    ``ticket`` and ``csrf_token`` are None after a check-only login (``path`` and ``privs``).
    """

    username: str
    ticket: str | None
    csrf_token: str | None
    cap: dict[str, dict[str, int]]

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"username": self.username, "cap": self.cap}
        if self.ticket is not None:
            result["ticket"] = self.ticket
        if self.csrf_token is not None:
            result["CSRFPreventionToken"] = self.csrf_token
        return result


class FailedLogins:
    """Failed logins per (user, client address): refuses a pair after ``max_failures`` within
    ``window`` seconds, until the oldest of them is ``window`` seconds old. Thread-safe."""

    def __init__(
        self, max_failures: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> list[float]:
        horizon = self.clock() - self.window
        recent = [when for when in self._failures.get(key, []) if when > horizon]
        if recent:
            self._failures[key] = recent
        else:
            self._failures.pop(key, None)
        return recent

    def blocked(self, user: str, address: str | None) -> bool:
        with self._lock:
            return len(self._recent((user, address or ""))) >= self.max_failures

    def failed(self, user: str, address: str | None) -> None:
        with self._lock:
            key = (user, address or "")
            self._failures[key] = [*self._recent(key), self.clock()]

    def succeeded(self, user: str, address: str | None) -> None:
        with self._lock:
            self._failures.pop((user, address or ""), None)


def extract_auth_value(header: str | None, key: str) -> str | None:
    """The value after ``<key>=`` (or ``<key> ``) in a Cookie or Authorization header, up to
    the next ``;``, percent-decoded (``PVE/APIServer/Formatter.pm`` extract_auth_value)."""
    if not header:
        return None
    match = re.search(rf"(?:^|\s){re.escape(key)}[= ]([^;]*)", header)
    if not match or not match.group(1):
        return None
    return urllib.parse.unquote(match.group(1))


class Access:
    """Users, login and permissions of one node.

    ``pam`` checks system accounts (default: real PAM); ``clock`` gives the time in seconds
    since the epoch (tests pass a fake one).
    """

    def __init__(
        self,
        node: Node,
        settings: AccessSettings | None = None,
        pam: PamAuthenticator | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.node = node
        self.settings = settings or AccessSettings()
        self.clock = clock
        self.files = AccessFiles(node, self.settings.lock_timeout)
        self.pam: PamAuthenticator = pam or SystemPam(self.settings.pam_service)
        self.shadow = ShadowFile(self.files, self.settings.argon2)
        self.token_secrets = TokenSecrets(self.files)
        self.authkeys = AuthKeys(self.files, clock, self.settings.authkey_bits)
        self.csrf = CsrfSecret(self.files, clock)
        self.failed_logins = FailedLogins(
            self.settings.max_failed_logins, self.settings.failed_login_window
        )
        self._view: PermissionView | None = None

    # -- config and permissions ---------------------------------------------------------------

    def config(self) -> UserConfig:
        """user.cfg as it is now (shared: do not change it; use ``files.edit()``)."""
        return self.files.read()

    def view(self) -> PermissionView:
        """Permission computations over the current user.cfg (cached until it changes)."""
        cfg = self.config()
        if self._view is None or self._view.cfg is not cfg:
            self._view = PermissionView(cfg)
        return self._view

    def permissions(self, who: PrincipalLike, path: str) -> set[str]:
        """The privileges ``who`` holds on ACL path ``path``."""
        return set(self.view().privileges(authid_of(who), path))

    def check(self, who: PrincipalLike, path: str, privs: Iterable[str], any: bool = False) -> None:
        """Raise PermissionDenied (403, ``Permission check failed (<path>, <priv>)``) unless
        ``who`` holds every privilege of ``privs`` on ``path`` (one of them with ``any``)."""
        self.view().check(authid_of(who), path, privs, any_of=any)

    def cap(self, who: PrincipalLike) -> dict[str, dict[str, int]]:
        """The ``cap`` object of ``POST /access/ticket``."""
        return self.view().cap(authid_of(who))

    def permissions_tree(
        self, who: PrincipalLike, path: str | None = None
    ) -> dict[str, dict[str, int]]:
        """``GET /access/permissions`` for ``who``: {path: {privilege: propagate 0/1}}."""
        return self.view().tree(authid_of(who), path)

    def domains(self) -> list[dict[str, str]]:
        """``GET /access/domains``."""
        return domains()

    # -- users --------------------------------------------------------------------------------

    def check_user_enabled(self, userid: str) -> None:
        """Raise AuthError unless the user exists, is enabled and has not expired."""
        ids.parse_userid(userid)
        user = self.config().users.get(userid)
        if user is None:
            raise AuthError(LOGIN_FAILED, f"no such user ('{userid}')")
        if not user.enable:
            raise AuthError(LOGIN_FAILED, f"user '{userid}' is disabled")
        if user.expire and user.expire < self.clock():
            raise AuthError(LOGIN_FAILED, f"user '{userid}' access expired")

    def authenticate_password(self, userid: str, password: str) -> None:
        """Check a password with the user's realm; raise AuthError if it is wrong."""
        name, realm = ids.parse_userid(userid)
        if not password:
            raise AuthError(LOGIN_FAILED, "no password")
        if realm == "pam":
            self.pam.authenticate(name, password)
        elif realm == "pve":
            if not self.shadow.has_password(name):
                raise AuthError(LOGIN_FAILED, "no password set")
            if not self.shadow.verify(name, password):
                raise AuthError(LOGIN_FAILED, "invalid credentials")
        else:
            raise AuthError(LOGIN_FAILED, f"auth domain '{realm}' does not exist")

    def set_password(self, userid: str, password: str) -> None:
        """Set a password in the user's realm; the caller holds ``files.locked()``."""
        name, realm = ids.parse_userid(userid)
        if realm == "pam":
            self.pam.set_password(name, password)
        elif realm == "pve":
            self.shadow.set_password(name, password)
        else:
            raise InputError("userid", userid, f"no such realm '{realm}' (known: pam, pve)")

    # -- login --------------------------------------------------------------------------------

    def login(
        self,
        username: str,
        password: str,
        realm: str | None = None,
        *,
        otp: str | None = None,
        path: str | None = None,
        privs: str | None = None,
        client: str | None = None,
    ) -> LoginResult:
        """``POST /access/ticket``: check the credentials and return a new ticket, its CSRF
        prevention token and the cap object. ``realm`` is appended to ``username`` as
        ``@<realm>``; ``password`` may be a valid ticket (renewal). With ``path`` and ``privs``
        (a list) it only checks that the user holds ``privs`` on ``path`` and returns no
        ticket. ``client`` is the client's address, for the failed-login limit. Raise AuthError
        (401, ``authentication failure``, ``delay`` set) on any failure."""
        if realm:
            username = f"{username}@{realm}"
        delay = self.settings.failed_login_delay
        if self.failed_logins.blocked(username, client):
            raise AuthError(LOGIN_FAILED, "too many failed logins, try again later", delay)
        try:
            self.check_user_enabled(username)
            if otp is not None:
                raise AuthError(LOGIN_FAILED, "no second factor is configured for this user")
            self._authenticate_login(username, password)
            if path is not None or privs is not None:
                self._verify_privs(username, path, privs)
        except (AuthError, InputError, RespaldoError) as err:
            self.failed_logins.failed(username, client)
            reason = err.reason if isinstance(err, AuthError) else str(err)
            raise AuthError(LOGIN_FAILED, reason, delay) from err
        self.failed_logins.succeeded(username, client)
        if path is not None:
            return LoginResult(username, None, None, self.cap(username))
        return LoginResult(
            username,
            self.authkeys.assemble_ticket(username),
            self.csrf.assemble(username),
            self.cap(username),
        )

    def _authenticate_login(self, username: str, password: str) -> None:
        ticket = self.authkeys.verify_ticket(password) if password.startswith("PVE:") else None
        if ticket is not None and ticket.data in (username, ids.ROOT):
            return  # renewal; root@pam may make tickets for anyone
        self.authenticate_password(username, password)

    def _verify_privs(self, username: str, path: str | None, privs: str | None) -> None:
        normalized = ids.normalize_path(path)
        wanted = ids.split_list(privs)
        if normalized is None or not wanted:
            raise AuthError(LOGIN_FAILED, f"invalid path or privileges ({path}, {privs})")
        if not self.view().allowed(username, normalized, wanted):
            raise AuthError(LOGIN_FAILED, f"no permission ({path}, {privs})")

    # -- requests -----------------------------------------------------------------------------

    def authenticate_request(
        self,
        cookie_ticket: str | None,
        auth_header: str | None,
        *,
        method: str | None = None,
        csrf_token: str | None = None,
    ) -> Principal:
        """Who sent a request: ``cookie_ticket`` is the value of the ``PVEAuthCookie`` cookie
        (percent-encoded or not), ``auth_header`` the ``Authorization`` header. With
        ``method``, a ticket-authenticated request other than GET must also carry a valid
        ``csrf_token`` (the ``CSRFPreventionToken`` header); without it, the caller checks
        with :meth:`verify_csrf` where :attr:`Principal.csrf_required`. Raise AuthError (401,
        ``delay`` set) when there is no valid credential."""
        delay = self.settings.failed_login_delay
        try:
            principal = self._principal(cookie_ticket, auth_header)
        except AuthError as err:
            raise AuthError(str(err), err.reason, delay) from err
        except InputError as err:
            raise AuthError("authentication failure", str(err), delay) from err
        if method is not None and method.upper() != "GET" and principal.csrf_required:
            self.verify_csrf(principal.userid, csrf_token)
        return principal

    def _principal(self, cookie_ticket: str | None, auth_header: str | None) -> Principal:
        ticket = urllib.parse.unquote(cookie_ticket) if cookie_ticket else None
        ticket = ticket or extract_auth_value(auth_header, "PVEAuthCookie")
        if ticket:
            return self._ticket_principal(ticket)
        token = extract_auth_value(auth_header, "PVEAPIToken")
        if token:
            return self._token_principal(token)
        raise AuthError("No ticket")

    def _ticket_principal(self, ticket: str) -> Principal:
        found = self.authkeys.verify_ticket(ticket)
        if found is None or found.data is None or not ids.is_userid(found.data):
            raise AuthError("permission denied - invalid PVE ticket")
        self.check_user_enabled(found.data)
        return Principal(found.data, None, AuthMethod.TICKET)

    def _token_principal(self, value: str) -> Principal:
        tokenid, sep, secret = value.rpartition("=")
        if not sep:
            raise AuthError("no tokenid specified")
        userid, name = ids.parse_tokenid(tokenid)
        self.check_user_enabled(userid)
        token = self.config().users[userid].tokens.get(name)
        if token is None:
            raise AuthError(LOGIN_FAILED, f"no such token '{name}' for user '{userid}'")
        if token.expire and token.expire < self.clock():
            raise AuthError(LOGIN_FAILED, f"token '{name}' access expired")
        if not self.token_secrets.verify(tokenid, secret):
            raise AuthError(LOGIN_FAILED, "invalid token value!")
        return Principal(userid, name, AuthMethod.TOKEN)

    def verify_csrf(self, userid: str, token: str | None) -> None:
        """Raise AuthError (401) unless ``token`` is a valid CSRF prevention token of
        ``userid``."""
        if not token or not self.csrf.verify(userid, token):
            raise AuthError(
                "Permission denied - invalid csrf token",
                delay=self.settings.failed_login_delay,
            )
