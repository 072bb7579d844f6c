"""``respaldo pvesm ...``: storage commands with Proxmox's verbs and option names."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from respaldo.cli.output import FORMATS, emit, print_table
from respaldo.config.ids import check_vmid
from respaldo.node import Node
from respaldo.services.pvesm import StorageManager

KIB = 1024


def cmd_status(args: argparse.Namespace, node: Node) -> None:
    statuses = StorageManager(node).status(args.storage)
    rows = []
    for s in statuses:
        share = 100 * s.used / s.total if s.total else 0.0
        rows.append(
            [
                s.storage,
                s.type,
                "active" if s.active else "inactive",
                s.total // KIB,
                s.used // KIB,
                s.available // KIB,
                f"{share:.2f}%",
            ]
        )
    emit(
        args.output_format,
        [asdict(s) for s in statuses],
        lambda: print_table(
            ["Name", "Type", "Status", "Total", "Used", "Available", "%"],
            rows,
            right=[False, False, False, True, True, True, True],
        ),
    )


def cmd_list(args: argparse.Namespace, node: Node) -> None:
    vmid = check_vmid(args.vmid) if args.vmid is not None else None
    volumes = StorageManager(node).list(args.storage, args.content, vmid)
    rows = [[v.volid, v.format, v.content, v.size, v.vmid or ""] for v in volumes]
    emit(
        args.output_format,
        [asdict(v) for v in volumes],
        lambda: print_table(
            ["Volid", "Format", "Type", "Size", "VMID"],
            rows,
            right=[False, False, False, True, True],
        ),
    )


def cmd_add(args: argparse.Namespace, node: Node) -> None:
    StorageManager(node).add_dir(args.storage, args.path, args.content)


def cmd_remove(args: argparse.Namespace, node: Node) -> None:
    StorageManager(node).remove(args.storage)


def cmd_alloc(args: argparse.Namespace, node: Node) -> None:
    volid = StorageManager(node).alloc(
        args.storage, check_vmid(args.vmid), args.filename, args.size, args.format
    )
    print(f"successfully created '{volid}'")


def cmd_free(args: argparse.Namespace, node: Node) -> None:
    StorageManager(node).free(args.volume)


def cmd_path(args: argparse.Namespace, node: Node) -> None:
    print(StorageManager(node).path(args.volume))


def cmd_extractconfig(args: argparse.Namespace, node: Node) -> None:
    text = StorageManager(node).extract_config(args.volume)
    sys.stdout.write(text if not text or text.endswith("\n") else text + "\n")


def cmd_set(args: argparse.Namespace, node: Node) -> None:
    protected = None if args.protected is None else args.protected == "1"
    StorageManager(node).set_backup(args.volume, notes=args.notes, protected=protected)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pvesm = sub.add_parser("pvesm", help="manage storages and volumes")
    verbs = pvesm.add_subparsers(dest="verb", required=True, metavar="COMMAND")

    p = verbs.add_parser("status", help="storage status (sizes in KiB)")
    p.add_argument("--storage")
    p.add_argument("--output-format", choices=FORMATS, default="text")
    p.set_defaults(func=cmd_status)

    p = verbs.add_parser("list", help="list the volumes of a storage (backups newest first)")
    p.add_argument("storage")
    p.add_argument("--content", choices=("images", "iso", "backup"))
    p.add_argument("--vmid")
    p.add_argument("--output-format", choices=FORMATS, default="text")
    p.set_defaults(func=cmd_list)

    p = verbs.add_parser("add", help="add a storage")
    p.add_argument("type", choices=("dir",))
    p.add_argument("storage")
    p.add_argument("--path", required=True)
    p.add_argument("--content", help="comma-separated: images,iso,backup,...")
    p.set_defaults(func=cmd_add)

    p = verbs.add_parser("remove", help="remove a storage from the configuration (files stay)")
    p.add_argument("storage")
    p.set_defaults(func=cmd_remove)

    p = verbs.add_parser("alloc", help="allocate a disk image (size in KiB, or with K/M/G/T)")
    p.add_argument("storage")
    p.add_argument("vmid")
    p.add_argument("filename", help="vm-<vmid>-disk-<n>.<fmt>, or - for the next free name")
    p.add_argument("size")
    p.add_argument("--format", choices=("qcow2", "raw"))
    p.set_defaults(func=cmd_alloc)

    p = verbs.add_parser(
        "free", help="delete a volume (a backup with its log, notes and digest; not if protected)"
    )
    p.add_argument("volume")
    p.set_defaults(func=cmd_free)

    p = verbs.add_parser("path", help="the file path of a volume")
    p.add_argument("volume")
    p.set_defaults(func=cmd_path)

    p = verbs.add_parser(
        "extractconfig", help="print the VM configuration stored in a backup archive"
    )
    p.add_argument("volume", help="<storage>:backup/<file>, or the path of an archive")
    p.set_defaults(func=cmd_extractconfig)

    p = verbs.add_parser("set", help="set the notes or the protection of a backup")
    p.add_argument("volume", help="<storage>:backup/<file>")
    p.add_argument("--notes", help="the notes (the listing shows the first line); '' removes them")
    p.add_argument("--protected", choices=("0", "1"), help="1: the backup cannot be removed")
    p.set_defaults(func=cmd_set)
