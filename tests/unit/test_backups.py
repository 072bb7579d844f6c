from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from respaldo.archive.digest import DeviceDigest
from respaldo.errors import ArchiveError, ConflictError, InputError, NoSuchVolume, StorageError
from respaldo.storage.backups import (
    EXTENSIONS,
    DirBackupStore,
    backup_filename,
    dat_name,
    parse_backup_name,
)
from respaldo.storage.backupstore import BackupStore
from respaldo.storage.memorystore import MemoryBackupStore
from tests.conftest import local_tz
from tests.unit.conftest import Dump

EXAMPLE = "vzdump-qemu-100-2024_05_20-18_11_48.vma.zst"
# Central European time without needing tzdata: +01:00, +02:00 in summer.
CET = "CET-1CEST,M3.5.0,M10.5.0/3"


@pytest.fixture
def cet() -> Iterator[None]:
    with local_tz(CET):
        yield


LOG = "vzdump-qemu-100-2024_05_20-18_11_48.log"


@pytest.fixture
def dir_store(tmp_path: Path) -> DirBackupStore:
    return DirBackupStore("local", tmp_path / "dump")


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


def test_final_name_appears_only_after_commit(store: BackupStore, dump: Dump) -> None:
    pending = store.begin(EXAMPLE)
    assert dump.names() == ["vzdump-qemu-100-2024_05_20-18_11_48.vma.dat"]
    pending.sink.write(b"archive bytes")
    assert not dump.exists(EXAMPLE)
    assert store.list() == []
    with pytest.raises(NoSuchVolume):
        store.get(EXAMPLE)
    assert pending.commit() == f"local:backup/{EXAMPLE}"
    assert dump.read(EXAMPLE) == b"archive bytes"
    assert dump.names() == [EXAMPLE]
    assert pending.sink.closed and pending.done


def test_dir_writes_the_dat_file_in_the_dump_folder(dir_store: DirBackupStore) -> None:
    with dir_store.begin(EXAMPLE) as pending:
        assert pending.path == dir_store.dump_dir / "vzdump-qemu-100-2024_05_20-18_11_48.vma.dat"
        assert pending.partial_path == pending.path and pending.sink is pending.file


def test_uncompressed_archive_is_written_as_name_without_vma(
    store: BackupStore, dump: Dump
) -> None:
    filename = "vzdump-qemu-100-2024_05_20-18_11_48.vma"
    with store.begin(filename) as pending:
        assert dump.names() == ["vzdump-qemu-100-2024_05_20-18_11_48.dat"]
        pending.sink.write(b"x")
        pending.commit()
    assert dump.names() == [filename]


def test_abort_leaves_nothing(store: BackupStore, dump: Dump) -> None:
    pending = store.begin(EXAMPLE)
    pending.sink.write(b"partial")
    pending.abort()
    pending.abort()  # twice is harmless
    assert dump.names() == []
    with pytest.raises(StorageError):
        pending.commit()


def test_exception_in_block_aborts(store: BackupStore, dump: Dump) -> None:
    with pytest.raises(RuntimeError), store.begin(EXAMPLE) as pending:
        pending.sink.write(b"partial")
        raise RuntimeError("qemu died")
    assert dump.names() == []


def test_block_left_without_commit_aborts(store: BackupStore, dump: Dump) -> None:
    with store.begin(EXAMPLE) as pending:
        pending.sink.write(b"partial")
    assert dump.names() == []


def test_commit_after_the_sink_was_closed_aborts(store: BackupStore, dump: Dump) -> None:
    pending = store.begin(EXAMPLE)
    pending.sink.write(b"partial")
    pending.sink.close()
    with pytest.raises(StorageError, match="closed before commit"):
        pending.commit()
    assert pending.done and dump.names() == []


def test_a_backup_that_appears_during_the_write_is_kept(store: BackupStore, dump: Dump) -> None:
    """Commit never replaces an archive: it refuses, and drops its own partial write."""
    pending = store.begin(EXAMPLE)
    pending.sink.write(b"mine")
    dump.write(EXAMPLE, b"theirs")
    with pytest.raises(ConflictError, match="already exists"):
        pending.commit()
    assert dump.names() == [EXAMPLE] and dump.read(EXAMPLE) == b"theirs"


def test_second_begin_for_the_same_name_is_refused(store: BackupStore) -> None:
    with store.begin(EXAMPLE) as first:
        with pytest.raises(ConflictError, match="already being written"):
            store.begin(EXAMPLE)
        first.commit()
    with pytest.raises(ConflictError, match="already exists"):
        store.begin(EXAMPLE)


def test_only_one_of_simultaneous_writers_begins(store: BackupStore, dump: Dump) -> None:
    started = threading.Barrier(8)
    outcomes: list[str] = []

    def writer() -> None:
        started.wait()
        try:
            pending = store.begin(EXAMPLE)
        except ConflictError:
            outcomes.append("refused")
            return
        pending.sink.write(b"winner")
        pending.commit()
        outcomes.append("committed")

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["committed"] + ["refused"] * 7
    assert dump.names() == [EXAMPLE] and dump.read(EXAMPLE) == b"winner"


def test_a_name_committed_while_we_create_our_partial_file_is_refused(
    dir_store: DirBackupStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race in the test above, made certain: the other writer renames its .dat to the
    # final name after our first check and before our exclusive create.
    real_open = os.open

    def open_after_the_other_commit(path: str | os.PathLike[str], flags: int, *args: int) -> int:
        if str(path).endswith(".dat"):
            (dir_store.dump_dir / EXAMPLE).write_bytes(b"theirs")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", open_after_the_other_commit)
    with pytest.raises(ConflictError, match="already exists"):
        dir_store.begin(EXAMPLE)
    monkeypatch.undo()
    assert sorted(p.name for p in dir_store.dump_dir.iterdir()) == [EXAMPLE]
    assert (dir_store.dump_dir / EXAMPLE).read_bytes() == b"theirs"


def test_begin_checks_the_name(store: BackupStore) -> None:
    for bad in ("../" + EXAMPLE, "notes.txt", "vzdump-qemu-100-x.dat"):
        with pytest.raises(InputError):
            store.begin(bad)


def test_clean_stale_removes_only_dat_files_nobody_holds(store: BackupStore, dump: Dump) -> None:
    stale = "vzdump-qemu-101-2024_05_19-01_00_00.vma.dat"
    dump.write(stale, b"left by a crash")
    dump.write("something-else.dat")
    with store.begin(EXAMPLE) as live:
        assert store.clean_stale() == [stale]
        assert dump.exists(dat_name(EXAMPLE)) and dump.exists("something-else.dat")
        assert not dump.exists(stale)
        live.sink.write(b"still writing")
        live.commit()
    assert store.clean_stale() == []
    assert dump.read(EXAMPLE) == b"still writing"


def test_stale_dat_blocks_begin_until_cleaned(store: BackupStore, dump: Dump) -> None:
    dump.write(dat_name(EXAMPLE))
    with pytest.raises(ConflictError):
        store.begin(EXAMPLE)
    assert len(store.clean_stale()) == 1
    store.begin(EXAMPLE).abort()


def test_clean_stale_without_dump_folder(store: BackupStore) -> None:
    assert store.clean_stale() == []
    assert store.list() == []


def test_memory_store_keeps_no_files() -> None:
    store = MemoryBackupStore("mem")
    with store.begin(EXAMPLE) as pending:
        assert pending.partial_path is None
        pending.advance(64 << 20)  # nothing to make durable
        pending.sink.write(b"x")
        assert pending.commit() == f"mem:backup/{EXAMPLE}"
    assert store.dump_dir is None
    assert store.archive_path(EXAMPLE) is None and store.log_path(EXAMPLE) is None
    with pytest.raises(InputError):
        store.archive_path("notes.txt")


# -- reading ----------------------------------------------------------------------------------


def test_open_reads_the_archive_as_stored(store: BackupStore, dump: Dump) -> None:
    with pytest.raises(NoSuchVolume):
        store.open(EXAMPLE)
    with store.begin(EXAMPLE) as pending:
        pending.sink.write(b"\x28\xb5\x2f\xfd compressed bytes")
        pending.commit()
    with store.open(EXAMPLE) as stream:
        assert stream.read() == b"\x28\xb5\x2f\xfd compressed bytes"
    with pytest.raises(InputError):
        store.open(EXAMPLE + ".notes")


# -- listing and metadata ---------------------------------------------------------------------


def test_list_newest_first_with_metadata(store: BackupStore, dump: Dump, cet: None) -> None:
    old = "vzdump-qemu-100-2024_05_18-02_00_00.vma"
    mid = "vzdump-qemu-100-2024_05_19-02_00_00.vma.lzo"
    new = EXAMPLE
    other_vm = "vzdump-qemu-200-2024_05_21-02_00_00.vma.gz"
    renamed = "vzdump-qemu-100-before-upgrade.vma.zst"
    for name in (old, mid, new, other_vm):
        dump.write(name, b"x" * 10)
    dump.write(renamed, b"y" * 3)
    when = datetime(2024, 5, 19, 12, 0, 0, tzinfo=UTC).timestamp()
    dump.set_mtime(renamed, when)
    dump.write("vzdump-qemu-100-2024_05_18-02_00_00.log", b"log")
    dump.write(new + ".notes", "Vor dem Upgrade \u2713\nline two\n".encode())
    dump.write(mid + ".protected", b"")
    dump.write("vzdump-qemu-100-2024_05_22-02_00_00.vma.dat")
    dump.write("random.txt")

    listed = store.list()
    assert [b.filename for b in listed] == [other_vm, new, renamed, mid, old]
    by_name = {b.filename: b for b in listed}

    info = by_name[new]
    assert info.volid == f"local:backup/{new}"
    assert (info.format, info.size, info.subtype, info.vmid) == ("vma.zst", 10, "qemu", 100)
    assert info.ctime == int(datetime(2024, 5, 20, 16, 11, 48, tzinfo=UTC).timestamp())
    assert info.notes == "Vor dem Upgrade \u2713"
    assert not info.protected and info.log is None and info.standard

    assert by_name[mid].protected and by_name[mid].notes is None
    assert by_name[old].log == "vzdump-qemu-100-2024_05_18-02_00_00.log"
    assert by_name[renamed].ctime == int(when) and not by_name[renamed].standard
    assert by_name[renamed].vmid == 100  # found in the name as Proxmox's listing does

    assert [b.filename for b in store.list(100)] == [new, renamed, mid, old]
    assert [b.filename for b in store.list(200)] == [other_vm]
    assert store.list(300) == []
    assert store.get(mid) == by_name[mid]


def test_a_folder_with_a_backup_name_is_no_backup(dir_store: DirBackupStore) -> None:
    dir_store.dump_dir.mkdir()
    (dir_store.dump_dir / "vzdump-qemu-100-2024_05_23-02_00_00.vma").mkdir()
    (dir_store.dump_dir / EXAMPLE).write_bytes(b"x")
    assert [b.filename for b in dir_store.list()] == [EXAMPLE]


def test_get_and_name_validation(store: BackupStore) -> None:
    with pytest.raises(NoSuchVolume):
        store.get(EXAMPLE)
    for bad in ("", "dump/" + EXAMPLE, "x.vma", EXAMPLE + ".notes", "a\0" + EXAMPLE):
        with pytest.raises(InputError):
            store.get(bad)
        with pytest.raises(InputError):
            store.archive_path(bad)


def test_dir_paths(dir_store: DirBackupStore) -> None:
    assert dir_store.path(EXAMPLE) == dir_store.dump_dir / EXAMPLE
    assert dir_store.archive_path(EXAMPLE) == dir_store.dump_dir / EXAMPLE
    for bad in ("", "dump/" + EXAMPLE, "x.vma", EXAMPLE + ".notes", "a\0" + EXAMPLE):
        with pytest.raises(InputError):
            dir_store.path(bad)
    assert dir_store.log_path(EXAMPLE).name == "vzdump-qemu-100-2024_05_20-18_11_48.log"
    assert dir_store.notes_path(EXAMPLE).name == EXAMPLE + ".notes"
    assert dir_store.protected_path(EXAMPLE).name == EXAMPLE + ".protected"
    assert dir_store.digest_path(EXAMPLE).name == EXAMPLE + ".digest.json"


def test_remove_takes_log_and_notes(store: BackupStore, dump: Dump) -> None:
    dump.write(EXAMPLE)
    dump.write(LOG, b"log")
    store.set_notes(EXAMPLE, "notes")
    neighbour = "vzdump-qemu-100-2024_05_20-18_11_49.vma"
    dump.write(neighbour)
    store.remove(EXAMPLE)
    assert dump.names() == [neighbour]
    with pytest.raises(NoSuchVolume):
        store.remove(EXAMPLE)


def test_remove_can_keep_the_log(store: BackupStore, dump: Dump) -> None:
    """A backup whose job failed after the archive was written goes, its log stays."""
    dump.write(EXAMPLE)
    store.append_log(EXAMPLE, ["INFO: starting"])
    store.write_digest(EXAMPLE, [DeviceDigest("drive-scsi0", 1 << 20, 0, "00" * 32)])
    store.remove(EXAMPLE, keep_log=True)
    assert dump.names() == [LOG]


def test_protected_backup_cannot_be_removed(store: BackupStore, dump: Dump) -> None:
    dump.write(EXAMPLE)
    store.set_protected(EXAMPLE, True)
    with pytest.raises(ConflictError, match="is protected"):
        store.remove(EXAMPLE)
    with pytest.raises(ConflictError, match="is protected"):
        store.remove(EXAMPLE, keep_log=True)
    assert store.get(EXAMPLE).protected
    store.set_protected(EXAMPLE, False)
    store.set_protected(EXAMPLE, False)
    store.remove(EXAMPLE)
    assert dump.names() == []


def test_notes_and_protection_round_trip(store: BackupStore, dump: Dump) -> None:
    dump.write(EXAMPLE)
    assert store.get(EXAMPLE).notes is None and store.read_notes(EXAMPLE) is None
    store.set_notes(EXAMPLE, "caf\u00e9 \U0001f600\nsecond line")
    assert dump.read(EXAMPLE + ".notes") == "caf\u00e9 \U0001f600\nsecond line".encode()
    assert store.get(EXAMPLE).notes == "caf\u00e9 \U0001f600"
    assert store.read_notes(EXAMPLE) == "caf\u00e9 \U0001f600\nsecond line"
    store.set_notes(EXAMPLE, "")
    assert not dump.exists(EXAMPLE + ".notes")
    store.set_notes(EXAMPLE, "")
    store.set_protected(EXAMPLE, True)
    store.set_protected(EXAMPLE, True)
    assert dump.read(EXAMPLE + ".protected") == b""
    assert store.get(EXAMPLE).protected
    assert dump.names() == [EXAMPLE, EXAMPLE + ".protected"]


def test_metadata_on_a_missing_backup(store: BackupStore) -> None:
    with pytest.raises(NoSuchVolume):
        store.set_notes(EXAMPLE, "x")
    with pytest.raises(NoSuchVolume):
        store.set_protected(EXAMPLE, True)
    with pytest.raises(NoSuchVolume):
        store.read_notes(EXAMPLE)
    with pytest.raises(NoSuchVolume):
        store.write_digest(EXAMPLE, [])
    with pytest.raises(NoSuchVolume):
        store.read_digest(EXAMPLE)


def test_committed_backup_is_listed(store: BackupStore) -> None:
    stamp = datetime(2024, 5, 20, 18, 11, 48) + timedelta(seconds=1)
    filename = backup_filename(100, stamp, ".zst")
    with store.begin(filename) as pending:
        pending.sink.write(b"12345")
        volid = pending.commit()
    [info] = store.list(100)
    assert (info.volid, info.size, info.format) == (volid, 5, "vma.zst")


# -- log and digest ---------------------------------------------------------------------------


def test_log_grows_before_the_archive_exists_and_stays(store: BackupStore, dump: Dump) -> None:
    assert store.read_log(EXAMPLE) is None
    store.append_log(EXAMPLE, [])
    assert store.read_log(EXAMPLE) == ""
    store.append_log(EXAMPLE, ["INFO: Starting Backup of VM 100 (qemu)", "INFO: status = running"])
    store.append_log(EXAMPLE, ["ERROR: Backup of VM 100 failed - caf\u00e9"])
    assert dump.names() == [LOG]  # the log of a backup that never got its archive
    assert store.read_log(EXAMPLE) == (
        "INFO: Starting Backup of VM 100 (qemu)\n"
        "INFO: status = running\n"
        "ERROR: Backup of VM 100 failed - caf\u00e9\n"
    )
    assert dump.read(LOG).decode() == store.read_log(EXAMPLE)
    with pytest.raises(InputError):
        store.append_log("x.vma", ["line"])


def test_digest_round_trip(store: BackupStore, dump: Dump) -> None:
    dump.write(EXAMPLE)
    assert store.read_digest(EXAMPLE) is None
    devices = [
        DeviceDigest("drive-scsi0", 1 << 30, 4096, "ab" * 32),
        DeviceDigest("drive-efidisk0", 528 << 10, 0, "cd" * 32),
    ]
    store.write_digest(EXAMPLE, devices)
    assert store.read_digest(EXAMPLE) == devices
    assert dump.names() == [EXAMPLE, EXAMPLE + ".digest.json"]
    dump.write(EXAMPLE + ".digest.json", b"{not json")
    with pytest.raises(ArchiveError, match="not a readable digest file"):
        store.read_digest(EXAMPLE)
