"""The archive sink of a backup: what the copy feeds becomes a VMA archive in the backup store.

The copy's side (pieces of data and zeros per disk, as the NBD reader yields them) is played
here by hand, so no QEMU is needed; the archive is read back from the store.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import pytest

from respaldo.archive.compress import Compression, open_reader
from respaldo.archive.digest import SparseDigest, compare_digest
from respaldo.archive.vma import CLUSTER_SIZE, VmaReader
from respaldo.services.vzdump.archivesink import VmaSinkFactory
from respaldo.storage.backupstore import BackupStore, PendingWrite
from tests.unit.conftest import Dump

NAME = "vzdump-qemu-100-2024_05_20-18_11_48.vma"
KIB = 1024
CONFIGS = {"qemu-server.conf": b"name: web\nscsi0: local:100/vm-100-disk-0.raw,size=1M\n"}
#: (device, size): a disk with data and holes, and an empty one.
DEVICES = [("drive-scsi0", 1024 * KIB), ("drive-scsi1", 256 * KIB)]


class RecordingPending:
    """A pending write that counts what the sink says went towards it."""

    def __init__(self, inner: PendingWrite) -> None:
        self.inner = inner
        self.filename = inner.filename
        self.volid = inner.volid
        self.advanced = 0

    @property
    def sink(self) -> BinaryIO:
        return self.inner.sink

    @property
    def done(self) -> bool:
        return self.inner.done

    @property
    def partial_path(self) -> Path | None:
        return self.inner.partial_path

    def advance(self, nbytes: int) -> None:
        self.advanced += nbytes
        self.inner.advance(nbytes)

    def commit(self) -> str:
        return self.inner.commit()

    def abort(self) -> None:
        self.inner.abort()

    def __enter__(self) -> RecordingPending:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()


def disk_content() -> bytes:
    """scsi0: 300 KiB of data, a 200 KiB hole, data to the end (odd-sized pieces)."""
    data = bytearray(os.urandom(1024 * KIB))
    data[300 * KIB : 500 * KIB] = bytes(200 * KIB)
    return bytes(data)


@pytest.mark.parametrize("compression", [Compression.NONE, Compression.ZSTD])
def test_vma_sink_writes_an_archive_into_the_store(
    store: BackupStore, dump: Dump, compression: Compression
) -> None:
    name = NAME + compression.extension
    content = disk_content()
    factory = VmaSinkFactory(compression, zstd_threads=2)
    with store.begin(name) as pending:
        recording = RecordingPending(pending)
        sink = factory(recording, CONFIGS, DEVICES)
        try:
            feed = sink.device(1, DEVICES[0][1])
            feed.data(0, bytearray(content[: 300 * KIB]), handover=True)
            feed.zero(300 * KIB, 200 * KIB)
            for offset in range(500 * KIB, 1024 * KIB, 12 * KIB):
                feed.data(offset, content[offset : min(offset + 12 * KIB, 1024 * KIB)])
            feed.finish()
            empty = sink.device(2, DEVICES[1][1])
            empty.zero(0, DEVICES[1][1])
            empty.finish()
            result = sink.close()
        except BaseException:
            sink.abort()
            raise
        pending.commit()
    assert recording.advanced == 824 * KIB  # every data byte, none of the zeros
    assert result.bytes_zero == 200 * KIB + 256 * KIB
    assert result.bytes_out == dump.size(name) == store.get(name).size

    restored = {1: bytearray(1024 * KIB), 2: bytearray(256 * KIB)}
    digests = {dev: SparseDigest(dev_name, size) for dev, (dev_name, size) in enumerate(DEVICES, 1)}
    with open_reader(store.open(name), store.volid(name)) as stream:
        reader = VmaReader(stream)
        for dev_id, cluster_no, data in reader.iter_clusters():
            digests[dev_id].add_cluster(cluster_no, data)
            if data is not None:
                at = cluster_no * CLUSTER_SIZE
                restored[dev_id][at : at + CLUSTER_SIZE] = data[: len(restored[dev_id]) - at]
        assert reader.header.configs == CONFIGS
    assert restored[1] == content and restored[2] == bytes(256 * KIB)
    for expected, dev_id in zip(result.digests, (1, 2), strict=True):
        assert compare_digest(expected, digests[dev_id].result()) is None


def test_a_failed_copy_leaves_nothing(store: BackupStore, dump: Dump) -> None:
    factory = VmaSinkFactory(Compression.ZSTD, zstd_threads=2)
    with store.begin(NAME + ".zst") as pending:
        sink = factory(pending, CONFIGS, DEVICES)
        feed = sink.device(1, DEVICES[0][1])
        feed.data(0, os.urandom(128 * KIB))
        with pytest.raises(Exception, match="does not continue"):
            feed.data(512 * KIB, os.urandom(64 * KIB))  # a gap: the reader went wrong
        sink.abort()
        sink.abort()  # twice is harmless
    assert pending.done and dump.names() == []
