"""Realms: where a user's password is checked.

- ``pam``: the system's accounts, through PAM (``root@pam`` is the system's root). The PAM
  service is ``respaldo`` by default; without ``/etc/pam.d/respaldo`` PAM applies the
  ``other`` service (on Debian: the common-auth and common-account stacks). As Proxmox
  (``PVE/Auth/PAM.pm``), both authentication and the account check must pass; setting a
  password sets the system account's password.
- ``pve``: respaldo's own users, their password hashes in ``priv/shadow.cfg``.

A pam user must also be in user.cfg to log in, as in Proxmox (root@pam always is).
"""

from __future__ import annotations

from typing import Protocol

import pam as python_pam

from respaldo.errors import AuthError, InputError
from respaldo.runner import binary, run_bytes

#: realm -> (type, comment): what ``GET /access/domains`` lists.
REALMS: dict[str, tuple[str, str]] = {
    "pam": ("pam", "Linux PAM standard authentication"),
    "pve": ("pve", "respaldo authentication server"),
}


def domains() -> list[dict[str, str]]:
    """``GET /access/domains``: [{realm, type, comment}], the realms one can log in with."""
    return [
        {"realm": realm, "type": kind, "comment": comment}
        for realm, (kind, comment) in sorted(REALMS.items())
    ]


def check_known_realm(realm: str, name: str = "realm") -> str:
    if realm not in REALMS:
        raise InputError(name, realm, f"no such realm (known: {', '.join(sorted(REALMS))})")
    return realm


class PamAuthenticator(Protocol):
    """The system's accounts. Injected so that tests need no real accounts."""

    def authenticate(self, user: str, password: str) -> None:
        """Return if ``password`` is the password of system user ``user`` and the account may
        log in; raise AuthError (its ``reason`` saying why) otherwise."""

    def set_password(self, user: str, password: str) -> None:
        """Set the system account's password; raise CommandError if that fails."""


class SystemPam:
    """Real PAM through python-pam; passwords are set with chpasswd(8) (``RESPALDO_CHPASSWD``
    names another program)."""

    def __init__(self, service: str = "respaldo", chpasswd: str | None = None) -> None:
        self.service = service
        self.chpasswd = chpasswd or binary("chpasswd")

    def authenticate(self, user: str, password: str) -> None:
        handle = python_pam.pam()  # one handle per call: a handle serves one thread
        try:
            ok = handle.authenticate(user, password, service=self.service, resetcreds=False)
        except ValueError as err:  # a NUL byte in the user name or password
            raise AuthError("authentication failure", f"PAM: {err}") from err
        if not ok:
            raise AuthError("authentication failure", f"PAM: {handle.reason}")

    def set_password(self, user: str, password: str) -> None:
        """chpasswd reads ``user:password`` lines on its stdin (never in its argv, which
        others may read); CommandError with its stderr if it fails."""
        if "\n" in user or ":" in user or "\n" in password:
            raise InputError("password", "(hidden)", "may not contain a line break")
        run_bytes([self.chpasswd], timeout=60, data=f"{user}:{password}\n".encode())
