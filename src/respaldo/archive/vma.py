"""Reading and writing Proxmox VE's VMA archive format.

VMA is the stream format vzdump writes for QEMU VMs (see ``shared/vma-format.md``): a header
holding the VM configuration and the device list, then extents of up to 59 clusters of 64 KiB,
where all-zero 4 KiB blocks are not stored. respaldo writes it so its backups restore on Proxmox
and reads it so Proxmox backups restore here.

The code is written for the hot path of a multi-GiB backup: every per-byte operation runs in C
(bytes comparison, ``startswith``, ``join``, ``struct``), Python only loops over blocks, clusters
and extents, and memory stays flat (one extent buffered, one bit per cluster for bookkeeping).
The reader's bookkeeping grows with the clusters the archive holds, never with the device sizes
its header claims (a 12 KiB header may claim 255 devices of 256 TiB each).
Every problem with an archive becomes an ``ArchiveError`` carrying the byte offset when known.
"""

from __future__ import annotations

import hashlib
import re
import struct
import time
import uuid as uuid_mod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Final, Protocol

from pyroaring import BitMap

from respaldo.archive.background import BackgroundWorker
from respaldo.archive.digest import (
    CLUSTER_KEY,
    DeviceDigest,
    SparseDigest,
    block_runs,
    cluster_masks,
)
from respaldo.errors import ArchiveError, RespaldoError

# -- format constants -----------------------------------------------------------------------

BLOCK_SIZE: Final = 4096
CLUSTER_SIZE: Final = 65536
BLOCKS_PER_CLUSTER: Final = 16
MAX_CLUSTERS_PER_EXTENT: Final = 59
MAX_BLOCKS_PER_EXTENT: Final = MAX_CLUSTERS_PER_EXTENT * BLOCKS_PER_CLUSTER
SECTOR_SIZE: Final = 512
FULL_MASK: Final = 0xFFFF

VMA_MAGIC: Final = b"VMA\0"
EXTENT_MAGIC: Final = b"VMAE"
VMA_VERSION: Final = 1
#: Size of the fixed part of the header; the blob buffer follows it.
HEADER_FIXED_SIZE: Final = 12288
EXTENT_HEADER_SIZE: Final = 512
#: Proxmox's writer never makes a header above 512 KiB; twice that bounds what we read.
MAX_HEADER_SIZE: Final = 1024 * 1024
WRITER_MAX_HEADER_SIZE: Final = 512 * 1024
MAX_BLOB_SIZE: Final = 0xFFFF
MAX_CONFIGS: Final = 256
MAX_DEVICES: Final = 255
#: Cluster numbers are 32 bits in a blockinfo entry.
MAX_CLUSTERS_PER_DEVICE: Final = 1 << 32

VMSTATE_DEVICE: Final = "vmstate"
CONFIG_NAME: Final = "qemu-server.conf"
FIREWALL_NAME: Final = "qemu-server.fw"

# Header layout: magic, version, uuid, ctime, md5, blob_buffer_offset, blob_buffer_size,
# header_size; then the config pointer tables and the device table.
_HEAD = struct.Struct(">4sI16sq16sIII")
_MD5_AT: Final = 32
_BLOB_OFFSET_AT: Final = 48
_BLOB_SIZE_AT: Final = 52
_HEADER_SIZE_AT: Final = 56
_CONFIG_NAMES_AT: Final = 2044
_CONFIG_DATA_AT: Final = 3068
_CONFIG_PTRS = struct.Struct(">256I")
_DEV_INFO_AT: Final = 4096
_DEV_INFO = struct.Struct(">IIQ16x")
# Extent header: magic, reserved, block_count, uuid, md5, blockinfo[59].
_EXTENT = struct.Struct(">4sHH16s16s59Q")
_EXTENT_HEAD = struct.Struct(">4sHH16s16s")
_EXTENT_MD5_AT: Final = 24
_BLOCKINFO_AT: Final = 40

_ZERO_BLOCK: Final = bytes(BLOCK_SIZE)
_ZERO_CLUSTER: Final = bytes(CLUSTER_SIZE)
_ZERO_MD5: Final = bytes(16)
_BLOCK_OFFSETS: Final = tuple(range(0, CLUSTER_SIZE, BLOCK_SIZE))
_EMPTY_ENTRIES: Final = (0,) * MAX_CLUSTERS_PER_EXTENT
_FULL_ENTRY: Final = FULL_MASK << 48
_UNCOPIED_MIN: Final = 1 << 20

assert _HEAD.size == 60 and _DEV_INFO.size == 32 and _EXTENT.size == EXTENT_HEADER_SIZE


class ReadableStream(Protocol):
    """What the reader needs: ``read(n)`` returning at most n bytes, b"" at the end."""

    def read(self, size: int, /) -> bytes: ...


class WritableStream(Protocol):
    """What the writer needs: a compressor stream or file, possibly not seekable. It is
    handed bytes and read-only views of bytes, which it may keep until it has written them."""

    def write(self, data: bytes | memoryview, /) -> object: ...


class SeekableOutput(Protocol):
    """A restore target for :meth:`VmaReader.extract`: a new file or block device."""

    def seek(self, offset: int, whence: int = ..., /) -> int: ...

    def write(self, data: bytes, /) -> object: ...

    def truncate(self, size: int | None = ..., /) -> int: ...


ClusterSink = Callable[[int, bytes | None], object]

# -- data model -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VmaDevice:
    """One disk image (or the ``vmstate`` RAM stream) stored in the archive."""

    dev_id: int
    name: str
    size: int

    @property
    def clusters(self) -> int:
        """Number of clusters the archive must hold for this device."""
        return -(-self.size // CLUSTER_SIZE)

    @property
    def is_vmstate(self) -> bool:
        return self.name == VMSTATE_DEVICE


@dataclass(frozen=True, slots=True)
class VmaHeader:
    """The parsed archive header: enough to show or restore the configuration instantly."""

    uuid: uuid_mod.UUID
    ctime: int
    configs: dict[str, bytes]
    devices: list[VmaDevice]
    header_size: int
    blob_buffer_size: int = 0

    def config_text(self) -> str:
        """The VM configuration (``qemu-server.conf``) as text."""
        data = self.configs.get(CONFIG_NAME)
        if data is None:
            raise ArchiveError(f"archive has no {CONFIG_NAME}")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ArchiveError(f"{CONFIG_NAME} in the archive is not valid UTF-8") from err

    def device(self, dev_id: int) -> VmaDevice:
        """The device with this id; an ``ArchiveError`` names the ids that exist."""
        for dev in self.devices:
            if dev.dev_id == dev_id:
                return dev
        known = ", ".join(str(d.dev_id) for d in self.devices)
        raise ArchiveError(f"archive has no device {dev_id} (devices: {known})")


@dataclass(frozen=True, slots=True)
class QmdumpMap:
    """One ``#qmdump#map:`` line: where a disk of the archived VM came from."""

    disk_key: str
    devname: str
    storage: str
    format: str


# -- cluster bookkeeping ----------------------------------------------------------------------


class _ClusterMap:
    """One bit per cluster of a device (2 MiB per TiB of disk): which clusters were seen.

    Range operations work on whole bytes in C so a 100 GiB zero run costs microseconds.
    """

    __slots__ = ("bits", "count", "total")

    def __init__(self, total: int) -> None:
        self.total = total
        self.count = 0
        self.bits = bytearray((total + 7) // 8)

    def has(self, n: int) -> bool:
        return bool(self.bits[n >> 3] & (1 << (n & 7)))

    def add(self, n: int) -> bool:
        """Mark cluster n; False if it was marked already."""
        i = n >> 3
        bit = 1 << (n & 7)
        byte = self.bits[i]
        if byte & bit:
            return False
        self.bits[i] = byte | bit
        self.count += 1
        return True

    def add_range(self, first: int, count: int) -> int | None:
        """Mark clusters first..first+count-1; on overlap mark nothing, return the first seen."""
        end = first + count
        dup = self.find(first, end, want=1)
        if dup is not None:
            return dup
        lo = min(-(-first // 8) * 8, end)
        hi = max(end // 8 * 8, lo)
        for n in (*range(first, lo), *range(hi, end)):
            self.bits[n >> 3] |= 1 << (n & 7)
        if hi > lo:
            self.bits[lo >> 3 : hi >> 3] = b"\xff" * ((hi - lo) >> 3)
        self.count += count
        return None

    def find(self, start: int, end: int, want: int) -> int | None:
        """First cluster in [start, end) whose bit is ``want``, scanning whole bytes in C."""
        lo = min(-(-start // 8) * 8, end)
        hi = max(end // 8 * 8, lo)
        for n in range(start, lo):
            if self.has(n) == bool(want):
                return n
        if hi > lo:
            chunk = self.bits[lo >> 3 : hi >> 3]
            skip = len(chunk) - len(chunk.lstrip(b"\x00" if want else b"\xff"))
            if skip < len(chunk):
                base = lo + skip * 8
                return next(n for n in range(base, base + 8) if self.has(n) == bool(want))
        for n in range(hi, end):
            if self.has(n) == bool(want):
                return n
        return None

    def first_missing(self) -> int | None:
        if self.count == self.total:
            return None
        return self.find(0, self.total, want=0)


class _SeenClusters:
    """Which of a device's ``total`` clusters an archive being read held so far.

    A roaring bitmap: memory follows the clusters seen (a few bytes each while they are
    scattered, about one bit each once dense), not ``total``, which only the header claims.
    """

    __slots__ = ("bits", "total")

    def __init__(self, total: int) -> None:
        self.total = total
        self.bits = BitMap()

    @property
    def count(self) -> int:
        return len(self.bits)

    def add(self, n: int) -> bool:
        """Mark cluster n; False if it was marked already."""
        try:
            self.bits.add_checked(n)
        except KeyError:
            return False
        return True

    def first_missing(self) -> int | None:
        if len(self.bits) >= self.total:
            return None
        # rank(m) counts the clusters <= m seen; the first missing cluster is the smallest m
        # where that count falls behind m + 1 (a binary search: 32 steps at most).
        lo, hi = 0, self.total - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.bits.rank(mid) <= mid:
                hi = mid
            else:
                lo = mid + 1
        return lo


def _missing_message(cluster: int, devname: str) -> str:
    return f"detected missing cluster {cluster} of device {devname}"


def _duplicate_message(cluster: int, devname: str) -> str:
    return f"found duplicated cluster {cluster} of device {devname}"


# -- header: writing --------------------------------------------------------------------------


class _BlobBuffer:
    """The header's blob buffer: u16-LE length + data, starting at offset 1 (0 = none)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = [b"\0"]
        self._size = 1

    def add(self, data: bytes, what: str) -> int:
        if len(data) > MAX_BLOB_SIZE:
            raise ArchiveError(f"{what} is {len(data)} bytes, more than {MAX_BLOB_SIZE}")
        ptr = self._size
        self._parts.append(len(data).to_bytes(2, "little") + data)
        self._size += 2 + len(data)
        return ptr

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


def _c_string(text: str, what: str) -> bytes:
    """A NUL-terminated name blob; names must be non-empty and free of NUL."""
    if not text or "\0" in text:
        raise ArchiveError(f"invalid {what} {text!r}: must be non-empty and without NUL")
    return text.encode("utf-8") + b"\0"


def _check_devices(devices: Sequence[tuple[str, int]]) -> None:
    """Refuse device lists Proxmox could not restore, before anything is written."""
    if not 1 <= len(devices) <= MAX_DEVICES:
        raise ArchiveError(f"an archive holds 1 to {MAX_DEVICES} devices, got {len(devices)}")
    names = [name for name, _ in devices]
    for name, size in devices:
        if name == VMSTATE_DEVICE or names.count(name) > 1:
            raise ArchiveError(f"device name {name!r} is reserved or used twice")
        if size <= 0 or size % SECTOR_SIZE:
            raise ArchiveError(f"device {name} size {size} is not a positive multiple of 512")
        if -(-size // CLUSTER_SIZE) > MAX_CLUSTERS_PER_DEVICE:
            raise ArchiveError(f"device {name} of {size} bytes is too large for VMA")


def _encode_header(
    configs: Mapping[str, bytes], devices: Sequence[tuple[str, int]], uid: uuid_mod.UUID, ctime: int
) -> tuple[VmaHeader, bytes]:
    """Build the header bytes (md5 included) and the matching ``VmaHeader``."""
    if len(configs) > MAX_CONFIGS:
        raise ArchiveError(f"an archive holds at most {MAX_CONFIGS} configs, got {len(configs)}")
    _check_devices(devices)
    if not -(1 << 63) <= ctime < 1 << 63:
        raise ArchiveError(f"ctime {ctime} does not fit in 64 bits")
    blobs = _BlobBuffer()
    name_ptrs = [0] * MAX_CONFIGS
    data_ptrs = [0] * MAX_CONFIGS
    for i, (name, data) in enumerate(configs.items()):
        name_ptrs[i] = blobs.add(_c_string(name, "config name"), f"config name {name!r}")
        data_ptrs[i] = blobs.add(bytes(data), f"config {name}")
    dev_ptrs = [blobs.add(_c_string(n, "device name"), f"device name {n!r}") for n, _ in devices]
    blob = blobs.getvalue()
    header_size = -(-(HEADER_FIXED_SIZE + len(blob)) // SECTOR_SIZE) * SECTOR_SIZE
    if header_size > WRITER_MAX_HEADER_SIZE:
        raise ArchiveError(f"header of {header_size} bytes exceeds {WRITER_MAX_HEADER_SIZE}")
    head = bytearray(header_size)
    _HEAD.pack_into(
        head, 0, VMA_MAGIC, VMA_VERSION, uid.bytes, ctime, _ZERO_MD5,
        HEADER_FIXED_SIZE, len(blob), header_size,
    )  # fmt: skip
    _CONFIG_PTRS.pack_into(head, _CONFIG_NAMES_AT, *name_ptrs)
    _CONFIG_PTRS.pack_into(head, _CONFIG_DATA_AT, *data_ptrs)
    for dev_id, (ptr, (_, size)) in enumerate(zip(dev_ptrs, devices, strict=True), start=1):
        _DEV_INFO.pack_into(head, _DEV_INFO_AT + 32 * dev_id, ptr, 0, size)
    head[HEADER_FIXED_SIZE : HEADER_FIXED_SIZE + len(blob)] = blob
    head[_MD5_AT : _MD5_AT + 16] = _md5(head)
    header = VmaHeader(
        uuid=uid,
        ctime=ctime,
        configs={name: bytes(data) for name, data in configs.items()},
        devices=[VmaDevice(i, n, s) for i, (n, s) in enumerate(devices, start=1)],
        header_size=header_size,
        blob_buffer_size=len(blob),
    )
    return header, bytes(head)


def _md5(data: bytes | bytearray) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()


# -- header: reading --------------------------------------------------------------------------


def _read_exact(stream: ReadableStream, size: int, offset: int) -> bytes:
    """Read up to ``size`` bytes, looping over short reads; fewer only at end of stream.

    Decompressor streams return short reads; a stream error becomes an ``ArchiveError``.
    """
    parts: list[bytes] = []
    got = 0
    while got < size:
        try:
            chunk = stream.read(size - got)
        except RespaldoError:
            raise
        except Exception as err:
            raise ArchiveError(f"cannot read archive: {err}", offset + got) from err
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_header(stream: ReadableStream) -> VmaHeader:
    """Read and validate the header, consuming exactly ``header_size`` bytes of the stream.

    Nothing past the header is read, so showing the configuration of a huge archive is instant
    and the stream is left at the first extent for :class:`VmaReader`.
    """
    fixed = _read_exact(stream, HEADER_FIXED_SIZE, 0)
    if not fixed:
        raise ArchiveError("archive is empty", 0)
    if not fixed.startswith(VMA_MAGIC) and not VMA_MAGIC.startswith(fixed):
        raise ArchiveError("not a VMA archive (wrong magic)", 0)
    if len(fixed) < HEADER_FIXED_SIZE:
        raise _truncated("the header", HEADER_FIXED_SIZE, len(fixed), 0)
    (_, version, uid, ctime, md5, blob_offset, blob_size, header_size) = _HEAD.unpack_from(fixed)
    if version != VMA_VERSION:
        raise ArchiveError(f"unsupported VMA version {version} (only 1 is known)", 4)
    if not HEADER_FIXED_SIZE < header_size <= MAX_HEADER_SIZE:
        raise ArchiveError(f"invalid header size {header_size}", _HEADER_SIZE_AT)
    rest = _read_exact(stream, header_size - HEADER_FIXED_SIZE, HEADER_FIXED_SIZE)
    if len(rest) < header_size - HEADER_FIXED_SIZE:
        raise _truncated("the header", header_size, HEADER_FIXED_SIZE + len(rest), 0)
    head = bytearray(fixed + rest)
    head[_MD5_AT : _MD5_AT + 16] = _ZERO_MD5
    if _md5(head) != md5:
        raise ArchiveError("header checksum (md5) mismatch", _MD5_AT)
    blobs = _parse_blobs(head, blob_offset, blob_size, header_size)
    return VmaHeader(
        uuid=uuid_mod.UUID(bytes=uid),
        ctime=ctime,
        configs=_parse_configs(head, blobs),
        devices=_parse_devices(head, blobs),
        header_size=header_size,
        blob_buffer_size=blob_size,
    )


def check_capacity(header: VmaHeader, archive_bytes: int | None) -> None:
    """Refuse a header that claims more than an archive of ``archive_bytes`` can hold.

    ``archive_bytes`` is the size of the uncompressed VMA stream, known without reading it
    only for an uncompressed file (None: unknown, nothing to check). Every cluster of every
    disk needs an 8-byte blockinfo entry, and one 512-byte extent header holds at most 59 of
    them, so the disks' clusters need at least ``ceil(clusters / 59) * 512`` bytes after the
    header, even when all zero.
    Restore and extract call this before they allocate anything of the claimed sizes; an
    ``ArchiveError`` names the claim and the size.
    """
    disks = [d for d in header.devices if not d.is_vmstate]
    clusters = sum(d.clusters for d in disks)
    needed = header.header_size + -(-clusters // MAX_CLUSTERS_PER_EXTENT) * EXTENT_HEADER_SIZE
    if archive_bytes is None or needed <= archive_bytes or not disks:
        return
    largest = max(disks, key=lambda d: d.size)
    raise ArchiveError(
        f"archive truncated or its header damaged: it is {archive_bytes} bytes, but its header "
        f"claims {len(disks)} disk(s) of {sum(d.size for d in disks)} bytes in all (the "
        f"largest, {largest.name}, of {largest.size} bytes), whose {clusters} clusters need "
        f"at least {needed} bytes"
    )


def _truncated(what: str, expected: int, got: int, start: int) -> ArchiveError:
    return ArchiveError(
        f"archive truncated inside {what} (expected {expected} bytes, got {got})", start + got
    )


class _Blobs:
    """Blob lookup by pointer; only chain starts are valid pointers, as in Proxmox's reader."""

    def __init__(self, head: bytearray, start: dict[int, tuple[int, int]]) -> None:
        self._head = head
        self._start = start

    def data(self, ptr: int, what: str, at: int) -> bytes:
        found = self._start.get(ptr)
        if found is None:
            raise ArchiveError(f"{what} pointer {ptr} does not point at a blob", at)
        begin, length = found
        return bytes(self._head[begin : begin + length])

    def string(self, ptr: int, what: str, at: int) -> str:
        raw = self.data(ptr, what, at)
        if len(raw) < 2 or raw[-1] != 0 or 0 in raw[:-1]:
            raise ArchiveError(f"{what} at blob {ptr} is not a NUL-terminated name", at)
        try:
            return raw[:-1].decode("utf-8")
        except UnicodeDecodeError as err:
            raise ArchiveError(f"{what} at blob {ptr} is not valid UTF-8", at) from err


def _parse_blobs(head: bytearray, offset: int, size: int, header_size: int) -> _Blobs:
    """Walk the blob chain once (bounded by the header size) and index blob starts."""
    if offset < HEADER_FIXED_SIZE:
        raise ArchiveError(f"invalid blob buffer offset {offset}", _BLOB_OFFSET_AT)
    if offset + size > header_size:
        raise ArchiveError(
            f"blob buffer ({size} bytes at {offset}) runs past the header end {header_size}",
            _BLOB_SIZE_AT,
        )
    starts: dict[int, tuple[int, int]] = {}
    pos = 1
    while pos + 2 <= size:
        length = head[offset + pos] | head[offset + pos + 1] << 8
        if pos + 2 + length > size:
            raise ArchiveError(f"blob at {pos} runs past the blob buffer end", offset + pos)
        starts[pos] = (offset + pos + 2, length)
        pos += 2 + length
    return _Blobs(head, starts)


def _parse_configs(head: bytearray, blobs: _Blobs) -> dict[str, bytes]:
    names = _CONFIG_PTRS.unpack_from(head, _CONFIG_NAMES_AT)
    datas = _CONFIG_PTRS.unpack_from(head, _CONFIG_DATA_AT)
    configs: dict[str, bytes] = {}
    for i, (name_ptr, data_ptr) in enumerate(zip(names, datas, strict=True)):
        if not name_ptr and not data_ptr:
            continue
        at = _CONFIG_NAMES_AT + 4 * i
        if not (name_ptr and data_ptr):
            raise ArchiveError(f"config slot {i} has a name or data pointer but not both", at)
        name = blobs.string(name_ptr, f"config slot {i} name", at)
        if name in configs:
            raise ArchiveError(f"config {name!r} appears twice", at)
        configs[name] = blobs.data(data_ptr, f"config {name!r} data", _CONFIG_DATA_AT + 4 * i)
    return configs


def _parse_devices(head: bytearray, blobs: _Blobs) -> list[VmaDevice]:
    devices: list[VmaDevice] = []
    for dev_id, (ptr, _, size) in enumerate(
        _DEV_INFO.iter_unpack(head[_DEV_INFO_AT:HEADER_FIXED_SIZE])
    ):
        at = _DEV_INFO_AT + 32 * dev_id
        if not ptr and not size:
            continue
        if dev_id == 0:
            raise ArchiveError("device id 0 is used (devices are 1..255)", at)
        if not ptr:
            raise ArchiveError(f"device {dev_id} has a size but no name", at)
        name = blobs.string(ptr, f"device {dev_id} name", at)
        if not size and name != VMSTATE_DEVICE:
            raise ArchiveError(f"device {dev_id} ({name}) has size 0", at + 8)
        if -(-size // CLUSTER_SIZE) > MAX_CLUSTERS_PER_DEVICE:
            raise ArchiveError(f"device {dev_id} ({name}) size {size} is too large", at + 8)
        if any(d.name == name for d in devices):
            raise ArchiveError(f"device name {name!r} appears twice", at)
        devices.append(VmaDevice(dev_id, name, size))
    if not devices:
        raise ArchiveError("archive contains no devices", _DEV_INFO_AT)
    return devices


# -- writer -----------------------------------------------------------------------------------


def _stored_device_bytes(mask: int, valid: int) -> int:
    """Bytes of the device (not of padding) inside the stored blocks of a cluster."""
    if valid == CLUSTER_SIZE:
        return mask.bit_count() * BLOCK_SIZE
    return sum(
        min(BLOCK_SIZE, max(0, valid - off))
        for j, off in enumerate(_BLOCK_OFFSETS)
        if mask >> j & 1
    )


@dataclass(slots=True)
class _WriteDevice:
    dev: VmaDevice
    seen: _ClusterMap

    def valid_length(self, cluster_no: int) -> int:
        """Bytes of the device inside this cluster; an ``ArchiveError`` if out of range."""
        if not 0 <= cluster_no < self.seen.total:
            raise ArchiveError(
                f"cluster {cluster_no} is out of range for device {self.dev.name} "
                f"({self.seen.total} clusters)"
            )
        return min(CLUSTER_SIZE, self.dev.size - cluster_no * CLUSTER_SIZE)


class VmaWriter:
    """Writes a VMA stream: the header at construction, then extents of up to 59 clusters.

    ``out`` only needs a ``write`` that takes all it is given (a buffered file or a compressor,
    never a raw unbuffered one); it is not closed here. Clusters
    may come in any order, each exactly once; ``close()`` checks that every cluster of every
    device was written. Counters: ``bytes_total`` (device bytes handed in), ``bytes_zero``
    (of those, bytes in all-zero blocks that were not stored), ``bytes_written`` (archive
    bytes given to ``out``, headers included).
    """

    def __init__(
        self,
        out: WritableStream,
        configs: Mapping[str, bytes],
        devices: Sequence[tuple[str, int]],
        uuid: uuid_mod.UUID | None = None,
        ctime: int | None = None,
        digests: bool = False,
    ) -> None:
        uid = uuid if uuid is not None else uuid_mod.uuid4()
        stamp = ctime if ctime is not None else int(time.time())
        self.header, head = _encode_header(configs, devices, uid, stamp)
        self._out = out
        self._uuid = uid.bytes
        self._devices = {
            d.dev_id: _WriteDevice(d, _ClusterMap(d.clusters)) for d in self.header.devices
        }
        self._entries: list[int] = []
        self._payload: list[bytes | memoryview] = []
        self._small = bytearray()  # small parts gathered for one write (see _send)
        self._blocks = 0
        self._closed = False
        self.bytes_total = 0
        self.bytes_zero = 0
        self.bytes_written = 0
        self.extents = 0
        self._digests = (
            {d.dev_id: SparseDigest(d.name, d.size) for d in self.header.devices} if digests else {}
        )
        # Hashing runs beside the stream (the GIL is released in SHA-256 of large buffers).
        self._hasher = BackgroundWorker("vma-digest") if digests else None
        self._emit(head)

    def __enter__(self) -> VmaWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close (and check completeness) only on success; a failed backup is discarded."""
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _device(self, dev_id: int) -> _WriteDevice:
        if self._closed:
            raise ArchiveError("VMA writer is closed")
        dev = self._devices.get(dev_id)
        if dev is None:
            raise ArchiveError(f"no device {dev_id} in this archive (1..{len(self._devices)})")
        return dev

    def write_cluster(
        self, dev_id: int, cluster_no: int, data: bytes | bytearray | memoryview | None
    ) -> None:
        """Add one cluster; ``data`` up to 64 KiB (zero-padded), ``None`` for all zeros."""
        if data is None:
            self.write_zero_clusters(dev_id, cluster_no, 1)
            return
        dev = self._device(dev_id)
        raw = data if type(data) is bytes else bytes(data)
        if len(raw) != CLUSTER_SIZE:
            raw = self._pad(raw, dev.dev.name, cluster_no)
        self.write_clusters(dev_id, cluster_no, raw)

    def write_clusters(
        self, dev_id: int, first: int, data: bytes | bytearray, start: int = 0, count: int = 1
    ) -> None:
        """Add ``count`` whole clusters from ``first`` on, held in ``data[start:]``.

        ``data`` is not copied: the archive stream and the digest take read-only slices of
        it, so it must never change afterwards (bytes, or a bytearray handed over for good).
        The device's short last cluster comes zero-padded to 64 KiB.
        """
        dev = self._device(dev_id)
        end = start + count * CLUSTER_SIZE
        if count <= 0 or start < 0 or end > len(data):
            raise ArchiveError(
                f"{count} clusters from byte {start} do not fit in a buffer of {len(data)} bytes"
            )
        dev.valid_length(first)
        last_valid = dev.valid_length(first + count - 1)
        if last_valid < CLUSTER_SIZE and data.count(0, end - CLUSTER_SIZE + last_valid, end) != (
            CLUSTER_SIZE - last_valid
        ):
            raise ArchiveError(
                f"cluster {first + count - 1} of device {dev.dev.name} has data past the device end"
            )
        dup = dev.seen.add_range(first, count)
        if dup is not None:
            raise ArchiveError(_duplicate_message(dup, dev.dev.name))
        masks = cluster_masks(data, start, count)
        nbytes = (count - 1) * CLUSTER_SIZE + last_valid
        stored = sum(m.bit_count() for m in masks[:-1]) * BLOCK_SIZE
        stored += _stored_device_bytes(masks[-1], last_valid)
        self.bytes_total += nbytes
        self.bytes_zero += nbytes - stored
        view = memoryview(data).toreadonly()[start:end]
        keys, blocks = self._store(dev_id, first, view, masks)
        if self._hasher is not None:
            digest = self._digests[dev_id]
            self._hasher.submit(digest.add_run, first, first + count - 1, keys, blocks)

    def _store(
        self, dev_id: int, first: int, view: memoryview, masks: list[int]
    ) -> tuple[bytes, list[memoryview]]:
        """Add the clusters' entries and blocks to the extent being built, flushing it when
        full; returns the digest's keys and blocks for them."""
        base = dev_id << 32
        keys: list[bytes] = []
        blocks: list[memoryview] = []
        i = 0
        while i < len(masks):
            take = min(len(masks) - i, MAX_CLUSTERS_PER_EXTENT - len(self._entries))
            n = first + i
            if masks[i : i + take].count(FULL_MASK) == take:
                # A run of full clusters: one slice of the buffer, whatever its length.
                self._entries.extend(range(_FULL_ENTRY | base | n, _FULL_ENTRY | base | (n + take)))
                parts = [view[i * CLUSTER_SIZE : (i + take) * CLUSTER_SIZE]]
                keys.extend(map(CLUSTER_KEY.pack, range(n, n + take), [FULL_MASK] * take))
                self._blocks += take * BLOCKS_PER_CLUSTER
            else:
                parts = []
                for k in range(i, i + take):
                    mask = masks[k]
                    self._entries.append(mask << 48 | base | (first + k))
                    if mask:
                        at = k * CLUSTER_SIZE
                        parts.extend(view[at + a : at + b] for a, b in block_runs(mask))
                        keys.append(CLUSTER_KEY.pack(first + k, mask))
                        self._blocks += mask.bit_count()
            self._payload.extend(parts)
            blocks.extend(parts)
            i += take
            if len(self._entries) >= MAX_CLUSTERS_PER_EXTENT:
                self._flush()
        return b"".join(keys), blocks

    @staticmethod
    def _pad(raw: bytes, devname: str, cluster_no: int) -> bytes:
        if len(raw) > CLUSTER_SIZE:
            raise ArchiveError(
                f"cluster {cluster_no} of device {devname} has {len(raw)} bytes, "
                f"more than {CLUSTER_SIZE}"
            )
        return raw + _ZERO_CLUSTER[len(raw) :]

    def write_zero_clusters(self, dev_id: int, first: int, count: int) -> None:
        """Add ``count`` all-zero clusters from ``first`` on: O(extents), not O(clusters)."""
        dev = self._device(dev_id)
        if count <= 0:
            if count == 0:
                return
            raise ArchiveError(f"negative cluster count {count}")
        dev.valid_length(first)
        last_valid = dev.valid_length(first + count - 1)
        dup = dev.seen.add_range(first, count)
        if dup is not None:
            raise ArchiveError(_duplicate_message(dup, dev.dev.name))
        nbytes = (count - 1) * CLUSTER_SIZE + last_valid
        if self._hasher is not None:
            self._hasher.submit(self._digests[dev_id].skip, first + count - 1)
        self.bytes_total += nbytes
        self.bytes_zero += nbytes
        base = dev_id << 32
        pos, end = first, first + count
        while pos < end:
            take = min(end - pos, MAX_CLUSTERS_PER_EXTENT - len(self._entries))
            self._entries.extend(range(base + pos, base + pos + take))
            pos += take
            if len(self._entries) >= MAX_CLUSTERS_PER_EXTENT:
                self._flush()

    def _flush(self) -> None:
        """Emit the buffered extent: its header (md5 over it), then its blocks."""
        if not self._entries:
            return
        entries = self._entries + list(_EMPTY_ENTRIES[len(self._entries) :])
        head = bytearray(
            _EXTENT.pack(EXTENT_MAGIC, 0, self._blocks, self._uuid, _ZERO_MD5, *entries)
        )
        head[_EXTENT_MD5_AT : _EXTENT_MD5_AT + 16] = _md5(head)
        self._send(bytes(head))
        for part in self._payload:
            self._send(part)
        if self._blocks:
            self._send_small()  # an extent with data leaves whole; only bare headers wait
        self._entries = []
        self._payload = []
        self._blocks = 0
        self.extents += 1

    def _send(self, part: bytes | memoryview) -> None:
        """Hand big parts on as they are; gather small ones (extent headers, lone blocks,
        short runs) into one write per extent, or per _UNCOPIED_MIN of headers of extents
        without data. Small parts are copied on arrival, so no small view keeps a whole read
        buffer alive; and an empty 100 GiB disk (27,000 extent headers) costs a few dozen
        writes instead of one thread hand-over per header."""
        if len(part) >= _UNCOPIED_MIN:
            self._send_small()
            self._emit(part)
            return
        self._small += part
        if len(self._small) >= _UNCOPIED_MIN:
            self._send_small()

    def _send_small(self) -> None:
        if self._small:
            self._emit(memoryview(self._small).toreadonly())
            self._small = bytearray()  # the one sent is never touched again

    def _emit(self, data: bytes | memoryview) -> None:
        self._out.write(data)
        self.bytes_written += len(data)

    def abort(self) -> None:
        """Discard the archive being written (a failed backup); never raises."""
        self._closed = True
        if self._hasher is not None:
            self._hasher.abort()

    def device_digests(self) -> list[DeviceDigest]:
        """The data digest of each device (see digest.py); needs ``digests=True``."""
        if self._hasher is not None:
            self._hasher.finish()
        return [d.result() for d in self._digests.values()]

    def close(self) -> None:
        """Flush the last extent, then fail if some cluster of some device was never written.

        ``out`` is not closed: the caller owns the compressor and the file.
        """
        if self._closed:
            return
        self._flush()
        self._send_small()
        self._closed = True
        problems = [
            _missing_message(missing, dev.dev.name)
            for dev in self._devices.values()
            if (missing := dev.seen.first_missing()) is not None
        ]
        if problems:
            raise ArchiveError("archive incomplete: " + "; ".join(problems))


# -- device sink ------------------------------------------------------------------------------


class DeviceSink:
    """Turns a device reader's extents (data or zero, in offset order) into whole clusters.

    Partial clusters are assembled in one preallocated buffer; zero extents that cover whole
    clusters go to the writer as a range, so an empty 100 GiB disk costs O(extents) of work.
    """

    def __init__(self, writer: VmaWriter, dev_id: int, size: int) -> None:
        dev = writer.header.device(dev_id)
        if dev.size != size:
            raise ArchiveError(f"device {dev.name} is {dev.size} bytes in the archive, not {size}")
        self._writer = writer
        self._dev_id = dev_id
        self._name = dev.name
        self.size = size
        self.position = 0
        self._buf = bytearray(CLUSTER_SIZE)
        self._has_data = False

    def _check(self, offset: int, length: int) -> None:
        if offset != self.position:
            raise ArchiveError(
                f"extent at offset {offset} of device {self._name} does not continue "
                f"at {self.position} (extents must be contiguous and in order)"
            )
        if length < 0 or offset % SECTOR_SIZE or length % SECTOR_SIZE:
            raise ArchiveError(
                f"extent ({offset}, {length}) of device {self._name} is not 512-byte aligned"
            )
        if offset + length > self.size:
            raise ArchiveError(
                f"extent ({offset}, {length}) runs past the end of device {self._name} "
                f"({self.size} bytes)"
            )

    def data(
        self, offset: int, buf: bytes | bytearray | memoryview, handover: bool = False
    ) -> None:
        """Data for bytes offset..offset+len(buf) of the device.

        Bytes are not copied, nor is a bytearray with ``handover`` (its owner gives it up and
        never changes it again, as a reader does with the buffer of each read).
        """
        owned = type(buf) is bytes or (handover and type(buf) is bytearray)
        raw = buf if owned and not isinstance(buf, memoryview) else bytes(buf)
        self._check(offset, len(raw))
        end = len(raw)
        if not end:
            return
        view = memoryview(raw)
        done = self._fill(view, 0) if self.position % CLUSTER_SIZE else 0
        whole = (end - done) // CLUSTER_SIZE
        if whole:
            first = self.position // CLUSTER_SIZE
            self._writer.write_clusters(self._dev_id, first, raw, done, whole)
            done += whole * CLUSTER_SIZE
            self.position += whole * CLUSTER_SIZE
        if done < end:
            self._fill(view, done)

    def _fill(self, view: memoryview, start: int) -> int:
        """Copy data into the partial cluster buffer; emit it when full. Returns new start."""
        fill = self.position % CLUSTER_SIZE
        take = min(view.nbytes - start, CLUSTER_SIZE - fill)
        self._buf[fill : fill + take] = view[start : start + take]
        self._has_data = True
        self._advance(take)
        return start + take

    def zero(self, offset: int, length: int) -> None:
        """Zeros (or a hole) for bytes offset..offset+length of the device."""
        self._check(offset, length)
        end = offset + length
        fill = self.position % CLUSTER_SIZE
        if fill and length:
            take = min(length, CLUSTER_SIZE - fill)
            self._buf[fill : fill + take] = _ZERO_CLUSTER[:take]
            self._advance(take)
        whole = (end - self.position) // CLUSTER_SIZE
        if end == self.size and (end - self.position) % CLUSTER_SIZE:
            whole += 1  # the short last cluster of the device is entirely zero
        if whole:
            first = self.position // CLUSTER_SIZE
            self._writer.write_zero_clusters(self._dev_id, first, whole)
            self.position = min(self.position + whole * CLUSTER_SIZE, self.size)
        if self.position < end:
            take = end - self.position
            self._buf[:take] = _ZERO_CLUSTER[:take]
            self._has_data = False
            self._advance(take)

    def _advance(self, length: int) -> None:
        """Move on; hand the buffered cluster to the writer once full or at the device end."""
        self.position += length
        fill = self.position % CLUSTER_SIZE
        if fill and self.position < self.size:
            return
        used = fill or CLUSTER_SIZE
        cluster_no = (self.position - 1) // CLUSTER_SIZE
        data = bytes(self._buf[:used]) if self._has_data else None
        self._writer.write_cluster(self._dev_id, cluster_no, data)
        self._has_data = False

    def finish(self) -> None:
        """Check the whole device was covered (the last cluster was sent when reached)."""
        if self.position != self.size:
            raise ArchiveError(
                f"device {self._name} covered only up to byte {self.position} of {self.size}"
            )


# -- reader -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _ReadDevice:
    """Per-device state while reading: seen clusters and the counts a verify reports."""

    dev: VmaDevice
    seen: _SeenClusters
    tail_mask: int
    zero_clusters: int = 0
    data_bytes: int = 0

    @classmethod
    def create(cls, dev: VmaDevice) -> _ReadDevice:
        tail = dev.size % CLUSTER_SIZE
        mask = (1 << -(-tail // BLOCK_SIZE)) - 1 if tail else FULL_MASK
        return cls(dev, _SeenClusters(0 if dev.is_vmstate else dev.clusters), mask)


@dataclass(frozen=True, slots=True)
class DeviceReport:
    """What a verify found for one device."""

    dev_id: int
    name: str
    size: int
    clusters: int
    clusters_found: int
    zero_clusters: int
    data_bytes: int
    first_missing: int | None


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """Result of reading a whole archive; ``problems`` lists each device's first missing cluster."""

    header: VmaHeader
    devices: list[DeviceReport]
    extents: int
    archive_bytes: int
    vmstate_clusters: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_for_problems(self) -> None:
        if self.problems:
            raise ArchiveError("; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class _Extent:
    offset: int
    entries: list[tuple[int, int, int]]  # (dev_id, cluster_no, mask)
    data: bytes


class VmaReader:
    """Streams a VMA archive once: header at construction, then clusters in archive order."""

    def __init__(self, stream: ReadableStream) -> None:
        self._stream = stream
        self.header = read_header(stream)
        self._pos = self.header.header_size
        self._devices = {d.dev_id: _ReadDevice.create(d) for d in self.header.devices}
        self._vmstate_clusters = 0
        self._extents = 0
        self._started = False

    def iter_clusters(self) -> Iterator[tuple[int, int, bytes | None]]:
        """Yield ``(dev_id, cluster_no, data)``; data is 64 KiB or None when all zero.

        ``vmstate`` data is skipped. At the end a missing cluster raises an ``ArchiveError``.
        """
        for extent in self._scan():
            yield from _clusters_of(extent, self._devices)
        self.report().raise_for_problems()

    def verify(self) -> VerifyReport:
        """Read the whole archive, checking everything; missing clusters go to the report."""
        for _ in self._scan():
            pass
        return self.report()

    def report(self) -> VerifyReport:
        """Counts so far; after a full read, ``problems`` names the first missing clusters."""
        devices = [_device_report(d) for d in self._devices.values() if not d.dev.is_vmstate]
        problems = [
            _missing_message(d.first_missing, d.name)
            for d in devices
            if d.first_missing is not None
        ]
        return VerifyReport(
            self.header, devices, self._extents, self._pos, self._vmstate_clusters, problems
        )

    def extract(self, dev_id: int, out: SeekableOutput) -> VerifyReport:
        """Restore one device into a new (empty) file: zero clusters stay holes."""
        dev = self.header.device(dev_id)

        def sink(offset: int, data: bytes | None) -> None:
            if data is not None:
                out.seek(offset)
                out.write(data)

        report = restore_device_streams(self, {dev_id: sink})
        out.truncate(dev.size)
        return report

    def _scan(self) -> Iterator[_Extent]:
        if self._started:
            raise ArchiveError("the archive stream was already read")
        self._started = True
        try:
            while (extent := self._read_extent()) is not None:
                self._extents += 1
                yield extent
        except MemoryError as err:  # a process memory limit, or a machine out of memory
            raise ArchiveError("out of memory while reading the archive", self._pos) from err

    def _read_extent(self) -> _Extent | None:
        start = self._pos
        head = _read_exact(self._stream, EXTENT_HEADER_SIZE, start)
        if not head:
            return None
        if len(head) < EXTENT_HEADER_SIZE:
            raise _truncated("an extent header", EXTENT_HEADER_SIZE, len(head), start)
        self._check_extent_header(head, start)
        block_count = int.from_bytes(head[6:8], "big")
        infos = struct.unpack_from(">59Q", head, _BLOCKINFO_AT)
        entries = self._check_entries(infos, start, block_count)
        size = block_count * BLOCK_SIZE
        data = _read_exact(self._stream, size, start + EXTENT_HEADER_SIZE)
        if len(data) < size:
            what = f"the data of the extent at byte {start}"
            raise _truncated(what, size, len(data), start + EXTENT_HEADER_SIZE)
        self._pos = start + EXTENT_HEADER_SIZE + size
        return _Extent(start, entries, data)

    def _check_extent_header(self, head: bytes, start: int) -> None:
        magic, reserved, _, uid, md5 = _EXTENT_HEAD.unpack_from(head)
        if magic != EXTENT_MAGIC:
            raise ArchiveError(f"bad extent magic {magic!r} (expected {EXTENT_MAGIC!r})", start)
        zeroed = bytearray(head)
        zeroed[_EXTENT_MD5_AT : _EXTENT_MD5_AT + 16] = _ZERO_MD5
        if _md5(zeroed) != md5:
            raise ArchiveError("extent header checksum (md5) mismatch", start + _EXTENT_MD5_AT)
        if reserved:
            raise ArchiveError(f"extent reserved field is {reserved}, not 0", start + 4)
        if uid != self.header.uuid.bytes:
            raise ArchiveError(
                f"extent uuid {uuid_mod.UUID(bytes=uid)} differs from the archive's "
                f"{self.header.uuid}",
                start + 8,
            )

    def _check_entries(
        self, infos: tuple[int, ...], start: int, block_count: int
    ) -> list[tuple[int, int, int]]:
        """Validate the blockinfo table: devices, ranges, duplicates and the block count."""
        entries: list[tuple[int, int, int]] = []
        blocks = 0
        for i, info in enumerate(infos):
            at = start + _BLOCKINFO_AT + 8 * i
            dev_id = info >> 32 & 0xFF
            if not dev_id:
                if info:
                    raise ArchiveError(f"unused blockinfo entry {i} is not zero", at)
                continue
            cluster_no, mask = info & 0xFFFFFFFF, info >> 48
            self._account(dev_id, cluster_no, mask, at)
            entries.append((dev_id, cluster_no, mask))
            blocks += mask.bit_count()
        if blocks != block_count:
            raise ArchiveError(
                f"extent block_count {block_count} does not match the {blocks} blocks "
                "marked in its masks (missing blocks)",
                start + 6,
            )
        return entries

    def _account(self, dev_id: int, cluster_no: int, mask: int, at: int) -> None:
        dev = self._devices.get(dev_id)
        if dev is None:
            raise ArchiveError(f"extent refers to unknown device id {dev_id}", at)
        if dev.dev.is_vmstate:
            if cluster_no != self._vmstate_clusters:
                raise ArchiveError("found out of order vmstate data", at)
            self._vmstate_clusters += 1
            return
        if cluster_no >= dev.seen.total:
            raise ArchiveError(
                f"cluster {cluster_no} is out of range for device {dev.dev.name} "
                f"({dev.seen.total} clusters)",
                at,
            )
        if cluster_no == dev.seen.total - 1 and mask & ~dev.tail_mask:
            raise ArchiveError(
                f"cluster {cluster_no} of device {dev.dev.name} stores blocks past its end", at
            )
        if not dev.seen.add(cluster_no):
            raise ArchiveError(_duplicate_message(cluster_no, dev.dev.name), at)
        if mask:
            dev.data_bytes += mask.bit_count() * BLOCK_SIZE
        else:
            dev.zero_clusters += 1


def _device_report(d: _ReadDevice) -> DeviceReport:
    return DeviceReport(
        dev_id=d.dev.dev_id,
        name=d.dev.name,
        size=d.dev.size,
        clusters=d.seen.total,
        clusters_found=d.seen.count,
        zero_clusters=d.zero_clusters,
        data_bytes=d.data_bytes,
        first_missing=d.seen.first_missing(),
    )


def _clusters_of(
    extent: _Extent, devices: Mapping[int, _ReadDevice]
) -> Iterator[tuple[int, int, bytes | None]]:
    """Expand an extent into full clusters, filling the blocks that were not stored."""
    data = extent.data
    pos = 0
    for dev_id, cluster_no, mask in extent.entries:
        nblocks = mask.bit_count()
        chunk = data[pos : pos + nblocks * BLOCK_SIZE]
        pos += nblocks * BLOCK_SIZE
        if devices[dev_id].dev.is_vmstate:
            continue
        if mask == 0:
            yield dev_id, cluster_no, None
            continue
        cluster = chunk if mask == FULL_MASK else _expand(chunk, mask)
        yield dev_id, cluster_no, None if cluster == _ZERO_CLUSTER else cluster


def _expand(chunk: bytes, mask: int) -> bytes:
    parts: list[bytes] = []
    pos = 0
    for j in range(BLOCKS_PER_CLUSTER):
        if mask >> j & 1:
            parts.append(chunk[pos : pos + BLOCK_SIZE])
            pos += BLOCK_SIZE
        else:
            parts.append(_ZERO_BLOCK)
    return b"".join(parts)


def restore_device_streams(reader: VmaReader, sinks: Mapping[int, ClusterSink]) -> VerifyReport:
    """Feed every cluster to its device's sink as ``(offset, data or None)``.

    Data is cut at the device size; ``None`` means zeros up to ``min(65536, size - offset)``
    (a sink writing into a new volume just skips it). Devices without a sink are read and
    checked but not written. A missing or duplicated cluster raises an ``ArchiveError``.
    """
    sizes = {dev_id: reader.header.device(dev_id).size for dev_id in sinks}
    for dev_id, cluster_no, data in reader.iter_clusters():
        sink = sinks.get(dev_id)
        if sink is None:
            continue
        offset = cluster_no * CLUSTER_SIZE
        end = sizes[dev_id] - offset
        sink(offset, data if data is None or end >= CLUSTER_SIZE else data[:end])
    return reader.report()


# -- qmdump map -------------------------------------------------------------------------------

_QMDUMP_PREFIX: Final = "#qmdump#map:"
_QMDUMP_RE: Final = re.compile(r"#qmdump#map:([^:\s]+):([^:\s]+):([^:\s]*):([^:\s]*):")


def parse_qmdump_map(config_text: str) -> list[QmdumpMap]:
    """The ``#qmdump#map:<disk>:<device>:<storage>:<format>:`` lines of an archived config."""
    maps: list[QmdumpMap] = []
    for number, line in enumerate(config_text.splitlines(), start=1):
        if not line.startswith(_QMDUMP_PREFIX):
            continue
        match = _QMDUMP_RE.fullmatch(line.strip())
        if match is None:
            raise ArchiveError(f"malformed qmdump map line {number}: {line!r}")
        maps.append(QmdumpMap(*match.groups()))
    return maps
