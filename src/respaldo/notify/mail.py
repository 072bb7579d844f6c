"""The backup status mail vzdump sends at the end of a job (options ``mailto`` and
``mailnotification``).

The mail looks like the one a Proxmox VE admin knows: the subject
``vzdump backup status (<node>): backup successful`` (or ``backup failed``), a table with one
row per guest (VMID, NAME, STATUS, TIME, SIZE, FILENAME) and a TOTAL row, then
``Detailed backup logs:`` with every guest's log, each line prefixed by the guest's VMID. It is
sent as ``multipart/alternative`` with a plain text and an HTML part.

Proxmox hands the mail to the local MTA; respaldo speaks SMTP to a relay instead, by default
``localhost:25`` (a local Postfix or similar, no TLS, no login). See :func:`mail_settings` for
where the relay and the sender address come from.
"""

from __future__ import annotations

import contextlib
import html
import ipaddress
import os
import re
import smtplib
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from respaldo.errors import InputError, RespaldoError
from respaldo.services.jobresult import GuestResult, JobResult

#: Values of the vzdump option ``mailnotification``.
MAILNOTIFICATION_VALUES = ("always", "failure")

#: At most this many characters of guest logs go into one mail; the rest is cut off with a
#: note (the complete log stays in the ``.log`` file beside the archive).
MAX_LOG_CHARS = 1 << 20

ENV_SMTP_RELAY = "RESPALDO_SMTP_RELAY"
ENV_MAIL_FROM = "RESPALDO_MAIL_FROM"

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDRESS_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*")
_PORT_RE = re.compile(r"[0-9]{1,5}")
_BRACKETED_RE = re.compile(r"\[([^\]]*)\](?::(.*))?")
_MAILTO_SPLIT_RE = re.compile(r"[\s,;]+")
_HEADERS = ("VMID", "NAME", "STATUS", "TIME", "SIZE", "FILENAME")


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


def should_send(job: JobResult, mailnotification: str) -> bool:
    """vzdump's ``mailnotification``: ``always`` sends every time, ``failure`` only when the
    job or one of its guests failed."""
    if mailnotification not in MAILNOTIFICATION_VALUES:
        raise InputError(
            "mailnotification",
            mailnotification,
            f"expected one of: {', '.join(MAILNOTIFICATION_VALUES)}",
        )
    return mailnotification == "always" or not job.ok


# -- rendering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupMail:
    subject: str
    text: str
    html: str


def format_duration(seconds: float) -> str:
    """``H:MM:SS``, rounded to the second: ``5.2`` -> ``0:00:05``, ``3725`` -> ``1:02:05``."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def format_bytes(size: int) -> str:
    """Binary units with two decimals: ``512`` -> ``512 B``, ``1320702444`` -> ``1.23 GiB``."""
    if size < 1024:
        return f"{size} B"
    exponent = min((size.bit_length() - 1) // 10, 5)
    unit = ("KiB", "MiB", "GiB", "TiB", "PiB")[exponent - 1]
    return f"{size / (1 << (10 * exponent)):.2f} {unit}"


def _one_line(text: str) -> str:
    """A table cell: whitespace (tabs, line breaks) collapsed to single spaces."""
    return " ".join(text.split())


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else ""


def _row(guest: GuestResult) -> tuple[str, ...]:
    """The cells of one guest's table row; a failed guest shows its error as the last cell."""
    error = _first_line(guest.error or "") or "backup failed"
    last = (guest.archive or "-") if guest.ok else error
    size = format_bytes(guest.size) if guest.archive else "-"
    cells = (str(guest.vmid), guest.name, guest.status, format_duration(guest.seconds), size, last)
    return tuple(_one_line(cell) for cell in cells)


def _total_row(job: JobResult) -> tuple[str, ...]:
    size = format_bytes(job.total_size)
    return ("TOTAL", str(len(job.guests)), "", format_duration(job.seconds), size, "")


def _summary(job: JobResult) -> str:
    started = job.started.strftime("%Y-%m-%d %H:%M:%S")
    return (
        f"Backup job on node {_one_line(job.node)} started {started}, "
        f"ran {format_duration(job.seconds)}: {_status_words(job)}"
    )


def _status_words(job: JobResult) -> str:
    return "backup successful" if job.ok else "backup failed"


def _guest_logs(job: JobResult) -> list[tuple[GuestResult, list[str]]]:
    """Each guest's log lines prefixed ``<vmid>: ``, with at most MAX_LOG_CHARS in total."""
    budget = MAX_LOG_CHARS
    result: list[tuple[GuestResult, list[str]]] = []
    for guest in job.guests:
        lines = guest.log_text.splitlines()
        if guest.error and guest.error.strip() not in guest.log_text:
            lines += [f"ERROR: {part}" for part in guest.error.strip().splitlines()]
        if not lines:
            lines = ["(no log)"]
        shown: list[str] = []
        for index, line in enumerate(lines):
            prefixed = f"{guest.vmid}: {line.rstrip()}"
            if len(prefixed) + 1 > budget:
                left = len(lines) - index
                shown.append(
                    f"{guest.vmid}: [log cut off, {left} more line(s) not shown; the full log "
                    "is in the .log file beside the archive]"
                )
                budget = 0
                break
            budget -= len(prefixed) + 1
            shown.append(prefixed)
        result.append((guest, shown))
    return result


def _render_text(job: JobResult) -> str:
    rows = [_HEADERS, *(_row(guest) for guest in job.guests), _total_row(job)]
    widths = [max(len(row[col]) for row in rows) for col in range(len(_HEADERS))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.ljust(width) for cell, width in zip(cells, widths, strict=True)
        ).rstrip()

    out = [_summary(job)]
    if job.job_error:
        out.append(f"Job error: {_one_line(job.job_error)}")
    out += ["", line(rows[0])]
    out += [line(row) for row in rows[1:-1]]
    out += ["", line(rows[-1]), "", "Detailed backup logs:", ""]
    out.append(f"vzdump backup job on node {_one_line(job.node)}")
    for _guest, lines in _guest_logs(job):
        out += ["", *lines]
    return "\n".join(out) + "\n"


def _render_html(job: JobResult, subject: str) -> str:
    def esc(text: str) -> str:
        return html.escape(text, quote=True)

    def cells(row: tuple[str, ...], tag: str = "td") -> str:
        return "".join(f"<{tag}>{esc(cell)}</{tag}>" for cell in row)

    out = [
        "<!DOCTYPE html>",
        "<html>",
        f'<head><meta charset="utf-8"><title>{esc(subject)}</title></head>',
        '<body style="font-family: sans-serif;">',
        f"<p>{esc(_summary(job))}</p>",
    ]
    if job.job_error:
        out.append(f'<p style="color: #c00;">Job error: {esc(job.job_error)}</p>')
    out += [
        '<table border="1" cellpadding="4" cellspacing="0" style="border-collapse: collapse;">',
        f"<thead><tr>{cells(_HEADERS, 'th')}</tr></thead>",
        "<tbody>",
    ]
    for guest in job.guests:
        row = _row(guest)
        anchor = f'<td><a href="#log-{guest.vmid}">{esc(row[0])}</a></td>'
        style = "" if guest.ok else ' style="color: #c00;"'
        out.append(f"<tr{style}>{anchor}{cells(row[1:])}</tr>")
    out += [
        "</tbody>",
        f'<tfoot><tr style="font-weight: bold;">{cells(_total_row(job))}</tr></tfoot>',
        "</table>",
        "<h3>Detailed backup logs:</h3>",
        f"<pre>vzdump backup job on node {esc(_one_line(job.node))}</pre>",
    ]
    for guest, lines in _guest_logs(job):
        out.append(f'<pre id="log-{guest.vmid}">{esc(chr(10).join(lines))}</pre>')
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def render_job_mail(job: JobResult) -> BackupMail:
    """The status mail of a finished job, as text and HTML (everything HTML-escaped)."""
    subject = f"vzdump backup status ({_one_line(job.node)}): {_status_words(job)}"
    return BackupMail(subject=subject, text=_render_text(job), html=_render_html(job, subject))


# -- sending ----------------------------------------------------------------------------------


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


def build_message(sender: str, recipients: list[str], mail: BackupMail) -> EmailMessage:
    """The MIME message: multipart/alternative with the text and the HTML part."""
    msg = EmailMessage()
    msg["Subject"] = _one_line(mail.subject)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid("respaldo.vzdump", domain=sender.rpartition("@")[2])
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    return msg


def send_mail(
    relay: SmtpRelay,
    sender: str,
    recipients: list[str],
    mail: BackupMail,
    timeout: float = 10,
) -> None:
    """Hand ``mail`` to ``relay`` over SMTP for ``recipients``.

    Addresses are checked first (InputError ``mail-from`` / ``mailto``). ``timeout`` bounds
    connecting and each single SMTP exchange. A failure of the connection or of the relay,
    including a relay that accepted only some of the recipients, raises MailError naming the
    recipients and the relay, with the smtplib/OSError as its cause.
    """
    check_address("mail-from", sender)
    if not recipients:
        raise InputError("mailto", "", "no recipient address given")
    for address in recipients:
        check_address("mailto", address)
    msg = build_message(sender, recipients, mail)
    where = f"sending mail to {', '.join(recipients)} through {relay}"
    smtp = smtplib.SMTP(timeout=timeout, local_hostname=socket.gethostname() or "localhost")
    try:
        smtp.connect(relay.host, relay.port)
        refused = smtp.send_message(msg, from_addr=sender, to_addrs=recipients)
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()
    except (smtplib.SMTPException, OSError) as err:
        raise MailError(
            f"{where} failed: {_describe(err, timeout)}", str(relay), recipients
        ) from err
    finally:
        smtp.close()
    if refused:
        detail = ", ".join(
            f"{addr} ({code} {reply.decode(errors='replace')})"
            for addr, (code, reply) in refused.items()
        )
        raise MailError(f"{where}: the relay refused {detail}", str(relay), recipients)


def send_job_mail(
    job: JobResult,
    mailto: str | list[str],
    mailnotification: str = "always",
    node_cfg: Mapping[str, str] | None = None,
    timeout: float = 10,
) -> bool:
    """The end of a vzdump job: mail its status to ``mailto`` if ``mailnotification`` says so.

    ``mailto`` is vzdump's option text (see :func:`parse_mailto`) or a list of addresses.
    Returns whether a mail was sent (False without recipients or when ``failure`` and the job
    succeeded).
    """
    send = should_send(job, mailnotification)
    recipients = parse_mailto(mailto) if isinstance(mailto, str) else list(mailto)
    if not send or not recipients:
        return False
    relay, sender = mail_settings(node_cfg or {})
    send_mail(relay, sender, recipients, render_job_mail(job), timeout)
    return True
