from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from respaldo.config.sectionconfig import Section, format_sections, parse_sections
from respaldo.errors import ConfigError
from tests.conftest import FIXTURES


def test_storage_cfg_round_trips() -> None:
    text = (FIXTURES / "config" / "storage.cfg").read_text()
    sections = parse_sections(text)
    assert [(s.type, s.id) for s in sections] == [
        ("dir", "local"),
        ("lvmthin", "local-lvm"),
        ("dir", "backups"),
    ]
    assert sections[0].properties["prune-backups"] == "keep-last=3"
    assert format_sections(sections) == text


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("dir: local\n\tpath /a\n\ndir: local\n\tpath /b\n", 4, "duplicate section id 'local'"),
        ("\tpath /a\n", 1, "property outside of a section"),
        ("dir local\n", 1, "expected '<type>: <id>'"),
        ("dir: a\n\tpath /x\n\tpath /y\n", 3, "duplicate property 'path'"),
    ],
)
def test_errors_name_line_and_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_sections(text, "storage.cfg")
    assert info.value.line == line and reason in str(info.value)


ident = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)
value = st.from_regex(r"[A-Za-z0-9/=,._-]{1,20}", fullmatch=True)


@given(
    st.dictionaries(ident, st.tuples(ident, st.dictionaries(ident, value, max_size=5)), max_size=5)
)
def test_sections_round_trip(data: dict[str, tuple[str, dict[str, str]]]) -> None:
    sections = [Section(kind, sid, props) for sid, (kind, props) in data.items()]
    text = format_sections(sections)
    assert parse_sections(text) == sections


def test_repeatable_keys_keep_every_line() -> None:
    text = "vzdump: a\n\tschedule daily\n\texclude-path /tmp\n\texclude-path /var/cache\n"
    sections = parse_sections(text, repeatable=("exclude-path",))
    assert sections[0].properties["exclude-path"] == "/tmp\n/var/cache"
    assert format_sections(sections) == text
    with pytest.raises(ConfigError, match="duplicate property 'schedule'"):
        parse_sections(text + "\tschedule hourly\n", repeatable=("exclude-path",))
