"""Proxmox parity on real QEMU: the commands take, print and stop as Proxmox's do (issue 11).

Each test is an example a Proxmox administrator would try, with the value Proxmox gives:
signals to a backup or a restore (each one to the process and to its group, a closed
output), two backups of one VM at once, a retention that is a limit, notes templates,
vzdump.conf files from Proxmox nodes, the logged command line, qm list's boot disk.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.integration.backup_helpers import (
    archives,
    disk_as_raw,
    extract_archive,
    wait_for,
    write_patterns,
)
from tests.integration.conftest import Cli
from tests.integration.test_vm_lifecycle import _alive as alive
from tests.integration.test_vm_lifecycle import _status

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(180)]

IMAGES = Path("storage/local/images")
DUMP = Path("storage/local/dump")
#: A backup that takes some 10 s: 10 MiB of data read at 1 MiB/s.
SLOW = ("--bwlimit", "1024", "--compress", "zstd")


def make_vm(cli: Cli, vmid: int = 100, data_mib: int = 10) -> None:
    """A VM with a 64 MiB disk holding ``data_mib`` MiB of data."""
    disk = "local:0.0625,format=qcow2"
    cli.run("qm", "create", str(vmid), "--name", "web", "--memory", "64", "--scsi0", disk)
    image = cli.home / IMAGES / str(vmid) / f"vm-{vmid}-disk-0.qcow2"
    write_patterns(image, "qcow2", [f"write -P 0x5a 0 {data_mib}M"])


def status(cli: Cli, vmid: int = 100) -> dict[str, object]:
    return _status(cli, vmid)


def last_task_log(cli: Cli, kind: str) -> str:
    logs = sorted((cli.home / "log" / "tasks").rglob(f"UPID:*:{kind}:*"), key=os.path.getmtime)
    return logs[-1].read_text()


@dataclass
class Command:
    """``respaldo <args>`` started as a shell starts a job: a process group of its own."""

    proc: subprocess.Popen[str]

    def signal(self, sig: signal.Signals, group: bool) -> None:
        if group:
            os.killpg(self.proc.pid, sig)
        else:
            os.kill(self.proc.pid, sig)

    def finish(self, timeout: float = 90) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err


@contextmanager
def started(cli: Cli, *args: str) -> Iterator[Command]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "respaldo.cli.main", *args],
        env=cli.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        yield Command(proc)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def no_backup_left(cli: Cli, vmid: int = 100) -> None:
    """As Proxmox after an interrupted backup: the VM as it was, no lock, no .dat, no archive."""
    assert "lock:" not in cli.run("qm", "config", str(vmid)).stdout
    dump = cli.home / DUMP
    assert not list(dump.glob("*.dat")) and archives(cli) == []
    assert not (cli.home / "run" / "vzdump" / f"{vmid}.json").exists()
    assert not list((cli.home / "run").rglob("fleece-*.qcow2"))


# -- kind 8: a backup and a restore stop cleanly on a signal ------------------------------------


STOPS = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT]


@pytest.mark.parametrize("group", [False, True], ids=["process", "group"])
@pytest.mark.parametrize("sig", STOPS, ids=[s.name for s in STOPS])
def test_a_signal_stops_a_backup_cleanly(cli: Cli, sig: signal.Signals, group: bool) -> None:
    make_vm(cli)
    cli.run("qm", "start", "100")
    state = cli.home / "run" / "vzdump" / "100.json"
    with started(cli, "vzdump", "100", *SLOW) as backup:
        wait_for((cli.home / "run" / "qemu" / "100.nbd").exists, 60, "the copy to start")
        worker = json.loads(state.read_text())["pid"]
        backup.signal(sig, group)
        code, out, err = backup.finish()
    assert code == 1, out + err
    # Proxmox's lines: the guest's error, the job's, the task's
    assert "ERROR: Backup of VM 100 failed - interrupted by signal" in out
    assert "ERROR: Backup job failed - interrupted by signal" in out
    assert err.splitlines()[-1].endswith("interrupted by signal")
    [log] = (cli.home / DUMP).glob("*.log")
    assert "ERROR: Backup of VM 100 failed - interrupted by signal" in log.read_text()
    assert last_task_log(cli, "vzdump").endswith("TASK ERROR: interrupted by signal\n")
    assert not alive(worker)  # no orphan
    assert status(cli)["qmpstatus"] == "running"
    no_backup_left(cli)


def test_a_closed_output_stops_a_backup_as_sigpipe(cli: Cli) -> None:
    """``respaldo vzdump ... | head -3``, or an SSH session whose pipe is gone."""
    make_vm(cli)
    cli.run("qm", "start", "100")
    with started(cli, "vzdump", "100", *SLOW) as backup:
        assert backup.proc.stdout is not None
        wait_for((cli.home / "run" / "qemu" / "100.nbd").exists, 60, "the copy to start")
        backup.proc.stdout.close()  # the reader is gone
        code = backup.proc.wait(timeout=90)
    assert code == 1
    assert last_task_log(cli, "vzdump").endswith("TASK ERROR: interrupted by signal\n")
    assert status(cli)["qmpstatus"] == "running"
    no_backup_left(cli)


@pytest.fixture
def archive(cli: Cli) -> Path:
    """A backup of VM 100 (64 MiB disk, 40 MiB of data), and VM 100 stopped."""
    make_vm(cli, data_mib=40)
    cli.run("vzdump", "100", "--compress", "zstd", timeout=120)
    [path] = archives(cli)
    return path


@pytest.mark.parametrize(
    ("sig", "group", "target"),
    [
        (signal.SIGTERM, False, "new"),
        (signal.SIGINT, True, "new"),
        (signal.SIGHUP, True, "over"),
        (signal.SIGQUIT, False, "over"),
    ],
    ids=["TERM-process-new", "INT-group-new", "HUP-group-over", "QUIT-process-over"],
)
def test_a_signal_stops_a_restore_cleanly(
    cli: Cli, archive: Path, sig: signal.Signals, group: bool, target: str
) -> None:
    vmid = "200" if target == "new" else "100"
    config = cli.home / "config" / "qemu-server" / f"{vmid}.conf"
    before = config.read_text() if config.exists() else None
    images = sorted((cli.home / IMAGES).rglob("*.qcow2"))
    force = ("--force",) if target == "over" else ()
    state = cli.home / "run" / "qmrestore" / f"{vmid}.json"
    with started(cli, "qmrestore", str(archive), vmid, *force, "--bwlimit", "2048") as restore:
        wait_for(
            lambda: state.exists() and json.loads(state.read_text())["new_volumes"], 60, "the copy"
        )
        worker = json.loads(state.read_text())["pid"]
        restore.signal(sig, group)
        code, out, err = restore.finish()
    assert code == 1, out + err
    assert err.splitlines()[-1].endswith("interrupted by signal")
    assert last_task_log(cli, "qmrestore").endswith("TASK ERROR: interrupted by signal\n")
    assert not alive(worker)
    # the new VM is gone, or the old one is as it was; no volume of the restore is left
    assert (config.read_text() if config.exists() else None) == before
    assert sorted((cli.home / IMAGES).rglob("*.qcow2")) == images
    assert not state.exists()


# -- kind 7: two backups of one VM at once ---------------------------------------------------


def test_a_second_backup_waits_saying_so_and_names_its_archive_when_it_starts(cli: Cli) -> None:
    make_vm(cli, data_mib=4)
    with started(cli, "vzdump", "100", "--bwlimit", "2048") as first:
        wait_for((cli.home / "run" / "vzdump" / "100.json").exists, 60, "the first backup")
        with started(cli, "vzdump", "100") as second:
            code2, out2, err2 = second.finish()
        code1, out1, _ = first.finish()
    assert (code1, code2) == (0, 0), out2 + err2
    lines = out2.splitlines()
    waiting = lines.index("INFO: trying to get global lock - waiting...")
    assert lines[waiting + 1] == "INFO: got global lock"
    assert lines[waiting + 2] == "INFO: Starting Backup of VM 100 (qemu)"
    one, two = (stamp(path.name) for path in archives(cli))
    # the second archive is named when its backup started, after the first had finished
    finished = next(line for line in out1.splitlines() if "Backup finished at" in line)
    assert two > one and two >= time.strptime(finished.split(" at ")[1], "%Y-%m-%d %H:%M:%S")


def stamp(name: str) -> time.struct_time:
    """The time in an archive's name."""
    return time.strptime(name.split("-", 3)[3].split(".", maxsplit=1)[0], "%Y_%m_%d-%H_%M_%S")


# -- kind 3: --remove 0 with a retention is a limit --------------------------------------------


def test_remove_0_with_a_retention_refuses_before_writing(cli: Cli) -> None:
    make_vm(cli, vmid=9304, data_mib=1)
    for _ in range(2):
        cli.run("vzdump", "9304", "--storage", "local")
        time.sleep(1)  # one archive name per second
    protected = archives(cli)[0]
    protected.with_name(protected.name + ".protected").touch()
    cli.run("vzdump", "9304", "--storage", "local")  # the protected one does not count
    before = sorted(p.name for p in (cli.home / DUMP).iterdir())
    proc = cli.run(
        "vzdump", "9304", "--storage", "local", "--remove", "0",
        "--prune-backups", "keep-last=2", check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert (
        "ERROR: Backup of VM 9304 failed - There is a max backup limit of 2 enforced by the "
        "target storage or the vzdump parameters. Either increase the limit or delete old "
        "backups."
    ) in proc.stdout
    assert sorted(p.name for p in (cli.home / DUMP).iterdir()) == before  # not even a log
    # a retention applied (remove 1) is no limit
    cli.run("vzdump", "9304", "--storage", "local", "--prune-backups", "keep-last=2")
    assert len(archives(cli)) == 3  # two kept by keep-last, one protected


# -- kind 2: notes templates -----------------------------------------------------------------


def test_notes_as_proxmox_renders_them(cli: Cli) -> None:
    make_vm(cli, data_mib=1)
    template = r"path C:\\temp\\new | {{vmid}}\nsecond line {{guestname}} {{cluster}}"
    cli.run("vzdump", "100", "--storage", "local", "--notes-template", template)
    [archive] = archives(cli)
    notes = archive.with_name(archive.name + ".notes").read_text()
    assert notes == "path C:\\temp\\new | 100\nsecond line web standalone node"
    # a template with a real line break is a parameter error: nothing is written
    message = cli.fails("vzdump", "100", "--storage", "local", "--notes-template", "a\nb")
    assert "contains a line feed" in message
    message = cli.fails("vzdump", "100", "--storage", "local", "--notes-template", r"x\t{{foo}}")
    assert r"found unknown: escape sequence '\t' at char 1, variable 'foo' at char 7" in message
    assert len(archives(cli)) == 1


def test_a_bad_notes_template_in_vzdump_conf_is_a_warning(cli: Cli) -> None:
    make_vm(cli, data_mib=1)
    conf = cli.home / "config" / "vzdump.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text("notes-template: {{foo}} \\t\npigz: lots\n")
    proc = cli.run("vzdump", "100", "--storage", "local")
    assert "Task finished with 2 warning(s)!" in proc.stderr
    assert (
        "WARN: parse error in 'vzdump.conf' - 'notes-template': found unknown: escape "
        "sequence '\\t' at char 8, variable 'foo' at char 4"
    ) in proc.stdout
    [archive] = archives(cli)
    assert not archive.with_name(archive.name + ".notes").exists()


# -- kind 1: options, vzdump.conf, paths -------------------------------------------------------


def test_a_vzdump_conf_with_every_key_runs_a_backup(cli: Cli, tmp_path: Path) -> None:
    make_vm(cli, data_mib=1)
    cli.run("qm", "create", "101", "--memory", "64", "--scsi0", "local:0.0625")
    text = (FIXTURES / "config" / "vzdump-every-key.conf").read_text()
    text = text.replace("/usr/local/bin/vzdump-hook.sh", "/bin/true")
    text = text.replace("/var/tmp", str(tmp_path)).replace("mailto: root@example.com\n", "")
    text = text.replace("pool: backup\n", "").replace("compress: zstd", "compress: gzip")
    (cli.home / "config").mkdir(parents=True, exist_ok=True)
    (cli.home / "config" / "vzdump.conf").write_text(text)
    proc = cli.run("vzdump", "--exclude", "101", timeout=120)  # --exclude implies --all
    assert "Task finished with 2 warning(s)!" in proc.stderr  # Proxmox's two for this file
    assert "starting new backup job: vzdump --exclude 101 --all 1" in proc.stdout
    assert "Starting Backup of VM 100" in proc.stdout and "VM 101" not in proc.stdout
    [archive] = archives(cli)
    assert archive.name.endswith(".vma.gz")  # compress: gzip (pigz: 1 runs pigz)
    notes = archive.with_name(archive.name + ".notes").read_text()
    assert notes == "web on testnode"
    assert "fleecing images on storage 'local'" in proc.stdout


def test_pool_backs_up_the_pools_guests(cli: Cli) -> None:
    for vmid in (100, 101, 102):
        make_vm(cli, vmid=vmid, data_mib=1)
    (cli.home / "config" / "user.cfg").write_text("pool:backup:nightly:100,102,555::\n")
    out = cli.run("vzdump", "--pool", "backup", "--storage", "local", timeout=120).stdout
    assert "starting new backup job: vzdump --pool backup --storage local" in out
    assert sorted(int(p.name.split("-")[2]) for p in archives(cli)) == [100, 102]  # 555: none
    assert "pool 'nope' does not exist" in cli.fails("vzdump", "--pool", "nope")
    assert "option conflicts with option 'vmid'" in cli.fails("vzdump", "100", "--pool", "backup")


STDOUT_BACKUP = ("vzdump", "100", "--stdout", "--compress", "zstd")


def test_stdout_streams_the_archive_and_prints_to_stderr(cli: Cli, tmp_path: Path) -> None:
    make_vm(cli, data_mib=3)
    image = cli.home / IMAGES / "100" / "vm-100-disk-0.qcow2"
    source = disk_as_raw(image, tmp_path / "source")
    streamed = tmp_path / "streamed.vma.zst"
    with streamed.open("wb") as out:
        proc = subprocess.run(
            [sys.executable, "-m", "respaldo.cli.main", *STDOUT_BACKUP],
            env=cli.env,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr
    assert "INFO: sending archive to stdout" in proc.stderr  # the lines go to stderr
    assert "INFO: starting new backup job: vzdump 100 --compress zstd" in proc.stderr
    _, digests = extract_archive(streamed, tmp_path / "x")
    assert digests == {"drive-scsi0": source}
    # no archive on the storage, its log there as Proxmox keeps it
    assert archives(cli) == [] and len(list((cli.home / DUMP).glob("*.log"))) == 1
    cli.run("qm", "create", "101", "--memory", "64", "--scsi0", "local:0.0625")
    message = cli.fails("vzdump", "100", "101", "--stdout")
    assert "you can only backup a single VM with option --stdout" in message
    message = cli.fails("vzdump", "100", "--stdout", "--storage", "local")
    assert "cannot use options 'storage' and 'stdout' at the same time" in message


def test_a_relative_archive_and_a_bare_force(cli: Cli, archive: Path) -> None:
    env = dict(cli.env)
    proc = subprocess.run(
        [sys.executable, "-m", "respaldo.cli.main", "qmrestore", archive.name, "101"],
        env=env,
        cwd=archive.parent,  # cd <storage>/dump && qmrestore vzdump-qemu-100-....vma.zst 101
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "name: web" in cli.run("qm", "config", "101").stdout
    cli.run("qmrestore", str(archive), "101", "--force", timeout=120)  # a boolean alone is 1


# -- kind 6: output shapes --------------------------------------------------------------------


def test_qm_list_shows_the_boot_disk_in_proxmoxs_columns(cli: Cli) -> None:
    cli.run("qm", "create", "101", "--name", "web", "--memory", "512", "--scsi0", "local:8")
    cli.run("qm", "set", "101", "--virtio1", "local:2,format=raw")
    lines = cli.run("qm", "list").stdout.splitlines()
    assert lines == [
        "      VMID NAME                 STATUS     MEM(MB)    BOOTDISK(GB) PID       ",
        "       101 web                  stopped    512                8.00 0         ",
    ]
    [row] = json.loads(cli.run("qm", "list", "--output-format", "json").stdout)
    assert (row["maxmem"], row["maxdisk"], row["status"]) == (512 << 20, 8 << 30, "stopped")
    assert None not in row.values() and "pid" not in row
    verbose = cli.run("qm", "status", "101", "--verbose").stdout.splitlines()
    keys = [line.split(":")[0] for line in verbose]
    assert keys == sorted(set(keys)) and "cpu" not in keys and "qmpstatus" in keys
    assert not any("None" in line for line in verbose)


def test_the_logged_command_line_runs_again(cli: Cli) -> None:
    make_vm(cli, data_mib=1)
    out = cli.run(
        "vzdump", "100", "--storage", "local", "--notes-template", "{{guestname}} on {{node}}",
        "--protected", "--prune-backups", "keep-weekly=2,keep-last=3",
    ).stdout  # fmt: skip
    first = out.splitlines()[0]
    line = first.removeprefix("INFO: starting new backup job: ")
    assert line == (
        "vzdump 100 --storage local --notes-template '{{guestname}} on {{node}}' "
        "--protected 1 --prune-backups keep-last=3,keep-weekly=2"
    )
    time.sleep(1)
    again = cli.run(*shlex.split(line)).stdout
    assert again.splitlines()[0] == first
    assert len(archives(cli)) == 2
