"""/cluster/backup, /cluster/backup-info and /cluster/jobs over HTTP, as clients call them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from respaldo.access import Access
from respaldo.access.acl import modify_acl
from respaldo.access.users import add_user
from respaldo.jobs import jobscfg
from tests.unit.accesskit import FakePam, make_access
from tests.unit.apikit import Client, running_server

PW = "secret-pw-1"
VMS = {
    100: "name: web\nvirtio0: local:100/vm-100-disk-0.qcow2,size=1G\n"
    "ide2: none,media=cdrom\nscsi1: local:100/vm-100-disk-1.qcow2,backup=0,size=1G\n",
    101: "name: db\nvirtio0: local:101/vm-101-disk-0.qcow2,size=1G\n",
    102: "name: test\nvirtio0: local:102/vm-102-disk-0.qcow2,size=1G\n",
}


@pytest.fixture
def access(tmp_path: Path) -> Access:
    access = make_access(tmp_path, pam=FakePam({}))
    for user, role in (("admin@pve", "Administrator"), ("auditor@pve", "PVEAuditor")):
        add_user(access, user, password=PW)
        modify_acl(access, "/", role, users=user)
    add_user(access, "web@pve", password=PW)
    modify_acl(access, "/vms/100", "PVEAuditor", users="web@pve")
    modify_acl(access, "/", "PVEAuditor", users="web@pve", propagate=False)
    access.node.vm_config_dir.mkdir(parents=True, exist_ok=True)
    for vmid, config in VMS.items():
        (access.node.vm_config_dir / f"{vmid}.conf").write_text(config)
    return access


@pytest.fixture
def base(access: Access) -> Iterator[str]:
    with running_server(access) as url:
        yield url


class User(Client):
    """A logged-in user; ``data`` asserts success, ``call_body`` gives (status, body)."""

    def call_body(self, http: str, where: str, /, **params: Any) -> tuple[int, Any]:
        reply = self.call(http, where, **params)
        return reply.status, reply.body

    def data(self, http: str, where: str, /, **params: Any) -> Any:
        reply = self.call(http, where, **params)
        assert reply.status == 200, (reply.status, reply.body)
        return reply.data


def login(base: str, user: str, access: Access) -> User:
    return User(base, access, user)


def test_a_job_created_listed_changed_and_removed(base: str, access: Access) -> None:
    root = login(base, "root@pam", access)
    assert (
        root.data(
            "POST",
            "/cluster/backup",
            id="nightly",
            schedule="21:00",
            vmid="100,101",
            storage="local",
            compress="zstd",
            mode="snapshot",
            **{"prune-backups": "keep-last=3,keep-daily=7", "notes-template": "{{guestname}}"},
        )
        is None
    )
    [job] = root.data("GET", "/cluster/backup")
    assert job["id"] == "nightly" and job["type"] == "vzdump" and job["enabled"] == 1
    assert job["prune-backups"] == {"keep-daily": 7, "keep-last": 3}
    assert job["vmid"] == "100,101"
    assert job["next-run"] > time.time()
    root.data("PUT", "/cluster/backup/nightly", all="1", exclude="102", comment="all: but 102")
    job = root.data("GET", "/cluster/backup/nightly")
    assert (job["all"], job["exclude"], job["comment"]) == (1, "102", "all: but 102")
    assert "vmid" not in job
    assert "comment all%3A but 102" in jobscfg.jobs_cfg_path(access.node).read_text()
    root.data("PUT", "/cluster/backup/nightly", delete="comment,prune-backups")
    job = root.data("GET", "/cluster/backup/nightly")
    assert "comment" not in job and "prune-backups" not in job
    assert root.data("DELETE", "/cluster/backup/nightly") is None
    assert root.data("GET", "/cluster/backup") == []


def test_errors_as_proxmox_answers_them(base: str, access: Access) -> None:
    root = login(base, "root@pam", access)
    status, body = root.call_body("GET", "/cluster/backup/nope")
    assert status == 400 and body["errors"] == {"id": "No such job 'nope'"}
    root.data("POST", "/cluster/backup", id="job1", schedule="daily", all="1")
    status, body = root.call_body("POST", "/cluster/backup", id="job1", schedule="daily", all="1")
    assert status == 500 and "Job 'job1' already exists" in body["message"]
    status, body = root.call_body("POST", "/cluster/backup", schedule="25:00", all="1", zstd="x")
    assert status == 400
    assert "hour 25" in body["errors"]["schedule"]
    assert body["errors"]["zstd"] == "type check ('integer') failed - got 'x'"
    status, body = root.call_body("PUT", "/cluster/backup/job1")
    assert status == 400 and "no options specified" in body["message"] + str(body["errors"])


def test_permissions(base: str, access: Access) -> None:
    auditor = login(base, "auditor@pve", access)
    admin = login(base, "admin@pve", access)
    admin.data("POST", "/cluster/backup", id="job1", schedule="daily", all="1", storage="local")
    assert [job["id"] for job in auditor.data("GET", "/cluster/backup")] == ["job1"]
    status, body = auditor.call_body("POST", "/cluster/backup", schedule="daily", all="1")
    assert status == 403 and "Sys.Modify" in body["message"]
    status, _ = auditor.call_body("DELETE", "/cluster/backup/job1")
    assert status == 403
    status, body = admin.call_body(
        "POST", "/cluster/backup", schedule="daily", all="1", tmpdir="/x"
    )
    assert status == 400 and body["errors"] == {"tmpdir": "Only root may set this option."}
    status, body = admin.call_body("PUT", "/cluster/backup/job1", **{"job-id": "x"})
    assert status == 400 and "job-id" in body["errors"]


def test_included_volumes_and_guests_without_a_job(base: str, access: Access) -> None:
    root = login(base, "root@pam", access)
    root.data("POST", "/cluster/backup", id="job1", schedule="daily", vmid="100,105")
    tree = root.data("GET", "/cluster/backup/job1/included_volumes")
    web, gone = tree["children"]
    assert gone == {"id": 105, "type": "unknown", "leaf": 1}
    assert (web["id"], web["type"], web["name"]) == (100, "qemu", "web")
    assert [(d["id"], d["included"], d["reason"]) for d in web["children"]] == [
        ("100:virtio0", 1, "backup=yes"),
        ("100:scsi1", 0, "backup=no"),
    ]
    assert root.data("GET", "/cluster/backup-info") == [{"subdir": "not-backed-up"}]
    missing = root.data("GET", "/cluster/backup-info/not-backed-up")
    assert missing == [
        {"vmid": 101, "type": "qemu", "name": "db"},
        {"vmid": 102, "type": "qemu", "name": "test"},
    ]
    # a user sees only the guests it may audit
    web_user = login(base, "web@pve", access)
    assert [
        g["id"] for g in web_user.data("GET", "/cluster/backup/job1/included_volumes")["children"]
    ] == [100]
    assert web_user.data("GET", "/cluster/backup-info/not-backed-up") == []


def test_schedule_analyze(base: str, access: Access) -> None:
    auditor = login(base, "auditor@pve", access)
    start = 1715335200  # 2024-05-10 10:00 UTC
    runs = auditor.data(
        "GET", "/cluster/jobs/schedule-analyze", schedule="*/15", starttime=start, iterations=3
    )
    assert [run["timestamp"] - start for run in runs] == [900, 1800, 2700]
    assert runs[0]["utc"] == time.asctime(time.gmtime(start + 900))
    status, body = auditor.call_body(
        "GET", "/cluster/jobs/schedule-analyze", schedule="*/15", iterations=101
    )
    assert status == 400 and "maximum value of 100" in body["errors"]["iterations"]
    assert auditor.data("GET", "/cluster/jobs") == [{"subdir": "schedule-analyze"}]
