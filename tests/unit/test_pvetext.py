"""Free text in Proxmox files: encoded and decoded as pve-common's encode_text/decode_text."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from respaldo.cli.qm import cmd_config
from respaldo.config.pvetext import decode_text, encode_text
from respaldo.config.vmconfig import VmConfig
from respaldo.node import Node


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("Web server: prod", "Web server%3A prod"),
        ("100% up", "100%25 up"),
        ("café", "caf%C3%A9"),
        ("tab\there", "tab%09here"),
        ("a,b=c;d#e 'f' \"g\" ~", "a,b=c;d#e 'f' \"g\" ~"),  # printable ASCII stays
        ("\x7f", "%7F"),
    ],
)
def test_encode_text_as_pve_common(text: str, encoded: str) -> None:
    assert encode_text(text) == encoded
    assert decode_text(encoded) == text


@given(st.text())
def test_decoding_undoes_encoding(text: str) -> None:
    encoded = encode_text(text)
    assert "\n" not in encoded and ":" not in encoded
    assert decode_text(encoded) == text


def test_decode_accepts_lower_case_hex_and_bad_utf8() -> None:
    assert decode_text("a%3ab") == "a:b"
    assert decode_text("%FF") == "\ufffd"


def test_the_description_is_read_decoded_and_written_encoded() -> None:
    config = VmConfig.parse(100, "#Web server%3A prod\n#second%25 line\nmemory: 512\n")
    assert config.description == "Web server: prod\nsecond% line"
    config.set_description("Web server: test\ncafé")
    assert config.format() == "#Web server%3A test\n#caf%C3%A9\nmemory: 512\n"


def test_an_older_description_line_is_part_of_the_description_and_replaced_by_comments() -> None:
    config = VmConfig.parse(100, "memory: 512\ndescription: old%3A text\n")
    assert config.description == "old: text"
    config.set_description("new")
    assert config.format() == "#new\nmemory: 512\n"


def test_trailing_blank_description_lines_are_dropped_as_proxmox_does() -> None:
    assert VmConfig.parse(100, "#text\n#\n#  \nmemory: 1\n").description == "text"


def _qm_config(home: Path, fmt: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        cmd_config({"vmid": 100, "output-format": fmt}, Node(home, "n"))
    return out.getvalue()


def test_qm_config_shows_the_description_as_proxmox(tmp_path: Path) -> None:
    """PVE/CLI/qm.pm prints the description encoded again (one line); the JSON output and the
    API give the decoded text."""
    folder = tmp_path / "config" / "qemu-server"
    folder.mkdir(parents=True)
    (folder / "100.conf").write_text("#Web server%3A prod\n#line 2\nmemory: 512\ncores: 1\n")
    assert _qm_config(tmp_path, "text") == (
        "cores: 1\ndescription: Web server%3A prod%0Aline 2\nmemory: 512\n"
    )
    data = json.loads(_qm_config(tmp_path, "json"))
    assert data["description"] == "Web server: prod\nline 2"
