"""Proxmox-style free options: ``--memory 512 --scsi0 local:4`` -> {"memory": "512", ...}."""

from __future__ import annotations

from respaldo.errors import InputError


def parse_pairs(args: list[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("-") or arg in ("-", "--"):
            raise InputError("argument", arg, "expected an option such as --memory 512")
        key, sep, value = arg.lstrip("-").partition("=")
        if not sep:
            if i + 1 >= len(args):
                raise InputError(f"--{key}", "", "the option needs a value")
            value = args[i + 1]
            i += 1
        if key in result:
            raise InputError(f"--{key}", value, "given twice")
        result[key] = value
        i += 1
    return result
