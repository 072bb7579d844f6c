"""``respaldo vma ...``: look into, verify and extract any VMA archive file."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from respaldo.archive.vma import VMSTATE_DEVICE
from respaldo.cli.commands import Command, register_commands
from respaldo.cli.output import OUTPUT_FORMAT, print_json, print_table
from respaldo.errors import ArchiveError
from respaldo.node import Node
from respaldo.services import vmatool
from respaldo.services.vmatool import (
    ArchiveInfo,
    VerifyResult,
    archive_config,
    extract_archive,
    iso_time,
    list_archive,
    verify_archive,
)


def _emit(fmt: str, data: Any, text: Callable[[], None]) -> None:
    """Like ``output.emit``, but writing to the current ``sys.stdout`` (captured in tests)."""
    if fmt == "text":
        text()
    else:
        print_json(data, pretty=fmt == "json-pretty", out=sys.stdout)


def _print_info(info: ArchiveInfo) -> None:
    print(f"file:        {info.path}")
    print(f"compression: {info.compression}")
    print(f"uuid:        {info.uuid}")
    print(f"ctime:       {info.ctime_iso}")
    print()
    print_table(
        ["Config", "Size"],
        [[c.name, c.size] for c in info.configs],
        right=[False, True],
        out=sys.stdout,
    )
    print()
    print_table(
        ["ID", "Device", "Size", "Human"],
        [[d.dev_id, _device_label(d.name), d.size, d.human_size] for d in info.devices],
        right=[True, False, True, True],
        out=sys.stdout,
    )


def _device_label(name: str) -> str:
    return f"{name} (RAM state)" if name == VMSTATE_DEVICE else name


def _print_verify(result: VerifyResult) -> None:
    print(f"file:        {result.path}")
    print(f"compression: {result.compression}")
    print(f"uuid:        {result.uuid}")
    print(f"ctime:       {iso_time(result.ctime)}")
    print(f"extents:     {result.extents} ({result.archive_bytes} bytes uncompressed)")
    print(f"sidecar:     {result.sidecar if result.sidecar is not None else 'none'}")
    print()
    rows = [
        [
            d.dev_id,
            d.name,
            d.human_size,
            f"{d.clusters_found}/{d.clusters}",
            d.zero_clusters,
            d.data_bytes,
            d.digest,
        ]
        for d in result.devices
    ]
    print_table(
        ["ID", "Device", "Size", "Clusters", "Zero", "Data bytes", "Digest"],
        rows,
        right=[True, False, True, True, True, True, False],
        out=sys.stdout,
    )
    print()
    if result.ok:
        print("archive OK")
    for problem in result.problems:
        print(f"problem: {problem}")


def _file(params: dict[str, object]) -> Path:
    return Path(str(params["file"]))


def _fmt(params: dict[str, object]) -> str:
    return str(params.get("output-format", "text"))


def cmd_list(params: dict[str, object], node: Node) -> None:
    info = list_archive(_file(params))
    _emit(_fmt(params), info.to_dict(), lambda: _print_info(info))


def cmd_config(params: dict[str, object], node: Node) -> None:
    sys.stdout.write(archive_config(_file(params), firewall=bool(params.get("firewall"))))
    sys.stdout.flush()


def cmd_verify(params: dict[str, object], node: Node) -> None:
    result = verify_archive(_file(params))
    _emit(_fmt(params), result.to_dict(), lambda: _print_verify(result))
    sys.stdout.flush()
    if not result.ok:
        more = len(result.problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise ArchiveError(f"verify failed: {result.problems[0]}{suffix}")


def cmd_extract(params: dict[str, object], node: Node) -> None:
    devices = params.get("device")
    written = extract_archive(
        _file(params),
        Path(str(params["target"])),
        str(params.get("format", "raw")),
        [d for d in str(devices).split(",") if d] if devices is not None else None,
    )
    for path in written:
        print(f"wrote {path}")


COMMANDS = (
    Command(
        "list",
        "uuid, time, configs and devices (reads the header only)",
        vmatool.LIST_PARAMS.extend(OUTPUT_FORMAT),
        cmd_list,
        ("file",),
    ),
    Command(
        "config",
        "print the stored qemu-server.conf exactly",
        vmatool.CONFIG_PARAMS,
        cmd_config,
        ("file",),
    ),
    Command(
        "verify",
        "read the whole archive and check it (and its digests)",
        vmatool.VERIFY_PARAMS.extend(OUTPUT_FORMAT),
        cmd_verify,
        ("file",),
    ),
    Command(
        "extract",
        "write each disk image and the configs into a dir",
        vmatool.EXTRACT_PARAMS,
        cmd_extract,
        ("file", "target"),
    ),
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    register_commands(sub, "vma", "inspect, verify and extract VMA archive files", COMMANDS)
