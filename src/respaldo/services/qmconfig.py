"""VM configs: the service behind ``qm create|set|config|destroy|unlock|resize`` and
``/nodes/{node}/qemu`` (create, destroy: ``VM.Allocate``) and ``.../qemu/{vmid}/config``
(``VM.Config.*``). Options are checked against :data:`respaldo.config.vmschema.VM_CONFIG`.

Running VMs are :mod:`respaldo.services.qmpower`'s business; this module asks it only whether a
VM runs (disks change only while it is stopped) and for its monitor (a live resize).
"""

from __future__ import annotations

import contextlib
import random
import time
import uuid
from collections.abc import Mapping

from respaldo.config.drive import drive_rank
from respaldo.config.propstring import (
    format_propstring,
    format_size,
    parse_propstring,
    parse_size,
)
from respaldo.config.schema import Schema, string
from respaldo.config.stdparams import SKIPLOCK, VMID
from respaldo.config.vmconfig import (
    UNUSED_KEY,
    Drive,
    NetDevice,
    VmConfig,
    is_drive_key,
)
from respaldo.config.vmformats import MACHINE_FORMAT
from respaldo.config.vmschema import MANAGED_KEYS, VM_CONFIG
from respaldo.errors import InputError, NoSuchVolume, VMStateError
from respaldo.node import Node
from respaldo.qemu import capabilities
from respaldo.qemu.machine import windows_version
from respaldo.runner import binary
from respaldo.services.disks import DiskManager, is_owned_volume
from respaldo.services.qmpower import VmPower
from respaldo.services.vmstore import VmStore
from respaldo.storage.registry import StorageRegistry

PROXMOX_OUI = "BC:24:11"

#: Parameters of the config methods (qemu-server ``PVE/API2/Qemu.pm``).
CREATE_PARAMS = Schema((VMID, *VM_CONFIG), "Create virtual machine.")
SET_PARAMS = Schema(
    (
        VMID,
        *VM_CONFIG,
        string("delete", "A list of settings you want to delete.", pattern=r"[a-z0-9,;\s]+"),
        SKIPLOCK,
    ),
    "Set virtual machine options.",
)
CONFIG_PARAMS = Schema((VMID,), "Get the virtual machine configuration.")
DESTROY_PARAMS = Schema((VMID, SKIPLOCK), "Destroy the VM and all used/owned volumes.")
UNLOCK_PARAMS = Schema((VMID,), "Unlock the VM.")
RESIZE_PARAMS = Schema(
    (
        VMID,
        string(
            "disk",
            "The disk you want to resize.",
            pattern=r"(ide|sata|scsi|virtio)[0-9]+",
            optional=False,
        ),
        string(
            "size",
            "The new size. With the '+' sign the value is added to the actual size of the "
            "volume, without it the value is taken as an absolute one. Shrinking is refused.",
            pattern=r"\+?\d+(\.\d+)?[KMGT]?",
            optional=False,
        ),
        SKIPLOCK,
    ),
    "Extend volume size.",
)


def random_mac(rng: random.Random | None = None) -> str:
    rng = rng or random.SystemRandom()
    return PROXMOX_OUI + "".join(f":{rng.randrange(256):02X}" for _ in range(3))


def _net_value(key: str, value: str) -> str:
    """``virtio,bridge=vmbr0`` gets a generated MAC: ``virtio=BC:24:11:..,bridge=vmbr0``."""
    props = parse_propstring(value, "model", key)
    model = props.pop("model", None)
    if model is not None:
        props = {model: random_mac(), **props}
    NetDevice.parse(key, format_propstring(props, None))  # validates model and shape
    return format_propstring(props, None)


def _config_text(value: object) -> str:
    """A parsed option as the config file spells it: booleans as 1/0."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _is_volume_key(key: str) -> bool:
    return key == "cdrom" or is_drive_key(key) or bool(UNUSED_KEY.match(key))


class VmConfigService:
    """Create, change and destroy VM configs, with their disks."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.store = VmStore(node)
        self.storages = StorageRegistry(node)
        self.disks = DiskManager(self.storages)
        self.power = VmPower(node)

    # -- validation of option sets ----------------------------------------------------------

    def check(self, options: Mapping[str, object]) -> None:
        """Check options as :meth:`create` and :meth:`set` will (schema, known storages,
        existing volumes inside their storage), changing nothing; InputError naming the bad
        one. For a check before a task starts."""
        self._normalise(options)

    def _normalise(self, options: Mapping[str, object]) -> dict[str, str]:
        """Check every key and value against the schema before anything on disk changes;
        return the config text of each (booleans as 1/0, new NICs with a MAC)."""
        for key, value in options.items():
            if MANAGED_KEYS.find(key) is not None:
                raise InputError(key, value, "unusedN entries are managed by respaldo")
        parsed = VM_CONFIG.parse(options, partial=True)
        result: dict[str, str] = {}
        for given_key, typed in parsed.items():
            key, value = given_key, _config_text(typed)
            if key == "cdrom":
                key, value = "ide2", f"{value},media=cdrom"
            if is_drive_key(key):
                drive = Drive.parse(key, value)
                self.disks.check_volume(drive)
                if drive.size is None and drive.props.get("size"):
                    parse_size(drive.props["size"], f"{key} size")
            elif key.startswith("net"):
                value = _net_value(key, value)
            result[key] = value
        return result

    def _apply(self, config: VmConfig, options: dict[str, str]) -> list[str]:
        """Set options, allocating new disks in Proxmox's drive order (scsi0 before efidisk0);
        return the volumes allocated (to free on error)."""
        allocated: list[str] = []
        drives_last = sorted(
            options.items(),
            key=lambda item: drive_rank(item[0]) if is_drive_key(item[0]) else (-1, 0),
        )
        try:
            for key, value in drives_last:
                if not is_drive_key(key):
                    if key == "description":
                        config.set_description(value)
                    else:
                        config.set(key, value)
                    continue
                requested = Drive.parse(key, value)
                drive = self.disks.allocate(config.vmid, requested)
                if drive is not requested:
                    allocated.append(drive.volume)
                else:
                    drive = self.disks.attach(requested)
                old = config.drive(key)
                if old and old.volume != drive.volume and is_owned_volume(old.volume, config.vmid):
                    config.set(config.next_unused_key(), old.volume)
                for unused_key, volume in config.unused_volumes():
                    if volume == drive.volume:  # attached again: no longer unused
                        config.delete(unused_key)
                config.set_drive(drive)
        except BaseException:
            for volume in allocated:
                self.disks.free(volume)
            raise
        return allocated

    # -- create, config, destroy --------------------------------------------------------------

    def create(self, vmid: int, options: Mapping[str, object]) -> VmConfig:
        normalised = self._normalise(options)
        with self.store.creating(vmid) as config:
            defaults = {"smbios1": f"uuid={uuid.uuid4()}", "vmgenid": str(uuid.uuid4())}
            for key, value in defaults.items():
                normalised.setdefault(key, value)
            if normalised.get("vmgenid") == "1":
                normalised["vmgenid"] = str(uuid.uuid4())
            normalised.update(self._created(normalised))
            self._apply(config, normalised)
            devices = config.default_boot_devices()
            if "boot" not in normalised and devices:
                config.set("boot", "order=" + ";".join(devices))
        return config

    def _created(self, options: Mapping[str, str]) -> dict[str, str]:
        """What qemu-server's create adds: ``meta`` (the creating QEMU and the time) and, for
        Windows guests, the machine pinned to this QEMU's version."""
        qemu = capabilities.query(binary("qemu-system-x86_64"))
        added = {"meta": f"creation-qemu={qemu.full_version},ctime={int(time.time())}"}
        machine = MACHINE_FORMAT.split(options.get("machine") or "", "machine")
        base = machine.pop("type", "pc")
        if windows_version(options.get("ostype")) and base in ("pc", "q35"):
            version = f"{qemu.version[0]}.{qemu.version[1]}"
            pinned = f"pc-i440fx-{version}" if base == "pc" else f"pc-q35-{version}"
            added["machine"] = ",".join([pinned, *(f"{k}={v}" for k, v in machine.items())])
        return added

    def config(self, vmid: int) -> VmConfig:
        return self.store.load(vmid)

    def set(
        self,
        vmid: int,
        options: Mapping[str, object],
        delete: list[str] | None = None,
        skiplock: bool = False,
    ) -> VmConfig:
        normalised = self._normalise(options)
        for key in delete or []:
            if key in normalised:
                raise InputError("delete", key, "cannot set and delete the same option")
        disk_keys = [k for k in [*normalised, *(delete or [])] if _is_volume_key(k)]
        to_free: list[str] = []
        with self.store.editing(vmid, skiplock=skiplock) as config:
            if disk_keys and self.power.pid(vmid) is not None:
                raise VMStateError(
                    f"VM {vmid} is running - stop it before changing its disks "
                    f"({', '.join(disk_keys)})"
                )
            for key in delete or []:
                to_free += self._delete_key(config, key)
            self._apply(config, normalised)
        for volume in to_free:  # only once the config no longer names them
            self.disks.free(volume)
        return config

    def _delete_key(self, config: VmConfig, key: str) -> list[str]:
        """Remove an option; returns the volumes to free once the config is saved."""
        value = config.get(key)
        if value is None:
            raise InputError("delete", key, f"VM {config.vmid} has no option '{key}'")
        config.delete(key)
        if UNUSED_KEY.match(key):
            return [value] if is_owned_volume(value, config.vmid) else []
        if is_drive_key(key):
            drive = Drive.parse(key, value)
            if not drive.is_cdrom and is_owned_volume(drive.volume, config.vmid):
                config.set(config.next_unused_key(), drive.volume)
        return []

    def unlock(self, vmid: int) -> None:
        with self.store.editing(vmid, skiplock=True) as config:
            config.delete("lock")

    def destroy(self, vmid: int, skiplock: bool = False) -> None:
        with self.store.operating(vmid, skiplock) as config:
            if config.get("protection") == "1":
                raise VMStateError(
                    f"VM {vmid} is protected (protection: 1); "
                    f"unset it with 'qm set {vmid} --protection 0' first"
                )
            if self.power.pid(vmid) is not None:
                raise VMStateError(f"VM {vmid} is running - destroy failed")
            volumes = [d.volume for d in config.disks()] + [v for _, v in config.unused_volumes()]
            for volume in volumes:
                if is_owned_volume(volume, vmid):
                    with contextlib.suppress(NoSuchVolume):  # gone already: nothing to free
                        self.disks.free(volume)
            self.store.remove(vmid)

    def resize(self, vmid: int, disk: str, size: str, skiplock: bool = False) -> int:
        """``qm resize``: ``+1G`` grows by, ``10G`` grows to; shrinking is refused."""
        with self.store.editing(vmid, skiplock=skiplock) as config:
            drive = config.drive(disk)
            if drive is None or drive.is_cdrom:
                raise InputError("disk", disk, f"VM {vmid} has no disk '{disk}'")
            current = self.disks.size_of(drive.volume)
            new = current + parse_size(size[1:]) if size.startswith("+") else parse_size(size)
            if new < current:
                raise InputError(
                    "size", size, f"shrinking disks is not supported (now {current} bytes)"
                )
            if self.power.pid(vmid) is not None:
                with self.power.qmp(vmid) as qmp:
                    qmp.execute("block_resize", {"node-name": f"drive-{disk}", "size": new})
            else:
                self.disks.resize(drive.volume, new)
            drive.props["size"] = format_size(new)
            config.set_drive(drive)
            return new
