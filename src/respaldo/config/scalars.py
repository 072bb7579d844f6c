"""Scalar values as Proxmox's schema reads them (pve-common ``PVE/JSONSchema.pm``).

Booleans are ``1|on|yes|true`` and ``0|off|no|false``, in any case (``parse_boolean``);
integers are optionally signed decimal digits; numbers are decimal. Nothing else is taken:
no surrounding white space, no trailing line break (which Perl's ``$`` lets through): a
value that reaches a file or a path is exactly the one checked.
"""

from __future__ import annotations

import re

TRUE_WORDS = ("1", "on", "yes", "true")
FALSE_WORDS = ("0", "off", "no", "false")
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def parse_boolean(text: str) -> bool | None:
    """``True``/``False`` for Proxmox's spellings, ``None`` for anything else."""
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def parse_integer(text: str) -> int | None:
    """The integer ``text`` spells (ASCII digits, optional sign), else ``None``."""
    return int(text) if _INTEGER.fullmatch(text) else None


def parse_number(text: str) -> float | None:
    """The decimal number ``text`` spells, else ``None``."""
    return float(text) if _NUMBER.fullmatch(text) else None
