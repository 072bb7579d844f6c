"""Property tests of the VMA codec: round trips byte for byte, and damage only ever gives
ArchiveError (never struct.error, IndexError, ValueError or a hang)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import random
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from respaldo.archive.vma import (
    CLUSTER_SIZE,
    ClusterSink,
    DeviceSink,
    VmaHeader,
    VmaReader,
    VmaWriter,
    read_header,
    restore_device_streams,
)
from respaldo.errors import ArchiveError

SECTOR = 512
CONF = {"qemu-server.conf": b"name: prop\n", "qemu-server.fw": b"[OPTIONS]\n"}
PROPS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Image = tuple[str, bytes]


@st.composite
def image_bytes(draw: st.DrawFn, max_sectors: int = 3 * 128 + 7) -> bytes:
    """Device content made of zero runs, random runs and sparse runs (lone non-zero bytes)."""
    sectors = draw(st.integers(1, max_sectors))
    size = sectors * SECTOR
    out = bytearray(size)
    pos = 0
    while pos < size:
        kind = draw(st.sampled_from(["zero", "data", "sparse"]))
        length = min(draw(st.integers(1, 160)) * SECTOR, size - pos)
        if kind == "data":
            out[pos : pos + length] = random.Random(pos).randbytes(length)
        elif kind == "sparse":
            out[pos + draw(st.integers(0, length - 1))] = draw(st.integers(1, 255))
        pos += length
    return bytes(out)


@st.composite
def images(draw: st.DrawFn) -> list[Image]:
    datas = draw(st.lists(image_bytes(), min_size=1, max_size=4))
    return [(f"drive-scsi{i}", data) for i, data in enumerate(datas)]


def new_writer(out: io.BytesIO, imgs: list[Image]) -> VmaWriter:
    devices = [(name, len(data)) for name, data in imgs]
    return VmaWriter(out, CONF, devices, uuid=uuid.UUID(int=7), ctime=-5)


def write_clusters(imgs: list[Image], order: list[tuple[int, int]]) -> bytes:
    out = io.BytesIO()
    writer = new_writer(out, imgs)
    for dev_id, n in order:
        chunk = imgs[dev_id - 1][1][n * CLUSTER_SIZE : (n + 1) * CLUSTER_SIZE]
        writer.write_cluster(dev_id, n, chunk)
    writer.close()
    return out.getvalue()


def restore(archive: bytes) -> tuple[VmaHeader, list[bytes]]:
    reader = VmaReader(io.BytesIO(archive))
    targets = [bytearray(d.size) for d in reader.header.devices]

    def sink(dev_index: int) -> ClusterSink:
        def write(offset: int, data: bytes | None) -> None:
            assert data is None or data != bytes(len(data))
            if data is not None:
                targets[dev_index][offset : offset + len(data)] = data

        return write

    sinks = {d.dev_id: sink(i) for i, d in enumerate(reader.header.devices)}
    assert restore_device_streams(reader, sinks).ok
    return reader.header, [bytes(t) for t in targets]


@PROPS
@given(imgs=images(), data=st.data())
def test_round_trip_any_order(imgs: list[Image], data: st.DataObject) -> None:
    work = [(i, n) for i, (_, d) in enumerate(imgs, start=1) for n in range(-(-len(d) // 65536))]
    order = data.draw(st.permutations(work))
    header, restored = restore(write_clusters(imgs, order))
    assert restored == [d for _, d in imgs]
    assert header.configs == CONF and header.ctime == -5
    assert [(d.name, d.size) for d in header.devices] == [(n, len(d)) for n, d in imgs]


@PROPS
@given(imgs=images(), data=st.data())
def test_device_sink_any_split_equals_direct_writes(imgs: list[Image], data: st.DataObject) -> None:
    out = io.BytesIO()
    writer = new_writer(out, imgs)
    for dev_id, (_, image) in enumerate(imgs, start=1):
        sink = DeviceSink(writer, dev_id, len(image))
        sectors = len(image) // SECTOR
        cuts = data.draw(st.lists(st.integers(1, sectors), max_size=12, unique=True))
        bounds = [0, *sorted(c * SECTOR for c in cuts if c < sectors), len(image)]
        for start, end in itertools.pairwise(bounds):
            piece = image[start:end]
            if not any(piece) and data.draw(st.booleans()):
                sink.zero(start, end - start)
            else:
                sink.data(start, memoryview(piece))
        sink.finish()
    writer.close()
    in_order = [
        (i, n) for i, (_, d) in enumerate(imgs, start=1) for n in range(-(-len(d) // 65536))
    ]
    assert out.getvalue() == write_clusters(imgs, in_order)


@PROPS
@given(
    sizes=st.lists(st.integers(1, 300), min_size=1, max_size=3),
    ops=st.lists(
        st.tuples(st.integers(1, 3), st.integers(0, 300), st.integers(1, 80), st.booleans()),
        max_size=25,
    ),
)
def test_writer_bookkeeping_matches_a_set_model(
    sizes: list[int], ops: list[tuple[int, int, int, bool]]
) -> None:
    """Duplicate and missing clusters are found exactly, for single clusters and zero runs."""
    writer = VmaWriter(
        io.BytesIO(), CONF, [(f"d{i}", s * CLUSTER_SIZE) for i, s in enumerate(sizes)]
    )
    seen: dict[int, set[int]] = {i: set() for i in range(1, len(sizes) + 1)}
    for dev, first, count, single in ops:
        if dev > len(sizes):
            continue
        wanted = {first} if single else set(range(first, first + count))
        try:
            if single:
                writer.write_cluster(dev, first, b"\x01")
            else:
                writer.write_zero_clusters(dev, first, count)
        except ArchiveError as err:
            if max(wanted) >= sizes[dev - 1]:
                assert "out of range" in str(err)
            else:
                dup = min(wanted & seen[dev])
                assert f"found duplicated cluster {dup} of device d{dev - 1}" in str(err)
            continue
        assert max(wanted) < sizes[dev - 1] and not wanted & seen[dev]
        seen[dev] |= wanted
    missing = [
        (dev, min(set(range(sizes[dev - 1])) - got))
        for dev, got in seen.items()
        if len(got) < sizes[dev - 1]
    ]
    try:
        writer.close()
    except ArchiveError as err:
        assert missing
        for dev, first in missing:
            assert f"detected missing cluster {first} of device d{dev - 1}" in str(err)
    else:
        assert not missing


# -- damage ---------------------------------------------------------------------------------


def _sample_archive() -> bytes:
    imgs = [
        ("drive-scsi0", random.Random(1).randbytes(2 * CLUSTER_SIZE) + bytes(CLUSTER_SIZE)),
        ("drive-efidisk0", b"\x01" * 1024),
        ("drive-tpmstate0-backup", bytes(4 * CLUSTER_SIZE)),
    ]
    order = [(1, 0), (2, 0), (1, 2), (3, 3), (3, 0), (1, 1), (3, 1), (3, 2)]
    return write_clusters(imgs, order)


SAMPLE = _sample_archive()
HS = int.from_bytes(SAMPLE[56:60], "big")

# header fields worth hitting more often than the zero-filled reserved areas
_U32_FIELDS = [4, 48, 52, 56, 2044, 2048, 2052, 3068, 3072, 3076, 4096, 4128, 4160, 4192, 4224]
_INTERESTING = st.one_of(
    st.integers(0, 63),
    st.integers(2044, 2060),
    st.integers(3068, 3084),
    st.integers(4096, 4096 + 5 * 32),
    st.integers(12288, HS - 1),
    st.integers(0, HS - 1),
)


def _reseal_header(buf: bytearray) -> None:
    size = int.from_bytes(buf[56:60], "big")
    buf[32:48] = bytes(16)
    buf[32:48] = hashlib.md5(buf[: min(size, len(buf))]).digest()


@PROPS
@given(
    bytes_=st.lists(st.tuples(_INTERESTING, st.integers(0, 255)), max_size=6),
    words=st.lists(st.tuples(st.sampled_from(_U32_FIELDS), st.integers(0, 2**32 - 1)), max_size=3),
    reseal=st.booleans(),
    cut=st.one_of(st.none(), st.integers(0, HS)),
)
def test_read_header_only_raises_archive_error(
    bytes_: list[tuple[int, int]], words: list[tuple[int, int]], reseal: bool, cut: int | None
) -> None:
    buf = bytearray(SAMPLE[:HS])
    for at, value in bytes_:
        buf[at] = value
    for at, value in words:
        buf[at : at + 4] = value.to_bytes(4, "big")
    if reseal:
        _reseal_header(buf)
    if cut is not None:
        del buf[cut:]
    stream = io.BytesIO(bytes(buf))
    try:
        header = read_header(stream)
    except ArchiveError as err:
        assert str(err)
    else:
        assert stream.tell() == header.header_size <= len(buf)
        assert all(1 <= d.dev_id <= 255 for d in header.devices)


@PROPS
@given(
    changes=st.lists(
        st.tuples(st.integers(HS, len(SAMPLE) - 1), st.integers(0, 255)), min_size=1, max_size=6
    ),
    reseal=st.booleans(),
    cut=st.one_of(st.none(), st.integers(HS, len(SAMPLE))),
)
def test_reader_only_raises_archive_error(
    changes: list[tuple[int, int]], reseal: bool, cut: int | None
) -> None:
    buf = bytearray(SAMPLE)
    for at, value in changes:
        buf[at] = value
    if reseal:  # every extent header that still has its magic gets a valid md5 again
        pos = HS
        while pos + 512 <= len(buf) and buf[pos : pos + 4] == b"VMAE":
            buf[pos + 24 : pos + 40] = bytes(16)
            buf[pos + 24 : pos + 40] = hashlib.md5(buf[pos : pos + 512]).digest()
            pos += 512 + 4096 * int.from_bytes(buf[pos + 6 : pos + 8], "big")
    if cut is not None:
        del buf[cut:]
    reader = VmaReader(io.BytesIO(bytes(buf)))
    try:
        for _, _, data in reader.iter_clusters():
            assert data is None or len(data) == CLUSTER_SIZE
    except ArchiveError as err:
        assert str(err)


@given(st.data())
@PROPS
def test_verify_names_the_first_missing_cluster_whatever_came(data: st.DataObject) -> None:
    """Any subset of a device's clusters, in any order: found and first missing as a set says."""
    total = data.draw(st.integers(1, 400))
    present = data.draw(st.lists(st.integers(0, total - 1), unique=True, max_size=total))
    out = io.BytesIO()
    writer = VmaWriter(out, CONF, [("drive-scsi0", total * CLUSTER_SIZE)])
    for n in present:
        writer.write_cluster(1, n, bytes([n % 251 + 1]) * CLUSTER_SIZE if n % 3 else None)
    with contextlib.suppress(ArchiveError):  # incomplete on purpose: close() flushes, then says so
        writer.close()
    [device] = VmaReader(io.BytesIO(out.getvalue())).verify().devices
    missing = sorted(set(range(total)) - set(present))
    assert device.first_missing == (missing[0] if missing else None)
    assert device.clusters_found == len(present)
    assert device.zero_clusters == sum(1 for n in present if not n % 3)
