"""Proxmox ``key: value`` files: VM configs (``qemu-server/<vmid>.conf``) and ``vzdump.conf``.

The model keeps every line it understood, in order, so that a file written by Proxmox comes
back byte for byte: comments (the VM description), unknown keys, and the sections that follow
the main one (snapshots, ``[PENDING]``, ``[special:cloudinit]``), which respaldo carries along
without interpreting.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from respaldo.errors import ConfigError, InputError

_OPTION = re.compile(r"^([a-z][a-z0-9_-]*):\s*(.*?)\s*$")
_SECTION = re.compile(r"^\[([^\[\]\s]+)\]\s*$")


@dataclass
class Comment:
    text: str  # without the leading '#'


@dataclass
class Option:
    key: str
    value: str


Line = Comment | Option


@dataclass
class KeyValueSection:
    """An ordered list of options and comments. Keys are unique within a section."""

    lines: list[Line] = field(default_factory=list)

    def get(self, key: str, default: str | None = None) -> str | None:
        for line in self.lines:
            if isinstance(line, Option) and line.key == key:
                return line.value
        return default

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def set(self, key: str, value: str) -> None:
        """Replace the value in place (keeping its position) or append a new option."""
        check_one_line(key, value)
        for line in self.lines:
            if isinstance(line, Option) and line.key == key:
                line.value = value
                return
        self.lines.append(Option(key, value))

    def delete(self, key: str) -> bool:
        before = len(self.lines)
        self.lines = [ln for ln in self.lines if not (isinstance(ln, Option) and ln.key == key)]
        return len(self.lines) != before

    def keys(self) -> list[str]:
        return [ln.key for ln in self.lines if isinstance(ln, Option)]

    def items(self) -> Iterator[tuple[str, str]]:
        for line in self.lines:
            if isinstance(line, Option):
                yield line.key, line.value

    def comments(self) -> list[str]:
        return [ln.text for ln in self.lines if isinstance(ln, Comment)]

    def as_dict(self) -> dict[str, str]:
        return dict(self.items())

    def format(self) -> str:
        out = []
        for line in self.lines:
            if isinstance(line, Comment):
                out.append(f"#{line.text}\n")
            else:
                out.append(f"{line.key}: {line.value}\n")
        return "".join(out)


@dataclass
class KeyValueFile:
    """The main section plus named sections (``[name]``) in file order."""

    main: KeyValueSection = field(default_factory=KeyValueSection)
    sections: list[tuple[str, KeyValueSection]] = field(default_factory=list)

    def format(self) -> str:
        parts = [self.main.format()]
        for name, section in self.sections:
            parts.append(f"\n[{name}]\n{section.format()}")
        return "".join(parts)


def check_one_line(name: str, value: str) -> None:
    """A value that would break the line-based file it is written to is refused."""
    if any(c in value for c in "\r\n\x00"):
        raise InputError(name, value, "must be a single line (no line breaks)")


def parse_keyvalue(text: str, path: Path | str = "<string>", sections: bool = True) -> KeyValueFile:
    """Parse a ``key: value`` file; a malformed line raises ConfigError naming file and line."""
    result = KeyValueFile()
    current = result.main
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        if raw.startswith("#"):
            current.lines.append(Comment(raw[1:]))
            continue
        section = _SECTION.match(raw)
        if section:
            if not sections:
                raise ConfigError(path, lineno, f"sections are not allowed here: {raw!r}")
            current = KeyValueSection()
            result.sections.append((section.group(1), current))
            continue
        option = _OPTION.match(raw)
        if not option:
            raise ConfigError(path, lineno, f"expected 'key: value', got {raw!r}")
        key, value = option.groups()
        if key in current:
            raise ConfigError(path, lineno, f"duplicate key '{key}'")
        current.lines.append(Option(key, value))
    return result


def read_keyvalue(path: Path, sections: bool = True) -> KeyValueFile:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(path, 0, f"not valid UTF-8: {err}") from err
    return parse_keyvalue(text, path, sections)


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file so that a reader sees either the old or the new content, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
