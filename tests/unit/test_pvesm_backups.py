"""Backups as storage volumes: list, extractconfig, set, free and path through the pvesm service.

Archives are written with the project's VMA writer and compressors into a temporary node's
``local`` storage; no QEMU is needed (the CLI test runs ``respaldo`` in a subprocess). The
service tests run twice: with the backups as files in ``dump/`` and kept in memory (see
``tests/unit/conftest.py``); the CLI and ``pvesm path`` need files.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import pytest

from respaldo.archive.compress import Compression, open_reader, open_writer
from respaldo.archive.vma import CLUSTER_SIZE, VmaReader, VmaWriter
from respaldo.errors import (
    ArchiveError,
    ConflictError,
    InputError,
    NoSuchStorage,
    NoSuchVolume,
    RespaldoError,
    StorageError,
)
from respaldo.node import Node
from respaldo.services.pvesm import StorageManager
from respaldo.storage.base import VolumeInfo
from respaldo.storage.registry import StorageRegistry
from tests.unit.conftest import Backend, Dump

MIB = 1 << 20
CONFIG = (
    "name: web\n"
    "memory: 64\n"
    "virtio0: local:100/vm-100-disk-0.qcow2,size=1M\n"
    "#qmdump#map:virtio0:drive-virtio0:local:qcow2:\n"
)
OLD = "vzdump-qemu-100-2024_05_20-18_11_48.vma.zst"
NEW = "vzdump-qemu-100-2024_06_01-09_00_00.vma"
OTHER_VM = "vzdump-qemu-200-2024_05_25-12_00_00.vma.gz"
#: Non-standard, but a backup name: listed, with the VMID Proxmox finds in it and the mtime.
CUSTOM = "vzdump-qemu-100-before-upgrade.vma.lzo"
#: A 64 KiB cluster whose 4 KiB blocks are all non-zero, so the writer stores every byte.
PATTERN = bytes(range(1, 256)) * 257 + b"\x01"
assert len(PATTERN) == CLUSTER_SIZE


def fill_archive(
    out: BinaryIO,
    compression: Compression = Compression.ZSTD,
    size: int = MIB,
    config: str = CONFIG,
    random_data: bool = False,
) -> None:
    """A complete VMA archive with one device of ``size`` bytes holding data everywhere."""
    assert size % CLUSTER_SIZE == 0
    with open_writer(out, compression) as stream:
        writer = VmaWriter(stream, {"qemu-server.conf": config.encode()}, [("drive-virtio0", size)])
        for cluster in range(size // CLUSTER_SIZE):
            data = os.urandom(CLUSTER_SIZE) if random_data else PATTERN
            writer.write_cluster(1, cluster, data)
        writer.close()


def write_archive(
    dump: Dump,
    name: str,
    compression: Compression = Compression.ZSTD,
    size: int = MIB,
    random_data: bool = False,
) -> None:
    dump.write_with(name, lambda out: fill_archive(out, compression, size, CONFIG, random_data))


@pytest.fixture
def node(tmp_path: Path) -> Node:
    return Node(tmp_path / "n", "testnode")


@pytest.fixture
def mgr(node: Node, backend: Backend) -> StorageManager:
    """The service, its storages' backups in files or in memory."""
    return StorageManager(node, StorageRegistry(node, backend.store))


@pytest.fixture
def dump(node: Node, backend: Backend) -> Dump:
    """The backups of storage 'local'."""
    folder = node.default_storage_path / "dump"
    folder.mkdir(parents=True)
    return backend.dump("local", folder)


def seed_backups(dump: Dump) -> Dump:
    """Four backups and the files that are never listed as backups."""
    write_archive(dump, OLD, Compression.ZSTD)
    write_archive(dump, NEW, Compression.NONE)
    write_archive(dump, OTHER_VM, Compression.GZIP)
    write_archive(dump, CUSTOM, Compression.LZO)
    dump.set_mtime(CUSTOM, 1_700_000_000)  # 2023-11-14: the oldest
    dump.write("vzdump-qemu-100-2024_05_20-18_11_48.log", b"log\n")
    dump.write(f"{OLD}.notes", b"first line\nsecond line\n")
    dump.write(f"{OLD}.protected", b"")
    dump.write(f"{OLD}.digest.json", b"{}")
    dump.write("vzdump-qemu-100-2024_06_02-00_00_00.vma.dat", b"partial")
    dump.write("vzdump-qemu-100-2024_06_02-00_00_00.dat", b"partial")
    dump.write("README.txt", b"not a backup")
    dump.write("vzdump-qemu-100-2024_06_03-00_00_00.vma.zst.tmp", b"x")
    return dump


@pytest.fixture
def backups(dump: Dump) -> Dump:
    return seed_backups(dump)


@pytest.fixture
def dir_mgr(node: Node) -> StorageManager:
    """The service with the backups as files (the CLI in a subprocess reads those)."""
    (node.default_storage_path / "dump").mkdir(parents=True)
    return StorageManager(node)


@pytest.fixture
def dir_backups(node: Node, dir_mgr: StorageManager) -> Path:
    """The backups of :func:`backups`, as files; returns the dump folder."""
    folder = node.default_storage_path / "dump"
    seed_backups(Backend("dir").dump("local", folder))
    return folder


def stamp(text: str) -> int:
    return int(datetime.strptime(text, "%Y_%m_%d-%H_%M_%S").timestamp())


# -- list -------------------------------------------------------------------------------------


def test_list_backups_by_volid_with_all_fields(mgr: StorageManager, backups: Dump) -> None:
    listed = mgr.list("local", "backup")
    # sorted by volume id, as pve-storage volume_list sorts them: oldest first per guest
    assert [v.volid for v in listed] == [
        f"local:backup/{OLD}",
        f"local:backup/{NEW}",
        f"local:backup/{CUSTOM}",
        f"local:backup/{OTHER_VM}",
    ]
    old, new, custom, other = listed
    assert old == VolumeInfo(
        volid=f"local:backup/{OLD}",
        format="vma.zst",
        content="backup",
        size=backups.size(OLD),
        vmid=100,
        used=backups.size(OLD),
        ctime=stamp("2024_05_20-18_11_48"),
        notes="first line",
        protected=True,
        subtype="qemu",
    )
    assert (new.format, new.vmid, new.ctime, new.notes, new.protected) == (
        "vma",
        100,
        stamp("2024_06_01-09_00_00"),
        None,
        False,
    )
    assert (other.format, other.vmid, other.subtype) == ("vma.gz", 200, "qemu")
    assert (custom.format, custom.vmid, custom.ctime) == ("vma.lzo", 100, 1_700_000_000)


def test_list_filters_by_vmid(mgr: StorageManager, backups: Dump) -> None:
    assert [v.volid for v in mgr.list("local", "backup", 100)] == [
        f"local:backup/{OLD}",
        f"local:backup/{NEW}",
        f"local:backup/{CUSTOM}",
    ]
    assert [v.volid for v in mgr.list("local", "backup", 200)] == [f"local:backup/{OTHER_VM}"]
    assert mgr.list("local", "backup", 300) == []
    with pytest.raises(InputError, match="vmid"):
        mgr.list("local", "backup", 99)


def test_list_without_content_has_the_backups(mgr: StorageManager, backups: Dump) -> None:
    # Images before backups needs qemu-img for their sizes: see the integration tests.
    assert [v.content for v in mgr.list("local")] == ["backup"] * 4
    assert mgr.list("local", "images") == []
    assert mgr.list("local", "iso") == []


def test_sidecars_and_partial_files_are_never_listed(mgr: StorageManager, dump: Dump) -> None:
    write_archive(dump, OLD)
    for name in (
        "vzdump-qemu-100-2024_05_20-18_11_48.log",
        f"{OLD}.notes",
        f"{OLD}.protected",
        f"{OLD}.digest.json",
        "vzdump-qemu-100-2024_06_02-00_00_00.vma.dat",
        "vzdump-qemu-100-2024_06_02-00_00_00.dat",
        "vzdump-qemu-100-2024_06_03-00_00_00.vma.zst.tmp",
        "vzdump-qemu-100-2024_06_03-00_00_00.raw",
    ):
        dump.write(name, b"x")
    assert [v.volid for v in mgr.list("local")] == [f"local:backup/{OLD}"]


def test_a_folder_is_no_backup(dir_mgr: StorageManager, node: Node) -> None:
    folder = node.default_storage_path / "dump"
    write_archive(Backend("dir").dump("local", folder), OLD)
    (folder / "vzdump-qemu-100-2024_06_04-00_00_00.vma").mkdir()
    assert [v.volid for v in dir_mgr.list("local")] == [f"local:backup/{OLD}"]


def test_storage_without_backup_content(
    mgr: StorageManager, backend: Backend, tmp_path: Path
) -> None:
    mgr.add("imgs", "dir", {"path": str(tmp_path / "imgs"), "content": "images"})
    write_archive(backend.dump("imgs", tmp_path / "imgs" / "dump"), OLD)
    assert mgr.list("imgs") == []
    with pytest.raises(InputError) as err:
        mgr.list("imgs", "backup")
    assert "'imgs'" in str(err.value)
    assert "does not hold backups (content: images)" in str(err.value)


def test_list_bad_input(mgr: StorageManager, backups: Dump) -> None:
    with pytest.raises(NoSuchStorage, match=r"storage 'nope' does not exist.*local"):
        mgr.list("nope", "backup")
    with pytest.raises(InputError, match=r"content 'backups'.*expected one of.*backup"):
        mgr.list("local", "backups")


def test_existing_volume_info_callers_still_work() -> None:
    info = VolumeInfo("local:100/vm-100-disk-0.qcow2", "qcow2", "images", 1 << 30, 100)
    assert (info.used, info.ctime, info.notes, info.protected, info.subtype) == (
        0,
        None,
        None,
        False,
        None,
    )


# -- extractconfig ----------------------------------------------------------------------------


@pytest.mark.parametrize("compression", list(Compression))
def test_extractconfig_every_compression(
    mgr: StorageManager, dump: Dump, compression: Compression
) -> None:
    name = f"vzdump-qemu-100-2024_05_20-18_11_48.vma{compression.extension}"
    write_archive(dump, name, compression)
    assert mgr.extract_config(f"local:backup/{name}") == CONFIG


def test_extractconfig_detects_compression_from_content(mgr: StorageManager, dump: Dump) -> None:
    # A zstd archive under an uncompressed name (a user renamed it) still works.
    write_archive(dump, NEW, Compression.ZSTD)
    assert mgr.extract_config(f"local:backup/{NEW}") == CONFIG


def test_extractconfig_of_a_path(mgr: StorageManager, tmp_path: Path) -> None:
    archive = tmp_path / "copy.vma.zst"
    with archive.open("wb") as out:
        fill_archive(out)
    assert mgr.extract_config(str(archive)) == CONFIG


@pytest.mark.parametrize("compression", [Compression.NONE, Compression.ZSTD])
def test_extractconfig_of_a_big_archive_reads_only_the_header(
    mgr: StorageManager, dump: Dump, compression: Compression
) -> None:
    name = f"vzdump-qemu-100-2024_05_20-18_11_48.vma{compression.extension}"
    write_archive(dump, name, compression, size=210 * MIB)
    if compression is Compression.NONE:
        assert dump.size(name) > 210 * MIB
    # That only the header is read is shown by the truncated archive below; speed is a
    # benchmark's business, not a test's.
    assert mgr.extract_config(f"local:backup/{name}") == CONFIG


def test_extractconfig_of_an_archive_truncated_after_the_header(
    mgr: StorageManager, dump: Dump
) -> None:
    """Reading the whole archive fails (truncated), so extractconfig cannot have done so."""
    write_archive(dump, "whole.vma.zst", Compression.ZSTD, 8 * MIB, random_data=True)
    dump.write(OLD, dump.read("whole.vma.zst")[: 1 * MIB])
    dump.unlink("whole.vma.zst")
    with (
        pytest.raises(ArchiveError, match="truncated"),
        open_reader(io.BytesIO(dump.read(OLD)), OLD) as stream,
    ):
        VmaReader(stream).verify()
    assert mgr.extract_config(f"local:backup/{OLD}") == CONFIG


def test_extractconfig_bad_input(mgr: StorageManager, dump: Dump, tmp_path: Path) -> None:
    write_archive(dump, OLD)
    before = dump.snapshot()
    with pytest.raises(NoSuchStorage, match="storage 'nope' does not exist"):
        mgr.extract_config(f"nope:backup/{OLD}")
    with pytest.raises(InputError) as err:
        mgr.extract_config("local:100/vm-100-disk-0.qcow2")
    assert "'local:100/vm-100-disk-0.qcow2'" in str(err.value)
    assert "<storage>:backup/<file name>" in str(err.value)
    with pytest.raises(InputError, match=r"'local:backup/notes.txt'.*not a backup archive name"):
        mgr.extract_config("local:backup/notes.txt")
    with pytest.raises(InputError, match="not a backup archive name"):
        mgr.extract_config(f"local:backup/{OLD}.notes")
    with pytest.raises(InputError, match=f"can't find file '{OLD}'"):
        mgr.extract_config(OLD)  # a bare name is a path, as in Proxmox
    with pytest.raises(NoSuchVolume, match=f"'local:backup/{NEW}' does not exist"):
        mgr.extract_config(f"local:backup/{NEW}")
    with pytest.raises(InputError, match="can't find file"):
        mgr.extract_config(str(tmp_path / "missing.vma"))
    tar = "vzdump-lxc-101-2024_05_20-18_11_48.tar.zst"
    dump.write(tar, b"tar")
    with pytest.raises(InputError, match=r"a lxc tar\.zst archive; extractconfig reads the VMA"):
        mgr.extract_config(f"local:backup/{tar}")
    dump.unlink(tar)
    assert dump.snapshot() == before


def test_extractconfig_of_a_damaged_archive_names_it(mgr: StorageManager, dump: Dump) -> None:
    dump.write(NEW, b"this is not an archive" * 1000)
    with pytest.raises(ArchiveError) as err:
        mgr.extract_config(f"local:backup/{NEW}")
    assert f"'local:backup/{NEW}'" in str(err.value)
    assert "not a VMA archive" in str(err.value)
    dump.write(OLD, b"")
    with pytest.raises(ArchiveError, match="empty"):
        mgr.extract_config(f"local:backup/{OLD}")


# -- set --------------------------------------------------------------------------------------


def test_set_notes_and_protection(mgr: StorageManager, dump: Dump) -> None:
    write_archive(dump, NEW)
    volid = f"local:backup/{NEW}"
    row = mgr.set_backup(volid, notes="before the upgrade\nsecond line")
    assert (row.notes, row.protected) == ("before the upgrade", False)
    assert dump.read(f"{NEW}.notes").decode() == "before the upgrade\nsecond line"
    row = mgr.set_backup(volid, protected=True)
    assert (row.notes, row.protected) == ("before the upgrade", True)
    assert dump.exists(f"{NEW}.protected")
    assert mgr.backup(volid) == row
    row = mgr.set_backup(volid, notes="", protected=False)
    assert (row.notes, row.protected) == (None, False)
    assert dump.names() == [NEW]


def test_set_bad_input_changes_nothing(mgr: StorageManager, dump: Dump) -> None:
    write_archive(dump, NEW)
    volid = f"local:backup/{NEW}"
    before = dump.snapshot()
    with pytest.raises(InputError, match="nothing to change"):
        mgr.set_backup(volid)
    with pytest.raises(InputError, match="not a backup volume"):
        mgr.set_backup("local:100/vm-100-disk-0.qcow2", notes="x")
    with pytest.raises(InputError, match="not a backup volume"):
        mgr.set_backup("local:iso/debian.iso", protected=True)
    with pytest.raises(InputError, match="not a backup archive name"):
        mgr.set_backup("local:backup/disk.qcow2", notes="x")
    with pytest.raises(InputError, match="expected 'backup/<file name>'"):
        mgr.set_backup(f"local:backup/../{NEW}", notes="x")
    with pytest.raises(NoSuchStorage):
        mgr.set_backup(f"nope:backup/{NEW}", notes="x")
    with pytest.raises(NoSuchVolume):
        mgr.set_backup(f"local:backup/{OLD}", notes="x", protected=True)
    assert dump.snapshot() == before


# -- free -------------------------------------------------------------------------------------


def test_free_removes_the_archive_and_its_side_files(mgr: StorageManager, backups: Dump) -> None:
    volid = f"local:backup/{OLD}"
    with pytest.raises(ConflictError, match=f"backup '{volid}' is protected"):
        mgr.free(volid)
    assert backups.exists(OLD)
    mgr.set_backup(volid, protected=False)
    before = set(backups.names())
    mgr.free(volid)
    gone = {
        OLD,
        "vzdump-qemu-100-2024_05_20-18_11_48.log",
        f"{OLD}.notes",
        f"{OLD}.digest.json",
    }
    assert set(backups.names()) == before - gone
    assert f"local:backup/{OLD}" not in [v.volid for v in mgr.list("local")]
    with pytest.raises(NoSuchVolume, match=f"'{volid}' does not exist"):
        mgr.free(volid)


def test_free_bad_input_changes_nothing(mgr: StorageManager, backups: Dump) -> None:
    before = backups.snapshot()
    with pytest.raises(NoSuchStorage):
        mgr.free(f"nope:backup/{NEW}")
    with pytest.raises(InputError, match="not a backup archive name"):
        mgr.free("local:backup/README.txt")
    with pytest.raises(InputError, match="not a backup archive name"):
        mgr.free("local:backup/vzdump-qemu-100-2024_06_02-00_00_00.vma.dat")
    with pytest.raises(InputError, match="not a backup archive name"):
        mgr.free(f"local:backup/{OLD}.notes")
    with pytest.raises(NoSuchVolume):
        mgr.free("local:backup/vzdump-qemu-100-2024_06_02-00_00_00.vma.zst")
    assert backups.snapshot() == before


def test_backups_stay_usable_when_backup_leaves_the_content(
    mgr: StorageManager, backend: Backend, tmp_path: Path
) -> None:
    """As in Proxmox: a backup named by its volid can still be read, changed and removed."""
    mgr.add("imgs", "dir", {"path": str(tmp_path / "imgs"), "content": "images"})
    imgs = backend.dump("imgs", tmp_path / "imgs" / "dump")
    write_archive(imgs, OLD)
    volid = f"imgs:backup/{OLD}"
    assert mgr.extract_config(volid) == CONFIG
    assert mgr.set_backup(volid, notes="kept").notes == "kept"
    mgr.free(volid)
    assert imgs.names() == []


# -- path -------------------------------------------------------------------------------------


def test_path_of_a_backup(dir_mgr: StorageManager, node: Node, dir_backups: Path) -> None:
    assert dir_mgr.path(f"local:backup/{NEW}") == node.default_storage_path / "dump" / NEW
    with pytest.raises(InputError, match="not a backup archive name"):
        dir_mgr.path("local:backup/README.txt")


def test_a_backup_kept_in_memory_has_no_path(node: Node) -> None:
    mgr = StorageManager(node, StorageRegistry(node, Backend("memory").store))
    with pytest.raises(StorageError, match="not kept as files"):
        mgr.path(f"local:backup/{NEW}")


# -- the CLI, in a subprocess (no QEMU needed) -------------------------------------------------


def run_cli(node: Node, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RESPALDO_HOME=str(node.home), RESPALDO_NODE=node.name)
    return subprocess.run(
        [sys.executable, "-m", "respaldo.cli.main", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_cli_list_extractconfig_pvesh_set_free(node: Node, dir_backups: Path) -> None:
    backups = dir_backups
    proc = run_cli(node, "pvesm", "list", "local")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["Volid", "Format", "Type", "Size", "VMID"]
    size = (backups / NEW).stat().st_size
    assert lines[2].split() == [f"local:backup/{NEW}", "vma", "backup", str(size), "100"]
    assert len(lines) == 5

    proc = run_cli(node, "pvesm", "list", "local", "--vmid", "200", "--output-format", "json")
    assert proc.returncode == 0, proc.stderr
    [row] = json.loads(proc.stdout)
    # the storage content API's row: no nulls, protected only when set
    info = StorageManager(node).backup(f"local:backup/{OTHER_VM}")
    assert row == {
        "volid": info.volid,
        "format": "vma.gz",
        "content": "backup",
        "size": info.size,
        "used": info.size,
        "ctime": info.ctime,
        "subtype": "qemu",
        "vmid": 200,
    }

    proc = run_cli(node, "pvesm", "extractconfig", f"local:backup/{NEW}")
    assert (proc.returncode, proc.stdout) == (0, CONFIG)

    volid = f"local:backup/{NEW}"
    content = f"/nodes/{node.name}/storage/local/content/{volid}"
    proc = run_cli(node, "pvesh", "set", content)
    assert proc.returncode == 2 and "nothing to change" in proc.stderr
    proc = run_cli(node, "pvesh", "set", content, "--protected", "maybe")
    assert proc.returncode == 2 and "invalid value for protected 'maybe'" in proc.stderr
    proc = run_cli(node, "pvesh", "set", content, "--notes", "n", "--protected", "1")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli(node, "pvesm", "free", volid)
    assert proc.returncode == 2 and f"backup '{volid}' is protected" in proc.stderr
    assert run_cli(node, "pvesh", "set", content, "--protected", "0").returncode == 0
    assert run_cli(node, "pvesm", "free", volid).returncode == 0
    assert not (backups / NEW).exists()
    assert not (backups / f"{NEW}.notes").exists()


def test_errors_are_user_errors(mgr: StorageManager, backups: Dump) -> None:
    with pytest.raises(RespaldoError) as err:
        mgr.free(f"local:backup/{OLD}")
    assert err.value.user_error
