"""``respaldo vzdump <vmid>... [--option value]...``: backup now, with Proxmox's options.

The options are vzdump's schema (``services/vzdump/options.py``); the VMIDs come first or
last (``vzdump 100 101 --mode stop``, ``vzdump --all --exclude 101``). The backup is a task
(``vzdump``, user root@pam) run in the foreground: it has a UPID and a task log, and shows in
the task list, as one started through the API. As Proxmox's CLI (pve-manager
``PVE/API2/VZDump.pm``): ``--node`` naming another node does nothing, ``--stop`` stops the
backups running on this node, ``--quiet`` prints nothing, ``--stdout`` writes the archive to
standard output (and the lines to standard error).
"""

from __future__ import annotations

import argparse
import contextlib
import os

from respaldo.cli.commands import Command, add_command
from respaldo.errors import InputError
from respaldo.jobs.guests import pool_members
from respaldo.node import Node
from respaldo.services.vzdump.job import VzdumpJob, resolve_vmids, stop_running_backups
from respaldo.services.vzdump.options import VZDUMP_PARAMS, node_defaults, parse_options
from respaldo.services.vzdump.recovery import recover_worker
from respaldo.tasks.context import TaskContext
from respaldo.tasks.worker import run_foreground

CLI_USER = "root@pam"


def cmd_vzdump(given: dict[str, object], node: Node) -> None:
    # Options and VMs are checked here, before the task starts, so bad input fails at once.
    options = {key: str(value) for key, value in given.items()}
    opts = parse_options(options, node_defaults(node))
    if opts.extra.get("node") not in (None, node.name):
        return  # as Proxmox: only run if executed on that node
    if opts.extra.get("stop"):
        stop_running_backups(node)
        if not (opts.vmids or opts.all or opts.pool):
            return
    if opts.pool is not None:
        opts.pool_vmids = pool_members(node, opts.pool)
    vmids = resolve_vmids(node, opts)
    if opts.stdout:
        if len(vmids) != 1:
            raise InputError("stdout", 1, "you can only backup a single VM with option --stdout")
        # As Proxmox's: the archive takes standard output, every line goes to standard error.
        opts.stdout_fd = os.dup(1)
        os.dup2(2, 1)
    job = VzdumpJob(node, opts)

    def work(ctx: TaskContext) -> None:
        job.run_task(ctx)

    task_id = str(vmids[0]) if len(vmids) == 1 else ""
    quiet = bool(opts.extra.get("quiet"))
    with open(os.devnull, "w") if quiet else contextlib.nullcontext() as devnull:
        code = run_foreground(
            node,
            "vzdump",
            task_id,
            CLI_USER,
            work,
            recover=lambda pid: recover_worker(node, pid),
            out=devnull,
            err=devnull,
        )
    if code:
        raise SystemExit(code)


COMMAND = Command(
    "vzdump",
    "back up VMs now",
    VZDUMP_PARAMS,
    cmd_vzdump,
    ("vmid",),
    "Back up VMs into VMA archives, as Proxmox's vzdump. Defaults come from vzdump.conf.",
    checked=False,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add_command(sub, COMMAND)
