"""Prune marks with the rule that kept each backup, as the GUI's prune window shows them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from respaldo.config.prune import parse_prune_backups
from respaldo.errors import InputError
from respaldo.node import Node
from respaldo.services.prune import PruneCandidate, PruneMark, explain_backups
from respaldo.services.pvesm import StorageManager

# One guest's backups, newest first (UTC): two on Friday 2024-05-10, one each on Thursday and
# Wednesday of that ISO week (19), one on Wednesday 2024-05-01 (week 18) and one in April.
BACKUPS = {
    "a": "2024-05-10 20:00",
    "b": "2024-05-10 08:00",
    "c": "2024-05-09 20:00",
    "d": "2024-05-08 20:00",
    "e": "2024-05-01 20:00",
    "f": "2024-04-15 20:00",
}
K = "keep"
R = "remove"


def candidates(protected: tuple[str, ...] = ()) -> list[PruneCandidate]:
    return [
        PruneCandidate(
            name,
            int(datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()),
            name in protected,
        )
        for name, when in BACKUPS.items()
    ]


@pytest.mark.parametrize(
    ("policy", "protected", "expected"),
    [
        (
            "keep-last=2",
            (),
            {"a": (K, "keep-last: 1"), "b": (K, "keep-last: 2")},
        ),
        (
            "keep-daily=2",
            (),
            {"a": (K, "keep-daily: 1"), "c": (K, "keep-daily: 2")},
        ),
        (
            # the day keep-last covers is not one of keep-daily's two days
            "keep-last=1,keep-daily=2",
            (),
            {"a": (K, "keep-last: 1"), "c": (K, "keep-daily: 1"), "d": (K, "keep-daily: 2")},
        ),
        (
            "keep-weekly=2",
            (),
            {"a": (K, "keep-weekly: 1"), "e": (K, "keep-weekly: 2")},
        ),
        (
            "keep-monthly=2",
            (),
            {"a": (K, "keep-monthly: 1"), "f": (K, "keep-monthly: 2")},
        ),
        (
            "keep-daily=1,keep-monthly=3",
            (),
            {"a": (K, "keep-daily: 1"), "f": (K, "keep-monthly: 1")},
        ),
        (
            "keep-hourly=3",
            (),
            {"a": (K, "keep-hourly: 1"), "b": (K, "keep-hourly: 2"), "c": (K, "keep-hourly: 3")},
        ),
        (
            "keep-yearly=5",
            (),
            {"a": (K, "keep-yearly: 1")},
        ),
        (
            # a protected backup takes no slot: keep-last keeps the next one
            "keep-last=1",
            ("a",),
            {"a": ("protected", "protected"), "b": (K, "keep-last: 1")},
        ),
        (
            "keep-last=1",
            ("f",),
            {"a": (K, "keep-last: 1"), "f": ("protected", "protected")},
        ),
        (
            "keep-all=1",
            ("c",),
            {
                "a": (K, "keep-all"),
                "b": (K, "keep-all"),
                "c": ("protected", "protected"),
                "d": (K, "keep-all"),
                "e": (K, "keep-all"),
                "f": (K, "keep-all"),
            },
        ),
    ],
)
def test_marks_and_the_rule_that_kept_each(
    policy: str, protected: tuple[str, ...], expected: dict[str, tuple[str, str]]
) -> None:
    marks = explain_backups(candidates(protected), parse_prune_backups(policy), UTC)
    shown = {name: (mark.mark, mark.reason) for name, mark in marks.items()}
    wanted = {name: expected.get(name, (R, None)) for name in BACKUPS}
    assert shown == wanted


@pytest.mark.parametrize(
    "policy", ["keep-last=1", "keep-daily=1", "keep-weekly=1", "keep-monthly=1", "keep-yearly=1"]
)
def test_protected_backups_are_never_removed(policy: str) -> None:
    marks = explain_backups(candidates(protected=tuple(BACKUPS)), parse_prune_backups(policy), UTC)
    assert set(marks.values()) == {PruneMark("protected", "protected")}


def test_retention_as_a_storage_option(tmp_path: Path) -> None:
    node = Node(tmp_path / "home", "pve")
    manager = StorageManager(node)
    manager.add(
        "backups",
        "dir",
        {
            "path": str(tmp_path / "store"),
            "content": "backup",
            "prune-backups": "keep-last=2,keep-daily=4",
        },
    )
    assert "\tprune-backups keep-daily=4,keep-last=2\n" in node.storage_cfg.read_text()
    dump = tmp_path / "store" / "dump"
    for name in (
        "vzdump-qemu-100-2024_05_10-20_00_00.vma.zst",
        "vzdump-qemu-100-2024_05_10-08_00_00.vma.zst",
        "vzdump-qemu-100-2024_05_10-07_00_00.vma.zst",
        "vzdump-qemu-100-2024_05_09-20_00_00.vma.zst",
    ):
        (dump / name).write_bytes(b"x")
    retention = manager.retention("backups")
    rows = manager.prune_preview("backups", retention)
    assert [(r.mark, r.reason) for r in rows] == [
        ("keep", "keep-last: 1"),
        ("keep", "keep-last: 2"),
        ("remove", None),
        ("keep", "keep-daily: 1"),
    ]
    given = manager.retention("backups", "keep-last=1")
    assert [r.mark for r in manager.prune_preview("backups", given)].count("keep") == 1
    with pytest.raises(InputError, match="keep-lats"):
        manager.add(
            "other",
            "dir",
            {"path": str(tmp_path / "other"), "content": "backup", "prune-backups": "keep-lats=2"},
        )
