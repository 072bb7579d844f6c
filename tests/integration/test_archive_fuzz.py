"""Damaged and hostile archives through every reading path, under a memory limit.

Each case is an archive (uncompressed, or zstd/gzip/lzo) made from one small valid archive by
a named, deterministic mutation: truncation wherever the format changes meaning, header and
extent fields set to their extremes (md5 sums resealed, so the checks behind them are reached),
headers claiming up to 255 devices of 256 TiB, the largest config blobs, seeded bit flips, and
broken digest sidecars. Every reading path (``vma list``, ``vma config``, ``vma verify``,
``vma extract``, ``qmrestore``, ``pvesm extractconfig``) reads each one in a child process
limited to ``LIMIT`` bytes of address space (see fuzz_driver.py). Each run must end by itself
within ``TIMEOUT`` with exit code 0, 1 or 2 and a respaldo error message, without a traceback
or running out of memory, and a failed extract or restore leaves nothing behind. The peak
memory of the runs is reported in one summary line.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal

import pytest

from respaldo.archive.compress import Compression, open_writer
from respaldo.archive.digest import SCHEME, SIDECAR_SUFFIX
from respaldo.archive.vma import CLUSTER_SIZE, VmaWriter

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(60)]

LIMIT: Final = 512 << 20  # RLIMIT_AS of every run, bytes
TIMEOUT: Final = 30.0  # seconds; a run still going then is a hang
MAX_RSS_MIB: Final = 256  # the peak resident memory any run may reach
FIRST_VMID: Final = 1000
REPO: Final = Path(__file__).resolve().parents[2]
MAX32: Final = 0xFFFFFFFF
MAX64: Final = 0xFFFFFFFFFFFFFFFF
TIB256: Final = 1 << 48

# -- the valid archive every case starts from ------------------------------------------------------


@dataclass(frozen=True)
class Archive:
    data: bytes  # uncompressed
    sidecar: str  # the digest sidecar's text ("" when the archive is only a header)


def _content(size: int, seed: int) -> bytes:
    """Zero clusters, zero blocks and random blocks: extents with every kind of mask."""
    rnd = random.Random(seed)
    out = bytearray(size)
    for cluster in range(0, size, CLUSTER_SIZE):
        if rnd.random() < 0.3:
            continue
        for block in range(cluster, min(cluster + CLUSTER_SIZE, size), 4096):
            if rnd.random() < 0.2:
                out[block : block + 4096] = rnd.randbytes(min(4096, size - block))
    return bytes(out)


def make_archive(
    disks: list[tuple[str, int]], with_data: bool = True, extra: dict[str, bytes] | None = None
) -> Archive:
    """An archive of ``disks`` (key, size) with a config mapping each to ``local`` as raw; with
    ``with_data`` False only its header: a claim it does not hold."""
    config = "name: fuzz\nmemory: 64\n" + "".join(
        f"{key}: local:100/vm-100-disk-{i}.raw,size={size}\n"
        f"#qmdump#map:{key}:drive-{key}:local:raw:\n"
        for i, (key, size) in enumerate(disks)
    )
    configs = {"qemu-server.conf": config.encode(), "qemu-server.fw": b"[OPTIONS]\nenable: 1\n"}
    devices = [(f"drive-{key}", size) for key, size in disks]
    out = io.BytesIO()
    writer = VmaWriter(out, {**configs, **(extra or {})}, devices, uuid.UUID(int=99), 17, True)
    if not with_data:
        writer.abort()
        return Archive(out.getvalue(), "")
    for dev_id, (_, size) in enumerate(disks, start=1):
        data = _content(size, seed=dev_id)
        for n, offset in enumerate(range(0, size, CLUSTER_SIZE)):
            chunk = data[offset : offset + CLUSTER_SIZE]
            writer.write_cluster(dev_id, n, chunk if chunk.strip(b"\0") else None)
    writer.close()
    entries = [
        {"name": d.name, "size": d.size, "data_bytes": d.data_bytes, "digest": d.digest}
        for d in writer.device_digests()
    ]
    return Archive(out.getvalue(), json.dumps({"scheme": SCHEME, "devices": entries}))


DISKS: Final = [("scsi0", 70 * CLUSTER_SIZE + 3 * 512), ("efidisk0", 2 * CLUSTER_SIZE + 512)]


@cache
def base() -> Archive:
    return make_archive(DISKS)


def u32(data: bytes | bytearray, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "big")


def header_size(data: bytes) -> int:
    return u32(data, 56)


def extent_starts(data: bytes) -> list[int]:
    starts, pos = [], header_size(data)
    while pos < len(data):
        starts.append(pos)
        pos += 512 + 4096 * int.from_bytes(data[pos + 6 : pos + 8], "big")
    return starts


# -- mutations -------------------------------------------------------------------------------------

Mutation = Callable[[bytes], bytes]


def _seal_header(buf: bytearray) -> None:
    size = u32(buf, 56)
    if size <= len(buf):
        buf[32:48] = bytes(16)
        buf[32:48] = hashlib.md5(buf[:size], usedforsecurity=False).digest()


def _seal_extent(buf: bytearray, at: int) -> None:
    buf[at + 24 : at + 40] = bytes(16)
    buf[at + 24 : at + 40] = hashlib.md5(buf[at : at + 512], usedforsecurity=False).digest()


def set_header(
    at: int, value: int, size: int, order: Literal["big", "little"] = "big", seal: bool = True
) -> Mutation:
    def mutate(data: bytes) -> bytes:
        buf = bytearray(data)
        buf[at : at + size] = value.to_bytes(size, order)
        if seal:
            _seal_header(buf)
        return bytes(buf)

    return mutate


def set_extent(index: int, at: int, value: Callable[[int], int], size: int) -> Mutation:
    """Field ``at`` of extent ``index`` set to ``value(old)``, the extent's md5 resealed."""

    def mutate(data: bytes) -> bytes:
        buf = bytearray(data)
        start = extent_starts(data)[index]
        old = int.from_bytes(buf[start + at : start + at + size], "big")
        buf[start + at : start + at + size] = value(old).to_bytes(size, "big")
        _seal_extent(buf, start)
        return bytes(buf)

    return mutate


def cut_at(offset: int) -> Mutation:
    return lambda data: data[:offset]


def cut_after_header(delta: int) -> Mutation:
    return lambda data: data[: header_size(data) + delta]


def cut_in_extent(index: int, at: int) -> Mutation:
    return lambda data: data[: extent_starts(data)[index] + at]


def flip(position: int, bit: int, seal: bool) -> Mutation:
    """One bit flipped; with ``seal`` the md5 of the header or extent holding it is redone."""

    def mutate(data: bytes) -> bytes:
        buf = bytearray(data)
        at = position % len(buf)
        buf[at] ^= 1 << bit
        if seal:
            starts = [s for s in extent_starts(data) if s <= at]
            if not starts:
                _seal_header(buf)
            elif at < starts[-1] + 512:
                _seal_extent(buf, starts[-1])
        return bytes(buf)

    return mutate


def claim(devices: int, size: int) -> Mutation:
    """A header alone claiming ``devices`` disks of ``size`` bytes each (a header written for
    small disks, then patched: the writer itself keeps a bitmap of the size it is given)."""

    def mutate(_: bytes) -> bytes:
        buf = bytearray(make_archive([(f"scsi{i}", 512) for i in range(devices)], False).data)
        for dev_id in range(1, devices + 1):
            buf[4096 + 32 * dev_id + 8 : 4096 + 32 * dev_id + 16] = size.to_bytes(8, "big")
        _seal_header(buf)
        return bytes(buf)

    return mutate


def duplicate_device_slot(slot: int, size: int) -> Mutation:
    """Device slot ``slot`` given device 1's name and ``size`` bytes."""

    def mutate(data: bytes) -> bytes:
        buf = bytearray(data)
        at = 4096 + 32 * slot
        buf[at : at + 4] = buf[4096 + 32 : 4096 + 36]
        buf[at + 8 : at + 16] = size.to_bytes(8, "big")
        _seal_header(buf)
        return bytes(buf)

    return mutate


def _first_extent(data: bytes) -> bytes:
    start, second = extent_starts(data)[:2]
    return data[start:second]


# -- cases -----------------------------------------------------------------------------------------

GOOD: Final = "good"  # the base archive's own sidecar


@dataclass(frozen=True)
class Case:
    name: str
    mutate: Mutation = bytes
    compression: Compression = Compression.NONE
    damage: Mutation | None = None  # applied to the compressed file
    sidecar: str | None = None  # GOOD, a text of its own, or None: no sidecar
    valid: bool = False  # every reading path must succeed


def _header_cases() -> Iterator[Case]:
    fields: list[tuple[str, int, int, list[int]]] = [
        ("version", 4, 4, [0, 2, MAX32]),
        ("ctime", 24, 8, [1 << 63, (1 << 63) - 1, MAX64]),
        ("blob_offset", 48, 4, [0, 12287, 12289, MAX32]),
        ("blob_size", 52, 4, [0, 1, 2, 0x10000, MAX32]),
        ("header_size", 56, 4, [0, 12288, 12289, 13312, 1 << 20, (1 << 20) + 512, MAX32]),
        ("config_name0", 2044, 4, [0, 1, 2, MAX32]),
        ("config_data0", 3068, 4, [0, 1, MAX32]),
        ("config_name255", 2044 + 4 * 255, 4, [1]),
        ("config_data255", 3068 + 4 * 255, 4, [1]),
        ("dev0_ptr", 4096, 4, [1]),
        ("dev0_size", 4096 + 8, 8, [TIB256]),
        ("dev1_ptr", 4128, 4, [0, 1, 2, MAX32]),
        ("dev1_size", 4136, 8, [0, 1, 511, 512, TIB256, TIB256 + 512, 1 << 63, MAX64]),
        ("dev2_size", 4168, 8, [0, 1 << 40, MAX64]),
        ("dev255_ptr", 4096 + 32 * 255, 4, [1, MAX32]),
    ]
    for name, at, size, values in fields:
        for value in values:
            yield Case(f"header-{name}={value:#x}", set_header(at, value, size))
    for value in (0, 2, 0xFFFF):  # the first blob's length, little-endian
        yield Case(f"header-blob0_len={value:#x}", set_header(12289, value, 2, "little"))
    yield Case("header-md5-wrong", set_header(100, 1, 1, seal=False))
    yield Case("header-dev1_size=2^48-unsealed", set_header(4136, TIB256, 8, seal=False))
    yield Case("header-slot3-duplicate-name", duplicate_device_slot(3, TIB256))
    yield Case("header-slot255-duplicate-name", duplicate_device_slot(255, 512))
    for devices, size, label in ((1, TIB256, "2^48"), (2, TIB256, "2^48"), (255, TIB256, "2^48"),
                                 (255, 512, "512")):  # fmt: skip
        yield Case(f"claim-{devices}x{label}", claim(devices, size))
    for devices in (1, 255):
        yield Case(f"claim-{devices}x2^48-zstd", claim(devices, TIB256), Compression.ZSTD)


def _extent_cases() -> Iterator[Case]:
    fields: list[tuple[str, int, int, list[Callable[[int], int]]]] = [
        ("magic", 0, 4, [lambda _: int.from_bytes(b"VMAX", "big")]),
        ("reserved", 4, 2, [lambda _: 1, lambda _: 0xFFFF]),
        ("block_count", 6, 2, [lambda _: 0, lambda c: c + 1, lambda _: 944, lambda _: 0xFFFF]),
        ("uuid", 8, 1, [lambda b: b ^ 0xFF]),
        ("entry0", 40, 8, [
            lambda e: e | MAX32,  # cluster 2^32-1: out of range
            lambda e: e & ~(0xFF << 32),  # device id 0 with a cluster and mask
            lambda e: e | 0xFF << 32,  # device 255: not in the header
            lambda e: e ^ 1 << 32 ^ 3 << 32,  # the other device
            lambda e: e ^ 1 << 48,  # one block more or less than the block count says
            lambda e: e & ~(0xFFFF << 48),  # mask 0: stored blocks left over
        ]),
        ("entry58", 40 + 8 * 58, 8, [lambda _: 1 << 32, lambda _: 1 << 32 | 0xFFFF << 48]),
    ]  # fmt: skip
    for index in (0, 1):
        for name, at, size, values in fields:
            for i, value in enumerate(values):
                yield Case(f"extent{index}-{name}-{i}", set_extent(index, at, value, size))


def _truncation_cases() -> Iterator[Case]:
    fixed = [0, 1, 4, 8, 31, 48, 56, 60, 2044, 3068, 4096, 4128, 12287, 12288]
    for offset in fixed:
        yield Case(f"cut@{offset}", cut_at(offset))
    for delta in (-1, 0, 1):
        yield Case(f"cut@header_size{delta:+}", cut_after_header(delta))
    for index in (0, 1):
        for at in (6, 40, 511, 512, 513, 512 + 4096):
            yield Case(f"cut@extent{index}+{at}", cut_in_extent(index, at))
    yield Case("cut@end-4096", lambda d: d[:-4096])
    yield Case("cut@end-1", lambda d: d[:-1])
    yield Case("tail-zero-extent", lambda d: d + bytes(512))
    yield Case("tail-byte", lambda d: d + b"\0")
    yield Case("tail-first-extent-again", lambda d: d + _first_extent(d))


def _flip_cases() -> Iterator[Case]:
    rnd = random.Random(20261130)
    first_extent = header_size(base().data)
    for i in range(42):
        region = i % 3  # the header, the first extent's header, anywhere
        position = (
            rnd.randrange(first_extent)
            if region == 0
            else first_extent + rnd.randrange(512)
            if region == 1
            else rnd.randrange(1 << 30)
        )
        bit, seal = rnd.randrange(8), i % 2 == 0
        name = f"flip@{position}.{bit}{'-resealed' if seal else ''}"
        yield Case(name, flip(position, bit, seal), sidecar=GOOD)


def _compressed_cases() -> Iterator[Case]:
    rnd = random.Random(7)
    for compression, flips in ((Compression.ZSTD, 8), (Compression.GZIP, 4), (Compression.LZO, 3)):
        kind = compression.value
        yield Case(f"{kind}-valid", compression=compression, sidecar=GOOD, valid=True)
        for name, damage in (
            ("cut@third", lambda d: d[: len(d) // 3]),
            ("cut@end-20", lambda d: d[:-20]),
            ("cut@end-1", lambda d: d[:-1]),
        ):
            yield Case(f"{kind}-{name}", compression=compression, damage=damage, sidecar=GOOD)
        for _ in range(flips):
            position, bit = rnd.randrange(1 << 30), rnd.randrange(8)
            damage = flip(position, bit, seal=False)
            yield Case(f"{kind}-flip@{position}.{bit}", bytes, compression, damage, GOOD)
    yield Case("zstd-dev1_size=2^48", set_header(4136, TIB256, 8), Compression.ZSTD)


def _sidecar(edit: Callable[[dict[str, Any]], object]) -> str:
    data = json.loads(base().sidecar)
    edit(data)
    return json.dumps(data)


def _sidecar_cases() -> Iterator[Case]:
    texts = {
        "truncated": "{",
        "list": "[]",
        "null": "null",
        "devices=5": json.dumps({"scheme": SCHEME, "devices": 5}),
        "device-without-fields": json.dumps({"scheme": SCHEME, "devices": [{"name": 1}]}),
        "unknown-scheme": json.dumps({"scheme": "respaldo-sparse-v9", "devices": []}),
    }
    edits: dict[str, Callable[[dict[str, Any]], object]] = {
        "size-text": lambda d: d["devices"][0].update(size="x"),
        "data_bytes-2^64": lambda d: d["devices"][0].update(data_bytes=1 << 64),
        "digest-other": lambda d: d["devices"][1].update(digest="0" * 64),
        "device-missing": lambda d: d["devices"].pop(),
    }
    texts.update({name: _sidecar(edit) for name, edit in edits.items()})
    for name, text in texts.items():
        yield Case(f"sidecar-{name}", sidecar=text)


def _config_cases() -> Iterator[Case]:
    big = {"big.conf": bytes(range(256)) * 255 + bytes(255)}  # the largest blob: 65535 bytes
    many = {f"extra{i}.conf": b"x" * 1800 for i in range(250)}  # 256 configs, 464 KiB header
    yield Case("config-65535-bytes", lambda _: make_archive(DISKS, extra=big).data, valid=True)
    yield Case("configs-256", lambda _: make_archive(DISKS, extra=many).data, valid=True)
    yield Case("device-name-4000-chars", lambda _: make_archive([("x" * 3994, 512)]).data)


CASES: Final = [
    Case("valid", sidecar=GOOD, valid=True),
    Case("valid-without-sidecar", valid=True),
    *_header_cases(),
    *_extent_cases(),
    *_truncation_cases(),
    *_flip_cases(),
    *_compressed_cases(),
    *_sidecar_cases(),
    *_config_cases(),
]


def materialize(case: Case, folder: Path) -> Path:
    """The case's archive file (and its sidecar) in ``folder``."""
    path = folder / f"vzdump-qemu-100-2026_11_30-00_00_00.vma{case.compression.extension}"
    with path.open("wb") as file, open_writer(file, case.compression) as out:
        out.write(case.mutate(base().data))
    if case.damage is not None:
        path.write_bytes(case.damage(path.read_bytes()))
    text = base().sidecar if case.sidecar == GOOD else case.sidecar
    if text is not None:
        path.with_name(path.name + SIDECAR_SUFFIX).write_text(text)
    return path


# -- the runs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    case: str
    path: str
    code: int
    seconds: float
    rss_mib: float
    output: str


class Driver:
    """fuzz_driver.py in a subprocess: every run forked from it under ``LIMIT``."""

    def __init__(self, home: Path, limit: int = LIMIT) -> None:
        # LC_ALL=C: argparse's gettext then looks for no translation (a third of a short run)
        self.env = {"RESPALDO_HOME": str(home), "RESPALDO_NODE": "fuzznode", "LC_ALL": "C"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.fuzz_driver", str(limit)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.runs: list[Run] = []

    def run(self, case: str, argvs: dict[str, list[str]], folder: Path) -> list[Run]:
        """``argvs`` by reading path, run side by side; their runs once all ended."""
        requests = [
            {
                "argv": argv,
                "env": self.env,
                "out": str(folder / f"{path}.out"),
                "err": str(folder / f"{path}.err"),
                "timeout": TIMEOUT,
            }
            for path, argv in argvs.items()
        ]
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(requests) + "\n")
        self.proc.stdin.flush()
        runs = []
        for path, request, answer in zip(
            argvs, requests, json.loads(self.proc.stdout.readline()), strict=True
        ):
            assert not answer["timed_out"], f"{path} of {case} hung (killed after {TIMEOUT} s)"
            output = "".join(
                Path(str(request[name])).read_text(errors="replace") for name in ("out", "err")
            )
            rss = answer["maxrss_kib"] / 1024
            runs.append(Run(case, path, answer["code"], answer["seconds"], rss, output))
        self.runs += runs
        return runs

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def driver(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Driver]:
    started = time.monotonic()
    runner = Driver(tmp_path_factory.mktemp("fuzz-node"))
    try:
        yield runner
    finally:
        runner.close()
        _report(request, runner.runs, time.monotonic() - started)


def _report(request: pytest.FixtureRequest, runs: list[Run], seconds: float) -> None:
    """One line for the test log: how many runs, how long, the peak memory and where."""
    if not runs:
        return
    peak = max(runs, key=lambda r: r.rss_mib)
    rss = sorted(r.rss_mib for r in runs)
    cases = len({r.case for r in runs})
    line = (
        f"archive fuzz: {cases} archives, {len({r.path for r in runs})} reading paths, "
        f"{len(runs)} runs in {seconds:.1f} s under RLIMIT_AS {LIMIT >> 20} MiB; peak RSS "
        f"(ru_maxrss) median "
        f"{rss[len(rss) // 2]:.0f} MiB, max {peak.rss_mib:.0f} MiB ({peak.path} of {peak.case}); "
        f"exit codes {sorted({r.code for r in runs})}"
    )
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else nullcontext():
        print(f"\n{line}", flush=True)


def _paths(archive: Path, folder: Path, vmid: int) -> dict[str, list[str]]:
    return {
        "vma-list": ["vma", "list", str(archive)],
        "vma-config": ["vma", "config", str(archive)],
        "vma-verify": ["vma", "verify", str(archive)],
        "vma-extract": ["vma", "extract", str(archive), str(folder / "extracted")],
        "qmrestore": ["qmrestore", str(archive), str(vmid), "--storage", "local"],
        "pvesm-extractconfig": ["pvesm", "extractconfig", str(archive)],
    }


def _left_by_restore(home: Path, vmid: int) -> list[Path]:
    places = [
        home / "config" / "qemu-server" / f"{vmid}.conf",
        home / "run" / "qmrestore" / f"{vmid}.json",
        *(home / "storage" / "local" / "images" / str(vmid)).glob("*"),
    ]
    return [p for p in places if p.exists()]


def _check_ended_cleanly(run: Run, folder: Path, home: Path, vmid: int) -> str:
    """Exit 0/1/2, a message on failure, no traceback, nothing left by a failed extract or
    restore; returns the run described, for further asserts."""
    where = f"{run.path} of {run.case} (exit {run.code}):\n{run.output}"
    assert run.code in (0, 1, 2), where
    assert "Traceback" not in run.output, where
    if run.code:
        assert "respaldo: " in run.output or "ERROR: " in run.output, where
    if run.code and run.path == "vma-extract":
        assert not (folder / "extracted").exists(), where
    if run.code and run.path == "qmrestore":
        assert not _left_by_restore(home, vmid), where
    return where


@pytest.mark.parametrize("number", range(len(CASES)), ids=[c.name for c in CASES])
def test_every_reading_path_ends_cleanly(driver: Driver, tmp_path: Path, number: int) -> None:
    case = CASES[number]
    archive = materialize(case, tmp_path)
    vmid = FIRST_VMID + number
    home = Path(driver.env["RESPALDO_HOME"])
    for run in driver.run(case.name, _paths(archive, tmp_path, vmid), tmp_path):
        where = _check_ended_cleanly(run, tmp_path, home, vmid)
        assert "out of memory" not in run.output, where
        assert run.rss_mib < MAX_RSS_MIB, where
        if case.valid:
            assert run.code == 0, where


@pytest.mark.parametrize("limit_mib", [128, 160, 224, 300])
def test_a_tight_memory_limit_ends_in_a_message(tmp_path: Path, limit_mib: int) -> None:
    """Under limits too tight for some paths (a thread's stack, a buffer), every path still
    ends with a respaldo message, undone, never a traceback."""
    runner = Driver(tmp_path / "node", limit_mib << 20)
    try:
        archive = materialize(CASES[0], tmp_path)
        vmid = FIRST_VMID + len(CASES)
        for run in runner.run(
            f"valid at {limit_mib} MiB", _paths(archive, tmp_path, vmid), tmp_path
        ):
            _check_ended_cleanly(run, tmp_path, tmp_path / "node", vmid)
    finally:
        runner.close()


def test_a_header_claiming_255_disks_of_256_tib_is_read_in_little_memory(
    driver: Driver, tmp_path: Path
) -> None:
    """The claim alone once took 512 MiB per disk (and twice that to report): under the limit
    each path now reads it and reports what is missing."""
    archive = tmp_path / "claim.vma.zst"
    with archive.open("wb") as file, open_writer(file, Compression.ZSTD) as out:
        out.write(claim(255, TIB256)(b""))
    [run] = driver.run("claim-255x2^48", {"vma-verify": ["vma", "verify", str(archive)]}, tmp_path)
    assert run.code == 1
    assert "verify failed: detected missing cluster 0 of device drive-scsi0" in run.output
    assert "(and 254 more problems)" in run.output
    assert run.rss_mib < 128
