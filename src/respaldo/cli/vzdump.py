"""``respaldo vzdump <vmid>... [--option value]...``: backup now, with Proxmox's options.

The options are vzdump's schema (``services/vzdump/options.py``); the VMIDs come first or
last (``vzdump 100 101 --mode stop``, ``vzdump --all --exclude 101``). The backup is a task
(``vzdump``, user root@pam) run in the foreground: it has a UPID and a task log, and shows in
the task list, as one started through the API.
"""

from __future__ import annotations

import argparse

from respaldo.cli.commands import Command, add_command
from respaldo.errors import TaskError
from respaldo.node import Node
from respaldo.services.vzdump.job import VzdumpJob, resolve_vmids
from respaldo.services.vzdump.options import VZDUMP_OPTIONS, node_defaults, parse_options
from respaldo.services.vzdump.recovery import recover_worker
from respaldo.tasks.context import TaskContext
from respaldo.tasks.worker import run_foreground

CLI_USER = "root@pam"


def cmd_vzdump(given: dict[str, object], node: Node) -> None:
    # Options and VMs are checked here, before the task starts, so bad input fails at once.
    options = {key: str(value) for key, value in given.items()}
    opts = parse_options(options, node_defaults(node))
    job = VzdumpJob(node, opts)
    vmids = resolve_vmids(node, opts)

    def work(ctx: TaskContext) -> None:
        if not job.run(ctx).ok:
            raise TaskError("job errors")

    task_id = str(vmids[0]) if len(vmids) == 1 else ""
    code = run_foreground(
        node, "vzdump", task_id, CLI_USER, work, recover=lambda pid: recover_worker(node, pid)
    )
    if code:
        raise SystemExit(code)


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
