"""Service results as the rows Proxmox's API returns: its field names, integers for booleans,
bytes for sizes, no ``null``s (a field without a value is left out)."""

from __future__ import annotations

from respaldo.config.vmconfig import VmConfig
from respaldo.services.qmpower import VmStatusInfo
from respaldo.storage.backups import BackupInfo
from respaldo.storage.base import StorageStatus, VolumeInfo

MIB = 1 << 20


def vm_row(info: VmStatusInfo) -> dict[str, object]:
    """A VM as ``GET /nodes/{node}/qemu`` lists it (qemu-server ``vmstatus``)."""
    row: dict[str, object] = {
        "vmid": info.vmid,
        "name": info.name,
        "status": "stopped" if info.pid is None else "running",
        "cpus": info.cpus,
        "maxmem": info.memory_mib * MIB,
        "mem": info.mem,
        "maxdisk": info.maxdisk,
        "disk": 0,
        "netin": 0,
        "netout": 0,
        "diskread": 0,
        "diskwrite": 0,
        "uptime": info.uptime,
        "cpu": 0.0,
    }
    if info.pid is not None:
        row["pid"] = info.pid
        row["qmpstatus"] = info.qmpstatus
    if info.lock:
        row["lock"] = info.lock
    if info.tags:
        row["tags"] = info.tags
    return row


def vm_status_row(info: VmStatusInfo, config: VmConfig) -> dict[str, object]:
    """A VM as ``GET /nodes/{node}/qemu/{vmid}/status/current`` shows it: the list row
    with ``qmpstatus`` (QEMU's run state, ``stopped`` when not running), ``ha`` and, with
    the guest agent configured, ``agent``."""
    row = vm_row(info)
    row["qmpstatus"] = info.qmpstatus if info.pid is not None else "stopped"
    row["ha"] = {"managed": 0}
    agent = config.get("agent")
    if agent:
        row["agent"] = 1 if agent.split(",")[0] in ("1", "enabled=1") else 0
    return row


def storage_row(status: StorageStatus) -> dict[str, object]:
    """A storage as ``GET /nodes/{node}/storage`` lists it (pve-storage ``Status.pm``)."""
    row: dict[str, object] = {
        "storage": status.storage,
        "type": status.type,
        "content": ",".join(sorted(status.content)),
        "enabled": int(status.enabled),
        "active": int(status.active),
        "shared": int(status.shared),
        "total": status.total,
        "used": status.used,
        "avail": status.available,
    }
    if status.total:
        row["used_fraction"] = status.used / status.total
    return row


def volume_row(volume: VolumeInfo) -> dict[str, object]:
    """A volume as ``GET .../storage/{storage}/content`` lists it."""
    row: dict[str, object] = {
        "volid": volume.volid,
        "format": volume.format,
        "content": volume.content,
        "size": volume.size,
        "used": volume.used,
    }
    if volume.vmid is not None:
        row["vmid"] = volume.vmid
    if volume.ctime is not None:
        row["ctime"] = volume.ctime
    if volume.notes:
        row["notes"] = volume.notes
    if volume.protected:
        row["protected"] = 1
    if volume.subtype is not None:
        row["subtype"] = volume.subtype
    return row


def backup_row(info: BackupInfo) -> dict[str, object]:
    """A backup as ``GET .../content?content=backup`` lists it (the same fields as
    :func:`volume_row` of its volume, built in one step: a storage may hold 10,000)."""
    row: dict[str, object] = {
        "volid": info.volid,
        "format": info.format,
        "content": "backup",
        "size": info.size,
        "used": info.size,
        "ctime": info.ctime,
        "subtype": info.subtype,
    }
    if info.vmid is not None:
        row["vmid"] = info.vmid
    if info.notes:
        row["notes"] = info.notes
    if info.protected:
        row["protected"] = 1
    return row
