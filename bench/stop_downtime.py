"""Benchmark: stop-mode downtime of a running Linux guest, for a 1 GiB and an 8 GiB disk.

Run: .venv/bin/python -m bench.stop_downtime

Stop mode shuts the guest down, starts QEMU paused, sets up the point-in-time view and
resumes the guest before the copy starts, so the downtime (from QEMU's exit to the resume,
as the backup log reports it) must not grow with the disk size. The guest is respaldo's test
guest (respaldo.guestimage) with its data disk about half full of incompressible data; the copy
time is printed beside the downtime for contrast.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import GIB, Node, scratch_node
from respaldo.guestimage.build import build_guest, default_cache_dir, guest_args

READY = "RESPALDO-GUEST-READY"


def _wait_ready(node: Node, vmid: int) -> None:
    log = node.home / "log" / "qemu" / f"{vmid}.serial.log"
    deadline = time.monotonic() + 120
    while READY not in (log.read_text(errors="replace") if log.exists() else ""):
        if time.monotonic() > deadline:
            raise RuntimeError(f"guest {vmid} did not become ready")
        time.sleep(0.2)


def measure(node: Node, vmid: int, size_gib: int, args: str, tmp: Path) -> tuple[float, float]:
    node.respaldo(
        "qm",
        "create",
        str(vmid),
        "--memory",
        "256",
        "--agent",
        "1",
        "--virtio0",
        f"local:{size_gib},format=raw",
        "--args",
        args,
    )
    disk = node.home / "storage/local/images" / str(vmid) / f"vm-{vmid}-disk-0.raw"
    subprocess.run(["mkfs.ext4", "-q", "-F", str(disk)], check=True)
    ballast = tmp / "ballast.bin"
    with ballast.open("wb") as f:
        for _ in range(size_gib * 512 // 64):
            f.write(os.urandom(64 << 20))
    subprocess.run(
        ["debugfs", "-w", "-R", f"write {ballast} ballast.bin", str(disk)],
        check=True,
        capture_output=True,
    )
    ballast.unlink()
    node.respaldo("qm", "start", str(vmid))
    _wait_ready(node, vmid)
    out = node.respaldo(
        "vzdump",
        str(vmid),
        "--mode",
        "stop",
        "--compress",
        "zstd",
        "--zstd",
        "2",
        "--stopwait",
        "1",
    ).stdout
    downtime = re.search(r"guest downtime: ([\d.]+) s", out)
    copy = re.search(r"transferred .* in ([\d.]+) seconds", out)
    if not downtime or not copy:
        raise RuntimeError(out)
    node.respaldo("qm", "stop", str(vmid))
    return float(downtime.group(1)), float(copy.group(1))


def main() -> None:
    image = build_guest(Path(os.environ.get("RESPALDO_GUEST_CACHE", default_cache_dir())))
    args = guest_args(image)
    rows = []
    with scratch_node() as node, tempfile.TemporaryDirectory() as tmp:
        for vmid, size in ((910, 1), (911, 8)):
            downtime, copy = measure(node, vmid, size, args, Path(tmp))
            rows.append((size, downtime, copy))
    print("| data disk | downtime (s) | copy while the guest runs (s) |")
    print("|---|---|---|")
    for size, downtime, copy in rows:
        print(f"| {size} GiB ({size * GIB // 2 >> 20} MiB data) | {downtime:.2f} | {copy:.2f} |")


if __name__ == "__main__":
    main()
