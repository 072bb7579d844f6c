"""Reading a disk exported over NBD with libnbd: allocation map first, then only the data.

The reader yields the disk in offset order as pieces of data or zero runs, and knows nothing
about where they go: the VMA writer is one consumer, a chunk store can be another.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbd

from respaldo.errors import QemuError

MIB = 1 << 20
REQUEST_SIZE = 4 * MIB
IN_FLIGHT = 4
# The NBD protocol allows 32-bit lengths; stay well below that for block status queries.
STATUS_SPAN = 1 << 30


@dataclass(frozen=True)
class Extent:
    offset: int
    length: int
    zero: bool


@dataclass(frozen=True)
class Piece:
    """``data`` is None for a run of zeroes that was never read; else a buffer of its own,
    which the reader never touches again."""

    offset: int
    length: int
    data: bytearray | None


class NbdReader:
    def __init__(
        self,
        socket_path: Path,
        export: str,
        request_size: int = REQUEST_SIZE,
        in_flight: int = IN_FLIGHT,
    ) -> None:
        self.socket_path = socket_path
        self.export = export
        self.request_size = request_size
        self.in_flight = in_flight
        self._handle: nbd.NBD | None = None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._extra_handles: list[nbd.NBD] = []
        self.size = 0

    def _open_handle(self) -> nbd.NBD:
        handle = nbd.NBD()
        try:
            # A read either fills its whole buffer or fails (and its data is dropped), so
            # zeroing every buffer before the read, libnbd's default, is wasted work.
            handle.set_pread_initialize(False)
            handle.add_meta_context("base:allocation")
            handle.set_export_name(self.export)
            handle.connect_unix(str(self.socket_path))
        except nbd.Error as err:
            raise QemuError(
                f"NBD export '{self.export}' at {self.socket_path}: cannot connect: {err}"
            ) from err
        return handle

    def connect(self) -> NbdReader:
        self._handle = self._open_handle()
        try:
            self.size = self._handle.get_size()
        except nbd.Error as err:
            self.close()
            raise self._error("reading the export size", err) from err
        return self

    def close(self) -> None:
        for handle in [self._handle, *self._extra_handles]:
            if handle is not None:
                with contextlib.suppress(nbd.Error):  # the server may be gone already
                    handle.shutdown()
        self._handle = None
        self._extra_handles.clear()

    def __enter__(self) -> NbdReader:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _error(self, what: str, err: Exception) -> QemuError:
        return QemuError(f"NBD export '{self.export}': {what} failed: {err}")

    def extents(self) -> Iterator[Extent]:
        """The allocation map, merged into runs of data and runs of zeroes."""
        pending: Extent | None = None
        offset = 0
        while offset < self.size:
            for extent in self._status(offset, min(STATUS_SPAN, self.size - offset)):
                if pending and pending.zero == extent.zero:
                    pending = Extent(pending.offset, pending.length + extent.length, pending.zero)
                    continue
                if pending:
                    yield pending
                pending = extent
            offset = pending.offset + pending.length if pending else self.size
        if pending:
            yield pending

    def _status(self, offset: int, count: int) -> list[Extent]:
        found: list[Extent] = []

        def collect(context: str, start: int, entries: list[int], error: int) -> int:
            if context != "base:allocation":
                return 0
            position = start
            for reported, flags in zip(entries[::2], entries[1::2], strict=True):
                length = min(reported, self.size - position)
                if length <= 0:
                    break
                found.append(Extent(position, length, bool(flags & nbd.STATE_ZERO)))
                position += length
            return 0

        assert self._handle is not None, "connect() first"
        try:
            self._handle.block_status(count, offset, collect)
        except nbd.Error as err:
            raise self._error(f"block status at offset {offset}", err) from err
        if not found:
            raise QemuError(f"NBD export '{self.export}': no block status at offset {offset}")
        return found

    def pieces(self) -> Iterator[Piece]:
        """The whole disk in order; several reads stay in flight while earlier ones are used.

        Each reader thread has its own NBD connection: libnbd releases the GIL in ``pread``,
        QEMU serves the connections in parallel, and memory stays at ``in_flight`` requests.
        (The asynchronous calls of Debian's libnbd 1.14 bindings never free their buffers.)
        """
        queue: deque[tuple[Piece, Future[bytearray] | None]] = deque()
        with ThreadPoolExecutor(self.in_flight, thread_name_prefix="nbd-read") as pool:
            try:
                for piece in self._plan():
                    future = None
                    if piece.data is not None:
                        future = pool.submit(self._read, piece.offset, piece.length)
                    queue.append((piece, future))
                    while queue and (queue[0][1] is None or len(queue) > 2 * self.in_flight):
                        yield self._complete(*queue.popleft())
                while queue:
                    yield self._complete(*queue.popleft())
            finally:
                for _, future in queue:
                    if future is not None:
                        future.cancel()

    def _plan(self) -> Iterator[Piece]:
        """Data pieces carry an empty marker buffer; the read fills in the real data."""
        for extent in self.extents():
            if extent.zero:
                yield Piece(extent.offset, extent.length, None)
                continue
            end = extent.offset + extent.length
            for start in range(extent.offset, end, self.request_size):
                yield Piece(start, min(self.request_size, end - start), _PENDING)

    def _thread_handle(self) -> nbd.NBD:
        handle: nbd.NBD | None = getattr(self._local, "handle", None)
        if handle is None:
            handle = self._open_handle()
            self._local.handle = handle
            with self._lock:
                self._extra_handles.append(handle)
        return handle

    def _read(self, offset: int, length: int) -> bytearray:
        try:
            data: bytearray = self._thread_handle().pread(length, offset)
        except nbd.Error as err:
            raise self._error(f"read of {length} bytes at offset {offset}", err) from err
        return data

    @staticmethod
    def _complete(piece: Piece, future: Future[bytearray] | None) -> Piece:
        if future is None:
            return piece
        return Piece(piece.offset, piece.length, future.result())


_PENDING = bytearray()
