"""``respaldo vzdump <vmid>... [--option value]...``: backup now, with Proxmox's options."""

from __future__ import annotations

import argparse

from respaldo.cli.pairs import parse_pairs
from respaldo.cli.worker import run_in_worker
from respaldo.node import Node
from respaldo.services.vzdump.job import VzdumpJob
from respaldo.services.vzdump.options import node_defaults, parse_options
from respaldo.services.vzdump.recovery import recover_worker


def split_vmids(args: list[str]) -> tuple[list[str], list[str]]:
    """Leading words are VMIDs (``vzdump 100 101 --mode stop``), the rest option pairs."""
    vmids: list[str] = []
    for index, arg in enumerate(args):
        if arg.startswith("-"):
            return vmids, args[index:]
        vmids.append(arg)
    return vmids, []


def cmd_vzdump(args: argparse.Namespace, node: Node) -> None:
    vmids, rest = split_vmids(args.args)
    given = parse_pairs(rest)
    if vmids:
        given["vmid"] = " ".join(vmids)
    # Options and VMs are checked here, before a worker starts, so bad input fails at once.
    job = VzdumpJob(
        node, parse_options(given, node_defaults(node)), echo=lambda line: print(line, flush=True)
    )

    run_in_worker(lambda: job.run().ok, lambda pid: recover_worker(node, pid))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "vzdump",
        help="back up VMs now",
        description=(
            "Back up VMs into VMA archives, as Proxmox's vzdump: respaldo vzdump 100 101 "
            "--storage local --mode snapshot|suspend|stop --compress 0|1|gzip|lzo|zstd "
            "[--zstd N] [--mailto a@b] [--mailnotification always|failure] "
            "[--notes-template T] [--protected 1] [--bwlimit KiB/s] [--remove 0|1] "
            "[--prune-backups keep-last=3,...] [--all 1 [--exclude 101]] [--script hook] "
            "[--lockwait min] [--stopwait min] [--tmpdir dir] [--dumpdir dir]. "
            "Defaults come from vzdump.conf."
        ),
    )
    p.add_argument("args", nargs=argparse.REMAINDER, help="VMIDs, then --option value pairs")
    p.set_defaults(func=cmd_vzdump)
