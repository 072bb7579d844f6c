"""Reading a disk exported over NBD with libnbd: allocation map first, then only the data.

The reader yields the disk in offset order as pieces of data or zero runs, and knows nothing
about where they go: the VMA writer is one consumer, a chunk store can be another.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterator
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
    """``data`` is None for a run of zeroes that was never read."""

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
        self._handle = nbd.NBD()
        self.size = 0

    def connect(self) -> NbdReader:
        handle = self._handle
        try:
            handle.add_meta_context("base:allocation")
            handle.set_export_name(self.export)
            handle.connect_unix(str(self.socket_path))
            self.size = handle.get_size()
        except nbd.Error as err:
            raise QemuError(
                f"NBD export '{self.export}' at {self.socket_path}: cannot connect: {err}"
            ) from err
        return self

    def close(self) -> None:
        with contextlib.suppress(nbd.Error):  # the server may be gone already
            self._handle.shutdown()

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

        try:
            self._handle.block_status(count, offset, collect)
        except nbd.Error as err:
            raise self._error(f"block status at offset {offset}", err) from err
        if not found:
            raise QemuError(f"NBD export '{self.export}': no block status at offset {offset}")
        return found

    def pieces(self) -> Iterator[Piece]:
        """The whole disk in order; several reads stay in flight while earlier ones are used."""
        queue: deque[_Request] = deque()
        in_flight = 0
        for piece in self._plan():
            request = self._submit(piece)
            in_flight += request.cookie is not None
            queue.append(request)
            while queue and (queue[0].cookie is None or in_flight >= self.in_flight):
                head = queue.popleft()
                in_flight -= head.cookie is not None
                yield self._complete(head)
        while queue:
            yield self._complete(queue.popleft())

    def _plan(self) -> Iterator[Piece]:
        for extent in self.extents():
            if extent.zero:
                yield Piece(extent.offset, extent.length, None)
                continue
            end = extent.offset + extent.length
            for start in range(extent.offset, end, self.request_size):
                length = min(self.request_size, end - start)
                yield Piece(start, length, bytearray(length))

    def _submit(self, piece: Piece) -> _Request:
        if piece.data is None:
            return _Request(piece, None, None)
        # The nbd.Buffer shares the bytearray: the data lands in it without a copy.
        buffer = nbd.Buffer.from_buffer(piece.data)
        try:
            cookie: int = self._handle.aio_pread(buffer, piece.offset)
        except nbd.Error as err:
            raise self._error(f"read at offset {piece.offset}", err) from err
        return _Request(piece, cookie, buffer)

    def _complete(self, request: _Request) -> Piece:
        piece = request.piece
        if request.cookie is None:
            return piece
        try:
            while not self._handle.aio_command_completed(request.cookie):
                self._handle.poll(-1)
        except nbd.Error as err:
            raise self._error(
                f"read of {piece.length} bytes at offset {piece.offset}", err
            ) from err
        return piece


@dataclass
class _Request:
    piece: Piece
    cookie: int | None
    buffer: object  # kept alive until the read completes
