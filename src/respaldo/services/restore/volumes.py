"""Where restored data goes: new volumes, written sparse (zero clusters are never written).

A raw volume is a file written with ``pwrite``; a qcow2 volume is written through qemu-nbd.
Both take writes from several threads at once (the GIL is released in the system calls).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Protocol

from respaldo.errors import StorageError
from respaldo.qemu.nbdserver import NbdWriter, QemuNbdServer


class VolumeTarget(Protocol):
    def write(self, offset: int, data: bytes) -> None: ...

    def close(self) -> None:
        """Make everything written durable; raise if that fails."""
        ...

    def abort(self) -> None:
        """Release everything, never raising (the volume is about to be freed)."""
        ...


class RawFileTarget:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)

    def write(self, offset: int, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                done = os.pwrite(self.fd, view, offset)
                view, offset = view[done:], offset + done
        except OSError as err:
            raise StorageError(f"writing {self.path} at offset {offset} failed: {err}") from err

    def close(self) -> None:
        try:
            os.fsync(self.fd)
        except OSError as err:
            raise StorageError(f"cannot flush {self.path}: {err}") from err
        finally:
            os.close(self.fd)

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


class NbdTarget:
    def __init__(self, path: Path, fmt: str, socket_path: Path) -> None:
        self.server = QemuNbdServer(path, fmt, socket_path).start()
        self.writer = NbdWriter(socket_path)

    def write(self, offset: int, data: bytes) -> None:
        self.writer.write(offset, data)

    def close(self) -> None:
        try:
            self.writer.close()
        finally:
            self.server.stop()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()
        with contextlib.suppress(Exception):
            self.server.stop()


def open_target(path: Path, fmt: str, socket_path: Path) -> VolumeTarget:
    if fmt == "raw":
        return RawFileTarget(path)
    return NbdTarget(path, fmt, socket_path)
