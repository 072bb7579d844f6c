"""The vzdump status mail: rendering, settings, and sending to a real SMTP server on loopback."""

from __future__ import annotations

import email
import email.policy
import socket
import time
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import Envelope

from respaldo.errors import InputError, RespaldoError
from respaldo.formats import hms_duration as format_duration
from respaldo.formats import human_size
from respaldo.notify import mail
from respaldo.notify.mail import Mail as BackupMail
from respaldo.notify.mail import (
    MailError,
    SmtpRelay,
    check_address,
    mail_settings,
    parse_mailto,
    send_mail,
)
from respaldo.services.vzdump import report
from respaldo.services.vzdump.jobresult import GuestResult, JobResult
from respaldo.services.vzdump.report import render_job_mail, send_job_mail, should_send
from tests.smtpserver import LOOPBACK, Collector, start_smtp_server

SENDER = "backup@pve1.example.com"
RECIPIENTS = ["admin@example.com", "ops@example.org", "oncall+backup@example.net"]
ARCHIVE = "vzdump-qemu-100-2024_05_20-18_11_48.vma.zst"
EVIL_NAME = "db<script>alert('x')</script>"


def format_bytes(size: int) -> str:
    return human_size(size, decimals=2)


@pytest.fixture
def collector() -> Collector:
    return Collector(refuse=("nobody@example.com", "ghost@example.com", "spam@example.com"))


@pytest.fixture
def relay(collector: Collector) -> Iterator[SmtpRelay]:
    controller = start_smtp_server(collector)
    try:
        yield SmtpRelay(LOOPBACK, controller.port)
    finally:
        controller.stop()


def _guest_ok(vmid: int = 100, name: str = "web") -> GuestResult:
    log = (
        f"INFO: Starting Backup of VM {vmid} (qemu)\n"
        "INFO: backup mode: snapshot\n"
        f"INFO: Finished Backup of VM {vmid} (00:01:23)\n"
    )
    return GuestResult(vmid, name, True, None, ARCHIVE, 1320702444, 83.2, log)


def _guest_failed(vmid: int = 101, name: str = EVIL_NAME) -> GuestResult:
    error = f"can't lock VM {vmid}: timeout after 180 seconds"
    log = f"INFO: Starting Backup of VM {vmid} (qemu)\nERROR: {error} <b>bold?</b>\n"
    return GuestResult(vmid, name, False, error, None, 0, 5.4, log)


def _job(*guests: GuestResult, job_error: str | None = None) -> JobResult:
    return JobResult(
        node="pve1",
        started=datetime(2024, 5, 20, 18, 11, 48),
        seconds=93.0,
        guests=list(guests),
        job_error=job_error,
    )


def _parse(envelope: Envelope) -> EmailMessage:
    raw = envelope.original_content
    assert isinstance(raw, bytes)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _part(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body(preferencelist=(subtype,))
    assert part is not None and part.get_content_type() == f"text/{subtype}"
    content = part.get_content()
    assert isinstance(content, str)
    return content


# -- job result -------------------------------------------------------------------------------


def test_job_result_ok_and_total() -> None:
    assert _job(_guest_ok(100), _guest_ok(102)).ok
    assert _job().ok
    assert not _job(_guest_ok(), _guest_failed()).ok
    assert not _job(_guest_ok(), job_error="storage 'nas' is not online").ok
    job = _job(_guest_ok(100), _guest_ok(102), _guest_failed())
    assert job.total_size == 2 * 1320702444
    assert [guest.vmid for guest in job.failed] == [101]
    assert [guest.status for guest in job.guests] == ["ok", "ok", "err"]


# -- sending through a real SMTP server ---------------------------------------------------------


def test_successful_job_mail_reaches_every_recipient(
    relay: SmtpRelay, collector: Collector
) -> None:
    job = _job(_guest_ok(100, "web"), _guest_ok(102, "mail"))
    send_mail(relay, SENDER, RECIPIENTS, render_job_mail(job), timeout=5)

    [envelope] = collector.envelopes
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == RECIPIENTS
    msg = _parse(envelope)
    assert msg["Subject"] == "vzdump backup status (pve1): backup successful"
    assert msg["From"] == SENDER
    assert [addr.addr_spec for addr in msg["To"].addresses] == RECIPIENTS
    assert msg["Date"] and msg["Message-ID"].endswith("@pve1.example.com>")
    assert msg.get_content_type() == "multipart/alternative"

    text = _part(msg, "plain")
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line[:3].isdigit()}
    assert rows["100"] == ["100", "web", "ok", "0:01:23", "1.23", "GiB", ARCHIVE]
    assert rows["102"] == ["102", "mail", "ok", "0:01:23", "1.23", "GiB", ARCHIVE]
    [total] = [line.split() for line in text.splitlines() if line.startswith("TOTAL")]
    assert total == ["TOTAL", "2", "0:01:33", "2.46", "GiB"]
    assert text.index("VMID") < text.index("TOTAL") < text.index("Detailed backup logs:")
    assert "100: INFO: Starting Backup of VM 100 (qemu)" in text
    assert "102: INFO: Finished Backup of VM 102 (00:01:23)" in text

    page = _part(msg, "html")
    assert "<td>1.23 GiB</td>" in page and f"<td>{ARCHIVE}</td>" in page
    assert '<pre id="log-100">100: INFO: Starting Backup of VM 100 (qemu)' in page


def test_failed_job_mail_has_error_row_and_escaped_html(
    relay: SmtpRelay, collector: Collector
) -> None:
    job = _job(_guest_ok(100), _guest_failed(101, EVIL_NAME))
    send_mail(relay, SENDER, RECIPIENTS[:2], render_job_mail(job), timeout=5)

    [envelope] = collector.envelopes
    assert envelope.rcpt_tos == RECIPIENTS[:2]
    msg = _parse(envelope)
    assert msg["Subject"] == "vzdump backup status (pve1): backup failed"

    text = _part(msg, "plain")
    [row] = [line for line in text.splitlines() if line.startswith("101 ")]
    assert row.split()[:5] == ["101", EVIL_NAME, "err", "0:00:05", "-"]
    assert row.endswith("can't lock VM 101: timeout after 180 seconds")
    assert "101: ERROR: can't lock VM 101: timeout after 180 seconds <b>bold?</b>" in text

    page = _part(msg, "html")
    assert "<script>" not in page and "<b>bold?</b>" not in page
    assert "db&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold?&lt;/b&gt;" in page
    assert "<td>err</td>" in page
    assert page.count("<pre") == 3  # the job line and one block per guest


def test_partly_refused_recipients_raise_after_delivery(
    relay: SmtpRelay, collector: Collector
) -> None:
    recipients = ["admin@example.com", "nobody@example.com"]
    with pytest.raises(MailError) as info:
        send_mail(relay, SENDER, recipients, render_job_mail(_job(_guest_ok())), timeout=5)
    assert "nobody@example.com (550" in str(info.value)
    assert info.value.relay == str(relay)
    assert [env.rcpt_tos for env in collector.envelopes] == [["admin@example.com"]]


def test_all_recipients_refused(relay: SmtpRelay, collector: Collector) -> None:
    recipients = ["nobody@example.com", "ghost@example.com"]
    with pytest.raises(MailError) as info:
        send_mail(relay, SENDER, recipients, render_job_mail(_job(_guest_ok())), timeout=5)
    message = str(info.value)
    assert "refused every recipient" in message and "ghost@example.com (550" in message
    assert info.value.recipients == tuple(recipients)
    assert collector.envelopes == []


def test_refused_sender(relay: SmtpRelay, collector: Collector) -> None:
    with pytest.raises(MailError) as info:
        send_mail(relay, "spam@example.com", RECIPIENTS, _small_mail(), timeout=5)
    assert str(info.value).endswith("failed: 553 5.7.1 sender address rejected")
    assert collector.envelopes == []


def test_refused_connection_is_a_mail_error_naming_the_relay() -> None:
    # A bound socket that does not listen: connecting to it is refused, and the port stays ours.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port = sock.getsockname()[1]
        begin = time.monotonic()
        with pytest.raises(MailError) as info:
            send_mail(SmtpRelay(LOOPBACK, port), SENDER, RECIPIENTS, _small_mail(), timeout=2)
    assert time.monotonic() - begin < 2
    err = info.value
    assert isinstance(err, RespaldoError)
    assert f"through 127.0.0.1:{port} failed" in str(err)
    assert "admin@example.com" in str(err)
    assert isinstance(err.__cause__, ConnectionRefusedError)
    assert err.relay == f"127.0.0.1:{port}"


def test_silent_relay_times_out() -> None:
    # Listening but never answering: the connection completes from the backlog, no greeting.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        begin = time.monotonic()
        with pytest.raises(MailError) as info:
            send_mail(SmtpRelay(LOOPBACK, port), SENDER, RECIPIENTS, _small_mail(), timeout=0.5)
    assert time.monotonic() - begin < 3
    assert "no answer within 0.5 seconds" in str(info.value)
    cause = info.value.__cause__
    assert cause is not None
    assert isinstance(cause, TimeoutError) or isinstance(cause.__context__, TimeoutError)


def _small_mail() -> BackupMail:
    return BackupMail("subject", "text\n", "<p>html</p>\n")


def test_send_mail_checks_addresses_before_connecting() -> None:
    relay = SmtpRelay(LOOPBACK, 9)  # never contacted
    with pytest.raises(InputError) as info:
        send_mail(relay, SENDER, ["ok@example.com", "bad address@example.com"], _small_mail())
    assert info.value.name == "mailto" and info.value.value == "bad address@example.com"
    with pytest.raises(InputError) as info:
        send_mail(relay, "root", RECIPIENTS, _small_mail())
    assert info.value.name == "mail-from"
    with pytest.raises(InputError) as info:
        send_mail(relay, SENDER, [], _small_mail())
    assert info.value.name == "mailto"


def test_send_job_mail_follows_mailnotification(
    relay: SmtpRelay, collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(mail.ENV_SMTP_RELAY, raising=False)
    monkeypatch.delenv(mail.ENV_MAIL_FROM, raising=False)
    cfg = {"smtp-relay": str(relay), "mail-from": SENDER}
    good, bad = _job(_guest_ok()), _job(_guest_failed())

    assert not send_job_mail(good, "admin@example.com", "failure", cfg, timeout=5)
    assert not send_job_mail(bad, "", "always", cfg, timeout=5)
    assert send_job_mail(bad, "admin@example.com; ops@example.org", "failure", cfg, timeout=5)
    assert send_job_mail(good, ["admin@example.com"], "always", cfg, timeout=5)
    assert [env.rcpt_tos for env in collector.envelopes] == [
        ["admin@example.com", "ops@example.org"],
        ["admin@example.com"],
    ]
    with pytest.raises(InputError):
        send_job_mail(good, "admin@example.com", "never", cfg)


# -- mailnotification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mailnotification", "job_ok", "sent"),
    [("always", True, True), ("always", False, True), ("failure", True, False),
     ("failure", False, True)],
)  # fmt: skip
def test_should_send(mailnotification: str, job_ok: bool, sent: bool) -> None:
    job = _job(_guest_ok()) if job_ok else _job(_guest_ok(), _guest_failed())
    assert should_send(job, mailnotification) is sent


def test_job_error_alone_counts_as_failure() -> None:
    job = _job(_guest_ok(), job_error="job-start hook failed")
    assert should_send(job, "failure")
    rendered = render_job_mail(job)
    assert rendered.subject.endswith("backup failed")
    assert "Job error: job-start hook failed" in rendered.text
    assert "Job error: job-start hook failed" in rendered.html


@pytest.mark.parametrize("value", ["", "Always", "error", "never"])
def test_bad_mailnotification_names_valid_values(value: str) -> None:
    with pytest.raises(InputError) as info:
        should_send(_job(), value)
    assert info.value.name == "mailnotification" and info.value.value == value
    assert "always, failure" in info.value.reason


# -- rendering details --------------------------------------------------------------------------


def test_render_without_guests_and_with_empty_log() -> None:
    assert "TOTAL  0" in render_job_mail(_job()).text
    quiet = GuestResult(105, "quiet", True, None, ARCHIVE, 10, 1.0, "")
    assert "105: (no log)" in render_job_mail(_job(quiet)).text
    odd = GuestResult(106, "two\nlines", False, "boom\nsecond line", None, 0, 0.0, "")
    text = render_job_mail(_job(odd)).text
    assert "106    two lines  err" in text
    assert "106: ERROR: boom\n106: ERROR: second line" in text


def test_long_logs_are_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "MAX_LOG_CHARS", 200)
    noisy = GuestResult(100, "web", True, None, ARCHIVE, 1, 1.0, "y\n" * 100)
    text = render_job_mail(_job(noisy, _guest_ok(102))).text
    assert "100: [log cut off," in text
    assert "102: [log cut off, 3 more line(s) not shown" in text
    assert "102: INFO" not in text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00:00"), (0.4, "0:00:00"), (5, "0:00:05"), (5.6, "0:00:06"), (83.2, "0:01:23"),
     (3725, "1:02:05"), (90061, "25:01:01"), (-3, "0:00:00")],
)  # fmt: skip
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.00 KiB"), (1536, "1.50 KiB"),
     (1320702444, "1.23 GiB"), (3 << 40, "3.00 TiB"), (5 << 50, "5.00 PiB"),
     (2 << 60, "2048.00 PiB"), ((1 << 20) - 1, "1024.00 KiB")],
)  # fmt: skip
def test_format_bytes(size: int, text: str) -> None:
    assert format_bytes(size) == text


# -- relay, addresses, settings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host", "port", "shown"),
    [
        ("mail.example.com", "mail.example.com", 25, "mail.example.com:25"),
        ("localhost:2525", "localhost", 2525, "localhost:2525"),
        (" 127.0.0.1:25 ", "127.0.0.1", 25, "127.0.0.1:25"),
        ("[::1]:2525", "::1", 2525, "[::1]:2525"),
        ("[2001:db8::1]", "2001:db8::1", 25, "[2001:db8::1]:25"),
        ("relay:65535", "relay", 65535, "relay:65535"),
    ],
)
def test_relay_parse(text: str, host: str, port: int, shown: str) -> None:
    relay = SmtpRelay.parse(text)
    assert (relay.host, relay.port, str(relay)) == (host, port, shown)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("host:", "port"),
        ("host:0", "port"),
        ("host:65536", "port"),
        ("host:abc", "port"),
        ("host:²", "port"),
        ("host:25:26", "brackets"),
        ("::1", "brackets"),
        ("[::1", "expected"),
        ("[::1]x", "expected"),
        ("[]:25", "no address"),
        ("[mail.example.com]:25", "not an IPv6 address"),
        ("bad_host", "not a host name"),
        (":25", "no host name"),
        ("-mail.example.com", "not a host name"),
        ("a" * 64 + ".example.com", "not a host name"),
    ],
)
def test_relay_parse_errors(text: str, why: str) -> None:
    with pytest.raises(InputError) as info:
        SmtpRelay.parse(text)
    assert info.value.name == "smtp relay" and info.value.value == text
    assert why in info.value.reason


def test_relay_constructor_checks_too() -> None:
    assert str(SmtpRelay()) == "localhost:25"
    with pytest.raises(InputError):
        SmtpRelay("localhost", 0)
    with pytest.raises(InputError):
        SmtpRelay("no host")
    with pytest.raises(InputError):
        SmtpRelay("1:2:zz")


def test_parse_mailto_splits_like_proxmox() -> None:
    text = " admin@example.com, ops@example.org;oncall+backup@example.net\n,, admin@example.com "
    assert parse_mailto(text) == RECIPIENTS
    assert parse_mailto("") == []
    assert parse_mailto(" ,; ") == []


@pytest.mark.parametrize(
    "address",
    ["root", "a@", "@example.com", "a@@example.com", "a@b@example.com", "<a@example.com>",
     "a..b@example.com", "a@-example.com", "a@example..com", "jürgen@example.com",
     "a@example.com\nBcc: x@example.com", "a b@example.com", "a@exa mple.com"],
)  # fmt: skip
def test_bad_addresses(address: str) -> None:
    with pytest.raises(InputError) as info:
        check_address("mailto", address)
    assert info.value.name == "mailto" and info.value.value == address


def test_bad_address_in_mailto_list() -> None:
    with pytest.raises(InputError) as info:
        parse_mailto("admin@example.com, root")
    assert info.value.name == "mailto" and info.value.value == "root"


@pytest.mark.parametrize("address", ["root@localhost", "first.last+tag@mail.example.com"])
def test_good_addresses(address: str) -> None:
    assert check_address("mailto", address) == address


def test_mail_settings_defaults_config_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(mail.ENV_SMTP_RELAY, raising=False)
    monkeypatch.delenv(mail.ENV_MAIL_FROM, raising=False)
    monkeypatch.setattr(socket, "gethostname", lambda: "pve1")
    assert mail_settings({}) == (SmtpRelay("localhost", 25), "root@pve1")

    cfg = {"smtp-relay": "mail.example.com:587", "mail-from": "backup@example.com"}
    assert mail_settings(cfg) == (SmtpRelay("mail.example.com", 587), "backup@example.com")

    monkeypatch.setenv(mail.ENV_SMTP_RELAY, "[::1]:2525")
    monkeypatch.setenv(mail.ENV_MAIL_FROM, " vzdump@example.org ")
    assert mail_settings(cfg) == (SmtpRelay("::1", 2525), "vzdump@example.org")

    monkeypatch.setenv(mail.ENV_SMTP_RELAY, "")  # empty means unset
    assert mail_settings(cfg)[0] == SmtpRelay("mail.example.com", 587)

    monkeypatch.setenv(mail.ENV_SMTP_RELAY, "bad:port")
    with pytest.raises(InputError) as info:
        mail_settings(cfg)
    assert info.value.name == "RESPALDO_SMTP_RELAY"

    monkeypatch.delenv(mail.ENV_SMTP_RELAY)
    monkeypatch.setenv(mail.ENV_MAIL_FROM, "root")
    with pytest.raises(InputError) as info:
        mail_settings(cfg)
    assert info.value.name == "RESPALDO_MAIL_FROM" and info.value.value == "root"
    monkeypatch.delenv(mail.ENV_MAIL_FROM)
    with pytest.raises(InputError) as info:
        mail_settings({"mail-from": "backup"})
    assert info.value.name == "mail-from" and info.value.value == "backup"
