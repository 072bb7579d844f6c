"""A node with everything the API serves, in real files, for the permission and bad-input
tests: storages ``local`` and ``other`` with VMA archives, VMs 100-102, users with roles on
chosen paths, API tokens, a backup job, notification targets, finished tasks.

The world is built once as a template (:func:`build_template`); each test runs on a copy
(:func:`open_world`) with an in-process server. Tasks are not run: a method that starts one
gets a recorded task instead (:class:`TaskRecorder`: a finished task log of the right type,
id and user), so a test asserts that the server started the task, and no process runs.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from respaldo.access import Access, acl, groups, roles, tokens, users
from respaldo.access.usercfg import Pool
from respaldo.archive.compress import Compression, open_writer
from respaldo.archive.vma import CLUSTER_SIZE, VmaWriter
from respaldo.jobs import jobscfg
from respaldo.node import Node
from respaldo.services.notifications import NotificationConfig
from respaldo.services.pvesm import StorageManager
from respaldo.tasks.store import TaskStore
from respaldo.tasks.upid import UPID

from .accesskit import FAST, FakePam
from .apikit import Client, running_server

NODE = "pve1"
N = f"/nodes/{NODE}"
PASSWORD = "secret-pw-1"
ROOT_PASSWORD = "rootpw-123"
STAMP = "2025_01_01-00_00_00"

#: Who is who: user or token -> the roles it holds (path, role), for the tables' readers.
PRINCIPALS: dict[str, tuple[tuple[str, str], ...]] = {
    "root@pam": (("/", "everything: root@pam"),),
    "admin@pve": (("/", "Administrator"),),
    "auditor@pve": (("/", "PVEAuditor"),),
    "vmuser@pve": (("/vms/101", "PVEVMUser"), ("/storage/local", "PVEDatastoreUser")),
    "dsadmin@pve": (("/storage/other", "PVEDatastoreAdmin"),),
    "noone@pve": (),
    # privilege separation, no ACL of its own: nothing, whatever its user may do
    "admin@pve!bare": (),
    # no privilege separation: its user's privileges
    "admin@pve!full": (("/", "Administrator (its user's)"),),
    # privilege separation with PVEAuditor on /: only what both it and vmuser hold
    "vmuser@pve!audit": (("/", "PVEAuditor, within vmuser@pve's"),),
}
USERS = [who for who in PRINCIPALS if "!" not in who and who != "root@pam"]


def backup_name(vmid: int, stamp: str = STAMP, ext: str = ".zst") -> str:
    return f"vzdump-qemu-{vmid}-{stamp}.vma{ext}"


#: The archives of each storage: (vmid, stamp, extension).
ARCHIVES: dict[str, list[tuple[int, str, str]]] = {
    "local": [(100, STAMP, ""), (101, STAMP, ".zst"), (102, STAMP, ".zst")],
    "other": [(101, "2025_02_01-00_00_00", ".zst"), (102, "2025_02_01-00_00_00", ".zst")],
}


def volid(storage: str, vmid: int) -> str:
    """The volume id of the (first) archive of ``vmid`` on ``storage``."""
    stamp, ext = next((s, e) for v, s, e in ARCHIVES[storage] if v == vmid)
    return f"{storage}:backup/{backup_name(vmid, stamp, ext)}"


def vm_config(vmid: int, storage: str = "local") -> str:
    return (
        f"name: vm{vmid}\nmemory: 64\ncores: 1\n"
        f"virtio0: {storage}:{vmid}/vm-{vmid}-disk-0.qcow2,size=1M\n"
    )


def write_archive(path: Path, vmid: int, compression: Compression) -> None:
    """A VMA archive of a 1 MiB disk with its config and ``#qmdump#map`` line."""
    config = vm_config(vmid) + "#qmdump#map:virtio0:drive-virtio0:local:qcow2:\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out, open_writer(out, compression) as stream:
        writer = VmaWriter(stream, {"qemu-server.conf": config.encode()}, [("drive-virtio0", MIB)])
        for cluster in range(MIB // CLUSTER_SIZE):
            writer.write_cluster(1, cluster, bytes([vmid % 256]) * CLUSTER_SIZE)
        writer.close()


MIB = 1 << 20


# -- tasks ------------------------------------------------------------------------------------


@dataclass
class Started:
    type: str
    id: str
    user: str
    entry: str
    params: dict[str, Any]
    upid: str


class TaskRecorder:
    """Stands in for ``tasks.worker.spawn``: the task is recorded and ends at once with
    ``TASK OK`` in a real task log (under a pid no process can have), so that its status,
    log and stop answer as for any finished task."""

    #: Above Linux's largest pid_max (2^22): no process has it.
    FIRST_PID = 0x0F000000

    def __init__(self) -> None:
        self.started: list[Started] = []

    def __call__(
        self,
        node: Node,
        type: str,
        id: str,
        user: str,
        entry: str,
        params: Mapping[str, Any] | None = None,
        recover: str | None = None,
        **_: object,
    ) -> UPID:
        upid = record_task(node, type, id, user, self.FIRST_PID + len(self.started))
        self.started.append(Started(type, id, user, entry, dict(params or {}), str(upid)))
        return upid


def record_task(node: Node, type: str, id: str, user: str, pid: int) -> UPID:
    """A finished task of ``user`` in the node's task store."""
    store = TaskStore.for_node(node)
    store.task_dir.mkdir(parents=True, exist_ok=True)
    upid = UPID(node.name, pid, 1, int(time.time()), type, id, user)
    store.create(upid)
    with store.log_path(upid).open("a") as log:
        log.write(f"recorded {type} task\nTASK OK\n")
    store.finish(upid)
    return upid


# -- the template -----------------------------------------------------------------------------


@dataclass
class Template:
    """A built world: its data dir, the token secrets and the tasks it holds."""

    home: Path
    secrets: dict[str, str]
    #: user -> the UPID of a finished task they started
    tasks: dict[str, str]


def _access(home: Path) -> Access:
    node = Node(home, NODE)
    return Access(node, FAST, pam=FakePam({"root": ROOT_PASSWORD}))


def build_template(home: Path, webhook_url: str) -> Template:
    """Build the world under ``home`` (its data dir)."""
    access = _access(home)
    node = access.node
    node.ensure_dirs()
    other = home / "storage" / "other"
    node.storage_cfg.parent.mkdir(parents=True, exist_ok=True)
    node.storage_cfg.write_text(
        f"dir: local\n\tpath {node.default_storage_path}\n\tcontent iso,backup,images\n\n"
        f"dir: other\n\tpath {other}\n\tcontent backup,images\n"
    )
    for vmid in (100, 101, 102):
        (node.vm_config_dir / f"{vmid}.conf").write_text(vm_config(vmid))
    for storage, archives in ARCHIVES.items():
        dump = (node.default_storage_path if storage == "local" else other) / "dump"
        for vmid, stamp, ext in archives:
            compression = Compression.ZSTD if ext else Compression.NONE
            write_archive(dump / backup_name(vmid, stamp, ext), vmid, compression)
    (node.default_storage_path / "dump" / f"{backup_name(101)}.notes").write_text("db\n")
    StorageManager(node).status()  # creates the storages' folders, as a first use does
    _people(access)
    secrets = {
        "admin@pve!bare": tokens.add_token(access, "admin@pve", "bare")["value"],
        "admin@pve!full": tokens.add_token(access, "admin@pve", "full", privsep=False)["value"],
        "vmuser@pve!audit": tokens.add_token(access, "vmuser@pve", "audit")["value"],
    }
    acl.modify_acl(access, "/", "PVEAuditor", tokens="vmuser@pve!audit")
    access.authkeys.assemble_ticket("root@pam")  # the signing key and CSRF secret exist
    access.csrf.assemble("root@pam")
    jobscfg.create_job(
        node, {"id": "nightly", "schedule": "21:00", "vmid": "100,101", "storage": "local"}
    )
    notifications = NotificationConfig(node)
    notifications.create("webhook", {"name": "hook", "url": webhook_url, "method": "post"})
    notifications.create("webhook", {"name": "spare", "url": webhook_url, "method": "post"})
    notifications.create(
        "smtp", {"name": "mail", "server": "smtp.example.com", "from-address": "pve@example.com"}
    )
    notifications.create("matcher", {"name": "all", "target": "hook"})
    tasks = {
        user: str(record_task(node, "vzdump", "101", user, 0x0E000000 + n))
        for n, user in enumerate(("vmuser@pve", "admin@pve"))
    }
    return Template(home, secrets, tasks)


def _people(access: Access) -> None:
    groups.add_group(access, "ops", comment="Operators")
    for user in USERS:
        users.add_user(
            access, user, password=PASSWORD, groups="ops" if user == "noone@pve" else None
        )
    acl.modify_acl(access, "/", "Administrator", users="admin@pve")
    acl.modify_acl(access, "/", "PVEAuditor", users="auditor@pve")
    acl.modify_acl(access, "/vms/101", "PVEVMUser", users="vmuser@pve")
    acl.modify_acl(access, "/storage/local", "PVEDatastoreUser", users="vmuser@pve")
    acl.modify_acl(access, "/storage/other", "PVEDatastoreAdmin", users="dsadmin@pve")
    tokens.add_token(access, "vmuser@pve", "spare")
    roles.add_role(access, "Backupper", privs="VM.Backup,Datastore.AllocateSpace")
    with access.files.edit() as cfg:
        cfg.pools["ops"] = Pool(comment="Operations", vms={102})


# -- a world to test in -------------------------------------------------------------------------


@dataclass
class World:
    """A copy of the template with a server on it (``base`` is its URL)."""

    template: Template
    access: Access
    base: str
    tasks: TaskRecorder = field(default_factory=TaskRecorder)

    @property
    def home(self) -> Path:
        return self.access.node.home

    def client(self, who: str | None) -> Client:
        """A client as ``who``: a user (ticket and CSRF token), a token, or None (no
        credentials)."""
        if who is None:
            return Client(self.base, self.access)
        if "!" in who:
            return Client(self.base, self.access, token=(who, self.template.secrets[who]))
        return Client(self.base, self.access, userid=who)


@contextmanager
def open_world(template: Template, home: Path) -> Iterator[World]:
    """A copy of ``template`` at ``home`` served in-process, tasks recorded, until the block
    ends."""
    shutil.copytree(template.home, home, symlinks=True)
    _retarget(template.home, home)
    access = _access(home)
    recorder = TaskRecorder()
    with mock.patch("respaldo.api.tasks.spawn", recorder), running_server(access) as base:
        yield World(template, access, base, recorder)


def _retarget(old: Path, new: Path) -> None:
    """The copy's storage.cfg names the copy's folders."""
    cfg = new / "config" / "storage.cfg"
    cfg.write_text(cfg.read_text().replace(str(old), str(new)))


# -- what is on disk --------------------------------------------------------------------------


def tree_digest(root: Path) -> dict[str, str]:
    """Every entry under ``root``: its kind, mode and content digest (a symlink: its target),
    by relative path; equal before and after means nothing changed."""
    result: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = Path(folder) / name
            rel = str(path.relative_to(root))
            st = path.lstat()
            if path.is_symlink():
                result[rel] = f"link {os.readlink(path)}"
            elif path.is_dir():
                result[rel] = f"dir {st.st_mode:o}"
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                result[rel] = f"file {st.st_mode:o} {digest}"
    return result


def changes(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """What differs between two :func:`tree_digest` results, for an assertion message."""
    return sorted(
        f"{'+' if key not in before else '-' if key not in after else '~'} {key}"
        for key in set(before) | set(after)
        if before.get(key) != after.get(key)
    )
