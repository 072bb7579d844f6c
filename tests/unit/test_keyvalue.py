"""VM config and vzdump.conf files: round trips of real-shaped files, errors, properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from respaldo.config.keyvalue import parse_keyvalue
from respaldo.config.vmconfig import VmConfig
from respaldo.errors import ConfigError
from tests.conftest import FIXTURES


@pytest.mark.parametrize("name", ["100.conf", "vzdump.conf"])
def test_proxmox_file_round_trips_byte_for_byte(name: str) -> None:
    text = (FIXTURES / "config" / name).read_text()
    assert parse_keyvalue(text).format() == text


def test_vm_config_views_of_a_proxmox_file() -> None:
    config = VmConfig.parse(100, (FIXTURES / "config" / "100.conf").read_text())
    assert config.description == "Web server of the accounting team\n  second line, indented"
    assert config.memory == 2048
    assert config.name == "web"
    assert [d.key for d in config.disks()] == ["scsi0", "scsi1"]
    assert [d.key for d in config.drives()] == ["ide2", "scsi0", "scsi1"]
    scsi1 = config.drive("scsi1")
    assert scsi1 is not None and not scsi1.backup and scsi1.size == 4 << 30
    assert config.nets()[0].mac == "BC:24:11:AA:BB:CC"
    assert config.unused_volumes() == [("unused0", "local:100/vm-100-disk-2.qcow2")]
    assert config.default_boot_devices() == ["scsi0", "ide2", "net0"]
    assert [name for name, _ in config.data.sections] == ["before-upgrade", "PENDING"]


def test_changing_a_value_keeps_position_unknown_keys_and_sections() -> None:
    text = (FIXTURES / "config" / "100.conf").read_text()
    config = VmConfig.parse(100, text)
    config.set("memory", "4096")
    out = config.format()
    assert out == text.replace("memory: 2048\nmeta", "memory: 4096\nmeta", 1)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("name: a\nthis is not an option\n", 2, "expected 'key: value'"),
        ("name: a\nname: b\n", 2, "duplicate key 'name'"),
        ("memory: 1\nNAME: x\n", 2, "expected 'key: value'"),
    ],
)
def test_malformed_lines_name_file_and_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_keyvalue(text, "/etc/pve/qemu-server/100.conf")
    assert info.value.line == line
    assert reason in str(info.value)
    assert f"100.conf, line {line}" in str(info.value)


def test_sections_refused_in_flat_files() -> None:
    with pytest.raises(ConfigError, match="sections are not allowed"):
        parse_keyvalue("mode: stop\n[x]\n", "vzdump.conf", sections=False)


keys = st.from_regex(r"[a-z][a-z0-9_-]{0,12}", fullmatch=True)
values = st.from_regex(
    r"[A-Za-z0-9=,:;/._-]([A-Za-z0-9=,:;/._ -]{0,30}[A-Za-z0-9=,:;/._-])?", fullmatch=True
)
comments = st.from_regex(r"[^\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]{0,40}", fullmatch=True)
sections = st.dictionaries(keys, values, max_size=8)


@given(
    description=st.lists(comments, max_size=3),
    main=sections,
    named=st.dictionaries(
        st.from_regex(r"[A-Za-z0-9_-]{1,10}", fullmatch=True), sections, max_size=3
    ),
)
def test_canonical_files_round_trip(
    description: list[str], main: dict[str, str], named: dict[str, dict[str, str]]
) -> None:
    text = "".join(f"#{c}\n" for c in description)
    text += "".join(f"{k}: {v}\n" for k, v in main.items())
    for name, options in named.items():
        text += f"\n[{name}]\n" + "".join(f"{k}: {v}\n" for k, v in options.items())
    parsed = parse_keyvalue(text)
    assert parsed.format() == text
    assert parsed.main.as_dict() == main


@given(st.text(max_size=200))
def test_parser_raises_only_config_errors(text: str) -> None:
    try:
        parsed = parse_keyvalue(text)
    except ConfigError:
        return
    assert parse_keyvalue(parsed.format()).format() == parsed.format()
