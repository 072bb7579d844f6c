from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from proxmoxer.tools import Tasks  # type: ignore[import-untyped]

from respaldo.errors import BadUpid, InputError
from respaldo.tasks.proc import ProcStat, is_running, parse_stat, process_start, read_stat
from respaldo.tasks.upid import UPID, decode, encode, split_tokenid

# pve-common test/upid-test.pl: (text, fields).
PROXMOX_EXAMPLES = [
    (
        "UPID:example-node:0000C346:165A0CE4:68D7279C:aptupdate::root@pam:",
        UPID("example-node", 49990, 375000292, 1758930844, "aptupdate", "", "root@pam"),
    ),
    (
        "UPID:example-node:000934AF:0D015579:68BF3A41:hastart:100:root@pam:",
        UPID("example-node", 603311, 218191225, 1757362753, "hastart", "100", "root@pam"),
    ),
    (
        "UPID:example-node:000934AF:0D015579:68BF3A41:vzdump:100:"
        "91a1da29-a47d-11f0-84e0-fafbfc944d00@pam!some-token:",
        UPID(
            "example-node",
            603311,
            218191225,
            1757362753,
            "vzdump",
            "100",
            "91a1da29-a47d-11f0-84e0-fafbfc944d00@pam!some-token",
        ),
    ),
    (
        "UPID:example-node:000934AF:FFFFFFFFF:68BF3A41:fake-but-valid-type:100:root@pam:",
        UPID(
            "example-node",
            603311,
            68719476735,
            1757362753,
            "fake-but-valid-type",
            "100",
            "root@pam",
        ),
    ),
]


@pytest.mark.parametrize(("text", "upid"), PROXMOX_EXAMPLES)
def test_proxmox_examples_decode_and_encode_back(text: str, upid: UPID) -> None:
    assert decode(text) == upid
    assert encode(upid) == text
    assert str(upid) == text


@pytest.mark.parametrize(
    "text",
    [
        "UPID:example-node:000934AF:0D015579:68BF3A41:broken type string:100:root@pam:",
        "invalid garbage",
        "UPID:example-node:000934AF:0D015579:68BF3A41:vzdump:100:root@pam",  # no trailing colon
        "UPID:-node:000934AF:0D015579:68BF3A41:vzdump:100:root@pam:",
        "UPID:node:934AF:0D015579:68BF3A41:vzdump:100:root@pam:",  # pid not 8 digits
        "UPID:node:000934AF:0D015579:68BF3A41:vzdump:a/b:root@pam:",
        "UPID:node:000934AF:0D015579:68BF3A41:vzdump:100::",  # no user
    ],
)
def test_bad_upids_are_refused_with_proxmoxs_words(text: str) -> None:
    with pytest.raises(BadUpid) as info:
        decode(text)
    assert info.value.name == "upid"
    assert info.value.reason == "unable to parse worker upid"
    assert isinstance(info.value, InputError)


def test_encode_is_upper_case_zero_padded_with_trailing_colon() -> None:
    upid = UPID("pve", 0xA2B3, 0xC0FFEE, 0x66A1B2C3, "vzdump", "100", "root@pam")
    assert encode(upid) == "UPID:pve:0000A2B3:00C0FFEE:66A1B2C3:vzdump:100:root@pam:"


def test_lower_case_hex_decodes() -> None:
    upid = decode("UPID:pve:0000a2b3:00c0ffee:66a1b2c3:vzdump:100:root@pam:")
    assert (upid.pid, upid.pstart, upid.starttime) == (0xA2B3, 0xC0FFEE, 0x66A1B2C3)


@pytest.mark.parametrize(
    ("field", "value"),
    [("node", "bad_node"), ("type", "a b"), ("id", "1:2"), ("user", ""), ("pid", 1 << 32)],
)
def test_fields_that_would_not_decode_are_refused(field: str, value: object) -> None:
    fields: dict[str, object] = {
        "node": "pve",
        "pid": 1,
        "pstart": 2,
        "starttime": 3,
        "type": "vzdump",
        "id": "100",
        "user": "root@pam",
    }
    fields[field] = value
    with pytest.raises(InputError) as info:
        UPID(**fields)  # type: ignore[arg-type]
    assert info.value.name == field


def test_token_user_is_split() -> None:
    assert split_tokenid("root@pam!backup") == ("root@pam", "backup")
    assert split_tokenid("root@pam") == ("root@pam", None)
    upid = decode(PROXMOX_EXAMPLES[2][0])
    assert upid.userid == "91a1da29-a47d-11f0-84e0-fafbfc944d00@pam"
    assert upid.tokenid == "some-token"


def test_log_path_uses_last_hex_digit_of_starttime() -> None:
    upid = decode(PROXMOX_EXAMPLES[0][0])
    assert upid.log_path(Path("/t")) == Path("/t/C") / PROXMOX_EXAMPLES[0][0]


NAMES = st.from_regex(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,10}[a-zA-Z0-9])?", fullmatch=True)
WORDS = st.from_regex(r"[^:\s/]{1,20}", fullmatch=True)


@given(
    node=NAMES,
    pid=st.integers(0, 0xFFFFFFFF),
    pstart=st.integers(0, 0xFFFFFFFFF),
    starttime=st.integers(0, 0xFFFFFFFF),
    type_=WORDS,
    id_=st.one_of(st.just(""), WORDS),
    user=WORDS,
)
def test_round_trip_and_proxmoxer_reads_ours(
    node: str, pid: int, pstart: int, starttime: int, type_: str, id_: str, user: str
) -> None:
    upid = UPID(node, pid, pstart, starttime, type_, id_, user)
    text = encode(upid)
    assert decode(text) == upid
    seen = Tasks.decode_upid(text)
    assert (seen["node"], seen["pid"], seen["pstart"], seen["starttime"]) == (
        node,
        pid,
        pstart,
        starttime,
    )
    assert (seen["type"], seen["id"], seen["user"]) == (type_, id_, user.partition("!")[0])


def test_own_process_is_running_and_a_changed_start_is_not() -> None:
    pstart = process_start(os.getpid())
    assert pstart is not None and pstart > 0
    assert is_running(os.getpid(), pstart)
    assert not is_running(os.getpid(), pstart + 1)  # the pid reused by another process


def test_stat_with_spaces_and_parentheses_in_the_name() -> None:
    line = b"4242 (a ) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 1 2 3\n"
    assert parse_stat(line) == ProcStat("S", 987654)
    assert parse_stat(b"4242 (x) Z") is None  # cut short


def test_a_missing_process_has_no_stat() -> None:
    assert read_stat(0x7FFFFFFF) is None
    assert process_start(0x7FFFFFFF) is None
