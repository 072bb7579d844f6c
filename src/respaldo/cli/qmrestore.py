"""``respaldo qmrestore <archive> <vmid>``: a backup back into a VM, new or existing."""

from __future__ import annotations

import argparse

from respaldo.cli.worker import run_in_worker
from respaldo.config.ids import check_vmid
from respaldo.node import Node
from respaldo.services.restore.plan import parse_map_storage
from respaldo.services.restore.qmrestore import Restore, RestoreOptions, recover_worker


def cmd_qmrestore(args: argparse.Namespace, node: Node) -> None:
    disks = [d for d in args.disks.split(",") if d] if args.disks is not None else None
    opts = RestoreOptions(
        archive=args.archive,
        vmid=check_vmid(args.vmid),
        storage=args.storage,
        force=bool(args.force),
        unique=bool(args.unique),
        start=bool(args.start),
        bwlimit=args.bwlimit,
        map_storage=parse_map_storage(args.map_storage),
        disks=disks,
    )
    # Planned here, before a worker starts: bad input fails at once and changes nothing.
    restore = Restore(node, opts, echo=lambda line: print(line, flush=True))

    run_in_worker(lambda: bool(restore.run()), lambda pid: recover_worker(node, pid))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "qmrestore",
        help="restore a VM from a backup",
        description="Restore a VMA archive (volume id or path, any compression) into a VM.",
    )
    p.add_argument("archive", help="local:backup/vzdump-qemu-...vma.zst, or a file path")
    p.add_argument("vmid", help="the VM to create, or to overwrite with --force 1")
    p.add_argument("--storage", help="put every disk on this storage")
    p.add_argument(
        "--force", type=int, choices=(0, 1), default=0, help="overwrite an existing (stopped) VM"
    )
    p.add_argument(
        "--unique", type=int, choices=(0, 1), default=0, help="new MAC addresses and smbios uuid"
    )
    p.add_argument("--start", type=int, choices=(0, 1), default=0, help="start the VM afterwards")
    p.add_argument("--bwlimit", type=int, default=0, help="KiB/s, 0 = no limit")
    p.add_argument("--map-storage", help="per disk: scsi1=other[,virtio0=fast]")
    p.add_argument("--disks", help="restore only these disks: scsi0,virtio1")
    p.set_defaults(func=cmd_qmrestore)
