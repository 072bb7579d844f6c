"""Restore with real QEMU: into new VMs, over existing ones, partial, and when it fails."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import signal
import struct
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from respaldo.archive.vma import read_header
from tests.conftest import SHARED_FIXTURES
from tests.integration.backup_helpers import archives, wait_for, write_patterns
from tests.integration.conftest import Cli, Running

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(180)]

IMAGES = Path("storage/local/images")


def _backed_up_vm(cli: Cli, compress: str = "zstd") -> Path:
    """VM 100 (qcow2 + raw disk, a backup=0 disk, a NIC), backed up once."""
    cli.run(
        "qm",
        "create",
        "100",
        "--name",
        "web",
        "--memory",
        "64",
        "--net0",
        "virtio",
        "--virtio0",
        "local:0.25,format=qcow2",
        "--sata1",
        "local:0.125,format=raw",
    )
    # added afterwards, so that it is disk 2 (a create allocates scsi before virtio and sata)
    cli.run("qm", "set", "100", "--scsi2", "local:0.0625,backup=0,format=qcow2")
    images = cli.home / IMAGES / "100"
    write_patterns(
        images / "vm-100-disk-0.qcow2",
        "qcow2",
        ["write -P 0x11 0 5M", "write -P 0x22 200M 1M", "write -P 0x33 262140K 4K"],
    )
    write_patterns(images / "vm-100-disk-1.raw", "raw", ["write -P 0x44 4K 3M"])
    cli.run("vzdump", "100", "--compress", compress)
    [archive] = archives(cli)
    return archive


def _compare(a: Path, b: Path) -> None:
    proc = subprocess.run(
        ["qemu-img", "compare", "-U", str(a), str(b)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _config(cli: Cli, vmid: int) -> dict[str, str]:
    data: dict[str, str] = json.loads(
        cli.run("qm", "config", str(vmid), "--output-format", "json").stdout
    )
    return data


def _image(cli: Cli, drive: str) -> Path:
    """The file of a disk on 'local', from its config value ``local:100/vm-100-disk-0.raw,..``."""
    volname = drive.split(",", maxsplit=1)[0].partition(":")[2]
    return cli.home / IMAGES / volname


def _tree(path: Path) -> list[str]:
    """Every file of the data dir but locks and task logs (each command is a task, and logs)."""
    return sorted(
        str(p.relative_to(path))
        for p in path.rglob("*")
        if p.is_file() and "lock" not in p.parts and "tasks" not in p.parts
    )


@pytest.mark.parametrize("compress", ["0", "lzo", "gzip", "zstd"])
def test_restore_into_a_new_vm_on_another_storage_and_boot(
    cli: Cli, tmp_path: Path, compress: str
) -> None:
    archive = _backed_up_vm(cli, compress)
    other = tmp_path / "other"
    cli.run("pvesm", "add", "dir", "other", "--path", str(other))
    volid = f"local:backup/{archive.name}"
    out = cli.run("qmrestore", volid, "200", "--storage", "other").stdout
    # volumes allocated in the archive's device order, sorted by key (as qemu-server does)
    assert "new volume ID is 'other:200/vm-200-disk-1.qcow2'" in out
    config = _config(cli, 200)
    assert config["virtio0"] == "other:200/vm-200-disk-1.qcow2,size=256M"
    assert config["sata1"] == "other:200/vm-200-disk-0.raw,size=128M"
    assert "scsi2" not in config and "#scsi2" not in config  # backup=0: commented out
    assert "scsi2: local:100/vm-100-disk-2.qcow2,backup=0" in config["description"]
    assert "lock" not in config
    old = _config(cli, 100)
    assert config["net0"] == old["net0"]  # no --unique: same MAC
    assert config["vmgenid"] != old["vmgenid"]  # always a new generation id
    _compare(
        cli.home / IMAGES / "100/vm-100-disk-0.qcow2", other / "images/200/vm-200-disk-1.qcow2"
    )
    _compare(cli.home / IMAGES / "100/vm-100-disk-1.raw", other / "images/200/vm-200-disk-0.raw")
    # written sparse: the 256 MiB qcow2 holds about the 6 MiB of data
    assert (other / "images/200/vm-200-disk-1.qcow2").stat().st_size < 16 << 20
    cli.run("qm", "start", "200")
    assert "status: running" in cli.run("qm", "status", "200").stdout


def test_compression_is_detected_from_content_not_name(cli: Cli, tmp_path: Path) -> None:
    archive = _backed_up_vm(cli, "gzip")
    misnamed = tmp_path / "vzdump-qemu-100-2020_01_01-00_00_00.vma.zst"
    shutil.copy(archive, misnamed)
    cli.run("qmrestore", str(misnamed), "201")
    _compare(
        cli.home / IMAGES / "100/vm-100-disk-0.qcow2", _image(cli, _config(cli, 201)["virtio0"])
    )


def test_unique_gives_new_macs_and_smbios_uuid(cli: Cli) -> None:
    archive = _backed_up_vm(cli)
    cli.run("qmrestore", str(archive), "202", "--unique", "1")
    old, new = _config(cli, 100), _config(cli, 202)
    assert new["net0"] != old["net0"] and new["net0"].startswith("virtio=BC:24:11:")
    assert new["smbios1"] != old["smbios1"] and new["smbios1"].startswith("uuid=")


def test_restore_over_the_same_vm(cli: Cli) -> None:
    archive = _backed_up_vm(cli)
    before = _tree(cli.home)
    assert "VM 100 already exists" in cli.fails("qmrestore", str(archive), "100")
    cli.run("qm", "start", "100")
    refused = cli.fails("qmrestore", str(archive), "100", "--force", "1")
    assert "unable to restore VM 100 - vm is running" in refused
    cli.run("qm", "stop", "100")
    assert _tree(cli.home) == before
    # the VM changed after the backup: new data on the disk, a disk added
    write_patterns(cli.home / IMAGES / "100/vm-100-disk-0.qcow2", "qcow2", ["write -P 0x77 0 1M"])
    cli.run("qm", "set", "100", "--scsi3", "local:0.0625")
    cli.run("qmrestore", str(archive), "100", "--force", "1")
    config = _config(cli, 100)
    assert config["virtio0"].startswith("local:100/vm-100-disk-")
    # the disk added after the backup is kept as unused; the replaced ones are freed
    unused = [v for k, v in config.items() if k.startswith("unused")]
    assert len(unused) == 2  # scsi2 (backup=0) and scsi3 (not in the archive)
    images = sorted(p.name for p in (cli.home / IMAGES / "100").iterdir())
    assert len(images) == 4  # two restored, two kept as unused
    out = subprocess.run(
        [
            "qemu-io",
            "-f",
            "qcow2",
            "-r",
            "-c",
            "read -P 0x11 0 1M",
            str(_image(cli, config["virtio0"])),
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    assert "Pattern verification failed" not in out and "read 1048576" in out


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("protection", "1", "VM 100 is protected"),
        ("lock", "backup", "VM 100 is locked (backup)"),
    ],
)
def test_protected_or_locked_vm_is_not_overwritten(
    cli: Cli, key: str, value: str, message: str
) -> None:
    archive = _backed_up_vm(cli)
    cli.run("qm", "set", "100", f"--{key}", value)
    before = _tree(cli.home)
    assert message in cli.fails("qmrestore", str(archive), "100", "--force", "1")
    assert _tree(cli.home) == before


def test_map_storage_and_partial_restore(cli: Cli, tmp_path: Path) -> None:
    archive = _backed_up_vm(cli)
    cli.run("pvesm", "add", "dir", "fast", "--path", str(tmp_path / "fast"))
    cli.run("qmrestore", str(archive), "203", "--map-storage", "sata1=fast")
    config = _config(cli, 203)
    assert config["virtio0"].startswith("local:203/") and config["sata1"].startswith("fast:203/")
    # only one disk into a new VM: the other comes back commented out
    cli.run("qmrestore", str(archive), "204", "--disks", "sata1")
    config = _config(cli, 204)
    assert "virtio0" not in config and config["sata1"].startswith("local:204/")
    # one disk back into the existing VM: its config stays, that disk is replaced
    write_patterns(cli.home / IMAGES / "100/vm-100-disk-1.raw", "raw", ["write -P 0x99 4K 1M"])
    cli.run("qm", "set", "100", "--memory", "96")
    old_virtio0 = _config(cli, 100)["virtio0"]
    cli.run("qmrestore", str(archive), "100", "--force", "1", "--disks", "sata1")
    config = _config(cli, 100)
    assert config["memory"] == "96" and config["virtio0"] == old_virtio0
    assert config["sata1"] != "local:100/vm-100-disk-1.raw,size=128M"
    _compare(_image(cli, _config(cli, 204)["sata1"]), _image(cli, config["sata1"]))
    assert "unused0" not in config


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--map-storage", "scsi9=local"], "invalid value for map-storage 'scsi9'"),
        (["--disks", "ide0"], "invalid value for disks 'ide0'"),
        (["--storage", "nas"], "storage 'nas' does not exist"),
        (["--map-storage", "nonsense"], "expected <disk>=<storage>"),
    ],
)
def test_bad_restore_options(cli: Cli, args: list[str], message: str) -> None:
    archive = _backed_up_vm(cli)
    before = _tree(cli.home)
    assert message in cli.fails("qmrestore", str(archive), "300", *args)
    assert _tree(cli.home) == before


def test_proxmox_archive_missing_clusters_fails_cleanly(cli: Cli, tmp_path: Path) -> None:
    """The sample holds 23 clusters of a 10 GiB disk: compressed, the restore finds the first
    missing one and undoes itself; uncompressed, its size alone refuses it before any work."""
    packed = tmp_path / "vzdump-qemu-100-2021_10_31-11_43_42.vma.gz"
    shutil.copy(SHARED_FIXTURES / "proxmox-sample.vma.gz", packed)
    stderr_out = cli.run("qmrestore", str(packed), "400", "--storage", "local", check=False)
    assert stderr_out.returncode == 1
    assert "detected missing cluster 23 of device drive-scsi0" in stderr_out.stderr
    assert not (cli.home / "config/qemu-server/400.conf").exists()
    assert not list((cli.home / IMAGES).glob("400/*"))
    raw = tmp_path / "vzdump-qemu-100-2021_10_31-11_43_42.vma"
    raw.write_bytes(gzip.decompress(packed.read_bytes()))
    before = _tree(cli.home)
    message = cli.fails("qmrestore", str(raw), "400", "--storage", "local")
    assert "archive truncated or its header damaged: it is 538112 bytes" in message
    assert "drive-scsi0, of 10737418240 bytes" in message
    assert _tree(cli.home) == before
    # without --storage, the archive's own storage (local-lvm) is not on this node
    assert "storage 'local-lvm' does not exist" in cli.fails("qmrestore", str(packed), "400")


def _flip_first_data_byte(archive: Path) -> str:
    """Flip the first stored data byte of an uncompressed archive (the md5 sums cover only
    headers, so the archive still reads); the name of the device it belongs to."""
    data = bytearray(archive.read_bytes())
    header = read_header(io.BytesIO(bytes(data)))
    pos = header.header_size
    while True:
        blocks = int.from_bytes(data[pos + 6 : pos + 8], "big")
        if blocks:
            entries = struct.unpack_from(">59Q", data, pos + 40)
            dev_id = next(e >> 32 & 0xFF for e in entries if e >> 48)
            data[pos + 512] ^= 0xFF
            archive.write_bytes(data)
            return header.device(dev_id).name
        pos += 512


def test_restore_checks_every_disk_against_the_digest_sidecar(cli: Cli) -> None:
    archive = _backed_up_vm(cli, "0")
    sidecar = archive.with_name(archive.name + ".digest.json")
    out = cli.run("qmrestore", str(archive), "210").stdout
    for device in ("drive-virtio0", "drive-sata1"):
        assert f"data of {device} matches its digest in {sidecar.name}" in out
    old_config = (cli.home / "config/qemu-server/210.conf").read_text()

    device = _flip_first_data_byte(archive)
    before = _tree(cli.home)
    for args in (["211"], ["210", "--force", "1"]):  # into a new VM, and over VM 210
        proc = cli.run("qmrestore", str(archive), *args, check=False, timeout=120)
        assert proc.returncode == 1, proc.stdout
        assert f"ERROR: data digest mismatch for device {device}: digest" in proc.stderr
        assert "restore failed: cleaning up" in proc.stdout
        assert "Traceback" not in proc.stdout + proc.stderr
        assert _tree(cli.home) == before  # new volumes freed, no config for 211, no record
    assert (cli.home / "config/qemu-server/210.conf").read_text() == old_config

    sidecar.unlink()
    out = cli.run("qmrestore", str(archive), "212").stdout
    assert f"no digest sidecar {sidecar.name}: the restored data could not be checked" in out


@contextmanager
def _slow_restore_into_500(cli: Cli, archive: Path) -> Iterator[tuple[Running, Path]]:
    """``qmrestore`` of ``archive`` into VM 500 at 256 KiB/s, and its record in run/qmrestore,
    once both new volumes exist."""
    state = cli.home / "run" / "qmrestore" / "500.json"
    with cli.background("qmrestore", str(archive), "500", "--bwlimit", "256") as restore:
        wait_for(
            lambda: state.exists() and len(json.loads(state.read_text())["new_volumes"]) == 2,
            30,
            "the restore to allocate its volumes",
        )
        yield restore, state


def test_killed_restore_leaves_no_half_made_vm(cli: Cli) -> None:
    archive = _backed_up_vm(cli)
    with _slow_restore_into_500(cli, archive) as (restore, state):
        os.kill(json.loads(state.read_text())["pid"], signal.SIGKILL)
        code, out = restore.finish(timeout=60)
    assert code == 1 and "was killed by SIGKILL" in out, out
    assert not (cli.home / "config/qemu-server/500.conf").exists()
    assert not (cli.home / IMAGES / "500").exists() or not list(
        (cli.home / IMAGES / "500").iterdir()
    )
    assert not list((cli.home / "run" / "qmrestore").iterdir())
    servers = subprocess.run(
        ["pgrep", "-af", "qemu-nbd"], capture_output=True, text=True, check=False
    ).stdout
    assert str(cli.home) not in servers  # no qemu-nbd of the restore is left running


def test_restore_after_worker_and_supervisor_both_died_cleans_up_first(cli: Cli) -> None:
    archive = _backed_up_vm(cli)
    with _slow_restore_into_500(cli, archive) as (restore, state):
        restore.proc.kill()  # the supervisor first: nobody is left to clean up
        restore.proc.wait()
        os.kill(json.loads(state.read_text())["pid"], signal.SIGKILL)
    left = json.loads(state.read_text())["new_volumes"]
    assert "lock: create" in (cli.home / "config/qemu-server/500.conf").read_text()

    out = cli.run("qmrestore", str(archive), "500", timeout=120).stdout
    assert "cleaning up after an interrupted restore of VM 500" in out
    assert all(f"freed new volume '{volume}'" in out for volume in left)
    config = _config(cli, 500)
    assert "lock" not in config
    disks = sorted(p.name for p in (cli.home / IMAGES / "500").iterdir())
    assert len(disks) == 2  # the new restore's two disks, nothing left from the first one
    assert not state.exists()
