"""Benchmark: restore of the backup benchmark's archive, against zstd -d | nbdcopy.

Run: .venv/bin/python -m bench.restore [--size-gib 2] [--rounds 2]

The archive is the one bench.backup makes (a qcow2 disk: a third random data, a third text, a
third never written, backed up with zstd). The baseline decompresses it with ``zstd -dc`` and
pipes the stream into ``nbdcopy`` writing to a fresh qcow2 of the same size served by
qemu-nbd; respaldo runs ``qmrestore <archive> <vmid> --storage local`` into a new qcow2. Each
runs --rounds times, alternating; the best time counts. Ratio = respaldo / baseline.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (
    GIB,
    MIB,
    Node,
    drop_into_cache,
    mixed_disk_vm,
    qemu_nbd,
    run_measured,
    scratch_node,
)


def make_archive(node: Node, size_gib: float, tmp: Path) -> Path:
    mixed_disk_vm(node, 900, size_gib, tmp)
    node.respaldo("vzdump", "900", "--compress", "zstd")
    [archive] = list((node.home / "storage/local/dump").glob("*.vma.zst"))
    return archive


def baseline(archive: Path, size: int, tmp: Path) -> float:
    target = tmp / "target.qcow2"
    sock = tmp / "target.sock"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(target), str(size)], check=True)
    try:
        with qemu_nbd(sock, ["-f", "qcow2", str(target)]):
            start = time.perf_counter()
            subprocess.run(
                f"zstd -q -dc {archive} | nbdcopy - 'nbd+unix:///?socket={sock}'",
                shell=True,
                check=True,
            )
            return time.perf_counter() - start
    finally:
        target.unlink(missing_ok=True)


def respaldo_restore(node: Node, archive: Path) -> tuple[float, float]:
    measured = run_measured(
        [
            sys.executable,
            "-m",
            "respaldo.cli.main",
            "qmrestore",
            str(archive),
            "950",
            "--storage",
            "local",
        ],
        env=node.env,
    )
    node.respaldo("qm", "destroy", "950")
    return measured.seconds, measured.rss_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-gib", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    size = int(args.size_gib * GIB)
    with scratch_node() as node, tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        archive = make_archive(node, args.size_gib, tmp)
        drop_into_cache(archive)
        base_times, ours, rss_values = [], [], []
        for _ in range(args.rounds):
            base_times.append(baseline(archive, size, tmp))
            seconds, rss = respaldo_restore(node, archive)
            ours.append(seconds)
            rss_values.append(rss)
        base, best = min(base_times), min(ours)
        archive_mib = archive.stat().st_size / MIB
    print(
        f"archive: {archive_mib:.0f} MiB zstd of a {args.size_gib:g} GiB disk; "
        f"best of {args.rounds}"
    )
    print("| measurement | time (s) | MB/s (virtual size) | peak RSS (MiB) |")
    print("|---|---|---|---|")
    print(f"| baseline: zstd -d \\| nbdcopy to qcow2 | {base:.2f} | {size / base / 1e6:.0f} | - |")
    print(f"| respaldo qmrestore | {best:.2f} | {size / best / 1e6:.0f} | {max(rss_values):.0f} |")
    print(f"ratio respaldo / baseline: {best / base:.2f} (target <= 1.00)")


if __name__ == "__main__":
    main()
