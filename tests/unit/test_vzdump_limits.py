"""The limits vzdump checks before it writes (pve-manager ``exec_backup_task``), and its
size words (``format_size``), with Proxmox's values."""

from __future__ import annotations

from pathlib import Path

import pytest

from respaldo.config.prune import parse_prune_backups
from respaldo.formats import vzdump_size
from respaldo.services.vzdump.limits import BackupLimit, backup_limit, check_backup_limits
from respaldo.storage.backups import DirBackupStore

NAMES = [f"vzdump-qemu-9304-2024_05_2{day}-10_00_00.vma.zst" for day in range(4)]


@pytest.fixture
def store(tmp_path: Path) -> DirBackupStore:
    dump = tmp_path / "dump"
    dump.mkdir()
    for name in NAMES[:2]:
        (dump / name).write_bytes(b"x")
    (dump / "vzdump-qemu-9305-2024_05_20-10_00_00.vma.zst").write_bytes(b"x")  # another VM
    return DirBackupStore("local", dump)


@pytest.mark.parametrize(
    ("retention", "limit"),
    [
        (None, 0),
        ("keep-all=1", 0),
        ("keep-last=2", 2),
        ("keep-last=2,keep-daily=3,keep-yearly=1", 6),  # Proxmox adds them up
    ],
)
def test_the_limit_of_a_retention(retention: str | None, limit: int) -> None:
    assert backup_limit(parse_prune_backups(retention) if retention else None) == limit


def check(store: DirBackupStore, **kwargs: object) -> None:
    args: dict[str, object] = {
        "retention": parse_prune_backups("keep-last=2"),
        "remove": False,
        "protected": False,
        "max_protected": -1,
        "storage": "local",
    }
    args.update(kwargs)
    check_backup_limits(store, 9304, **args)  # type: ignore[arg-type]


def test_remove_0_with_a_retention_is_a_limit(store: DirBackupStore) -> None:
    with pytest.raises(BackupLimit) as info:
        check(store)
    assert str(info.value) == (
        "There is a max backup limit of 2 enforced by the target storage or the vzdump "
        "parameters. Either increase the limit or delete old backups."
    )
    check(store, remove=True)  # applied, it is no limit
    check(store, retention=parse_prune_backups("keep-last=3"))
    store.set_protected(NAMES[0], True)
    check(store)  # protected backups do not count


def test_protected_backups_per_guest(store: DirBackupStore) -> None:
    store.set_protected(NAMES[0], True)
    store.set_protected(NAMES[1], True)
    check(store, protected=True, max_protected=3)
    with pytest.raises(BackupLimit, match="limited to 2 on storage 'local'"):
        check(store, protected=True, max_protected=2)
    check(store, protected=True, max_protected=-1, retention=None)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (512, "0KB"),
        (2048, "2KB"),
        (727_392_112, "693MB"),
        (3 << 29, "1.50GB"),
        (2 << 40, "2.00TB"),
    ],
)
def test_archive_sizes_in_vzdumps_words(size: int, text: str) -> None:
    assert vzdump_size(size) == text
