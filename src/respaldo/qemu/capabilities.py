"""What the installed QEMU offers: its version, machine types and CPU models.

Asked once per process and binary (``qemu-system-x86_64 --version``, ``-machine help``,
``-cpu help``), so that ``qm start`` can refuse a machine type or CPU model this QEMU does not
have with a message naming the config key, instead of QEMU's own error.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from respaldo.errors import QemuError
from respaldo.runner import run

_VERSION = re.compile(r"version ((\d+)\.(\d+)(?:\.\d+)?)")
_ALIAS = re.compile(r"\(alias of ([^)\s]+)\)")


@dataclass(frozen=True)
class QemuCapabilities:
    """``machines`` maps every machine type name to the versioned type it stands for (``pc``
    -> ``pc-i440fx-7.2``; a versioned one to itself); ``cpu_models`` are the ``-cpu`` names."""

    version: tuple[int, int]
    machines: Mapping[str, str]
    cpu_models: frozenset[str]
    full_version: str = ""  # "7.2.22"


def parse_version(text: str) -> tuple[tuple[int, int], str]:
    """``QEMU emulator version 7.2.22 (...)`` -> ((7, 2), "7.2.22")."""
    match = _VERSION.search(text)
    if match is None:
        raise QemuError(f"cannot read the QEMU version from {text.strip()!r}")
    return (int(match.group(2)), int(match.group(3))), match.group(1)


def parse_machines(text: str) -> dict[str, str]:
    """``-machine help`` -> name -> versioned name."""
    machines: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        name, _, rest = line.strip().partition(" ")
        if not name:
            continue
        alias = _ALIAS.search(rest)
        machines[name] = alias.group(1) if alias else name
    return machines


def parse_cpu_models(text: str) -> frozenset[str]:
    """``-cpu help`` -> the model names (lines ``x86 <name> ...`` before the flags)."""
    models = set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "x86":
            models.add(parts[1])
    return frozenset(models)


@functools.cache
def query(qemu: str) -> QemuCapabilities:
    """The capabilities of the QEMU binary ``qemu`` (cached); QemuError when it does not run."""
    version, full = parse_version(run([qemu, "--version"], timeout=30))
    return QemuCapabilities(
        version,
        parse_machines(run([qemu, "-machine", "help"], timeout=30)),
        parse_cpu_models(run([qemu, "-cpu", "help"], timeout=30)),
        full,
    )


def host_virt_flag(cpuinfo: Path = Path("/proc/cpuinfo")) -> str | None:
    """``vmx`` (Intel) or ``svm`` (AMD) when the host CPU has it: what ``nested-virt`` means."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return None
    match = re.search(r"^flags\s*:.*\b(vmx|svm)\b", text, re.MULTILINE)
    return match.group(1) if match else None
