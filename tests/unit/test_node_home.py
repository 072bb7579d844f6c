"""The node's data directory does not depend on the directory a command runs from."""

from __future__ import annotations

from pathlib import Path

import pytest

from respaldo.node import Node


def test_root_uses_var_lib_respaldo_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RESPALDO_HOME", raising=False)
    monkeypatch.setattr("respaldo.node.os.geteuid", lambda: 0)
    homes = set()
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        monkeypatch.chdir(tmp_path / folder)
        homes.add(Node.from_env().home)
    assert homes == {Path("/var/lib/respaldo")}


def test_another_user_uses_xdg_data_home_or_local_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RESPALDO_HOME", raising=False)
    monkeypatch.setattr("respaldo.node.os.geteuid", lambda: 1000)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", "/srv/data")
    assert Node.from_env().home == Path("/srv/data/respaldo")
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", "/home/ada")
    assert Node.from_env().home == Path("/home/ada/.local/share/respaldo")


def test_respaldo_home_moves_the_node_and_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RESPALDO_HOME", "nodes/one")
    assert Node.from_env().home == tmp_path / "nodes" / "one"
