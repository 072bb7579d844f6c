"""``respaldo pvesh``: the API's methods from the shell, as root@pam, as Proxmox's pvesh."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from respaldo.cli import pvesh
from respaldo.cli.main import main

ARCHIVE = "vzdump-qemu-100-2024_05_20-18_11_48.vma.zst"
VOLID = f"local:backup/{ARCHIVE}"
CONTENT = f"/nodes/pve1/storage/local/content/{VOLID}"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("RESPALDO_HOME", str(home))
    monkeypatch.setenv("RESPALDO_NODE", "pve1")
    dump = home / "storage" / "local" / "dump"
    dump.mkdir(parents=True)
    (dump / ARCHIVE).write_bytes(b"\0" * 512)
    return home


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["pvesh", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_set_and_get_a_backups_notes_and_protection(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "set", CONTENT, "--notes", "before upgrade", "--protected")[0] == 0
    dump = home / "storage" / "local" / "dump"
    assert (dump / f"{ARCHIVE}.notes").read_text() == "before upgrade"
    assert (dump / f"{ARCHIVE}.protected").exists()
    _, out, _ = run(capsys, "get", CONTENT, "--output-format", "json")
    info = json.loads(out)
    assert (info["notes"], info["protected"], info["format"]) == ("before upgrade", 1, "vma.zst")
    # a volume name on the path's storage works as in Proxmox's API
    assert (
        run(
            capsys, "set", f"/nodes/pve1/storage/local/content/backup/{ARCHIVE}", "-protected", "0"
        )[0]
        == 0
    )
    assert not (dump / f"{ARCHIVE}.protected").exists()
    _, out, _ = run(capsys, "get", CONTENT)
    assert out.splitlines()[0].split() == ["key", "value"]
    assert ["notes", "before", "upgrade"] in [line.split() for line in out.splitlines()]


def test_lists_and_tasks_print_as_proxmoxs(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "get", "/nodes/pve1/storage/local/content", "--output-format", "json")
    assert [row["volid"] for row in json.loads(out)] == [VOLID]
    _, out, _ = run(capsys, "ls", "/nodes/pve1/storage/local")
    assert "Dr-c-        content" in out.splitlines()
    _, out, _ = run(capsys, "get", "/version")
    assert "version" in out


def test_bad_paths_options_and_users(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(capsys, "get", "/nodes/pve1/nothing")
    assert code == 2 and "No 'get' handler defined for '/nodes/pve1/nothing'" in err
    code, _, err = run(capsys, "get", "/nodes/pve2/storage")
    assert code == 2 and "no such cluster node (this node is 'pve1')" in err
    code, _, err = run(capsys, "set", CONTENT, "--colour", "red")
    assert code == 2 and "unknown option" in err and "notes" in err
    code, _, err = run(capsys, "set", CONTENT, "--protected", "maybe")
    assert code == 2 and "expected a boolean" in err
    monkeypatch.setattr(pvesh, "geteuid", lambda: 1000)
    code, _, err = run(capsys, "get", "/version")
    assert code == 2 and "please run as root" in err
