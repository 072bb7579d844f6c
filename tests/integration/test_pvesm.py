"""Storages and volumes through ``respaldo pvesm``, with real qemu-img."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import Cli

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(120)]


def test_local_storage_is_created_on_first_use(cli: Cli) -> None:
    statuses = json.loads(cli.run("pvesm", "status", "--output-format", "json").stdout)
    assert [(s["storage"], s["type"], s["active"]) for s in statuses] == [("local", "dir", 1)]
    local = statuses[0]
    assert local["total"] > 0 and 0 < local["avail"] <= local["total"]
    assert (local["enabled"], local["shared"]) == (1, 0)
    assert local["content"] == "backup,images,iso,vztmpl"
    for sub in ("images", "dump"):
        assert (cli.home / "storage" / "local" / sub).is_dir()
    assert "local" in cli.run("pvesm", "status").stdout


def test_add_alloc_list_path_free_remove(cli: Cli, tmp_path: Path) -> None:
    other = tmp_path / "other"
    cli.run("pvesm", "add", "dir", "other", "--path", str(other), "--content", "images,backup")
    cfg = (cli.home / "config" / "storage.cfg").read_text()
    assert f"dir: other\n\tpath {other}\n\tcontent images,backup\n" in cfg
    assert "dir: local\n" in cfg

    out = cli.run("pvesm", "alloc", "other", "200", "-", "64M", "--format", "qcow2").stdout
    assert "successfully created 'other:200/vm-200-disk-0.qcow2'" in out
    cli.run("pvesm", "alloc", "other", "200", "vm-200-disk-5.raw", "1024")  # KiB
    volumes = json.loads(cli.run("pvesm", "list", "other", "--output-format", "json").stdout)
    assert [(v["volid"], v["format"], v["size"]) for v in volumes] == [
        ("other:200/vm-200-disk-0.qcow2", "qcow2", 64 << 20),
        ("other:200/vm-200-disk-5.raw", "raw", 1 << 20),
    ]
    path = cli.run("pvesm", "path", "other:200/vm-200-disk-5.raw").stdout.strip()
    assert Path(path) == other / "images" / "200" / "vm-200-disk-5.raw"
    assert Path(path).stat().st_size == 1 << 20

    cli.run("qm", "create", "200", "--memory", "64", "--scsi0", "other:200/vm-200-disk-0.qcow2")
    assert "storage 'other' is used by VM 200 (scsi0)" in cli.fails("pvesm", "remove", "other")
    cli.run("pvesm", "free", "other:200/vm-200-disk-5.raw")
    assert not Path(path).exists()
    assert "does not exist" in cli.fails("pvesm", "free", "other:200/vm-200-disk-5.raw")
    cli.run("qm", "destroy", "200")
    assert cli.run("pvesm", "list", "other").stdout.count("\n") == 1  # header only
    cli.run("pvesm", "remove", "other")
    assert "other" not in (cli.home / "config" / "storage.cfg").read_text()
    assert other.is_dir()  # removing a storage keeps its files, as in Proxmox


def test_an_allocation_that_fails_leaves_no_file(cli: Cli) -> None:
    """ext4 refuses a 256 TiB file after qemu-img has created it: the volume is not made at
    all (a restore of an archive claiming such a disk relies on this to leave nothing)."""
    images = cli.home / "storage" / "local" / "images"
    message = cli.fails("pvesm", "alloc", "local", "300", "vm-300-disk-0.raw", str(1 << 38))
    assert "qemu-img failed" in message
    assert not (images / "300").exists()


def test_vm_disks_on_a_second_storage(cli: Cli, tmp_path: Path) -> None:
    cli.run("pvesm", "add", "dir", "fast", "--path", str(tmp_path / "fast"))
    cli.run("qm", "create", "300", "--memory", "64", "--scsi0", "local:1", "--scsi1", "fast:1")
    cli.run("qm", "start", "300")
    assert "running" in cli.run("qm", "status", "300").stdout
    cli.run("qm", "stop", "300")
    cli.run("qm", "destroy", "300")
    assert not (tmp_path / "fast" / "images" / "300").exists()
