"""Whole-stream compression: round trips through the real tools, CLI compatibility, errors."""

from __future__ import annotations

import io
import os
import random
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, cast

import pytest

from respaldo.archive import compress
from respaldo.archive.compress import (
    CompressedWriter,
    Compression,
    detect,
    open_reader,
    open_writer,
    parse_compress,
    zstd_threads,
)
from respaldo.errors import ArchiveError, CommandError, InputError
from respaldo.runner import binary

COMPRESSED = [Compression.LZO, Compression.GZIP, Compression.ZSTD]
#: The standard tool that must read what we write, byte for byte.
CLI_DECOMPRESS = {
    Compression.LZO: ["lzop", "-dc"],
    Compression.GZIP: ["gzip", "-dc"],
    Compression.ZSTD: ["zstd", "-dc"],
}
CLI_COMPRESS = {
    Compression.LZO: ["lzop", "-c"],
    Compression.GZIP: ["gzip", "-c"],
    Compression.ZSTD: ["zstd", "-q", "-c"],
}


def mixed_data(size: int, seed: int = 1) -> bytes:
    """Disk-like content: random, zero, text and repeated-pattern pieces of varying length."""
    rng = random.Random(seed)
    text = b"".join(b"line %d of some log file, with words that repeat\n" % i for i in range(2000))
    parts: list[bytes] = []
    total = 0
    while total < size:
        length = rng.randrange(1, 256 * 1024)
        kind = rng.randrange(4)
        if kind == 0:
            piece = rng.randbytes(length)
        elif kind == 1:
            piece = bytes(length)
        elif kind == 2:
            piece = (text * (length // len(text) + 1))[:length]
        else:
            piece = bytes([rng.randrange(256)]) * length
        parts.append(piece)
        total += length
    return b"".join(parts)[:size]


@pytest.fixture(scope="module")
def big() -> bytes:
    return mixed_data(20 * 1024 * 1024)


def write_file(
    path: Path, compression: Compression, data: bytes, chunk: Callable[[], int] | None = None
) -> CompressedWriter:
    """Compress ``data`` into ``path`` in chunks of ``chunk()`` bytes (one write if None)."""
    with open(path, "wb") as f, open_writer(f, compression, zstd_threads=2) as writer:
        view = memoryview(data)
        pos = 0
        while pos < len(view):
            step = chunk() if chunk else len(view)
            writer.write(view[pos : pos + step])
            pos += step
    return writer


def read_file(path: Path, size: int = 1 << 20) -> bytes:
    with open_reader(path) as reader:
        return b"".join(iter(lambda: reader.read(size), b""))


def cli_decompress(compression: Compression, path: Path) -> bytes:
    with open(path, "rb") as f:
        return subprocess.run(
            CLI_DECOMPRESS[compression], stdin=f, capture_output=True, check=True
        ).stdout


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def fake_tool(tmp_path: Path, name: str, script: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


# -- names and options ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", Compression.NONE),
        ("1", Compression.LZO),
        ("lzo", Compression.LZO),
        ("gzip", Compression.GZIP),
        ("zstd", Compression.ZSTD),
    ],
)
def test_parse_compress(value: str, expected: Compression) -> None:
    assert parse_compress(value) is expected


@pytest.mark.parametrize("value", ["", "2", "gz", "zst", "ZSTD", "none", " zstd", "bzip2"])
def test_parse_compress_rejects(value: str) -> None:
    with pytest.raises(InputError) as info:
        parse_compress(value)
    assert info.value.name == "compress"
    assert info.value.value == value
    assert info.value.reason == "expected one of 0, 1, gzip, lzo, zstd"


def test_extensions_and_format_suffixes() -> None:
    assert [c.extension for c in Compression] == ["", ".lzo", ".gz", ".zst"]
    assert [c.format_suffix for c in Compression] == ["vma", "vma.lzo", "vma.gz", "vma.zst"]


def test_zstd_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    assert zstd_threads(1) == 1
    assert zstd_threads(5) == 5
    for cpus, expected in [(None, 1), (1, 1), (2, 1), (3, 2), (8, 4)]:
        monkeypatch.setattr(os, "cpu_count", lambda cpus=cpus: cpus)
        assert zstd_threads(0) == expected
    with pytest.raises(InputError):
        zstd_threads(-1)


# -- detection ------------------------------------------------------------------------------


@pytest.mark.parametrize("compression", COMPRESSED)
def test_detect_output_of_the_standard_tools(compression: Compression) -> None:
    out = subprocess.run(
        CLI_COMPRESS[compression], input=b"VMA\0", capture_output=True, check=True
    ).stdout
    assert detect(out[: compress.DETECT_SIZE]) is compression


def test_detect_magics() -> None:
    assert detect(b"\x28\xb5\x2f\xfd\x00") is Compression.ZSTD
    assert detect(b"\x5a\x2a\x4d\x18\x00") is Compression.ZSTD  # skippable frame (pzstd)
    assert detect(b"\x1f\x8b\x08") is Compression.GZIP
    assert detect(b"\x89LZO\x00\r\n\x1a\n") is Compression.LZO
    assert detect(b"\x89LZO\x00\r\n") is Compression.NONE  # cut short: not lzop
    assert detect(b"VMA\0\0\0\0\1") is Compression.NONE
    assert detect(b"") is Compression.NONE


# -- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("compression", list(Compression))
@pytest.mark.parametrize("size", [0, 1, 100_000])
def test_round_trip_small(tmp_path: Path, compression: Compression, size: int) -> None:
    data = mixed_data(size, seed=size)
    path = tmp_path / f"a.vma{compression.extension}"
    writer = write_file(path, compression, data)
    assert writer.bytes_in == size
    assert writer.bytes_out == path.stat().st_size
    assert read_file(path) == data
    if compression is not Compression.NONE:
        assert cli_decompress(compression, path) == data
        if size:
            assert detect(path.read_bytes()[: compress.DETECT_SIZE]) is compression


@pytest.mark.parametrize("compression", list(Compression))
def test_round_trip_big_many_small_writes(
    tmp_path: Path, compression: Compression, big: bytes
) -> None:
    rng = random.Random(7)
    path = tmp_path / f"big.vma{compression.extension}"
    writer = write_file(path, compression, big, chunk=lambda: rng.randrange(1, 16384))
    assert writer.bytes_in == len(big)
    assert writer.bytes_out == path.stat().st_size
    if compression is Compression.NONE:
        assert writer.bytes_out == len(big)
    else:
        assert writer.bytes_out < len(big) * 0.7
        assert cli_decompress(compression, path) == big
    assert read_file(path, size=65536) == big


@pytest.mark.parametrize("compression", COMPRESSED)
def test_reads_files_made_by_the_standard_tools(tmp_path: Path, compression: Compression) -> None:
    data = mixed_data(3_000_000, seed=3)
    path = tmp_path / "from-cli"  # no extension: detection is by content
    with open(path, "wb") as out:
        subprocess.run(CLI_COMPRESS[compression], input=data, stdout=out, check=True)
    assert read_file(path) == data


def test_zstd_multiple_frames_and_skippable_frame(tmp_path: Path) -> None:
    """Concatenated frames (and pzstd's leading skippable frame) are one valid stream."""
    parts = [mixed_data(200_000, seed=i) for i in range(3)]
    frames = [
        subprocess.run(["zstd", "-q", "-c"], input=p, capture_output=True, check=True).stdout
        for p in parts
    ]
    skippable = b"\x50\x2a\x4d\x18" + (5).to_bytes(4, "little") + b"hello"
    path = tmp_path / "multi.zst"
    path.write_bytes(skippable + b"".join(frames))
    assert read_file(path) == b"".join(parts)


def test_read_all_at_once(tmp_path: Path) -> None:
    data = mixed_data(500_000)
    for compression in Compression:
        path = tmp_path / f"all{compression.extension}"
        write_file(path, compression, data)
        with open_reader(path) as reader:
            assert reader.compression is compression
            assert reader.read() == data
            assert reader.read(10) == b""


# -- writer details -------------------------------------------------------------------------


@pytest.mark.parametrize("compression", list(Compression))
def test_writer_on_raw_fd_leaves_the_file_open(tmp_path: Path, compression: Compression) -> None:
    path = tmp_path / "raw"
    data = mixed_data(300_000)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        writer = open_writer(fd, compression)
        writer.write(data[:1000])
        writer.write(memoryview(data)[1000:])
        writer.close()
        writer.close()  # idempotent
        os.fsync(fd)  # still open: the caller fsyncs and renames
        assert writer.bytes_in == len(data)
        assert writer.bytes_out == os.fstat(fd).st_size
    finally:
        os.close(fd)
    assert read_file(path) == data


def test_writer_counts_progress_while_writing(tmp_path: Path) -> None:
    data = mixed_data(4_000_000, seed=9)
    with open(tmp_path / "p.zst", "wb") as f, open_writer(f, Compression.ZSTD) as writer:
        writer.write(data)
        writer.write(data)
        assert writer.bytes_in == 2 * len(data)
        middle = writer.bytes_out
    assert 0 <= middle <= writer.bytes_out == (tmp_path / "p.zst").stat().st_size


@pytest.mark.parametrize("compression", [Compression.NONE, Compression.ZSTD])
def test_in_process_writers_accept_a_file_without_fd(compression: Compression) -> None:
    buf = io.BytesIO()
    with open_writer(buf, compression) as writer:
        writer.write(b"abc" * 1000)
    assert writer.bytes_out == len(buf.getvalue())
    assert not buf.closed


def test_external_tools_need_a_real_file() -> None:
    with pytest.raises(ArchiveError, match="needs a real file"):
        open_writer(io.BytesIO(), Compression.LZO)


def test_write_after_close_fails(tmp_path: Path) -> None:
    with open(tmp_path / "x", "wb") as f:
        writer = open_writer(f, Compression.ZSTD)
        writer.close()
        with pytest.raises(ArchiveError, match="closed"):
            writer.write(b"x")


@pytest.mark.parametrize("compression", [Compression.LZO, Compression.GZIP])
def test_abort_kills_the_child(tmp_path: Path, compression: Compression) -> None:
    with open(tmp_path / "x", "wb") as f:
        writer = open_writer(f, compression)
        writer.write(mixed_data(100_000))
        pid = writer.pid
        assert pid is not None and not pid_gone(pid)
        writer.abort()
        writer.abort()  # idempotent, never raises
        assert pid_gone(pid)
        with pytest.raises(ArchiveError, match="aborted"):
            writer.close()


def test_error_in_with_block_aborts(tmp_path: Path) -> None:
    pid = None
    with (
        open(tmp_path / "x", "wb") as f,
        pytest.raises(RuntimeError),
        open_writer(f, Compression.LZO) as writer,
    ):
        writer.write(b"data")
        pid = writer.pid
        raise RuntimeError("backup failed")
    assert pid is not None and pid_gone(pid)


@pytest.mark.parametrize("threads", [1, 3])
def test_zstd_big_and_small_pieces_make_frames_any_zstd_reads_in_order(
    tmp_path: Path, big: bytes, threads: int
) -> None:
    """Runs of 1-3 MiB (frames of their own) between small pieces (gathered into frames)."""
    rng = random.Random(threads)
    path = tmp_path / "frames.vma.zst"
    with open(path, "wb") as f, open_writer(f, Compression.ZSTD, zstd_threads=threads) as w:
        view, pos = memoryview(big), 0
        while pos < len(view):
            step = rng.choice([512, 4096, 70_000, (1 << 20) + 4096, 3 << 20])
            w.write(view[pos : pos + step])
            pos += step
    assert read_file(path) == big
    assert cli_decompress(Compression.ZSTD, path) == big
    listing = subprocess.run(["zstd", "-lv", str(path)], capture_output=True, text=True, check=True)
    frames = listing.stdout
    assert "# Zstandard Frames:" in frames
    count = int(frames.split("# Zstandard Frames:")[1].split()[0])
    assert count > 3
    assert "Check: XXH64" in frames


def test_abort_of_in_process_writer(tmp_path: Path) -> None:
    with open(tmp_path / "x", "wb") as f:
        writer = open_writer(f, Compression.ZSTD, zstd_threads=2)
        writer.write(mixed_data(1_000_000))
        assert writer.pid is None
        writer.abort()
        assert not f.closed


def test_dead_child_gives_command_error_with_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = fake_tool(tmp_path, "lzop", 'echo "lzop: boom, disk full" >&2\nexit 3\n')
    monkeypatch.setenv("RESPALDO_LZOP", tool)
    with open(tmp_path / "x", "wb") as f:
        writer = open_writer(f, Compression.LZO)
        pid = writer.pid
        with pytest.raises(CommandError) as info:
            for _ in range(64):  # far more than a pipe buffer: the pipe breaks
                writer.write(bytes(1 << 20))
            writer.close()
    assert info.value.returncode == 3
    assert "boom, disk full" in info.value.stderr
    assert info.value.argv[0] == tool
    assert pid is not None and pid_gone(pid)


def test_failing_tool_at_close(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = fake_tool(tmp_path, "lzop", 'cat >/dev/null\necho "lzop: bad" >&2\nexit 1\n')
    monkeypatch.setenv("RESPALDO_LZOP", tool)
    with (
        open(tmp_path / "x", "wb") as f,
        pytest.raises(CommandError, match="lzop: bad"),
        open_writer(f, Compression.LZO) as writer,
    ):
        writer.write(b"small")


def test_missing_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESPALDO_LZOP", str(tmp_path / "no-such-lzop"))
    with open(tmp_path / "x", "wb") as f, pytest.raises(CommandError) as info:
        open_writer(f, Compression.LZO)
    assert info.value.returncode == 127


def test_gzip_or_pigz_as_vzdumps_pigz_option_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pve-manager compressor_info: pigz 0 is gzip, 1 pigz on half the CPUs, N pigz on N
    assert compress._gzip_argv() == [binary("gzip"), "--rsyncable", "-c"]
    half = str(compress.zstd_threads(0))
    assert compress._gzip_argv(1) == [binary("pigz"), "-p", half, "--rsyncable", "-c"]
    assert compress._gzip_argv(3) == [binary("pigz"), "-p", "3", "--rsyncable", "-c"]
    args = tmp_path / "args"
    fake = fake_tool(tmp_path, "pigz", f'echo "$@" > {args}\nshift 2\nexec gzip "$@"\n')
    monkeypatch.setenv("RESPALDO_PIGZ", fake)
    data = mixed_data(100_000)
    path = tmp_path / "p.gz"
    with open(path, "wb") as f, compress.open_writer(f, Compression.GZIP, pigz=2) as writer:
        writer.write(data)
    assert read_file(path) == data
    assert args.read_text() == "-p 2 --rsyncable -c\n"


def test_real_pigz(tmp_path: Path) -> None:
    assert shutil.which("pigz"), "pigz is not installed: run scripts/setup"
    data = mixed_data(2_000_000)
    path = tmp_path / "p.gz"
    with open(path, "wb") as f, compress.open_writer(f, Compression.GZIP, pigz=1) as writer:
        writer.write(data)
    assert cli_decompress(Compression.GZIP, path) == data


# -- damaged archives -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[Compression, bytes]:
    data = mixed_data(1_500_000, seed=5)
    out: dict[Compression, bytes] = {}
    for compression in COMPRESSED:
        path = tmp_path_factory.mktemp("arch") / "a"
        write_file(path, compression, data)
        out[compression] = path.read_bytes()
    return out


@pytest.mark.parametrize("compression", COMPRESSED)
@pytest.mark.parametrize("keep", [0.5, -1, -4, 20])
def test_truncated_archive(
    tmp_path: Path, archives: dict[Compression, bytes], compression: Compression, keep: float
) -> None:
    raw = archives[compression]
    cut = (
        int(len(raw) * keep) if isinstance(keep, float) else (keep if keep > 0 else len(raw) + keep)
    )
    path = tmp_path / "truncated.vma"
    path.write_bytes(raw[:cut])
    with pytest.raises(ArchiveError, match=str(path)):
        read_file(path)


@pytest.mark.parametrize("compression", COMPRESSED)
def test_corrupt_archive(
    tmp_path: Path, archives: dict[Compression, bytes], compression: Compression
) -> None:
    raw = bytearray(archives[compression])
    for at in range(len(raw) // 3, len(raw) // 3 + 64):
        raw[at] ^= 0xA5
    path = tmp_path / "corrupt.vma"
    path.write_bytes(raw)
    with pytest.raises(ArchiveError, match=str(path)):
        read_file(path)


@pytest.mark.parametrize("compression", [Compression.ZSTD, Compression.GZIP])
def test_trailing_garbage(
    tmp_path: Path, archives: dict[Compression, bytes], compression: Compression
) -> None:
    path = tmp_path / "garbage.vma"
    path.write_bytes(archives[compression] + b"not an archive")
    with pytest.raises(ArchiveError, match=str(path)):
        read_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="cannot open archive"):
        read_file(tmp_path / "nope.vma.zst")


def test_stopping_early_kills_lzop(tmp_path: Path, big: bytes) -> None:
    path = tmp_path / "big.lzo"
    write_file(path, Compression.LZO, big)
    with open_reader(path) as reader:
        assert reader.read(1000) == big[:1000]
        proc = reader._proc  # type: ignore[attr-defined]
        pid = proc.pid
    assert pid_gone(pid)


def test_zstd_frame_walker_sees_every_cut() -> None:
    """Cut anywhere inside a multi-block frame (block boundaries included) is not a frame end."""
    data = b"".join(b"line %d of text\n" % i for i in range(30000))  # 5 blocks of 128 KiB
    raw = subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True, check=True).stdout
    for cut in range(len(raw)):
        walker = compress._ZstdFrameWalker()
        walker.feed(raw[:cut])
        assert not walker.at_frame_end, cut
    byte_by_byte = compress._ZstdFrameWalker()
    for i in range(len(raw)):
        byte_by_byte.feed(raw[i : i + 1])
    assert byte_by_byte.at_frame_end
    assert byte_by_byte.frames == 1


# -- reading a stream (what a backup store's open() gives) ------------------------------------

VOLID = "local:backup/vzdump-qemu-100-2024_05_20-18_11_48.vma.zst"
STREAM_KINDS = ["file", "bytes", "pipe"]


class _Pipe:
    """A stream that cannot seek and has no fd (a chunk store's reader, say)."""

    def __init__(self, data: bytes) -> None:
        self._io = io.BytesIO(data)
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        return self._io.read(size)

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


def open_stream(kind: str, path: Path) -> BinaryIO:
    if kind == "file":
        return path.open("rb")
    if kind == "bytes":
        return io.BytesIO(path.read_bytes())
    return cast(BinaryIO, _Pipe(path.read_bytes()))


@pytest.mark.parametrize("kind", STREAM_KINDS)
@pytest.mark.parametrize("compression", list(Compression))
def test_read_a_stream(tmp_path: Path, compression: Compression, kind: str) -> None:
    data = mixed_data(700_000)
    path = tmp_path / "archive"
    write_file(path, compression, data)
    source = open_stream(kind, path)
    with open_reader(source, VOLID) as reader:
        assert reader.compression is compression
        assert b"".join(iter(lambda: reader.read(100_000), b"")) == data
    assert source.closed  # the reader owns the stream


@pytest.mark.parametrize("kind", STREAM_KINDS)
@pytest.mark.parametrize("compression", COMPRESSED)
def test_truncated_stream_names_the_archive(
    tmp_path: Path, archives: dict[Compression, bytes], compression: Compression, kind: str
) -> None:
    path = tmp_path / "truncated"
    path.write_bytes(archives[compression][: len(archives[compression]) // 2])
    with pytest.raises(ArchiveError, match=VOLID), open_reader(open_stream(kind, path), VOLID) as r:
        r.read()


def test_truncated_lzop_file_says_where_it_ends(
    tmp_path: Path, archives: dict[Compression, bytes]
) -> None:
    """An open file goes to lzop by name, so lzop's message is the one it gives for files."""
    path = tmp_path / "truncated.lzo"
    path.write_bytes(archives[Compression.LZO][:100_000])
    with (
        pytest.raises(ArchiveError, match="unexpected end of file"),
        open_reader(path.open("rb"), VOLID) as reader,
    ):
        reader.read()


def test_stopping_early_kills_a_fed_lzop(tmp_path: Path, big: bytes) -> None:
    path = tmp_path / "big.lzo"
    write_file(path, Compression.LZO, big)
    with open_reader(io.BytesIO(path.read_bytes()), VOLID) as reader:
        assert reader.read(1000) == big[:1000]
        pid = reader._proc.pid  # type: ignore[attr-defined]
        feeder = reader._feeder  # type: ignore[attr-defined]
    assert pid_gone(pid)
    assert not feeder.is_alive()


def test_empty_stream_is_an_uncompressed_archive() -> None:
    with open_reader(io.BytesIO(b""), VOLID) as reader:
        assert reader.compression is Compression.NONE
        assert reader.read(10) == b""
