"""Which guests a backup job covers: its included disks, and the guests no job covers.

As pve-manager ``PVE/VZDump.pm`` ``get_included_guests`` selects them (``vmid`` list; ``all``
minus ``exclude``; the members of ``pool``), and as ``PVE/API2/Backup.pm``
(``included_volumes``) and ``PVE/API2/Cluster/BackupInfo.pm`` (``not-backed-up``) show them.
A guest the caller may not audit is left out (``may_audit(vmid)``), so that no name leaks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Set

from respaldo.access.store import AccessFiles
from respaldo.config.vmconfig import VmConfig
from respaldo.errors import InputError, RespaldoError
from respaldo.jobs.jobscfg import Job, find_job, load_jobs
from respaldo.node import Node
from respaldo.services.vmstore import VmStore

#: ``may_audit(vmid)``: whether the caller has ``VM.Audit`` on ``/vms/<vmid>``.
MayAudit = Callable[[int], bool]
#: Pool id -> the VMIDs in it (user.cfg's pools).
Pools = Mapping[str, Set[int]]

_LIST_SPLIT = re.compile(r"[,;\s]+")


def _vmid_list(text: str | None) -> list[int]:
    return [int(part) for part in _LIST_SPLIT.split(text or "") if part.isdecimal()]


def job_vmids(node: Node, job: Job, pools: Pools) -> list[int]:
    """The VMIDs a job backs up on this node, sorted; a listed VMID without a config is
    kept (Proxmox shows it as ``unknown``)."""
    props = job.properties
    if props.get("pool"):
        return sorted(pools.get(props["pool"], set()))
    if props.get("all") == "1":
        excluded = set(_vmid_list(props.get("exclude")))
        return [vmid for vmid in VmStore(node).vmids() if vmid not in excluded]
    return sorted(set(_vmid_list(props.get("vmid"))))


def node_pools(node: Node) -> Pools:
    """user.cfg's pools: pool id -> the VMIDs in it."""
    return {name: pool.vms for name, pool in AccessFiles(node).read().pools.items()}


def pool_members(node: Node, pool: str, pools: Pools | None = None) -> list[int]:
    """The guests of ``pool`` that exist on this node, sorted (pve-manager
    ``get_resource_pool_guest_members``); InputError when there is no such pool."""
    known = node_pools(node) if pools is None else pools
    if pool not in known:
        raise InputError("pool", pool, f"pool '{pool}' does not exist")
    existing = set(VmStore(node).vmids())
    return sorted(vmid for vmid in known[pool] if vmid in existing)


def _disks(vmid: int, config: VmConfig) -> list[dict[str, object]]:
    """The disks of a VM with whether a backup includes them (qemu-server
    ``get_backup_volumes``: CD-ROMs are no volumes; ``backup=0`` excludes a disk)."""
    return [
        {
            "id": f"{vmid}:{drive.key}",
            "name": drive.volume,
            "included": int(drive.backup),
            "reason": "backup=yes" if drive.backup else "backup=no",
            "leaf": 1,
        }
        for drive in config.drives()
        if not drive.is_cdrom
    ]


def included_volumes(
    node: Node, job_id: str, may_audit: MayAudit, pools: Pools
) -> dict[str, object]:
    """``GET /cluster/backup/{id}/included_volumes``: ``{"children": [guest, ...]}`` with,
    per guest, ``id`` (VMID), ``type``, ``name`` and ``children`` (its disks with
    ``included`` and ``reason``); a VMID without a config is ``type: unknown``. Raises
    NoSuchJob."""
    job = find_job(node, job_id)
    store = VmStore(node)
    children: list[dict[str, object]] = []
    for vmid in job_vmids(node, job, pools):
        if not may_audit(vmid):
            continue
        try:
            config = store.load(vmid)
        except RespaldoError:
            children.append({"id": vmid, "type": "unknown", "leaf": 1})
            continue
        disks = _disks(vmid, config)
        children.append(
            {
                "id": vmid,
                "type": "qemu",
                "name": config.get("name") or "",
                "children": disks,
                "leaf": int(not disks),
            }
        )
    return {"children": children}


def not_backed_up(node: Node, may_audit: MayAudit, pools: Pools) -> list[dict[str, object]]:
    """``GET /cluster/backup-info/not-backed-up``: the guests no backup job covers
    (disabled jobs count as covering, as in Proxmox), each ``{vmid, type, name?}``."""
    covered: set[int] = set()
    for job in load_jobs(node):
        covered.update(job_vmids(node, job, pools))
    store = VmStore(node)
    result: list[dict[str, object]] = []
    for vmid in store.vmids():
        if vmid in covered or not may_audit(vmid):
            continue
        entry: dict[str, object] = {"vmid": vmid, "type": "qemu"}
        name = store.load(vmid).get("name")
        if name is not None:
            entry["name"] = name
        result.append(entry)
    return result
