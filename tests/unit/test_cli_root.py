"""The commands that act as root@pam refuse other system users before they touch anything,
as Proxmox's CLIs do ("please run as root"), but on a node whose data dir is the user's own;
``vma`` does not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from respaldo.cli import main as cli

REFUSED = [
    ("qm", "list"),
    ("qm", "create", "100", "--memory", "64"),
    ("pvesm", "status"),
    ("pvesm", "add", "dir", "extra", "--path", "/tmp/extra"),
    ("vzdump", "100"),
    ("qmrestore", "/tmp/vzdump-qemu-100-2025_01_01-00_00_00.vma", "100"),
    ("pveum", "user", "add", "joe@pve"),
    ("job", "list"),
    ("job", "create", "nightly", "--schedule", "21:00", "--all", "1"),
    ("notification", "targets"),
    ("notification", "matcher", "create", "all", "--target", "x"),
    ("pvesh", "get", "/nodes"),
]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "data"
    monkeypatch.setenv("RESPALDO_HOME", str(home))
    monkeypatch.setattr(cli, "geteuid", lambda: 1000)
    return home


@pytest.mark.parametrize("argv", REFUSED, ids=" ".join)
def test_refused_to_another_user(
    home: Path, argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(list(argv)) == cli.EXIT_USER_ERROR
    out, err = capsys.readouterr()
    assert out == ""
    assert f"please run as root: '{argv[0]}' acts as root@pam, and uid 1000 is not root" in err
    assert f"nor the owner of the node's data dir {home}" in err
    assert not home.exists()  # nothing read, nothing made


def test_a_user_runs_them_on_a_node_of_their_own(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A data dir of the user's (``~/.local/share/respaldo``): the user is that node's root."""
    home.mkdir()
    os.chown(home, 1000, 1000)  # the tests run as root
    assert cli.main(["pvesm", "status", "--output-format", "json"]) == 0
    assert "local" in capsys.readouterr().out


def test_every_command_is_either_root_only_or_open() -> None:
    assert set(cli.AS_ROOT) | {"vma", "server"} == set(cli.COMMANDS)
    assert {argv[0] for argv in REFUSED} == set(cli.AS_ROOT)


def test_vma_is_for_anyone(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["vma", "list", str(home / "missing.vma")]) == cli.EXIT_USER_ERROR
    assert "please run as root" not in capsys.readouterr().err
