"""One parameter schema: its checking, and that the CLI, vzdump.conf and VM configs take
exactly the options it declares."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from respaldo.cli.commands import SCHEMA_KEY
from respaldo.cli.main import COMMANDS, build_parser
from respaldo.config.schema import ParameterError, Schema, boolean, integer, string
from respaldo.config.vmschema import VM_CONFIG
from respaldo.errors import InputError
from respaldo.node import Node
from respaldo.services.qmconfig import VmConfigService
from respaldo.services.vzdump.options import VZDUMP_OPTIONS, parse_options

SAMPLE = Schema(
    (
        integer("count", "how many", minimum=1, maximum=10, optional=False),
        boolean("flag", "a flag"),
        string("mode", "a mode", enum=("a", "b")),
        string("disk", "disks", indexed=4),
        string("vmid", "a guest", format="pve-vmid"),
    )
)


def test_values_are_typed_and_every_bad_one_is_named() -> None:
    parsed = SAMPLE.parse({"count": "3", "flag": "yes", "mode": "b", "disk2": "x", "vmid": "100"})
    assert parsed == {"count": 3, "flag": True, "mode": "b", "disk2": "x", "vmid": 100}
    with pytest.raises(ParameterError) as info:
        SAMPLE.parse({"count": "11", "flag": "maybe", "mode": "c", "disk4": "x"})
    assert set(info.value.errors) == {"count", "flag", "mode", "disk4"}
    assert info.value.errors["count"].reason == "value must have a maximum value of 10"
    assert "unknown option" in info.value.errors["disk4"].reason


@pytest.mark.parametrize("word", ["1", "on", "YES", "True"])
def test_booleans_as_proxmox_spells_them(word: str) -> None:
    assert SAMPLE.parse({"count": 1, "flag": word})["flag"] is True


def test_missing_required_and_json_values() -> None:
    with pytest.raises(ParameterError) as info:
        SAMPLE.parse({})
    assert info.value.errors["count"].reason == "property is missing and it is not optional"
    assert SAMPLE.parse({"count": 5, "flag": False}) == {"count": 5, "flag": False}
    assert SAMPLE.parse({}, partial=True) == {}


def test_json_schema_lists_indexed_keys() -> None:
    doc = SAMPLE.json_schema()
    assert doc["required"] == ["count"]
    assert {"disk0", "disk3"} <= set(doc["properties"]) and "disk4" not in doc["properties"]
    assert doc["properties"]["mode"]["enum"] == ["a", "b"]


def _commands() -> list[tuple[str, argparse.ArgumentParser]]:
    parser = build_parser()
    found: list[tuple[str, argparse.ArgumentParser]] = []

    def walk(prefix: str, node: argparse.ArgumentParser) -> None:
        subs = [a for a in node._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            found.append((prefix, node))
            return
        for name, child in subs[0].choices.items():
            walk(f"{prefix} {name}".strip(), child)

    walk("", parser)
    return found


def test_every_cli_option_comes_from_the_schema() -> None:
    commands = _commands()
    assert {name.split()[0] for name, _ in commands} == set(COMMANDS)
    for name, parser in commands:
        schema = parser.get_default(SCHEMA_KEY)
        assert isinstance(schema, Schema), f"{name} is not built from a schema"
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            keys = [o[2:] for o in action.option_strings] or [str(action.metavar)]
            for key in keys:
                assert schema.find(key) is not None, f"{name}: {key} is not in its schema"


def test_every_vzdump_option_is_accepted_in_vzdump_conf_and_nothing_else() -> None:
    values = {
        "vmid": "100",
        "node": "pve",
        "compress": "zstd",
        "mode": "stop",
        "exclude": "101",
        "mailto": "a@b.example",
        "mailnotification": "failure",
        "notification-mode": "auto",
        "notification-policy": "always",
        "notification-target": "mail",
        "storage": "local",
        "prune-backups": "keep-last=1",
        "performance": "max-workers=4",
        "fleecing": "enabled=1,storage=local",
        "pbs-change-detection-mode": "data",
        "notes-template": "{{guestname}}",
        "tmpdir": "/tmp",
        "script": "/bin/true",
        "pool": "p",
        "exclude-path": "/tmp",
    }
    for param in VZDUMP_OPTIONS:
        if param.name in ("vmid", "all", "exclude", "dumpdir"):
            continue
        value = values.get(param.name, "1")
        parse_options({"vmid": "100"}, {param.name: value})  # vzdump.conf's line is taken
    with pytest.raises(InputError, match="unknown vzdump option"):
        parse_options({"vmid": "100", "colour": "red"}, {})
    # as Proxmox, an unknown key in vzdump.conf is a warning of the job, not an error
    opts = parse_options({"vmid": "100"}, {"colour": "red"})
    assert opts.warnings == ["vzdump.conf: ignoring unknown option 'colour'"]


def test_vm_config_keys_are_the_schemas(tmp_path: Path) -> None:
    service = VmConfigService(Node(tmp_path, "pve"))
    samples = {"memory": "64", "name": "web", "cores": "2", "onboot": "yes", "tags": "a;b"}
    assert service._normalise(samples) == {**samples, "onboot": "1"}
    for key in ("colour", "unused0", "scsi31", "virtio16", "net32"):
        with pytest.raises(InputError):
            service._normalise({key: "x"})
    assert {p.name for p in VM_CONFIG} >= {"memory", "scsi", "virtio", "sata", "ide", "net"}
