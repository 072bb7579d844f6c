"""Options and values read as Proxmox's CLI reads them (pve-common ``PVE/JSONSchema.pm``
``get_options``), for the commands a Proxmox administrator types by habit."""

from __future__ import annotations

from pathlib import Path

import pytest

from respaldo.cli.commands import given_values
from respaldo.cli.main import parse
from respaldo.config.schema import Schema
from respaldo.errors import InputError
from respaldo.node import Node
from respaldo.services.restore.qmrestore import RESTORE_PARAMS
from respaldo.services.vzdump.options import parse_options
from respaldo.storage.backupstore import FileArchive
from respaldo.storage.registry import StorageRegistry

ARCHIVE = "vzdump-qemu-100-2024_05_20-18_11_48.vma.zst"


def given(*argv: str) -> dict[str, str]:
    return given_values(parse(list(argv)))


def test_a_boolean_without_a_value_is_true() -> None:
    words = given("qmrestore", ARCHIVE, "9240", "--force")
    assert words == {"archive": ARCHIVE, "vmid": "9240", "force": "1"}
    assert RESTORE_PARAMS.parse(words)["force"] is True
    assert given("vzdump", "--all", "--storage", "local") == {"all": "1", "storage": "local"}
    assert given("qmrestore", ARCHIVE, "9240", "--force", "0")["force"] == "0"


def test_one_dash_as_proxmox_takes_it() -> None:
    assert given("vzdump", "100", "-mode", "stop", "-storage", "local") == {
        "vmid": "100",
        "mode": "stop",
        "storage": "local",
    }
    assert given("pvesm", "alloc", "local", "100", "-", "4G")["filename"] == "-"


def test_a_list_option_may_be_repeated() -> None:
    words = given("vzdump", "--exclude", "101", "--exclude", "102", "--storage", "local")
    assert words["exclude"] == "101,102"
    opts = parse_options(words, {})
    assert opts.all and opts.exclude == [101, 102]


def test_exclude_implies_all() -> None:
    opts = parse_options(given("vzdump", "--exclude", "9304", "--storage", "local"), {})
    assert opts.all and opts.exclude == [9304]


def test_an_unknown_option_is_named_with_the_valid_ones() -> None:
    words = given("vzdump", "100", "--colour", "red")
    with pytest.raises(InputError) as info:
        parse_options(words, {})
    assert "unknown vzdump option" in str(info.value) and "notes-template" in str(info.value)


def test_a_relative_archive_path_is_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ARCHIVE).write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    words = given("qmrestore", ARCHIVE, "101")
    assert RESTORE_PARAMS.parse(words)["archive"] == ARCHIVE
    registry = StorageRegistry(Node(tmp_path / "home", "pve"))
    source = registry.archive_source(ARCHIVE)
    assert isinstance(source, FileArchive) and source.path == tmp_path / ARCHIVE  # absolute
    source = registry.archive_source(f"./{ARCHIVE}")
    assert isinstance(source, FileArchive) and source.path == tmp_path / ARCHIVE
    with pytest.raises(InputError, match=r"can't find file 'missing\.vma'"):
        registry.archive_source("missing.vma")
    schema = Schema((RESTORE_PARAMS.get("archive"),))
    assert schema.parse({"archive": "local:backup/" + ARCHIVE})  # a volume id stays one
