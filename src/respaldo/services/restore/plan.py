"""What a restore will do, decided from the archive's header, its digest sidecar and the
options, before any change: which disks, onto which storage, in which format, of which size,
checked against which digests."""

from __future__ import annotations

from dataclasses import dataclass, field

from respaldo.archive.compress import open_reader
from respaldo.archive.digest import DeviceDigest, expected_by_name
from respaldo.archive.vma import (
    QmdumpMap,
    VmaHeader,
    check_capacity,
    parse_qmdump_map,
    read_header,
)
from respaldo.config.vmconfig import VmConfig
from respaldo.errors import ArchiveError, InputError
from respaldo.storage.backupstore import ArchiveSource
from respaldo.storage.registry import StorageRegistry

FORMATS = ("qcow2", "raw")


@dataclass(frozen=True)
class DiskPlan:
    key: str  # scsi0
    device: str  # drive-scsi0
    dev_id: int
    size: int
    storage: str
    format: str


@dataclass
class RestorePlan:
    archive: ArchiveSource
    header: VmaHeader
    config: VmConfig  # as archived (VMID of the target)
    disks: list[DiskPlan] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # archived disks left out by --disks
    # The digest sidecar's entries by device name; None when there is no sidecar.
    digests: dict[str, DeviceDigest] | None = None


def read_archive_header(archive: ArchiveSource) -> VmaHeader:
    """Only the header is read, whatever the compression: instant even for a huge archive.

    An uncompressed archive too small for the disks its header claims is refused here,
    before anything is allocated.
    """
    with open_reader(archive.open(), archive.name) as stream:
        header = read_header(stream)
        check_capacity(header, stream.stream_size)
        return header


def parse_map_storage(text: str | None) -> dict[str, str]:
    """``scsi1=other,virtio0=fast`` -> {"scsi1": "other", "virtio0": "fast"}."""
    result: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part:
            continue
        key, sep, storage = part.partition("=")
        if not sep or not key or not storage:
            raise InputError("map-storage", text, "expected <disk>=<storage>[,<disk>=<storage>]")
        result[key] = storage
    return result


def make_plan(
    registry: StorageRegistry,
    archive: ArchiveSource,
    vmid: int,
    storage: str | None,
    map_storage: dict[str, str],
    only_disks: list[str] | None,
) -> RestorePlan:
    header = read_archive_header(archive)
    try:
        text = header.config_text()
    except (KeyError, UnicodeDecodeError) as err:
        raise ArchiveError(f"{archive.name}: no readable qemu-server.conf in the archive") from err
    config = VmConfig.parse(vmid, text, f"{archive.name}:qemu-server.conf")
    plan = RestorePlan(archive, header, config)
    maps = {m.devname: m for m in parse_qmdump_map(text)}
    archived_keys = [maps[d.name].disk_key for d in header.devices if d.name in maps]
    _check_keys("map-storage", list(map_storage), archived_keys)
    if only_disks is not None:
        _check_keys("disks", only_disks, archived_keys)
    for dev in header.devices:
        if dev.is_vmstate:
            continue
        entry = maps.get(dev.name)
        if entry is None:
            raise ArchiveError(f"{archive.name}: device {dev.name} has no #qmdump#map line")
        if only_disks is not None and entry.disk_key not in only_disks:
            plan.skipped.append(entry.disk_key)
            continue
        target = map_storage.get(entry.disk_key) or storage or entry.storage
        plan.disks.append(_disk_plan(registry, entry, dev.dev_id, dev.size, target))
    # A sidecar that cannot be read, or lacks a restored disk, fails the plan.
    entries = archive.read_digest()
    if entries is not None:
        names = [disk.device for disk in plan.disks]
        plan.digests = expected_by_name(entries, names, f"of {archive.name}")
    return plan


def _check_keys(option: str, given: list[str], archived: list[str]) -> None:
    for key in given:
        if key not in archived:
            valid = ", ".join(archived) or "none"
            raise InputError(option, key, f"no such disk in the archive (disks: {valid})")


def _disk_plan(
    registry: StorageRegistry, entry: QmdumpMap, dev_id: int, size: int, storage: str
) -> DiskPlan:
    if not storage:
        raise InputError(
            "storage", "", f"the archive names no storage for {entry.disk_key}; give --storage"
        )
    plugin = registry.get(storage)  # NoSuchStorage names the configured ones
    if "images" not in plugin.content:
        raise InputError(
            "storage", storage, f"does not hold disk images (content: {','.join(plugin.content)})"
        )
    # swtpm reads a TPM state from raw volumes only
    fmt = entry.format if entry.format in FORMATS and entry.disk_key != "tpmstate0" else "raw"
    return DiskPlan(entry.disk_key, entry.devname, dev_id, size, storage, fmt)
