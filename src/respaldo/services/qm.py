"""VM lifecycle: the service behind ``respaldo qm ...`` and ``/nodes/{node}/qemu``.

Every operation reads the truth afresh (config file, pid file, QMP), so a VM started by one
process is seen and driven by any other.
"""

from __future__ import annotations

import contextlib
import enum
import os
import random
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from respaldo.config.propstring import (
    format_propstring,
    format_size,
    parse_propstring,
    parse_size,
)
from respaldo.config.vmconfig import (
    DRIVE_KEY,
    NET_KEY,
    UNUSED_KEY,
    Drive,
    NetDevice,
    VmConfig,
    is_drive_key,
)
from respaldo.errors import InputError, NoSuchVolume, QemuError, QmpError, VMStateError
from respaldo.node import Accelerator, Node, kvm_usable
from respaldo.qemu import process
from respaldo.qemu.cmdline import build_argv, qemu_environment
from respaldo.qemu.qmp import Qmp
from respaldo.runner import binary, run
from respaldo.services.disks import DiskManager, is_owned_volume
from respaldo.services.vmstore import VmStore
from respaldo.storage.registry import StorageRegistry

# Keys ``qm create`` / ``qm set`` accept besides drives (scsiN, virtioN, sataN, ideN) and netN.
SIMPLE_KEYS = {
    "name": re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$"),
    "memory": re.compile(r"^[1-9]\d*$"),
    "cores": re.compile(r"^[1-9]\d*$"),
    "sockets": re.compile(r"^[1-9]\d*$"),
    "agent": re.compile(r"^(0|1|enabled=[01])(,.*)?$"),
    "kvm": re.compile(r"^[01]$"),
    "onboot": re.compile(r"^[01]$"),
    "protection": re.compile(r"^[01]$"),
    "args": re.compile(r"^.+$"),
    "smbios1": re.compile(r"^.+$"),
    "vmgenid": re.compile(r"^(0|1|[0-9a-fA-F-]{36})$"),
    "boot": re.compile(r"^order=[a-z0-9;]+$"),
    "ostype": re.compile(r"^[a-z0-9]+$"),
    "description": re.compile(r"(?s)^.*$"),
    "tags": re.compile(r"^[a-zA-Z0-9_.;+-]*$"),
    "scsihw": re.compile(r"^virtio-scsi-pci$"),
    "lock": re.compile(r"^(backup|clone|create|migrate|rollback|snapshot|suspended)$"),
}
PROXMOX_OUI = "BC:24:11"
MIN_MEMORY_MIB = 16


class VmStatus(enum.Enum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


@dataclass(frozen=True)
class VmStatusInfo:
    vmid: int
    name: str
    status: VmStatus
    qmpstatus: str  # QEMU's own run state ("running", "paused", "prelaunch"...) or "stopped"
    pid: int | None
    memory_mib: int
    cpus: int
    maxdisk: int
    lock: str | None


def random_mac(rng: random.Random | None = None) -> str:
    rng = rng or random.SystemRandom()
    return PROXMOX_OUI + "".join(f":{rng.randrange(256):02X}" for _ in range(3))


def _check_simple(key: str, value: str) -> None:
    pattern = SIMPLE_KEYS[key]
    if not pattern.fullmatch(value):
        raise InputError(key, value, f"does not match the format of '{key}'")
    if key == "memory" and int(value) < MIN_MEMORY_MIB:
        raise InputError(key, value, f"must be at least {MIN_MEMORY_MIB} MiB")


def _net_value(key: str, value: str) -> str:
    """``virtio,bridge=vmbr0`` gets a generated MAC: ``virtio=BC:24:11:..,bridge=vmbr0``."""
    props = parse_propstring(value, "model", key)
    model = props.pop("model", None)
    if model is not None:
        props = {model: random_mac(), **props}
    NetDevice.parse(key, format_propstring(props, None))  # validates model and shape
    return format_propstring(props, None)


def _is_volume_key(key: str) -> bool:
    return key == "cdrom" or is_drive_key(key) or bool(UNUSED_KEY.match(key))


class VmManager:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.store = VmStore(node)
        self.storages = StorageRegistry(node)
        self.disks = DiskManager(self.storages)

    # -- validation of option sets ----------------------------------------------------------

    def _normalise(self, options: Mapping[str, str]) -> dict[str, str]:
        """Check every key and value before anything on disk changes."""
        result: dict[str, str] = {}
        for given_key, given_value in options.items():
            key, value = given_key, given_value
            if key == "cdrom":
                key, value = "ide2", f"{value},media=cdrom"
            if key in SIMPLE_KEYS:
                _check_simple(key, value)
            elif is_drive_key(key):
                drive = Drive.parse(key, value)
                self.disks.check_volume(drive)
                if drive.size is None and drive.props.get("size"):
                    parse_size(drive.props["size"], f"{key} size")
            elif NET_KEY.match(key):
                value = _net_value(key, value)
            elif UNUSED_KEY.match(key):
                raise InputError(key, value, "unusedN entries are managed by respaldo")
            else:
                valid = ", ".join(
                    [*sorted(SIMPLE_KEYS), "cdrom", "scsiN", "virtioN", "sataN", "ideN", "netN"]
                )
                raise InputError("option", key, f"unknown option (valid: {valid})")
            result[key] = value
        return result

    def _apply(self, config: VmConfig, options: dict[str, str]) -> list[str]:
        """Set options, allocating new disks; return the volumes allocated (to free on error)."""
        allocated: list[str] = []
        try:
            for key, value in options.items():
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

    def create(self, vmid: int, options: Mapping[str, str]) -> VmConfig:
        normalised = self._normalise(options)
        with self.store.creating(vmid) as config:
            defaults = {"smbios1": f"uuid={uuid.uuid4()}", "vmgenid": str(uuid.uuid4())}
            for key, value in defaults.items():
                normalised.setdefault(key, value)
            if normalised.get("vmgenid") == "1":
                normalised["vmgenid"] = str(uuid.uuid4())
            if any(
                DRIVE_KEY.match(k).group(1) == "scsi"  # type: ignore[union-attr]
                for k in normalised
                if is_drive_key(k)
            ):
                normalised.setdefault("scsihw", "virtio-scsi-pci")
            self._apply(config, normalised)
        return config

    def config(self, vmid: int) -> VmConfig:
        return self.store.load(vmid)

    def set(
        self,
        vmid: int,
        options: Mapping[str, str],
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
            if disk_keys and self._pid(vmid) is not None:
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
            if self._pid(vmid) is not None:
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
            if self._pid(vmid) is not None:
                with self._qmp(vmid) as qmp:
                    qmp.execute("block_resize", {"node-name": f"drive-{disk}", "size": new})
            else:
                self.disks.resize(drive.volume, new)
            drive.props["size"] = format_size(new)
            config.set_drive(drive)
            return new

    # -- runtime ------------------------------------------------------------------------------

    def _pid(self, vmid: int) -> int | None:
        return process.running_pid(process.runtime_paths(self.node, vmid))

    def _qmp(self, vmid: int, timeout: float = 10.0) -> Qmp:
        return Qmp(process.runtime_paths(self.node, vmid).qmp, timeout)

    def _use_kvm(self, config: VmConfig) -> bool:
        if config.get("kvm") == "0":
            return False
        accel = self.node.accelerator()
        if accel is Accelerator.AUTO:
            return kvm_usable()
        return accel is Accelerator.KVM

    def status(self, vmid: int) -> VmStatusInfo:
        config = self.store.load(vmid)
        pid = self._pid(vmid)
        qmpstatus = "stopped"
        if pid is not None:
            try:
                with self._qmp(vmid, timeout=5) as qmp:
                    qmpstatus = qmp.execute("query-status")["status"]
            except QmpError:
                qmpstatus = "unknown"  # the process lives but its monitor does not answer
        if pid is None:
            status = VmStatus.STOPPED
        elif qmpstatus in ("running", "unknown"):
            status = VmStatus.RUNNING
        else:
            status = VmStatus.PAUSED
        maxdisk = 0
        for drive in config.disks():
            maxdisk += drive.size or 0
        return VmStatusInfo(
            vmid,
            config.name,
            status,
            qmpstatus,
            pid,
            config.memory,
            config.cores * config.sockets,
            maxdisk,
            config.lock,
        )

    def list(self) -> list[VmStatusInfo]:
        return [self.status(vmid) for vmid in self.store.vmids()]

    def start(self, vmid: int, paused: bool = False, skiplock: bool = False) -> int:
        """Start QEMU (daemonized); with ``paused`` the guest CPUs wait for ``resume``."""
        with self.store.operating(vmid, skiplock) as config:
            paths = process.runtime_paths(self.node, vmid)
            if process.running_pid(paths) is not None:
                raise VMStateError(f"VM {vmid} already running")
            drives = self.disks.resolve(config.drives())
            process.clean_runtime_files(paths)
            self.node.ensure_dirs()
            paths.serial_log.parent.mkdir(parents=True, exist_ok=True)
            argv = build_argv(
                binary("qemu-system-x86_64"),
                config,
                drives,
                paths,
                kvm=self._use_kvm(config),
                paused=paused,
            )
            run(argv, timeout=60, env=qemu_environment(os.environ))
            pid = process.running_pid(paths)
            if pid is None:
                raise QemuError(f"VM {vmid}: QEMU reported success but is not running")
            return pid

    def stop(self, vmid: int, timeout: float = 10.0, skiplock: bool = False) -> None:
        """Hard stop: QMP ``quit``, then SIGTERM/SIGKILL if QEMU does not go."""
        with self.store.operating(vmid, skiplock):
            self._stop_process(vmid, timeout)

    def _stop_process(self, vmid: int, timeout: float) -> None:
        paths = process.runtime_paths(self.node, vmid)
        pid = process.running_pid(paths)
        if pid is None:
            process.clean_runtime_files(paths)
            return
        try:
            with self._qmp(vmid, timeout=5) as qmp:
                qmp.execute("quit")
        except QmpError:
            pass  # the monitor is gone or stuck: the signals below end the process
        if not process.wait_exit(pid, timeout):
            process.kill(pid)
        process.clean_runtime_files(paths)

    def shutdown(
        self, vmid: int, timeout: float = 60.0, force_stop: bool = True, skiplock: bool = False
    ) -> bool:
        """ACPI power button; after ``timeout`` seconds a hard stop (or an error).

        Returns True when the guest shut down by itself, False when it had to be stopped.
        """
        with self.store.operating(vmid, skiplock):
            pid = self._pid(vmid)
            if pid is None:
                return True
            with self._qmp(vmid) as qmp:
                qmp.execute("system_powerdown")
            if process.wait_exit(pid, timeout):
                process.clean_runtime_files(process.runtime_paths(self.node, vmid))
                return True
            if not force_stop:
                raise VMStateError(
                    f"VM {vmid} did not shut down within {timeout:g} seconds "
                    "(use --forceStop 1 to stop it hard)"
                )
            self._stop_process(vmid, timeout=10)
            return False

    def _running_pid(self, vmid: int) -> int:
        pid = self._pid(vmid)
        if pid is None:
            raise VMStateError(f"VM {vmid} not running")
        return pid

    def suspend(self, vmid: int, skiplock: bool = False) -> None:
        with self.store.operating(vmid, skiplock):
            self._running_pid(vmid)
            with self._qmp(vmid) as qmp:
                qmp.execute("stop")

    def resume(self, vmid: int, skiplock: bool = False) -> None:
        with self.store.operating(vmid, skiplock):
            self._running_pid(vmid)
            with self._qmp(vmid) as qmp:
                qmp.execute("cont")
