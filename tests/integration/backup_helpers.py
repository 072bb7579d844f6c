"""What the backup tests check the way a user would: archives decoded, disks compared."""

from __future__ import annotations

import hashlib
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from respaldo.archive.compress import open_reader
from respaldo.archive.vma import VmaHeader, VmaReader, restore_device_streams
from respaldo.qemu.qmp import Qmp
from tests.integration.conftest import Cli

ARCHIVE_NAME = re.compile(
    r"^vzdump-qemu-(\d+)-\d{4}_\d{2}_\d{2}-\d{2}_\d{2}_\d{2}\.vma(\.zst|\.gz|\.lzo)?$"
)
MIB = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(4 * MIB):
            digest.update(chunk)
    return digest.hexdigest()


def disk_as_raw(image: Path, out: Path) -> str:
    """The disk's content (read while QEMU may hold it: -U), as a sha256."""
    subprocess.run(
        ["qemu-img", "convert", "-U", "-O", "raw", str(image), str(out)], check=True, timeout=120
    )
    return sha256_file(out)


def extract_archive(archive: Path, folder: Path) -> tuple[VmaHeader, dict[str, str]]:
    """Decode an archive with the project's reader: header and sha256 per device name."""
    folder.mkdir(parents=True, exist_ok=True)
    with open_reader(archive) as stream:
        reader = VmaReader(stream)
        files = {d.dev_id: (folder / d.name).open("wb") for d in reader.header.devices}

        def sink_for(dev_id: int) -> Callable[[int, bytes | None], None]:
            def sink(offset: int, data: bytes | None) -> None:
                if data is not None:
                    files[dev_id].seek(offset)
                    files[dev_id].write(data)

            return sink

        report = restore_device_streams(reader, {i: sink_for(i) for i in files})
        assert report.ok, report.problems
        for dev_id, f in files.items():
            f.truncate(reader.header.device(dev_id).size)
            f.close()
    return reader.header, {d.name: sha256_file(folder / d.name) for d in reader.header.devices}


def write_patterns(image: Path, fmt: str, commands: list[str]) -> None:
    """Write test data into a disk image that no QEMU has open."""
    argv = ["qemu-io", "-f", fmt]
    for command in commands:
        argv += ["-c", command]
    subprocess.run([*argv, str(image)], check=True, capture_output=True, timeout=60)


def archives(cli: Cli, storage: str = "local") -> list[Path]:
    dump = cli.home / "storage" / storage / "dump"
    return sorted(p for p in dump.iterdir() if ARCHIVE_NAME.match(p.name))


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def block_jobs(cli: Cli, vmid: int) -> list[str]:
    with Qmp(cli.home / "run" / "qemu" / f"{vmid}.qmp") as qmp:
        return [job["device"] for job in qmp.execute("query-block-jobs")]


def fleece_nodes(cli: Cli, vmid: int) -> list[str]:
    with Qmp(cli.home / "run" / "qemu" / f"{vmid}.qmp") as qmp:
        nodes = qmp.execute("query-named-block-nodes", {"flat": True})
        return [n["node-name"] for n in nodes if n["node-name"].startswith("fleece-")]
