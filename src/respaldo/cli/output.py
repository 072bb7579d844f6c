"""Printing results: human-readable tables by default, JSON like Proxmox's --output-format."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from respaldo.config.schema import string

FORMATS = ("text", "json", "json-pretty")

#: The CLI's output format option (pve-common ``PVE/RESTHandler.pm``, ``output-format``).
OUTPUT_FORMAT = string("output-format", "Output format.", enum=FORMATS, default="text")


def print_json(data: Any, pretty: bool, out: TextIO | None = None) -> None:
    out = out or sys.stdout  # looked up at call time, so redirected output is honoured
    out.write(json.dumps(data, indent=2 if pretty else None, sort_keys=True) + "\n")


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    right: Sequence[bool] | None = None,
    out: TextIO | None = None,
) -> None:
    """Columns as wide as their widest cell; numbers right-aligned where ``right`` says."""
    out = out or sys.stdout  # looked up at call time, so redirected output is honoured
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    align = right or [False] * len(headers)

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if a else v.ljust(w) for v, w, a in zip(values, widths, align, strict=True)
        ]
        return " ".join(parts).rstrip()

    out.write(line(list(headers)) + "\n")
    for row in cells:
        out.write(line(row) + "\n")


def emit(fmt: str, data: Any, text: Any) -> None:
    """Print ``data`` as JSON or call ``text()`` to print it for people."""
    if fmt == "text":
        text()
    else:
        print_json(data, pretty=fmt == "json-pretty")
