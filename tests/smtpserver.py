"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.serverproc import LOOPBACK, free_port

__all__ = ["LOOPBACK", "Accounts", "Collector", "smtp_server", "start_smtp_server"]


class Collector:
    """aiosmtpd handler keeping every envelope; refuses recipients in ``refuse``."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.envelopes: list[Envelope] = []
        self.refuse = refuse

    async def handle_MAIL(  # noqa: N802
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if address in self.refuse:
            return "553 5.7.1 sender address rejected"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook names)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class Accounts:
    """An aiosmtpd authenticator for LOGIN/PLAIN with fixed accounts; keeps who logged in."""

    def __init__(self, accounts: dict[str, str]) -> None:
        self.accounts = accounts
        self.logins: list[str] = []

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if self.accounts.get(user) == password:
                self.logins.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def start_smtp_server(
    handler: Collector,
    *,
    ssl_context: ssl.SSLContext | None = None,
    starttls_context: ssl.SSLContext | None = None,
    accounts: Accounts | None = None,
) -> Controller:
    """A started controller on 127.0.0.1 with an ephemeral port (aiosmtpd cannot use port 0).

    ``ssl_context``: TLS from the start (SMTPS); ``starttls_context``: STARTTLS offered and
    required; ``accounts``: AUTH required (over TLS only)."""
    extra: dict[str, Any] = {}
    if starttls_context is not None:
        extra.update(tls_context=starttls_context, require_starttls=True)
    if accounts is not None:
        # aiosmtpd sees only STARTTLS as TLS; with SMTPS the whole connection is TLS anyway
        extra.update(
            authenticator=accounts, auth_required=True, auth_require_tls=ssl_context is None
        )
    last: Exception | None = None
    for _attempt in range(5):
        controller = Controller(
            handler,
            hostname=LOOPBACK,
            port=free_port(),
            server_hostname="smtp.test",
            ready_timeout=10,
            ssl_context=ssl_context,
            **extra,
        )
        try:
            controller.start()
        except (OSError, RuntimeError) as err:  # the port was taken meanwhile: try another
            last = err
            continue
        return controller
    raise RuntimeError(f"could not start the test SMTP server: {last}")


@contextmanager
def smtp_server() -> Iterator[tuple[Collector, int]]:
    """A plain SMTP server on loopback for the block: its collector and its port."""
    collector = Collector()
    controller = start_smtp_server(collector)
    try:
        yield collector, controller.port
    finally:
        controller.stop()
