"""VMA codec: the real Proxmox sample, writer -> reader round trips, DeviceSink, errors."""

from __future__ import annotations

import gzip
import hashlib
import io
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from respaldo.archive.digest import DeviceDigest, SparseDigest
from respaldo.archive.vma import (
    BLOCK_SIZE,
    CLUSTER_SIZE,
    MAX_CLUSTERS_PER_EXTENT,
    ClusterSink,
    DeviceSink,
    QmdumpMap,
    VmaDevice,
    VmaHeader,
    VmaReader,
    VmaWriter,
    check_capacity,
    parse_qmdump_map,
    read_header,
    restore_device_streams,
)
from respaldo.errors import ArchiveError

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"
SAMPLE_UUID = uuid.UUID("04fc12eb-0fed-4322-9aaa-f4e412f68096")
SAMPLE_CTIME = int(datetime(2021, 10, 31, 11, 43, 42, tzinfo=UTC).timestamp())
FIXED_UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")
CONF = {"qemu-server.conf": b"cores: 2\n#qmdump#map:scsi0:drive-scsi0:local:qcow2:\n"}


@pytest.fixture(scope="module")
def sample() -> bytes:
    return gzip.decompress((FIXTURES / "proxmox-sample.vma.gz").read_bytes())


class CountingStream:
    """A read-only stream that records how many bytes were asked for and returned."""

    def __init__(self, data: bytes, chunk: int | None = None) -> None:
        self._io = io.BytesIO(data)
        self._chunk = chunk
        self.returned = 0

    def read(self, size: int, /) -> bytes:
        if self._chunk is not None:
            size = min(size, self._chunk)
        data = self._io.read(size)
        self.returned += len(data)
        return data


def content(size: int, seed: int, zero_ratio: float = 0.4) -> bytes:
    """Device content with runs of random data and zero 4 KiB blocks (and zero clusters)."""
    rnd = random.Random(seed)
    out = bytearray(size)
    for off in range(0, size, BLOCK_SIZE):
        if rnd.random() >= zero_ratio:
            n = min(BLOCK_SIZE, size - off)
            out[off : off + n] = rnd.randbytes(n)
    return bytes(out)


def clusters_of(data: bytes) -> Iterator[tuple[int, bytes]]:
    for n, off in enumerate(range(0, len(data), CLUSTER_SIZE)):
        yield n, data[off : off + CLUSTER_SIZE]


def write_archive(
    images: list[tuple[str, bytes]],
    configs: dict[str, bytes] | None = None,
    shuffle_seed: int | None = None,
) -> bytes:
    """Write whole images cluster by cluster, optionally in a shuffled order."""
    out = io.BytesIO()
    writer = VmaWriter(
        out, configs or CONF, [(n, len(d)) for n, d in images], uuid=FIXED_UUID, ctime=1700000000
    )
    work = [(i, n, c) for i, (_, d) in enumerate(images, start=1) for n, c in clusters_of(d)]
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(work)
    for dev_id, n, chunk in work:
        writer.write_cluster(dev_id, n, chunk)
    writer.close()
    assert writer.bytes_written == len(out.getvalue())
    return out.getvalue()


def restore_all(archive: bytes) -> tuple[VmaHeader, dict[int, bytes]]:
    reader = VmaReader(io.BytesIO(archive))
    images = {d.dev_id: bytearray(d.size) for d in reader.header.devices}

    def sink_for(dev_id: int) -> ClusterSink:
        def sink(offset: int, data: bytes | None) -> None:
            if data is not None:
                images[dev_id][offset : offset + len(data)] = data

        return sink

    report = restore_device_streams(reader, {i: sink_for(i) for i in images})
    assert report.ok
    return reader.header, {i: bytes(b) for i, b in images.items()}


# -- the real Proxmox archive -----------------------------------------------------------------


def test_sample_header_values(sample: bytes) -> None:
    header = read_header(io.BytesIO(sample))
    assert header.uuid == SAMPLE_UUID
    assert header.ctime == SAMPLE_CTIME
    assert header.header_size == 12800
    assert header.blob_buffer_size == 453
    assert list(header.configs) == ["qemu-server.conf"]
    assert len(header.configs["qemu-server.conf"]) == 417
    assert (
        header.config_text().rstrip("\n").endswith("#qmdump#map:scsi0:drive-scsi0:local-lvm:raw:")
    )
    assert header.devices == [VmaDevice(1, "drive-scsi0", 10737418240)]
    assert header.devices[0].clusters == 163840


def test_sample_header_reads_only_the_header(sample: bytes) -> None:
    for chunk in (None, 1000, 7):
        stream = CountingStream(sample, chunk)
        read_header(stream)
        assert stream.returned == 12800


def test_sample_qmdump_map(sample: bytes) -> None:
    text = read_header(io.BytesIO(sample)).config_text()
    assert parse_qmdump_map(text) == [QmdumpMap("scsi0", "drive-scsi0", "local-lvm", "raw")]


def test_sample_cluster_contents(sample: bytes) -> None:
    got: dict[int, bytes | None] = {}
    with pytest.raises(ArchiveError, match="detected missing cluster 23 of device drive-scsi0"):
        for dev_id, cluster_no, data in VmaReader(io.BytesIO(sample)).iter_clusters():
            assert dev_id == 1 and cluster_no not in got
            got[cluster_no] = data
    assert sorted(n for n, d in got.items() if d is not None) == [0, *range(16, 23)]
    first = got[0]
    assert first is not None
    assert hashlib.sha256(first).hexdigest() == (
        "cf4adcf1933a8c9a0a3ff5588e1400e6beea8a32212b3a35ba08c7b08e4e6b1f"
    )
    middle = b"".join(got[n] or b"" for n in range(16, 23))
    assert hashlib.sha256(middle).hexdigest() == (
        "8c989a3aa590795fa919ccb7d1f28651c85f8a0d9ba00ab22cdd9fb760fa7955"
    )
    assert all(got[n] is None for n in range(1, 16))


def test_sample_verify_reports_first_missing_cluster(sample: bytes) -> None:
    report = VmaReader(io.BytesIO(sample)).verify()
    assert not report.ok
    assert report.problems == ["detected missing cluster 23 of device drive-scsi0"]
    (dev,) = report.devices
    assert (dev.dev_id, dev.name, dev.size) == (1, "drive-scsi0", 10737418240)
    assert dev.first_missing == 23
    assert dev.clusters == 163840
    assert dev.clusters_found == 116
    assert dev.data_bytes == 8 * CLUSTER_SIZE
    assert dev.zero_clusters == 108
    assert report.extents == 2
    assert report.archive_bytes == len(sample)
    with pytest.raises(ArchiveError, match="missing cluster 23"):
        report.raise_for_problems()


def test_writer_header_is_byte_identical_to_proxmox(sample: bytes) -> None:
    header = read_header(io.BytesIO(sample))
    out = io.BytesIO()
    devices = [(d.name, d.size) for d in header.devices]
    VmaWriter(out, header.configs, devices, uuid=header.uuid, ctime=header.ctime)
    assert out.getvalue() == sample[: header.header_size]


# -- round trips -----------------------------------------------------------------------------


def test_round_trip_several_devices_out_of_order() -> None:
    images = [
        ("drive-scsi0", content(3 * CLUSTER_SIZE + 512, 1)),
        ("drive-virtio1", content(512, 2, zero_ratio=0.0)),
        ("drive-efidisk0", content(528 * 1024, 3)),
        ("drive-tpmstate0-backup", content(4 * 1024 * 1024, 4, zero_ratio=0.9)),
    ]
    archive = write_archive(images, shuffle_seed=7)
    header, restored = restore_all(archive)
    assert header.uuid == FIXED_UUID and header.ctime == 1700000000
    assert [(d.name, d.size) for d in header.devices] == [(n, len(d)) for n, d in images]
    assert header.configs == CONF
    for dev_id, (_, data) in enumerate(images, start=1):
        assert restored[dev_id] == data


def test_round_trip_firewall_config_kept_in_order() -> None:
    configs = {"qemu-server.conf": b"memory: 512\n", "qemu-server.fw": b"[OPTIONS]\nenable: 1\n"}
    header, _ = restore_all(
        write_archive([("drive-scsi0", content(70000 // 512 * 512, 5))], configs)
    )
    assert list(header.configs) == ["qemu-server.conf", "qemu-server.fw"]
    assert header.configs == configs
    assert header.config_text() == "memory: 512\n"


def test_round_trip_255_devices() -> None:
    images = [(f"drive-scsi{i}", content(512 * (1 + i % 9), i, zero_ratio=0.3)) for i in range(255)]
    archive = write_archive(images, shuffle_seed=3)
    header, restored = restore_all(archive)
    assert len(header.devices) == 255
    assert header.devices[-1] == VmaDevice(255, "drive-scsi254", len(images[-1][1]))
    assert all(restored[i] == data for i, (_, data) in enumerate(images, start=1))


def test_all_zero_devices_store_no_blocks() -> None:
    sizes = [10 * CLUSTER_SIZE + 1024, 200 * CLUSTER_SIZE]
    out = io.BytesIO()
    writer = VmaWriter(out, CONF, [("drive-a", sizes[0]), ("drive-b", sizes[1])])
    for dev_id, size in enumerate(sizes, start=1):
        sink = DeviceSink(writer, dev_id, size)
        sink.zero(0, size)
        sink.finish()
    writer.close()
    assert writer.bytes_total == writer.bytes_zero == sum(sizes)
    clusters = 11 + 200
    extents = -(-clusters // MAX_CLUSTERS_PER_EXTENT)
    assert writer.extents == extents
    assert len(out.getvalue()) == writer.header.header_size + 512 * extents
    reader = VmaReader(io.BytesIO(out.getvalue()))
    seen = list(reader.iter_clusters())
    assert len(seen) == clusters and all(data is None for _, _, data in seen)
    report = reader.report()
    assert [d.zero_clusters for d in report.devices] == [11, 200]


def test_an_archive_size_bounds_what_its_header_may_claim() -> None:
    """All-zero disks make the smallest archive that holds them: header + 512 bytes per 59
    clusters. One byte less, and the header claims more than the archive can hold."""
    sizes = [100 * CLUSTER_SIZE, 19 * CLUSTER_SIZE + 512]  # 120 clusters: 3 extent headers
    out = io.BytesIO()
    writer = VmaWriter(out, CONF, [("drive-a", sizes[0]), ("drive-b", sizes[1])])
    writer.write_zero_clusters(1, 0, 100)
    writer.write_zero_clusters(2, 0, 20)
    writer.close()
    data = out.getvalue()
    header = read_header(io.BytesIO(data))
    assert len(data) == header.header_size + 3 * 512
    check_capacity(header, len(data))
    check_capacity(header, None)  # a compressed stream: its size is not known, nothing to say
    with pytest.raises(ArchiveError) as info:
        check_capacity(header, len(data) - 1)
    assert str(info.value) == (
        f"archive truncated or its header damaged: it is {len(data) - 1} bytes, but its header "
        f"claims 2 disk(s) of {sum(sizes)} bytes in all (the largest, drive-a, of "
        f"{sizes[0]} bytes), whose 120 clusters need at least {len(data)} bytes"
    )


def test_writer_counters_and_partial_masks() -> None:
    size = 2 * CLUSTER_SIZE + 1536  # last block holds 1536 device bytes
    data = bytearray(size)
    data[0:10] = b"x" * 10  # cluster 0: block 0 stored
    data[CLUSTER_SIZE + 5 * BLOCK_SIZE] = 1  # cluster 1: block 5 stored
    data[-1] = 1  # cluster 2: block 0 stored, partial
    out = io.BytesIO()
    writer = VmaWriter(out, CONF, [("drive-scsi0", size)])
    for n, chunk in clusters_of(bytes(data)):
        writer.write_cluster(1, n, chunk)
    writer.close()
    assert writer.bytes_total == size
    assert writer.bytes_zero == size - 2 * BLOCK_SIZE - 1536
    assert writer.bytes_written == len(out.getvalue())
    head = out.getvalue()[writer.header.header_size :][:512]
    assert int.from_bytes(head[6:8], "big") == 3  # block_count
    masks = [int.from_bytes(head[40 + 8 * i : 48 + 8 * i], "big") >> 48 for i in range(3)]
    assert masks == [0x0001, 0x0020, 0x0001]
    _, restored = restore_all(out.getvalue())
    assert restored[1] == bytes(data)


def test_writer_flushes_every_59_clusters() -> None:
    out = io.BytesIO()
    writer = VmaWriter(out, CONF, [("drive-scsi0", 120 * CLUSTER_SIZE)])
    header_size = writer.header.header_size
    for n in range(58):
        writer.write_cluster(1, n, b"\x01" * CLUSTER_SIZE)
    assert len(out.getvalue()) == header_size
    writer.write_cluster(1, 58, b"\x01" * CLUSTER_SIZE)
    assert len(out.getvalue()) == header_size + 512 + 59 * CLUSTER_SIZE
    writer.write_zero_clusters(1, 59, 61)
    writer.close()
    assert writer.extents == 3


def test_accepts_memoryview_and_bytearray_and_short_last_cluster() -> None:
    size = CLUSTER_SIZE + 4096 + 512
    image = content(size, 9, zero_ratio=0.0)
    out = io.BytesIO()
    writer = VmaWriter(out, CONF, [("drive-scsi0", size)])
    writer.write_cluster(1, 1, bytearray(image[CLUSTER_SIZE:]))  # short: padded with zeros
    buf = bytearray(image[:CLUSTER_SIZE])
    writer.write_cluster(1, 0, memoryview(buf))
    buf[:] = bytes(CLUSTER_SIZE)  # the writer must have copied
    writer.close()
    assert restore_all(out.getvalue())[1][1] == image


def test_gzip_stream_round_trip() -> None:
    images = [("drive-scsi0", content(5 * CLUSTER_SIZE, 11))]
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb") as compressed:
        writer = VmaWriter(compressed, CONF, [(n, len(d)) for n, d in images])
        for n, chunk in clusters_of(images[0][1]):
            writer.write_cluster(1, n, chunk)
        writer.close()
    with gzip.GzipFile(fileobj=io.BytesIO(raw.getvalue())) as stream:
        reader = VmaReader(stream)
        got = {n: d for _, n, d in reader.iter_clusters()}
    assert b"".join(got[n] or bytes(CLUSTER_SIZE) for n in range(5)) == images[0][1]


def test_reader_handles_short_reads() -> None:
    image = content(3 * CLUSTER_SIZE, 12)
    archive = write_archive([("drive-scsi0", image)])
    reader = VmaReader(CountingStream(archive, chunk=1000))
    got = b"".join(d or bytes(CLUSTER_SIZE) for _, _, d in reader.iter_clusters())
    assert got == image


def test_extract_one_device() -> None:
    images = [("drive-a", content(CLUSTER_SIZE * 2 + 2048, 13)), ("drive-b", content(9216, 14))]
    archive = write_archive(images, shuffle_seed=1)
    out = io.BytesIO()
    report = VmaReader(io.BytesIO(archive)).extract(2, out)
    assert report.ok
    assert out.getvalue() == images[1][1]


def test_restore_truncates_last_cluster_and_skips_devices_without_sink() -> None:
    image = content(CLUSTER_SIZE + 1024, 15, zero_ratio=0.0)
    archive = write_archive([("drive-a", content(4096, 16)), ("drive-b", image)])
    calls: list[tuple[int, int]] = []

    def sink(offset: int, data: bytes | None) -> None:
        calls.append((offset, -1 if data is None else len(data)))

    restore_device_streams(VmaReader(io.BytesIO(archive)), {2: sink})
    assert sorted(calls) == [(0, CLUSTER_SIZE), (CLUSTER_SIZE, 1024)]


def test_reader_cannot_be_read_twice() -> None:
    reader = VmaReader(io.BytesIO(write_archive([("drive-a", content(4096, 17))])))
    reader.verify()
    with pytest.raises(ArchiveError, match="already read"):
        reader.verify()


def test_vmstate_device_is_skipped() -> None:
    """A Proxmox archive with RAM state: its clusters are sequential and not a disk."""
    image = content(2 * CLUSTER_SIZE, 18)
    out = io.BytesIO()
    names = [("drive-scsi0", len(image)), ("vmstatX", 3 * CLUSTER_SIZE)]
    writer = VmaWriter(out, CONF, names, uuid=FIXED_UUID)
    for n in range(3):
        writer.write_cluster(2, n, b"R" * CLUSTER_SIZE)
        if n < 2:
            writer.write_cluster(1, n, image[n * CLUSTER_SIZE : (n + 1) * CLUSTER_SIZE])
    writer.close()
    archive = bytearray(out.getvalue())
    at = archive.index(b"vmstatX\0")
    archive[at : at + 7] = b"vmstate"
    archive[32:48] = bytes(16)
    archive[32:48] = hashlib.md5(archive[: writer.header.header_size]).digest()
    reader = VmaReader(io.BytesIO(bytes(archive)))
    assert reader.header.devices[1].name == "vmstate"
    got = list(reader.iter_clusters())
    assert [(d, n) for d, n, _ in got] == [(1, 0), (1, 1)]
    report = reader.report()
    assert report.ok and report.vmstate_clusters == 3
    assert [d.name for d in report.devices] == ["drive-scsi0"]


# -- DeviceSink ------------------------------------------------------------------------------


def feed_sink(sink: DeviceSink, image: bytes, rnd: random.Random) -> None:
    """Feed an image as random 512-aligned extents; zero extents only where it is zero."""
    pos = 0
    view = memoryview(image)
    while pos < len(image):
        length = min(512 * rnd.choice([1, 3, 8, 127, 128, 129, 300, 1000]), len(image) - pos)
        piece = view[pos : pos + length]
        if piece == bytes(length) and rnd.random() < 0.8:
            sink.zero(pos, length)
        else:
            sink.data(pos, piece)
        pos += length
    sink.finish()


@pytest.mark.parametrize("seed", range(8))
def test_device_sink_random_splits_match_direct_writes(seed: int) -> None:
    rnd = random.Random(seed)
    sizes = [512 * rnd.randrange(1, 2000) for _ in range(2)]
    images = [content(s, seed * 10 + i, zero_ratio=0.6) for i, s in enumerate(sizes)]
    # make some zero runs long enough to cover whole clusters
    images[0] = images[0][: sizes[0] // 3] + bytes(sizes[0] - sizes[0] // 3)
    direct = write_archive([(f"drive-{i}", im) for i, im in enumerate(images)])
    out = io.BytesIO()
    devices = [(f"drive-{i}", len(im)) for i, im in enumerate(images)]
    writer = VmaWriter(out, CONF, devices, uuid=FIXED_UUID, ctime=1700000000)
    for dev_id, image in enumerate(images, start=1):
        feed_sink(DeviceSink(writer, dev_id, len(image)), image, rnd)
    writer.close()
    assert out.getvalue() == direct


def digests_read_back(archive: bytes) -> list[DeviceDigest]:
    """The digests a reader computes from the archive's content (masks from the data)."""
    reader = VmaReader(io.BytesIO(archive))
    digests = {d.dev_id: SparseDigest(d.name, d.size) for d in reader.header.devices}
    for dev_id, n, data in reader.iter_clusters():
        digests[dev_id].add_cluster(n, data)
    return [d.result() for d in digests.values()]


def mixed_image() -> bytes:
    """150 clusters: long full runs (crossing extents and 4 MiB pieces), all-zero clusters,
    aligned zero blocks, and 4 KiB zero runs that straddle two blocks (both hold data)."""
    rnd = random.Random(11)
    image = bytearray(rnd.randbytes(150 * CLUSTER_SIZE))
    image[70 * CLUSTER_SIZE : 73 * CLUSTER_SIZE] = bytes(3 * CLUSTER_SIZE)
    for block in (80 * 16 + 3, 80 * 16 + 15, 81 * 16, 120 * 16 + 7):
        image[block * BLOCK_SIZE : (block + 1) * BLOCK_SIZE] = bytes(BLOCK_SIZE)
    for at in (90 * CLUSTER_SIZE + 2 * BLOCK_SIZE + 2048, 100 * CLUSTER_SIZE - 100):
        image[at : at + BLOCK_SIZE] = bytes(BLOCK_SIZE)
    return bytes(image)


def test_device_sink_big_pieces_store_and_hash_like_single_clusters() -> None:
    image = mixed_image()
    piece = 4 << 20
    direct = io.BytesIO()
    writer = VmaWriter(direct, CONF, [("drive-scsi0", len(image))], FIXED_UUID, 1, digests=True)
    for n, chunk in clusters_of(image):
        writer.write_cluster(1, n, chunk)
    writer.close()
    sunk = io.BytesIO()
    big = VmaWriter(sunk, CONF, [("drive-scsi0", len(image))], FIXED_UUID, 1, digests=True)
    sink = DeviceSink(big, 1, len(image))
    for off in range(0, len(image), piece):
        sink.data(off, image[off : off + piece])
    sink.finish()
    big.close()

    assert sunk.getvalue() == direct.getvalue()
    assert big.device_digests() == writer.device_digests() == digests_read_back(sunk.getvalue())
    assert restore_all(sunk.getvalue())[1][1] == image
    zero_blocks = 3 * 16 + 4
    assert big.bytes_zero == zero_blocks * BLOCK_SIZE
    assert big.device_digests()[0].data_bytes == len(image) - zero_blocks * BLOCK_SIZE


def test_device_sink_copies_a_bytearray_unless_it_is_handed_over() -> None:
    image = mixed_image()[: 80 * CLUSTER_SIZE]
    archives = []
    for handover in (False, True):
        out = io.BytesIO()
        writer = VmaWriter(out, CONF, [("drive-scsi0", len(image))], FIXED_UUID, 1)
        sink = DeviceSink(writer, 1, len(image))
        buffer = bytearray(image)
        sink.data(0, buffer, handover=handover)
        if not handover:
            buffer[:] = bytes(len(buffer))  # the caller reuses its buffer: no effect
        sink.finish()
        writer.close()
        archives.append(out.getvalue())
    assert archives[0] == archives[1]
    assert restore_all(archives[0])[1][1] == image


def test_digest_depends_on_where_the_data_is() -> None:
    """The same blocks at other cluster numbers give another digest (the keys count)."""
    data = random.Random(5).randbytes(CLUSTER_SIZE)
    first, second = SparseDigest("d", 4 * CLUSTER_SIZE), SparseDigest("d", 4 * CLUSTER_SIZE)
    first.add_cluster(1, data)
    second.add_cluster(2, data)
    assert first.result().digest != second.result().digest
    assert first.result().data_bytes == second.result().data_bytes == CLUSTER_SIZE


def test_device_sink_unaligned_zero_and_data_mix() -> None:
    size = 3 * CLUSTER_SIZE + 1024
    image = bytearray(size)
    image[CLUSTER_SIZE - 512 : CLUSTER_SIZE + 512] = b"\xaa" * 1024
    out = io.BytesIO()
    writer = VmaWriter(out, CONF, [("drive-scsi0", size)])
    sink = DeviceSink(writer, 1, size)
    sink.zero(0, CLUSTER_SIZE - 512)
    sink.data(CLUSTER_SIZE - 512, image[CLUSTER_SIZE - 512 : CLUSTER_SIZE + 512])
    sink.zero(CLUSTER_SIZE + 512, size - CLUSTER_SIZE - 512)
    sink.finish()
    writer.close()
    assert restore_all(out.getvalue())[1][1] == bytes(image)


def test_device_sink_empty_extent_at_the_end() -> None:
    out = io.BytesIO()
    writer = VmaWriter(out, CONF, [("drive-scsi0", 1024)])
    sink = DeviceSink(writer, 1, 1024)
    sink.data(0, b"z" * 1024)
    sink.data(1024, b"")
    sink.zero(1024, 0)
    sink.finish()
    writer.close()
    assert restore_all(out.getvalue())[1][1] == b"z" * 1024


def test_device_sink_100_gib_of_zeros_writes_only_extent_headers() -> None:
    size = 100 << 30

    class Null:
        def __init__(self) -> None:
            self.written = 0
            self.writes = 0

        def write(self, data: bytes | memoryview, /) -> int:
            self.written += len(data)
            self.writes += 1
            return len(data)

    out = Null()
    writer = VmaWriter(out, CONF, [("drive-scsi0", size)])
    sink = DeviceSink(writer, 1, size)
    sink.zero(0, size - 3 * 512)
    sink.zero(size - 3 * 512, 3 * 512)
    sink.finish()
    writer.close()
    assert writer.bytes_zero == size
    clusters = size // (64 << 10)
    extents = -(-clusters // 59)
    # no data block at all: the header, then one 512-byte header per 59 zero clusters
    assert writer.extents == extents
    assert out.written == writer.header.header_size + extents * 512
    assert out.writes <= 1 + extents * 512 // (1 << 20) + 1  # headers go out a MiB at a time


def test_device_sink_rejects_gaps_overlaps_and_misalignment() -> None:
    writer = VmaWriter(io.BytesIO(), CONF, [("drive-scsi0", 4 * CLUSTER_SIZE)])
    sink = DeviceSink(writer, 1, 4 * CLUSTER_SIZE)
    sink.data(0, b"a" * 1024)
    with pytest.raises(ArchiveError, match="does not continue at 1024"):
        sink.zero(2048, 512)
    with pytest.raises(ArchiveError, match="not 512-byte aligned"):
        sink.data(1024, b"a" * 100)
    with pytest.raises(ArchiveError, match="past the end of device drive-scsi0"):
        sink.zero(1024, 4 * CLUSTER_SIZE)
    with pytest.raises(ArchiveError, match="covered only up to byte 1024"):
        sink.finish()
    sink.data(1024, b"")  # empty extents are harmless
    sink.zero(1024, 0)
    with pytest.raises(ArchiveError, match="not 1000"):
        DeviceSink(writer, 1, 1000)
    with pytest.raises(ArchiveError, match="no device 3"):
        DeviceSink(writer, 3, 1000)


# -- writer errors ---------------------------------------------------------------------------


def small_writer() -> VmaWriter:
    return VmaWriter(io.BytesIO(), CONF, [("drive-a", 3 * CLUSTER_SIZE), ("drive-b", 1024)])


def test_writer_rejects_duplicates_and_out_of_range() -> None:
    writer = small_writer()
    writer.write_cluster(1, 1, None)
    with pytest.raises(ArchiveError, match="found duplicated cluster 1 of device drive-a"):
        writer.write_cluster(1, 1, b"x")
    with pytest.raises(ArchiveError, match="found duplicated cluster 1 of device drive-a"):
        writer.write_zero_clusters(1, 0, 3)
    writer.write_zero_clusters(1, 2, 1)  # the failed range marked nothing
    with pytest.raises(ArchiveError, match="cluster 3 is out of range for device drive-a"):
        writer.write_cluster(1, 3, None)
    with pytest.raises(ArchiveError, match="out of range"):
        writer.write_cluster(1, -1, b"x")
    with pytest.raises(ArchiveError, match="no device 9"):
        writer.write_cluster(9, 0, None)
    with pytest.raises(ArchiveError, match="more than 65536"):
        writer.write_cluster(1, 0, bytes(CLUSTER_SIZE + 1))
    with pytest.raises(ArchiveError, match="past the device end"):
        writer.write_cluster(2, 0, bytes(1024) + b"\x01")


def test_writer_close_reports_first_missing_cluster_per_device() -> None:
    writer = small_writer()
    writer.write_cluster(1, 0, b"data")
    with pytest.raises(ArchiveError) as info:
        writer.close()
    message = str(info.value)
    assert "detected missing cluster 1 of device drive-a" in message
    assert "detected missing cluster 0 of device drive-b" in message
    with pytest.raises(ArchiveError, match="closed"):
        writer.write_cluster(1, 1, None)


def test_writer_context_manager() -> None:
    out = io.BytesIO()
    with VmaWriter(out, CONF, [("drive-a", 1024)]) as writer:
        writer.write_cluster(1, 0, b"abc")
    assert restore_all(out.getvalue())[1][1] == b"abc" + bytes(1021)
    with pytest.raises(RuntimeError), VmaWriter(io.BytesIO(), CONF, [("drive-a", 1024)]):
        raise RuntimeError("backup failed")  # no completeness error hides this one


@pytest.mark.parametrize(
    ("devices", "fragment"),
    [
        ([], "1 to 255 devices"),
        ([(f"d{i}", 512) for i in range(256)], "1 to 255 devices"),
        ([("vmstate", 512)], "reserved or used twice"),
        ([("a", 512), ("a", 512)], "reserved or used twice"),
        ([("a", 1000)], "not a positive multiple of 512"),
        ([("a", 0)], "not a positive multiple of 512"),
        ([("", 512)], "invalid device name"),
        ([("a\0b", 512)], "invalid device name"),
        ([("a", 65536 << 32 | 512)], "too large"),
    ],
)
def test_writer_rejects_bad_devices(devices: list[tuple[str, int]], fragment: str) -> None:
    with pytest.raises(ArchiveError, match=fragment):
        VmaWriter(io.BytesIO(), CONF, devices)


def test_writer_rejects_bad_configs() -> None:
    with pytest.raises(ArchiveError, match="more than 65535"):
        VmaWriter(io.BytesIO(), {"qemu-server.conf": bytes(70000)}, [("a", 512)])
    with pytest.raises(ArchiveError, match="at most 256 configs"):
        VmaWriter(io.BytesIO(), {f"c{i}": b"x" for i in range(257)}, [("a", 512)])
    with pytest.raises(ArchiveError, match="invalid config name"):
        VmaWriter(io.BytesIO(), {"": b"x"}, [("a", 512)])


# -- header helpers and qmdump map -----------------------------------------------------------


def test_config_text_errors() -> None:
    header = VmaHeader(FIXED_UUID, 0, {"qemu-server.fw": b""}, [VmaDevice(1, "a", 512)], 12800)
    with pytest.raises(ArchiveError, match=r"no qemu-server\.conf"):
        header.config_text()
    bad = VmaHeader(FIXED_UUID, 0, {"qemu-server.conf": b"\xff"}, [], 12800)
    with pytest.raises(ArchiveError, match="not valid UTF-8"):
        bad.config_text()
    with pytest.raises(ArchiveError, match="no device 2"):
        header.device(2)


def test_parse_qmdump_map() -> None:
    text = (
        "boot: order=scsi0\n"
        "#qmdump#map:scsi0:drive-scsi0:local:qcow2:\n"
        "#qmdump#map:efidisk0:drive-efidisk0:local-lvm:raw:\n"
        "#qmdump#map:virtio1:drive-virtio1::raw:\n"
        "#unused line\n"
    )
    assert parse_qmdump_map(text) == [
        QmdumpMap("scsi0", "drive-scsi0", "local", "qcow2"),
        QmdumpMap("efidisk0", "drive-efidisk0", "local-lvm", "raw"),
        QmdumpMap("virtio1", "drive-virtio1", "", "raw"),
    ]
    assert parse_qmdump_map("cores: 1\n") == []
    with pytest.raises(ArchiveError, match="malformed qmdump map line 2"):
        parse_qmdump_map("cores: 1\n#qmdump#map:scsi0:drive-scsi0\n")
