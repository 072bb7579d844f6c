"""Notes templates: checked and rendered as pve-manager ``PVE/VZDump.pm`` does.

A template is one line; ``\\n`` stands for a line break and ``\\\\`` for a backslash (each
read once, left to right), and ``{{cluster}}``, ``{{guestname}}``, ``{{node}}`` and
``{{vmid}}`` for their values. Any other escape or variable is refused, naming each with its
position (``found unknown: escape sequence '\\t' at char 5, variable 'foo' at char 12``).
"""

from __future__ import annotations

import re

from respaldo.errors import InputError

VARIABLES = ("cluster", "guestname", "node", "vmid")
#: What ``{{cluster}}`` is on a node that belongs to no cluster (Proxmox's words).
STANDALONE = "standalone node"

_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_VARIABLE = re.compile(r"\{\{([^\s{}]+)\}\}")
_KNOWN_VARIABLE = re.compile(r"\{\{(" + "|".join(VARIABLES) + r")\}\}")


def check_notes_template(template: str, key: str = "notes-template") -> str:
    """``template`` if Proxmox would render it; else InputError named ``key`` with Proxmox's
    reason (``contains a line feed``, ``found unknown: ...``)."""
    if "\n" in template:
        raise InputError(key, template, "contains a line feed")
    problems = [
        f"escape sequence '\\{m.group(1)}' at char {m.start()}"
        for m in _ESCAPE.finditer(template)
        if m.group(1) not in ("n", "\\")
    ]
    # Proxmox's position of a variable is where its match ends less the name's length
    problems += [
        f"variable '{m.group(1)}' at char {m.end() - len(m.group(1))}"
        for m in _VARIABLE.finditer(template)
        if m.group(1) not in VARIABLES
    ]
    if problems:
        raise InputError(key, template, f"found unknown: {', '.join(problems)}")
    return template


def render_notes(template: str, *, cluster: str, guestname: str, node: str, vmid: int) -> str:
    """The notes of one backup: escapes read once (``\\\\`` a backslash, ``\\n`` a line
    break), then the variables replaced. Raises InputError as :func:`check_notes_template`."""
    check_notes_template(template)
    values = {"cluster": cluster, "guestname": guestname, "node": node, "vmid": str(vmid)}
    text = _ESCAPE.sub(lambda m: "\\" if m.group(1) == "\\" else "\n", template)
    return _KNOWN_VARIABLE.sub(lambda m: values[m.group(1)], text)
