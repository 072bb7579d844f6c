"""VM power and runtime state: the service behind ``qm start|stop|shutdown|suspend|resume|
status|list`` and ``/nodes/{node}/qemu/{vmid}/status/...`` (privilege ``VM.PowerMgmt``, status
with ``VM.Audit``).

Every operation reads the truth afresh (config file, pid file, QMP), so a VM started by one
process is seen and driven by any other. Changing the config is :mod:`respaldo.services.qmconfig`.
"""

from __future__ import annotations

import contextlib
import enum
import os
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

from respaldo.config.propstring import parse_propstring
from respaldo.config.schema import Schema, boolean, integer
from respaldo.config.stdparams import SKIPLOCK, VMID
from respaldo.config.vmconfig import Drive, VmConfig, is_drive_key
from respaldo.errors import InputError, QemuError, QmpError, UnsupportedConfig, VMStateError
from respaldo.node import Accelerator, Node, kvm_usable
from respaldo.qemu import capabilities, firmware, process
from respaldo.qemu import tpm as swtpm
from respaldo.qemu.cmdline import HostFacts, RuntimePaths, build_argv, qemu_environment
from respaldo.qemu.machine import resolve_machine
from respaldo.qemu.qmp import Qmp
from respaldo.qemu.support import notices, refusals
from respaldo.runner import binary, run
from respaldo.services.disks import DiskManager
from respaldo.services.vmstore import VmStore
from respaldo.storage.registry import StorageRegistry
from respaldo.tasks.context import TaskContext


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
    #: the boot disk's size, bytes (Proxmox's ``maxdisk``; 0 without a boot disk)
    maxdisk: int
    lock: str | None
    #: seconds since QEMU started (0 when stopped)
    uptime: int = 0
    #: resident memory of QEMU, bytes (0 when stopped)
    mem: int = 0
    tags: str | None = None


_TIMEOUT = "Wait maximal timeout seconds."

#: Parameters of the power operations (qemu-server ``PVE/API2/Qemu.pm``, ``vm_start`` & co.).
START_PARAMS = Schema((VMID, SKIPLOCK), "Start virtual machine.")
STOP_PARAMS = Schema(
    (VMID, SKIPLOCK, integer("timeout", _TIMEOUT, minimum=0, default=10)),
    "Stop virtual machine: the process is terminated at once, like pulling the plug.",
)
SHUTDOWN_PARAMS = Schema(
    (
        VMID,
        SKIPLOCK,
        integer(
            "timeout",
            _TIMEOUT + " Default: the 'down' of the VM's 'startup', else 60.",
            minimum=0,
        ),
        boolean(
            "forceStop",
            "Make sure the VM stops: a hard stop when the guest has not shut down in time "
            "(without it, a timeout is an error), or at once when it is paused.",
            default=False,
        ),
    ),
    "Shutdown virtual machine. This is similar to pressing the power button on a physical "
    "machine: it sends an ACPI event to the guest OS, which should then shut down cleanly.",
)
#: Seconds a shutdown waits by default (qemu-server ``_do_vm_stop``).
SHUTDOWN_TIMEOUT = 60.0
#: Seconds between SIGTERM and SIGKILL when a shutdown stops a VM hard.
KILL_GRACE = 10.0
SUSPEND_PARAMS = Schema((VMID, SKIPLOCK), "Suspend virtual machine (pause its CPUs).")
RESUME_PARAMS = Schema((VMID, SKIPLOCK), "Resume virtual machine.")
STATUS_PARAMS = Schema((VMID,), "Get virtual machine status.")
LIST_PARAMS = Schema((), "Virtual machine index (per node).")


#: The buses in the order Proxmox picks a boot disk from (qemu-server ``valid_drive_names``).
_BOOT_BUSES = ("ide", "scsi", "virtio", "sata")


def boot_disks(config: VmConfig) -> list[str]:
    """The drive keys the VM boots from, as qemu-server ``get_bootdisks`` reads ``boot``
    (``order=scsi0;ide2;net0``) or the legacy ``bootdisk``. A config without either (a VM
    respaldo created) boots from the disk Proxmox's ``create`` would have put first in its
    ``boot`` order: the first disk that is no CD-ROM, ide before scsi, virtio and sata."""
    boot = config.get("boot")
    if boot:
        try:
            props = parse_propstring(boot, "legacy", "boot")
        except InputError:
            props = {}
        if "order" in props:
            return [key for key in props["order"].split(";") if is_drive_key(key)]
    if config.get("bootdisk"):
        return [str(config.get("bootdisk"))]
    if boot:
        return []
    disks = [d for d in config.disks() if d.bus in _BOOT_BUSES]
    disks.sort(key=lambda d: (_BOOT_BUSES.index(d.bus), d.index))
    return [disks[0].key] if disks else []


def bootdisk_size(config: VmConfig) -> int:
    """Bytes of the first boot disk that is a disk (qemu-server ``bootdisk_size``), else 0:
    what ``qm list`` shows as BOOTDISK(GB)."""
    for key in boot_disks(config):
        try:
            drive = config.drive(key)
        except InputError:
            continue
        if drive is not None and not drive.is_cdrom and drive.volume != "none":
            return drive.size or 0
    return 0


def _startup_down(config: VmConfig) -> float | None:
    """The ``down`` seconds of the config's ``startup`` (``order=1,up=30,down=120``)."""
    text = config.get("startup")
    if not text:
        return None
    for part in text.split(","):
        key, _, value = part.partition("=")
        if key.strip() == "down" and value.strip().isdigit():
            return float(value)
    return None


class VmPower:
    """Start, stop and observe VMs (QEMU processes)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.store = VmStore(node)
        self.disks = DiskManager(StorageRegistry(node))

    def pid(self, vmid: int) -> int | None:
        """The pid of the VM's QEMU, or None when it does not run."""
        return process.running_pid(process.runtime_paths(self.node, vmid))

    def qmp(self, vmid: int, timeout: float = 10.0) -> Qmp:
        """A connection to the VM's QMP monitor (seconds of ``timeout`` per command)."""
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
        pid = self.pid(vmid)
        qmpstatus = "stopped"
        if pid is not None:
            try:
                with self.qmp(vmid, timeout=5) as qmp:
                    qmpstatus = qmp.execute("query-status")["status"]
            except QmpError:
                qmpstatus = "unknown"  # the process lives but its monitor does not answer
        if pid is None:
            status = VmStatus.STOPPED
        elif qmpstatus in ("running", "unknown"):
            status = VmStatus.RUNNING
        else:
            status = VmStatus.PAUSED
        maxdisk = bootdisk_size(config)
        stats = process.process_stats(pid) if pid is not None else None
        return VmStatusInfo(
            vmid,
            config.get("name") or f"VM {vmid}",
            status,
            qmpstatus,
            pid,
            config.memory,
            config.cores * config.sockets,
            maxdisk,
            config.lock,
            uptime=stats.uptime if stats else 0,
            mem=stats.rss if stats else 0,
            tags=config.get("tags"),
        )

    def list(self) -> list[VmStatusInfo]:
        return [self.status(vmid) for vmid in self.store.vmids()]

    def start(
        self,
        vmid: int,
        paused: bool = False,
        skiplock: bool = False,
        ctx: TaskContext | None = None,
    ) -> int:
        """Start QEMU (daemonized); with ``paused`` the guest CPUs wait for ``resume``.

        UnsupportedConfig, before anything runs, when the config holds keys respaldo cannot
        apply; what it applies otherwise than the config says is a warning in ``ctx``. A VM
        with ``tpmstate0`` gets its swtpm first, one with ``bios: ovmf`` its firmware images.
        """
        with self.store.operating(vmid, skiplock) as config:
            paths = process.runtime_paths(self.node, vmid)
            if process.running_pid(paths) is not None:
                raise VMStateError(f"VM {vmid} already running")
            problems = refusals(config.as_dict(), [name for name, _ in config.data.sections])
            if problems:
                raise UnsupportedConfig(vmid, problems)
            for notice in notices(config.as_dict()):
                if ctx is not None:
                    ctx.warn(notice)
            drives = self.disks.resolve(config.drives())
            qemu = binary("qemu-system-x86_64")
            host = self._host_facts(config, qemu)
            kvm = self._use_kvm(config)
            argv = build_argv(qemu, config, drives, paths, kvm=kvm, host=host, paused=paused)
            self._stop_leftovers(paths)
            self.node.ensure_dirs()
            paths.serial_log.parent.mkdir(parents=True, exist_ok=True)
            if host.ovmf is not None and not any(rd.drive.is_efidisk for rd in drives):
                # As Proxmox: a VM without efidisk0 boots on a fresh copy of the template.
                shutil.copyfile(host.ovmf.vars, paths.efivars)
            tpm = next((rd for rd in drives if rd.drive.is_tpmstate), None)
            if tpm is not None and tpm.path is not None:
                self._start_swtpm(tpm.drive, tpm.path, paths)
            try:
                run(argv, timeout=60, env=qemu_environment(os.environ))
            except BaseException:
                swtpm.stop(_swtpm_paths(paths))
                raise
            pid = process.running_pid(paths)
            if pid is None:
                swtpm.stop(_swtpm_paths(paths))
                raise QemuError(f"VM {vmid}: QEMU reported success but is not running")
            return pid

    def _host_facts(self, config: VmConfig, qemu: str) -> HostFacts:
        caps = capabilities.query(qemu)
        values = config.as_dict()
        ovmf = None
        if values.get("bios") == "ovmf":
            machine = resolve_machine(values, caps.machines, qemu_version=caps.version)
            efidisk = config.drive("efidisk0")
            props = efidisk.props if efidisk is not None else {}
            keys = props.get("pre-enrolled-keys", "0") in ("1", "on", "yes", "true")
            ovmf = firmware.ovmf_images(props.get("efitype"), keys, machine.q35)
        return HostFacts(
            caps.machines, caps.cpu_models, ovmf, capabilities.host_virt_flag(), caps.version
        )

    @staticmethod
    def _stop_leftovers(paths: RuntimePaths) -> None:
        """A swtpm that no QEMU ever connected to (a start that failed half-way) and the
        runtime files of an earlier run."""
        swtpm.stop(_swtpm_paths(paths))
        process.clean_runtime_files(paths)

    @staticmethod
    def _start_swtpm(drive: Drive, state: Path, paths: RuntimePaths) -> None:
        if drive.props.get("format", "raw") != "raw" or not state.is_file():
            raise InputError("tpmstate0", drive.volume, "swtpm needs a raw volume")
        version = drive.props.get("version", "v1.2")
        swtpm.setup(state, version)
        swtpm.start(state, version, _swtpm_paths(paths))

    def stop(self, vmid: int, timeout: float = 10.0, skiplock: bool = False) -> None:
        """Hard stop: QMP ``quit``, then SIGTERM/SIGKILL if QEMU does not go."""
        with self.store.operating(vmid, skiplock):
            self._stop_process(vmid, timeout)

    def _stop_process(self, vmid: int, timeout: float) -> None:
        paths = process.runtime_paths(self.node, vmid)
        pid = process.running_pid(paths)
        if pid is None:
            self._stop_leftovers(paths)
            return
        try:
            with self.qmp(vmid, timeout=5) as qmp:
                qmp.execute("quit")
        except QmpError:
            pass  # the monitor is gone or stuck: the signals below end the process
        if not process.wait_exit(pid, timeout):
            process.kill(pid)
        self._stop_leftovers(paths)  # swtpm ends by itself with QEMU (--terminate)

    def shutdown(
        self,
        vmid: int,
        timeout: float | None = None,
        force_stop: bool = False,
        skiplock: bool = False,
        ctx: TaskContext | None = None,
    ) -> bool:
        """ACPI power button, as qemu-server ``vm_shutdown``: wait ``timeout`` seconds (default:
        the ``down`` of the config's ``startup``, else 60) for QEMU to end.

        Without ``force_stop`` a paused VM is refused (``VM is paused - cannot shutdown``: the
        request would reach the guest whenever it resumes) and a timeout is an error
        (``VM quit/powerdown failed - got timeout``); with it, a paused VM is stopped at once
        and a VM still running after the timeout gets SIGTERM, then SIGKILL, each said in
        ``ctx``'s log. Returns True when the guest shut down by itself.
        """
        with self.store.operating(vmid, skiplock) as config:
            pid = self.pid(vmid)
            if pid is None:
                return True
            if self._paused(vmid):
                if not force_stop:
                    raise VMStateError("VM is paused - cannot shutdown")
                self._say(ctx, "VM is paused - stop instead of shutdown")
                self._stop_process(vmid, KILL_GRACE)
                return False
            with self.qmp(vmid) as qmp:
                qmp.execute("system_powerdown")
            if ctx is not None:
                ctx.check_stop()  # a stop that came during the QMP call is not lost
            wait = SHUTDOWN_TIMEOUT if timeout is None else timeout
            if timeout is None:
                wait = _startup_down(config) or SHUTDOWN_TIMEOUT
            if process.wait_exit(pid, wait):
                self._stop_leftovers(process.runtime_paths(self.node, vmid))
                return True
            if not force_stop:
                raise VMStateError("VM quit/powerdown failed - got timeout")
            self._say(ctx, "VM still running - terminating now with SIGTERM")
            self._terminate(vmid, pid, ctx)
            return False

    @staticmethod
    def _say(ctx: TaskContext | None, line: str) -> None:
        if ctx is not None:
            ctx.log(line)

    def _paused(self, vmid: int) -> bool:
        """qemu-server ``vm_is_paused`` (suspended included): QEMU's run state."""
        try:
            with self.qmp(vmid, timeout=5) as qmp:
                status = qmp.execute("query-status")["status"]
        except QmpError:
            return False
        return status in ("paused", "prelaunch", "suspended")

    def _terminate(self, vmid: int, pid: int, ctx: TaskContext | None) -> None:
        """SIGTERM; SIGKILL after :data:`KILL_GRACE` seconds."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if not process.wait_exit(pid, KILL_GRACE):
            self._say(ctx, "VM still running - terminating now with SIGKILL")
            process.kill(pid)
        self._stop_leftovers(process.runtime_paths(self.node, vmid))

    def _running_pid(self, vmid: int) -> int:
        pid = self.pid(vmid)
        if pid is None:
            raise VMStateError(f"VM {vmid} not running")
        return pid

    def suspend(self, vmid: int, skiplock: bool = False) -> None:
        with self.store.operating(vmid, skiplock):
            self._running_pid(vmid)
            with self.qmp(vmid) as qmp:
                qmp.execute("stop")

    def resume(self, vmid: int, skiplock: bool = False) -> None:
        with self.store.operating(vmid, skiplock):
            self._running_pid(vmid)
            with self.qmp(vmid) as qmp:
                qmp.execute("cont")


def _swtpm_paths(paths: RuntimePaths) -> swtpm.SwtpmPaths:
    return swtpm.SwtpmPaths(paths.swtpm_socket, paths.swtpm_pidfile, paths.swtpm_log)
