"""``respaldo qmrestore <archive> <vmid>``: a backup back into a VM, new or existing."""

from __future__ import annotations

import argparse
from typing import cast

from respaldo.cli.commands import Command, add_command
from respaldo.node import Node
from respaldo.services.restore.plan import parse_map_storage
from respaldo.services.restore.qmrestore import (
    RESTORE_PARAMS,
    Restore,
    RestoreOptions,
    recover_worker,
)
from respaldo.tasks.context import TaskContext
from respaldo.tasks.worker import run_foreground

CLI_USER = "root@pam"


def cmd_qmrestore(params: dict[str, object], node: Node) -> None:
    disks = params.get("disks")
    opts = RestoreOptions(
        archive=str(params["archive"]),
        vmid=cast(int, params["vmid"]),
        storage=cast("str | None", params.get("storage")),
        force=bool(params.get("force", False)),
        unique=bool(params.get("unique", False)),
        start=bool(params.get("start", False)),
        bwlimit=cast(int, params.get("bwlimit", 0)),
        map_storage=parse_map_storage(cast("str | None", params.get("map-storage"))),
        disks=[d for d in str(disks).split(",") if d] if disks is not None else None,
    )
    # Planned here, before the task starts: bad input fails at once and changes nothing.
    restore = Restore(node, opts)

    def work(ctx: TaskContext) -> None:
        restore.run(ctx)

    code = run_foreground(
        node,
        "qmrestore",
        str(opts.vmid),
        CLI_USER,
        work,
        recover=lambda pid: recover_worker(node, pid),
    )
    if code:
        raise SystemExit(code)


COMMAND = Command(
    "qmrestore",
    "restore a VM from a backup",
    RESTORE_PARAMS,
    cmd_qmrestore,
    ("archive", "vmid"),
    "Restore a VMA archive (volume id or path, any compression) into a VM.",
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add_command(sub, COMMAND)
