"""Proxmox property strings: ``local:100/vm-100-disk-0.qcow2,size=32G,backup=0``.

A comma-separated list of ``key=value`` pairs where the first element may omit its key (the
"default key": ``file`` for a disk, the model for ``netN`` whose value is the MAC). Order and
unknown keys are kept, so a value rewritten by respaldo keeps what it did not change.
"""

from __future__ import annotations

import re

from respaldo.errors import InputError

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:iB)?)?$")
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_propstring(text: str, default_key: str | None, what: str) -> dict[str, str]:
    """Parse into an ordered dict; the keyless first element goes under ``default_key``."""
    result: dict[str, str] = {}
    for index, part in enumerate(text.split(",")):
        if not part:
            raise InputError(what, text, "empty element in property string")
        key, sep, value = part.partition("=")
        if not sep:
            if index != 0 or default_key is None:
                raise InputError(what, text, f"'{part}' has no 'key=' (expected key=value)")
            key, value = default_key, part
        if key in result:
            raise InputError(what, text, f"duplicate key '{key}'")
        result[key] = value
    return result


def format_propstring(props: dict[str, str], default_key: str | None) -> str:
    parts: list[str] = []
    for key, value in props.items():
        parts.append(value if key == default_key and not parts else f"{key}={value}")
    return ",".join(parts)


def parse_size(text: str, what: str = "size", default_unit: str = "") -> int:
    """``32G`` (or ``32GiB``) -> bytes. Units K, M, G, T are powers of 1024, as in Proxmox."""
    match = _SIZE.match(text.strip())
    if not match:
        raise InputError(what, text, "expected a number with an optional unit K, M, G or T")
    number, unit = match.groups()
    size = float(number) * _UNITS[unit or default_unit]
    if size != int(size):
        raise InputError(what, text, "not a whole number of bytes")
    return int(size)


def format_size(size: int) -> str:
    """Bytes -> the largest exact Proxmox unit (``34359738368`` -> ``32G``)."""
    for unit in ("T", "G", "M", "K"):
        factor = _UNITS[unit]
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)
