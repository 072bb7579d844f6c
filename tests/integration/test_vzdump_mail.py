"""The status mail of a backup job, through a real SMTP server on loopback."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from tests.integration.conftest import Cli
from tests.smtpserver import LOOPBACK, Collector, start_smtp_server

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(120)]


@pytest.fixture
def smtp(cli: Cli) -> Iterator[Collector]:
    collector = Collector()
    controller = start_smtp_server(collector)
    cli.env["RESPALDO_SMTP_RELAY"] = f"{LOOPBACK}:{controller.port}"
    cli.env["RESPALDO_MAIL_FROM"] = "backup@node.test"
    try:
        yield collector
    finally:
        controller.stop()


def _messages(collector: Collector) -> list[EmailMessage]:
    return [
        email.message_from_bytes(e.original_content or b"", policy=email.policy.default)
        for e in collector.envelopes
    ]


def _two_vms(cli: Cli) -> None:
    for vmid in ("100", "101"):
        cli.run(
            "qm",
            "create",
            vmid,
            "--name",
            f"vm{vmid}",
            "--memory",
            "64",
            "--virtio0",
            "local:0.0625",
        )


def test_one_mail_per_job_with_every_vm(cli: Cli, smtp: Collector) -> None:
    _two_vms(cli)
    cli.run(
        "vzdump",
        "100",
        "101",
        "--compress",
        "zstd",
        "--mailto",
        "admin@example.com,ops@example.org",
    )
    [envelope] = smtp.envelopes
    assert envelope.mail_from == "backup@node.test"
    assert sorted(envelope.rcpt_tos) == ["admin@example.com", "ops@example.org"]
    [message] = _messages(smtp)
    assert message["Subject"] == "vzdump backup status (testnode): backup successful"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for vmid in ("100", "101"):
        assert f"vzdump-qemu-{vmid}-" in text and f"vm{vmid}" in text
    assert "Finished Backup of VM 101" in text


def test_failure_notification(cli: Cli, smtp: Collector) -> None:
    _two_vms(cli)
    cli.run("vzdump", "100", "--mailto", "admin@example.com", "--mailnotification", "failure")
    assert smtp.envelopes == []  # all went well: no mail
    cli.run("qm", "set", "101", "--lock", "migrate")
    proc = cli.run(
        "vzdump",
        "100",
        "101",
        "--mailto",
        "admin@example.com",
        "--mailnotification",
        "failure",
        check=False,
    )
    assert proc.returncode == 1
    [message] = _messages(smtp)
    assert message["Subject"] == "vzdump backup status (testnode): backup failed"


def test_unreachable_relay_is_a_warning_not_a_failure(cli: Cli) -> None:
    _two_vms(cli)
    cli.env["RESPALDO_SMTP_RELAY"] = f"{LOOPBACK}:9"
    proc = cli.run("vzdump", "100", "--mailto", "admin@example.com")
    assert "WARN: could not send the status mail" in proc.stdout
