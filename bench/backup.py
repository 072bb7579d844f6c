"""Benchmark: a full snapshot-mode backup with zstd, against nbdcopy | zstd on the same disk.

Run: .venv/bin/python -m bench.backup [--size-gib 2] [--rounds 2]

The disk (qcow2, virtual size --size-gib) holds a third random data, a third compressible text
and a third never written. The VM runs (TCG, no OS) during both measurements. The baseline
exports the same image read-only with qemu-nbd (locking off, as the VM holds it) and pipes
``nbdcopy`` into ``zstd -1 -T<cores>``; respaldo runs ``vzdump --mode snapshot --compress zstd
--zstd <cores>``. Each is run --rounds times, alternating, and the best time counts. Ratio =
respaldo / baseline (below 1.0: respaldo is faster). respaldo fsyncs the archive before
renaming it, so a second baseline row adds the fsync of its output. A last measurement backs
up an empty 100 GiB disk.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (
    GIB,
    MIB,
    Measured,
    Node,
    drop_into_cache,
    mixed_disk_vm,
    process_cpu_seconds,
    qemu_nbd,
    run_measured,
    scratch_node,
)

CORES = os.cpu_count() or 1


def _cli(node: Node, *args: str) -> list[str]:
    return [sys.executable, "-m", "respaldo.cli.main", *args]


def baseline(image: Path, out: Path, durable: bool = False) -> float:
    """qemu-nbd export of the image, nbdcopy to stdout, zstd -1 -T<cores>; with ``durable``
    the output is also fsynced, as respaldo does before it renames an archive."""
    sock = out.with_suffix(".sock")
    image_opts = f"driver=qcow2,file.driver=file,file.filename={image},file.locking=off"
    try:
        with qemu_nbd(sock, ["--read-only", "--image-opts", image_opts]):
            start = time.perf_counter()
            subprocess.run(
                f"nbdcopy 'nbd+unix:///?socket={sock}' - | zstd -q -1 -T{CORES} -o {out} -f",
                shell=True,
                check=True,
            )
            if durable:
                fd = os.open(out, os.O_RDONLY)
                os.fsync(fd)
                os.close(fd)
            return time.perf_counter() - start
    finally:
        out.unlink(missing_ok=True)


def respaldo_backup(node: Node, vmid: int) -> tuple[Measured, float, int]:
    """One backup: its measurements, the CPU time the VM's QEMU spent serving it, the archive
    size."""
    dump = node.home / "storage" / "local" / "dump"
    qemu = int((node.home / "run" / "qemu" / f"{vmid}.pid").read_text())
    qemu_before = process_cpu_seconds(qemu)
    measured = run_measured(
        _cli(
            node,
            "vzdump",
            str(vmid),
            "--mode",
            "snapshot",
            "--compress",
            "zstd",
            "--zstd",
            str(CORES),
        ),
        env=node.env,
    )
    qemu_cpu = process_cpu_seconds(qemu) - qemu_before
    [archive] = list(dump.glob(f"vzdump-qemu-{vmid}-*.vma.zst"))
    size = archive.stat().st_size
    for path in dump.iterdir():
        path.unlink()
    return measured, qemu_cpu, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-gib", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    size = int(args.size_gib * GIB)

    with scratch_node() as node, tempfile.TemporaryDirectory() as tmp:
        image, allocated = mixed_disk_vm(node, 900, args.size_gib, Path(tmp))
        node.respaldo("qm", "start", "900")
        drop_into_cache(image)

        base_times, durable_times, ours = [], [], []
        for _ in range(args.rounds):
            base_times.append(baseline(image, Path(tmp) / "baseline.zst"))
            durable_times.append(baseline(image, Path(tmp) / "baseline.zst", durable=True))
            ours.append(respaldo_backup(node, 900))
        base, durable = min(base_times), min(durable_times)
        best, qemu_cpu, archive = min(ours, key=lambda run: run[0].seconds)
        peak_rss = max(run[0].rss_mib for run in ours)

        node.respaldo(
            "qm", "create", "901", "--memory", "64", "--virtio0", "local:100,format=qcow2"
        )
        node.respaldo("qm", "start", "901")
        empty, _, _ = respaldo_backup(node, 901)

    print(
        f"disk: {args.size_gib:g} GiB virtual, {allocated / MIB:.0f} MiB allocated "
        f"(1/3 random, 1/3 text, 1/3 unallocated); {CORES} cores; best of {args.rounds}"
    )
    print("| measurement | time (s) | MB/s (virtual size) | peak RSS (MiB) |")
    print("|---|---|---|---|")
    print(f"| baseline: nbdcopy \\| zstd -1 -T{CORES} | {base:.2f} | {size / base / 1e6:.0f} | - |")
    print(f"| baseline + fsync of the output | {durable:.2f} | {size / durable / 1e6:.0f} | - |")
    print(
        f"| respaldo vzdump snapshot, zstd | {best.seconds:.2f} | "
        f"{size / best.seconds / 1e6:.0f} | {peak_rss:.0f} |"
    )
    print(
        f"| respaldo, empty 100 GiB disk | {empty.seconds:.2f} | "
        f"{100 * GIB / empty.seconds / 1e6:.0f} | {empty.rss_mib:.0f} |"
    )
    print(
        f"ratio respaldo / baseline: {best.seconds / base:.2f} (target <= 0.80); against "
        f"baseline + fsync: {best.seconds / durable:.2f}; archive {archive / MIB:.0f} MiB"
    )
    print(
        f"CPU time of the best backup: respaldo {best.cpu_seconds:.2f} s, "
        f"the VM's QEMU {qemu_cpu:.2f} s"
    )


if __name__ == "__main__":
    main()
