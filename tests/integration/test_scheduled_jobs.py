"""End to end: a backup job every minute, run by ``respaldo server`` as a user starts it.

Two tiny VMs (no OS, TCG), a job ``minutely`` on both with ``keep-last=2``, an SMTP target
(aiosmtpd on loopback) and a webhook target (an HTTP receiver on loopback) matched by the
job's id, all set up through the API with proxmoxer. Left to run three times: exactly two
backups per VM remain, and the SMTP server got three messages and the webhook three
requests, each saying the backup succeeded. The scheduler runs on real time, so the test
waits up to about four minutes; it is the only such test.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from proxmoxer import ProxmoxAPI  # type: ignore[import-untyped]

from tests.integration.conftest import Cli
from tests.serverproc import LOOPBACK, free_port, start_server
from tests.smtpserver import Collector, smtp_server
from tests.webhookserver import Receiver, webhook_receiver

pytestmark = [pytest.mark.qemu, pytest.mark.e2e, pytest.mark.timeout(330)]

NODE = "testnode"
RUNS = 3
WAIT_FOR_RUNS = 270.0  # seconds: three minute marks, the backups, the server's start
BODY = (
    '{"title": {{ json title }}, "severity": "{{ severity }}", '
    '"job": "{{ fields.job-id }}", "host": "{{ fields.hostname }}"}'
)


@pytest.fixture
def server(cli: Cli) -> Iterator[tuple[ProxmoxAPI, subprocess.Popen[str]]]:
    """``respaldo server`` on a free loopback port, its node on TCG through node.cfg."""
    (cli.home / "config").mkdir(parents=True, exist_ok=True)
    (cli.home / "config" / "node.cfg").write_text("accel: tcg\n")
    env = {k: v for k, v in cli.env.items() if k != "RESPALDO_ACCEL"}
    started = start_server(env, free_port())
    try:
        password = (cli.home / "config" / "priv" / "admin-password").read_text().strip()
        warnings.filterwarnings("ignore", message="Unverified HTTPS request")
        api = ProxmoxAPI(
            LOOPBACK, port=started.port, user="admin@pve", password=password, verify_ssl=False
        )
        yield api, started.proc
    finally:
        started.stop(grace=30)


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def webhook() -> Iterator[Receiver]:
    with webhook_receiver() as receiver:
        yield receiver


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def finished_runs(api: ProxmoxAPI) -> list[dict[str, Any]]:
    tasks = api.nodes(NODE).tasks.get(typefilter="vzdump", source="all", limit=100)
    return [task for task in tasks if task.get("status", "RUNNING") != "RUNNING"]


def test_a_minutely_job_on_two_vms_three_times(
    cli: Cli,
    server: tuple[ProxmoxAPI, subprocess.Popen[str]],
    smtp: tuple[Collector, int],
    webhook: Receiver,
) -> None:
    api, _ = server
    mails, smtp_port = smtp
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
    notifications = api.cluster.notifications
    notifications.endpoints.smtp.post(
        name="mail",
        server=LOOPBACK,
        port=smtp_port,
        mode="insecure",
        mailto="ops@example.com",
        **{"from-address": "backup@node.test"},
    )
    notifications.endpoints.webhook.post(
        name="hook",
        url=webhook.url + "/backup",
        method="post",
        body=b64(BODY),
        header=f"name=Content-Type,value={b64('application/json')}",
    )
    notifications.matchers.post(
        name="nightly", target="mail,hook", **{"match-field": "exact:job-id=every-minute"}
    )
    api.cluster.backup.post(
        id="every-minute",
        schedule="minutely",
        vmid="100,101",
        storage="local",
        compress="zstd",
        **{"prune-backups": "keep-last=2", "notification-mode": "notification-system"},
    )
    [job] = api.cluster.backup.get()
    assert job["id"] == "every-minute" and job["prune-backups"] == {"keep-last": 2}
    assert job["next-run"] - time.time() <= 60

    deadline = time.monotonic() + WAIT_FOR_RUNS
    while len(finished_runs(api)) < RUNS:
        assert time.monotonic() < deadline, f"only {len(finished_runs(api))} runs in time"
        time.sleep(2)
    api.cluster.backup("every-minute").put(enabled=0)  # no fourth run while we look

    runs = finished_runs(api)
    assert [run["status"] for run in runs] == ["OK"] * RUNS
    assert {(run["user"], run["id"]) for run in runs} == {("root@pam", "")}
    log = "\n".join(line["t"] for line in api.nodes(NODE).tasks(runs[0]["upid"]).log.get(limit=0))
    assert "prune older backups with retention: keep-last=2" in log
    assert "notification sent to mail, hook" in log

    backups = api.nodes(NODE).storage("local").content.get(content="backup")
    per_vm = {vmid: [b for b in backups if b["vmid"] == vmid] for vmid in (100, 101)}
    assert {vmid: len(found) for vmid, found in per_vm.items()} == {100: 2, 101: 2}

    assert len(mails.envelopes) == RUNS
    for envelope in mails.envelopes:
        message = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        assert message["Subject"] == f"vzdump backup status ({NODE}): backup successful"
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for vmid in ("100", "101"):
            assert re.search(rf"^{vmid}\s+vm{vmid}\s+ok\s", text, re.MULTILINE), text

    assert len(webhook.requests) == RUNS
    for method, path, headers, body in webhook.requests:
        assert (method, path, headers["Content-Type"]) == ("POST", "/backup", "application/json")
        assert json.loads(body) == {
            "title": f"vzdump backup status ({NODE}): backup successful",
            "severity": "info",
            "job": "every-minute",
            "host": NODE,
        }
    assert Path(cli.home / "run" / "jobs" / "vzdump-every-minute.json").exists()
