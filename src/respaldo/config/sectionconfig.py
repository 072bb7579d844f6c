"""Proxmox "section config" files: ``storage.cfg`` and ``jobs.cfg``.

::

    dir: local
            path /var/lib/vz
            content iso,vztmpl,backup

A section starts with ``<type>: <id>``; its properties follow, indented, as ``key value``.
Sections are separated by blank lines. Unknown types and keys are kept as they are.

A property of array type (``exclude-path`` in ``jobs.cfg``) is one line per element; the
parser joins the lines of such a key, named by the caller, with ``\\n`` (a character no value
can hold), and ``Section.format`` writes each element on a line of its own again
(pve-common ``PVE/SectionConfig.pm``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from respaldo.errors import ConfigError

_HEADER = re.compile(r"^([a-z][a-z0-9_-]*):\s+(\S+)\s*$")
_PROPERTY = re.compile(r"^\s+([a-z][a-z0-9_-]*)(?:\s+(.*?))?\s*$")


@dataclass
class Section:
    type: str
    id: str
    properties: dict[str, str] = field(default_factory=dict)

    def format(self) -> str:
        lines = [f"{self.type}: {self.id}\n"]
        for key, value in self.properties.items():
            for element in value.split("\n"):
                lines.append(f"\t{key} {element}\n" if element else f"\t{key}\n")
        return "".join(lines)


def parse_sections(
    text: str, path: Path | str = "<string>", repeatable: Collection[str] = ()
) -> list[Section]:
    """The sections of ``text``; a key in ``repeatable`` may appear on several lines, whose
    values are joined with ``\\n``. Raises ConfigError naming the line."""
    sections: list[Section] = []
    current: Section | None = None
    seen: set[str] = set()
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            current = None
            continue
        if raw.lstrip().startswith("#"):
            continue
        header = _HEADER.match(raw)
        if header:
            kind, ident = header.groups()
            if ident in seen:
                raise ConfigError(path, lineno, f"duplicate section id '{ident}'")
            seen.add(ident)
            current = Section(kind, ident)
            sections.append(current)
            continue
        prop = _PROPERTY.match(raw)
        if prop is None:
            raise ConfigError(
                path, lineno, f"expected '<type>: <id>' or an indented property, got {raw!r}"
            )
        if current is None:
            raise ConfigError(path, lineno, f"property outside of a section: {raw.strip()!r}")
        key, value = prop.group(1), prop.group(2) or ""
        if key in current.properties and key in repeatable:
            current.properties[key] += "\n" + value
            continue
        if key in current.properties:
            raise ConfigError(path, lineno, f"duplicate property '{key}' in section '{current.id}'")
        current.properties[key] = value
    return sections


def format_sections(sections: list[Section]) -> str:
    return "\n".join(section.format() for section in sections)
