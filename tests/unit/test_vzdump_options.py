"""vzdump options: Proxmox's names and defaults, vzdump.conf under the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from respaldo.archive.compress import Compression
from respaldo.config.keyvalue import parse_keyvalue
from respaldo.errors import InputError
from respaldo.services.vzdump.options import BackupMode, MailNotification, parse_options
from tests.conftest import FIXTURES


def test_proxmox_defaults() -> None:
    opts = parse_options({"vmid": "100"}, {})
    assert opts.vmids == [100]
    assert opts.mode is BackupMode.SNAPSHOT
    assert opts.compress is Compression.NONE
    assert (opts.zstd, opts.lockwait, opts.stopwait, opts.bwlimit) == (1, 180, 10, 0)
    assert opts.remove and not opts.protected and opts.prune_backups is None
    assert opts.mailnotification is MailNotification.ALWAYS


def test_vzdump_conf_defaults_are_overridden_by_given_options() -> None:
    conf = parse_keyvalue((FIXTURES / "config" / "vzdump.conf").read_text()).main.as_dict()
    opts = parse_options({"vmid": "100 101", "compress": "lzo"}, conf)
    assert opts.vmids == [100, 101]
    assert opts.storage == "backups" and opts.zstd == 2
    assert opts.compress is Compression.LZO  # the command line wins over vzdump.conf
    assert opts.mailto == ["admin@example.com"]
    # vzdump.conf's retention ranks below the storage's: kept apart from the job's own
    assert opts.prune_backups is None
    assert opts.node_prune_backups is not None and opts.node_prune_backups.keep_last == 5


def test_a_target_given_for_the_job_replaces_the_node_default_target() -> None:
    conf = parse_keyvalue((FIXTURES / "config" / "vzdump.conf").read_text()).main.as_dict()
    opts = parse_options({"vmid": "100", "dumpdir": "/srv/dump"}, conf)
    assert opts.storage is None and opts.dumpdir == Path("/srv/dump")
    given = parse_options({"vmid": "100", "prune-backups": "keep-daily=2"}, conf)
    assert given.prune_backups is not None and given.prune_backups.keep_daily == 2


def test_compress_1_means_lzo_and_all_with_exclude() -> None:
    opts = parse_options({"all": "1", "exclude": "101,102", "compress": "1"}, {})
    assert opts.all and opts.exclude == [101, 102] and opts.compress is Compression.LZO


@pytest.mark.parametrize(
    ("given", "name", "fragment"),
    [
        (
            {"vmid": "100", "mode": "fast"},
            "mode",
            "does not have a value in the enumeration 'snapshot, suspend, stop'",
        ),
        ({"vmid": "100", "zstd": "-1"}, "zstd", "value must have a minimum value of 0"),
        ({"vmid": "100", "remove": "maybe"}, "remove", "expected a boolean"),
        ({"vmid": "99"}, "vmid", "between 100 and 999999999"),
        ({"vmid": "100", "colour": "red"}, "option", "unknown vzdump option"),
        ({}, "vmid", "give at least one VMID"),
        ({"vmid": "100", "all": "1"}, "vmid", "not both"),
        ({"vmid": "100", "exclude": "101"}, "exclude", "only valid with --all 1"),
        ({"vmid": "100", "storage": "local", "dumpdir": "/x"}, "dumpdir", "not both"),
    ],
)
def test_bad_values_are_named(given: dict[str, str], name: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse_options(given, {})
    assert info.value.name == name and fragment in str(info.value)


def test_command_line_as_proxmox_logs_it() -> None:
    opts = parse_options({"vmid": "100", "compress": "zstd", "storage": "local"}, {})
    assert opts.command_line() == "vzdump 100 --mode snapshot --compress zstd --storage local"
    assert opts.dumpdir is None and isinstance(Path("."), Path)
