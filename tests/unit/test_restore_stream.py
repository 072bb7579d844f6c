"""The restore copy: what it writes, and the digest it recomputes of each restored disk."""

from __future__ import annotations

import io
import random

import pytest

from respaldo.archive.digest import DeviceDigest, check_device, digest_for
from respaldo.archive.vma import CLUSTER_SIZE, VmaReader, VmaWriter
from respaldo.errors import ArchiveError, TaskStopped
from respaldo.services.progress import Progress, Throttle
from respaldo.services.restore.stream import ArchiveCopy, DeviceTarget
from respaldo.tasks.context import MemoryContext

CONF = {"qemu-server.conf": b"memory: 64\n"}


class MemoryTarget:
    """A volume in memory."""

    def __init__(self, size: int) -> None:
        self.data = bytearray(size)

    def write(self, offset: int, data: bytes) -> None:
        self.data[offset : offset + len(data)] = data

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


def disk(clusters: int, seed: int, tail: int = 0) -> bytes:
    """Runs of data clusters, zero clusters and half-zero clusters; ``tail`` bytes past the
    last whole cluster."""
    rnd = random.Random(seed)
    out = bytearray(clusters * CLUSTER_SIZE + tail)
    for n in range(clusters + (1 if tail else 0)):
        kind = rnd.choice(["data", "data", "zero", "half"])
        start = n * CLUSTER_SIZE
        length = min(CLUSTER_SIZE, len(out) - start) // (2 if kind == "half" else 1)
        if kind != "zero":
            out[start : start + length] = rnd.randbytes(length)
    return bytes(out)


IMAGES = [("drive-scsi0", disk(150, seed=1)), ("drive-efidisk0", disk(3, seed=2, tail=1536))]


def archive() -> tuple[bytearray, dict[str, DeviceDigest]]:
    """The images as an uncompressed archive, clusters of both disks interleaved, and the
    digests its writer gives (what the sidecar holds)."""
    out = io.BytesIO()
    writer = VmaWriter(out, CONF, [(n, len(d)) for n, d in IMAGES], digests=True)
    clusters = [
        (n, dev_id, data[offset : offset + CLUSTER_SIZE])
        for dev_id, (_, data) in enumerate(IMAGES, start=1)
        for n, offset in enumerate(range(0, len(data), CLUSTER_SIZE))
    ]
    for n, dev_id, chunk in sorted(clusters):
        writer.write_cluster(dev_id, n, chunk)
    writer.close()
    return bytearray(out.getvalue()), {d.name: d for d in writer.device_digests()}


def restore(data: bytes, expected: dict[str, DeviceDigest]) -> tuple[list[bytes], ArchiveCopy]:
    volumes = [MemoryTarget(len(d)) for _, d in IMAGES]
    targets = {i: DeviceTarget(v, len(v.data)) for i, v in enumerate(volumes, start=1)}
    digests = {i: digest_for(n, len(d), expected) for i, (n, d) in enumerate(IMAGES, start=1)}
    total = sum(len(d) for _, d in IMAGES)
    copy = ArchiveCopy(targets, Progress(total, lambda _: None, quiet=True), Throttle(0), digests)
    copy.run(VmaReader(io.BytesIO(data)))
    return [bytes(v.data) for v in volumes], copy


def test_the_copy_recomputes_the_digest_the_writer_gave() -> None:
    data, expected = archive()
    restored, copy = restore(bytes(data), expected)
    assert restored == [d for _, d in IMAGES]
    for dev_id, (name, _) in enumerate(IMAGES, start=1):
        check_device(expected[name], copy.digests[dev_id])


def test_one_flipped_data_byte_fails_the_check_of_its_disk_only() -> None:
    data, expected = archive()
    last_extent = data.rindex(b"VMAE")
    data[last_extent + 512 + 100] ^= 0x01  # the md5 covers the extent header only
    restored, copy = restore(bytes(data), expected)
    assert restored[1] == IMAGES[1][1]
    assert restored[0] != IMAGES[0][1]
    with pytest.raises(ArchiveError, match="data digest mismatch for device drive-scsi0: digest"):
        check_device(expected["drive-scsi0"], copy.digests[1])
    check_device(expected["drive-efidisk0"], copy.digests[2])


def test_a_stop_requested_ends_the_copy_at_the_next_cluster() -> None:
    # A stop whose exception, raised by the signal handler, was dropped (by an asyncio
    # callback, a __del__) leaves the task's flag set: the copy reads it before each cluster.
    data, _ = archive()
    ctx = MemoryContext()
    checks = 0

    def check_stop() -> None:
        nonlocal checks
        checks += 1
        if checks == 10:
            ctx.request_stop("interrupted by signal")
        ctx.check_stop()

    size = len(IMAGES[0][1])
    total = sum(len(d) for _, d in IMAGES)
    progress = Progress(total, lambda _: None, quiet=True)
    targets = {1: DeviceTarget(MemoryTarget(size), size)}
    copy = ArchiveCopy(targets, progress, Throttle(0), None, check_stop)
    with pytest.raises(TaskStopped, match=r"^interrupted by signal$"):
        copy.run(VmaReader(io.BytesIO(bytes(data))))
    assert checks == 10 and progress.done == 9 * CLUSTER_SIZE
