"""The emulated TPM of a VM with ``tpmstate0``: swtpm, run as qemu-server's ``start_swtpm`` runs it.

Before QEMU starts, ``swtpm_setup`` creates the TPM's state in the volume unless it holds one
already (``--not-overwrite``: a restored or used state is kept), then ``swtpm socket`` serves
the TPM over a unix control socket, reading and writing the state as a linear file in the
volume. QEMU connects with ``-tpmdev emulator`` and a ``tpm-tis`` device; swtpm ends when QEMU
disconnects (``--terminate``).

respaldo binds the control socket itself and hands swtpm the listening descriptor, so the
socket accepts QEMU's connection as soon as swtpm is started, with no wait for it to get there.
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from respaldo.errors import InputError, QemuError
from respaldo.runner import binary, run, run_bytes

#: The size of a new TPM state volume (qemu-server ``TPMSTATE_DISK_SIZE``).
STATE_SIZE = 4 << 20
SETUP_CONFIG = Path("/etc/swtpm_setup.conf")


@dataclass(frozen=True)
class SwtpmPaths:
    socket: Path
    pidfile: Path
    log: Path


def _state_uri(state: Path) -> str:
    if "," in str(state):
        raise InputError("tpmstate0", str(state), "swtpm cannot use a path with a comma")
    return f"file://{state}"


def setup(state: Path, version: str) -> None:
    """Create a TPM state (``v1.2`` or ``v2.0``) in ``state`` unless it holds one already."""
    argv = [
        binary("swtpm_setup"),
        "--tpmstate",
        _state_uri(state),
        "--createek",
        "--create-ek-cert",
        "--create-platform-cert",
        "--lock-nvram",
        "--config",
        str(SETUP_CONFIG),  # not the invoking user's XDG configuration
        "--not-overwrite",
    ]
    if os.geteuid() == 0:
        argv += ["--runas", "0"]
    if version == "v2.0":
        argv += ["--tpm2", "--ecc"]
    run(argv, timeout=120)


def start(state: Path, version: str, paths: SwtpmPaths) -> int:
    """Start swtpm (daemonized) on ``state``; returns its pid. QemuError when it fails."""
    for path in (paths.socket, paths.pidfile):
        path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(paths.socket))
        os.chmod(paths.socket, 0o600)
        listener.listen(1)
        argv = [
            binary("swtpm"),
            "socket",
            "--tpmstate",
            f"backend-uri={_state_uri(state)},mode=0600",
            "--ctrl",
            f"type=unixio,fd={listener.fileno()}",
            "--pid",
            f"file={paths.pidfile}",
            "--terminate",
            "--daemon",
            "--log",
            f"file={paths.log},level=1",
        ]
        if version == "v2.0":
            argv.append("--tpm2")
        run_bytes(argv, timeout=30, pass_fds=(listener.fileno(),))
    except BaseException:
        paths.socket.unlink(missing_ok=True)
        raise
    finally:
        listener.close()
    pid = running_pid(paths)
    if pid is None:
        raise QemuError(f"swtpm did not start (no process in {paths.pidfile}; see {paths.log})")
    return pid


def running_pid(paths: SwtpmPaths) -> int | None:
    """The pid of the swtpm serving ``paths``, or None (a stale pid file does not count)."""
    try:
        pid = int(paths.pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if f"file={paths.pidfile}".encode() in cmdline else None


def stop(paths: SwtpmPaths) -> None:
    """End the swtpm of ``paths`` if it still runs (QEMU never connected), remove its files."""
    pid = running_pid(paths)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 15)
    for path in (paths.socket, paths.pidfile):
        path.unlink(missing_ok=True)
