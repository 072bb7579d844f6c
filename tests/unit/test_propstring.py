from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from respaldo.config.propstring import format_propstring, format_size, parse_propstring, parse_size
from respaldo.errors import InputError


def test_disk_string_keeps_order_and_unknown_keys() -> None:
    text = "local:100/vm-100-disk-0.qcow2,iothread=1,size=32G,backup=0"
    props = parse_propstring(text, "file", "scsi0")
    assert list(props) == ["file", "iothread", "size", "backup"]
    assert format_propstring(props, "file") == text


@pytest.mark.parametrize(
    ("text", "size"),
    [("32G", 32 << 30), ("512M", 512 << 20), ("1T", 1 << 40), ("4096", 4096), ("1.5G", 3 << 29)],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "abc", "12X", "-1G", "1.3333K"])
def test_bad_sizes_are_named(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_size(text, "scsi0 size")
    assert info.value.name == "scsi0 size" and info.value.value == text


def test_size_default_unit_kib_as_pvesm_alloc() -> None:
    assert parse_size("4", default_unit="K") == 4096


@given(st.integers(min_value=0, max_value=1 << 50))
def test_size_format_round_trip(size: int) -> None:
    assert parse_size(format_size(size)) == size


@pytest.mark.parametrize("text", ["a,,b", "file,x", "k=1,k=2"])
def test_bad_property_strings(text: str) -> None:
    with pytest.raises(InputError):
        parse_propstring(text, "file", "scsi0")
