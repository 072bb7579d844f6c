"""``respaldo vma``: list, config, verify and extract of any VMA file, digests, bad archives."""

from __future__ import annotations

import hashlib
import json
import os
import random
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from respaldo.archive import digest
from respaldo.archive.compress import Compression, open_writer
from respaldo.archive.digest import (
    BLOCK_SIZE,
    CLUSTER_SIZE,
    SparseDigest,
    block_runs,
    cluster_mask,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)
from respaldo.archive.vma import VmaWriter
from respaldo.cli import main as cli_main
from respaldo.errors import ArchiveError, CommandError, ConflictError, InputError, NotFoundError
from respaldo.node import Node
from respaldo.services import vmatool
from respaldo.services.vmatool import (
    DIGEST_BAD_SIDECAR,
    DIGEST_MISMATCH,
    DIGEST_NO_SIDECAR,
    DIGEST_NOT_CHECKED,
    DIGEST_NOT_IN_SIDECAR,
    DIGEST_OK,
    DIGEST_UNORDERED,
    archive_config,
    extract_archive,
    list_archive,
    verify_archive,
)

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "proxmox-sample.vma.gz"
UUID = uuid.UUID("0b8f3e4c-1d2e-4f50-8a6b-7c8d9e0f1a2b")
CTIME = 1700000000
CONF = b"cores: 2\nmemory: 1024\n#qmdump#map:scsi0:drive-scsi0:local:qcow2:\n"
FW = b"[OPTIONS]\nenable: 1\n"
MARKER = b"MARKER-OF-DEVICE-2-DATA!"


def content(size: int, seed: int, zero_ratio: float = 0.4) -> bytes:
    """Random data with zero 4 KiB blocks, a zero cluster and a marker in cluster 1."""
    rnd = random.Random(seed)
    out = bytearray(size)
    for off in range(0, size, BLOCK_SIZE):
        if rnd.random() >= zero_ratio:
            n = min(BLOCK_SIZE, size - off)
            out[off : off + n] = rnd.randbytes(n)
    if size > 3 * CLUSTER_SIZE:
        out[2 * CLUSTER_SIZE : 3 * CLUSTER_SIZE] = bytes(CLUSTER_SIZE)
    return bytes(out)


#: Two disks: one with a short last cluster (size not a multiple of 64 KiB) and a marker.
IMAGES: list[tuple[str, bytes]] = [
    ("drive-scsi0", content(13 * CLUSTER_SIZE + 3 * 512, seed=1)),
    ("drive-efidisk0", content(5 * CLUSTER_SIZE, seed=2)),
]
IMAGES[1] = (
    IMAGES[1][0],
    IMAGES[1][1][:CLUSTER_SIZE] + MARKER + IMAGES[1][1][CLUSTER_SIZE + len(MARKER) :],
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_archive(
    path: Path,
    images: list[tuple[str, bytes]] = IMAGES,
    compression: Compression = Compression.NONE,
    configs: dict[str, bytes] | None = None,
    sidecar: bool = True,
    shuffle: bool = False,
) -> Path:
    """An archive at ``path`` (compressed as asked) and, when possible, its digest sidecar."""
    configs = {"qemu-server.conf": CONF} if configs is None else configs
    work = [
        (dev_id, n, data[off : off + CLUSTER_SIZE])
        for dev_id, (_, data) in enumerate(images, start=1)
        for n, off in enumerate(range(0, len(data), CLUSTER_SIZE))
    ]
    if shuffle:
        random.Random(7).shuffle(work)
    with path.open("wb") as file, open_writer(file, compression) as cw:
        writer = VmaWriter(
            cw,
            configs,
            [(name, len(data)) for name, data in images],
            uuid=UUID,
            ctime=CTIME,
            digests=sidecar and not shuffle,
        )
        for dev_id, n, chunk in work:
            writer.write_cluster(dev_id, n, chunk if chunk.strip(b"\0") else None)
        writer.close()
    if sidecar and not shuffle:
        write_sidecar(sidecar_path(path), writer.device_digests())
    return path


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    return write_archive(tmp_path / "a.vma")


def created_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# -- digest.py: the reader side of the scheme ---------------------------------------------------


def test_cluster_mask_and_block_runs() -> None:
    cluster = bytearray(CLUSTER_SIZE)
    assert cluster_mask(bytes(cluster)) == 0
    cluster[0] = 1
    cluster[5 * BLOCK_SIZE + 4095] = 1
    cluster[6 * BLOCK_SIZE] = 1
    cluster[15 * BLOCK_SIZE + 7] = 1
    mask = cluster_mask(bytes(cluster))
    assert mask == 1 | 1 << 5 | 1 << 6 | 1 << 15
    assert block_runs(mask) == [
        (0, BLOCK_SIZE),
        (5 * BLOCK_SIZE, 7 * BLOCK_SIZE),
        (15 * BLOCK_SIZE, CLUSTER_SIZE),
    ]
    assert block_runs(0xFFFF) == [(0, CLUSTER_SIZE)]
    assert block_runs(0) == []


def test_full_cluster_hashes_like_its_sixteen_blocks() -> None:
    data = random.Random(3).randbytes(CLUSTER_SIZE)
    one, sixteen = SparseDigest("d", CLUSTER_SIZE), SparseDigest("d", CLUSTER_SIZE)
    assert one.add_cluster(0, data) == 0xFFFF
    sixteen.add(0, 0xFFFF, [data[o : o + BLOCK_SIZE] for o in range(0, CLUSTER_SIZE, BLOCK_SIZE)])
    assert one.result() == sixteen.result()


@pytest.mark.parametrize("scheme", [digest.SCHEME, digest.SCHEME_SHA256_V1])
def test_a_buffer_of_clusters_hashes_like_each_cluster(scheme: str) -> None:
    """What a restore hashes per run of clusters equals what a verify hashes per cluster."""
    rnd = random.Random(5)
    half = rnd.randbytes(8 * BLOCK_SIZE) + bytes(8 * BLOCK_SIZE)
    lone = bytes(15 * BLOCK_SIZE) + rnd.randbytes(BLOCK_SIZE)
    full = [rnd.randbytes(CLUSTER_SIZE) for _ in range(3)]
    clusters = [full[0], full[1], bytes(CLUSTER_SIZE), half, lone, full[2], half[::-1]]
    run, each = SparseDigest("d", 1 << 30, scheme), SparseDigest("d", 1 << 30, scheme)
    run.add_buffer(7, b"".join(clusters))
    for n, data in enumerate(clusters, start=7):
        each.add_cluster(n, data)
    assert run.result() == each.result()
    assert run.result().data_bytes == (3 * 16 + 8 + 1 + 8) * BLOCK_SIZE


def test_reader_digest_equals_the_writers(tmp_path: Path) -> None:
    for name, data in IMAGES:
        reader_side = SparseDigest(name, len(data))
        for n, off in enumerate(range(0, len(data), CLUSTER_SIZE)):
            reader_side.add_cluster(n, data[off : off + CLUSTER_SIZE] if n % 3 else None)
        writer_side = SparseDigest(name, len(data))
        for n, off in enumerate(range(0, len(data), CLUSTER_SIZE)):
            if n % 3:
                chunk = data[off : off + CLUSTER_SIZE].ljust(CLUSTER_SIZE, b"\0")
                mask = cluster_mask(chunk)
                writer_side.add(n, mask, [chunk[a:b] for a, b in block_runs(mask)])
        assert reader_side.result() == writer_side.result()


def test_read_sidecar_rejects_a_json_list(tmp_path: Path) -> None:
    path = tmp_path / "x.digest.json"
    path.write_text("[1, 2]")
    with pytest.raises(ArchiveError, match="not a readable digest file"):
        read_sidecar(path)


def test_read_sidecar_names_an_unknown_scheme_and_the_way_out(tmp_path: Path) -> None:
    path = tmp_path / "x.digest.json"
    path.write_text('{"scheme": "respaldo-sparse-md5-v0", "devices": []}')
    with pytest.raises(ArchiveError) as err:
        read_sidecar(path)
    assert "'respaldo-sparse-md5-v0' is not known" in str(err.value)
    assert "move the file aside" in str(err.value)


def sha256_v1_sidecar(path: Path, images: list[tuple[str, bytes]]) -> None:
    """The sidecar the first scheme wrote, computed here on its own: one SHA-256 over each
    data cluster's ``pack(">QH", n, mask)`` followed by its non-zero 4 KiB blocks."""
    devices = []
    for name, data in images:
        digest, stored = hashlib.sha256(), 0
        for n, off in enumerate(range(0, len(data), CLUSTER_SIZE)):
            cluster = data[off : off + CLUSTER_SIZE].ljust(CLUSTER_SIZE, b"\0")
            blocks = [cluster[b : b + BLOCK_SIZE] for b in range(0, CLUSTER_SIZE, BLOCK_SIZE)]
            mask = sum(1 << j for j, block in enumerate(blocks) if any(block))
            if mask:
                digest.update(struct.pack(">QH", n, mask))
                for block in (block for block in blocks if any(block)):
                    digest.update(block)
                    stored += BLOCK_SIZE
        devices.append(
            {"name": name, "size": len(data), "data_bytes": stored, "sha256": digest.hexdigest()}
        )
    document = {"scheme": "respaldo-sparse-sha256-v1", "devices": devices}
    sidecar_path(path).write_text(json.dumps(document))


def test_sidecars_of_the_first_scheme_are_still_checked(tmp_path: Path) -> None:
    path = write_archive(tmp_path / "old.vma", sidecar=False)
    sha256_v1_sidecar(path, IMAGES)
    result = verify_archive(path)
    assert result.ok, result.problems
    assert [d.digest for d in result.devices] == [DIGEST_OK, DIGEST_OK]
    assert extract_archive(path, tmp_path / "out")

    flip_marker(path)
    result = verify_archive(path)
    assert [d.digest for d in result.devices] == [DIGEST_OK, DIGEST_MISMATCH]


# -- round trips for every compression ----------------------------------------------------------


@pytest.mark.parametrize("compression", list(Compression), ids=lambda c: c.value)
def test_round_trip(tmp_path: Path, compression: Compression) -> None:
    path = write_archive(
        tmp_path / f"a.vma{compression.extension}",
        compression=compression,
        configs={"qemu-server.conf": CONF, "qemu-server.fw": FW},
    )

    info = list_archive(path)
    assert info.compression == compression.value
    assert info.uuid == str(UUID)
    assert info.ctime == CTIME
    assert [(c.name, c.size) for c in info.configs] == [
        ("qemu-server.conf", len(CONF)),
        ("qemu-server.fw", len(FW)),
    ]
    assert [(d.dev_id, d.name, d.size) for d in info.devices] == [
        (1, "drive-scsi0", len(IMAGES[0][1])),
        (2, "drive-efidisk0", len(IMAGES[1][1])),
    ]
    assert archive_config(path) == CONF.decode()
    assert archive_config(path, firewall=True) == FW.decode()

    result = verify_archive(path)
    assert result.ok, result.problems
    assert result.compression == compression.value
    assert result.sidecar == sidecar_path(path)
    assert [d.digest for d in result.devices] == [DIGEST_OK, DIGEST_OK]
    expected = {d.name: d for d in read_sidecar(sidecar_path(path))}
    for check, (name, data) in zip(result.devices, IMAGES, strict=True):
        assert check.name == name
        assert check.clusters == check.clusters_found == -(-len(data) // CLUSTER_SIZE)
        assert check.zero_clusters >= 1
        assert check.data_bytes == expected[name].data_bytes
        assert check.data_digest == expected[name].digest
        assert check.first_missing is None

    out = tmp_path / "out"
    written = extract_archive(path, out)
    assert written == [
        out / "drive-scsi0.raw",
        out / "drive-efidisk0.raw",
        out / "qemu-server.conf",
        out / "qemu-server.fw",
    ]
    for name, data in IMAGES:
        assert sha((out / f"{name}.raw").read_bytes()) == sha(data)
    assert (out / "qemu-server.conf").read_bytes() == CONF
    assert (out / "qemu-server.fw").read_bytes() == FW


def test_verify_without_sidecar(tmp_path: Path) -> None:
    path = write_archive(tmp_path / "a.vma.zst", compression=Compression.ZSTD, sidecar=False)
    result = verify_archive(path)
    assert result.ok
    assert result.sidecar is None
    assert [d.digest for d in result.devices] == [DIGEST_NO_SIDECAR] * 2
    assert all(d.data_digest is None for d in result.devices)


def test_extract_is_sparse(tmp_path: Path) -> None:
    size = 64 * 1024 * 1024
    path = tmp_path / "sparse.vma"
    with path.open("wb") as file:
        writer = VmaWriter(file, {"qemu-server.conf": CONF}, [("drive-scsi0", size)])
        writer.write_zero_clusters(1, 0, 100)
        writer.write_cluster(1, 100, b"\1" * BLOCK_SIZE)  # one block, the rest zero
        writer.write_zero_clusters(1, 101, size // CLUSTER_SIZE - 101)
        writer.close()
    out = tmp_path / "out"
    extract_archive(path, out)
    image = out / "drive-scsi0.raw"
    assert image.stat().st_size == size
    assert image.stat().st_blocks * 512 <= 1024 * 1024
    with image.open("rb") as f:
        f.seek(100 * CLUSTER_SIZE)
        assert f.read(CLUSTER_SIZE) == b"\1" * BLOCK_SIZE + bytes(CLUSTER_SIZE - BLOCK_SIZE)


def test_list_reads_only_the_header(tmp_path: Path) -> None:
    """Garbage after the header does not matter: list and config never read past it."""
    path = write_archive(tmp_path / "a.vma", sidecar=False)
    data = bytearray(path.read_bytes())
    header_size = list_archive(path).header_size
    data[header_size:] = b"\xff" * (len(data) - header_size)
    path.write_bytes(data)
    assert list_archive(path).devices[0].name == "drive-scsi0"
    assert archive_config(path) == CONF.decode()
    result = verify_archive(path)
    assert not result.ok
    magic = "b'\\xff\\xff\\xff\\xff'"
    assert result.problems == [
        f"bad extent magic {magic} (expected b'VMAE') at byte offset {header_size}"
    ]


# -- digests ------------------------------------------------------------------------------------


def flip_marker(path: Path) -> None:
    data = bytearray(path.read_bytes())
    at = data.index(MARKER)
    data[at] ^= 0x01
    path.write_bytes(data)


def test_flipped_data_byte_is_a_digest_mismatch(plain: Path) -> None:
    flip_marker(plain)
    result = verify_archive(plain)
    assert not result.ok
    assert [d.digest for d in result.devices] == [DIGEST_OK, DIGEST_MISMATCH]
    assert len(result.problems) == 1
    assert result.problems[0].startswith("data digest mismatch for device drive-efidisk0: digest ")


def test_extract_with_digest_mismatch_removes_everything(plain: Path, tmp_path: Path) -> None:
    flip_marker(plain)
    out = tmp_path / "out"
    with pytest.raises(ArchiveError, match="digest mismatch for device drive-efidisk0"):
        extract_archive(plain, out)
    assert not out.exists()
    # only the good device: no digest problem
    extract_archive(plain, out, devices=["drive-scsi0"])
    assert created_files(out) == ["drive-scsi0.raw", "qemu-server.conf"]
    assert (out / "drive-scsi0.raw").read_bytes() == IMAGES[0][1]


def test_extract_into_an_existing_dir_leaves_it_as_it_was(plain: Path, tmp_path: Path) -> None:
    flip_marker(plain)
    out = tmp_path / "out"
    out.mkdir()
    (out / "other").write_text("keep")
    with pytest.raises(ArchiveError, match="digest mismatch"):
        extract_archive(plain, out)
    assert created_files(out) == ["other"]


def test_sidecar_with_a_wrong_digest(plain: Path) -> None:
    sidecar = sidecar_path(plain)
    data = json.loads(sidecar.read_text())
    data["devices"][0]["data_bytes"] += 4096
    sidecar.write_text(json.dumps(data))
    result = verify_archive(plain)
    assert [d.digest for d in result.devices] == [DIGEST_MISMATCH, DIGEST_OK]
    assert "data bytes, the sidecar says" in result.problems[0]


def test_unreadable_sidecar(plain: Path, tmp_path: Path) -> None:
    sidecar_path(plain).write_text("{not json")
    result = verify_archive(plain)
    assert not result.ok
    assert [d.digest for d in result.devices] == [DIGEST_BAD_SIDECAR] * 2
    assert "not a readable digest file" in result.problems[0]
    with pytest.raises(ArchiveError, match="not a readable digest file"):
        extract_archive(plain, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_sidecar_not_matching_the_device_list(plain: Path, tmp_path: Path) -> None:
    sidecar = sidecar_path(plain)
    data = json.loads(sidecar.read_text())
    data["devices"][1]["name"] = "drive-virtio7"
    sidecar.write_text(json.dumps(data))
    result = verify_archive(plain)
    assert [d.digest for d in result.devices] == [DIGEST_OK, DIGEST_NOT_IN_SIDECAR]
    assert result.problems == [
        "digest sidecar has no entry for device drive-efidisk0",
        f"digest sidecar {sidecar} lists device drive-virtio7, which is not in the archive",
    ]
    with pytest.raises(ArchiveError, match="no entry for device drive-efidisk0"):
        extract_archive(plain, tmp_path / "out")


def test_sidecar_without_devices(plain: Path) -> None:
    sidecar_path(plain).write_text(json.dumps({"scheme": digest.SCHEME, "devices": []}))
    result = verify_archive(plain)
    assert [d.digest for d in result.devices] == [DIGEST_NOT_IN_SIDECAR] * 2
    assert len(result.problems) == 2


def test_out_of_order_archive_cannot_check_the_digest(tmp_path: Path) -> None:
    ordered = write_archive(tmp_path / "ordered.vma")
    shuffled = write_archive(tmp_path / "shuffled.vma", shuffle=True)
    sidecar_path(shuffled).write_bytes(sidecar_path(ordered).read_bytes())
    result = verify_archive(shuffled)
    assert {d.digest for d in result.devices} == {DIGEST_UNORDERED}
    assert "clusters are out of order" in result.problems[0]
    # without a sidecar a shuffled archive is fine and extracts exactly
    sidecar_path(shuffled).unlink()
    assert verify_archive(shuffled).ok
    extract_archive(shuffled, tmp_path / "out")
    for name, data in IMAGES:
        assert (tmp_path / "out" / f"{name}.raw").read_bytes() == data


# -- extract options and refusals ---------------------------------------------------------------


def test_extract_refuses_existing_files(plain: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "drive-efidisk0.raw").write_bytes(b"mine")
    with pytest.raises(ConflictError, match=r"out/drive-efidisk0\.raw already exists"):
        extract_archive(plain, out)
    assert created_files(out) == ["drive-efidisk0.raw"]
    assert (out / "drive-efidisk0.raw").read_bytes() == b"mine"
    (out / "drive-efidisk0.raw").unlink()
    (out / "qemu-server.conf").write_bytes(b"mine")
    with pytest.raises(ConflictError, match=r"qemu-server\.conf already exists"):
        extract_archive(plain, out)
    assert created_files(out) == ["qemu-server.conf"]


def test_extract_selected_devices_and_bad_names(plain: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    written = extract_archive(plain, out, devices=["drive-efidisk0", "drive-efidisk0"])
    assert written == [out / "drive-efidisk0.raw", out / "qemu-server.conf"]
    with pytest.raises(InputError, match=r"drive-virtio0.*disks: drive-scsi0, drive-efidisk0"):
        extract_archive(plain, tmp_path / "other", devices=["drive-virtio0"])
    with pytest.raises(InputError, match="expected raw or qcow2"):
        extract_archive(plain, tmp_path / "other", fmt="vmdk")
    file = tmp_path / "file"
    file.write_text("")
    with pytest.raises(InputError, match="not a directory"):
        extract_archive(plain, file)
    assert not (tmp_path / "other").exists()


def test_failing_qcow2_conversion_removes_everything(
    plain: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESPALDO_QEMU_IMG", "false")
    out = tmp_path / "out"
    with pytest.raises(CommandError, match="false failed"):
        extract_archive(plain, out, fmt="qcow2")
    assert not out.exists()


def test_interrupted_extraction_removes_everything(
    plain: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def interrupt(*args: object) -> None:
        calls.append(args)
        if len(calls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(vmatool, "_write_cluster", interrupt)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        extract_archive(plain, out, fmt="qcow2")
    assert not out.exists()


# -- broken archives ----------------------------------------------------------------------------


def test_missing_and_empty_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        list_archive(tmp_path / "nope.vma")
    empty = tmp_path / "empty.vma"
    empty.write_bytes(b"")
    with pytest.raises(ArchiveError, match="archive is empty at byte offset 0"):
        verify_archive(empty)
    foreign = tmp_path / "foreign.vma"
    foreign.write_bytes(os.urandom(20000).replace(b"\x1f\x8b", b"..").replace(b"\x28\xb5", b".."))
    for call in (list_archive, verify_archive, archive_config):
        with pytest.raises(ArchiveError):
            call(foreign)
    with pytest.raises(ArchiveError):
        extract_archive(foreign, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("compression", [Compression.NONE, Compression.ZSTD])
def test_header_claiming_more_than_the_archive_holds(
    tmp_path: Path, compression: Compression
) -> None:
    """A header alone that claims a 1 TiB disk: the size of an uncompressed file refuses it
    before any file exists; compressed, the read finds cluster 0 missing."""
    path = tmp_path / "claim.vma"
    with path.open("wb") as file, open_writer(file, compression) as cw:
        VmaWriter(cw, {"qemu-server.conf": CONF}, [("drive-scsi0", 1 << 40)]).abort()
    target = tmp_path / "out"
    with pytest.raises(ArchiveError) as info:
        extract_archive(path, target)
    if compression is Compression.NONE:
        assert str(info.value).startswith("archive truncated or its header damaged: it is ")
        needed = 12800 + -(-(1 << 24) // 59) * 512  # header, then 59 clusters per extent
        assert f"whose {1 << 24} clusters need at least {needed} bytes" in str(info.value)
    else:
        assert str(info.value) == "detected missing cluster 0 of device drive-scsi0"
    assert not target.exists()
    result = verify_archive(path)  # verify reads what there is and reports it
    assert result.problems == ["detected missing cluster 0 of device drive-scsi0"]


def test_truncated_in_the_header(plain: Path) -> None:
    plain.write_bytes(plain.read_bytes()[:5000])
    with pytest.raises(ArchiveError, match=r"truncated inside the header .* at byte offset 5000"):
        list_archive(plain)


@pytest.mark.parametrize("cut", [100, 512 + 4096 + 7])
def test_truncated_in_the_extents(plain: Path, tmp_path: Path, cut: int) -> None:
    header_size = list_archive(plain).header_size
    data = plain.read_bytes()
    plain.write_bytes(data[: header_size + cut])
    result = verify_archive(plain)
    assert not result.ok
    assert result.problems[0].startswith("archive truncated inside")
    assert result.problems[0].endswith(f"at byte offset {header_size + cut}")
    assert len(result.problems) == 1
    assert {d.digest for d in result.devices} == {DIGEST_NOT_CHECKED}
    with pytest.raises(ArchiveError, match="archive truncated"):
        extract_archive(plain, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("compression", [Compression.ZSTD, Compression.GZIP, Compression.LZO])
def test_truncated_compressed(tmp_path: Path, compression: Compression) -> None:
    path = write_archive(tmp_path / "a.vma", compression=compression)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    result = verify_archive(path)
    assert not result.ok
    assert "truncated" in result.problems[0] or "end of" in result.problems[0].lower()
    with pytest.raises(ArchiveError):
        extract_archive(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_corrupt_extent_header(plain: Path) -> None:
    header_size = list_archive(plain).header_size
    data = bytearray(plain.read_bytes())
    data[header_size + 100] ^= 0xFF
    plain.write_bytes(data)
    result = verify_archive(plain)
    assert result.problems == [
        f"extent header checksum (md5) mismatch at byte offset {header_size + 24}"
    ]


def test_corrupt_header_checksum(plain: Path) -> None:
    data = bytearray(plain.read_bytes())
    data[3000] ^= 0x01
    plain.write_bytes(data)
    with pytest.raises(ArchiveError, match=r"header checksum \(md5\) mismatch at byte offset 32"):
        verify_archive(plain)


def test_missing_cluster_of_our_own(tmp_path: Path) -> None:
    """A device whose second extent was lost: the missing cluster, the digest mismatch."""
    big = [("drive-scsi0", content(70 * CLUSTER_SIZE, seed=5))]
    path = write_archive(tmp_path / "b.vma", images=big)
    data = path.read_bytes()
    second = data.index(b"VMAE", data.index(b"VMAE") + 1)
    path.write_bytes(data[:second])
    result = verify_archive(path)
    assert result.problems[0] == "detected missing cluster 59 of device drive-scsi0"
    assert result.devices[0].first_missing == 59
    assert result.devices[0].digest == DIGEST_MISMATCH


# -- the real Proxmox archive -------------------------------------------------------------------


def test_proxmox_sample(tmp_path: Path) -> None:
    info = list_archive(SAMPLE)
    assert info.compression == "gzip"
    assert info.uuid == "04fc12eb-0fed-4322-9aaa-f4e412f68096"
    assert info.ctime == 1635680622
    assert info.header_size == 12800
    assert [(c.name, c.size) for c in info.configs] == [("qemu-server.conf", 417)]
    assert [(d.dev_id, d.name, d.size) for d in info.devices] == [(1, "drive-scsi0", 10737418240)]
    assert info.devices[0].human_size == "10.0 GiB"
    text = archive_config(SAMPLE)
    assert len(text) == 417
    assert text.rstrip("\n").endswith("#qmdump#map:scsi0:drive-scsi0:local-lvm:raw:")
    with pytest.raises(NotFoundError, match=r"has no qemu-server\.fw"):
        archive_config(SAMPLE, firewall=True)

    result = verify_archive(SAMPLE)
    assert not result.ok
    assert result.problems == ["detected missing cluster 23 of device drive-scsi0"]
    assert result.extents == 2
    assert result.devices[0].first_missing == 23
    assert result.devices[0].digest == DIGEST_NO_SIDECAR

    with pytest.raises(ArchiveError, match="detected missing cluster 23 of device drive-scsi0"):
        extract_archive(SAMPLE, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# -- the CLI ------------------------------------------------------------------------------------


@dataclass
class Run:
    out: str
    error: Exception | None


CliRun = Callable[..., Run]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CliRun:
    def run(*argv: str) -> Run:
        args = cli_main.parse(["vma", *argv])
        error: Exception | None = None
        try:
            args.func(args, Node.from_env())
        except Exception as err:
            error = err
        return Run(capsys.readouterr().out, error)

    return run


def test_cli_list_and_config(cli: CliRun, plain: Path) -> None:
    run = cli
    text = run("list", str(plain))
    assert text.error is None
    assert "uuid:        0b8f3e4c-1d2e-4f50-8a6b-7c8d9e0f1a2b" in text.out
    assert "qemu-server.conf" in text.out
    assert "drive-efidisk0" in text.out and "320.0 KiB" in text.out
    data = json.loads(run("list", str(plain), "--output-format", "json").out)
    assert data["devices"][1] == {
        "id": 2,
        "name": "drive-efidisk0",
        "size": 5 * CLUSTER_SIZE,
        "human_size": "320.0 KiB",
    }
    assert data["ctime"] == CTIME
    assert run("config", str(plain)).out == CONF.decode()
    missing = run("config", str(plain), "--firewall")
    assert isinstance(missing.error, NotFoundError)


def test_cli_verify_and_extract(cli: CliRun, plain: Path, tmp_path: Path) -> None:
    run = cli
    good = run("verify", str(plain))
    assert good.error is None
    assert "archive OK" in good.out
    out = tmp_path / "out"
    extracted = run("extract", str(plain), str(out), "--device", "drive-scsi0")
    assert extracted.error is None
    assert extracted.out.splitlines() == [
        f"wrote {out / 'drive-scsi0.raw'}",
        f"wrote {out / 'qemu-server.conf'}",
    ]
    flip_marker(plain)
    bad = run("verify", str(plain), "--output-format", "json")
    assert isinstance(bad.error, ArchiveError)
    assert str(bad.error).startswith("verify failed: data digest mismatch for device drive-efi")
    report = json.loads(bad.out)
    assert report["ok"] is False
    assert [d["digest"] for d in report["devices"]] == ["ok", "mismatch"]


def test_cli_verify_proxmox_sample(cli: CliRun) -> None:
    run = cli
    result = run("verify", str(SAMPLE))
    assert isinstance(result.error, ArchiveError)
    assert not result.error.__class__.user_error  # exit code 1
    assert "detected missing cluster 23 of device drive-scsi0" in str(result.error)
    assert "problem: detected missing cluster 23 of device drive-scsi0" in result.out
    assert "no sidecar" in result.out
