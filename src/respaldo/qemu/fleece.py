"""A point-in-time view of a running VM's disks ("image fleecing"), exported over NBD.

A scratch qcow2 on top of each disk catches the old data of every block the guest overwrites
(a ``blockdev-backup`` job with ``sync: none``), so reading the scratch node gives the disk as
it was when the job started. One ``transaction`` starts the jobs of all disks, so they share
one point in time. QEMU's NBD server exports the scratch nodes read-only.

Node names: the disk's format node ``drive-<key>``, the scratch ``fleece-<key>``, the job
``fleece-<key>``, the export ``exp-<key>`` named ``drive-<key>`` for NBD clients. The TPM state,
which QEMU does not have open (swtpm does), is attached read-only for the view as
``drive-tpmstate0-backup`` (qemu-server's name) and exported under that name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from respaldo.errors import QmpError, RespaldoError
from respaldo.qemu import img
from respaldo.qemu.qmp import Qmp

FLEECE_PREFIX = "fleece-"
EXPORT_PREFIX = "exp-"
#: The suffix of nodes attached only for a view (``drive-tpmstate0-backup``).
ATTACHED_SUFFIX = "-backup"
EVENT_TIMEOUT = 30.0


@dataclass(frozen=True)
class FleeceDisk:
    """A disk of the view. ``attach``: a raw image QEMU does not have open (the TPM state,
    which swtpm owns), added read-only as the node ``node`` for the backup and removed with
    the view, as qemu-server attaches ``drive-tpmstate0-backup``."""

    key: str
    size: int
    node: str | None = None
    attach: Path | None = None

    @property
    def source(self) -> str:
        return self.node or f"drive-{self.key}"

    @property
    def fleece(self) -> str:
        return f"{FLEECE_PREFIX}{self.key}"

    @property
    def export_id(self) -> str:
        return f"{EXPORT_PREFIX}{self.key}"

    @property
    def export_name(self) -> str:
        return self.source


class PointInTimeView:
    """Create with ``open()``; always ``close()`` (it undoes whatever ``open()`` got done)."""

    def __init__(self, qmp: Qmp, disks: list[FleeceDisk], scratch_dir: Path, nbd_socket: Path):
        self.qmp = qmp
        self.disks = disks
        self.scratch_dir = scratch_dir
        self.nbd_socket = nbd_socket
        self.sizes: dict[str, int] = {}

    def scratch(self, disk: FleeceDisk) -> Path:
        return self.scratch_dir / f"{disk.fleece}.qcow2"

    def size(self, disk: FleeceDisk) -> int:
        """Bytes of a disk as its QEMU node has it (once opened; qemu-server's
        ``query_block_node_sizes``): a raw EFI disk is used at the firmware's size, a TPM
        state at the size swtpm left its file with. Before, the size the disk was given."""
        return self.sizes.get(disk.source, disk.size)

    def open(
        self,
        freeze: Callable[[], None] | None = None,
        thaw: Callable[[], None] | None = None,
    ) -> None:
        """Build the view; ``freeze`` runs right before the shared point in time, ``thaw``
        right after it, whatever happened in between (a frozen guest is never left behind)."""
        teardown(self.qmp)  # what an earlier, killed backup may have left in this QEMU
        self.nbd_socket.unlink(missing_ok=True)
        self.qmp.execute(
            "nbd-server-start",
            {"addr": {"type": "unix", "data": {"path": str(self.nbd_socket)}}},
        )
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        for disk in self.disks:
            if disk.attach is not None:
                self.qmp.execute(
                    "blockdev-add",
                    {
                        "driver": "raw",
                        "node-name": disk.source,
                        "read-only": True,
                        "file": {"driver": "file", "filename": str(disk.attach), "read-only": True},
                    },
                )
        self.sizes = _node_sizes(self.qmp)
        for disk in self.disks:
            img.create(self.scratch(disk), "qcow2", self.size(disk))
            self.qmp.execute(
                "blockdev-add",
                {
                    "driver": "qcow2",
                    "node-name": disk.fleece,
                    "file": {"driver": "file", "filename": str(self.scratch(disk))},
                    "backing": disk.source,
                },
            )
        actions = [
            {
                "type": "blockdev-backup",
                "data": {
                    "device": disk.source,
                    "target": disk.fleece,
                    "sync": "none",
                    "job-id": disk.fleece,
                },
            }
            for disk in self.disks
        ]
        try:
            if freeze is not None:
                freeze()
            self.qmp.execute("transaction", {"actions": actions})
        finally:
            if thaw is not None:
                thaw()
        for disk in self.disks:
            self.qmp.execute(
                "block-export-add",
                {
                    "type": "nbd",
                    "id": disk.export_id,
                    "node-name": disk.fleece,
                    "name": disk.export_name,
                    "writable": False,
                },
            )

    def close(self) -> list[str]:
        """Tear everything down, carrying on past failures; returns what could not be undone."""
        problems = teardown(self.qmp)
        for disk in self.disks:
            self.scratch(disk).unlink(missing_ok=True)
        self.nbd_socket.unlink(missing_ok=True)
        return problems


def teardown(qmp: Qmp) -> list[str]:
    """Remove every export, job and scratch node a view made, found by their names.

    Also used before a backup starts, to clear what a killed backup process left in QEMU.
    Goes on past failures and returns them, so that one stuck piece does not keep the others.
    """
    problems: list[str] = []
    for export in _query(qmp, "query-block-exports"):
        if export["id"].startswith(EXPORT_PREFIX):
            _attempt(problems, f"removing export {export['id']}", _del_export, qmp, export["id"])
    for job in _query(qmp, "query-block-jobs"):
        if job["device"].startswith(FLEECE_PREFIX):
            _attempt(problems, f"cancelling job {job['device']}", _cancel_job, qmp, job["device"])
    nodes = [node["node-name"] for node in _query(qmp, "query-named-block-nodes", {"flat": True})]
    for name in nodes:
        if name.startswith(FLEECE_PREFIX):
            _attempt(problems, f"removing node {name}", _del_node, qmp, name)
    for name in nodes:  # attached for the view only (below the fleece nodes: removed after)
        if name.startswith("drive-") and name.endswith(ATTACHED_SUFFIX):
            _attempt(problems, f"removing node {name}", _del_node, qmp, name)
    with contextlib.suppress(QmpError):
        qmp.execute("nbd-server-stop")  # fails only when no server runs
    return problems


def _node_sizes(qmp: Qmp) -> dict[str, int]:
    nodes = qmp.execute("query-named-block-nodes", {"flat": True})
    return {node["node-name"]: int(node["image"]["virtual-size"]) for node in nodes}


def _query(qmp: Qmp, command: str, arguments: dict[str, Any] | None = None) -> list[Any]:
    try:
        return list(qmp.execute(command, arguments))
    except QmpError:
        return []


def _attempt(
    problems: list[str], what: str, action: Callable[[Qmp, str], None], qmp: Qmp, name: str
) -> None:
    try:
        action(qmp, name)
    except RespaldoError as err:
        problems.append(f"{what}: {err}")


def _del_export(qmp: Qmp, export_id: str) -> None:
    with qmp.listen("BLOCK_EXPORT_DELETED") as events:
        qmp.execute("block-export-del", {"id": export_id, "mode": "hard"})
        while events.wait(EVENT_TIMEOUT)["data"]["id"] != export_id:
            pass


def _cancel_job(qmp: Qmp, device: str) -> None:
    with qmp.listen("BLOCK_JOB_CANCELLED", "BLOCK_JOB_COMPLETED") as events:
        qmp.execute("block-job-cancel", {"device": device, "force": True})
        while events.wait(EVENT_TIMEOUT)["data"]["device"] != device:
            pass


def _del_node(qmp: Qmp, name: str) -> None:
    qmp.execute("blockdev-del", {"node-name": name})
