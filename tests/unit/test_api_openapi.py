"""The OpenAPI document's patterns for names say what the server's parsers take."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import respaldo.api.methods  # registers every format
from respaldo.api.openapi import FORMAT_PATTERNS, document
from respaldo.config.schema import FORMATS
from respaldo.errors import InputError

#: The lengths the parameters of these formats allow (their maxLength).
MAX_LENGTH = 64


@pytest.mark.parametrize("name", sorted(FORMAT_PATTERNS))
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_a_name_the_pattern_allows_is_one_the_server_takes(name: str, data: st.DataObject) -> None:
    pattern = f"^(?:{FORMAT_PATTERNS[name]})$"
    text = data.draw(st.from_regex(pattern, fullmatch=True).filter(lambda t: len(t) <= MAX_LENGTH))
    FORMATS[name].parse(text, name)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pve-configid", "1job"),
        ("pve-storage-id", "Local"),
        ("pve-node", "-pve"),
        ("pve-userid", "joe"),
        ("pve-userid", "jo e@pve"),
        ("pve-userid", "jo\0e@pve"),
        ("pve-groupid", "ops/dev"),
        ("pve-tokenid", "joe@pve"),
    ],
)
def test_a_name_the_pattern_refuses_the_server_refuses(name: str, text: str) -> None:
    assert not re.fullmatch(FORMAT_PATTERNS[name], text)
    with pytest.raises(InputError):
        FORMATS[name].parse(text, name)


def test_every_name_parameter_carries_its_pattern() -> None:
    doc = document(respaldo.api.methods.all_methods(), "/api2/json")
    for path, operations in doc["paths"].items():
        for operation in operations.values():
            params = [p["schema"] for p in operation.get("parameters", [])]
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                params += list(media["schema"]["properties"].values())
            for schema in params:
                if schema.get("x-format") in FORMAT_PATTERNS:
                    assert schema["pattern"].startswith("^"), (path, schema)
