"""``pvesm add``, ``pvesm set <storage>`` and ``pvesm status`` as Proxmox's (pve-storage
``PVE/CLI/pvesm.pm``, ``PVE/API2/Storage/Config.pm``, ``DirPlugin.pm``), through the CLI's
``main`` in this process."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from respaldo.cli.main import main
from respaldo.node import Node
from respaldo.storage.registry import StorageRegistry

STATUS_HEADER = (
    "Name         Type     Status     Total (KiB)      Used (KiB) Available (KiB)        %"
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RESPALDO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RESPALDO_NODE", "pve1")
    return tmp_path / "home"


def pvesm(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["pvesm", *args])
    out, err = capsys.readouterr()
    return code, out, err


def section(home: Path, storage: str) -> str:
    text = (home / "config" / "storage.cfg").read_text()
    return next(s for s in text.split("\n\n") if s.startswith(f"dir: {storage}\n"))


def test_add_takes_proxmoxs_options_and_writes_them_as_proxmox(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fast"
    args = ["add", "dir", "fast", "--path", f"{path}/", "--shared", "--mkdir", "yes"]
    args += ["--prune-backups", "keep-weekly=2,keep-last=3", "--max-protected-backups", "4"]
    assert pvesm(capsys, *args)[0] == 0
    # content defaults to images,rootdir for a dir storage; booleans as 1; a canonical path
    assert section(home, "fast").splitlines() == [
        "dir: fast",
        f"\tpath {path}",
        "\tshared 1",
        "\tmkdir 1",
        "\tprune-backups keep-last=3,keep-weekly=2",
        "\tmax-protected-backups 4",
        "\tcontent images,rootdir",
    ]
    storage = StorageRegistry(Node.from_env()).get("fast")
    assert storage.content == ("images", "rootdir") and storage.shared
    assert storage.max_protected_backups == 4
    assert (path / "images").is_dir()  # activated at once


def test_set_changes_a_storage(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pvesm(capsys, "add", "dir", "fast", "--path", str(tmp_path / "fast"), "--shared", "1")
    assert pvesm(capsys, "set", "fast", "--content", "images,backup,iso", "--disable")[0] == 0
    assert "\tcontent images,backup,iso" in section(home, "fast")
    assert "\tdisable 1" in section(home, "fast")
    assert pvesm(capsys, "set", "fast", "--delete", "disable,shared")[0] == 0
    assert "disable" not in section(home, "fast") and "shared" not in section(home, "fast")
    before = (home / "config" / "storage.cfg").read_text()
    for args, message in (
        (["--path", "/elsewhere"], "unknown option"),  # path is fixed
        (["--delete", "path"], "unable to delete required option 'path'"),
        (["--shared", "1", "--delete", "shared"], "cannot set and delete property 'shared'"),
        (["--delete", "colour"], "no such option 'colour'"),
        (["--digest", "0" * 40, "--shared", "1"], "detected modified configuration"),
        (["--max-protected-backups", "-2"], "value must have a minimum value of -1"),
    ):
        code, _, err = pvesm(capsys, "set", "fast", *args)
        assert code == 2 and message in err, err
    assert (home / "config" / "storage.cfg").read_text() == before
    digest = StorageRegistry(Node.from_env()).digest()
    assert pvesm(capsys, "set", "fast", "--digest", digest, "--shared", "1")[0] == 0


def test_set_of_a_backup_points_to_pvesh(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    volid = "local:backup/vzdump-qemu-100-2024_05_20-18_11_48.vma.zst"
    code, _, err = pvesm(capsys, "set", volid, "--notes", "x")
    assert code == 2
    path = f"/nodes/pve1/storage/local/content/{volid}"
    assert f"respaldo pvesh set {path} --notes <text> --protected 1" in err


def test_status_in_proxmoxs_columns_and_json(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pvesm(capsys, "add", "dir", "zfast", "--path", str(tmp_path / "z"), "--content", "backup")
    pvesm(capsys, "add", "dir", "afast", "--path", str(tmp_path / "a"), "--disable")
    _, out, _ = pvesm(capsys, "status")
    lines = out.splitlines()
    # sorted by name; the name column one wider than the longest name
    assert lines[0] == STATUS_HEADER
    assert [line.split()[0] for line in lines[1:]] == ["afast", "local", "zfast"]
    assert (
        lines[1]
        == "afast         dir   disabled               0               0               0      N/A"
    )
    assert re.fullmatch(
        r"local {9}dir {5}active [ \d]{15} [ \d]{15} [ \d]{15} [ \d]{4}\.\d\d%", lines[2]
    )
    rows = json.loads(pvesm(capsys, "status", "--output-format", "json")[1])
    assert [r["storage"] for r in rows] == ["afast", "local", "zfast"]
    afast, local, zfast = rows
    assert (afast["enabled"], afast["active"]) == (0, 0)
    assert (local["enabled"], local["active"], local["shared"]) == (1, 1, 0)
    assert zfast["content"] == "backup" and "available" not in zfast and zfast["avail"] > 0
    assert isinstance(local["used_fraction"], float)


def test_is_mountpoint_and_mkdir_as_proxmox(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "plain").mkdir()
    code, _, err = pvesm(
        capsys, "add", "dir", "usb", "--path", str(tmp_path / "plain"), "--is_mountpoint", "yes"
    )
    assert code == 1
    assert (
        "unable to activate storage 'usb' - directory is expected to be a mount point but is "
        f"not mounted: '{tmp_path / 'plain'}'"
    ) in err
    missing = tmp_path / "missing"
    code, _, err = pvesm(
        capsys, "add", "dir", "nodir", "--path", str(missing), "--create-base-path", "0"
    )
    assert code == 1 and f"directory '{missing}' does not exist or is unreachable" in err
    assert not missing.exists()
    assert not (home / "config" / "storage.cfg").exists()  # nothing written
