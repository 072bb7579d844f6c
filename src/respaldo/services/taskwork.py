"""The work of each task type, as entry points for :mod:`respaldo.tasks.worker`.

A task process runs ``<function>(ctx, **params)`` with the parameters its starter gave (JSON
values), on the node of ``RESPALDO_HOME``; the ``recover_*`` entries undo what a killed work
process left behind. Task types and their ids are Proxmox's (``vzdump``, ``qmrestore``,
``qmstart``...; pve-common ``PVE/UPID.pm`` and the API modules that start them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from respaldo.config.prune import parse_prune_backups
from respaldo.node import Node
from respaldo.services import prune as prune_service
from respaldo.services.pvesm import StorageManager
from respaldo.services.qmconfig import VmConfigService
from respaldo.services.qmpower import VmPower
from respaldo.services.restore import qmrestore as restore_service
from respaldo.services.restore.plan import parse_map_storage
from respaldo.services.vzdump import recovery as vzdump_recovery
from respaldo.services.vzdump.job import VzdumpJob
from respaldo.services.vzdump.options import node_defaults, parse_options
from respaldo.tasks.context import TaskContext

#: Where the task entries live, for ``spawn(..., entry=ENTRY + ":vzdump")``.
ENTRY = __name__


def _node() -> Node:
    return Node.from_env()


def vzdump(ctx: TaskContext, pool_vmids: list[int] | None = None, **options: str) -> None:
    """A backup job (``pool_vmids``: the members of its ``pool``, resolved by the starter);
    ends ``TASK ERROR: job errors`` when any guest failed, as Proxmox."""
    node = _node()
    opts = parse_options(options, node_defaults(node))
    opts.pool_vmids = pool_vmids
    VzdumpJob(node, opts).run_task(ctx)


def recover_vzdump(pid: int) -> list[str]:
    return vzdump_recovery.recover_worker(_node(), pid)


def restore_options(params: Mapping[str, Any]) -> restore_service.RestoreOptions:
    """RestoreOptions from ``qmrestore`` / ``POST /nodes/{node}/qemu`` parameters (typed)."""
    disks = params.get("disks")
    return restore_service.RestoreOptions(
        archive=str(params["archive"]),
        vmid=int(params["vmid"]),
        storage=params.get("storage"),
        force=bool(params.get("force", False)),
        unique=bool(params.get("unique", False)),
        start=bool(params.get("start", False)),
        bwlimit=int(params.get("bwlimit", 0)),
        map_storage=parse_map_storage(params.get("map-storage")),
        disks=[d for d in str(disks).split(",") if d] if disks is not None else None,
        overrides=dict(params.get("overrides", {})),
    )


def qmrestore(ctx: TaskContext, **params: Any) -> None:
    restore_service.Restore(_node(), restore_options(params)).run(ctx)


def recover_qmrestore(pid: int) -> list[str]:
    return restore_service.recover_worker(_node(), pid)


def qmcreate(ctx: TaskContext, vmid: int, options: dict[str, object], start: bool = False) -> None:
    node = _node()
    VmConfigService(node).create(vmid, options)
    if start:
        VmPower(node).start(vmid)


def qmconfig(
    ctx: TaskContext,
    vmid: int,
    options: dict[str, object],
    delete: list[str],
    skiplock: bool = False,
) -> None:
    VmConfigService(_node()).set(vmid, options, delete, skiplock)


def qmdestroy(ctx: TaskContext, vmid: int, skiplock: bool = False) -> None:
    VmConfigService(_node()).destroy(vmid, skiplock=skiplock)


def qmstart(ctx: TaskContext, vmid: int, skiplock: bool = False) -> None:
    VmPower(_node()).start(vmid, skiplock=skiplock, ctx=ctx)


def qmstop(ctx: TaskContext, vmid: int, skiplock: bool = False, timeout: int = 10) -> None:
    VmPower(_node()).stop(vmid, timeout=timeout, skiplock=skiplock)


def qmshutdown(
    ctx: TaskContext,
    vmid: int,
    skiplock: bool = False,
    timeout: int | None = None,
    forceStop: bool = False,  # noqa: N803  (Proxmox's parameter name)
) -> None:
    VmPower(_node()).shutdown(
        vmid, timeout=timeout, force_stop=forceStop, skiplock=skiplock, ctx=ctx
    )


def qmsuspend(ctx: TaskContext, vmid: int, skiplock: bool = False) -> None:
    VmPower(_node()).suspend(vmid, skiplock=skiplock)


def qmresume(ctx: TaskContext, vmid: int, skiplock: bool = False) -> None:
    VmPower(_node()).resume(vmid, skiplock=skiplock)


def imgdel(ctx: TaskContext, volume: str) -> None:
    StorageManager(_node()).free(volume)
    ctx.log(f"Removed volume '{volume}'")


def prunebackups(
    ctx: TaskContext,
    storage: str,
    prune_backups: str,
    vmid: int | None = None,
    type: str | None = None,
) -> None:
    """Prune the backups of a storage (``DELETE .../prunebackups``), per guest."""
    store = StorageManager(_node()).backup_store(storage)
    options = parse_prune_backups(prune_backups)
    guests = sorted({info.vmid for info in store.list(vmid) if info.vmid is not None})
    for guest in guests:
        ctx.log(f"prune backups of VM {guest} with {prune_backups}")
        prune_service.prune(store, guest, options, dry_run=False, log=ctx.log)
