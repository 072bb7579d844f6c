"""``respaldo vma extract --format qcow2`` with the real qemu-img: exact and sparse images."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import pytest

from respaldo.archive.compress import Compression, open_writer
from respaldo.archive.digest import sidecar_path, write_sidecar
from respaldo.archive.vma import BLOCK_SIZE, CLUSTER_SIZE, VmaWriter
from respaldo.cli import main as cli_main
from respaldo.node import Node
from respaldo.runner import binary

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(120)]

CONF = b"cores: 1\n#qmdump#map:scsi0:drive-scsi0:local:qcow2:\n"
MIB = 1024 * 1024


def qemu_img(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary("qemu-img"), *args], capture_output=True, text=True, check=check, timeout=60
    )


def make_source(path: Path, size: int, data_clusters: list[int], seed: int) -> None:
    """A sparse raw image: random data in some clusters (with a zero block inside each)."""
    rnd = random.Random(seed)
    with path.open("wb") as f:
        f.truncate(size)
        for n in data_clusters:
            length = min(CLUSTER_SIZE, size - n * CLUSTER_SIZE)
            chunk = bytearray(rnd.randbytes(length))
            chunk[BLOCK_SIZE : 2 * BLOCK_SIZE] = bytes(BLOCK_SIZE)
            f.seek(n * CLUSTER_SIZE)
            f.write(chunk)


def write_archive(path: Path, sources: list[tuple[str, Path]]) -> None:
    """A zstd archive of the raw sources (holes as zero clusters) and its digest sidecar."""
    devices = [(name, src.stat().st_size) for name, src in sources]
    with path.open("wb") as file, open_writer(file, Compression.ZSTD) as cw:
        writer = VmaWriter(cw, {"qemu-server.conf": CONF}, devices, digests=True)
        for dev_id, (_, src) in enumerate(sources, start=1):
            size = src.stat().st_size
            with src.open("rb") as f:
                fd = f.fileno()
                for n in range(-(-size // CLUSTER_SIZE)):
                    try:
                        start = os.lseek(fd, n * CLUSTER_SIZE, os.SEEK_DATA)
                    except OSError:  # ENXIO: only a hole follows
                        start = size
                    if start >= (n + 1) * CLUSTER_SIZE or start >= size:
                        writer.write_cluster(dev_id, n, None)
                    else:
                        writer.write_cluster(
                            dev_id, n, os.pread(fd, CLUSTER_SIZE, n * CLUSTER_SIZE)
                        )
        writer.close()
    write_sidecar(sidecar_path(path), writer.device_digests())


def run_cli(*argv: str) -> None:
    args = cli_main.parse(["vma", *argv])
    args.func(args, Node.from_env())


def test_qcow2_extraction_is_exact(tmp_path: Path) -> None:
    scsi0 = tmp_path / "scsi0.raw"
    efi = tmp_path / "efi.raw"
    make_source(scsi0, 8 * MIB + 5 * 512, [0, 1, 7, 40, 128], seed=1)
    make_source(efi, 528 * 1024, [0, 8], seed=2)
    archive = tmp_path / "vzdump-qemu-100.vma.zst"
    write_archive(archive, [("drive-scsi0", scsi0), ("drive-efidisk0", efi)])
    out = tmp_path / "out"

    run_cli("verify", str(archive))
    run_cli("extract", str(archive), str(out), "--format", "qcow2")

    assert sorted(p.name for p in out.iterdir()) == [
        "drive-efidisk0.qcow2",
        "drive-scsi0.qcow2",
        "qemu-server.conf",
    ]
    for name, src in (("drive-scsi0", scsi0), ("drive-efidisk0", efi)):
        image = out / f"{name}.qcow2"
        info = json.loads(qemu_img("info", "--output=json", str(image)).stdout)
        assert info["format"] == "qcow2"
        assert info["virtual-size"] == src.stat().st_size
        compare = qemu_img("compare", "-f", "raw", "-F", "qcow2", str(src), str(image), check=False)
        assert compare.returncode == 0, compare.stdout + compare.stderr
    assert (out / "qemu-server.conf").read_bytes() == CONF


def test_extracted_images_stay_sparse(tmp_path: Path) -> None:
    size = 256 * MIB
    src = tmp_path / "big.raw"
    make_source(src, size, [0, 1000, size // CLUSTER_SIZE - 1], seed=3)
    archive = tmp_path / "big.vma.zst"
    write_archive(archive, [("drive-virtio0", src)])

    qcow2_dir = tmp_path / "qcow2"
    run_cli("extract", str(archive), str(qcow2_dir), "--format", "qcow2")
    image = qcow2_dir / "drive-virtio0.qcow2"
    info = json.loads(qemu_img("info", "--output=json", str(image)).stdout)
    assert info["virtual-size"] == size
    assert info["actual-size"] < 4 * MIB
    assert qemu_img("compare", "-f", "raw", "-F", "qcow2", str(src), str(image)).returncode == 0

    raw_dir = tmp_path / "raw"
    run_cli("extract", str(archive), str(raw_dir))
    raw = raw_dir / "drive-virtio0.raw"
    assert raw.stat().st_size == size
    assert raw.stat().st_blocks * 512 < 4 * MIB
    assert qemu_img("compare", "-f", "raw", "-F", "raw", str(src), str(raw)).returncode == 0
