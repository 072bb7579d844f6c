"""The listing of a dump folder is reused only while the folder is unchanged."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from respaldo.storage import backups
from respaldo.storage.backups import DirBackupStore, ListingCache

A = "vzdump-qemu-100-2024_05_20-18_11_48.vma.zst"
B = "vzdump-qemu-101-2024_05_21-18_11_48.vma.zst"


def _settled(folder: Path) -> None:
    """The folder's modification time a minute back, as if nothing changed lately."""
    past = time.time() - 60
    os.utime(folder, (past, past))


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DirBackupStore:
    monkeypatch.setattr(backups, "LISTINGS", ListingCache())
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / A).write_bytes(b"x" * 10)
    _settled(dump)
    return DirBackupStore("local", dump)


def test_an_unchanged_folder_is_listed_from_the_cache(store: DirBackupStore) -> None:
    assert [b.filename for b in store.list()] == [A]
    # a file rewritten in place does not touch the folder: the cached size stays
    (store.dump_dir / A).write_bytes(b"x" * 20)
    assert store.list()[0].size == 10


def test_every_change_respaldo_makes_shows_at_once(store: DirBackupStore) -> None:
    store.list()
    (store.dump_dir / B).write_bytes(b"")
    assert [b.filename for b in store.list()] == [B, A]  # newest first
    store.set_notes(A, "before the upgrade")
    store.set_protected(A, True)
    row = next(b for b in store.list() if b.filename == A)
    assert (row.notes, row.protected) == ("before the upgrade", True)
    store.set_protected(A, False)
    store.remove(B)
    assert [(b.filename, b.protected) for b in store.list()] == [(A, False)]


def test_a_fresh_folder_is_not_cached_and_old_listings_expire(
    store: DirBackupStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    os.utime(store.dump_dir)  # changed just now: the same clock tick could hide a change
    store.list()
    (store.dump_dir / A).write_bytes(b"x" * 30)
    assert store.list()[0].size == 30
    _settled(store.dump_dir)
    store.list()
    (store.dump_dir / A).write_bytes(b"x" * 40)
    monkeypatch.setattr(backups.LISTINGS, "max_age", 0.0)
    assert store.list()[0].size == 40


def test_a_guest_filter_reads_the_folder(store: DirBackupStore) -> None:
    store.list()
    (store.dump_dir / A).write_bytes(b"x" * 50)
    assert store.list(100)[0].size == 50
