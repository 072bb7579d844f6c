"""``respaldo vma ...``: look into, verify and extract any VMA archive file."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from respaldo.archive.vma import VMSTATE_DEVICE
from respaldo.cli.output import FORMATS, print_json, print_table
from respaldo.errors import ArchiveError
from respaldo.node import Node
from respaldo.services.vmatool import (
    FORMATS as IMAGE_FORMATS,
)
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


def cmd_list(args: argparse.Namespace, node: Node) -> None:
    info = list_archive(Path(args.file))
    _emit(args.output_format, info.to_dict(), lambda: _print_info(info))


def cmd_config(args: argparse.Namespace, node: Node) -> None:
    sys.stdout.write(archive_config(Path(args.file), firewall=args.firewall))
    sys.stdout.flush()


def cmd_verify(args: argparse.Namespace, node: Node) -> None:
    result = verify_archive(Path(args.file))
    _emit(args.output_format, result.to_dict(), lambda: _print_verify(result))
    sys.stdout.flush()
    if not result.ok:
        more = len(result.problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise ArchiveError(f"verify failed: {result.problems[0]}{suffix}")


def cmd_extract(args: argparse.Namespace, node: Node) -> None:
    written = extract_archive(Path(args.file), Path(args.target), args.format, args.device)
    for path in written:
        print(f"wrote {path}")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    vma = sub.add_parser("vma", help="inspect, verify and extract VMA archive files")
    verbs = vma.add_subparsers(dest="verb", required=True, metavar="COMMAND")

    p = verbs.add_parser("list", help="uuid, time, configs and devices (reads the header only)")
    p.add_argument("file", help="a .vma, .vma.zst, .vma.gz or .vma.lzo file")
    p.add_argument("--output-format", choices=FORMATS, default="text")
    p.set_defaults(func=cmd_list)

    p = verbs.add_parser("config", help="print the stored qemu-server.conf exactly")
    p.add_argument("file")
    p.add_argument("--firewall", action="store_true", help="print qemu-server.fw instead")
    p.set_defaults(func=cmd_config)

    p = verbs.add_parser("verify", help="read the whole archive and check it (and its digests)")
    p.add_argument("file")
    p.add_argument("--output-format", choices=FORMATS, default="text")
    p.set_defaults(func=cmd_verify)

    p = verbs.add_parser("extract", help="write each disk image and the configs into a dir")
    p.add_argument("file")
    p.add_argument("target", help="target directory (created if missing)")
    p.add_argument("--format", choices=IMAGE_FORMATS, default="raw")
    p.add_argument(
        "--device",
        action="append",
        metavar="NAME",
        help="extract only this device (e.g. drive-scsi0); repeat for several",
    )
    p.set_defaults(func=cmd_extract)
