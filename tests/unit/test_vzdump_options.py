"""vzdump options: Proxmox's names and defaults, vzdump.conf under the command line."""

from __future__ import annotations

import shlex
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
        # pve-manager verify_vzdump_parameters, in its words
        ({}, "vmid", "property is missing"),
        ({"vmid": "100", "all": "1"}, "all", "option conflicts with option 'vmid'"),
        ({"vmid": "100", "exclude": "101"}, "exclude", "option conflicts with option 'vmid'"),
        ({"vmid": "100", "pool": "p"}, "pool", "option conflicts with option 'vmid'"),
        (
            {"vmid": "100", "maxfiles": "2", "prune-backups": "keep-last=1"},
            "prune-backups",
            "option conflicts with option 'maxfiles'",
        ),
        (
            {"vmid": "100", "storage": "local", "dumpdir": "/x"},
            "dumpdir",
            "cannot use options 'storage' and 'dumpdir' at the same time",
        ),
        (
            {"vmid": "100", "storage": "local", "notes-template": r"a\nb\tc {{foo}}"},
            "notes-template",
            r"found unknown: escape sequence '\t' at char 4, variable 'foo' at char 12",
        ),
        ({"vmid": "100", "notes-template": "{{vmid}}"}, "storage", "requires"),
        (
            {"vmid": "100", "storage": "local", "notes-template": "two\nlines"},
            "notes-template",
            "contains a line feed",
        ),
    ],
)
def test_bad_values_are_named(given: dict[str, str], name: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse_options(given, {})
    assert info.value.name == name or name in getattr(info.value, "errors", {})
    assert fragment in str(info.value)


def test_exclude_implies_all() -> None:
    opts = parse_options({"exclude": "9304", "storage": "local"}, {})
    assert opts.all and opts.exclude == [9304]
    assert opts.command_line() == "vzdump --exclude 9304 --storage local --all 1"


def test_command_line_is_the_options_as_given_and_runs_again() -> None:
    given = {
        "vmid": "100,101",
        "storage": "local",
        "compress": "1",
        "notes-template": "{{guestname}} on {{node}}",
        "prune-backups": "keep-weekly=2,keep-last=3",
        "protected": "yes",
        "job-id": "nightly",
    }
    opts = parse_options(given, {"mode": "stop", "zstd": "2"})
    line = opts.command_line()
    # Proxmox's: only what was given (no defaults: no --mode, no --compress none), booleans
    # as 1, property strings as it prints them, shell-quoted; never job-id or stdout
    assert line == (
        "vzdump 100 101 --storage local --compress 1 --notes-template '{{guestname}} on "
        "{{node}}' --prune-backups keep-last=3,keep-weekly=2 --protected 1"
    )
    words = shlex.split(line)
    assert words[:3] == ["vzdump", "100", "101"]
    # the words parse back into the same options and the same line
    pairs = {k[2:]: v for k, v in zip(words[3::2], words[4::2], strict=True)}
    rerun = parse_options({"vmid": "100,101", **pairs}, {})
    assert rerun.command_line() == line
    assert rerun.compress is Compression.LZO and rerun.protected


def test_a_vzdump_conf_with_every_key_of_proxmoxs_schema_is_accepted() -> None:
    conf = parse_keyvalue((FIXTURES / "config" / "vzdump-every-key.conf").read_text())
    opts = parse_options({"vmid": "100"}, conf.main.as_dict())
    # Proxmox's own warnings for this file, nothing else; its guests are the command's
    assert opts.warnings == [
        "both 'storage' and 'dumpdir' defined in 'vzdump.conf' - ignoring 'dumpdir'",
        "both 'maxfiles' and 'prune-backups' defined as options in 'vzdump.conf' - "
        "ignoring 'maxfiles'",
    ]
    assert opts.vmids == [100] and not opts.all and opts.exclude == [] and opts.pool is None
    assert opts.storage == "local" and opts.dumpdir is None
    assert opts.pigz == 1 and opts.zstd == 0 and opts.compress is Compression.ZSTD
    assert opts.max_workers == 8 and opts.fleecing_storage == "local"
    assert opts.node_prune_backups is not None and opts.node_prune_backups.keep_weekly == 2
    assert opts.notes_template == "{{guestname}} on {{node}}"
    assert opts.mailnotification is MailNotification.FAILURE
    assert opts.command_line() == "vzdump 100"


def test_bad_vzdump_conf_lines_are_warnings_and_ignored() -> None:
    conf = {"pigz": "many", "compress": "zstd", "colour": "red", "maxfiles": "4"}
    opts = parse_options({"vmid": "100"}, conf)
    assert opts.warnings == [
        "parse error in 'vzdump.conf' - 'pigz': type check ('integer') failed - got 'many'",
        "vzdump.conf: ignoring unknown option 'colour'",
    ]
    assert opts.pigz == 0 and opts.compress is Compression.ZSTD
    # Proxmox 8's maxfiles: keep-last, below the storage's retention as vzdump.conf's is
    assert opts.node_prune_backups is not None and opts.node_prune_backups.keep_last == 4


def test_maxfiles_given_is_keep_last() -> None:
    opts = parse_options({"vmid": "100", "maxfiles": "2"}, {})
    assert opts.prune_backups is not None and opts.prune_backups.keep_last == 2
