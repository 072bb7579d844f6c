"""The restore copy: archive clusters in, contiguous runs written to the volumes in parallel.

With a digest per device, each run is also hashed, whole, in one thread beside the copy
(BLAKE3 releases the GIL), in the order the archive holds the runs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from respaldo.archive.background import BackgroundWorker
from respaldo.archive.digest import SparseDigest
from respaldo.archive.vma import CLUSTER_SIZE, VmaReader
from respaldo.services.progress import Progress, Throttle
from respaldo.services.restore.volumes import VolumeTarget

RUN_CLUSTERS = 64  # 4 MiB writes
WRITERS = 4
MAX_PENDING = 2 * WRITERS


@dataclass
class _Run:
    start: int
    chunks: list[bytes] = field(default_factory=list)

    @property
    def next(self) -> int:
        return self.start + len(self.chunks)


@dataclass
class DeviceTarget:
    target: VolumeTarget
    size: int


def _go_on() -> None:
    pass


class ArchiveCopy:
    """``digests``: by device id, the digests to feed with what is restored (see digest.py);
    they are complete once :meth:`run` returns. ``check_stop`` is called before each
    cluster and raises to end the copy (``TaskContext.check_stop``)."""

    def __init__(
        self,
        targets: dict[int, DeviceTarget],
        progress: Progress,
        throttle: Throttle,
        digests: Mapping[int, SparseDigest] | None = None,
        check_stop: Callable[[], None] = _go_on,
    ) -> None:
        self.check_stop = check_stop
        self.targets = targets
        self.progress = progress
        self.throttle = throttle
        self.digests = dict(digests or {})
        self.written = 0
        self._runs: dict[int, _Run] = {}
        self._pending: deque[Future[None]] = deque()
        self._hasher: BackgroundWorker | None = None

    def run(self, reader: VmaReader) -> None:
        if self.digests:
            self._hasher = BackgroundWorker("restore-digest")
        with ThreadPoolExecutor(WRITERS, thread_name_prefix="restore-write") as pool:
            try:
                for dev_id, cluster_no, data in reader.iter_clusters():
                    self.check_stop()
                    self._cluster(pool, dev_id, cluster_no, data)
                for dev_id in list(self._runs):
                    self._flush(pool, dev_id)
                while self._pending:
                    self._pending.popleft().result()
                if self._hasher is not None:
                    self._hasher.finish()
            finally:
                for future in self._pending:
                    future.cancel()
                if self._hasher is not None:
                    self._hasher.abort()

    def _cluster(
        self, pool: ThreadPoolExecutor, dev_id: int, cluster_no: int, data: bytes | None
    ) -> None:
        device = self.targets.get(dev_id)
        length = CLUSTER_SIZE
        if device is not None:
            length = min(CLUSTER_SIZE, device.size - cluster_no * CLUSTER_SIZE)
        self.progress.advance(length, read=0 if data is None else length)
        if device is None:
            return
        run = self._runs.get(dev_id)
        if data is None:
            if run:
                self._flush(pool, dev_id)
            return
        if run and run.next == cluster_no and len(run.chunks) < RUN_CLUSTERS:
            run.chunks.append(data)
            return
        if run:
            self._flush(pool, dev_id)
        self._runs[dev_id] = _Run(cluster_no, [data])

    def _flush(self, pool: ThreadPoolExecutor, dev_id: int) -> None:
        run = self._runs.pop(dev_id)
        device = self.targets[dev_id]
        offset = run.start * CLUSTER_SIZE
        clusters = b"".join(run.chunks)
        digest = self.digests.get(dev_id)
        if digest is not None and self._hasher is not None:
            self._hasher.submit(digest.add_buffer, run.start, clusters)
        blob = clusters[: device.size - offset]  # the archive pads the last cluster
        self.throttle.take(len(blob))
        self.written += len(blob)
        while len(self._pending) >= MAX_PENDING:
            self._pending.popleft().result()
        self._pending.append(pool.submit(device.target.write, offset, blob))
