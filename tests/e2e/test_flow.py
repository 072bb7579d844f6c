"""The seed's whole flow through proxmoxer, as an administrator scripts it: once logged in with
a ticket, once with an API token.

A VM with two small disks and no OS (TCG) is created and started, backed up in each mode and
with each compression, its backups listed by VM and by storage, an archive's config read,
the archive restored into a new VMID on another storage, restored over the running VM
(refused, with Proxmox's message) and over the stopped VM with ``force``, and a backup
removed. Every task is followed with proxmoxer's ``Tasks.blocking_status`` to ``OK`` and its
log read to ``TASK OK``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from proxmoxer import ProxmoxAPI, ResourceException  # type: ignore[import-untyped]
from proxmoxer.tools import Tasks  # type: ignore[import-untyped]

from respaldo.access.control import Access
from respaldo.access.tokens import add_token
from respaldo.node import Node
from tests.e2e.conftest import Server, wait_task

pytestmark = [pytest.mark.server, pytest.mark.timeout(240)]

#: mode, compression, and the archive's format as the storage lists it. "stop" runs last, on
#: the stopped VM: a VM without an OS cannot shut down when asked (it would be killed after
#: ``stopwait`` with a warning).
BACKUPS = [
    ("snapshot", "zstd", "vma.zst"),
    ("suspend", "lzo", "vma.lzo"),
    ("snapshot", "0", "vma"),
    ("stop", "gzip", "vma.gz"),
]


def token_client(server: Server) -> ProxmoxAPI:
    """An API token of admin@pve (privileges of its user), made with the access service."""
    access = Access(Node(server.home, server.node))
    secret = add_token(access, "admin@pve", "e2e", privsep=False)["value"]
    return server.proxmox(user="admin@pve", token_name="e2e", token_value=secret)


def backup(prox: ProxmoxAPI, node: str, vmid: int, mode: str, compress: str) -> str:
    """Back up one VM to local; the volid the task log names."""
    upid = prox.nodes(node).vzdump.post(vmid=vmid, mode=mode, compress=compress, storage="local")
    info = Tasks.decode_upid(upid)
    assert (info["type"], info["id"], info["user"]) == ("vzdump", str(vmid), "admin@pve")
    lines = wait_task(prox, upid)
    assert f"INFO: backup mode: {mode}" in lines
    assert "INFO: Backup job finished successfully" in lines
    created = [line for line in lines if "creating vzdump archive" in line]
    assert len(created) == 1, lines
    filename = Path(created[0].split("'")[1]).name
    return f"local:backup/{filename}"


def status(prox: ProxmoxAPI, node: str, vmid: int) -> dict[str, object]:
    return prox.nodes(node).qemu(vmid).status.current.get()  # type: ignore[no-any-return]


@dataclass
class Flow:
    """One VM's way through the seed, with the client of one login."""

    server: Server
    prox: ProxmoxAPI
    vmid: int = 0
    volids: dict[str, str] = field(default_factory=dict)  # format -> volid

    @property
    def vm(self) -> Any:
        return self.prox.nodes(self.server.node)

    def status(self) -> dict[str, object]:
        return status(self.prox, self.server.node, self.vmid)

    def create_and_start(self) -> None:
        self.vmid = int(self.prox.cluster.nextid.get())
        upid = self.vm.qemu.post(
            vmid=self.vmid, name="seed", memory=64, scsi0="local:0.01", scsi1="local:0.02"
        )
        assert Tasks.decode_upid(upid)["type"] == "qmcreate"
        wait_task(self.prox, upid)
        config = self.vm.qemu(self.vmid).config.get()
        assert (config["name"], int(config["memory"])) == ("seed", 64)
        assert config["scsi0"].startswith("local:") and config["scsi1"].startswith("local:")
        wait_task(self.prox, self.vm.qemu(self.vmid).status.start.post())
        assert self.status()["status"] == "running"

    def back_up_in_each_mode(self) -> None:
        for mode, compress, fmt in BACKUPS:
            if mode == "stop":
                self.restore_over_running_is_refused()
                wait_task(self.prox, self.vm.qemu(self.vmid).status.stop.post())
                assert self.status()["status"] == "stopped"
            self.volids[fmt] = backup(self.prox, self.server.node, self.vmid, mode, compress)
            current = self.status()
            assert current["status"] == ("stopped" if mode == "stop" else "running")
            assert "lock" not in current, current

    def restore_over_running_is_refused(self) -> None:
        """Refused before any task starts, with Proxmox's words."""
        with pytest.raises(ResourceException) as refused:
            self.vm.qemu.post(vmid=self.vmid, archive=self.volids["vma.zst"], force=1)
        assert refused.value.status_code == 500
        assert f"unable to restore VM {self.vmid} - vm is running" in str(refused.value)

    def list_backups(self) -> None:
        local = self.vm.storage("local")
        by_vm = local.content.get(content="backup", vmid=self.vmid)
        assert {r["volid"]: r["format"] for r in by_vm} == {v: f for f, v in self.volids.items()}
        for row in by_vm:
            assert (row["vmid"], row["content"], row["subtype"]) == (self.vmid, "backup", "qemu")
            assert isinstance(row["size"], int) and row["size"] > 0
            assert isinstance(row["ctime"], int)
        by_storage = local.content.get(content="backup")
        assert {row["volid"] for row in by_storage} == set(self.volids.values())
        assert [s["storage"] for s in self.vm.storage.get(content="backup")] == ["local"]

    def extract_config(self) -> None:
        lines = self.vm.vzdump.extractconfig.get(volume=self.volids["vma.gz"]).splitlines()
        assert "memory: 64" in lines and "name: seed" in lines

    def restore_to_another_storage(self) -> None:
        other = self.server.home / "other"
        self.server.cli("pvesm", "add", "dir", "other", "--path", str(other), "--content", "images")
        new = int(self.prox.cluster.nextid.get())
        assert new != self.vmid
        upid = self.vm.qemu.post(vmid=new, archive=self.volids["vma.lzo"], storage="other")
        assert Tasks.decode_upid(upid)["type"] == "qmrestore"
        wait_task(self.prox, upid)
        restored = self.vm.qemu(new).config.get()
        assert restored["name"] == "seed" and int(restored["memory"]) == 64
        disks = {restored[key].split(",")[0] for key in ("scsi0", "scsi1")}
        assert all(disk.startswith(f"other:{new}/") for disk in disks), restored
        images = self.vm.storage("other").content.get(content="images", vmid=new)
        assert {row["volid"] for row in images} == disks

    def restore_over_stopped_with_force(self) -> None:
        before = self.vm.qemu(self.vmid).config.get()
        wait_task(self.prox, self.vm.qemu.post(vmid=self.vmid, archive=self.volids["vma"], force=1))
        after = self.vm.qemu(self.vmid).config.get()
        assert after["name"] == "seed" and "lock" not in after
        assert after["digest"] != before["digest"]  # new volumes
        assert self.status()["status"] == "stopped"

    def remove_backup(self) -> None:
        local = self.vm.storage("local")
        upid = local.content(self.volids["vma.zst"]).delete()
        assert Tasks.decode_upid(upid)["type"] == "imgdel"
        wait_task(self.prox, upid)
        left = {row["volid"] for row in local.content.get(content="backup")}
        assert left == set(self.volids.values()) - {self.volids["vma.zst"]}

    def check_task_list(self, tokenid: str | None) -> None:
        """All OK, all of admin@pve (and of its token)."""
        tasks = self.vm.tasks.get(limit=100)
        assert Counter(t["type"] for t in tasks) == {
            "qmcreate": 1,
            "qmstart": 1,
            "vzdump": len(BACKUPS),
            "qmstop": 1,
            "qmrestore": 2,
            "imgdel": 1,
        }
        assert all(t["status"] == "OK" for t in tasks), tasks
        assert {t["user"] for t in tasks} == {"admin@pve"}
        assert {t.get("tokenid") for t in tasks} == {tokenid}


@pytest.mark.parametrize("login", ["ticket", "token"])
def test_the_seed_flow(server: Server, login: str) -> None:
    prox = server.proxmox() if login == "ticket" else token_client(server)
    flow = Flow(server, prox)
    flow.create_and_start()
    flow.back_up_in_each_mode()
    flow.list_backups()
    flow.extract_config()
    flow.restore_to_another_storage()
    flow.restore_over_stopped_with_force()
    flow.remove_backup()
    flow.check_task_list("e2e" if login == "token" else None)
