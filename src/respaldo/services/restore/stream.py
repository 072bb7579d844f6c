"""The restore copy: archive clusters in, contiguous runs written to the volumes in parallel."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

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


class ArchiveCopy:
    def __init__(
        self, targets: dict[int, DeviceTarget], progress: Progress, throttle: Throttle
    ) -> None:
        self.targets = targets
        self.progress = progress
        self.throttle = throttle
        self.written = 0
        self._runs: dict[int, _Run] = {}
        self._pending: deque[Future[None]] = deque()

    def run(self, reader: VmaReader) -> None:
        with ThreadPoolExecutor(WRITERS, thread_name_prefix="restore-write") as pool:
            try:
                for dev_id, cluster_no, data in reader.iter_clusters():
                    self._cluster(pool, dev_id, cluster_no, data)
                for dev_id in list(self._runs):
                    self._flush(pool, dev_id)
                while self._pending:
                    self._pending.popleft().result()
            finally:
                for future in self._pending:
                    future.cancel()

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
        blob = b"".join(run.chunks)[: device.size - offset]  # the archive pads the last cluster
        self.throttle.take(len(blob))
        self.written += len(blob)
        while len(self._pending) >= MAX_PENDING:
            self._pending.popleft().result()
        self._pending.append(pool.submit(device.target.write, offset, blob))
