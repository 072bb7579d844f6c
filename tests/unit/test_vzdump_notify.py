"""vzdump's notification-mode: the legacy mail or the notification system, one per job run;
a target that fails is a warning, never a failed backup. (The runs here skip their VM, whose
backup is still running, so no QEMU is needed; the end-to-end test backs up real VMs.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from respaldo.node import Node
from respaldo.services.notifications import NotificationConfig
from tests.smtpserver import LOOPBACK, Collector, smtp_server
from tests.unit.test_notify import b64, receiver  # noqa: F401  (fixture)
from tests.unit.test_vzdump_busy import node, run_with_the_backup_of_100_running  # noqa: F401
from tests.webhookserver import Receiver

BODY = '{"title": {{ json title }}, "severity": "{{ severity }}", "job": "{{ fields.job-id }}"}'


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def targets(node: Node, receiver: tuple[Receiver, str], smtp: tuple[Collector, int]) -> None:  # noqa: F811
    config = NotificationConfig(node)
    config.create(
        "webhook", {"name": "hook", "url": receiver[1], "method": "post", "body": b64(BODY)}
    )
    config.create(
        "smtp",
        {
            "name": "mail",
            "server": LOOPBACK,
            "port": str(smtp[1]),
            "mode": "insecure",
            "mailto": "ops@example.com",
            "from-address": "pve@example.com",
        },
    )
    config.create(
        "matcher",
        {"name": "nightly", "target": "hook,mail", "match-field": "exact:job-id=nightly"},
    )


@pytest.mark.usefixtures("targets")
def test_a_jobs_run_notifies_its_matched_targets_once(
    node: Node,  # noqa: F811
    receiver: tuple[Receiver, str],  # noqa: F811
    smtp: tuple[Collector, int],
) -> None:
    ctx, _ = run_with_the_backup_of_100_running(node, {"vmid": "100", "job-id": "nightly"})
    [(method, _, _, body)] = receiver[0].requests
    sent = json.loads(body)
    assert method == "POST" and sent["job"] == "nightly" and sent["severity"] == "info"
    assert sent["title"] == "vzdump backup status (pve): backup successful"
    [envelope] = smtp[0].envelopes
    assert envelope.rcpt_tos == ["ops@example.com"]
    text = (envelope.original_content or b"").decode()
    assert "skipped" in text  # the per-VM table: VM 100, skipped
    assert "INFO: notification sent to hook, mail" in ctx.lines
    # another job's run (or backup now, without job-id) is not matched
    run_with_the_backup_of_100_running(node, {"vmid": "100", "job-id": "weekly"})
    run_with_the_backup_of_100_running(node, {"vmid": "100", "lockwait": "0"})
    assert len(receiver[0].requests) == 1 and len(smtp[0].envelopes) == 1


@pytest.mark.usefixtures("targets")
def test_mailto_in_auto_mode_is_the_legacy_mail(
    node: Node,  # noqa: F811
    receiver: tuple[Receiver, str],  # noqa: F811
    smtp: tuple[Collector, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RESPALDO_SMTP_RELAY", f"{LOOPBACK}:{smtp[1]}")
    options = {"vmid": "100", "job-id": "nightly", "mailto": "admin@example.com"}
    run_with_the_backup_of_100_running(node, options)
    assert receiver[0].requests == []
    [envelope] = smtp[0].envelopes
    assert envelope.rcpt_tos == ["admin@example.com"]
    run_with_the_backup_of_100_running(
        node, {**options, "notification-mode": "notification-system"}
    )
    assert len(receiver[0].requests) == 1 and len(smtp[0].envelopes) == 2


def test_an_unreachable_target_is_a_warning(node: Node, tmp_path: Path) -> None:  # noqa: F811
    config = NotificationConfig(node)
    config.create("webhook", {"name": "hook", "url": f"http://{LOOPBACK}:1/", "method": "post"})
    config.create("matcher", {"name": "all", "target": "hook"})
    ctx, result = run_with_the_backup_of_100_running(node, {"vmid": "100", "job-id": "x1"})
    assert result.ok
    assert ctx.warnings == 2  # the skipped VM and the notification
    assert any("could not send the notification" in line and "hook" in line for line in ctx.lines)
