"""A backup job: one or several VMs, each into its own archive and log, then prune and mail."""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from respaldo.config.keyvalue import read_keyvalue
from respaldo.config.prune import PruneOptions, parse_prune_backups
from respaldo.errors import (
    InputError,
    LockTimeout,
    NoSuchVM,
    NoSuchVolume,
    RespaldoError,
    TaskError,
    TaskStopped,
)
from respaldo.formats import clock_duration
from respaldo.node import Node
from respaldo.runner import binary, run
from respaldo.services.notifications import NotificationConfig
from respaldo.services.prune import prune
from respaldo.services.vmstore import VmStore
from respaldo.services.vzdump.guest import (
    BackupRunning,
    GuestBackup,
    GuestOutcome,
    backup_lock,
)
from respaldo.services.vzdump.hooks import HookRunner
from respaldo.services.vzdump.jobresult import GuestResult, JobResult
from respaldo.services.vzdump.limits import check_backup_limits
from respaldo.services.vzdump.notes import STANDALONE, render_notes
from respaldo.services.vzdump.options import VzdumpOptions, node_defaults, parse_options
from respaldo.services.vzdump.report import job_notification, send_job_mail
from respaldo.services.vzdump.stdout import StdoutStore
from respaldo.services.vzdump.tasklog import BackupLog
from respaldo.storage.backups import DirBackupStore, backup_filename
from respaldo.storage.backupstore import BackupStore, archive_location
from respaldo.storage.dirstorage import DirStorage
from respaldo.storage.registry import StorageRegistry
from respaldo.tasks import worker
from respaldo.tasks.context import MemoryContext, TaskContext
from respaldo.tasks.proc import is_running
from respaldo.tasks.store import TaskStore
from respaldo.tasks.upid import decode

DEFAULT_STORAGE = "local"


@dataclass
class Target:
    store: BackupStore
    #: None for a ``dumpdir``.
    storage: DirStorage | None


def resolve_vmids(node: Node, opts: VzdumpOptions) -> list[int]:
    """The VMIDs the job backs up, sorted: the members of ``pool`` (resolved by the caller,
    :attr:`VzdumpOptions.pool_vmids`), all but ``exclude``, or the VMIDs given (each must
    exist: NoSuchVM)."""
    store = VmStore(node)
    if opts.pool is not None:
        if opts.pool_vmids is None:
            raise InputError("pool", opts.pool, "the pool's members were not resolved")
        return sorted(opts.pool_vmids)
    if opts.all:
        return [vmid for vmid in store.vmids() if vmid not in opts.exclude]
    for vmid in opts.vmids:
        if not store.exists(vmid):
            raise NoSuchVM(vmid)
    return sorted(opts.vmids)


#: Seconds ``vzdump --stop`` waits for a running backup to end (Proxmox's 15).
STOP_WAIT = 15.0


def stop_running_backups(node: Node) -> list[str]:
    """``vzdump --stop``: ask every running ``vzdump`` task of the node to stop, and wait up
    to :data:`STOP_WAIT` seconds for each; returns their UPIDs. Raises TaskError for one
    that is still running then (Proxmox's ``stopping backup process <pid> failed``)."""
    rows, _ = TaskStore.for_node(node).list_tasks(limit=1000, typefilter="vzdump", source="active")
    stopped = []
    for row in rows:
        upid = decode(str(row["upid"]))
        if upid.pid == os.getpid():
            continue  # this very command
        if worker.stop(node, upid, wait=STOP_WAIT) and is_running(upid.pid, upid.pstart):
            raise TaskError(f"stopping backup process {upid.pid} failed")
        stopped.append(str(upid))
    return stopped


def resolve_target(node: Node, opts: VzdumpOptions) -> Target:
    """The job's backup store: ``dumpdir`` (a folder of files, no storage) or ``storage``."""
    if opts.dumpdir is not None:
        if not opts.dumpdir.is_absolute() or not opts.dumpdir.is_dir():
            raise InputError("dumpdir", str(opts.dumpdir), "must be an existing directory")
        return Target(DirBackupStore("", opts.dumpdir), None)
    registry = StorageRegistry(node)
    store = registry.backup_store(opts.storage or DEFAULT_STORAGE)
    storage = registry.get(store.storage_id)
    storage.activate()
    if opts.stdout:
        if opts.stdout_fd is None:
            raise InputError("stdout", 1, "option is only allowed on the command line interface.")
        return Target(StdoutStore(store, opts.stdout_fd), storage)
    return Target(store, storage)


class VzdumpJob:
    def __init__(self, node: Node, opts: VzdumpOptions) -> None:
        """Checks the target and the VMs at once (bad input fails before any work)."""
        self.node = node
        self.opts = opts
        self.ctx: TaskContext = MemoryContext()
        self.target = resolve_target(node, opts)
        self.vmids = resolve_vmids(node, opts)
        env = {
            "VMTYPE": "qemu",
            "STOREID": self.target.storage.id if self.target.storage else "",
            "HOSTNAME": socket.gethostname(),
        }
        if self.target.store.dump_dir is not None:  # a store of files
            env["DUMPDIR"] = str(self.target.store.dump_dir)
        self.hooks = HookRunner(opts.script, env)

    def _say(self, message: str) -> None:
        self.ctx.log(f"INFO: {message}")

    def run(self, ctx: TaskContext) -> JobResult:
        """Back up every VM of the job, reporting to ``ctx``.

        A stop (a signal, ``DELETE`` of the task) ends the job after the VM being backed up
        is put back: the job's error and its notification say so, then TaskStopped is
        raised again, as Proxmox's vzdump dies ``interrupted by signal``."""
        self.ctx = ctx
        started = datetime.now()
        clock = time.monotonic()
        result = JobResult(self.node.name, started, 0.0, [])
        self._say(f"starting new backup job: {self.opts.command_line()}")
        for warning in self.opts.warnings:
            self.ctx.warn(warning)
        for info in self.opts.infos:
            self._say(info)
        self._set_io_priority()
        stopped: TaskStopped | None = None
        try:
            self.hooks("job-init")
            self.hooks("job-start")
            self.target.store.clean_stale()
            for vmid in self.vmids:
                self.ctx.check_stop()
                result.guests.append(self._backup_guest(vmid))
            self.hooks("job-end")
        except RespaldoError as err:
            stopped = err if isinstance(err, TaskStopped) else None
            result.job_error = str(err)
            self.ctx.log(f"ERROR: Backup job failed - {err}")
            self._abort_hook()
        result.seconds = time.monotonic() - clock
        if result.job_error is None:
            self._say(
                "Backup job finished successfully"
                if result.ok
                else "Backup job finished with errors"
            )
        self._mail(result)
        if stopped is not None:
            raise stopped
        return result

    def run_task(self, ctx: TaskContext) -> JobResult:
        """:meth:`run` as the ``vzdump`` task runs it: a job error ends the task with that
        error, a failed guest with ``job errors`` (Proxmox's ``TASK ERROR: job errors``)."""
        result = self.run(ctx)
        if result.job_error is not None:
            raise TaskError(result.job_error)
        if not result.ok:
            raise TaskError("job errors")
        return result

    def _set_io_priority(self) -> None:
        """Proxmox's ionice: 0..7 best-effort priority, 8 the idle class (for this process)."""
        level = self.opts.ionice
        argv = ["-c", "3"] if level >= 8 else ["-c", "2", "-n", str(level)]
        try:
            run([binary("ionice"), *argv, "-p", str(os.getpid())], timeout=10)
        except RespaldoError as err:
            self.ctx.warn(f"could not set the I/O priority: {err}")

    def _abort_hook(self) -> None:
        try:
            self.hooks("job-abort")
        except RespaldoError as err:
            self._say(f"hook job-abort failed: {err}")

    def _backup_guest(self, vmid: int) -> GuestResult:
        """One VM under its backup lock; the archive is named when the lock is held (a
        second backup of the VM started in the same second waits, then gets its own name)."""
        clock = time.monotonic()
        try:
            lock = backup_lock(self.node, vmid, self.opts, self._say)
        except BackupRunning as err:
            # Never two backups of one VM at once: the job goes on without it.
            self.ctx.warn(f"{err}: skipped")
            return self._unlocked_result(vmid, clock, None, skipped=True)
        except LockTimeout as err:
            self.ctx.log(f"ERROR: Backup of VM {vmid} failed - {err}")
            return self._unlocked_result(vmid, clock, str(err))
        with lock:
            return self._backup_locked(vmid, clock)

    def _unlocked_result(
        self, vmid: int, clock: float, error: str | None, skipped: bool = False
    ) -> GuestResult:
        return GuestResult(
            vmid=vmid,
            name=self._guest_name(vmid),
            ok=error is None,
            error=error,
            archive=None,
            size=0,
            seconds=time.monotonic() - clock,
            log_text="",
            skipped=skipped,
        )

    def _guest_name(self, vmid: int) -> str:
        try:
            return VmStore(self.node).load(vmid).get("name") or f"VM {vmid}"
        except RespaldoError:
            return f"VM {vmid}"

    def _start_time(self, vmid: int) -> datetime:
        """When the backup starts, which names its archive and its log (Proxmox's
        ``vzdump-qemu-<vmid>-YYYY_MM_DD-HH_MM_SS``). A backup of the VM that started in this
        second holds that name already (its log, whatever its compression): this one starts
        in the next second. The VM's backup lock, held, keeps other backups of it out."""
        store = self.target.store
        while True:
            started = datetime.now()
            filename = backup_filename(vmid, started, self.opts.compress.extension)
            if store.read_log(filename) is None and not _archive_exists(store, filename):
                return started
            time.sleep(1.0 - time.time() % 1.0)  # into the next second: a clock, no event

    def _backup_locked(self, vmid: int, clock: float) -> GuestResult:
        started = self._start_time(vmid)
        log = BackupLog(self.ctx)
        filename = backup_filename(vmid, started, self.opts.compress.extension)
        name = self._guest_name(vmid)
        outcome: GuestOutcome | None = None
        error: RespaldoError | None = None
        try:
            self._check_limits(vmid)
            log.attach(functools.partial(self.target.store.append_log, filename))
            log.info(f"Starting Backup of VM {vmid} (qemu)")
            log.info(f"Backup started at {started:%Y-%m-%d %H:%M:%S}")
            VmStore(self.node).load(vmid)  # NoSuchVM, named in the guest's log
            guest = GuestBackup(self.node, vmid, self.opts, self.target.store, log, self.hooks)
            outcome = guest.run(started)
            self._after_backup(vmid, name, outcome, log)
            log.info(f"Finished Backup of VM {vmid} ({clock_duration(time.monotonic() - clock)})")
            log.info(f"Backup finished at {datetime.now():%Y-%m-%d %H:%M:%S}")
        except RespaldoError as err:
            error = err
            log.error(f"Backup of VM {vmid} failed - {err}")
            log.info(f"Failed at {datetime.now():%Y-%m-%d %H:%M:%S}")
            self._guest_abort_hook(vmid, log)
        log.detach()
        self._log_end_hook(vmid, filename, log)
        if isinstance(error, TaskStopped):
            raise error  # the job ends here, as Proxmox's on a signal
        return GuestResult(
            vmid=vmid,
            name=name,
            ok=error is None,
            error=None if error is None else str(error),
            archive=outcome.filename if outcome else None,
            size=outcome.size if outcome else 0,
            seconds=time.monotonic() - clock,
            log_text=log.text(),
        )

    def _check_limits(self, vmid: int) -> None:
        """Proxmox's limits, checked before anything is written (no log file either)."""
        retention = self._retention()
        storage = self.target.storage
        check_backup_limits(
            self.target.store,
            vmid,
            retention=retention,
            remove=self.opts.remove and not (retention is None or retention.is_keep_all()),
            protected=self.opts.protected,
            max_protected=storage.max_protected_backups if storage is not None else -1,
            storage=storage.id if storage is not None else None,
        )

    def _after_backup(self, vmid: int, name: str, outcome: GuestOutcome, log: BackupLog) -> None:
        store = self.target.store
        try:
            self.hooks(
                "backup-end",
                self.opts.mode.value,
                vmid,
                {"TARGET": archive_location(store, outcome.filename)},
            )
        except RespaldoError:
            self._discard(outcome.filename, log)
            raise
        if self.opts.stdout:
            return  # no archive here: nothing to note, protect or prune (as Proxmox's)
        if self.opts.notes_template:
            self._add_notes(vmid, name, outcome.filename, log)
        if self.opts.protected:
            log.info("marking backup as protected")
            store.set_protected(outcome.filename, True)
        self._prune(vmid, log)

    def _discard(self, filename: str, log: BackupLog) -> None:
        """A failed backup leaves no archive behind, whichever step failed (its log stays)."""
        try:
            with contextlib.suppress(NoSuchVolume):
                self.target.store.remove(filename, keep_log=True)
        except RespaldoError as err:
            log.warn(f"could not remove the archive {filename}: {err}")
            return
        log.info(f"removed the archive {filename}: the backup-end hook failed")

    def _add_notes(self, vmid: int, name: str, filename: str, log: BackupLog) -> None:
        """A template that does not render is a warning: the backup stays, without notes."""
        log.info("adding notes to backup")
        try:
            notes = render_notes(
                self.opts.notes_template or "",
                cluster=STANDALONE,
                guestname=name,
                node=self.node.name,
                vmid=vmid,
            )
        except InputError as err:
            log.warn(f"unable to add notes - {err.reason}")
            return
        self.target.store.set_notes(filename, notes)

    def _retention(self) -> PruneOptions | None:
        """Proxmox's order: the job's, then the storage's, then vzdump.conf's."""
        if self.opts.prune_backups is not None:
            return self.opts.prune_backups
        if self.target.storage is not None and self.target.storage.prune_backups:
            return parse_prune_backups(self.target.storage.prune_backups)
        return self.opts.node_prune_backups

    def _prune(self, vmid: int, log: BackupLog) -> None:
        retention = self._retention()
        if not self.opts.remove or retention is None or retention.is_keep_all():
            return
        kept = ", ".join(f"{rule}={retention.count(rule)}" for rule in sorted(retention.positive()))
        log.info(f"prune older backups with retention: {kept}")
        results = prune(self.target.store, vmid, retention, dry_run=False, log=log.info)
        removed = sum(1 for r in results if r.mark == "remove")
        extra = " not covered by keep-retention policy" if removed else ""
        log.info(f"pruned {removed} backup(s){extra}")

    def _guest_abort_hook(self, vmid: int, log: BackupLog) -> None:
        try:
            self.hooks("backup-abort", self.opts.mode.value, vmid)
        except RespaldoError as err:
            log.warn(f"hook backup-abort failed: {err}")

    def _log_end_hook(self, vmid: int, filename: str, log: BackupLog) -> None:
        logfile = self.target.store.log_path(filename)
        env = {} if logfile is None else {"LOGFILE": str(logfile)}
        try:
            self.hooks("log-end", self.opts.mode.value, vmid, env)
        except RespaldoError as err:
            self._say(f"hook log-end failed: {err}")

    def _mail(self, result: JobResult) -> None:
        """vzdump's ``notification-mode``: ``legacy-sendmail`` mails ``mailto`` as before;
        ``notification-system`` hands the job's notification to the node's matchers and
        targets; ``auto`` is the legacy mail when ``mailto`` is set, else the system."""
        mode = self.opts.notification_mode
        if mode == "legacy-sendmail" or (mode == "auto" and self.opts.mailto):
            self._legacy_mail(result)
        else:
            self._notify(result)

    def _legacy_mail(self, result: JobResult) -> None:
        if not self.opts.mailto:
            return
        try:
            settings = _node_settings(self.node)
            sent = send_job_mail(
                result, self.opts.mailto, self.opts.mailnotification.value, settings
            )
            if sent:
                self._say(f"sent the status mail to {', '.join(self.opts.mailto)}")
        except RespaldoError as err:
            # A mail that cannot be sent never fails a backup that worked.
            self.ctx.warn(f"could not send the status mail: {err}")

    def _notify(self, result: JobResult) -> None:
        notification = job_notification(result, self.opts.job_id)
        try:
            reached, failed = NotificationConfig(self.node).notify(notification)
        except RespaldoError as err:  # a notifications.cfg that cannot be read
            self.ctx.warn(f"could not send the notification: {err}")
            return
        if reached:
            self._say(f"notification sent to {', '.join(reached)}")
        for failure in failed:
            # A target that cannot be reached never fails a backup that worked.
            self.ctx.warn(f"could not send the notification: {failure}")


def _node_settings(node: Node) -> dict[str, str]:
    if not node.node_cfg.exists():
        return {}
    return read_keyvalue(node.node_cfg, sections=False).main.as_dict()


def run_vzdump(node: Node, given: Mapping[str, str], ctx: TaskContext) -> JobResult:
    """The service behind ``respaldo vzdump`` and ``POST /nodes/{node}/vzdump``."""
    opts = parse_options(given, node_defaults(node))
    return VzdumpJob(node, opts).run(ctx)


def _archive_exists(store: BackupStore, filename: str) -> bool:
    try:
        store.get(filename)
    except NoSuchVolume:
        return False
    return True
