"""Wrapper around ``qemu-img``: create, inspect, resize and fill disk images."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from respaldo.errors import QemuError
from respaldo.runner import binary, run

FORMATS = ("qcow2", "raw")


@dataclass(frozen=True)
class ImageInfo:
    format: str
    virtual_size: int
    actual_size: int


def _qemu_img(*args: str) -> str:
    return run([binary("qemu-img"), *args])


def create(path: Path, fmt: str, size: int) -> None:
    options = ["-o", "preallocation=off"] if fmt == "qcow2" else []
    _qemu_img("create", "-q", "-f", fmt, *options, str(path), str(size))


def info(path: Path) -> ImageInfo:
    out = _qemu_img("info", "--output=json", "-U", str(path))
    try:
        data: dict[str, Any] = json.loads(out)
        return ImageInfo(data["format"], int(data["virtual-size"]), int(data.get("actual-size", 0)))
    except (ValueError, KeyError) as err:
        raise QemuError(f"qemu-img info {path}: unexpected output: {out[:200]!r}") from err


def resize(path: Path, fmt: str, size: int) -> None:
    _qemu_img("resize", "-q", "-f", fmt, str(path), str(size))


def write_into(source: Path, target: Path, target_format: str) -> None:
    """Copy the bytes of the raw file ``source`` into the existing image ``target`` (as
    Proxmox fills a new EFI disk from the OVMF variables template)."""
    _qemu_img("convert", "-q", "-n", "-f", "raw", "-O", target_format, str(source), str(target))
