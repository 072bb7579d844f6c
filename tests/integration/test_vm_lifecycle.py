"""VMs as real QEMU processes, driven through the CLI as a user drives them."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from respaldo.qemu.qmp import Qmp
from tests.integration.conftest import Cli

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(120)]


def _status(cli: Cli, vmid: int) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        cli.run("qm", "status", str(vmid), "--output-format", "json").stdout
    )
    return data


def _alive(pid: object) -> bool:
    """A process that has ended but is not yet reaped (a zombie) does not count."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _create_two_disk_vm(cli: Cli, vmid: int = 100) -> None:
    cli.run(
        "qm",
        "create",
        str(vmid),
        "--name",
        "web",
        "--memory",
        "128",
        "--scsi0",
        "local:1,format=qcow2",
        "--virtio1",
        "local:1,format=raw",
        "--net0",
        "virtio",
    )


def test_create_start_suspend_resume_shutdown_stop_destroy(cli: Cli) -> None:
    _create_two_disk_vm(cli)
    images = cli.home / "storage" / "local" / "images" / "100"
    assert sorted(p.name for p in images.iterdir()) == ["vm-100-disk-0.qcow2", "vm-100-disk-1.raw"]
    config = cli.run("qm", "config", "100").stdout
    assert "scsi0: local:100/vm-100-disk-0.qcow2,size=1G" in config
    assert "virtio1: local:100/vm-100-disk-1.raw,size=1G" in config
    assert "net0: virtio=BC:24:11:" in config

    cli.run("qm", "start", "100")
    with Qmp(cli.home / "run" / "qemu" / "100.qmp") as qmp:
        assert qmp.execute("query-status")["status"] == "running"
        names = {n["node-name"] for n in qmp.execute("query-named-block-nodes")}
    assert {"drive-scsi0", "drive-virtio1", "file-scsi0", "file-virtio1"} <= names
    assert _status(cli, 100)["qmpstatus"] == "running"

    cli.run("qm", "suspend", "100")
    assert _status(cli, 100)["qmpstatus"] == "paused"
    cli.run("qm", "resume", "100")
    assert _status(cli, 100)["qmpstatus"] == "running"

    # No OS answers the ACPI button. As Proxmox's (forceStop defaults to 0), the timeout
    # is an error and the VM runs on; with --forceStop it is stopped hard.
    message = cli.fails("qm", "shutdown", "100", "--timeout", "1")
    assert "VM quit/powerdown failed - got timeout" in message
    assert _status(cli, 100)["qmpstatus"] == "running"
    out = cli.run("qm", "shutdown", "100", "--timeout", "1", "--forceStop").stdout
    assert "VM still running - terminating now with SIGTERM" in out
    assert _status(cli, 100)["qmpstatus"] == "stopped"
    # A paused VM is refused at once, without waiting for the timeout
    cli.run("qm", "start", "100")
    cli.run("qm", "suspend", "100")
    started = time.monotonic()
    message = cli.fails("qm", "shutdown", "100", "--timeout", "60")
    assert "VM is paused - cannot shutdown" in message
    assert time.monotonic() - started < 30
    assert _status(cli, 100)["qmpstatus"] == "paused"
    out = cli.run("qm", "shutdown", "100", "--forceStop", "1").stdout
    assert "VM is paused - stop instead of shutdown" in out
    assert _status(cli, 100)["qmpstatus"] == "stopped"
    assert "already" not in cli.run("qm", "start", "100").stdout
    assert "already running" in cli.fails("qm", "start", "100")
    assert "is running" in cli.fails("qm", "destroy", "100")
    cli.run("qm", "stop", "100")
    status = _status(cli, 100)
    assert status["status"] == "stopped" and "pid" not in status  # Proxmox's: no nulls
    assert not (cli.home / "run" / "qemu" / "100.qmp").exists()

    cli.run("qm", "destroy", "100")
    assert not images.exists()
    assert "does not exist" in cli.fails("qm", "status", "100")


def test_a_second_process_sees_and_drives_the_running_vm(cli: Cli) -> None:
    cli.run("qm", "create", "101", "--memory", "64", "--scsi0", "local:1")
    cli.run("qm", "start", "101")  # this process ends; QEMU keeps running
    listing = json.loads(cli.run("qm", "list", "--output-format", "json").stdout)
    assert [(v["vmid"], v["status"]) for v in listing] == [(101, "running")]
    pid = listing[0]["pid"]
    assert _alive(pid)
    table = cli.run("qm", "list").stdout
    assert "running" in table and str(pid) in table
    cli.run("qm", "stop", "101")
    assert not _alive(pid)


def test_config_lock_blocks_conflicting_operations(cli: Cli) -> None:
    cli.run("qm", "create", "102", "--memory", "64", "--scsi0", "local:1")
    cli.run("qm", "set", "102", "--lock", "backup")
    for verb in ("start", "destroy"):
        assert "VM 102 is locked (backup)" in cli.fails("qm", verb, "102")
    assert "locked (backup)" in cli.fails("qm", "set", "102", "--memory", "128")
    cli.run("qm", "unlock", "102")
    cli.run("qm", "set", "102", "--memory", "128")
    assert "memory: 128" in cli.run("qm", "config", "102").stdout


def test_set_adds_disks_and_deleting_a_disk_keeps_it_as_unused(cli: Cli) -> None:
    cli.run("qm", "create", "103", "--memory", "64", "--scsi0", "local:1")
    cli.run("qm", "set", "103", "--sata1", "local:1", "--cores", "2")
    cli.run("qm", "set", "103", "--delete", "sata1")
    config = cli.run("qm", "config", "103").stdout
    assert "unused0: local:103/vm-103-disk-1.raw" in config and "sata1" not in config
    cli.run("qm", "set", "103", "--delete", "unused0")
    assert not (cli.home / "storage/local/images/103/vm-103-disk-1.raw").exists()
    new = cli.run("qm", "resize", "103", "scsi0", "+1G")
    assert new.returncode == 0
    assert "scsi0: local:103/vm-103-disk-0.raw,size=2G" in cli.run("qm", "config", "103").stdout


def test_disks_are_not_changed_under_a_running_vm(cli: Cli) -> None:
    cli.run("qm", "create", "104", "--memory", "64", "--scsi0", "local:1", "--scsi1", "local:1")
    cli.run("qm", "start", "104")
    before = cli.run("qm", "config", "104").stdout
    for args in (["--delete", "scsi1"], ["--scsi2", "local:1"]):
        assert "VM 104 is running - stop it before changing its disks" in cli.fails(
            "qm", "set", "104", *args
        )
    assert cli.run("qm", "config", "104").stdout == before
    cli.run("qm", "stop", "104")
    # a disk deleted and attached again is no longer listed as unused
    cli.run("qm", "set", "104", "--delete", "scsi1")
    cli.run("qm", "set", "104", "--scsi3", "local:104/vm-104-disk-1.raw")
    config = cli.run("qm", "config", "104").stdout
    # attached by volume id: its size recorded, as Proxmox does
    assert "unused0" not in config and "scsi3: local:104/vm-104-disk-1.raw,size=1G" in config
