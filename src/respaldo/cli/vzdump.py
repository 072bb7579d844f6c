"""``respaldo vzdump <vmid>... [--option value]...``: backup now, with Proxmox's options.

The options are vzdump's schema (``services/vzdump/options.py``); the VMIDs come first or
last (``vzdump 100 101 --mode stop``, ``vzdump --all --exclude 101``).
"""

from __future__ import annotations

import argparse

from respaldo.cli.commands import Command, add_command
from respaldo.cli.worker import run_in_worker
from respaldo.node import Node
from respaldo.services.vzdump.job import VzdumpJob
from respaldo.services.vzdump.options import VZDUMP_OPTIONS, node_defaults, parse_options
from respaldo.services.vzdump.recovery import recover_worker
from respaldo.tasks.context import PrintContext


def cmd_vzdump(given: dict[str, object], node: Node) -> None:
    # Options and VMs are checked here, before a worker starts, so bad input fails at once.
    options = {key: str(value) for key, value in given.items()}
    job = VzdumpJob(
        node,
        parse_options(options, node_defaults(node)),
        PrintContext(),
    )
    run_in_worker(lambda: job.run().ok, lambda pid: recover_worker(node, pid))


COMMAND = Command(
    "vzdump",
    "back up VMs now",
    VZDUMP_OPTIONS,
    cmd_vzdump,
    ("vmid",),
    "Back up VMs into VMA archives, as Proxmox's vzdump. Defaults come from vzdump.conf.",
    checked=False,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add_command(sub, COMMAND)
