"""Shared pieces of the benchmarks: a throw-away node, a generated disk, timing, peak RSS."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from respaldo.qemu import process

MIB = 1 << 20
GIB = 1 << 30
TEXT_LINE = (
    "{n:010d} 2026-11-24T20:15:00Z node1 vzdump[4711]: INFO: backup of VM {vm} progressing, "
    "transferred {n} blocks, status ok\n"
)


@dataclass
class Node:
    home: Path
    env: dict[str, str]

    def respaldo(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "respaldo.cli.main", *args],
            env=self.env,
            text=True,
            capture_output=True,
            timeout=timeout,
            check=True,
        )


@contextmanager
def scratch_node() -> Iterator[Node]:
    """A node in a temporary data dir; every VM is stopped and the dir removed at the end."""
    home = Path(tempfile.mkdtemp(prefix="respaldo-bench-"))
    env = dict(os.environ, RESPALDO_HOME=str(home), RESPALDO_ACCEL="tcg")
    node = Node(home, env)
    try:
        yield node
    finally:
        for conf in (home / "config" / "qemu-server").glob("*.conf"):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "respaldo.cli.main",
                    "qm",
                    "stop",
                    conf.stem,
                    "--skiplock",
                    "1",
                ],
                env=env,
                capture_output=True,
                check=False,
            )
        shutil.rmtree(home, ignore_errors=True)


def write_mixed_raw(path: Path, size: int) -> int:
    """A raw disk: a third random data, a third compressible text, a third never written.

    Returns the number of bytes written (the allocated part).
    """
    third = size // 3 // MIB * MIB
    rng = random.Random(42)
    with path.open("wb") as f:
        for _ in range(third // MIB):
            f.write(rng.randbytes(MIB))
        text = "".join(TEXT_LINE.format(n=n, vm=100 + n % 7) for n in range(MIB // 100 * 2))
        chunk = text.encode()[:MIB]
        for _ in range(third // MIB):
            f.write(chunk)
        f.truncate(size)
    return 2 * third


def qemu_img_convert(src: Path, dst: Path, fmt: str) -> None:
    subprocess.run(["qemu-img", "convert", "-O", fmt, str(src), str(dst)], check=True)


_RSS_PROBE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "use = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(use.ru_maxrss, use.ru_utime + use.ru_stime)\n"
    "sys.exit(code)\n"
)


@dataclass
class Measured:
    seconds: float
    rss_mib: float  # peak RSS of the largest process of the command
    cpu_seconds: float  # user + system time of the command and all its processes


def run_measured(argv: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run a command; its wall time, peak RSS and CPU time."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE, *argv],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - start
    rss_kib, cpu = proc.stdout.split()
    return Measured(seconds, int(rss_kib) / 1024, float(cpu))


def process_cpu_seconds(pid: int) -> float:
    """User + system time a running process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(argv: list[str] | str, shell: bool = False, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, shell=shell, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def drop_into_cache(path: Path) -> None:
    """Read a file once so that both contenders start from the same warm page cache."""
    with path.open("rb") as f:
        while f.read(16 * MIB):
            pass


def mixed_disk_vm(node: Node, vmid: int, size_gib: float, tmp: Path) -> tuple[Path, int]:
    """VM ``vmid`` whose qcow2 disk holds write_mixed_raw's data; (image, allocated bytes)."""
    node.respaldo(
        "qm", "create", str(vmid), "--memory", "64", "--virtio0", f"local:{size_gib},format=qcow2"
    )
    image = node.home / f"storage/local/images/{vmid}/vm-{vmid}-disk-0.qcow2"
    raw = tmp / "disk.raw"
    allocated = write_mixed_raw(raw, int(size_gib * GIB))
    qemu_img_convert(raw, image, "qcow2")
    raw.unlink()
    return image, allocated


@contextmanager
def qemu_nbd(sock: Path, image_args: list[str]) -> Iterator[None]:
    """A qemu-nbd serving ``image_args`` on ``sock`` for a baseline: ``--fork`` returns once
    the socket listens, and the server is ended however the block ends."""
    pidfile = sock.with_suffix(".pid")
    subprocess.run(
        ["qemu-nbd", "--fork", f"--pid-file={pidfile}", "-k", str(sock), *image_args],
        check=True,
    )
    try:
        yield
    finally:
        process.kill(int(pidfile.read_text().strip()))
        pidfile.unlink(missing_ok=True)
