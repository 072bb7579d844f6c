"""``respaldo qmrestore <archive> <vmid>``: a backup back into a VM, new or existing."""

from __future__ import annotations

import argparse
from typing import cast

from respaldo.cli.commands import Command, add_command
from respaldo.cli.worker import run_in_worker
from respaldo.node import Node
from respaldo.services.restore.plan import parse_map_storage
from respaldo.services.restore.qmrestore import (
    RESTORE_PARAMS,
    Restore,
    RestoreOptions,
    recover_worker,
)
from respaldo.tasks.context import PrintContext


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
    # Planned here, before a worker starts: bad input fails at once and changes nothing.
    restore = Restore(node, opts, PrintContext())

    run_in_worker(lambda: bool(restore.run()), lambda pid: recover_worker(node, pid))


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
