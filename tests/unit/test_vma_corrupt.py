"""Damaged VMA archives: every problem is a clear ArchiveError naming what and where.

The archive is patched byte by byte at the offsets of the format description
(shared/vma-format.md), with the md5 sums recomputed ("resealed") where a test means to reach
the check behind them.
"""

from __future__ import annotations

import hashlib
import io
import uuid

import pytest

from respaldo.archive.vma import CLUSTER_SIZE, VerifyReport, VmaReader, VmaWriter
from respaldo.errors import ArchiveError, RespaldoError

CONF = {"qemu-server.conf": b"cores: 1\n#qmdump#map:scsi0:drive-a:local:raw:\n"}
SIZE_A = 70 * CLUSTER_SIZE  # 59 clusters in extent 1, 11 in extent 2
SIZE_B = 3 * CLUSTER_SIZE + 1024  # last cluster: only block 0 is inside the device


def cluster_a(n: int) -> bytes | None:
    """Every tenth cluster of drive-a has one stored block, the others are zero."""
    if n % 10:
        return None
    block = (n // 10) % 16
    data = bytearray(CLUSTER_SIZE)
    data[block * 4096 : block * 4096 + 4096] = bytes([n + 1]) * 4096
    return bytes(data)


def build() -> bytearray:
    out = io.BytesIO()
    writer = VmaWriter(
        out, CONF, [("drive-a", SIZE_A), ("drive-b", SIZE_B)], uuid=uuid.UUID(int=1), ctime=5
    )
    for n in range(70):
        writer.write_cluster(1, n, cluster_a(n))
    for n in range(3):
        writer.write_cluster(2, n, None)
    writer.write_cluster(2, 3, b"\x07" * 1024)
    writer.close()
    return bytearray(out.getvalue())


GOOD = bytes(build())
HS = int.from_bytes(GOOD[56:60], "big")
EXT1 = HS
EXT2 = EXT1 + 512 + 4096 * int.from_bytes(GOOD[EXT1 + 6 : EXT1 + 8], "big")


def u32(buf: bytearray, at: int) -> int:
    return int.from_bytes(buf[at : at + 4], "big")


def put(buf: bytearray, at: int, value: int, size: int) -> None:
    buf[at : at + size] = value.to_bytes(size, "big")


def seal_header(buf: bytearray) -> bytearray:
    size = min(u32(buf, 56), len(buf))
    buf[32:48] = bytes(16)
    buf[32:48] = hashlib.md5(buf[:size]).digest()
    return buf


def seal_extent(buf: bytearray, at: int) -> bytearray:
    buf[at + 24 : at + 40] = bytes(16)
    buf[at + 24 : at + 40] = hashlib.md5(buf[at : at + 512]).digest()
    return buf


def entry_at(ext: int, i: int) -> int:
    return ext + 40 + 8 * i


def get_entry(buf: bytearray, ext: int, i: int) -> tuple[int, int, int]:
    """(mask, dev_id, cluster) of blockinfo entry i."""
    value = int.from_bytes(buf[entry_at(ext, i) : entry_at(ext, i) + 8], "big")
    return value >> 48, value >> 32 & 0xFF, value & 0xFFFFFFFF


def set_entry(buf: bytearray, ext: int, i: int, mask: int, dev_id: int, cluster: int) -> None:
    put(buf, entry_at(ext, i), mask << 48 | dev_id << 32 | cluster, 8)


def read_all(data: bytes | bytearray) -> VerifyReport:
    return VmaReader(io.BytesIO(bytes(data))).verify()


def expect_error(data: bytes | bytearray, *fragments: str, offset: int | None) -> ArchiveError:
    with pytest.raises(ArchiveError) as info:
        read_all(data)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert info.value.offset == offset
    if offset is not None:
        assert f"at byte offset {offset}" in str(info.value)
    return info.value


def test_the_base_archive_is_valid() -> None:
    report = read_all(GOOD)
    assert report.ok and report.extents == 2
    assert get_entry(bytearray(GOOD), EXT2, 11) == (0, 2, 0)
    assert get_entry(bytearray(GOOD), EXT2, 14) == (1, 2, 3)


# -- header fields ---------------------------------------------------------------------------


def test_empty_stream() -> None:
    expect_error(b"", "archive is empty", offset=0)


@pytest.mark.parametrize("magic", [b"XMA\0", b"VMA\1", b"\x1f\x8b\x08\0", b"VMAE"])
def test_wrong_magic(magic: bytes) -> None:
    buf = bytearray(GOOD)
    buf[0:4] = magic
    expect_error(buf, "not a VMA archive (wrong magic)", offset=0)


@pytest.mark.parametrize("reseal", [True, False])
def test_wrong_version(reseal: bool) -> None:
    buf = bytearray(GOOD)
    put(buf, 4, 2, 4)
    if reseal:
        seal_header(buf)
    expect_error(buf, "unsupported VMA version 2", offset=4)


@pytest.mark.parametrize("at", [32, 47, 8, 24, 100, 2044, 4096 + 32 + 8, 12288 + 5, HS - 1])
def test_header_checksum_covers_the_whole_header(at: int) -> None:
    buf = bytearray(GOOD)
    buf[at] ^= 0x40
    expect_error(buf, "header checksum (md5) mismatch", offset=32)


@pytest.mark.parametrize("size", [0, 12287, 12288, 2 * 1024 * 1024, 0xFFFFFFFF])
def test_invalid_header_size(size: int) -> None:
    buf = bytearray(GOOD)
    put(buf, 56, size, 4)
    expect_error(seal_header(buf), f"invalid header size {size}", offset=56)


def test_header_size_pointing_elsewhere_is_caught_at_the_first_extent() -> None:
    for size in (HS - 100, HS + 512):
        buf = bytearray(GOOD)
        put(buf, 56, size, 4)
        expect_error(seal_header(buf), "bad extent magic", offset=size)


def test_header_size_change_without_reseal() -> None:
    buf = bytearray(GOOD)
    put(buf, 56, HS + 512, 4)
    expect_error(buf, "header checksum (md5) mismatch", offset=32)


def test_blob_buffer_offset_too_small() -> None:
    buf = bytearray(GOOD)
    put(buf, 48, 12000, 4)
    expect_error(seal_header(buf), "invalid blob buffer offset 12000", offset=48)


def test_blob_buffer_size_past_header_end() -> None:
    buf = bytearray(GOOD)
    put(buf, 52, HS, 4)
    expect_error(seal_header(buf), "blob buffer", "runs past the header end", offset=52)


def test_blob_buffer_size_cutting_a_blob() -> None:
    buf = bytearray(GOOD)
    put(buf, 52, 10, 4)
    expect_error(seal_header(buf), "blob at 1 runs past the blob buffer end", offset=12289)


def test_blob_length_past_buffer_end() -> None:
    buf = bytearray(GOOD)
    buf[12289:12291] = b"\xff\xff"
    expect_error(seal_header(buf), "blob at 1 runs past the blob buffer end", offset=12289)


def test_config_name_pointer_not_at_a_blob() -> None:
    buf = bytearray(GOOD)
    put(buf, 2044, u32(buf, 2044) + 1, 4)
    expect_error(seal_header(buf), "config slot 0 name pointer 2", "blob", offset=2044)


def test_config_data_pointer_not_at_a_blob() -> None:
    buf = bytearray(GOOD)
    put(buf, 3068, 60000, 4)
    err = expect_error(seal_header(buf), "data pointer 60000", offset=3068)
    assert "qemu-server.conf" in str(err)


def test_config_with_name_but_no_data() -> None:
    buf = bytearray(GOOD)
    put(buf, 3068, 0, 4)
    expect_error(seal_header(buf), "config slot 0", "not both", offset=2044)


def test_config_name_not_nul_terminated() -> None:
    buf = bytearray(GOOD)
    put(buf, 2044, u32(buf, 3068), 4)  # the data blob ends in "\n", not NUL
    expect_error(seal_header(buf), "not a NUL-terminated name", offset=2044)


def test_config_twice() -> None:
    buf = bytearray(GOOD)
    buf[2048:2052] = buf[2044:2048]
    buf[3072:3076] = buf[3068:3072]
    expect_error(seal_header(buf), "config 'qemu-server.conf' appears twice", offset=2048)


def test_device_id_zero_used() -> None:
    buf = bytearray(GOOD)
    buf[4096:4128] = buf[4128:4160]
    expect_error(seal_header(buf), "device id 0 is used", offset=4096)


def test_device_size_without_name() -> None:
    buf = bytearray(GOOD)
    put(buf, 4096 + 64, 0, 4)
    expect_error(seal_header(buf), "device 2 has a size but no name", offset=4096 + 64)


def test_device_name_pointer_not_at_a_blob() -> None:
    buf = bytearray(GOOD)
    put(buf, 4096 + 32, u32(buf, 4096 + 32) + 3, 4)
    expect_error(seal_header(buf), "device 1 name pointer", "blob", offset=4096 + 32)


def test_device_name_pointer_past_blob_buffer() -> None:
    buf = bytearray(GOOD)
    put(buf, 4096 + 32, 0xFFFFFFF0, 4)
    expect_error(seal_header(buf), "device 1 name pointer 4294967280", offset=4096 + 32)


def test_device_name_not_utf8() -> None:
    buf = bytearray(GOOD)
    at = buf.index(b"drive-b\0")
    buf[at] = 0xFF
    expect_error(seal_header(buf), "device 2 name", "not valid UTF-8", offset=4096 + 64)


def test_device_of_size_zero() -> None:
    buf = bytearray(GOOD)
    put(buf, 4096 + 64 + 8, 0, 8)
    expect_error(seal_header(buf), "device 2 (drive-b) has size 0", offset=4096 + 64 + 8)


def test_device_name_twice() -> None:
    buf = bytearray(GOOD)
    buf[4096 + 64 : 4096 + 68] = buf[4096 + 32 : 4096 + 36]
    expect_error(seal_header(buf), "device name 'drive-a' appears twice", offset=4096 + 64)


def test_no_devices() -> None:
    buf = bytearray(GOOD)
    buf[4096:12288] = bytes(8192)
    expect_error(seal_header(buf), "archive contains no devices", offset=4096)


# -- truncation ------------------------------------------------------------------------------


def test_truncated_inside_the_magic() -> None:
    expect_error(GOOD[:2], "archive truncated inside the header", offset=2)


def test_truncated_inside_the_fixed_header() -> None:
    expect_error(
        GOOD[:100], "truncated inside the header (expected 12288 bytes, got 100)", offset=100
    )


def test_truncated_inside_the_blob_buffer() -> None:
    expect_error(GOOD[:12500], f"truncated inside the header (expected {HS} bytes", offset=12500)


def test_truncated_inside_an_extent_header() -> None:
    expect_error(GOOD[: EXT2 + 100], "truncated inside an extent header", offset=EXT2 + 100)


def test_truncated_inside_extent_data() -> None:
    cut = EXT1 + 512 + 5000
    expect_error(GOOD[:cut], f"truncated inside the data of the extent at byte {EXT1}", offset=cut)


def test_truncated_at_an_extent_boundary_reports_missing_clusters() -> None:
    report = read_all(GOOD[:EXT2])
    assert report.problems == [
        "detected missing cluster 59 of device drive-a",
        "detected missing cluster 0 of device drive-b",
    ]
    with pytest.raises(ArchiveError, match="detected missing cluster 59 of device drive-a"):
        list(VmaReader(io.BytesIO(GOOD[:EXT2])).iter_clusters())


def test_every_truncation_point_fails_cleanly() -> None:
    for cut in range(0, len(GOOD), 509):
        try:
            report = read_all(GOOD[:cut])
        except ArchiveError as err:
            assert "truncated" in str(err) or "empty" in str(err)
            assert err.offset == cut
        else:
            assert cut in (EXT1, EXT2) and not report.ok


class FailingStream:
    def __init__(self, data: bytes, error: Exception) -> None:
        self._io = io.BytesIO(data)
        self._error = error

    def read(self, size: int, /) -> bytes:
        if self._io.tell() >= HS:
            raise self._error
        return self._io.read(size)


def test_stream_errors_become_archive_errors() -> None:
    reader = VmaReader(FailingStream(GOOD, OSError("disk on fire")))
    with pytest.raises(ArchiveError, match="cannot read archive: disk on fire") as info:
        reader.verify()
    assert info.value.offset == HS
    assert isinstance(info.value.__cause__, OSError)


def test_stream_respaldo_errors_pass_through() -> None:
    reader = VmaReader(FailingStream(GOOD, RespaldoError("cancelled")))
    with pytest.raises(RespaldoError, match="cancelled") as info:
        reader.verify()
    assert not isinstance(info.value, ArchiveError)


# -- extents ---------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", [EXT1, EXT2])
def test_bad_extent_magic(ext: int) -> None:
    buf = bytearray(GOOD)
    buf[ext] = ord("X")
    expect_error(buf, "bad extent magic b'XMAE'", offset=ext)


@pytest.mark.parametrize("at", [24, 30, 39, 6, 8, 40, 511])
def test_extent_checksum(at: int) -> None:
    buf = bytearray(GOOD)
    buf[EXT2 + at] ^= 0x01
    expect_error(buf, "extent header checksum (md5) mismatch", offset=EXT2 + 24)


def test_extent_reserved_not_zero() -> None:
    buf = bytearray(GOOD)
    put(buf, EXT1 + 4, 1, 2)
    expect_error(seal_extent(buf, EXT1), "extent reserved field is 1, not 0", offset=EXT1 + 4)


def test_extent_uuid_differs() -> None:
    buf = bytearray(GOOD)
    buf[EXT2 + 8 : EXT2 + 24] = uuid.UUID(int=2).bytes
    err = expect_error(seal_extent(buf, EXT2), "extent uuid", offset=EXT2 + 8)
    assert str(uuid.UUID(int=1)) in str(err) and str(uuid.UUID(int=2)) in str(err)


def test_block_count_mismatch() -> None:
    buf = bytearray(GOOD)
    count = int.from_bytes(buf[EXT1 + 6 : EXT1 + 8], "big")
    put(buf, EXT1 + 6, count + 1, 2)
    expect_error(
        seal_extent(buf, EXT1),
        f"extent block_count {count + 1} does not match the {count} blocks",
        "missing blocks",
        offset=EXT1 + 6,
    )


def test_mask_bit_without_data() -> None:
    buf = bytearray(GOOD)
    set_entry(buf, EXT1, 1, 0x0001, 1, 1)
    expect_error(seal_extent(buf, EXT1), "block_count", "missing blocks", offset=EXT1 + 6)


def test_duplicated_cluster_across_extents() -> None:
    buf = bytearray(GOOD)
    assert get_entry(buf, EXT2, 0) == (0, 1, 59)
    set_entry(buf, EXT2, 0, 0, 1, 1)
    expect_error(
        seal_extent(buf, EXT2),
        "found duplicated cluster 1 of device drive-a",
        offset=entry_at(EXT2, 0),
    )


def test_duplicated_cluster_in_one_extent() -> None:
    buf = bytearray(GOOD)
    set_entry(buf, EXT1, 2, 0, 1, 1)
    expect_error(
        seal_extent(buf, EXT1),
        "found duplicated cluster 1 of device drive-a",
        offset=entry_at(EXT1, 2),
    )


def test_missing_cluster() -> None:
    buf = bytearray(GOOD)
    set_entry(buf, EXT1, 5, 0, 0, 0)
    seal_extent(buf, EXT1)
    report = read_all(buf)
    assert report.problems == ["detected missing cluster 5 of device drive-a"]
    assert report.devices[0].first_missing == 5
    assert report.devices[0].clusters_found == 69
    assert report.devices[1].first_missing is None
    with pytest.raises(ArchiveError, match="detected missing cluster 5 of device drive-a"):
        list(VmaReader(io.BytesIO(bytes(buf))).iter_clusters())


def test_first_missing_cluster_of_each_device() -> None:
    buf = bytearray(GOOD)
    for i in (7, 3, 41):
        set_entry(buf, EXT1, i, 0, 0, 0)
    set_entry(buf, EXT2, 12, 0, 0, 0)  # drive-b cluster 1
    seal_extent(seal_extent(buf, EXT1), EXT2)
    assert read_all(buf).problems == [
        "detected missing cluster 3 of device drive-a",
        "detected missing cluster 1 of device drive-b",
    ]


@pytest.mark.parametrize("dev_id", [3, 7, 255])
def test_unknown_device_id(dev_id: int) -> None:
    buf = bytearray(GOOD)
    set_entry(buf, EXT2, 1, 0, dev_id, 60)
    expect_error(seal_extent(buf, EXT2), f"unknown device id {dev_id}", offset=entry_at(EXT2, 1))


def test_cluster_out_of_range() -> None:
    buf = bytearray(GOOD)
    set_entry(buf, EXT2, 1, 0, 1, 70)
    expect_error(
        seal_extent(buf, EXT2),
        "cluster 70 is out of range for device drive-a (70 clusters)",
        offset=entry_at(EXT2, 1),
    )


def test_unused_entry_not_zero() -> None:
    buf = bytearray(GOOD)
    put(buf, entry_at(EXT2, 20), 5, 8)
    expect_error(
        seal_extent(buf, EXT2), "unused blockinfo entry 20 is not zero", offset=entry_at(EXT2, 20)
    )


def test_block_stored_past_device_end() -> None:
    buf = bytearray(GOOD)
    assert get_entry(buf, EXT2, 14) == (1, 2, 3)  # last entry, its data ends the file
    set_entry(buf, EXT2, 14, 0b11, 2, 3)
    put(buf, EXT2 + 6, int.from_bytes(buf[EXT2 + 6 : EXT2 + 8], "big") + 1, 2)
    buf += b"\x01" * 4096
    expect_error(
        seal_extent(buf, EXT2),
        "cluster 3 of device drive-b stores blocks past its end",
        offset=entry_at(EXT2, 14),
    )


def test_vmstate_out_of_order() -> None:
    buf = bytearray(GOOD)
    at = buf.index(b"drive-b\0")
    buf[at : at + 7] = b"vmstate"
    seal_header(buf)
    assert read_all(buf).ok  # a vmstate stream in order is fine and skipped
    set_entry(buf, EXT2, 11, 0, 2, 1)
    set_entry(buf, EXT2, 12, 0, 2, 0)
    expect_error(seal_extent(buf, EXT2), "out of order vmstate data", offset=entry_at(EXT2, 11))


def test_garbage_after_the_last_extent() -> None:
    expect_error(GOOD + b"\0" * 512, "bad extent magic", offset=len(GOOD))
