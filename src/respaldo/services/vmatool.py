"""A toolbox for any VMA archive, Proxmox's included: list, config, verify and extract.

The archive may be compressed with zstd, gzip or lzo, or not at all; the compression is
detected from the content. ``list`` and ``config`` read the header only, so they are instant
for any archive size. ``verify`` and ``extract`` stream the archive once with flat memory
(one extent buffered). When the data digest sidecar ``<archive>.digest.json`` exists (see
:mod:`respaldo.archive.digest`), both recompute each device's digest from the clusters and
compare it.

Every problem becomes a ``RespaldoError``; an :class:`~respaldo.errors.ArchiveError` carries
the byte offset (in the uncompressed stream) where it is known. ``verify_archive`` returns
the problems found after the header in its result instead of raising, so a report can show
every device; an archive whose header cannot be read raises.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from respaldo.archive.compress import DecompressedReader, open_reader
from respaldo.archive.digest import (
    FULL_MASK,
    DeviceDigest,
    SparseDigest,
    block_runs,
    check_device,
    cluster_mask,
    compare_digest,
    digest_for,
    read_expected,
    read_sidecar,
    sidecar_path,
)
from respaldo.archive.vma import (
    CLUSTER_SIZE,
    CONFIG_NAME,
    FIREWALL_NAME,
    DeviceReport,
    VmaDevice,
    VmaHeader,
    VmaReader,
    check_capacity,
    read_header,
)
from respaldo.config.schema import Schema, boolean, string
from respaldo.errors import ArchiveError, ConflictError, InputError, NotFoundError
from respaldo.formats import human_size
from respaldo.runner import binary, run

#: Image formats ``extract`` writes.
FORMATS: Final = ("raw", "qcow2")

_FILE = string("file", "A .vma, .vma.zst, .vma.gz or .vma.lzo file.", optional=False)
#: Parameters of ``respaldo vma list|config|verify|extract`` (respaldo's own tool; Proxmox's
#: ``vma`` has the verbs, not these options).
LIST_PARAMS = Schema((_FILE,), "uuid, time, configs and devices (reads the header only).")
CONFIG_PARAMS = Schema(
    (_FILE, boolean("firewall", "Print qemu-server.fw instead.", default=False)),
    "Print the stored qemu-server.conf exactly.",
)
VERIFY_PARAMS = Schema((_FILE,), "Read the whole archive and check it (and its digests).")
EXTRACT_PARAMS = Schema(
    (
        _FILE,
        string("target", "Target directory (created if missing).", optional=False),
        string("format", "Format of the disk images.", enum=FORMATS, default="raw"),
        string(
            "device",
            "Extract only these devices (comma separated, e.g. drive-scsi0,drive-efidisk0).",
        ),
    ),
    "Write each disk image and the configs into a directory.",
)

# Digest states of a device in a verify.
DIGEST_OK: Final = "ok"
DIGEST_MISMATCH: Final = "mismatch"
DIGEST_NO_SIDECAR: Final = "no sidecar"
DIGEST_BAD_SIDECAR: Final = "bad sidecar"
DIGEST_NOT_IN_SIDECAR: Final = "not in sidecar"
DIGEST_UNORDERED: Final = "unordered"
DIGEST_NOT_CHECKED: Final = "not checked"

#: Mode of the files ``extract`` creates: disk images and configs may hold secrets.
_FILE_MODE: Final = 0o600

# -- results ----------------------------------------------------------------------------------


def iso_time(ctime: int) -> str:
    """Seconds since the epoch as ISO 8601 local time; the number itself if out of range."""
    try:
        return datetime.fromtimestamp(ctime, UTC).astimezone().isoformat()
    except (OverflowError, ValueError, OSError):
        return str(ctime)


@dataclass(frozen=True, slots=True)
class ConfigInfo:
    """A configuration blob of the archive (``qemu-server.conf``, ``qemu-server.fw``)."""

    name: str
    size: int


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """A device of the archive: a disk, or ``vmstate`` (the RAM state, never extracted)."""

    dev_id: int
    name: str
    size: int

    @property
    def human_size(self) -> str:
        return human_size(self.size)


@dataclass(frozen=True, slots=True)
class ArchiveInfo:
    """What the header of an archive says."""

    path: Path
    compression: str
    uuid: str
    ctime: int
    header_size: int
    configs: list[ConfigInfo]
    devices: list[DeviceInfo]

    @property
    def ctime_iso(self) -> str:
        return iso_time(self.ctime)

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "compression": self.compression,
            "uuid": self.uuid,
            "ctime": self.ctime,
            "ctime_iso": self.ctime_iso,
            "header_size": self.header_size,
            "configs": [{"name": c.name, "size": c.size} for c in self.configs],
            "devices": [
                {"id": d.dev_id, "name": d.name, "size": d.size, "human_size": d.human_size}
                for d in self.devices
            ],
        }


@dataclass(frozen=True, slots=True)
class DeviceCheck:
    """What a verify found for one disk device.

    ``digest`` is one of the ``DIGEST_*`` states; ``data_digest`` is the digest recomputed
    from the archive when a sidecar asked for it.
    """

    dev_id: int
    name: str
    size: int
    clusters: int
    clusters_found: int
    zero_clusters: int
    data_bytes: int
    first_missing: int | None
    digest: str
    data_digest: str | None = None

    @property
    def human_size(self) -> str:
        return human_size(self.size)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of reading a whole archive; ``ok`` only when ``problems`` is empty.

    The first problem found while reading carries its byte offset in the message.
    """

    path: Path
    compression: str
    uuid: str
    ctime: int
    extents: int
    archive_bytes: int
    sidecar: Path | None
    devices: list[DeviceCheck]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "compression": self.compression,
            "uuid": self.uuid,
            "ctime": self.ctime,
            "ctime_iso": iso_time(self.ctime),
            "extents": self.extents,
            "archive_bytes": self.archive_bytes,
            "sidecar": str(self.sidecar) if self.sidecar is not None else None,
            "devices": [
                {
                    "id": d.dev_id,
                    "name": d.name,
                    "size": d.size,
                    "clusters": d.clusters,
                    "clusters_found": d.clusters_found,
                    "zero_clusters": d.zero_clusters,
                    "data_bytes": d.data_bytes,
                    "first_missing": d.first_missing,
                    "digest": d.digest,
                    "data_digest": d.data_digest,
                }
                for d in self.devices
            ],
            "ok": self.ok,
            "problems": list(self.problems),
        }


# -- opening ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _open(path: Path) -> Iterator[DecompressedReader]:
    if not path.exists():
        raise NotFoundError(f"archive {path} does not exist")
    with open_reader(path) as stream:
        yield stream


class _TrackedStream:
    """Passes reads through and remembers whether the end of the stream was reached."""

    def __init__(self, stream: DecompressedReader) -> None:
        self._stream = stream
        self.at_end = False

    def read(self, size: int, /) -> bytes:
        data = self._stream.read(size)
        if size and not data:
            self.at_end = True
        return data


# -- list and config --------------------------------------------------------------------------


def read_archive_header(path: Path) -> tuple[VmaHeader, str]:
    """The parsed header and the compression name; reads nothing past the header."""
    with _open(path) as stream:
        return read_header(stream), stream.compression.value


def list_archive(path: Path) -> ArchiveInfo:
    """The uuid, ctime, config blobs and devices of an archive, from its header only."""
    header, compression = read_archive_header(path)
    return ArchiveInfo(
        path=path,
        compression=compression,
        uuid=str(header.uuid),
        ctime=header.ctime,
        header_size=header.header_size,
        configs=[ConfigInfo(name, len(data)) for name, data in header.configs.items()],
        devices=[DeviceInfo(d.dev_id, d.name, d.size) for d in header.devices],
    )


def archive_config(path: Path, firewall: bool = False) -> str:
    """``qemu-server.conf`` (or ``qemu-server.fw`` with ``firewall``) exactly as stored."""
    header, _ = read_archive_header(path)
    if not firewall:
        return header.config_text()
    data = header.configs.get(FIREWALL_NAME)
    if data is None:
        raise NotFoundError(
            f"archive {path} has no {FIREWALL_NAME} (the VM had no firewall configuration)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ArchiveError(f"{FIREWALL_NAME} in the archive is not valid UTF-8") from err


# -- verify -----------------------------------------------------------------------------------


def verify_archive(path: Path) -> VerifyResult:
    """Read the whole archive and check everything, digests included when a sidecar exists.

    Header problems raise an ``ArchiveError``; everything after the header goes to the
    result's ``problems``: the first error met while reading (with its byte offset), every
    device's first missing cluster, and every digest that does not match the sidecar.
    """
    sidecar = sidecar_path(path)
    has_sidecar = sidecar.exists()
    expected: dict[str, DeviceDigest] | None = None
    sidecar_problem: str | None = None
    if has_sidecar:
        try:
            expected = {d.name: d for d in read_sidecar(sidecar)}
        except ArchiveError as err:
            sidecar_problem = str(err)
    with _open(path) as stream:
        tracked = _TrackedStream(stream)
        reader = VmaReader(tracked)
        header = reader.header
        digests = (
            {
                d.dev_id: digest_for(d.name, d.size, expected)
                for d in header.devices
                if not d.is_vmstate
            }
            if expected is not None
            else {}
        )
        stream_error: ArchiveError | None = None
        try:
            if expected is not None:
                for dev_id, cluster_no, data in reader.iter_clusters():
                    digests[dev_id].add_cluster(cluster_no, data)
            else:
                reader.verify()
        except ArchiveError as err:
            report = reader.report()
            # iter_clusters ends by raising the missing clusters the report lists anyway
            ended = tracked.at_end and err.offset is None
            if not (ended and str(err) == "; ".join(report.problems)):
                stream_error = err
        report = reader.report()
        compression = stream.compression.value

    problems: list[str] = [str(stream_error)] if stream_error is not None else report.problems
    if sidecar_problem is not None:
        problems.append(sidecar_problem)
    checks: list[DeviceCheck] = []
    for dev in report.devices:
        if not has_sidecar:
            state, sha, problem = DIGEST_NO_SIDECAR, None, None
        elif expected is None:
            state, sha, problem = DIGEST_BAD_SIDECAR, None, None
        elif stream_error is not None:
            state, sha, problem = DIGEST_NOT_CHECKED, None, None
        else:
            state, sha, problem = _digest_state(dev, expected, digests[dev.dev_id])
        if problem is not None:
            problems.append(problem)
        checks.append(_device_check(dev, state, sha))
    if expected is not None:
        names = {d.name for d in report.devices}
        problems.extend(
            f"digest sidecar {sidecar} lists device {name}, which is not in the archive"
            for name in expected
            if name not in names
        )
    return VerifyResult(
        path=path,
        compression=compression,
        uuid=str(header.uuid),
        ctime=header.ctime,
        extents=report.extents,
        archive_bytes=report.archive_bytes,
        sidecar=sidecar if has_sidecar else None,
        devices=checks,
        problems=problems,
    )


def _digest_state(
    dev: DeviceReport, expected: dict[str, DeviceDigest], digest: SparseDigest
) -> tuple[str, str | None, str | None]:
    """(state, recomputed digest, problem) of a device read to the end, with a sidecar."""
    want = expected.get(dev.name)
    if want is None:
        return DIGEST_NOT_IN_SIDECAR, None, f"digest sidecar has no entry for device {dev.name}"
    if not digest.in_order:
        return (
            DIGEST_UNORDERED,
            None,
            f"digest of device {dev.name} cannot be checked: its clusters are out of order",
        )
    got = digest.result()
    reason = compare_digest(want, got)
    if reason is not None:
        return DIGEST_MISMATCH, got.digest, f"data digest mismatch for device {dev.name}: {reason}"
    return DIGEST_OK, got.digest, None


def _device_check(dev: DeviceReport, state: str, data_digest: str | None) -> DeviceCheck:
    return DeviceCheck(
        dev_id=dev.dev_id,
        name=dev.name,
        size=dev.size,
        clusters=dev.clusters,
        clusters_found=dev.clusters_found,
        zero_clusters=dev.zero_clusters,
        data_bytes=dev.data_bytes,
        first_missing=dev.first_missing,
        digest=state,
        data_digest=data_digest,
    )


# -- extract ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Output:
    """One device being extracted: clusters go to ``fd`` (``data_path``), the image is ``path``."""

    dev: VmaDevice
    path: Path
    data_path: Path
    fd: int
    digest: SparseDigest | None


class _Extraction:
    """The files an extraction created, so a failure removes all of them (and nothing else)."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.created: list[Path] = []
        self.created_dir = False
        self.fds: list[int] = []

    def make_dir(self) -> None:
        if self.target.exists():
            if not self.target.is_dir():
                raise InputError("target", str(self.target), "exists and is not a directory")
            return
        try:
            self.target.mkdir(parents=True)
        except OSError as err:
            raise ArchiveError(f"cannot create {self.target}: {err}") from err
        self.created_dir = True

    def reserve(self, path: Path) -> int:
        """Create ``path`` exclusively and return its fd: an existing file is refused."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, _FILE_MODE)
        except FileExistsError:
            raise ConflictError(f"{path} already exists; not overwriting it") from None
        except OSError as err:
            raise ArchiveError(f"cannot create {path}: {err}") from err
        self.created.append(path)
        self.fds.append(fd)
        return fd

    def temp(self, name: str) -> tuple[Path, int]:
        """A new hidden sparse file in the target dir for the raw data of a qcow2 image."""
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".raw.tmp", dir=self.target)
        except OSError as err:
            raise ArchiveError(f"cannot create a temporary file in {self.target}: {err}") from err
        self.created.append(Path(tmp))
        self.fds.append(fd)
        return Path(tmp), fd

    def close(self, fd: int) -> None:
        if fd in self.fds:
            self.fds.remove(fd)
            os.close(fd)

    def remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        if path in self.created:
            self.created.remove(path)

    def rollback(self) -> None:
        """Close and delete everything created; never raises."""
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds.clear()
        for path in reversed(self.created):
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        self.created.clear()
        if self.created_dir:
            with contextlib.suppress(OSError):
                self.target.rmdir()


def _select_devices(header: VmaHeader, names: Sequence[str] | None) -> list[VmaDevice]:
    disks = [d for d in header.devices if not d.is_vmstate]
    if not names:
        return disks
    known = {d.name: d for d in disks}
    chosen: list[VmaDevice] = []
    for name in names:
        dev = known.get(name)
        if dev is None:
            valid = ", ".join(known) or "none"
            raise InputError("device", name, f"not a disk of the archive (disks: {valid})")
        if dev not in chosen:
            chosen.append(dev)
    return chosen


def _check_file_name(name: str) -> None:
    if not name or "/" in name or name in (".", ".."):
        raise ArchiveError(f"device name {name!r} cannot be used as a file name")


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    while data:
        done = os.pwrite(fd, data, offset)
        data = data[done:]
        offset += done


def _write_cluster(fd: int, cluster_no: int, data: bytes, mask: int, size: int) -> None:
    """Write the non-zero blocks of a cluster, cut at the device size; zeros stay holes."""
    base = cluster_no * CLUSTER_SIZE
    limit = min(CLUSTER_SIZE, size - base)
    view = memoryview(data)
    runs = [(0, CLUSTER_SIZE)] if mask == FULL_MASK else block_runs(mask)
    for start, end in runs:
        stop = min(end, limit)
        if start < stop:
            _pwrite_all(fd, view[start:stop], base + start)


def _convert_qcow2(source: Path, target: Path) -> None:
    """``qemu-img convert`` a sparse raw file into a new qcow2 image (holes stay unallocated)."""
    argv = [binary("qemu-img"), "convert", "-q", "-f", "raw", "-O", "qcow2"]
    run([*argv, str(source), str(target)], timeout=None)


def extract_archive(
    path: Path, target: Path, fmt: str = "raw", devices: Sequence[str] | None = None
) -> list[Path]:
    """Write each disk as ``<target>/<devname>.<fmt>`` plus ``qemu-server.conf`` (and ``.fw``).

    ``devices`` selects disks by name (None or empty: all). Zero clusters and zero 4 KiB
    blocks are never written, so images stay sparse; qcow2 images are converted from a
    temporary sparse raw file in the target dir. Existing files are never overwritten. The
    digest sidecar, when present, is checked before the extraction counts as done. On any
    failure every file (and the target dir) this call created is removed. Returns the images
    then the config files written.
    """
    if fmt not in FORMATS:
        raise InputError("format", fmt, "expected raw or qcow2")
    with _open(path) as stream:
        reader = VmaReader(stream)
        header = reader.header
        check_capacity(header, stream.stream_size)  # before files of the claimed sizes exist
        chosen = _select_devices(header, devices)
        for dev in chosen:
            _check_file_name(dev.name)
        expected = read_expected(path, [dev.name for dev in chosen])
        job = _Extraction(target)
        try:
            return _extract(reader, job, chosen, fmt, expected)
        except BaseException:
            job.rollback()
            raise


def _extract(
    reader: VmaReader,
    job: _Extraction,
    chosen: list[VmaDevice],
    fmt: str,
    expected: dict[str, DeviceDigest] | None,
) -> list[Path]:
    header = reader.header
    job.make_dir()
    configs = [name for name in (CONFIG_NAME, FIREWALL_NAME) if name in header.configs]
    # Reserve every output name first, so a file that exists is refused before any work.
    config_fds = {name: job.reserve(job.target / name) for name in configs}
    outputs: dict[int, _Output] = {}
    for dev in chosen:
        image = job.target / f"{dev.name}.{fmt}"
        fd = job.reserve(image)
        data_path = image
        if fmt != "raw":
            job.close(fd)
            data_path, fd = job.temp(dev.name)
        digest = digest_for(dev.name, dev.size, expected) if expected is not None else None
        outputs[dev.dev_id] = _Output(dev, image, data_path, fd, digest)
    try:
        for out in outputs.values():
            os.ftruncate(out.fd, out.dev.size)
        for dev_id, cluster_no, data in reader.iter_clusters():
            sink = outputs.get(dev_id)
            if sink is None or data is None:
                continue
            mask = sink.digest.add_cluster(cluster_no, data) if sink.digest else cluster_mask(data)
            if mask:
                _write_cluster(sink.fd, cluster_no, data, mask, sink.dev.size)
        for out in outputs.values():
            job.close(out.fd)
        for name, fd in config_fds.items():
            _pwrite_all(fd, memoryview(header.configs[name]), 0)
            job.close(fd)
    except OSError as err:
        raise ArchiveError(f"cannot write to {job.target}: {err}") from err
    if expected is not None:
        _check_digests(outputs.values(), expected)
    for out in outputs.values():
        if out.data_path != out.path:
            _convert_qcow2(out.data_path, out.path)
            job.remove(out.data_path)
            with contextlib.suppress(OSError):
                out.path.chmod(_FILE_MODE)
    return [out.path for out in outputs.values()] + [job.target / name for name in configs]


def _check_digests(outputs: Iterable[_Output], expected: dict[str, DeviceDigest]) -> None:
    """Compare each extracted device's recomputed digest with the sidecar's."""
    for out in outputs:
        assert out.digest is not None
        check_device(expected[out.dev.name], out.digest)
