"""Backups as volumes through ``respaldo pvesm`` (and ``respaldo pvesh`` for their notes and
protection, as in Proxmox), on a real backup made by ``respaldo vzdump``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from tests.integration.backup_helpers import archives
from tests.integration.conftest import Cli

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(180)]

IMAGE = "local:100/vm-100-disk-0.qcow2"
MAP_LINE = "#qmdump#map:virtio0:drive-virtio0:local:qcow2:"


def make_backup(cli: Cli) -> Path:
    """VM 100 with one 64 MiB disk, backed up with zstd; the archive's path."""
    cli.run("qm", "create", "100", "--memory", "64", "--virtio0", "local:0.0625,format=qcow2")
    cli.run("vzdump", "100", "--compress", "zstd", timeout=120)
    [archive] = archives(cli)
    return archive


def content_path(volid: str) -> str:
    """The API path of a volume: ``/nodes/<node>/storage/<storage>/content/<volid>``."""
    return f"/nodes/testnode/storage/{volid.partition(':')[0]}/content/{volid}"


def set_backup(cli: Cli, volid: str, *options: str) -> None:
    """A backup's notes and protection, as a Proxmox admin sets them (``pvesh set``)."""
    cli.run("pvesh", "set", content_path(volid), *options)


def dump_state(cli: Cli) -> dict[str, tuple[int, int]]:
    """Every file of the local storage with its size and mtime: to show nothing changed."""
    root = cli.home / "storage" / "local"
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def list_json(cli: Cli, *args: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(
        cli.run("pvesm", "list", *args, "--output-format", "json").stdout
    )
    return rows


def test_list_extractconfig_set_free(cli: Cli) -> None:
    archive = make_backup(cli)
    volid = f"local:backup/{archive.name}"
    size = archive.stat().st_size
    stem = archive.name.removesuffix(".vma.zst")
    log = archive.with_name(stem + ".log")
    digest = archive.with_name(archive.name + ".digest.json")
    assert log.is_file() and digest.is_file()

    # list, as a table: images first, then backups, with Proxmox's columns
    lines = cli.run("pvesm", "list", "local").stdout.splitlines()
    assert lines[0].split() == ["Volid", "Format", "Type", "Size", "VMID"]
    assert lines[1].split() == [IMAGE, "qcow2", "images", str(64 << 20), "100"]
    assert lines[2].split() == [volid, "vma.zst", "backup", str(size), "100"]
    assert len(lines) == 3
    lines = cli.run("pvesm", "list", "local", "--content", "backup").stdout.splitlines()
    assert [line.split()[0] for line in lines[1:]] == [volid]
    other_vm = cli.run("pvesm", "list", "local", "--content", "backup", "--vmid", "101").stdout
    assert [line.split() for line in other_vm.splitlines()] == [lines[0].split()]  # header only
    assert [r["volid"] for r in list_json(cli, "local", "--content", "images")] == [IMAGE]

    # list, as JSON: the fields of Proxmox's storage content API
    [row] = list_json(cli, "local", "--content", "backup", "--vmid", "100")
    stamp = datetime.strptime(stem.removeprefix("vzdump-qemu-100-"), "%Y_%m_%d-%H_%M_%S")
    assert row == {  # no nulls, no false: Proxmox leaves them out
        "volid": volid,
        "format": "vma.zst",
        "content": "backup",
        "size": size,
        "used": size,
        "ctime": int(stamp.timestamp()),
        "subtype": "qemu",
        "vmid": 100,
    }

    # extractconfig and path
    config = cli.run("pvesm", "extractconfig", volid).stdout
    assert MAP_LINE in config.splitlines()
    assert "memory: 64" in config.splitlines()
    assert cli.run("pvesm", "extractconfig", str(archive)).stdout == config
    assert Path(cli.run("pvesm", "path", volid).stdout.strip()) == archive

    # notes and protection, then free is refused and nothing goes
    set_backup(cli, volid, "--notes", "before the upgrade\nsecond line", "--protected", "1")
    [row] = list_json(cli, "local", "--content", "backup")
    assert (row["notes"], row["protected"]) == ("before the upgrade", 1)
    notes = archive.with_name(archive.name + ".notes")
    assert notes.read_text() == "before the upgrade\nsecond line"
    assert archive.with_name(archive.name + ".protected").exists()
    before = dump_state(cli)
    assert f"backup '{volid}' is protected" in cli.fails("pvesm", "free", volid)
    assert dump_state(cli) == before

    # unprotected, free removes the archive and every file beside it
    set_backup(cli, volid, "--protected", "0")
    assert not archive.with_name(archive.name + ".protected").exists()
    cli.run("pvesm", "free", volid)
    assert list(archive.parent.iterdir()) == []
    assert [r["volid"] for r in list_json(cli, "local")] == [IMAGE]
    assert f"volume '{volid}' does not exist" in cli.fails("pvesm", "free", volid)
    assert f"volume '{volid}' does not exist" in cli.fails("pvesm", "extractconfig", volid)


def test_bad_input_is_named_and_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    archive = make_backup(cli)
    name = archive.name
    volid = f"local:backup/{name}"
    set_backup(cli, volid, "--notes", "keep me")
    cli.run("pvesm", "add", "dir", "imgs", "--path", str(tmp_path / "imgs"), "--content", "images")
    cfg = cli.home / "config" / "storage.cfg"
    # A storage of a type respaldo does not support (an NFS share in Proxmox).
    cfg.write_text(
        cfg.read_text() + "\nnfs: remote\n\tpath /mnt/pve/remote\n\tserver 192.0.2.1\n"
        "\texport /backups\n\tcontent backup\n"
    )
    before = dump_state(cli)
    cfg_before = cfg.read_text()

    # unknown storage
    for args in (
        ("list", "nope"),
        ("list", "nope", "--content", "backup"),
        ("extractconfig", f"nope:backup/{name}"),
        ("free", f"nope:backup/{name}"),
        ("path", f"nope:backup/{name}"),
    ):
        err = cli.fails("pvesm", *args)
        assert "storage 'nope' does not exist (configured storages: imgs, local, remote)" in err
    err = cli.fails("pvesh", "set", content_path(f"nope:backup/{name}"), "--protected", "1")
    assert "storage 'nope' does not exist (configured storages: imgs, local, remote)" in err

    # a storage of another type
    for args in (
        ("list", "remote", "--content", "backup"),
        ("extractconfig", f"remote:backup/{name}"),
        ("free", f"remote:backup/{name}"),
    ):
        err = cli.fails("pvesm", *args)
        assert "storage 'remote': type 'nfs' is not supported (supported: dir)" in err

    # a volume that is not a backup
    expected = "not a backup volume (expected '<storage>:backup/<file name>')"
    assert f"'{IMAGE}': {expected}" in cli.fails("pvesm", "extractconfig", IMAGE)
    for volume, option in ((IMAGE, "--notes"), ("local:iso/debian.iso", "--protected")):
        err = cli.fails("pvesh", "set", content_path(volume), option, "1")
        assert f"'{volume}': {expected}" in err

    # a file in dump/ that is not a backup archive
    for other in (
        name.removesuffix(".vma.zst") + ".log",
        name + ".notes",
        name + ".digest.json",
        name.removesuffix(".zst") + ".dat",
    ):
        other_volid = f"local:backup/{other}"
        expected = f"'{other_volid}': not a backup archive name (expected backup/vzdump-"
        for args in (
            ("extractconfig", other_volid),
            ("free", other_volid),
            ("path", other_volid),
        ):
            assert expected in cli.fails("pvesm", *args)
        assert expected in cli.fails("pvesh", "set", content_path(other_volid), "--protected", "1")

    # a storage that does not hold backups, and a set with nothing to set
    err = cli.fails("pvesm", "list", "imgs", "--content", "backup")
    assert "invalid value for storage 'imgs': does not hold backups (content: images)" in err
    assert "nothing to change" in cli.fails("pvesh", "set", content_path(volid))
    err = cli.fails("pvesh", "set", content_path(volid), "--protected", "2")
    assert "invalid value for protected '2': expected a boolean" in err
    assert f"can't find file '{name}'" in cli.fails("pvesm", "extractconfig", name)  # a path
    # pvesm set is for storages, as in Proxmox, and says where a backup's notes are set
    err = cli.fails("pvesm", "set", volid, "--notes", "x")
    assert f"respaldo pvesh set {content_path(volid)} --notes" in err

    assert dump_state(cli) == before
    assert cfg.read_text() == cfg_before
    [row] = list_json(cli, "local", "--content", "backup")
    assert (row["volid"], row["notes"], row.get("protected")) == (volid, "keep me", None)
