"""Tasks through the server, with real backups made slow by ``bwlimit``: a server restarted
while a backup runs, a killed work process, and a task stopped through the API.

The VM's first disk is raw with 16 MiB of random data, so that a backup at 2 MiB/s takes
about eight seconds: long enough to act while it copies.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from proxmoxer import ProxmoxAPI  # type: ignore[import-untyped]
from proxmoxer.tools import Tasks  # type: ignore[import-untyped]

from respaldo.qemu.qmp import Qmp
from respaldo.tasks.proc import is_running
from tests.e2e.conftest import Server, running_server, wait_task

pytestmark = [pytest.mark.server, pytest.mark.timeout(180)]

DATA_MIB = 16
BWLIMIT_KIB = 2048


@pytest.fixture(scope="module")
def shared() -> Iterator[Server]:
    with running_server() as server:
        yield server


def wait_until(what: str, check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.05)


def make_vm(server: Server, prox: ProxmoxAPI, vmid: int) -> None:
    """VM ``vmid``: a raw disk with DATA_MIB of random data and an empty qcow2 one; running."""
    node = prox.nodes(server.node)
    wait_task(
        prox,
        node.qemu.post(
            vmid=vmid, memory=64, scsi0="local:0.03125,format=raw", scsi1="local:0.01,format=qcow2"
        ),
    )
    volid = node.qemu(vmid).config.get()["scsi0"].split(",")[0]
    path = Path(node.storage("local").content(volid).get()["path"])
    with path.open("r+b") as disk:
        disk.write(os.urandom(DATA_MIB << 20))
    wait_task(prox, node.qemu(vmid).status.start.post())


def dump_dir(server: Server) -> Path:
    return server.home / "storage" / "local" / "dump"


def partial_archives(server: Server) -> list[Path]:
    return sorted(dump_dir(server).glob("*.dat"))


def start_slow_backup(server: Server, prox: ProxmoxAPI, vmid: int, mode: str) -> str:
    """A backup at BWLIMIT_KIB; returns once it has copied a first part (the task log
    shows the first disk's progress)."""
    upid = prox.nodes(server.node).vzdump.post(
        vmid=vmid, mode=mode, compress="zstd", storage="local", bwlimit=BWLIMIT_KIB
    )
    wait_until(
        "the backup copies",
        lambda: any(line.startswith("INFO: scsi0: ") for line in log_of(prox, upid)),
    )
    assert len(partial_archives(server)) == 1
    return str(upid)


def work_process(task_pid: int) -> int:
    """The work process a task process forked (its only child)."""
    children = Path(f"/proc/{task_pid}/task/{task_pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def wait_stopped(prox: ProxmoxAPI, upid: str) -> dict[str, Any]:
    status = Tasks.blocking_status(prox, upid, timeout=60, polling_interval=0.2)
    assert status is not None, f"task {upid} still runs"
    return status  # type: ignore[no-any-return]


def log_of(prox: ProxmoxAPI, upid: str) -> list[str]:
    node = Tasks.decode_upid(upid)["node"]
    return [row["t"] for row in prox.nodes(node).tasks(upid).log.get(limit=0)]


def assert_put_back(server: Server, prox: ProxmoxAPI, vmid: int) -> None:
    """The VM as the user had it: running, unlocked, no partial archive, nothing of the
    backup left in QEMU or on disk; and the next backup works."""
    status = prox.nodes(server.node).qemu(vmid).status.current.get()
    assert (status["status"], status["qmpstatus"]) == ("running", "running"), status
    assert "lock" not in prox.nodes(server.node).qemu(vmid).config.get()
    assert partial_archives(server) == []
    qmp_job = server.home / "run" / "qemu" / f"{vmid}.qmp-job"
    with Qmp(qmp_job) as qmp:
        assert qmp.execute("query-block-jobs") == []
        assert qmp.execute("query-block-exports") == []
        names = [n["node-name"] for n in qmp.execute("query-named-block-nodes", {"flat": True})]
        assert not [name for name in names if name.startswith("fleece")], names
    assert not (server.home / "run" / "vzdump" / f"{vmid}.json").exists()
    assert not list((server.home / "run" / "fleece").glob(f"{vmid}/*"))
    upid = prox.nodes(server.node).vzdump.post(vmid=vmid, compress="zstd", storage="local")
    wait_task(prox, upid)


def test_a_backup_outlives_a_server_restart(shared: Server) -> None:
    prox = shared.proxmox()
    make_vm(shared, prox, 300)
    upid = start_slow_backup(shared, prox, 300, "snapshot")
    task = Tasks.decode_upid(upid)
    assert shared.stop() == 0
    assert is_running(task["pid"], task["pstart"]), "the task died with the server"
    shared.start()
    # the ticket of the first server is good for the second one (same keys on disk)
    assert prox.nodes(shared.node).tasks(upid).status.get()["status"] == "running"
    lines = wait_task(prox, upid)
    assert "INFO: Backup job finished successfully" in lines
    listed = {t["upid"]: t for t in prox.nodes(shared.node).tasks.get(typefilter="vzdump")}
    assert listed[upid]["status"] == "OK"
    backups = prox.nodes(shared.node).storage("local").content.get(content="backup", vmid=300)
    assert len(backups) == 1 and backups[0]["size"] > DATA_MIB << 20  # random data: no gain
    assert "lock" not in prox.nodes(shared.node).qemu(300).config.get()


def test_a_killed_work_process_fails_the_task_and_puts_the_vm_back(shared: Server) -> None:
    prox = shared.proxmox()
    make_vm(shared, prox, 301)
    upid = start_slow_backup(shared, prox, 301, "snapshot")
    os.kill(work_process(Tasks.decode_upid(upid)["pid"]), signal.SIGKILL)
    status = wait_stopped(prox, upid)
    assert "killed by SIGKILL" in status["exitstatus"], status
    assert log_of(prox, upid)[-1] == f"TASK ERROR: {status['exitstatus']}"
    failed = prox.nodes(shared.node).tasks.get(errors=1, typefilter="vzdump")
    assert upid in {t["upid"] for t in failed}
    assert_put_back(shared, prox, 301)


def test_a_task_stopped_through_the_api_leaves_nothing_behind(shared: Server) -> None:
    prox = shared.proxmox()
    make_vm(shared, prox, 302)
    upid = start_slow_backup(shared, prox, 302, "suspend")
    assert prox.nodes(shared.node).tasks(upid).delete() is None
    status = wait_stopped(prox, upid)
    # a stopped vzdump ends as Proxmox's does on a signal
    assert status["exitstatus"] == "interrupted by signal", status
    lines = log_of(prox, upid)
    assert any(line.startswith("ERROR: Backup of VM 302 failed") for line in lines), lines
    assert lines[-1] == "TASK ERROR: interrupted by signal"
    assert_put_back(shared, prox, 302)


def test_a_task_whose_processes_all_died_ends_failed_and_the_next_backup_cleans_up(
    shared: Server,
) -> None:
    prox = shared.proxmox()
    make_vm(shared, prox, 303)
    upid = start_slow_backup(shared, prox, 303, "snapshot")
    task = Tasks.decode_upid(upid)
    work = work_process(task["pid"])
    os.kill(task["pid"], signal.SIGKILL)
    os.killpg(work, signal.SIGKILL)
    status = wait_stopped(prox, upid)
    assert status["exitstatus"] == "unexpected status", status
    listed = {t["upid"]: t for t in prox.nodes(shared.node).tasks.get(errors=1)}
    assert listed[upid]["status"] == "unexpected status"
    # nobody was left to clean up: the next backup does it first, and says so
    upid = prox.nodes(shared.node).vzdump.post(vmid=303, compress="zstd", storage="local")
    lines = wait_task(prox, upid, exitstatus="WARNINGS: 1")
    assert "WARN: cleaning up after an interrupted backup of VM 303" in lines
    assert "INFO: Backup job finished successfully" in lines
    assert_put_back(shared, prox, 303)


PROGRESS = re.compile(r"^\s*\d+% \(")


def start_slow_restore(prox: ProxmoxAPI, node: str, vmid: int, archive: str, **more: Any) -> str:
    """A restore at BWLIMIT_KIB; returns once it has written a first part."""
    upid = str(prox.nodes(node).qemu.post(vmid=vmid, archive=archive, bwlimit=BWLIMIT_KIB, **more))
    wait_until(
        "the restore copies", lambda: any(PROGRESS.match(line) for line in log_of(prox, upid))
    )
    return upid


def test_a_restore_stopped_through_the_api_leaves_nothing_behind(shared: Server) -> None:
    prox = shared.proxmox()
    node = prox.nodes(shared.node)
    make_vm(shared, prox, 304)
    wait_task(prox, node.vzdump.post(vmid=304, compress="zstd", storage="local"))
    [archive] = node.storage("local").content.get(content="backup", vmid=304)
    wait_task(prox, node.qemu(304).status.stop.post())
    images = shared.home / "storage" / "local" / "images"
    old = node.qemu(304).config.get()
    old_disks = sorted((images / "304").iterdir())
    # into a new VM: no VM, no volume is left
    upid = start_slow_restore(prox, shared.node, 305, archive["volid"])
    assert (images / "305").is_dir() and list((images / "305").iterdir())
    node.tasks(upid).delete()
    assert "interrupt" in wait_stopped(prox, upid)["exitstatus"]
    assert 305 not in {vm["vmid"] for vm in node.qemu.get()}
    assert node.storage("local").content.get(content="images", vmid=305) == []
    assert not list(images.glob("305/*"))
    # over the existing VM: it stays as it was
    upid = start_slow_restore(prox, shared.node, 304, archive["volid"], force=1)
    node.tasks(upid).delete()
    assert "interrupt" in wait_stopped(prox, upid)["exitstatus"]
    assert node.qemu(304).config.get() == old
    assert sorted((images / "304").iterdir()) == old_disks
    assert not list((shared.home / "run" / "qmrestore").iterdir())
