"""A VM's QEMU process: its runtime files, whether it runs, and waiting for it to end.

QEMU daemonizes, so it is not a child of whoever started it; its pid file and QMP socket are
the only truth, read afresh by every CLI call and every server request.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
from dataclasses import dataclass
from pathlib import Path

from respaldo.errors import QemuError
from respaldo.node import Node
from respaldo.qemu.cmdline import RuntimePaths

# A unix socket path longer than this cannot be bound (sun_path is 108 bytes with its NUL).
MAX_SOCKET_PATH = 107


def runtime_paths(node: Node, vmid: int) -> RuntimePaths:
    base = node.qemu_run_dir
    paths = RuntimePaths(
        pidfile=base / f"{vmid}.pid",
        qmp=base / f"{vmid}.qmp",
        qmp_job=base / f"{vmid}.qmp-job",
        qga=base / f"{vmid}.qga",
        serial_log=node.log_dir / "qemu" / f"{vmid}.serial.log",
        swtpm_socket=base / f"{vmid}.swtpm",
        swtpm_pidfile=base / f"{vmid}.swtpm.pid",
        swtpm_log=node.log_dir / "qemu" / f"{vmid}-swtpm.log",
        efivars=base / f"{vmid}-ovmf.fd",
    )
    for sock in (paths.qmp, paths.qmp_job, paths.qga, paths.swtpm_socket):
        if len(os.fsencode(sock)) > MAX_SOCKET_PATH:
            raise QemuError(
                f"socket path {sock} is longer than {MAX_SOCKET_PATH} bytes; "
                "choose a shorter RESPALDO_HOME"
            )
    return paths


def command_line(pid: int) -> bytes:
    """The raw command line of a process (words NUL-separated); b"" when it is gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@dataclass(frozen=True)
class ProcessStats:
    """What ``/proc`` says of a running process: seconds since it started, resident memory
    (bytes) and CPU time used (seconds, user + system)."""

    uptime: int
    rss: int
    cpu_seconds: float


def process_stats(pid: int) -> ProcessStats | None:
    """The stats of ``pid`` (None when it is gone), from ``/proc/<pid>/stat`` and
    ``/proc/uptime`` (proc(5): fields 14, 15, 22 and 24)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        boot_uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    fields = stat.rpartition(b")")[2].split()
    try:
        utime, stime, start, rss_pages = (int(fields[i]) for i in (11, 12, 19, 21))
    except (IndexError, ValueError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    uptime = max(0, int(boot_uptime - start / ticks))
    return ProcessStats(uptime, rss_pages * os.sysconf("SC_PAGE_SIZE"), (utime + stime) / ticks)


def _cmdline(pid: int) -> list[bytes]:
    return command_line(pid).split(b"\0")


def running_pid(paths: RuntimePaths) -> int | None:
    """The pid of the VM's QEMU, or None; a stale pid file (reused pid) does not count."""
    try:
        pid = int(paths.pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    marker = f"unix:{paths.qmp},server=on,wait=off".encode()
    return pid if marker in _cmdline(pid) else None


def wait_exit(pid: int, timeout: float) -> bool:
    """Wait for a process that is not our child to end; True if it did within ``timeout``."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(timeout * 1000))
    finally:
        os.close(fd)


def kill(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL; return once the process is gone."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        if wait_exit(pid, timeout):
            return
    raise QemuError(f"QEMU process {pid} did not end after SIGKILL")


def clean_runtime_files(paths: RuntimePaths) -> None:
    """Remove what a VM's QEMU and swtpm leave behind (swtpm ends with QEMU: ``--terminate``)."""
    for path in (
        paths.pidfile,
        paths.qmp,
        paths.qmp_job,
        paths.qga,
        paths.swtpm_socket,
        paths.swtpm_pidfile,
        paths.efivars,
    ):
        path.unlink(missing_ok=True)
