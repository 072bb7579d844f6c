"""The UPID: the name of a task, from which its process, start and log file can be read.

Format (pve-common ``src/PVE/UPID.pm``)::

    UPID:{node}:{pid:08X}:{pstart:08X}:{starttime:08X}:{type}:{id}:{user}:

``pid`` is the task process, ``pstart`` its start time in clock ticks since boot (field 22 of
``/proc/<pid>/stat``; 9 hex digits after about 497 days of uptime), ``starttime`` the epoch
second the task started. The trailing colon is part of the format: proxmoxer's
``Tasks.decode_upid`` wants exactly nine ``:``-separated segments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from respaldo.errors import BadUpid, InputError

# pve-common PVE/UPID.pm, decode().
UPID_RE = re.compile(
    r"^UPID:([a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):"
    r"([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$"
)

_NODE_RE = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?")
_TYPE_RE = re.compile(r"[^:\s/]+")
_ID_RE = re.compile(r"[^:\s/]*")
# pve-access-control: PVE/Auth/Plugin.pm user_regex, realm_regex; PVE/AccessControl.pm
# token_full_regex (the token id uses the realm's pattern).
_TOKEN_RE = re.compile(r"([^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+)!([A-Za-z][A-Za-z0-9.\-_]+)")

_MAX_8_HEX = 0xFFFFFFFF
_MAX_9_HEX = 0xFFFFFFFFF


def _check(name: str, value: str, pattern: re.Pattern[str], valid: str) -> None:
    if not pattern.fullmatch(value):
        raise InputError(name, value, valid)


def _check_range(name: str, value: int, top: int) -> None:
    if not 0 <= value <= top:
        raise InputError(name, value, f"must be between 0 and {top:#X}")


@dataclass(frozen=True)
class UPID:
    """One task's identity. ``user`` is ``user@realm`` or, for API tokens,
    ``user@realm!tokenid``. Fields are checked so that every UPID made encodes to a text that
    decodes back to it; a bad field raises :class:`~respaldo.errors.InputError`."""

    node: str
    pid: int
    pstart: int
    starttime: int
    type: str
    id: str
    user: str

    def __post_init__(self) -> None:
        _check("node", self.node, _NODE_RE, "letters, digits and inner '-' only")
        _check("type", self.type, _TYPE_RE, "non-empty, without ':', '/' or whitespace")
        _check("id", self.id, _ID_RE, "without ':', '/' or whitespace")
        _check("user", self.user, _TYPE_RE, "non-empty, without ':', '/' or whitespace")
        _check_range("pid", self.pid, _MAX_8_HEX)
        _check_range("pstart", self.pstart, _MAX_9_HEX)
        _check_range("starttime", self.starttime, _MAX_8_HEX)

    def __str__(self) -> str:
        return encode(self)

    @property
    def userid(self) -> str:
        """The user without the token: ``user@realm``."""
        return split_tokenid(self.user)[0]

    @property
    def tokenid(self) -> str | None:
        """The API token's id when a token started the task, else None."""
        return split_tokenid(self.user)[1]

    @property
    def log_subdir(self) -> str:
        """The log's folder under ``tasks/``: the last hex digit of ``starttime``."""
        return f"{self.starttime:08X}"[-1]

    def log_path(self, task_dir: Path) -> Path:
        """``<task_dir>/<last hex digit of starttime>/<UPID>``, as Proxmox keeps it."""
        return task_dir / self.log_subdir / encode(self)


def encode(upid: UPID) -> str:
    """The UPID text: upper-case hex, zero-padded to 8 digits, and the trailing colon."""
    return (
        f"UPID:{upid.node}:{upid.pid:08X}:{upid.pstart:08X}:{upid.starttime:08X}:"
        f"{upid.type}:{upid.id}:{upid.user}:"
    )


def decode(text: str) -> UPID:
    """Parse a UPID text; raises :class:`~respaldo.errors.BadUpid` ("unable to parse worker
    upid") when it does not match Proxmox's pattern. Hex digits may be of either case."""
    match = UPID_RE.match(text)
    if match is None:
        raise BadUpid(text)
    node, pid, pstart, starttime, type_, id_, user = match.groups()
    return UPID(node, int(pid, 16), int(pstart, 16), int(starttime, 16), type_, id_, user)


def split_tokenid(user: str) -> tuple[str, str | None]:
    """``user@realm!tokenid`` -> (``user@realm``, ``tokenid``); a plain user -> (user, None)."""
    match = _TOKEN_RE.fullmatch(user)
    if match is None:
        return user, None
    return match.group(1), match.group(2)
