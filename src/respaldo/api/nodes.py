"""The node and the cluster view of it: ``/version``, ``/nodes``, ``/nodes/{node}/status``,
``/cluster/resources``, ``/cluster/nextid``, ``/pools``, ``/storage`` (pve-manager
``PVE/API2/Nodes.pm``, ``PVE/API2/Cluster.pm``, ``PVE/API2/Pool.pm``; pve-storage
``PVE/API2/Storage/Config.pm``). One node, its own cluster of one.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from respaldo.api.method import ALL_USERS, ApiMethod, Call, Perm, array, obj, prop
from respaldo.api.rows import storage_row, vm_row
from respaldo.config.ids import VMID_MAX, VMID_MIN
from respaldo.config.schema import Schema, integer, string
from respaldo.config.stdparams import NODE
from respaldo.errors import ConflictError
from respaldo.services.pvesm import StorageManager
from respaldo.services.qmpower import VmPower
from respaldo.services.vmstore import VmStore

#: The Proxmox VE release whose API this one follows (clients parse the number).
PVE_VERSION = "9.0.3"
PVE_RELEASE = "9.0"
REPOID = "7265737061"  # hex of "respa": clients only check that it is hex


def _version(call: Call) -> object:
    return {"version": PVE_VERSION, "release": PVE_RELEASE, "repoid": REPOID, "console": "html5"}


def _meminfo() -> dict[str, int]:
    values: dict[str, int] = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, rest = line.partition(":")
        values[key] = int(rest.split()[0]) * 1024
    return values


def _uptime() -> int:
    return int(float(Path("/proc/uptime").read_text().split()[0]))


def _cpu_load() -> float:
    """The 1-minute load average per CPU, capped at 1 (Proxmox's ``cpu`` is a fraction)."""
    return min(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


def _node_row(call: Call) -> dict[str, object]:
    """The node as ``/nodes`` and ``/cluster/resources`` list it; its figures only for
    ``Sys.Audit`` on ``/nodes/<node>`` (pve-manager ``API2Tools::extract_node_stats``)."""
    row: dict[str, object] = {
        "node": call.node.name,
        "id": f"node/{call.node.name}",
        "type": "node",
        "status": "online",
        "level": "",
    }
    if "Sys.Audit" not in call.access.permissions(call.principal, f"/nodes/{call.node.name}"):
        return row
    mem = _meminfo()
    total = mem.get("MemTotal", 0)
    row.update(
        cpu=_cpu_load(),
        maxcpu=os.cpu_count() or 1,
        mem=total - mem.get("MemAvailable", 0),
        maxmem=total,
        uptime=_uptime(),
    )
    return row


def _nodes(call: Call) -> object:
    return [_node_row(call)]


def _node_index(call: Call) -> object:
    names = ("qemu", "storage", "tasks", "status", "vzdump", "version")
    return [{"name": name} for name in names]


def _node_status(call: Call) -> object:
    mem = _meminfo()
    total, free = mem.get("MemTotal", 0), mem.get("MemAvailable", 0)
    root = os.statvfs("/")
    uname = platform.uname()
    return {
        "uptime": _uptime(),
        "cpu": _cpu_load(),
        "loadavg": [f"{value:.2f}" for value in os.getloadavg()],
        "memory": {"total": total, "used": total - free, "free": free},
        "rootfs": {
            "total": root.f_blocks * root.f_frsize,
            "used": (root.f_blocks - root.f_bfree) * root.f_frsize,
            "avail": root.f_bavail * root.f_frsize,
        },
        "cpuinfo": {"cpus": os.cpu_count() or 1, "model": uname.processor or uname.machine},
        "kversion": f"{uname.system} {uname.release} {uname.version}",
        "pveversion": f"respaldo/{PVE_VERSION}",
    }


def _resources(call: Call) -> object:
    kind = call.opt_text("type")
    rows: list[dict[str, object]] = []
    if kind in (None, "node"):
        rows.append(_node_row(call))
    if kind in (None, "vm"):
        for info in VmPower(call.node).list():
            if call.access.permissions(call.principal, f"/vms/{info.vmid}") & {"VM.Audit"}:
                row = vm_row(info)
                rows.append(
                    {**row, "id": f"qemu/{info.vmid}", "type": "qemu", "node": call.node.name}
                )
    if kind in (None, "storage"):
        for status in StorageManager(call.node).status():
            privs = call.access.permissions(call.principal, f"/storage/{status.storage}")
            if "Datastore.Audit" in privs:
                row = storage_row(status)
                rows.append(
                    {
                        "id": f"storage/{call.node.name}/{status.storage}",
                        "type": "storage",
                        "storage": status.storage,
                        "node": call.node.name,
                        "status": "available" if status.active else "unknown",
                        "disk": row["used"],
                        "maxdisk": row["total"],
                        "content": row["content"],
                        "plugintype": status.type,
                        "shared": 0,
                    }
                )
    return rows


def _nextid(call: Call) -> object:
    store = VmStore(call.node)
    wanted = call.get("vmid")
    if wanted is not None:
        if store.exists(int(str(wanted))):
            raise ConflictError(f"VM {wanted} already exists")
        return wanted
    taken = set(store.vmids())
    for vmid in range(VMID_MIN, VMID_MAX + 1):
        if vmid not in taken:
            return vmid
    raise ConflictError("no free VMID")


def _pools(call: Call) -> object:
    """The pools the caller may audit (pve-manager ``Pool.pm`` index)."""
    rows: list[dict[str, object]] = []
    for poolid, pool in sorted(call.access.config().pools.items()):
        if "Pool.Audit" in call.access.permissions(call.principal, f"/pool/{poolid}"):
            row: dict[str, object] = {"poolid": poolid}
            if pool.comment:
                row["comment"] = pool.comment
            rows.append(row)
    return rows


def _storage_config(call: Call) -> object:
    rows = []
    for section in StorageManager(call.node).registry.sections():
        if call.opt_text("type") not in (None, section.type):
            continue
        privs = call.access.permissions(call.principal, f"/storage/{section.id}")
        if not privs & {"Datastore.Audit", "Datastore.AllocateSpace"}:
            continue
        rows.append({"storage": section.id, "type": section.type, **section.properties})
    return rows


_NODE_ROW = obj(
    node=prop("string"),
    status=prop("string"),
    cpu=prop("number"),
    maxcpu=prop("integer"),
    mem=prop("integer"),
    maxmem=prop("integer"),
    uptime=prop("integer"),
)

METHODS = [
    ApiMethod(
        "version",
        "GET",
        "/version",
        "API version details.",
        Schema(()),
        obj(
            version=prop("string"),
            release=prop("string"),
            repoid=prop("string"),
            console=prop("string"),
        ),
        _version,
        ALL_USERS,
    ),
    ApiMethod(
        "nodes",
        "GET",
        "/nodes",
        "Cluster node index.",
        Schema(()),
        array(_NODE_ROW),
        _nodes,
        ALL_USERS,
    ),
    ApiMethod(
        "node_index",
        "GET",
        "/nodes/{node}",
        "Node index.",
        Schema((NODE,)),
        array(obj(name=prop("string"))),
        _node_index,
        ALL_USERS,
    ),
    ApiMethod(
        "node_status",
        "GET",
        "/nodes/{node}/status",
        "Read node status.",
        Schema((NODE,)),
        {"type": "object"},
        _node_status,
        Perm("/nodes/{node}", ("Sys.Audit",)),
    ),
    ApiMethod(
        "cluster_index",
        "GET",
        "/cluster",
        "Cluster index.",
        Schema(()),
        array(obj(name=prop("string"))),
        lambda call: [
            {"name": n}
            for n in (
                "resources",
                "nextid",
                "backup",
                "backup-info",
                "jobs",
                "notifications",
                "tasks",
            )
        ],
    ),
    ApiMethod(
        "cluster_resources",
        "GET",
        "/cluster/resources",
        "Resources index (cluster wide).",
        Schema((string("type", "Resource type.", enum=("vm", "storage", "node", "sdn")),)),
        array({"type": "object"}),
        _resources,
        ALL_USERS,
    ),
    ApiMethod(
        "nextid",
        "GET",
        "/cluster/nextid",
        "Get next free VMID.",
        Schema((integer("vmid", "The (unique) ID of the VM.", format="pve-vmid"),)),
        {"type": "integer"},
        _nextid,
        ALL_USERS,
    ),
    ApiMethod(
        "pools",
        "GET",
        "/pools",
        "List pools.",
        Schema(()),
        array(obj(poolid=prop("string"), comment=prop("string"))),
        _pools,
        ALL_USERS,
    ),
    ApiMethod(
        "storage_config",
        "GET",
        "/storage",
        "Storage index.",
        Schema((string("type", "Only list storage of specific type", enum=("dir",)),)),
        array(obj(storage=prop("string"), type=prop("string"))),
        _storage_config,
        ALL_USERS,
    ),
]
