"""Who may call what: one table of (user or token, method, path, parameters, expected status)
over every API method, against an in-process server on a node in real files
(:mod:`tests.unit.apiworld`; its ``PRINCIPALS`` say which roles each one holds where).

- A method declared in ``respaldo.api.methods`` without a row allowed and a row refused fails
  :func:`test_every_method_has_rows` (a method anyone may call: a row allowed).
- A refused or rejected call changes nothing on disk (the data dir is hashed before and
  after), and neither does an allowed read; an allowed change runs on a fresh copy.
- A method that starts a task gets it recorded (type, id and user checked), not run.
- Every reply carries the security headers.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from respaldo.api.app import SECURITY_HEADERS, Router
from respaldo.api.method import ApiMethod
from respaldo.api.methods import all_methods
from tests.webhookserver import Receiver, webhook_receiver

from .apikit import Reply
from .apiworld import (
    PASSWORD,
    N,
    Template,
    World,
    build_template,
    changes,
    open_world,
    tree_digest,
    volid,
)

Check = Callable[[Any, World], None]


@dataclass(frozen=True)
class Row:
    """``who`` calls ``http path`` with ``params`` and gets ``status``; ``check`` looks at
    the data of a 200. Paths may name ``{task_vmuser}``/``{task_admin}`` (a finished task of
    that user) and ``{hook}`` (the webhook receiver's URL, in params)."""

    who: str | None
    http: str
    path: str
    status: int
    params: dict[str, Any] = field(default_factory=dict)
    check: Check | None = None
    #: the task an allowed call starts: (type, id)
    task: tuple[str, str] | None = None
    #: runs an external program (qemu-img): marked ``qemu``
    qemu: bool = False

    @property
    def id(self) -> str:
        shown = " ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.who} {self.http} {self.path} {shown} -> {self.status}".strip()

    @property
    def changes_disk(self) -> bool:
        return self.status == 200 and self.http != "GET"


def row(who: str | None, http: str, where: str, status: int, /, **params: Any) -> Row:
    """A row; ``check`` and ``task`` are the row's, the rest parameters (``_`` for ``-``)."""
    check = params.pop("check", None)
    task = params.pop("task", None)
    qemu = params.pop("qemu", False)
    given = {key.replace("_", "-"): value for key, value in params.items()}
    return Row(who, http, where, status, given, check, task, qemu)


def equals(want: Any) -> Check:
    def check(data: Any, world: World) -> None:
        assert data == want

    return check


def ids(*want: int) -> Check:
    """The VMs of a list (``vmid`` of each row) are exactly ``want``."""

    def check(data: Any, world: World) -> None:
        assert sorted(r["vmid"] for r in data if "vmid" in r) == sorted(want), data

    return check


def acl_paths(*want: str) -> Check:
    def check(data: Any, world: World) -> None:
        assert {entry["path"] for entry in data} == set(want), data

    return check


def names(key: str, *want: str) -> Check:
    def check(data: Any, world: World) -> None:
        assert sorted(r[key] for r in data) == sorted(want), data

    return check


def volids(*want: str) -> Check:
    return names("volid", *want)


def resources(vms: set[int], storages: set[str], figures: bool) -> Check:
    def check(data: Any, world: World) -> None:
        assert {r["vmid"] for r in data if r["type"] == "qemu"} == vms, data
        assert {r["storage"] for r in data if r["type"] == "storage"} == storages, data
        [node] = [r for r in data if r["type"] == "node"]
        assert ("mem" in node) == figures, node

    return check


def node_figures(shown: bool) -> Check:
    def check(data: Any, world: World) -> None:
        assert all(("maxmem" in r) == shown for r in data), data

    return check


def task_users(*want: str) -> Check:
    def check(data: Any, world: World) -> None:
        assert {r["user"] for r in data} == set(want), data

    return check


def no_private_defaults(data: Any, world: World) -> None:
    assert data["storage"] == "local" and not {"mailto", "dumpdir", "tmpdir"} & set(data), data


def backed_up(*vmids: int) -> Check:
    """The vzdump task started names exactly these guests."""

    def check(data: Any, world: World) -> None:
        [task] = world.tasks.started
        assert task.params.get("vmid") == ",".join(map(str, vmids)), task.params

    return check


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


B101 = volid("local", 101)
B102 = volid("local", 102)
B100 = volid("local", 100)
O101 = volid("other", 101)
O102 = volid("other", 102)
Q = f"{N}/qemu"
S = f"{N}/storage"
NB = "/cluster/notifications"
EVERYONE_VMS = {100, 101, 102}

ROWS: list[Row] = [
    # -- the node and the cluster view ----------------------------------------------------
    row("noone@pve", "GET", "/version", 200),
    row("noone@pve", "GET", "/nodes", 200, check=node_figures(False)),
    row("auditor@pve", "GET", "/nodes", 200, check=node_figures(True)),
    row("noone@pve", "GET", N, 200),
    row("auditor@pve", "GET", f"{N}/status", 200),
    row("vmuser@pve", "GET", f"{N}/status", 403),
    row("noone@pve", "GET", "/cluster", 200),
    row("noone@pve", "GET", "/cluster/resources", 200, check=resources(set(), set(), False)),
    row("vmuser@pve", "GET", "/cluster/resources", 200, check=resources({101}, {"local"}, False)),
    row(
        "auditor@pve",
        "GET",
        "/cluster/resources",
        200,
        check=resources(EVERYONE_VMS, {"local", "other"}, True),
    ),
    row(
        "vmuser@pve!audit",
        "GET",
        "/cluster/resources",
        200,
        check=resources({101}, {"local"}, False),
    ),
    row("noone@pve", "GET", "/cluster/nextid", 200, check=equals(103)),
    row("auditor@pve", "GET", "/pools", 200, check=names("poolid", "ops")),
    row("noone@pve", "GET", "/pools", 200, check=names("poolid")),
    row("vmuser@pve", "GET", "/storage", 200, check=names("storage", "local")),
    row("noone@pve", "GET", "/storage", 200, check=names("storage")),
    # -- access ---------------------------------------------------------------------------
    row("noone@pve", "GET", "/access", 200),
    row(None, "GET", "/access/domains", 200),
    row(None, "GET", "/access/ticket", 200),
    row(None, "POST", "/access/ticket", 200, username="noone@pve", password=PASSWORD),
    row("admin@pve!full", "POST", "/access/ticket", 403, username="admin@pve", password=PASSWORD),
    row("noone@pve", "GET", "/access/permissions", 200, check=equals({})),
    row("auditor@pve", "GET", "/access/permissions", 200, userid="vmuser@pve"),
    row("noone@pve", "GET", "/access/permissions", 403, userid="vmuser@pve"),
    row(
        "noone@pve",
        "PUT",
        "/access/password",
        200,
        userid="noone@pve",
        password="new-pw-123",
        confirmation_password=PASSWORD,
    ),
    row("noone@pve", "PUT", "/access/password", 403, userid="vmuser@pve", password="new-pw-123"),
    row("admin@pve!full", "PUT", "/access/password", 403, userid="admin@pve", password="x-123456"),
    row("noone@pve", "GET", "/access/users", 200, check=names("userid", "noone@pve")),
    row("admin@pve", "POST", "/access/users", 200, userid="new@pve"),
    row("noone@pve", "POST", "/access/users", 403, userid="new@pve"),
    row("auditor@pve", "GET", "/access/users/vmuser@pve", 200),
    row("noone@pve", "GET", "/access/users/vmuser@pve", 403),
    row("admin@pve", "PUT", "/access/users/vmuser@pve", 200, comment="x"),
    row("auditor@pve", "PUT", "/access/users/vmuser@pve", 403, comment="x"),
    row("admin@pve", "DELETE", "/access/users/noone@pve", 200),
    row("auditor@pve", "DELETE", "/access/users/noone@pve", 403),
    row("vmuser@pve", "GET", "/access/users/vmuser@pve/token", 200),
    row("noone@pve", "GET", "/access/users/vmuser@pve/token", 403),
    row("vmuser@pve", "GET", "/access/users/vmuser@pve/token/spare", 200),
    row("noone@pve", "GET", "/access/users/vmuser@pve/token/spare", 403),
    row("vmuser@pve", "POST", "/access/users/vmuser@pve/token/new", 200),
    row("noone@pve", "POST", "/access/users/vmuser@pve/token/new", 403),
    row("vmuser@pve", "PUT", "/access/users/vmuser@pve/token/spare", 200, comment="x"),
    row("noone@pve", "PUT", "/access/users/vmuser@pve/token/spare", 403, comment="x"),
    row("vmuser@pve", "DELETE", "/access/users/vmuser@pve/token/spare", 200),
    row("noone@pve", "DELETE", "/access/users/vmuser@pve/token/spare", 403),
    row("auditor@pve", "GET", "/access/groups", 200, check=names("groupid", "ops")),
    row("noone@pve", "GET", "/access/groups", 200, check=names("groupid")),
    row("admin@pve", "POST", "/access/groups", 200, groupid="dev"),
    row("auditor@pve", "POST", "/access/groups", 403, groupid="dev"),
    row("auditor@pve", "GET", "/access/groups/ops", 200),
    row("noone@pve", "GET", "/access/groups/ops", 403),
    row("admin@pve", "PUT", "/access/groups/ops", 200, comment="x"),
    row("auditor@pve", "PUT", "/access/groups/ops", 403, comment="x"),
    row("admin@pve", "DELETE", "/access/groups/ops", 200),
    row("auditor@pve", "DELETE", "/access/groups/ops", 403),
    row("noone@pve", "GET", "/access/roles", 200),
    row("admin@pve", "POST", "/access/roles", 200, roleid="Custom", privs="VM.Audit"),
    row("auditor@pve", "POST", "/access/roles", 403, roleid="Custom", privs="VM.Audit"),
    row("noone@pve", "GET", "/access/roles/Backupper", 200),
    row("admin@pve", "PUT", "/access/roles/Backupper", 200, privs="VM.Audit", append=1),
    row("auditor@pve", "PUT", "/access/roles/Backupper", 403, privs="VM.Audit", append=1),
    row("admin@pve", "DELETE", "/access/roles/Backupper", 200),
    row("auditor@pve", "DELETE", "/access/roles/Backupper", 403),
    row(
        "auditor@pve",
        "GET",
        "/access/acl",
        200,
        check=acl_paths("/", "/storage/local", "/storage/other", "/vms/101"),
    ),
    row("noone@pve", "GET", "/access/acl", 200, check=equals([])),
    row(
        "admin@pve",
        "PUT",
        "/access/acl",
        200,
        path="/vms/100",
        roles="PVEAuditor",
        users="noone@pve",
    ),
    row(
        "vmuser@pve",
        "PUT",
        "/access/acl",
        403,
        path="/vms/101",
        roles="PVEAuditor",
        users="noone@pve",
    ),
    # -- VMs ------------------------------------------------------------------------------
    row("vmuser@pve", "GET", Q, 200, check=ids(101)),
    row("auditor@pve", "GET", Q, 200, check=ids(*EVERYONE_VMS)),
    row("noone@pve", "GET", Q, 200, check=ids()),
    row("admin@pve!bare", "GET", Q, 200, check=ids()),
    row("vmuser@pve!audit", "GET", Q, 200, check=ids(101)),
    row("admin@pve", "POST", Q, 200, vmid=200, name="new", memory=64, task=("qmcreate", "200")),
    row("vmuser@pve", "POST", Q, 403, vmid=200, name="new", memory=64),
    row("admin@pve", "POST", Q, 403, vmid=200, args="-no-reboot"),  # root@pam's alone
    # restore: VM.Allocate, or over an existing VM with force VM.Backup; the archive's access
    row("vmuser@pve", "POST", Q, 200, vmid=101, archive=B101, force=1, task=("qmrestore", "101")),
    row("vmuser@pve", "POST", Q, 403, vmid=101, archive=B101),  # no VM.Allocate, no force
    row("vmuser@pve", "POST", Q, 403, vmid=101, archive=B102, force=1),  # 102's backup
    # the VM's own backup is readable on any storage (pve-storage: "we are owner")
    row("vmuser@pve", "POST", Q, 200, vmid=101, archive=O101, force=1, task=("qmrestore", "101")),
    row("vmuser@pve", "POST", Q, 403, vmid=101, archive=O102, force=1),
    row("vmuser@pve", "POST", Q, 403, vmid=101, archive=B101, force=1, storage="other"),
    row("vmuser@pve", "POST", Q, 403, vmid=101, archive=B101, force=1, name="x"),  # Options
    row("vmuser@pve", "POST", Q, 403, vmid=101, archive="/etc/passwd", force=1),
    row("auditor@pve", "POST", Q, 403, vmid=101, archive=B101, force=1),
    row("auditor@pve", "POST", Q, 403, vmid=300, archive=B101),
    row("noone@pve", "GET", f"{Q}/101", 200),
    row("admin@pve", "DELETE", f"{Q}/100", 200, task=("qmdestroy", "100")),
    row("vmuser@pve", "DELETE", f"{Q}/101", 403),
    row("admin@pve", "DELETE", f"{Q}/100", 400, skiplock=1),  # root@pam's alone
    row("vmuser@pve", "GET", f"{Q}/101/config", 200),
    row("vmuser@pve", "GET", f"{Q}/102/config", 403),
    row("admin@pve", "POST", f"{Q}/101/config", 200, name="renamed", task=("qmconfig", "101")),
    row("vmuser@pve", "POST", f"{Q}/101/config", 403, name="renamed"),  # no VM.Config.Options
    row("vmuser@pve", "POST", f"{Q}/101/config", 200, cdrom="none", task=("qmconfig", "101")),
    row("auditor@pve", "POST", f"{Q}/101/config", 403, cdrom="none"),
    row("admin@pve", "PUT", f"{Q}/101/config", 200, name="renamed"),
    row("vmuser@pve", "PUT", f"{Q}/101/config", 403, memory=128),
    row("admin@pve", "PUT", f"{Q}/101/config", 403, args="-no-reboot"),  # root@pam's alone
    row("admin@pve", "PUT", f"{Q}/101/config", 403, virtio1="/etc/passwd"),  # a path
    row("dsadmin@pve", "PUT", f"{Q}/101/config", 403, virtio1="other:1"),  # no VM.Config.Disk
    row("noone@pve", "GET", f"{Q}/101/status", 200),
    row("vmuser@pve", "GET", f"{Q}/101/status/current", 200),
    row("vmuser@pve", "GET", f"{Q}/102/status/current", 403),
    *[
        r
        for action in ("start", "stop", "shutdown", "suspend", "resume")
        for r in (
            row("vmuser@pve", "POST", f"{Q}/101/status/{action}", 200),
            row("vmuser@pve", "POST", f"{Q}/102/status/{action}", 403),
            row("auditor@pve", "POST", f"{Q}/101/status/{action}", 403),
            row("admin@pve", "POST", f"{Q}/101/status/{action}", 400, skiplock=1),
        )
    ],
    row("admin@pve", "POST", f"{Q}/101/status/stop", 400, keepActive=1),
    row("admin@pve", "POST", f"{Q}/101/status/resume", 400, nocheck=1),
    # -- storage --------------------------------------------------------------------------
    row("vmuser@pve", "GET", S, 200, check=names("storage", "local")),
    row("noone@pve", "GET", S, 200, check=names("storage")),
    row("vmuser@pve", "GET", f"{S}/local", 200),
    row("vmuser@pve", "GET", f"{S}/other", 403),
    row("vmuser@pve", "GET", f"{S}/local/status", 200),
    row("noone@pve", "GET", f"{S}/local/status", 403),
    # content: the volumes the caller may use, a backup needing VM.Backup on its guest
    row("vmuser@pve", "GET", f"{S}/local/content", 200, check=volids(B101)),
    row("auditor@pve", "GET", f"{S}/local/content", 200, check=volids()),
    row("dsadmin@pve", "GET", f"{S}/other/content", 200, check=volids(O101, O102)),
    row("admin@pve", "GET", f"{S}/local/content", 200, check=volids(B100, B101, B102)),
    row("noone@pve", "GET", f"{S}/local/content", 403),
    row(
        "dsadmin@pve",
        "POST",
        f"{S}/other/content",
        200,
        vmid=102,
        filename="vm-102-disk-1.raw",
        size="1M",
        qemu=True,
    ),
    row(
        "vmuser@pve",
        "POST",
        f"{S}/other/content",
        403,
        vmid=101,
        filename="vm-101-disk-1.raw",
        size="1M",
    ),
    row("vmuser@pve", "GET", f"{S}/local/content/{B101}", 200),
    row("vmuser@pve", "GET", f"{S}/local/content/{B102}", 403),
    row("auditor@pve", "GET", f"{S}/local/content/{B101}", 403),
    row("vmuser@pve", "PUT", f"{S}/local/content/{B101}", 200, notes="mine"),
    row("vmuser@pve", "PUT", f"{S}/local/content/{B102}", 403, notes="not mine"),
    row("auditor@pve", "PUT", f"{S}/local/content/{B101}", 403, protected=1),
    row("vmuser@pve", "DELETE", f"{S}/local/content/{B101}", 200, task=("imgdel", "101@local")),
    row("vmuser@pve", "DELETE", f"{S}/local/content/{B102}", 403),
    row("auditor@pve", "DELETE", f"{S}/local/content/{B101}", 403),
    row("dsadmin@pve", "DELETE", f"{S}/other/content/{O102}", 403),  # VM.Backup on 102 needed
    row("vmuser@pve", "GET", f"{S}/local/prunebackups", 200),
    row("noone@pve", "GET", f"{S}/local/prunebackups", 403),
    row(
        "vmuser@pve",
        "DELETE",
        f"{S}/local/prunebackups",
        200,
        prune_backups="keep-last=1",
        vmid=101,
        task=("prunebackups", "101@local"),
    ),
    row("vmuser@pve", "DELETE", f"{S}/local/prunebackups", 403, prune_backups="keep-last=1"),
    row(
        "vmuser@pve",
        "DELETE",
        f"{S}/local/prunebackups",
        403,
        prune_backups="keep-last=1",
        vmid=102,
    ),
    row(
        "dsadmin@pve",
        "DELETE",
        f"{S}/other/prunebackups",
        200,
        prune_backups="keep-last=1",
        task=("prunebackups", "other"),
    ),
    row(
        "dsadmin@pve",
        "DELETE",
        f"{S}/other/prunebackups",
        403,
        prune_backups="keep-last=1",
        vmid=102,
    ),
    # -- backup now -----------------------------------------------------------------------
    row(
        "vmuser@pve", "POST", f"{N}/vzdump", 200, vmid=101, storage="local", task=("vzdump", "101")
    ),
    row("vmuser@pve", "POST", f"{N}/vzdump", 403, vmid=102, storage="local"),
    row("vmuser@pve", "POST", f"{N}/vzdump", 403, vmid=101, storage="other"),
    row(
        "vmuser@pve",
        "POST",
        f"{N}/vzdump",
        200,
        all=1,
        storage="local",
        task=("vzdump", "101"),
        check=backed_up(101),
    ),
    row("vmuser@pve", "POST", f"{N}/vzdump", 400, vmid=101, dumpdir="/tmp"),
    row("vmuser@pve", "POST", f"{N}/vzdump", 403, vmid=101, storage="local", bwlimit=100),
    row(
        "vmuser@pve",
        "POST",
        f"{N}/vzdump",
        403,
        vmid=101,
        storage="local",
        prune_backups="keep-last=1",
    ),
    row("auditor@pve", "POST", f"{N}/vzdump", 403, vmid=101, storage="local"),
    row("admin@pve", "POST", f"{N}/vzdump", 400, vmid=101, script="/bin/true"),  # root's alone
    row("vmuser@pve", "GET", f"{N}/vzdump/defaults", 200, check=no_private_defaults),
    row("vmuser@pve", "GET", f"{N}/vzdump/defaults", 403, storage="other"),
    row("vmuser@pve", "GET", f"{N}/vzdump/extractconfig", 200, volume=B101),
    row("vmuser@pve", "GET", f"{N}/vzdump/extractconfig", 403, volume=B102),
    row("auditor@pve", "GET", f"{N}/vzdump/extractconfig", 403, volume=B101),
    row("vmuser@pve", "GET", f"{N}/vzdump/extractconfig", 403, volume="/etc/passwd"),
    row("noone@pve", "GET", f"{N}/vzdump", 200),
    # -- tasks: one's own, or all with Sys.Audit (Sys.Modify to stop others') -------------
    row("noone@pve", "GET", f"{N}/tasks", 200, check=task_users()),
    row("vmuser@pve", "GET", f"{N}/tasks", 200, check=task_users("vmuser@pve")),
    row("auditor@pve", "GET", f"{N}/tasks", 200, check=task_users("vmuser@pve", "admin@pve")),
    row("noone@pve", "GET", f"{N}/tasks/{{task_vmuser}}", 200),
    row("vmuser@pve", "GET", f"{N}/tasks/{{task_vmuser}}/status", 200),
    row("auditor@pve", "GET", f"{N}/tasks/{{task_vmuser}}/status", 200),
    row("noone@pve", "GET", f"{N}/tasks/{{task_vmuser}}/status", 403),
    row("vmuser@pve", "GET", f"{N}/tasks/{{task_admin}}/log", 403),
    row("vmuser@pve", "GET", f"{N}/tasks/{{task_vmuser}}/log", 200),
    row("vmuser@pve", "DELETE", f"{N}/tasks/{{task_vmuser}}", 200),
    row("admin@pve", "DELETE", f"{N}/tasks/{{task_vmuser}}", 200),
    row("auditor@pve", "DELETE", f"{N}/tasks/{{task_vmuser}}", 403),
    # -- backup jobs ----------------------------------------------------------------------
    row("auditor@pve", "GET", "/cluster/backup", 200, check=names("id", "nightly")),
    row("vmuser@pve", "GET", "/cluster/backup", 403),
    row("admin@pve", "POST", "/cluster/backup", 200, id="weekly", schedule="sun 01:00", vmid=102),
    row("auditor@pve", "POST", "/cluster/backup", 403, id="weekly", schedule="sun 01:00", vmid=102),
    row(
        "admin@pve",
        "POST",
        "/cluster/backup",
        400,
        id="weekly",
        schedule="sun",
        vmid=102,
        tmpdir="/tmp",
    ),
    row("auditor@pve", "GET", "/cluster/backup/nightly", 200),
    row("noone@pve", "GET", "/cluster/backup/nightly", 403),
    row("admin@pve", "PUT", "/cluster/backup/nightly", 200, schedule="22:00"),
    row("auditor@pve", "PUT", "/cluster/backup/nightly", 403, schedule="22:00"),
    row("admin@pve", "DELETE", "/cluster/backup/nightly", 200),
    row("auditor@pve", "DELETE", "/cluster/backup/nightly", 403),
    row("auditor@pve", "GET", "/cluster/backup/nightly/included_volumes", 200),
    row("noone@pve", "GET", "/cluster/backup/nightly/included_volumes", 403),
    row("noone@pve", "GET", "/cluster/backup-info", 200),
    row("auditor@pve", "GET", "/cluster/backup-info/not-backed-up", 200, check=ids(102)),
    row("noone@pve", "GET", "/cluster/backup-info/not-backed-up", 403),
    row("noone@pve", "GET", "/cluster/jobs", 200),
    row("noone@pve", "GET", "/cluster/jobs/schedule-analyze", 200, schedule="daily", iterations=2),
    # -- notifications --------------------------------------------------------------------
    row("noone@pve", "GET", NB, 200),
    row("noone@pve", "GET", f"{NB}/endpoints", 200),
    row("auditor@pve", "GET", f"{NB}/endpoints/smtp", 200, check=names("name", "mail")),
    row("noone@pve", "GET", f"{NB}/endpoints/smtp", 403),
    row("auditor@pve", "GET", f"{NB}/endpoints/smtp/mail", 200),
    row("noone@pve", "GET", f"{NB}/endpoints/smtp/mail", 403),
    row(
        "admin@pve",
        "POST",
        f"{NB}/endpoints/smtp",
        200,
        name="mail2",
        server="s.example",
        from_address="a@example.com",
    ),
    row(
        "auditor@pve",
        "POST",
        f"{NB}/endpoints/smtp",
        403,
        name="mail2",
        server="s.example",
        from_address="a@example.com",
    ),
    row("admin@pve", "PUT", f"{NB}/endpoints/smtp/mail", 200, port=2525),
    row("auditor@pve", "PUT", f"{NB}/endpoints/smtp/mail", 403, port=2525),
    row("admin@pve", "DELETE", f"{NB}/endpoints/smtp/mail", 200),
    row("auditor@pve", "DELETE", f"{NB}/endpoints/smtp/mail", 403),
    row("auditor@pve", "GET", f"{NB}/endpoints/webhook", 200, check=names("name", "hook", "spare")),
    row("noone@pve", "GET", f"{NB}/endpoints/webhook", 403),
    row("auditor@pve", "GET", f"{NB}/endpoints/webhook/hook", 200),
    row("noone@pve", "GET", f"{NB}/endpoints/webhook/hook", 403),
    row(
        "admin@pve",
        "POST",
        f"{NB}/endpoints/webhook",
        200,
        name="hook2",
        url="{hook}",
        method="post",
    ),
    row(
        "auditor@pve",
        "POST",
        f"{NB}/endpoints/webhook",
        403,
        name="hook2",
        url="{hook}",
        method="post",
    ),
    row("admin@pve", "PUT", f"{NB}/endpoints/webhook/hook", 200, body=b64("{{ title }}")),
    row("auditor@pve", "PUT", f"{NB}/endpoints/webhook/hook", 403, body=b64("{{ title }}")),
    row("admin@pve", "DELETE", f"{NB}/endpoints/webhook/spare", 200),
    row("auditor@pve", "DELETE", f"{NB}/endpoints/webhook/spare", 403),
    row("auditor@pve", "GET", f"{NB}/matchers", 200, check=names("name", "all")),
    row("noone@pve", "GET", f"{NB}/matchers", 403),
    row("auditor@pve", "GET", f"{NB}/matchers/all", 200),
    row("noone@pve", "GET", f"{NB}/matchers/all", 403),
    row(
        "admin@pve",
        "POST",
        f"{NB}/matchers",
        200,
        name="errors",
        target="hook",
        match_severity="error",
    ),
    row("auditor@pve", "POST", f"{NB}/matchers", 403, name="errors", target="hook"),
    row("admin@pve", "PUT", f"{NB}/matchers/all", 200, comment="x"),
    row("auditor@pve", "PUT", f"{NB}/matchers/all", 403, comment="x"),
    row("admin@pve", "DELETE", f"{NB}/matchers/all", 200),
    row("auditor@pve", "DELETE", f"{NB}/matchers/all", 403),
    row("auditor@pve", "GET", f"{NB}/targets", 200, check=names("name", "hook", "mail", "spare")),
    row("noone@pve", "GET", f"{NB}/targets", 403),
    row("auditor@pve", "POST", f"{NB}/targets/hook/test", 200),
    row("noone@pve", "POST", f"{NB}/targets/hook/test", 403),
]

#: Methods anyone authenticated may call (Proxmox's ``user => 'all'`` with nothing to refuse;
#: a list among them shows only what the caller may see): no refused row is possible.
ANYONE = {
    ("GET", "/version"),
    ("GET", "/nodes"),
    ("GET", "/nodes/{node}"),
    ("GET", "/cluster"),
    ("GET", "/cluster/resources"),
    ("GET", "/cluster/nextid"),
    ("GET", "/pools"),
    ("GET", "/storage"),
    ("GET", "/access"),
    ("GET", "/access/permissions"),
    ("GET", "/access/domains"),
    ("GET", "/access/ticket"),
    ("GET", "/access/users"),
    ("GET", "/access/groups"),
    ("GET", "/access/roles"),
    ("GET", "/access/roles/{roleid}"),
    ("GET", "/access/acl"),
    ("GET", "/nodes/{node}/qemu"),
    ("GET", "/nodes/{node}/qemu/{vmid}"),
    ("GET", "/nodes/{node}/qemu/{vmid}/status"),
    ("GET", "/nodes/{node}/storage"),
    ("GET", "/nodes/{node}/vzdump"),
    ("GET", "/nodes/{node}/tasks"),
    ("GET", "/nodes/{node}/tasks/{upid}"),
    ("GET", "/cluster/backup-info"),
    ("GET", "/cluster/jobs"),
    ("GET", "/cluster/jobs/schedule-analyze"),
    ("GET", "/cluster/notifications"),
    ("GET", "/cluster/notifications/endpoints"),
}

ROUTER = Router(all_methods())


def method_of(r: Row) -> ApiMethod:
    path = r.path.replace("{task_vmuser}", "UPID").replace("{task_admin}", "UPID")
    found = ROUTER.find(r.http, path.rstrip("/"))
    assert found is not None, f"no method for {r.http} {r.path}"
    return found[0]


def test_every_method_has_rows() -> None:
    allowed: set[tuple[str, str]] = set()
    refused: set[tuple[str, str]] = set()
    for r in ROWS:
        method = method_of(r)
        key = (method.http, method.path)
        if r.status == 200:
            allowed.add(key)
        elif r.status == 403:
            refused.add(key)
    declared = {(m.http, m.path) for m in all_methods()}
    assert declared - allowed == set(), "methods without an allowed row"
    open_methods = {(m.http, m.path) for m in all_methods() if m.permission.user == "world"}
    missing = declared - refused - ANYONE - open_methods
    assert missing == set(), "methods without a refused row"
    assert declared >= ANYONE


# -- running the rows ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as kept:
        yield kept


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Template:
    return build_template(tmp_path_factory.mktemp("template") / "data", receiver.url)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, template: Template) -> Iterator[World]:
    """One world for the rows that change nothing."""
    with open_world(template, tmp_path_factory.mktemp("shared") / "data") as world:
        yield world


def call(world: World, r: Row, receiver: Receiver) -> Reply:
    path = r.path.format(
        task_vmuser=world.template.tasks["vmuser@pve"],
        task_admin=world.template.tasks["admin@pve"],
    )
    params = {k: (receiver.url if v == "{hook}" else v) for k, v in r.params.items()}
    return world.client(r.who).call(r.http, path, **params)


def check_reply(reply: Reply, r: Row, world: World) -> None:
    assert reply.status == r.status, (reply.status, reply.reason, reply.body)
    for key, value in SECURITY_HEADERS.items():
        assert reply.headers.get(key) == value, key
    if r.status == 403:
        assert "Permission check failed" in reply.body["message"] or (
            "not available with API token" in reply.body["message"]
        ), reply.body
    if r.status == 400:
        assert reply.errors, reply.body
    if r.status == 200 and r.check is not None:
        r.check(reply.data, world)
    if r.status == 200 and r.task is not None:
        [started] = world.tasks.started
        userid = r.who or ""
        assert (started.type, started.id, started.user) == (*r.task, userid)
        assert reply.data == started.upid
    elif r.status != 200 or r.http == "GET":
        assert world.tasks.started == [], world.tasks.started


def _params(rows: list[Row]) -> list[Any]:
    return [pytest.param(r, id=r.id, marks=[pytest.mark.qemu] if r.qemu else []) for r in rows]


@pytest.mark.parametrize("r", _params([r for r in ROWS if not r.changes_disk]))
def test_unchanged(r: Row, shared: World, receiver: Receiver) -> None:
    """Reads and refusals: the answer expected, and the data dir as it was."""
    before = tree_digest(shared.home)
    shared.tasks.started.clear()
    check_reply(call(shared, r, receiver), r, shared)
    assert changes(before, tree_digest(shared.home)) == []


@pytest.mark.parametrize("r", _params([r for r in ROWS if r.changes_disk]))
def test_allowed_change(r: Row, template: Template, tmp_path: Path, receiver: Receiver) -> None:
    with open_world(template, tmp_path / "data") as world:
        check_reply(call(world, r, receiver), r, world)


def test_a_bare_privsep_token_can_do_nothing(shared: World, receiver: Receiver) -> None:
    """A token with privilege separation and no ACL of its own, whose user is an
    Administrator: every method refused, but those anyone may call (whose lists are empty
    for it), and nothing changed on disk. Each method is called with the parameters of its
    first allowed row."""
    first: dict[tuple[str, str], Row] = {}
    for r in ROWS:
        method = method_of(r)
        if r.status == 200 and r.who is not None:
            first.setdefault((method.http, method.path), r)
    before = tree_digest(shared.home)
    shared.tasks.started.clear()
    for key, r in sorted(first.items()):
        reply = call(shared, Row("admin@pve!bare", r.http, r.path, 0, r.params), receiver)
        expected = 200 if key in ANYONE else 403
        assert reply.status == expected, (key, reply.status, reply.body)
        if expected == 200 and isinstance(reply.data, list) and key[1] != "/nodes":
            assert not [x for x in reply.data if {"vmid", "storage", "upid"} & set(x)], key
    assert shared.tasks.started == []
    assert changes(before, tree_digest(shared.home)) == []
