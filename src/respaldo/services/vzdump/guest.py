"""Backing up one VM: the modes, the point-in-time view, the copy into one VMA archive."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from respaldo.archive import compress
from respaldo.archive.digest import DeviceDigest
from respaldo.config.propstring import format_size, parse_propstring
from respaldo.config.vmconfig import Drive, VmConfig
from respaldo.errors import (
    ConflictError,
    LockTimeout,
    QemuError,
    RespaldoError,
    StorageError,
    TaskError,
)
from respaldo.formats import vzdump_size
from respaldo.locks import file_lock
from respaldo.node import Node
from respaldo.qemu import process
from respaldo.qemu.agent import GuestAgent
from respaldo.qemu.fleece import FleeceDisk, PointInTimeView
from respaldo.qemu.nbdread import IN_FLIGHT, NbdReader
from respaldo.qemu.qmp import Qmp
from respaldo.services.progress import Progress, Throttle
from respaldo.services.qmpower import VmPower, VmStatus
from respaldo.services.vzdump import recovery
from respaldo.services.vzdump.archiveconfig import archive_config
from respaldo.services.vzdump.archivesink import DeviceFeed, SinkFactory, VmaSinkFactory
from respaldo.services.vzdump.hooks import HookRunner
from respaldo.services.vzdump.options import BackupMode, VzdumpOptions
from respaldo.services.vzdump.tasklog import BackupLog
from respaldo.storage.backups import backup_filename
from respaldo.storage.backupstore import BackupStore, PendingWrite, archive_location
from respaldo.storage.registry import StorageRegistry

AGENT_PING_TIMEOUT = 3.0
FREEZE_TIMEOUT = 60.0


class BackupRunning(ConflictError):
    """A backup of the VM is still running (another task holds its backup lock)."""

    def __init__(self, vmid: int) -> None:
        super().__init__(f"VM {vmid} is still being backed up by another task")
        self.vmid = vmid


def backup_lock(
    node: Node, vmid: int, opts: VzdumpOptions, say: Callable[[str], None]
) -> ExitStack:
    """Take the backup lock of VM ``vmid`` (never two backups of one VM at once); the
    returned stack holds it until closed.

    A backup now waits up to ``lockwait`` minutes, saying so as Proxmox's vzdump does for its
    lock (``say("trying to get global lock - waiting...")``, then ``"got global lock"``), and
    raises LockTimeout after it. A backup of a job (``job-id``: the scheduler's) does not
    wait: it raises BackupRunning at once, so that the job goes on with its next VM.
    """
    scheduled = opts.job_id is not None
    waited = False

    def waiting() -> None:
        nonlocal waited
        waited = True
        if not scheduled:
            say("trying to get global lock - waiting...")

    lock = file_lock(
        recovery.backup_lock_path(node, vmid),
        f"backup of VM {vmid}",
        0.0 if scheduled else opts.lockwait * 60.0,
        on_wait=waiting,
    )
    stack = ExitStack()
    try:
        stack.enter_context(lock)
    except LockTimeout as err:
        if scheduled:
            raise BackupRunning(vmid) from err
        raise
    if waited:
        say("got global lock")
    return stack


@dataclass
class GuestOutcome:
    volid: str
    filename: str
    size: int


@dataclass
class IncludedDisk:
    drive: Drive
    format: str
    size: int
    path: Path

    @property
    def device(self) -> str:
        """Its device name in the archive and its NBD export: ``drive-<key>``."""
        return self.drive.backup_device


class GuestBackup:
    """One VM into one backup of ``store``. ``sinks`` makes the archive sink the disks are
    copied into (default: a VMA archive with the job's compression)."""

    def __init__(
        self,
        node: Node,
        vmid: int,
        opts: VzdumpOptions,
        store: BackupStore,
        log: BackupLog,
        hooks: HookRunner,
        sinks: SinkFactory | None = None,
    ) -> None:
        self.node = node
        self.vmid = vmid
        self.opts = opts
        self.store = store
        self.log = log
        self.hooks = hooks
        self.sinks = sinks or VmaSinkFactory(
            opts.compress, compress.zstd_threads(opts.zstd), opts.pigz
        )
        self.vms = VmPower(node)
        self.paths = process.runtime_paths(node, vmid)
        self.state = recovery.BackupState(vmid)
        self.mode = opts.mode

    # -- state bookkeeping -------------------------------------------------------------------

    def _record(self, **changes: object) -> None:
        for key, value in changes.items():
            setattr(self.state, key, value)
        recovery.save(self.node, self.state)

    # -- the run -------------------------------------------------------------------------------

    def run(self, started: datetime) -> GuestOutcome:
        """Back the VM up; the caller holds its backup lock (:func:`backup_lock`)."""
        self._recover_stale()
        try:
            return self._run_locked(started)
        finally:
            self._undo(self.state)

    def _recover_stale(self) -> None:
        stale = recovery.stale(self.node, self.vmid)
        if stale is not None:
            self.log.warn(f"cleaning up after an interrupted backup of VM {self.vmid}")
            self._undo(stale)

    def _undo(self, state: recovery.BackupState) -> None:
        notes: list[str] = []
        recovery.undo(self.node, state, notes)
        for note in notes:
            self.log.info(note)

    def _run_locked(self, started: datetime) -> GuestOutcome:
        config = self._lock_config()
        status = self.vms.status(self.vmid)
        self.log.info(f"status = {status.status.value}")
        self.log.info(f"VM Name: {config.name}")
        disks = self._select_disks(config)
        if status.status is VmStatus.STOPPED and self.mode is not BackupMode.STOP:
            self.log.info(f"VM is not running: backup mode '{self.mode.value}' becomes 'stop'")
            self.mode = BackupMode.STOP
        self.log.info(f"backup mode: {self.mode.value}")
        self.hooks("backup-start", self.mode.value, self.vmid)

        filename = backup_filename(self.vmid, started, self.opts.compress.extension)
        pending = self.store.begin(filename)
        partial = pending.partial_path
        self._record(dat=None if partial is None else str(partial))
        if self.opts.stdout:
            self.log.info("sending archive to stdout")
        else:
            self.log.info(f"creating vzdump archive '{archive_location(self.store, filename)}'")
        try:
            self._prepare_view(status.status, disks)
            digests = self._copy(config, disks, pending)
            self.log.check_stop()  # the last moment a stop still undoes the backup
            volid = pending.commit()
        except BaseException:
            pending.abort()
            raise
        self._record(dat=None)
        try:
            self.store.write_digest(filename, digests)
        except StorageError as err:
            self.log.warn(f"archive written, but not its digest file: {err}")
        size = self.store.get(filename).size
        if not self.opts.stdout:
            self.log.info(f"archive file size: {vzdump_size(size)}")
        return GuestOutcome(volid, filename, size)

    def _lock_config(self) -> VmConfig:
        with self.vms.store.editing(self.vmid) as config:  # refused when locked already
            config.set("lock", "backup")
            self._record(locked=True)
        return config

    def _select_disks(self, config: VmConfig) -> list[IncludedDisk]:
        """Every drive but CD-ROMs, ``backup=0`` ones and an EFI disk of a VM that does not
        boot OVMF (qemu-server's ``get_backup_volumes``), in Proxmox's drive order; the
        archive holds them sorted by key (PVE/VZDump/QemuServer.pm ``prepare``)."""
        included = []
        ovmf = config.get("bios") == "ovmf"
        for drive in sorted(config.drives(), key=lambda d: d.rank):
            reason = None
            if drive.is_cdrom:
                reason = "CD-ROM"
            elif drive.is_efidisk and not ovmf:
                reason = "efidisk but no OVMF BIOS"
            elif not drive.backup:
                reason = "backup=no"
            if reason is not None:
                self.log.info(f"exclude disk '{drive.key}' '{drive.volume}' ({reason})")
                continue
            path, fmt = self.vms.disks.volume_path(drive.volume, drive.key)
            size = self.vms.disks.size_of(drive.volume)
            # Proxmox's line: the size the config gives (qemu-server VZDump/QemuServer.pm)
            shown = f" {format_size(drive.size)}" if drive.size else ""
            self.log.info(f"include disk '{drive.key}' '{drive.volume}'{shown}")
            included.append(IncludedDisk(drive, fmt, size, path))
        if not included:
            raise TaskError(f"VM {self.vmid} has no disk to back up")
        return sorted(included, key=lambda d: d.drive.key)

    # -- the point-in-time view per mode ---------------------------------------------------

    def _prepare_view(self, status: VmStatus, disks: list[IncludedDisk]) -> None:
        if self.mode is BackupMode.STOP:
            self._stop_mode(status, disks)
        elif self.mode is BackupMode.SUSPEND:
            self._suspend_mode(status, disks)
        else:
            self._snapshot_mode(status, disks)

    def _stop_mode(self, status: VmStatus, disks: list[IncludedDisk]) -> None:
        was_off = status is VmStatus.STOPPED
        stopped_at = time.monotonic()
        if not was_off:
            self.hooks("pre-stop", self.mode.value, self.vmid)
            self.log.info("stopping virtual guest")
            self._record(restart=True)  # from here on, an undo starts the VM again
            clean = self.vms.shutdown(
                self.vmid, timeout=self.opts.stopwait * 60.0, force_stop=True, skiplock=True
            )
            stopped_at = time.monotonic()
            if not clean:
                self.log.warn(f"guest did not shut down within {self.opts.stopwait} min: stopped")
            self.hooks("pre-restart", self.mode.value, self.vmid)
        self.log.info("starting QEMU paused for the backup")
        # Recorded before the start: an undo after it resumes (or stops) that QEMU.
        self._record(resume=not was_off and status is VmStatus.RUNNING, stop_qemu=was_off)
        self.vms.start(self.vmid, paused=True, skiplock=True)
        self._record(restart=False)
        self._open_view(disks, freeze=False)
        if self.state.resume:
            self._resume()
            downtime = time.monotonic() - stopped_at
            self.log.info(f"guest downtime: {downtime:.2f} s (from QEMU's exit to resume)")
        if not was_off:
            self.hooks("post-restart", self.mode.value, self.vmid)

    def _suspend_mode(self, status: VmStatus, disks: list[IncludedDisk]) -> None:
        if status is VmStatus.RUNNING:
            self.log.info("suspending guest")
            self._record(resume=True)
            with Qmp(self.paths.qmp_job) as qmp:
                qmp.execute("stop")
        self._open_view(disks, freeze=False)
        if self.state.resume:
            self._resume()

    def _snapshot_mode(self, status: VmStatus, disks: list[IncludedDisk]) -> None:
        self._open_view(disks, freeze=status is VmStatus.RUNNING)

    def _resume(self) -> None:
        with Qmp(self.paths.qmp_job) as qmp:
            qmp.execute("cont")
        self._record(resume=False)
        self.log.info("resuming guest")

    def _agent_answers(self) -> bool:
        if not _agent_enabled(self.vms.store.load(self.vmid)):
            return False
        try:
            with GuestAgent(self.paths.qga, timeout=AGENT_PING_TIMEOUT) as agent:
                agent.ping()
        except RespaldoError as err:
            self.log.warn(f"guest agent not answering, backing up without freeze: {err}")
            return False
        return True

    def _scratch_dir(self) -> Path:
        """Where the fleecing images go: the ``fleecing`` storage when it is enabled (as
        Proxmox puts them there), else ``tmpdir``, else the node's run dir."""
        storage = self.opts.fleecing_storage
        if storage is not None:
            plugin = StorageRegistry(self.node).get(storage)
            self.log.info(f"fleecing images on storage '{storage}'")
            return plugin.images_dir / str(self.vmid)
        return (self.opts.tmpdir or self.node.run_dir / "fleece") / str(self.vmid)

    def _open_view(self, disks: list[IncludedDisk], freeze: bool) -> None:
        scratch = self._scratch_dir()
        nbd_socket = self.paths.qmp.with_suffix(".nbd")
        self._record(fleecing=True, scratch_dir=str(scratch), nbd_socket=str(nbd_socket))
        use_agent = freeze and self._agent_answers()
        freezer = _Freezer(self.paths.qga, self.log, lambda: self._record(frozen=True))
        with Qmp(self.paths.qmp_job, timeout=30) as qmp:
            fleece_disks = [_fleece_disk(d) for d in disks]
            self.view = PointInTimeView(qmp, fleece_disks, scratch, nbd_socket)
            self.view.open(
                freeze=freezer.freeze if use_agent else None,
                thaw=freezer.thaw if use_agent else None,
            )
        for disk, fleece_disk in zip(disks, fleece_disks, strict=True):
            disk.size = self.view.size(fleece_disk)  # as QEMU has it (a raw EFI disk: 528K)
        if use_agent and freezer.thawed:
            self._record(frozen=False)  # else undo() tries the thaw again at the end

    # -- the copy ----------------------------------------------------------------------------

    def _copy(
        self, config: VmConfig, disks: list[IncludedDisk], pending: PendingWrite
    ) -> list[DeviceDigest]:
        """Stream every disk into the archive sink; returns the data digest of each."""
        conf_text = archive_config(config, [(d.drive, d.format) for d in disks])
        configs = {"qemu-server.conf": conf_text.encode()}
        devices = [(d.device, d.size) for d in disks]
        sink = self.sinks(pending, configs, devices)
        try:
            throttle = Throttle(self.opts.bwlimit * 1024)
            total = sum(d.size for d in disks)
            progress = Progress(total, self.log.info, quiet=True)  # the totals at the end
            for dev_id, disk in enumerate(disks, start=1):
                self._copy_disk(sink.device(dev_id, disk.size), disk, progress, throttle)
            result = sink.close()
        except BaseException:
            sink.abort()
            raise
        progress.finish(result.bytes_zero, result.bytes_out)
        return result.digests

    def _copy_disk(
        self, feed: DeviceFeed, disk: IncludedDisk, progress: Progress, throttle: Throttle
    ) -> None:
        disk_progress = Progress(disk.size, self.log.info, label=disk.drive.key)
        nbd_socket = Path(self.state.nbd_socket or "")
        # performance's max-workers bounds the reads in flight (respaldo's own limit is 4)
        in_flight = max(1, min(IN_FLIGHT, self.opts.max_workers))
        with NbdReader(nbd_socket, disk.device, in_flight=in_flight) as reader:
            if reader.size != disk.size:
                raise QemuError(
                    f"disk {disk.drive.key}: NBD export has {reader.size} bytes, "
                    f"expected {disk.size}"
                )
            for piece in reader.pieces():
                self.log.check_stop()
                if piece.data is None:
                    feed.zero(piece.offset, piece.length)
                else:
                    throttle.take(piece.length)
                    feed.data(piece.offset, piece.data, handover=True)
                read = 0 if piece.data is None else piece.length
                progress.advance(piece.length, read)
                disk_progress.advance(piece.length, read)
        feed.finish()


class _Freezer:
    """Freeze and thaw through the guest agent; the time the guest was frozen goes to the log.

    The agent connection (connect and sync) is made before the freeze and kept for the thaw,
    and nothing is logged in between, so the guest stays frozen only for the freeze command,
    the transaction and the thaw command.
    """

    def __init__(self, qga: Path, log: BackupLog, on_freeze: Callable[[], None]) -> None:
        self.qga = qga
        self.log = log
        self.on_freeze = on_freeze
        self.agent: GuestAgent | None = None
        self.thawed = False
        self.frozen_at = 0.0
        self.freeze_ms = 0.0
        self.count = 0

    def freeze(self) -> None:
        self.on_freeze()
        self.log.info("issuing guest-agent 'fs-freeze' command")
        try:
            self.agent = GuestAgent(self.qga, timeout=FREEZE_TIMEOUT)
            self.agent.connect()
            self.frozen_at = time.monotonic()
            self.count = self.agent.freeze(FREEZE_TIMEOUT)
            self.freeze_ms = (time.monotonic() - self.frozen_at) * 1000
        except RespaldoError as err:
            # As Proxmox does: the backup goes on, crash-consistent instead of frozen. The
            # connection may hold a late answer: the thaw gets a fresh one.
            self.log.warn(f"unable to freeze guest filesystems: {err}")
            if self.agent is not None:
                self.agent.close()
                self.agent = None

    def thaw(self) -> None:
        """Thaw; a failure is logged, not raised: the point in time exists by now, and the
        backup's undo tries the thaw again when it ends."""
        started = time.monotonic()
        try:
            if self.agent is None:
                self.agent = GuestAgent(self.qga, timeout=FREEZE_TIMEOUT)
                self.agent.connect()
            self.agent.thaw(FREEZE_TIMEOUT)
        except RespaldoError as err:
            self.log.error(f"thawing the guest failed: {err}")
            return
        finally:
            if self.agent is not None:
                self.agent.close()
                self.agent = None
        self.thawed = True
        done = time.monotonic()
        self.log.info(f"froze {self.count} guest filesystem(s), then issued 'fs-thaw'")
        if self.frozen_at:
            self.log.info(
                f"guest filesystems were frozen for {(done - self.frozen_at) * 1000:.0f} ms "
                f"(freeze command {self.freeze_ms:.0f} ms, thaw command "
                f"{(done - started) * 1000:.0f} ms)"
            )


def _fleece_disk(disk: IncludedDisk) -> FleeceDisk:
    """The TPM state is attached to QEMU for the backup only (swtpm has it open)."""
    if disk.drive.is_tpmstate:
        return FleeceDisk(disk.drive.key, disk.size, disk.device, disk.path)
    return FleeceDisk(disk.drive.key, disk.size)


def _agent_enabled(config: VmConfig) -> bool:
    """Proxmox's ``agent: [enabled=]1[,freeze-fs-on-backup=0]``: may the backup freeze?"""
    try:
        props = parse_propstring(config.get("agent") or "0", "enabled", "agent")
    except RespaldoError:
        return False
    freeze = props.get("freeze-fs-on-backup", props.get("freeze-fs", "1"))
    return props.get("enabled") == "1" and freeze == "1"
