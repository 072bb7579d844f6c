from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from respaldo.errors import ConflictError, InputError, NoSuchVolume, StorageError
from respaldo.storage.backups import (
    EXTENSIONS,
    DirBackupStore,
    backup_filename,
    dat_name,
    parse_backup_name,
)
from tests.conftest import local_tz

EXAMPLE = "vzdump-qemu-100-2024_05_20-18_11_48.vma.zst"
# Central European time without needing tzdata: +01:00, +02:00 in summer.
CET = "CET-1CEST,M3.5.0,M10.5.0/3"


@pytest.fixture
def cet() -> Iterator[None]:
    with local_tz(CET):
        yield


@pytest.fixture
def store(tmp_path: Path) -> DirBackupStore:
    return DirBackupStore("local", tmp_path / "dump")


def put(store: DirBackupStore, name: str, data: bytes = b"data") -> Path:
    store.dump_dir.mkdir(parents=True, exist_ok=True)
    path = store.dump_dir / name
    path.write_bytes(data)
    return path


# -- names ------------------------------------------------------------------------------------


def test_example_name(cet: None) -> None:
    assert backup_filename(100, datetime(2024, 5, 20, 18, 11, 48), ".zst") == EXAMPLE
    name = parse_backup_name(EXAMPLE)
    assert name is not None
    assert (name.subtype, name.format, name.vmid, name.standard) == ("qemu", "vma.zst", 100, True)
    assert (name.archive_format, name.compression) == ("vma", "zst")
    # 18:11:48 CEST is 16:11:48 UTC.
    assert name.ctime == int(datetime(2024, 5, 20, 16, 11, 48, tzinfo=UTC).timestamp())
    assert name.logname == "vzdump-qemu-100-2024_05_20-18_11_48.log"


def test_aware_time_is_converted_to_local_time(cet: None) -> None:
    winter = datetime(2024, 1, 5, 23, 30, 0, tzinfo=UTC)  # 00:30 CET the next day
    assert backup_filename(4242, winter) == "vzdump-qemu-4242-2024_01_06-00_30_00.vma"


def test_stamp_is_read_in_local_time() -> None:
    with local_tz("UTC0"):
        utc = parse_backup_name(EXAMPLE)
    with local_tz(CET):
        cest = parse_backup_name(EXAMPLE)
    assert utc is not None and cest is not None
    assert utc.ctime is not None and cest.ctime is not None
    assert utc.ctime - cest.ctime == 2 * 3600


@given(
    vmid=st.integers(min_value=100, max_value=999_999_999),
    when=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2199, 12, 31)),
    extension=st.sampled_from(EXTENSIONS),
)
def test_name_round_trip(vmid: int, when: datetime, extension: str) -> None:
    when = when.replace(microsecond=0)
    with local_tz("UTC0"):
        filename = backup_filename(vmid, when, extension)
        name = parse_backup_name(filename)
        assert name is not None and name.ctime is not None
        assert name.standard and name.vmid == vmid and name.subtype == "qemu"
        assert name.format == "vma" + extension
        assert name.ctime == int(when.replace(tzinfo=UTC).timestamp())
        assert backup_filename(vmid, datetime.fromtimestamp(name.ctime), extension) == filename


@given(
    when=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2199, 12, 31)),
)
def test_round_trip_through_a_dst_zone(when: datetime) -> None:
    """ctime -> name -> ctime is exact in a zone with summer time."""
    ctime = int(when.replace(tzinfo=UTC).timestamp())
    with local_tz(CET):
        filename = backup_filename(100, datetime.fromtimestamp(ctime))
        name = parse_backup_name(filename)
    assert name is not None and name.ctime is not None
    # In the autumn hour that occurs twice, the name cannot tell which one was meant.
    assert name.ctime in (ctime, ctime - 3600)


@pytest.mark.parametrize(
    ("filename", "subtype", "fmt", "compression"),
    [
        ("vzdump-qemu-100-2024_05_20-18_11_48.vma", "qemu", "vma", None),
        ("vzdump-qemu-100-2024_05_20-18_11_48.vma.gz", "qemu", "vma.gz", "gz"),
        ("vzdump-qemu-100-2024_05_20-18_11_48.vma.lzo", "qemu", "vma.lzo", "lzo"),
        ("vzdump-lxc-101-2024_05_20-18_11_48.tar.zst", "lxc", "tar.zst", "zst"),
        ("vzdump-openvz-102-2010_01_02-03_04_05.tgz", "openvz", "tgz", "gz"),
        ("vzdump-qemu-999999999-2024_05_20-18_11_48.tar.bz2", "qemu", "tar.bz2", "bz2"),
    ],
)
def test_standard_names(filename: str, subtype: str, fmt: str, compression: str | None) -> None:
    name = parse_backup_name(filename)
    assert name is not None and name.standard
    assert (name.subtype, name.format, name.compression) == (subtype, fmt, compression)
    assert name.vmid is not None and name.ctime is not None
    assert filename.startswith(name.logname.removesuffix(".log") + ".")


@pytest.mark.parametrize(
    "filename",
    [
        "vzdump-qemu-100-renamed.vma.zst",
        "vzdump-qemu-100-2024_05_20-18_11_48-before-upgrade.vma",
        "vzdump-qemu-99-2024_05_20-18_11_48.vma",  # VMID below 100
        "vzdump-qemu-0100-2024_05_20-18_11_48.vma",
        "vzdump-qemu-100-2024_13_20-18_11_48.vma",  # no month 13
        "vzdump-lxc-novmid.tar.gz",
        "vzdump-qemu-100-2024_05_20-18_11_48.vma.tar",  # a tar whose stem ends in .vma
    ],
)
def test_recognised_but_not_standard(filename: str) -> None:
    name = parse_backup_name(filename)
    assert name is not None
    assert not name.standard and name.vmid is None and name.ctime is None
    assert name.logname.endswith(".log")


@pytest.mark.parametrize(
    "filename",
    [
        "vzdump-qemu-100-2024_05_20-18_11_48.vma.dat",
        "vzdump-qemu-100-2024_05_20-18_11_48.dat",
        "vzdump-qemu-100-2024_05_20-18_11_48.log",
        EXAMPLE + ".notes",
        EXAMPLE + ".protected",
        "vzdump-qemu-100-2024_05_20-18_11_48.vma.xz",
        "vzdump-kvm-100-2024_05_20-18_11_48.vma",
        "backup-qemu-100-2024_05_20-18_11_48.vma",
        "vzdump-qemu-.vma",
        "",
    ],
)
def test_not_backups(filename: str) -> None:
    assert parse_backup_name(filename) is None


def test_dat_names_follow_vzdump() -> None:
    assert dat_name(EXAMPLE) == "vzdump-qemu-100-2024_05_20-18_11_48.vma.dat"
    assert dat_name("vzdump-qemu-100-2024_05_20-18_11_48.vma") == (
        "vzdump-qemu-100-2024_05_20-18_11_48.dat"
    )
    assert dat_name("vzdump-lxc-100-2024_05_20-18_11_48.tgz") == (
        "vzdump-lxc-100-2024_05_20-18_11_48.dat"
    )


@pytest.mark.parametrize(("vmid", "ext"), [(99, ""), (1_000_000_000, ""), (100, ".xz")])
def test_bad_filename_input(vmid: int, ext: str) -> None:
    with pytest.raises(InputError):
        backup_filename(vmid, datetime(2024, 1, 1), ext)


# -- writing ----------------------------------------------------------------------------------


def test_final_name_appears_only_after_commit(store: DirBackupStore) -> None:
    pending = store.begin(EXAMPLE)
    assert pending.path == store.dump_dir / "vzdump-qemu-100-2024_05_20-18_11_48.vma.dat"
    pending.file.write(b"archive bytes")
    assert not (store.dump_dir / EXAMPLE).exists()
    assert store.list() == []
    assert pending.commit() == f"local:backup/{EXAMPLE}"
    assert (store.dump_dir / EXAMPLE).read_bytes() == b"archive bytes"
    assert sorted(p.name for p in store.dump_dir.iterdir()) == [EXAMPLE]
    assert pending.file.closed


def test_uncompressed_archive_is_written_as_name_without_vma(store: DirBackupStore) -> None:
    filename = "vzdump-qemu-100-2024_05_20-18_11_48.vma"
    with store.begin(filename) as pending:
        assert pending.path.name == "vzdump-qemu-100-2024_05_20-18_11_48.dat"
        pending.file.write(b"x")
        pending.commit()
    assert [p.name for p in store.dump_dir.iterdir()] == [filename]


def test_abort_leaves_nothing(store: DirBackupStore) -> None:
    pending = store.begin(EXAMPLE)
    pending.file.write(b"partial")
    pending.abort()
    pending.abort()  # twice is harmless
    assert list(store.dump_dir.iterdir()) == []
    with pytest.raises(StorageError):
        pending.commit()


def test_exception_in_block_aborts(store: DirBackupStore) -> None:
    with pytest.raises(RuntimeError), store.begin(EXAMPLE) as pending:
        pending.file.write(b"partial")
        raise RuntimeError("qemu died")
    assert list(store.dump_dir.iterdir()) == []


def test_block_left_without_commit_aborts(store: DirBackupStore) -> None:
    with store.begin(EXAMPLE) as pending:
        pending.file.write(b"partial")
    assert list(store.dump_dir.iterdir()) == []


def test_second_begin_for_the_same_name_is_refused(store: DirBackupStore) -> None:
    with store.begin(EXAMPLE) as first:
        with pytest.raises(ConflictError, match="already being written"):
            store.begin(EXAMPLE)
        first.commit()
    with pytest.raises(ConflictError, match="already exists"):
        store.begin(EXAMPLE)


def test_begin_checks_the_name(store: DirBackupStore) -> None:
    for bad in ("../" + EXAMPLE, "notes.txt", "vzdump-qemu-100-x.dat"):
        with pytest.raises(InputError):
            store.begin(bad)


def test_clean_stale_removes_only_dat_files_nobody_holds(store: DirBackupStore) -> None:
    stale = put(store, "vzdump-qemu-101-2024_05_19-01_00_00.vma.dat", b"left by a crash")
    other = put(store, "something-else.dat")
    with store.begin(EXAMPLE) as live:
        assert store.clean_stale() == [stale]
        assert live.path.exists() and other.exists() and not stale.exists()
        live.file.write(b"still writing")
        live.commit()
    assert store.clean_stale() == []
    assert (store.dump_dir / EXAMPLE).read_bytes() == b"still writing"


def test_stale_dat_blocks_begin_until_cleaned(store: DirBackupStore) -> None:
    put(store, dat_name(EXAMPLE))
    with pytest.raises(ConflictError):
        store.begin(EXAMPLE)
    assert len(store.clean_stale()) == 1
    store.begin(EXAMPLE).abort()


def test_clean_stale_without_dump_folder(store: DirBackupStore) -> None:
    assert store.clean_stale() == []
    assert store.list() == []


# -- listing and metadata ---------------------------------------------------------------------


def test_list_newest_first_with_metadata(store: DirBackupStore, cet: None) -> None:
    old = "vzdump-qemu-100-2024_05_18-02_00_00.vma"
    mid = "vzdump-qemu-100-2024_05_19-02_00_00.vma.lzo"
    new = EXAMPLE
    other_vm = "vzdump-qemu-200-2024_05_21-02_00_00.vma.gz"
    renamed = "vzdump-qemu-100-before-upgrade.vma.zst"
    for name in (old, mid, new, other_vm):
        put(store, name, b"x" * 10)
    renamed_path = put(store, renamed, b"y" * 3)
    when = datetime(2024, 5, 19, 12, 0, 0, tzinfo=UTC).timestamp()
    os.utime(renamed_path, (when, when))
    put(store, "vzdump-qemu-100-2024_05_18-02_00_00.log", b"log")
    (store.dump_dir / (new + ".notes")).write_text("Vor dem Upgrade \u2713\nline two\n", "utf-8")
    (store.dump_dir / (mid + ".protected")).touch()
    put(store, "vzdump-qemu-100-2024_05_22-02_00_00.vma.dat")
    put(store, "random.txt")
    (store.dump_dir / "vzdump-qemu-100-2024_05_23-02_00_00.vma").mkdir()

    listed = store.list()
    assert [b.filename for b in listed] == [other_vm, new, renamed, mid, old]
    by_name = {b.filename: b for b in listed}

    info = by_name[new]
    assert info.volid == f"local:backup/{new}"
    assert (info.format, info.size, info.subtype, info.vmid) == ("vma.zst", 10, "qemu", 100)
    assert info.ctime == int(datetime(2024, 5, 20, 16, 11, 48, tzinfo=UTC).timestamp())
    assert info.notes == "Vor dem Upgrade \u2713"
    assert not info.protected and info.log_path is None and info.standard

    assert by_name[mid].protected and by_name[mid].notes is None
    assert by_name[old].log_path == store.dump_dir / "vzdump-qemu-100-2024_05_18-02_00_00.log"
    assert by_name[renamed].ctime == int(when) and not by_name[renamed].standard
    assert by_name[renamed].vmid == 100  # found in the name as Proxmox's listing does

    assert [b.filename for b in store.list(100)] == [new, renamed, mid, old]
    assert [b.filename for b in store.list(200)] == [other_vm]
    assert store.list(300) == []
    assert store.get(mid) == by_name[mid]


def test_get_and_path_validation(store: DirBackupStore) -> None:
    with pytest.raises(NoSuchVolume):
        store.get(EXAMPLE)
    assert store.path(EXAMPLE) == store.dump_dir / EXAMPLE
    for bad in ("", "dump/" + EXAMPLE, "x.vma", EXAMPLE + ".notes", "a\0" + EXAMPLE):
        with pytest.raises(InputError):
            store.path(bad)
    assert store.log_path(EXAMPLE).name == "vzdump-qemu-100-2024_05_20-18_11_48.log"
    assert store.notes_path(EXAMPLE).name == EXAMPLE + ".notes"
    assert store.protected_path(EXAMPLE).name == EXAMPLE + ".protected"


def test_remove_takes_log_and_notes(store: DirBackupStore) -> None:
    put(store, EXAMPLE)
    store.log_path(EXAMPLE).write_text("log")
    store.set_notes(EXAMPLE, "notes")
    neighbour = put(store, "vzdump-qemu-100-2024_05_20-18_11_49.vma")
    store.remove(EXAMPLE)
    assert list(store.dump_dir.iterdir()) == [neighbour]
    with pytest.raises(NoSuchVolume):
        store.remove(EXAMPLE)


def test_protected_backup_cannot_be_removed(store: DirBackupStore) -> None:
    put(store, EXAMPLE)
    store.set_protected(EXAMPLE, True)
    with pytest.raises(ConflictError, match="is protected"):
        store.remove(EXAMPLE)
    assert store.get(EXAMPLE).protected
    store.set_protected(EXAMPLE, False)
    store.set_protected(EXAMPLE, False)
    store.remove(EXAMPLE)
    assert list(store.dump_dir.iterdir()) == []


def test_notes_and_protection_round_trip(store: DirBackupStore) -> None:
    put(store, EXAMPLE)
    assert store.get(EXAMPLE).notes is None and store.read_notes(EXAMPLE) is None
    store.set_notes(EXAMPLE, "caf\u00e9 \U0001f600\nsecond line")
    assert store.notes_path(EXAMPLE).read_bytes() == "caf\u00e9 \U0001f600\nsecond line".encode()
    assert store.get(EXAMPLE).notes == "caf\u00e9 \U0001f600"
    assert store.read_notes(EXAMPLE) == "caf\u00e9 \U0001f600\nsecond line"
    store.set_notes(EXAMPLE, "")
    assert not store.notes_path(EXAMPLE).exists()
    store.set_notes(EXAMPLE, "")
    store.set_protected(EXAMPLE, True)
    store.set_protected(EXAMPLE, True)
    assert store.protected_path(EXAMPLE).read_bytes() == b""
    assert store.get(EXAMPLE).protected
    assert sorted(p.name for p in store.dump_dir.iterdir()) == [EXAMPLE, EXAMPLE + ".protected"]


def test_metadata_on_a_missing_backup(store: DirBackupStore) -> None:
    with pytest.raises(NoSuchVolume):
        store.set_notes(EXAMPLE, "x")
    with pytest.raises(NoSuchVolume):
        store.set_protected(EXAMPLE, True)


def test_committed_backup_is_listed(store: DirBackupStore) -> None:
    stamp = datetime(2024, 5, 20, 18, 11, 48) + timedelta(seconds=1)
    filename = backup_filename(100, stamp, ".zst")
    with store.begin(filename) as pending:
        pending.file.write(b"12345")
        volid = pending.commit()
    [info] = store.list(100)
    assert (info.volid, info.size, info.format) == (volid, 5, "vma.zst")
