"""Wrapper around ``qemu-nbd``: serve one disk image over a unix socket, write through libnbd.

Restore writes qcow2 volumes through qemu-nbd rather than by hand, so the qcow2 format stays
QEMU's business. ``--fork`` makes qemu-nbd return once its socket listens, so nothing polls.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import nbd

from respaldo.errors import QemuError
from respaldo.qemu import process
from respaldo.runner import binary, run

MAX_CLIENTS = 8


class QemuNbdServer:
    def __init__(self, image: Path, fmt: str, socket_path: Path) -> None:
        self.image = image
        self.format = fmt
        self.socket_path = socket_path
        self.pidfile = socket_path.with_suffix(".pid")
        self.pid: int | None = None

    def start(self) -> QemuNbdServer:
        self.socket_path.unlink(missing_ok=True)
        run(
            [
                binary("qemu-nbd"),
                "--fork",
                f"--pid-file={self.pidfile}",
                "-f",
                self.format,
                "-k",
                str(self.socket_path),
                "-e",
                str(MAX_CLIENTS),
                "--cache=writeback",
                "--discard=unmap",
                str(self.image),
            ],
            timeout=60,
        )
        self.pid = int(self.pidfile.read_text().strip())
        return self

    def stop(self) -> None:
        if self.pid is not None:
            process.kill(self.pid)
            self.pid = None
        self.pidfile.unlink(missing_ok=True)
        self.socket_path.unlink(missing_ok=True)


class NbdWriter:
    """Writes to an NBD export from several threads, each over its own connection."""

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self._local = threading.local()
        self._lock = threading.Lock()
        self._handles: list[nbd.NBD] = []

    def _handle(self) -> nbd.NBD:
        handle: nbd.NBD | None = getattr(self._local, "handle", None)
        if handle is None:
            handle = nbd.NBD()
            try:
                handle.connect_unix(str(self.socket_path))
            except nbd.Error as err:
                raise QemuError(f"cannot connect to NBD socket {self.socket_path}: {err}") from err
            self._local.handle = handle
            with self._lock:
                self._handles.append(handle)
        return handle

    def write(self, offset: int, data: bytes) -> None:
        try:
            self._handle().pwrite(data, offset)
        except nbd.Error as err:
            raise QemuError(f"NBD write of {len(data)} bytes at {offset} failed: {err}") from err

    def close(self) -> None:
        """Flush (qemu-nbd writes its caches to the image) and disconnect."""
        try:
            if self._handles:
                self._handles[0].flush()
        except nbd.Error as err:
            raise QemuError(f"NBD flush of {self.socket_path} failed: {err}") from err
        finally:
            for handle in self._handles:
                with contextlib.suppress(nbd.Error):
                    handle.shutdown()
            self._handles.clear()
