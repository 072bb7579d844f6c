"""One node wherever a command runs (issue 10, part 4): the CLI from any directory finds the
same data directory and creates nothing where it is run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(120)]  # qm create asks QEMU its version

NOBODY = 65534


@pytest.fixture
def place() -> Iterator[Path]:
    """A folder the unprivileged user can reach (pytest's tmp_path is root's, mode 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="respaldo-home-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def _respaldo(cwd: Path, env: dict[str, str], *args: str) -> str:
    """The CLI as an unprivileged user (as root it would use /var/lib/respaldo)."""
    root = os.geteuid() == 0
    proc = subprocess.run(
        [sys.executable, "-m", "respaldo.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        user=NOBODY if root else None,
        group=NOBODY if root else None,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_cli_finds_the_same_node_from_any_directory(place: Path) -> None:
    folders = {name: place / name for name in ("home", "data", "a", "b")}
    for folder in folders.values():
        folder.mkdir()
        if os.geteuid() == 0:
            os.chown(folder, NOBODY, NOBODY)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(folders["home"]),
        "XDG_DATA_HOME": str(folders["data"]),
        "RESPALDO_ACCEL": "tcg",
    }
    _respaldo(folders["a"], env, "qm", "create", "100", "--memory", "64")
    assert "100" in _respaldo(folders["b"], env, "qm", "list")
    assert "status: stopped" in _respaldo(folders["b"], env, "qm", "status", "100")
    assert "local" in _respaldo(folders["b"], env, "pvesm", "status")
    # nothing where the commands ran; the node is $XDG_DATA_HOME/respaldo
    assert not list(folders["a"].iterdir()) and not list(folders["b"].iterdir())
    node = folders["data"] / "respaldo"
    assert (node / "config" / "qemu-server" / "100.conf").is_file()
    assert (node / "storage" / "local" / "images").is_dir()
