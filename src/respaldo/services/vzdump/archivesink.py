"""Where the copy of a backup puts the disks: a sink, made by a factory, that the reader feeds.

The copy (:mod:`respaldo.services.vzdump.guest`) reads each disk over NBD as pieces (data or
zeros, in offset order) and hands them to the :class:`DeviceFeed` its :class:`BackupSink`
gives for the disk; what the bytes become is the sink's business. A :class:`SinkFactory`
makes the sink of one backup from the backup store's pending write, the archived configs and
the devices, so that another sink (the chunk store planned next) can take the VMA writer's
place without touching the reader.

:class:`VmaArchiveSink` is vzdump's archive: Proxmox's VMA stream
(:mod:`respaldo.archive.vma`), compressed (:mod:`respaldo.archive.compress`) in a thread of its
own, into the pending write, with a data digest per device (:mod:`respaldo.archive.digest`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from respaldo.archive import compress
from respaldo.archive.background import BackgroundStream
from respaldo.archive.digest import DeviceDigest
from respaldo.archive.vma import DeviceSink, VmaWriter
from respaldo.storage.backupstore import PendingWrite


class DeviceFeed(Protocol):
    """One disk's pieces, contiguous and in offset order (bytes, 512-byte aligned)."""

    def data(
        self, offset: int, buf: bytes | bytearray | memoryview, handover: bool = False
    ) -> None:
        """Data for bytes offset..offset+len(buf). With ``handover`` the caller gives a
        bytearray up (never changes it again), so it need not be copied."""
        ...

    def zero(self, offset: int, length: int) -> None:
        """Zeros (or a hole) for bytes offset..offset+length."""
        ...

    def finish(self) -> None:
        """The disk is complete (every byte was fed)."""
        ...


@dataclass(frozen=True)
class SinkResult:
    #: The data digest of each device, in device order.
    digests: list[DeviceDigest]
    #: Bytes of the disks that were zero and not stored.
    bytes_zero: int
    #: Bytes written to the store (after compression).
    bytes_out: int


class BackupSink(Protocol):
    """The target of one backup's copy; the devices are fed one after the other."""

    def device(self, dev_id: int, size: int) -> DeviceFeed:
        """The feed of device ``dev_id`` (1-based, in the order given to the factory)."""
        ...

    def close(self) -> SinkResult:
        """Finish everything written to the pending write (which the caller then commits)."""
        ...

    def abort(self) -> None:
        """Stop every thread and child of a failed copy; never raises. The caller aborts the
        pending write afterwards."""
        ...


class SinkFactory(Protocol):
    def __call__(
        self,
        pending: PendingWrite,
        configs: Mapping[str, bytes],
        devices: Sequence[tuple[str, int]],
    ) -> BackupSink:
        """The sink of one backup: ``configs`` by name (``qemu-server.conf``), ``devices``
        as (name, size in bytes), e.g. ``("drive-scsi0", 34359738368)``."""
        ...


class _DeviceFeed(DeviceSink):
    """The VMA writer's device sink, telling the pending write what went towards it (so the
    store can make the archive durable as it grows)."""

    def __init__(self, writer: VmaWriter, dev_id: int, size: int, pending: PendingWrite) -> None:
        super().__init__(writer, dev_id, size)
        self._towards_store = pending.advance

    def data(
        self, offset: int, buf: bytes | bytearray | memoryview, handover: bool = False
    ) -> None:
        super().data(offset, buf, handover)
        self._towards_store(len(buf))


class VmaArchiveSink:
    """A VMA archive, compressed, into ``pending.sink`` (see the module docstring)."""

    def __init__(
        self,
        pending: PendingWrite,
        configs: Mapping[str, bytes],
        devices: Sequence[tuple[str, int]],
        compression: compress.Compression,
        zstd_threads: int = 1,
        pigz: int = 0,
    ) -> None:
        self._pending = pending
        self._compressor = compress.open_writer(pending.sink, compression, zstd_threads, pigz)
        self._stream: BackgroundStream | None = None
        self._vma: VmaWriter | None = None
        try:
            # Compression runs in its own thread, beside the extent assembly of this one.
            self._stream = BackgroundStream(self._compressor)
            self._vma = VmaWriter(self._stream, configs, devices, digests=True)
        except BaseException:
            self.abort()
            raise

    def _writer(self) -> VmaWriter:
        assert self._vma is not None  # set unless __init__ raised
        return self._vma

    def device(self, dev_id: int, size: int) -> DeviceFeed:
        return _DeviceFeed(self._writer(), dev_id, size, self._pending)

    def close(self) -> SinkResult:
        vma = self._writer()
        vma.close()
        assert self._stream is not None
        self._stream.close()
        return SinkResult(vma.device_digests(), vma.bytes_zero, self._compressor.bytes_out)

    def abort(self) -> None:
        if self._vma is not None:
            self._vma.abort()
        if self._stream is not None:
            self._stream.abort()  # aborts the compressor too
        else:
            self._compressor.abort()


@dataclass(frozen=True)
class VmaSinkFactory:
    """Makes :class:`VmaArchiveSink` s with vzdump's ``compress``, zstd thread count and
    ``pigz``."""

    compression: compress.Compression
    zstd_threads: int = 1
    pigz: int = 0

    def __call__(
        self,
        pending: PendingWrite,
        configs: Mapping[str, bytes],
        devices: Sequence[tuple[str, int]],
    ) -> VmaArchiveSink:
        return VmaArchiveSink(
            pending, configs, devices, self.compression, self.zstd_threads, self.pigz
        )


__all__ = [
    "BackupSink",
    "DeviceFeed",
    "SinkFactory",
    "SinkResult",
    "VmaArchiveSink",
    "VmaSinkFactory",
]
