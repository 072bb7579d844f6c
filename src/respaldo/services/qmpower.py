"""VM power and runtime state: the service behind ``qm start|stop|shutdown|suspend|resume|
status|list`` and ``/nodes/{node}/qemu/{vmid}/status/...`` (privilege ``VM.PowerMgmt``, status
with ``VM.Audit``).

Every operation reads the truth afresh (config file, pid file, QMP), so a VM started by one
process is seen and driven by any other. Changing the config is :mod:`respaldo.services.qmconfig`.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass

from respaldo.config.schema import Schema, boolean, integer
from respaldo.config.stdparams import SKIPLOCK, VMID
from respaldo.config.vmconfig import VmConfig
from respaldo.errors import QemuError, QmpError, VMStateError
from respaldo.node import Accelerator, Node, kvm_usable
from respaldo.qemu import process
from respaldo.qemu.cmdline import build_argv, qemu_environment
from respaldo.qemu.qmp import Qmp
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
        integer("timeout", _TIMEOUT, minimum=0, default=60),
        boolean(
            "forceStop",
            "Make sure the VM stops: a hard stop when the guest has not shut down in time.",
            default=True,
        ),
    ),
    "Shutdown virtual machine: sends an ACPI event to the guest OS.",
)
SUSPEND_PARAMS = Schema((VMID, SKIPLOCK), "Suspend virtual machine (pause its CPUs).")
RESUME_PARAMS = Schema((VMID, SKIPLOCK), "Resume virtual machine.")
STATUS_PARAMS = Schema((VMID,), "Get virtual machine status.")
LIST_PARAMS = Schema((), "Virtual machine index (per node).")


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
        maxdisk = 0
        for drive in config.disks():
            maxdisk += drive.size or 0
        stats = process.process_stats(pid) if pid is not None else None
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
            uptime=stats.uptime if stats else 0,
            mem=stats.rss if stats else 0,
            tags=config.get("tags"),
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
            with self.qmp(vmid, timeout=5) as qmp:
                qmp.execute("quit")
        except QmpError:
            pass  # the monitor is gone or stuck: the signals below end the process
        if not process.wait_exit(pid, timeout):
            process.kill(pid)
        process.clean_runtime_files(paths)

    def shutdown(
        self,
        vmid: int,
        timeout: float = 60.0,
        force_stop: bool = True,
        skiplock: bool = False,
        ctx: TaskContext | None = None,
    ) -> bool:
        """ACPI power button; after ``timeout`` seconds a hard stop (or an error).

        Returns True when the guest shut down by itself, False when it had to be stopped
        (said in ``ctx``'s log).
        """
        with self.store.operating(vmid, skiplock):
            pid = self.pid(vmid)
            if pid is None:
                return True
            with self.qmp(vmid) as qmp:
                qmp.execute("system_powerdown")
            if process.wait_exit(pid, timeout):
                process.clean_runtime_files(process.runtime_paths(self.node, vmid))
                return True
            if not force_stop:
                raise VMStateError(
                    f"VM {vmid} did not shut down within {timeout:g} seconds "
                    "(use --forceStop 1 to stop it hard)"
                )
            if ctx is not None:
                ctx.log(f"VM {vmid} did not shut down within {timeout:g} seconds: stopped hard")
            self._stop_process(vmid, timeout=10)
            return False

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
