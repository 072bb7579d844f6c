"""Running external programs: list argv, no shell, stderr kept in the raised error."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from respaldo.errors import CommandError


def binary(name: str) -> str:
    """The path of an external program; ``RESPALDO_<NAME>`` (e.g. RESPALDO_QEMU_IMG) overrides."""
    return os.environ.get("RESPALDO_" + name.upper().replace("-", "_"), name)


def run_bytes(
    argv: list[str],
    timeout: float | None = 300,
    env: Mapping[str, str] | None = None,
    data: bytes | None = None,
    cwd: Path | None = None,
    pass_fds: tuple[int, ...] = (),
) -> bytes:
    """Run a program to completion (``data`` on its stdin, ``pass_fds`` open in it) and return
    its stdout as bytes; raise CommandError (with its stderr) on failure."""
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            timeout=timeout,
            env=env,
            cwd=cwd,
            input=data,
            stdin=subprocess.DEVNULL if data is None else None,
            pass_fds=pass_fds,
            check=False,
        )
    except FileNotFoundError as err:
        raise CommandError(argv, 127, f"program not found: {argv[0]}") from err
    except OSError as err:  # not executable, and the like
        raise CommandError(argv, 126, f"cannot run {argv[0]}: {err}") from err
    except subprocess.TimeoutExpired as err:
        raise CommandError(argv, -1, f"timed out after {timeout} seconds") from err
    if proc.returncode != 0:
        raise CommandError(argv, proc.returncode, proc.stderr.decode(errors="replace"))
    return proc.stdout


def run(argv: list[str], timeout: float | None = 300, env: Mapping[str, str] | None = None) -> str:
    """Run a program to completion and return its stdout; raise CommandError on failure."""
    return run_bytes(argv, timeout, env).decode(errors="replace")
