"""Backup now: each mode and compression on real QEMU, archives decoded block by block."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from respaldo.qemu.qmp import Qmp
from respaldo.storage.backups import backup_filename, parse_backup_name
from tests.integration.backup_helpers import (
    ARCHIVE_NAME,
    archives,
    block_jobs,
    disk_as_raw,
    extract_archive,
    fleece_nodes,
    wait_for,
    write_patterns,
)
from tests.integration.conftest import Cli

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(180)]

IMAGES = Path("storage/local/images/100")


def make_vm(cli: Cli, size_gib: str = "0.25") -> None:
    """VM 100: two disks in the backup (qcow2 and raw), a third with backup=0, a CD-ROM."""
    cli.run(
        "qm",
        "create",
        "100",
        "--name",
        "web",
        "--memory",
        "64",
        "--virtio0",
        f"local:{size_gib},format=qcow2",
        "--sata1",
        f"local:{size_gib},format=raw",
        "--cdrom",
        "none",
    )
    # added afterwards, so that it is disk 2 (a create allocates scsi before virtio and sata)
    cli.run("qm", "set", "100", "--scsi2", f"local:{size_gib},backup=0,format=qcow2")
    images = cli.home / IMAGES
    size = int(float(size_gib) * (1 << 30))
    mib = size >> 20
    write_patterns(
        images / "vm-100-disk-0.qcow2",
        "qcow2",
        [
            "write -P 0x11 0 3M",
            f"write -P 0x22 {mib * 2 // 5}M 1M",
            f"write -P 0 {mib * 4 // 5}M 64K",
            f"write -P 0x33 {size - 4096} 4K",
        ],
    )
    write_patterns(
        images / "vm-100-disk-1.raw",
        "raw",
        [
            "write -P 0x44 64K 2M",
            f"write -P 0x55 {mib // 3}M 512",
        ],
    )
    write_patterns(images / "vm-100-disk-2.qcow2", "qcow2", ["write -P 0x66 0 1M"])


def source_digests(cli: Cli, tmp: Path) -> dict[str, str]:
    images = cli.home / IMAGES
    return {
        "drive-virtio0": disk_as_raw(images / "vm-100-disk-0.qcow2", tmp / "src-virtio0"),
        "drive-sata1": disk_as_raw(images / "vm-100-disk-1.raw", tmp / "src-sata1"),
    }


def vm_state(cli: Cli) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        cli.run("qm", "status", "100", "--output-format", "json").stdout
    )
    return data


def assert_clean(cli: Cli, vmid: int = 100) -> None:
    """Nothing of a backup is left: no lock, no scratch, no NBD socket, no .dat, no nodes."""
    assert "lock:" not in cli.run("qm", "config", str(vmid)).stdout
    assert not list((cli.home / "run").rglob("fleece-*.qcow2"))
    assert not (cli.home / "run" / "qemu" / f"{vmid}.nbd").exists()
    assert not list((cli.home / "storage" / "local" / "dump").glob("*.dat"))
    assert not (cli.home / "run" / "vzdump" / f"{vmid}.json").exists()
    if vm_state(cli)["qmpstatus"] != "stopped":
        assert fleece_nodes(cli, vmid) == []
        assert block_jobs(cli, vmid) == []


@pytest.mark.parametrize("compress", ["0", "lzo", "gzip", "zstd"])
@pytest.mark.parametrize("mode", ["snapshot", "suspend", "stop"])
def test_backup_of_a_running_vm(cli: Cli, tmp_path: Path, mode: str, compress: str) -> None:
    make_vm(cli)
    cli.run("qm", "start", "100")
    out = cli.run(
        "vzdump",
        "100",
        "--storage",
        "local",
        "--mode",
        mode,
        "--compress",
        compress,
        "--stopwait",
        "0",
        "--notes-template",
        "{{guestname}} on {{node}}",
        "--protected",
        "1",
    ).stdout

    [archive] = archives(cli)
    extension = {"0": "", "lzo": ".lzo", "gzip": ".gz", "zstd": ".zst"}[compress]
    assert ARCHIVE_NAME.match(archive.name) and archive.name.endswith(".vma" + extension)
    header, digests = extract_archive(archive, tmp_path / "x")
    # sorted by key, as PVE/VZDump/QemuServer.pm orders the devices of an archive
    assert [d.name for d in header.devices] == ["drive-sata1", "drive-virtio0"]
    assert digests == source_digests(cli, tmp_path)
    config = header.config_text()
    assert "#qmdump#map:virtio0:drive-virtio0:local:qcow2:" in config
    assert "#qmdump#map:sata1:drive-sata1:local:raw:" in config
    assert "lock:" not in config and "#qmdump#map:scsi2" not in config

    log = archive.with_name(archive.name.split(".vma")[0] + ".log").read_text()
    for line in (
        f"backup mode: {mode}",
        "include disk 'virtio0'",
        "include disk 'sata1'",
        "exclude disk 'scsi2' 'local:100/vm-100-disk-2.qcow2' (backup=no)",
        "exclude disk 'ide2' 'none' (CD-ROM)",
        "virtio0: 100% (",
        "sata1: 100% (",
        "Finished Backup of VM 100",
    ):
        assert line in log, line
    assert "backup is sparse" in out
    notes = archive.with_name(archive.name + ".notes").read_text()
    assert notes.strip() == "web on testnode"
    assert archive.with_name(archive.name + ".protected").exists()
    assert vm_state(cli)["qmpstatus"] == "running"
    assert_clean(cli)


@pytest.mark.parametrize("mode", ["snapshot", "suspend", "stop"])
@pytest.mark.parametrize("initial", ["paused", "stopped"])
def test_vm_stays_as_the_user_had_it(cli: Cli, tmp_path: Path, mode: str, initial: str) -> None:
    make_vm(cli)
    if initial == "paused":
        cli.run("qm", "start", "100")
        cli.run("qm", "suspend", "100")
    out = cli.run("vzdump", "100", "--mode", mode, "--compress", "zstd", "--stopwait", "0").stdout
    if initial == "stopped":
        assert "backup mode: stop" in out
    [archive] = archives(cli)
    _, digests = extract_archive(archive, tmp_path / "x")
    assert digests == source_digests(cli, tmp_path)
    # paused: QEMU's "paused", or "prelaunch" for one restarted paused (stop mode)
    assert vm_state(cli)["qmpstatus"] in {"paused": ("paused", "prelaunch")}.get(
        initial, (initial,)
    )
    assert_clean(cli)


def test_prune_after_backup_keeps_protected(cli: Cli) -> None:
    make_vm(cli, "0.0625")
    names = []
    for n in range(3):
        protected = ["--protected", "1"] if n == 0 else []
        cli.run(
            "vzdump",
            "100",
            "--storage",
            "local",
            "--compress",
            "zstd",
            "--prune-backups",
            "keep-last=1",
            *protected,
        )
        names.append(archives(cli)[-1].name)
    kept = [p.name for p in archives(cli)]
    # keep-last=1 keeps the newest; the protected first one is never pruned.
    assert kept == [names[0], names[2]]
    log = (cli.home / "storage/local/dump" / (names[2].split(".vma")[0] + ".log")).read_text()
    assert "prune older backups with retention: keep-last=1" in log
    assert f"removing backup 'local:backup/{names[1]}'" in log


def test_a_backup_in_the_second_of_an_earlier_one_takes_the_next_second(cli: Cli) -> None:
    # An archive and its log are named by the second the backup starts in: a backup started
    # in a second that names an earlier backup of the VM waits for a second of its own,
    # leaving the earlier one as it was (Proxmox's rename would overwrite it).
    make_vm(cli, "0.0625")
    dump = cli.home / "storage/local/dump"
    dump.mkdir(parents=True, exist_ok=True)
    now = datetime.now()
    taken = [now + timedelta(seconds=n) for n in range(4)]
    earlier = {}
    for n, when in enumerate(taken):
        # a gzip backup's log (same log name as ours), or a zstd archive without its log
        name = backup_filename(100, when, ".gz" if n % 2 else ".zst")
        path = dump / (name.split(".vma")[0] + ".log" if n % 2 else name)
        path.write_text(f"earlier {n}\n")
        earlier[path] = path.read_text()
    cli.run("vzdump", "100", "--storage", "local", "--compress", "zstd")
    [ours] = [p for p in archives(cli) if p not in earlier]
    parsed = parse_backup_name(ours.name)
    assert parsed is not None and (parsed.ctime or 0) > int(taken[-1].timestamp())
    assert {path: path.read_text() for path in earlier} == earlier
    log = (dump / (ours.name.split(".vma")[0] + ".log")).read_text()
    assert "INFO: Finished Backup of VM 100" in log
    # no line of its log is stamped before the second that names it
    named = datetime.fromtimestamp(parsed.ctime or 0).strftime("%Y-%m-%d %H:%M:%S")
    assert min(line[:19] for line in log.splitlines()) >= named, log


def test_guest_writes_during_a_snapshot_backup_do_not_reach_the_archive(
    cli: Cli, tmp_path: Path
) -> None:
    make_vm(cli)
    before = source_digests(cli, tmp_path)
    cli.run("qm", "start", "100")
    # 2 MiB/s keeps the copy running long enough to write into the disk behind it.
    with cli.background("vzdump", "100", "--compress", "zstd", "--bwlimit", "2048") as backup:
        wait_for(lambda: "fleece-virtio0" in block_jobs(cli, 100), 30, "the fleecing job")
        with Qmp(cli.home / "run" / "qemu" / "100.qmp") as qmp:
            for offset in ("0", "100M", "250M"):
                reply = qmp.hmp(
                    "qemu-io -d /machine/peripheral/virtio0/virtio-backend "
                    f'"write -P 0xcd {offset} 2M"'
                )
                assert reply == "", reply  # qemu-io prints to QEMU's stdout; errors come back
        code, out = backup.finish()
    assert code == 0, out
    [archive] = archives(cli)
    _, digests = extract_archive(archive, tmp_path / "x")
    assert digests == before  # the disk as it was when the backup started
    after = source_digests(cli, tmp_path)
    assert after["drive-virtio0"] != before["drive-virtio0"]  # the guest's writes happened
    assert_clean(cli)


# -- what must never happen ------------------------------------------------------------------


SLOW_BACKUP = ("vzdump", "100", "--compress", "zstd", "--bwlimit", "1024")


def test_a_failing_hook_aborts_and_leaves_nothing(cli: Cli, tmp_path: Path) -> None:
    make_vm(cli, "0.0625")
    cli.run("qm", "start", "100")
    hook = tmp_path / "hook.sh"
    calls = tmp_path / "calls"
    hook.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n[ "$1" = backup-start ] && exit 3\nexit 0\n')
    hook.chmod(0o755)
    proc = cli.run("vzdump", "100", "--script", str(hook), check=False)
    assert proc.returncode == 1
    assert "hook script" in proc.stdout and "backup-start" in proc.stdout
    assert archives(cli) == []
    phases = [line.split()[0] for line in calls.read_text().splitlines()]
    assert phases == ["job-init", "job-start", "backup-start", "backup-abort", "log-end", "job-end"]
    assert vm_state(cli)["qmpstatus"] == "running"
    assert_clean(cli)


def test_qemu_killed_mid_copy(cli: Cli) -> None:
    make_vm(cli)
    cli.run("qm", "start", "100")
    pid = int(vm_state(cli)["pid"])  # type: ignore[call-overload]
    with cli.background(*SLOW_BACKUP) as backup:
        wait_for((cli.home / "run" / "qemu" / "100.nbd").exists, 30, "the NBD export")
        os.kill(pid, signal.SIGKILL)
        code, out = backup.finish()
    assert code == 1, out
    assert "Backup of VM 100 failed" in out
    assert archives(cli) == []
    assert vm_state(cli)["qmpstatus"] == "stopped"
    assert_clean(cli)
    cli.run("qm", "start", "100")
    cli.run("vzdump", "100", "--compress", "zstd")  # the next backup works
    assert len(archives(cli)) == 1


def test_backup_worker_killed_mid_copy(cli: Cli) -> None:
    make_vm(cli)
    cli.run("qm", "start", "100")
    state = cli.home / "run" / "vzdump" / "100.json"
    with cli.background(*SLOW_BACKUP, "--mode", "suspend") as backup:
        wait_for((cli.home / "run" / "qemu" / "100.nbd").exists, 30, "the NBD export")
        worker = json.loads(state.read_text())["pid"]
        assert worker != backup.proc.pid
        os.kill(worker, signal.SIGKILL)
        code, out = backup.finish()
    assert code == 1 and "was killed by SIGKILL" in out, out
    assert archives(cli) == []
    assert vm_state(cli)["qmpstatus"] == "running"
    assert_clean(cli)
    cli.run("vzdump", "100", "--compress", "zstd")
    assert len(archives(cli)) == 1


def test_target_storage_full(cli: Cli, tmp_path: Path) -> None:
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)], check=True)
    try:
        cli.run("pvesm", "add", "dir", "small", "--path", str(small), "--content", "backup")
        make_vm(cli)
        cli.run("qm", "start", "100")
        proc = cli.run("vzdump", "100", "--storage", "small", check=False)
        assert proc.returncode == 1
        assert "No space left on device" in proc.stdout
        assert [p.name for p in (small / "dump").iterdir() if not p.name.endswith(".log")] == []
        assert vm_state(cli)["qmpstatus"] == "running"
        assert_clean(cli)
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


def test_lock_blocks_a_second_backup(cli: Cli) -> None:
    make_vm(cli, "0.0625")
    cli.run("qm", "set", "100", "--lock", "migrate")
    proc = cli.run("vzdump", "100", check=False)
    assert proc.returncode == 1 and "VM 100 is locked (migrate)" in proc.stdout
    assert "lock: migrate" in cli.run("qm", "config", "100").stdout  # not ours to remove


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["vzdump", "100", "--mode", "fast"], "invalid value for mode 'fast'"),
        (["vzdump", "100", "--compress", "bz2"], "invalid value for compress 'bz2'"),
        (["vzdump", "555"], "VM 555 does not exist"),
        (["vzdump", "100", "--storage", "nas"], "storage 'nas' does not exist"),
        (["vzdump", "100", "--prune-backups", "keep-lots=1"], "prune-backups"),
        (["vzdump", "100", "--mailto", "not an address"], "mailto"),
        (["vzdump"], "property is missing"),
    ],
)
def test_bad_options_are_named(cli: Cli, args: list[str], message: str) -> None:
    make_vm(cli, "0.0625")
    assert message in cli.fails(*args)
    assert archives(cli) == []


def test_all_with_exclude_and_a_dumpdir(cli: Cli, tmp_path: Path) -> None:
    for vmid in ("100", "101", "102"):
        cli.run("qm", "create", vmid, "--memory", "64", "--virtio0", "local:0.0625")
    out = cli.run("vzdump", "--all", "1", "--exclude", "101", "--compress", "zstd").stdout
    assert "Starting Backup of VM 100" in out and "Starting Backup of VM 102" in out
    assert "VM 101" not in out
    assert sorted(ARCHIVE_NAME.match(p.name).group(1) for p in archives(cli)) == ["100", "102"]  # type: ignore[union-attr]
    dump = tmp_path / "elsewhere"
    assert "must be an existing directory" in cli.fails("vzdump", "101", "--dumpdir", str(dump))
    dump.mkdir()
    cli.run("vzdump", "101", "--dumpdir", str(dump))
    assert [p.name.split("-")[2] for p in dump.glob("vzdump-qemu-*.vma")] == ["101"]
