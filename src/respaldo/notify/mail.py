"""Mail over SMTP: the relay and sender settings, address checks, and sending a message.

Proxmox hands its mails to the local MTA; respaldo speaks SMTP to a relay instead, by default
``localhost:25`` (a local Postfix or similar, no TLS, no login). See :func:`mail_settings` for
where the relay and the sender address come from. What a mail says (the vzdump status mail)
is the business of the service that sends it (:mod:`respaldo.services.vzdump.report`).
"""

from __future__ import annotations

import contextlib
import enum
import ipaddress
import os
import re
import smtplib
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from respaldo.errors import InputError, RespaldoError

ENV_SMTP_RELAY = "RESPALDO_SMTP_RELAY"
ENV_MAIL_FROM = "RESPALDO_MAIL_FROM"

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDRESS_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*")
_PORT_RE = re.compile(r"[0-9]{1,5}")
_BRACKETED_RE = re.compile(r"\[([^\]]*)\](?::(.*))?")
_MAILTO_SPLIT_RE = re.compile(r"[\s,;]+")


class MailError(RespaldoError):
    """The status mail could not be handed to the SMTP relay.

    ``relay`` is the relay as ``host:port``, ``recipients`` the addresses the mail was for; the
    underlying ``smtplib``/``OSError`` is the ``__cause__``.
    """

    http_status = 502

    def __init__(self, message: str, relay: str, recipients: Iterable[str]) -> None:
        super().__init__(message)
        self.relay = relay
        self.recipients = tuple(recipients)


# -- settings ---------------------------------------------------------------------------------


def _host_problem(host: str) -> str | None:
    """Why ``host`` (without brackets or port) is not a usable relay host, or None."""
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"{host!r} is not an IPv6 address"
        return None
    if len(host) > 253 or not _HOSTNAME_RE.fullmatch(host):
        return f"{host!r} is not a host name or IP address"
    return None


@dataclass(frozen=True)
class SmtpRelay:
    """The SMTP server the status mail is handed to."""

    host: str = "localhost"
    port: int = 25

    def __post_init__(self) -> None:
        problem = _host_problem(self.host)
        if problem:
            raise InputError("smtp relay", self.host, problem)
        if not 1 <= self.port <= 65535:
            raise InputError("smtp relay", self.port, "the port must be between 1 and 65535")

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @classmethod
    def parse(cls, text: str, name: str = "smtp relay") -> SmtpRelay:
        """``host``, ``host:port``, ``[ipv6]`` or ``[ipv6]:port``; the port defaults to 25.

        ``name`` is what a bad value is called in the error (the option or variable it came
        from).
        """
        usage = "expected host, host:port or [ipv6]:port"
        raw = text.strip()
        if not raw:
            raise InputError(name, text, f"empty; {usage}")
        port_text: str | None
        if raw.startswith("["):
            match = _BRACKETED_RE.fullmatch(raw)
            if not match:
                raise InputError(name, text, usage)
            host, port_text = match.group(1), match.group(2)
            if not host:
                raise InputError(name, text, f"no address between the brackets; {usage}")
            try:
                ipaddress.IPv6Address(host)
            except ValueError:
                raise InputError(name, text, f"{host!r} is not an IPv6 address") from None
        elif raw.count(":") > 1:
            raise InputError(name, text, "put an IPv6 address in brackets, as in [2001:db8::1]:25")
        else:
            host, colon, rest = raw.partition(":")
            port_text = rest if colon else None
            problem = _host_problem(host) if host else f"no host name; {usage}"
            if problem:
                raise InputError(name, text, problem)
        if port_text is None:
            return cls(host)
        if not _PORT_RE.fullmatch(port_text) or not 1 <= int(port_text) <= 65535:
            raise InputError(
                name, text, f"the port {port_text!r} is not a number between 1 and 65535"
            )
        return cls(host, int(port_text))


def check_address(name: str, address: str) -> str:
    """``address`` if it is a plain ``local@domain`` mail address, else InputError(name, ...).

    Deliberately simple: ASCII only, no display names, no spaces or line breaks, no quoted
    local parts, no IP literals.
    """
    if any(ch.isspace() for ch in address):
        raise InputError(name, address, "a mail address must not contain spaces or line breaks")
    if len(address) > 254 or not _ADDRESS_RE.fullmatch(address):
        raise InputError(name, address, "expected a mail address like user@example.com")
    return address


def parse_mailto(text: str) -> list[str]:
    """The vzdump option ``mailto``: addresses separated by commas, semicolons or spaces.

    Empty parts are ignored and duplicates dropped (first one kept); an empty text gives an
    empty list (no mail). Every address is checked with :func:`check_address`.
    """
    recipients: list[str] = []
    for part in _MAILTO_SPLIT_RE.split(text.strip()):
        if part and check_address("mailto", part) not in recipients:
            recipients.append(part)
    return recipients


def mail_settings(node_cfg: Mapping[str, str]) -> tuple[SmtpRelay, str]:
    """The relay and the sender address for status mails of this node.

    From the node's settings ``node_cfg`` (e.g. ``vzdump.conf``), both optional:

    - ``smtp-relay``: ``host``, ``host:port`` or ``[ipv6]:port``; default ``localhost:25``.
    - ``mail-from``: the sender address; default ``root@<hostname of this machine>``.

    Each is overridden by an environment variable when that is set and not empty:

    - ``RESPALDO_SMTP_RELAY`` overrides ``smtp-relay``;
    - ``RESPALDO_MAIL_FROM`` overrides ``mail-from``.

    A bad value raises InputError naming where it came from (the key or the variable).
    """
    relay = SmtpRelay()
    for name, value in (
        ("smtp-relay", node_cfg.get("smtp-relay", "")),
        (ENV_SMTP_RELAY, os.environ.get(ENV_SMTP_RELAY, "")),
    ):
        if value.strip():
            relay = SmtpRelay.parse(value, name)
    sender_name, sender = "mail-from", f"root@{socket.gethostname()}"
    for name, value in (
        ("mail-from", node_cfg.get("mail-from", "")),
        (ENV_MAIL_FROM, os.environ.get(ENV_MAIL_FROM, "")),
    ):
        if value.strip():
            sender_name, sender = name, value.strip()
    return relay, check_address(sender_name, sender)


@dataclass(frozen=True)
class Mail:
    """A message to send: its subject and the same content as plain text and as HTML."""

    subject: str
    text: str
    html: str


def one_line(text: str) -> str:
    """A header or table cell: whitespace (tabs, line breaks) collapsed to single spaces."""
    return " ".join(text.split())


def _describe(err: BaseException, timeout: float) -> str:
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(
            f"{addr} ({code} {reply.decode(errors='replace')})"
            for addr, (code, reply) in err.recipients.items()
        )
        return f"the relay refused every recipient: {refused}"
    if isinstance(err, smtplib.SMTPResponseException):
        reply = err.smtp_error
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        return f"{err.smtp_code} {text}"
    # smtplib turns a timeout while waiting for a reply into SMTPServerDisconnected
    if isinstance(err, TimeoutError) or isinstance(err.__context__, TimeoutError):
        return f"no answer within {timeout:g} seconds"
    return str(err) or type(err).__name__


def build_message(
    sender: str, recipients: list[str], mail: Mail, author: str | None = None
) -> EmailMessage:
    """The MIME message: multipart/alternative with the text and the HTML part; ``author``
    is the sender's display name."""
    msg = EmailMessage()
    msg["Subject"] = one_line(mail.subject)
    msg["From"] = formataddr((one_line(author), sender)) if author else sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid("respaldo.vzdump", domain=sender.rpartition("@")[2])
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    return msg


class SmtpMode(enum.Enum):
    """How the connection is protected (proxmox-notify's smtp ``mode``)."""

    TLS = "tls"  # TLS from the start (SMTPS)
    STARTTLS = "starttls"  # plain, then STARTTLS before anything else
    INSECURE = "insecure"  # plain text


DEFAULT_PORTS = {SmtpMode.TLS: 465, SmtpMode.STARTTLS: 587, SmtpMode.INSECURE: 25}


@dataclass(frozen=True)
class SmtpServer:
    """An SMTP server to hand mail to: host, port (None: the mode's default), mode, and the
    login (both or neither). TLS certificates are verified against the system's CAs."""

    host: str
    port: int | None = None
    mode: SmtpMode = SmtpMode.INSECURE
    username: str | None = None
    password: str | None = None

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.mode]

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        plain = self.mode is SmtpMode.INSECURE
        return f"{host}:{self.effective_port}" + ("" if plain else f" ({self.mode.value})")


def _connect(server: SmtpServer, timeout: float) -> smtplib.SMTP:
    """Connected (and protected, and logged in) as ``server`` says. The host is given to the
    constructor: smtplib checks the certificate against the host it was made with."""
    local = socket.gethostname() or "localhost"
    port = server.effective_port
    smtp: smtplib.SMTP
    if server.mode is SmtpMode.TLS:
        context = ssl.create_default_context()
        smtp = smtplib.SMTP_SSL(
            server.host, port, local_hostname=local, timeout=timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(server.host, port, local_hostname=local, timeout=timeout)
    try:
        if server.mode is SmtpMode.STARTTLS:
            smtp.starttls(context=ssl.create_default_context())
        if server.username:
            smtp.login(server.username, server.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def deliver(
    server: SmtpServer,
    sender: str,
    recipients: list[str],
    msg: EmailMessage,
    timeout: float = 10,
) -> None:
    """Hand ``msg`` to ``server`` for ``recipients``. A failure of the connection, of TLS,
    of the login or of the server, including a server that accepted only some of the
    recipients, raises MailError naming the recipients and the server, with the
    smtplib/ssl/OSError as its cause."""
    where = f"sending mail to {', '.join(recipients)} through {server}"
    try:
        smtp = _connect(server, timeout)
    except (smtplib.SMTPException, OSError) as err:
        raise MailError(
            f"{where} failed: {_describe(err, timeout)}", str(server), recipients
        ) from err
    try:
        refused = smtp.send_message(msg, from_addr=sender, to_addrs=recipients)
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()
    except (smtplib.SMTPException, OSError) as err:
        raise MailError(
            f"{where} failed: {_describe(err, timeout)}", str(server), recipients
        ) from err
    finally:
        smtp.close()
    if refused:
        detail = ", ".join(
            f"{addr} ({code} {reply.decode(errors='replace')})"
            for addr, (code, reply) in refused.items()
        )
        raise MailError(f"{where}: the relay refused {detail}", str(server), recipients)


def send_mail(
    relay: SmtpRelay,
    sender: str,
    recipients: list[str],
    mail: Mail,
    timeout: float = 10,
) -> None:
    """Hand ``mail`` to ``relay`` over plain SMTP for ``recipients`` (vzdump's legacy mail).

    Addresses are checked first (InputError ``mail-from`` / ``mailto``). ``timeout`` bounds
    connecting and each single SMTP exchange. Raises MailError as :func:`deliver`.
    """
    check_address("mail-from", sender)
    if not recipients:
        raise InputError("mailto", "", "no recipient address given")
    for address in recipients:
        check_address("mailto", address)
    msg = build_message(sender, recipients, mail)
    deliver(SmtpServer(relay.host, relay.port), sender, recipients, msg, timeout)
