"""A data digest per device, kept beside an archive (the VMA format has no data checksum).

A plain hash of the whole disk would have to hash every zero of a sparse 100 GiB disk, so the
digest covers what the archive stores, in a canonical form that does not depend on how the
disk was read. Over the clusters holding data, in increasing cluster order, two streams:

- the keys: ``pack(">QH", cluster_no, mask)`` per cluster, where bit j of ``mask`` marks
  4 KiB block j of the 64 KiB cluster as non-zero;
- the data: the non-zero blocks of those clusters, one after the other.

The device's digest is ``BLAKE3(BLAKE3(keys) || BLAKE3(data))``. Two disks with the same
content give the same digest; zero blocks cost nothing; and since the data is one stream, a
run of full clusters is hashed in one call straight from the buffer it was read into (BLAKE3:
3.4 GB/s on one core here, SHA-256 with the CPU's SHA extensions 1.6 GB/s). The sidecar is
``<archive file name>.digest.json``::

    {"scheme": "respaldo-sparse-blake3-v2",
     "devices": [{"name": "drive-scsi0", "size": 34359738368, "data_bytes": 123,
                  "digest": "..."}]}

Proxmox ignores the file, so archives stay readable there. Sidecars of the first scheme,
``respaldo-sparse-sha256-v1`` (one SHA-256 over each data cluster's key followed by its blocks,
``"sha256"`` per device), are still checked.

The writer feeds :meth:`SparseDigest.add_run` the keys and blocks it stores. A reader, which
sees whole clusters, feeds :meth:`SparseDigest.add_cluster`: the mask is recomputed from the
content (whatever mask the archive stored), so any archive of the same disk data gives the same
digest. :func:`compare_digest` states whether a recomputed digest matches the sidecar's.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import blake3

from respaldo.config.keyvalue import atomic_write_text
from respaldo.errors import ArchiveError

SCHEME = "respaldo-sparse-blake3-v2"
SCHEME_SHA256_V1 = "respaldo-sparse-sha256-v1"
#: The name of each device's digest in the sidecar, per scheme.
_DIGEST_FIELD = {SCHEME: "digest", SCHEME_SHA256_V1: "sha256"}
SIDECAR_SUFFIX = ".digest.json"
CLUSTER_KEY = struct.Struct(">QH")
BLOCK_SIZE = 4096
BLOCKS_PER_CLUSTER = 16
CLUSTER_SIZE = BLOCK_SIZE * BLOCKS_PER_CLUSTER
FULL_MASK = (1 << BLOCKS_PER_CLUSTER) - 1
_ZERO_BLOCK = bytes(BLOCK_SIZE)
_ZERO_CLUSTER = bytes(CLUSTER_SIZE)
_BLOCK_OFFSETS = tuple(range(0, CLUSTER_SIZE, BLOCK_SIZE))


@dataclass
class DeviceDigest:
    name: str
    size: int
    data_bytes: int
    digest: str
    scheme: str = SCHEME


class _Streams(Protocol):
    def key(self, data: bytes) -> None: ...

    def data(self, data: bytes | memoryview) -> None: ...

    def hexdigest(self) -> str: ...


class _Blake3Streams:
    """The keys and the data as two streams (any run of blocks in one call)."""

    def __init__(self) -> None:
        self._keys = blake3.blake3()
        self._data = blake3.blake3()

    def key(self, data: bytes) -> None:
        self._keys.update(data)

    def data(self, data: bytes | memoryview) -> None:
        self._data.update(data)

    def hexdigest(self) -> str:
        return blake3.blake3(self._keys.digest() + self._data.digest()).hexdigest()


class _Sha256Interleaved:
    """The v1 scheme: each cluster's key, then its blocks, in one SHA-256."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def key(self, data: bytes) -> None:
        self._hash.update(data)

    def data(self, data: bytes | memoryview) -> None:
        self._hash.update(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class SparseDigest:
    """The digest of one device, fed cluster by cluster in increasing order."""

    def __init__(self, name: str, size: int, scheme: str = SCHEME) -> None:
        self.name = name
        self.size = size
        self.scheme = scheme
        self._streams: _Streams = _Blake3Streams() if scheme == SCHEME else _Sha256Interleaved()
        self._last = -1
        self.data_bytes = 0
        self.in_order = True

    def _advance(self, cluster_no: int) -> bool:
        if cluster_no <= self._last:
            self.in_order = False  # clusters out of order: this digest cannot be computed
        self._last = max(self._last, cluster_no)
        return self.in_order

    def add(self, cluster_no: int, mask: int, blocks: Iterable[bytes | memoryview]) -> None:
        """A cluster as the VMA writer stores it: its mask and its non-zero blocks."""
        if not self._advance(cluster_no) or not mask:
            return
        self._streams.key(CLUSTER_KEY.pack(cluster_no, mask))
        self._hash_data(blocks)

    def add_run(
        self, first: int, last: int, keys: bytes, blocks: Iterable[bytes | memoryview]
    ) -> None:
        """Clusters ``first..last`` as the VMA writer stores them: ``keys`` packs
        ``(cluster_no, mask)`` of those holding data, ``blocks`` are their non-zero blocks
        (runs of consecutive blocks may come as one buffer). Only in the current scheme."""
        if self.scheme != SCHEME:
            raise ArchiveError(f"digest scheme {self.scheme} cannot take runs of clusters")
        if not self._advance(first):
            return
        self._last = last
        self._streams.key(keys)
        self._hash_data(blocks)

    def _hash_data(self, blocks: Iterable[bytes | memoryview]) -> None:
        for block in blocks:
            self._streams.data(block)
            self.data_bytes += len(block)

    def add_cluster(self, cluster_no: int, data: bytes | None) -> int:
        """A whole cluster as a reader sees it (None: all zero); returns its non-zero mask.

        Data shorter than 64 KiB (the end of a device) counts as zero-padded. A full cluster
        is hashed in one piece: the same bytes as its 16 blocks one after the other.
        """
        if data is None:
            return 0
        if len(data) != CLUSTER_SIZE:
            data = bytes(data[:CLUSTER_SIZE]) + _ZERO_CLUSTER[len(data) :]
        mask = cluster_mask(data)
        if mask == FULL_MASK:
            self.add(cluster_no, mask, (data,))
        elif mask:
            view = memoryview(data)
            self.add(cluster_no, mask, (view[o : o + BLOCK_SIZE] for o in _set_blocks(mask)))
        return mask

    def add_buffer(self, first: int, data: bytes) -> None:
        """Whole clusters ``first``, ``first + 1``... one after the other in ``data`` (a
        reader's run of 64 KiB clusters), each hashed as :meth:`add_cluster` would.

        Runs of blocks holding data go to the hash as single slices of ``data``: a run of
        full clusters is one call, which holds the GIL once, not once per cluster.
        """
        count = len(data) // CLUSTER_SIZE
        if count * CLUSTER_SIZE != len(data):
            raise ArchiveError(f"{len(data)} bytes are not whole clusters of {CLUSTER_SIZE}")
        if self.scheme != SCHEME:
            for i in range(count):
                self.add_cluster(first + i, data[i * CLUSTER_SIZE : (i + 1) * CLUSTER_SIZE])
            return
        masks = cluster_masks(data, 0, count)
        keys = [CLUSTER_KEY.pack(first + i, mask) for i, mask in enumerate(masks) if mask]
        self.add_run(first, first + count - 1, b"".join(keys), _data_slices(data, masks))

    def skip(self, last_cluster: int) -> None:
        """Zero clusters up to ``last_cluster``: nothing to hash, but the order moves on."""
        self._advance(last_cluster)

    def result(self) -> DeviceDigest:
        if not self.in_order:
            raise ArchiveError(f"device {self.name}: clusters out of order, no digest")
        digest = self._streams.hexdigest()
        return DeviceDigest(self.name, self.size, self.data_bytes, digest, self.scheme)


def cluster_mask(data: bytes | bytearray, at: int = 0) -> int:
    """Bit j set when 4 KiB block j of the 64 KiB cluster at ``data[at:]`` is not all zero
    (compared in C, without slicing the cluster out)."""
    if data.startswith(_ZERO_CLUSTER, at):
        return 0
    mask = 0
    for j, off in enumerate(_BLOCK_OFFSETS):
        if not data.startswith(_ZERO_BLOCK, at + off):
            mask |= 1 << j
    return mask


def cluster_masks(data: bytes | bytearray, start: int, count: int) -> list[int]:
    """Masks of ``count`` clusters at ``data[start:]``.

    One search in C finds the next 4 KiB run of zeros; every block before it holds data, so
    the clusters before it are full without a look at their blocks (most data of most disks).
    """
    masks: list[int] = []
    end = start + count * CLUSTER_SIZE
    pos = start
    while pos < end:
        zeros = data.find(_ZERO_BLOCK, pos, end)
        if zeros < 0:
            masks.extend([FULL_MASK] * ((end - pos) // CLUSTER_SIZE))
            break
        full = (zeros - pos) // CLUSTER_SIZE
        masks.extend([FULL_MASK] * full)
        pos += full * CLUSTER_SIZE
        masks.append(cluster_mask(data, pos))
        pos += CLUSTER_SIZE
    return masks


def _data_slices(data: bytes, masks: list[int]) -> list[memoryview]:
    """The blocks the masks mark in ``data``, adjacent ones joined into one slice."""
    view = memoryview(data)
    ranges: list[list[int]] = []
    for i, mask in enumerate(masks):
        base = i * CLUSTER_SIZE
        for start, end in [(0, CLUSTER_SIZE)] if mask == FULL_MASK else block_runs(mask):
            if ranges and ranges[-1][1] == base + start:
                ranges[-1][1] = base + end
            else:
                ranges.append([base + start, base + end])
    return [view[start:end] for start, end in ranges]


def _set_blocks(mask: int) -> list[int]:
    """Byte offsets inside the cluster of the blocks whose bit is set."""
    return [off for j, off in enumerate(_BLOCK_OFFSETS) if mask >> j & 1]


def block_runs(mask: int) -> list[tuple[int, int]]:
    """The set bits of a mask as ``(start, end)`` byte ranges of consecutive blocks."""
    runs: list[tuple[int, int]] = []
    j = 0
    while j < BLOCKS_PER_CLUSTER:
        if mask >> j & 1:
            k = j + 1
            while k < BLOCKS_PER_CLUSTER and mask >> k & 1:
                k += 1
            runs.append((j * BLOCK_SIZE, k * BLOCK_SIZE))
            j = k
        else:
            j += 1
    return runs


def compare_digest(expected: DeviceDigest, actual: DeviceDigest) -> str | None:
    """None when ``actual`` (recomputed from the archive) matches the sidecar, else why not."""
    if expected.size != actual.size:
        return f"size {actual.size} differs from the sidecar's {expected.size}"
    if expected.data_bytes != actual.data_bytes:
        return f"{actual.data_bytes} data bytes, the sidecar says {expected.data_bytes}"
    if expected.digest != actual.digest:
        return f"digest {actual.digest} differs from the sidecar's {expected.digest}"
    return None


def check_device(expected: DeviceDigest, digest: SparseDigest) -> None:
    """Raise an ``ArchiveError`` naming the device unless ``digest``, recomputed from the
    archive read to its end, matches the sidecar's entry ``expected``."""
    if not digest.in_order:
        raise ArchiveError(
            f"digest of device {digest.name} cannot be checked: its clusters are out of order"
        )
    reason = compare_digest(expected, digest.result())
    if reason is not None:
        raise ArchiveError(f"data digest mismatch for device {digest.name}: {reason}")


def sidecar_path(archive: Path) -> Path:
    return archive.with_name(archive.name + SIDECAR_SUFFIX)


def read_expected(archive: Path, devices: Iterable[str] = ()) -> dict[str, DeviceDigest] | None:
    """The digests of the sidecar beside ``archive`` by device name; None when there is no
    sidecar; an ``ArchiveError`` when it cannot be read or has no entry for one of
    ``devices`` (those a restore or an extraction is about to check)."""
    sidecar = sidecar_path(archive)
    if not sidecar.exists():
        return None
    return expected_by_name(read_sidecar(sidecar), devices, str(sidecar))


def expected_by_name(
    entries: Iterable[DeviceDigest], devices: Iterable[str], sidecar: str
) -> dict[str, DeviceDigest]:
    """A sidecar's entries by device name; ``ArchiveError`` when one of ``devices`` has no
    entry (``sidecar`` names the sidecar in the message)."""
    expected = {d.name: d for d in entries}
    for name in devices:
        if name not in expected:
            raise ArchiveError(f"digest sidecar {sidecar} has no entry for device {name}")
    return expected


def digest_for(name: str, size: int, expected: Mapping[str, DeviceDigest]) -> SparseDigest:
    """A digest recomputing device ``name`` in the scheme of its sidecar entry."""
    entry = expected.get(name)
    return SparseDigest(name, size, entry.scheme if entry is not None else SCHEME)


def encode_sidecar(devices: list[DeviceDigest]) -> str:
    """The text of the sidecar of a new archive: always in the current scheme."""
    if any(d.scheme != SCHEME for d in devices):
        raise ArchiveError(f"a new digest sidecar is written in the {SCHEME} scheme only")
    entries = [
        {"name": d.name, "size": d.size, "data_bytes": d.data_bytes, "digest": d.digest}
        for d in devices
    ]
    data = {"scheme": SCHEME, "devices": entries}
    return json.dumps(data, indent=1) + "\n"


def decode_sidecar(text: str | bytes, where: str) -> list[DeviceDigest]:
    """The digests of a sidecar's text (any known scheme); ``where`` names it in errors."""
    try:
        data = json.loads(text)
        scheme = data.get("scheme")
        if scheme not in _DIGEST_FIELD:
            raise ArchiveError(
                f"{where}: digest scheme {scheme!r} is not known to this version "
                f"(it checks {', '.join(map(repr, _DIGEST_FIELD))}); move the file aside "
                "to verify the archive without it"
            )
        field = _DIGEST_FIELD[scheme]
        return [
            DeviceDigest(d["name"], d["size"], d["data_bytes"], d[field], scheme)
            for d in data["devices"]
        ]
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise ArchiveError(f"{where}: not a readable digest file: {err}") from err


def write_sidecar(path: Path, devices: list[DeviceDigest]) -> None:
    """The sidecar of a new archive: always in the current scheme."""
    atomic_write_text(path, encode_sidecar(devices))


def read_sidecar(path: Path) -> list[DeviceDigest]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError) as err:
        raise ArchiveError(f"{path}: not a readable digest file: {err}") from err
    return decode_sidecar(text, str(path))
