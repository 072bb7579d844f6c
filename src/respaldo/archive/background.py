"""One worker thread that runs calls in order, so the hot loop does not wait for them.

The backup's main thread assembles VMA extents while hashing (SHA-256) and compression (zstd)
run in C with the GIL released: handing those calls to their own threads lets the three
overlap on the machine's cores. The queue is bounded, so memory stays flat: a producer that
runs ahead waits for the worker.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol

_STOP = object()


class BackgroundWorker:
    def __init__(self, name: str, depth: int = 8) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(depth)
        self._error: BaseException | None = None
        self._aborted = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._error is not None or self._aborted:
                continue  # drain without running: the caller learns of the error
            function, args = item
            try:
                function(*args)
            except BaseException as err:  # re-raised in the caller's thread
                self._error = err

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, function: Callable[..., object], *args: Any) -> None:
        """Queue a call; raises the error of an earlier call if one failed."""
        self._raise_error()
        self._queue.put((function, args))

    def finish(self) -> None:
        """Wait for every queued call; raise the first error."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        self._raise_error()

    def abort(self) -> None:
        """Stop without running what is still queued; never raises."""
        self._aborted = True
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()


class _Stream(Protocol):
    def write(self, data: bytes | memoryview) -> object: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


class BackgroundStream:
    """Writes to ``inner`` (a compressor) from a worker thread; the data must not change
    after ``write`` (bytes, or views of bytes, as the VMA writer hands over)."""

    def __init__(self, inner: _Stream, name: str = "compress") -> None:
        self._inner = inner
        self._worker = BackgroundWorker(name, depth=4)

    def write(self, data: bytes | memoryview) -> None:
        self._worker.submit(self._inner.write, data)

    def close(self) -> None:
        self._worker.finish()
        self._inner.close()

    def abort(self) -> None:
        # The compressor first: a worker blocked writing into it is released when it dies.
        self._inner.abort()
        self._worker.abort()
