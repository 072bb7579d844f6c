"""Backups of a real Linux guest that is writing: consistency per mode, and faults.

The guest (respaldo.guestimage) appends checksummed records to its ext4 data disk and lists each
one in a manifest once it is on disk; a restored disk is consistent when its file system
checks clean (after the journal replay a power cut needs) and every record the manifest lists
is intact.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from respaldo.guestimage.build import GuestImage, guest_args
from tests.integration.backup_helpers import archives, block_jobs, fleece_nodes, wait_for
from tests.integration.conftest import Cli
from tests.integration.guest_helpers import (
    check_records,
    connect_agent,
    e2fsck,
    serial,
    start_and_wait_ready,
)

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(300)]


def _guest_vm(
    cli: Cli, image: GuestImage, vmid: int = 100, agent: bool = True, ballast: Path | None = None
) -> Path:
    """A VM running the test guest; returns its raw data disk, formatted on the host (the
    guest has no mkfs), with ``ballast`` copied into it as a file when given."""
    cli.run(
        "qm",
        "create",
        str(vmid),
        "--name",
        "guest",
        "--memory",
        "256",
        "--virtio0",
        "local:0.125,format=raw",
        "--agent",
        "1" if agent else "0",
        "--args",
        guest_args(image),
    )
    disk = cli.home / "storage/local/images" / str(vmid) / f"vm-{vmid}-disk-0.raw"
    subprocess.run(["mkfs.ext4", "-q", "-F", str(disk)], check=True)
    if ballast is not None:
        subprocess.run(
            ["debugfs", "-w", "-R", f"write {ballast} ballast.bin", str(disk)],
            check=True,
            capture_output=True,
        )
    return disk


def _restored_disk(cli: Cli, archive: Path, vmid: int) -> Path:
    cli.run("qmrestore", str(archive), str(vmid))
    return cli.home / "storage/local/images" / str(vmid) / f"vm-{vmid}-disk-0.raw"


def _frozen_ms(log: str) -> int:
    match = re.search(r"guest filesystems were frozen for (\d+) ms", log)
    assert match, log
    return int(match.group(1))


@pytest.mark.parametrize(
    ("mode", "agent", "clean_without_replay"),
    [
        ("snapshot", True, True),  # frozen: consistent as it is
        ("snapshot", False, False),  # crash-consistent: the journal replays
        ("suspend", True, False),  # paused, not frozen: crash-consistent
        ("stop", True, True),  # shut down cleanly first
    ],
)
def test_backup_of_a_writing_guest_restores_consistent(
    cli: Cli,
    guest_image: GuestImage,
    tmp_path: Path,
    mode: str,
    agent: bool,
    clean_without_replay: bool,
) -> None:
    _guest_vm(cli, guest_image, agent=agent)
    start_and_wait_ready(cli, 100)
    time.sleep(3)  # the workload is writing
    out = cli.run(
        "vzdump", "100", "--mode", mode, "--compress", "zstd", "--stopwait", "1", timeout=240
    ).stdout
    [archive] = archives(cli)
    log = archive.with_name(archive.name.split(".vma")[0] + ".log").read_text()
    if mode == "snapshot" and agent:
        frozen = _frozen_ms(log)
        print(f"\nguest frozen for {frozen} ms during the snapshot backup")
        assert frozen < 1000
        with connect_agent(cli, 100) as guest:
            assert guest.freeze_status() == "thawed"
    else:
        assert "fs-freeze" not in log
    if mode == "stop":
        match = re.search(r"guest downtime: ([\d.]+) s", out)
        assert match, out
        print(f"\nstop mode downtime: {match.group(1)} s")
    assert "status: running" in cli.run("qm", "status", "100").stdout

    disk = _restored_disk(cli, archive, 200)
    copy = tmp_path / "restored.raw"
    shutil.copyfile(disk, copy)
    check = e2fsck(copy, "-fn")
    if clean_without_replay:
        assert check.returncode == 0, check.stdout + check.stderr
    records = check_records(copy, tmp_path)
    assert records > 0
    # the restored guest boots and goes on writing after its manifest
    cli.run("qm", "stop", "100")
    start_and_wait_ready(cli, 200)
    wait_for(lambda: "writing records from" in serial(cli, 200), 20, "the restored workload")
    start_at = re.search(r"writing records from (\d+)", serial(cli, 200))
    assert start_at and int(start_at.group(1)) == records + 1


def _assert_no_leftovers(cli: Cli) -> None:
    assert archives(cli) == []
    assert not list((cli.home / "storage/local/dump").glob("*.dat"))
    assert not list((cli.home / "run").rglob("fleece-*.qcow2"))
    assert not (cli.home / "run/qemu/100.nbd").exists()
    assert "lock:" not in cli.run("qm", "config", "100").stdout


def _assert_guest_fine(cli: Cli) -> None:
    assert "status: running" in cli.run("qm", "status", "100").stdout
    assert fleece_nodes(cli, 100) == [] and block_jobs(cli, 100) == []
    with connect_agent(cli, 100) as guest:
        assert guest.freeze_status() == "thawed"


def _failing_hook(cli: Cli, tmp_path: Path) -> None:
    """A hook script that fails after the archive was written."""
    hook = tmp_path / "hook.sh"
    hook.write_text('#!/bin/sh\n[ "$1" = backup-end ] && exit 1\nexit 0\n')
    hook.chmod(0o755)
    proc = cli.run("vzdump", "100", "--compress", "zstd", "--script", str(hook), check=False)
    assert proc.returncode == 1 and "backup-end" in proc.stdout, proc.stdout


def _target_full(cli: Cli, tmp_path: Path) -> None:
    """A 2 MiB target storage, for an archive of more than 4 MiB."""
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(small)], check=True)
    try:
        cli.run("pvesm", "add", "dir", "small", "--path", str(small), "--content", "backup")
        proc = cli.run("vzdump", "100", "--storage", "small", check=False)
        assert proc.returncode == 1 and "No space left on device" in proc.stdout, proc.stdout
        assert [p for p in (small / "dump").iterdir() if not p.name.endswith(".log")] == []
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


def _killed_mid_copy(cli: Cli, victim: str) -> str:
    """Start a slow backup, kill the backup worker or QEMU once the copy runs."""
    qemu_pid = json.loads(cli.run("qm", "status", "100", "--output-format", "json").stdout)["pid"]
    with cli.background("vzdump", "100", "--compress", "zstd", "--bwlimit", "512") as backup:
        wait_for((cli.home / "run/qemu/100.nbd").exists, 60, "the NBD export")
        worker = json.loads((cli.home / "run/vzdump/100.json").read_text())["pid"]
        os.kill(worker if victim == "worker" else int(qemu_pid), signal.SIGKILL)
        code, out = backup.finish(timeout=60)
    assert code == 1, out
    return out


def test_faults_during_backups_of_a_running_guest(
    cli: Cli, guest_image: GuestImage, tmp_path: Path
) -> None:
    ballast = tmp_path / "ballast.bin"
    ballast.write_bytes(os.urandom(4 << 20))  # incompressible: the archive needs > 4 MiB
    _guest_vm(cli, guest_image, ballast=ballast)
    start_and_wait_ready(cli, 100)

    for fault in (_failing_hook, _target_full):
        fault(cli, tmp_path)
        _assert_no_leftovers(cli)
        _assert_guest_fine(cli)
    assert "was killed by SIGKILL" in _killed_mid_copy(cli, "worker")
    _assert_no_leftovers(cli)
    _assert_guest_fine(cli)
    _killed_mid_copy(cli, "qemu")
    _assert_no_leftovers(cli)
    assert "status: stopped" in cli.run("qm", "status", "100").stdout

    # after all of it, the next backup succeeds and restores consistent
    start_and_wait_ready(cli, 100)
    cli.run("vzdump", "100", "--compress", "zstd")
    [archive] = archives(cli)
    assert check_records(_restored_disk(cli, archive, 300), tmp_path) > 0
