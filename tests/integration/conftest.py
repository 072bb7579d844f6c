"""Integration tier: real qemu-system-x86_64 and qemu-img in a temporary node data dir.

Every QEMU a test starts is found through the pid files of its data dir and killed at teardown,
whether the test passed or not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from respaldo.guestimage.build import GuestImage, build_guest, default_cache_dir
from tests.qemus import kill_qemus

pytestmark = pytest.mark.qemu


@dataclass
class Running:
    proc: subprocess.Popen[str]

    def finish(self, timeout: float = 150) -> tuple[int, str]:
        """Wait for the command; its exit code and its output (stdout and stderr)."""
        out, _ = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out


@dataclass
class Cli:
    home: Path
    env: dict[str, str]

    def run(
        self, *args: str, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "respaldo.cli.main", *args],
            env=self.env,
            text=True,
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"respaldo {' '.join(args)} failed ({proc.returncode}): {proc.stderr}"
            )
        return proc

    @contextmanager
    def background(self, *args: str) -> Iterator[Running]:
        """``respaldo <args>`` running while the test acts; killed at the end if still alive."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "respaldo.cli.main", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            yield Running(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def fails(self, *args: str) -> str:
        proc = self.run(*args, check=False)
        assert proc.returncode != 0, f"respaldo {' '.join(args)} should have failed"
        assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr  # a named error
        return proc.stderr


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    if shutil.which("qemu-system-x86_64") is None:
        pytest.fail("qemu-system-x86_64 is not installed: run scripts/setup first")
    home = tmp_path / "n"
    env = dict(os.environ, RESPALDO_HOME=str(home), RESPALDO_ACCEL="tcg", RESPALDO_NODE="testnode")
    try:
        yield Cli(home, env)
    finally:
        kill_qemus(home)


@pytest.fixture(scope="session")
def guest_image(request: pytest.FixtureRequest) -> GuestImage:
    """The test guest, built once from Debian packages and cached between runs."""
    env = os.environ.get("RESPALDO_GUEST_CACHE")
    if env:
        cache = Path(env)
    elif getattr(request.config, "cache", None) is not None:
        cache = request.config.cache.mkdir("respaldo-guest")
    else:
        cache = default_cache_dir()
    return build_guest(cache)
