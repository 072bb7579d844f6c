"""qmrestore: a VMA archive back into a VM, new or existing (``POST /nodes/{node}/qemu``).

Order of work, so that a failure at any point loses nothing:
1. plan from the archive header and check the target VM (exists? running? protected? locked?);
2. reserve the VMID (a config holding only ``lock: create``) or lock the existing VM;
3. allocate new volumes and stream the archive into them; with the digest sidecar
   ``<archive>.digest.json`` beside the archive, check each disk against it;
4. write the final config, then free the old volumes it replaces.
A failure before 4 frees the new volumes and puts the old config back (or removes the
reservation): the old VM is untouched. A killed worker is undone the same way by its
supervisor, from the record kept in ``run/qmrestore/<vmid>.json``; when both died, the next
restore of that VMID does it first.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from respaldo.archive.compress import open_reader
from respaldo.archive.digest import SparseDigest, check_device, digest_for
from respaldo.archive.vma import VmaReader
from respaldo.config.ids import check_vmid
from respaldo.config.keyvalue import KeyValueFile, atomic_write_text
from respaldo.config.schema import Schema, boolean, integer, register_format, string
from respaldo.config.stdparams import VMID
from respaldo.config.vmconfig import VmConfig
from respaldo.errors import RespaldoError, VMExists, VMLocked, VMStateError
from respaldo.formats import human_size
from respaldo.node import Node
from respaldo.qemu import process
from respaldo.services.progress import Progress, Throttle
from respaldo.services.qmconfig import VmConfigService
from respaldo.services.restore.config import merge_over_existing, replace_disks, restored_config
from respaldo.services.restore.plan import RestorePlan, make_plan, parse_map_storage
from respaldo.services.restore.stream import ArchiveCopy, DeviceTarget
from respaldo.services.restore.volumes import VolumeTarget, open_target
from respaldo.tasks.context import MemoryContext, TaskContext


def _map_storage(text: str, key: str) -> str:
    parse_map_storage(text)
    return text


register_format("respaldo-map-storage", _map_storage, "<disk>=<storage>[,...]")

#: ``qmrestore``'s parameters (qemu-server ``PVE/CLI/qmrestore.pm``; the API takes them on
#: ``POST /nodes/{node}/qemu`` with ``archive``), plus respaldo's ``map-storage`` and ``disks``.
RESTORE_PARAMS = Schema(
    (
        string(
            "archive",
            "The backup file: a volume id (local:backup/...) or a path.",
            format="pve-volume-id-or-path",
            max_length=255,
            optional=False,
        ),
        VMID,
        string("storage", "Default storage for all disks.", format="pve-storage-id"),
        boolean("force", "Allow to overwrite existing VM.", default=False),
        boolean("unique", "Assign a unique random ethernet address.", default=False),
        boolean("start", "Start VM after it was created successfully.", default=False),
        integer("bwlimit", "Override I/O bandwidth limit (in KiB/s).", minimum=0, default=0),
        string(
            "map-storage",
            "Beyond Proxmox: the storage of some disks, <disk>=<storage>[,<disk>=<storage>].",
            format="respaldo-map-storage",
        ),
        string(
            "disks",
            "Beyond Proxmox: restore only these disks (comma separated, e.g. scsi0,virtio1).",
            pattern=r"[a-z0-9]*(,[a-z0-9]+)*",
        ),
    ),
    "Restore QemuServer vzdump backups.",
)


@dataclass
class RestoreOptions:
    archive: str
    vmid: int
    storage: str | None = None
    force: bool = False
    unique: bool = False
    start: bool = False
    bwlimit: int = 0  # KiB/s
    map_storage: dict[str, str] = field(default_factory=dict)
    disks: list[str] | None = None
    #: Config keys set over the archived config (``POST /nodes/{node}/qemu`` with ``archive``
    #: takes e.g. ``name``, ``cores``, ``memory``, ``sockets``), as config text.
    overrides: dict[str, str] = field(default_factory=dict)


@dataclass
class RestoreState:
    vmid: int
    pid: int = field(default_factory=os.getpid)
    # Which restore the record belongs to: a late undo of an earlier restore of the same VMID
    # must not touch the one that owns the VM now.
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_config: bool = False  # the config is our reservation: remove it when undoing
    old_config: str | None = None  # the existing VM's config, to put back when undoing
    new_volumes: list[str] = field(default_factory=list)


UNDO_LOCK_TIMEOUT = 60.0


def check_target(vms: VmConfigService, vmid: int, force: bool) -> VmConfig | None:
    """Whether a restore may write VM ``vmid``: its config if it exists (then only with
    ``force``, and not while it is protected, locked or running), None if it does not.

    Raises VMExists, VMLocked or VMStateError (running: Proxmox's ``unable to restore VM
    <vmid> - vm is running``, qemu-server ``PVE/API2/Qemu.pm`` create_vm, which refuses it
    before any task starts).
    """
    if not vms.store.exists(vmid):
        return None
    if not force:
        raise VMExists(vmid)
    config = vms.store.load(vmid)
    if config.get("protection") == "1":
        raise VMStateError(f"VM {vmid} is protected - unable to restore over it")
    if config.lock:
        raise VMLocked(vmid, config.lock)
    if vms.power.status(vmid).pid is not None:
        raise VMStateError(f"unable to restore VM {vmid} - vm is running")
    return config


def _state_path(node: Node, vmid: int) -> Path:
    return node.run_dir / "qmrestore" / f"{vmid}.json"


class Restore:
    def __init__(self, node: Node, opts: RestoreOptions) -> None:
        """Plans the restore from the archive's header: bad input fails before any work."""
        self.node = node
        self.opts = opts
        self.ctx: TaskContext = MemoryContext()
        self.vms = VmConfigService(node)
        self.vmid = check_vmid(opts.vmid)
        self.state = RestoreState(self.vmid)
        archive = self.vms.storages.archive_source(opts.archive)
        self.plan: RestorePlan = make_plan(
            self.vms.storages, archive, self.vmid, opts.storage, opts.map_storage, opts.disks
        )
        self._recover_stale()
        self.existing = self._check_target()

    def _say(self, message: str) -> None:
        self.ctx.log(message)

    def _recover_stale(self) -> None:
        """An earlier restore of this VMID whose worker and supervisor both died left its
        record (and ``lock: create``): undo it before anything else."""
        stale = _load_state(_state_path(self.node, self.vmid))
        if stale is None or _restore_process_alive(stale.pid):
            return
        self._say(f"cleaning up after an interrupted restore of VM {self.vmid}")
        for note in undo(self.node, stale):
            self._say(note)

    def _record(self) -> None:
        path = _state_path(self.node, self.vmid)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(asdict(self.state)))

    def _check_target(self) -> VmConfig | None:
        return check_target(self.vms, self.vmid, self.opts.force)

    # -- the run ------------------------------------------------------------------------------

    def run(self, ctx: TaskContext) -> VmConfig:
        """Restore, reporting to ``ctx`` (first what planning had to say); undone on any
        failure."""
        planning, self.ctx = self.ctx, ctx
        if isinstance(planning, MemoryContext):
            for line in planning.lines:
                ctx.log(line)
        start = time.monotonic()
        self.state.pid = os.getpid()  # the worker's, not the planning process's
        self._say(f"restore vma archive: {self.plan.archive.name}")
        self._reserve()
        try:
            volumes = self._restore_volumes()
            config, to_free = self._final_config(volumes)
            self.vms.store.save(config)
        except BaseException:
            self._say("restore failed: cleaning up")
            for note in undo(self.node, self.state):
                self._say(note)
            raise
        _state_path(self.node, self.vmid).unlink(missing_ok=True)
        for volume in to_free:
            self._free_old(volume)
        self._say(f"restore of VM {self.vmid} finished in {time.monotonic() - start:.1f} s")
        if self.opts.start:
            self._say(f"starting VM {self.vmid}")
            self.vms.power.start(self.vmid)
        return config

    def _reserve(self) -> None:
        with self.vms.store.locked(self.vmid):
            # Checked again under the lock: the VM may have changed since the plan was made.
            self.existing = self._check_target()
            if self.existing is None:
                if self.vms.store.exists(self.vmid):
                    raise VMExists(self.vmid)
                self.state.created_config = True
                self._record()
                reservation = VmConfig(self.vmid, KeyValueFile())
                reservation.set("lock", "create")
                self.node.vm_config_dir.mkdir(parents=True, exist_ok=True)
                self.vms.store.save(reservation)
            else:
                self.state.old_config = self.existing.format()
                self._record()
                locked = VmConfig.parse(self.vmid, self.state.old_config)
                locked.set("lock", "create")
                self.vms.store.save(locked)

    def _restore_volumes(self) -> dict[str, tuple[str, int]]:
        for name, data in self.plan.header.configs.items():
            self._say(f"CFG: size: {len(data)} name: {name}")
        for skipped in self.plan.skipped:
            self._say(f"skip disk '{skipped}' (not in --disks)")
        volumes: dict[str, tuple[str, int]] = {}
        targets: dict[int, DeviceTarget] = {}
        opened: list[VolumeTarget] = []
        try:
            for disk in self.plan.disks:
                storage = self.vms.storages.get(disk.storage)
                volname = storage.alloc_image(self.vmid, disk.format, disk.size)
                volid = f"{storage.id}:{volname}"
                self.state.new_volumes.append(volid)
                self._record()
                self._say(
                    f"DEV: dev_id={disk.dev_id} size: {disk.size} devname: {disk.device} "
                    f"-> new volume ID is '{volid}'"
                )
                path = storage.volume_path(volname)
                socket = self.node.run_dir / "qmrestore" / f"{self.vmid}-{disk.key}.nbd"
                target = open_target(path, disk.format, socket)
                opened.append(target)
                targets[disk.dev_id] = DeviceTarget(target, disk.size)
                volumes[disk.key] = (volid, disk.size)
            self._copy(targets)
            for target in opened:
                target.close()
            opened.clear()
        finally:
            for target in opened:
                target.abort()
        return volumes

    def _copy(self, targets: dict[int, DeviceTarget]) -> None:
        total = sum(d.size for d in self.plan.header.devices if not d.is_vmstate)
        progress = Progress(total, self._say)
        digests = self._digests()
        throttle = Throttle(self.opts.bwlimit * 1024)
        copy = ArchiveCopy(targets, progress, throttle, digests, self.ctx.check_stop)
        with open_reader(self.plan.archive.open(), self.plan.archive.name) as stream:
            copy.run(VmaReader(stream))
        sparse = total - copy.written
        share = sparse * 100 / total if total else 0.0
        self._say(
            f"total bytes read {total}, sparse bytes {sparse} ({share:.0f}%), "
            f"written {human_size(copy.written)}"
        )
        self._check_digests(digests)
        self.ctx.check_stop()  # the last moment a stop still undoes the restore

    def _digests(self) -> dict[int, SparseDigest]:
        """By device id, the digests the copy recomputes: one per restored disk when the
        sidecar is there, none else."""
        expected = self.plan.digests
        if expected is None:
            return {}
        return {d.dev_id: digest_for(d.device, d.size, expected) for d in self.plan.disks}

    def _check_digests(self, digests: dict[int, SparseDigest]) -> None:
        """Each restored disk against the digest sidecar; a mismatch fails the restore."""
        sidecar = f"{self.plan.archive.name.rpartition('/')[2]}.digest.json"
        if self.plan.digests is None:
            self._say(f"no digest sidecar {sidecar}: the restored data could not be checked")
            return
        for disk in self.plan.disks:
            check_device(self.plan.digests[disk.device], digests[disk.dev_id])
            self._say(f"data of {disk.device} matches its digest in {sidecar}")

    def _final_config(self, volumes: dict[str, tuple[str, int]]) -> tuple[VmConfig, list[str]]:
        if self.existing is not None and self.opts.disks is not None:
            config, to_free = replace_disks(self.existing, volumes)
        else:
            config = restored_config(self.plan.config, volumes, self.opts.unique)
            to_free = []
            if self.existing is not None:
                config, to_free = merge_over_existing(config, self.existing, set(volumes))
        for key, value in self.opts.overrides.items():
            if key == "description":
                config.set_description(value)
            else:
                config.set(key, value)
        return config, to_free

    def _free_old(self, volume: str) -> None:
        try:
            self.vms.disks.free(volume)
            self._say(f"freed old volume '{volume}'")
        except RespaldoError as err:
            self.ctx.warn(f"could not free old volume '{volume}': {err}")


def undo(node: Node, state: RestoreState, lock_timeout: float = UNDO_LOCK_TIMEOUT) -> list[str]:
    """Free the new volumes, put the config back as it was; never raises.

    Done under the VM's config lock, and only while the record in ``run/qmrestore`` is still
    this restore's (another process may have undone it, and a new restore of the VMID may own
    the VM by now) and the config still carries the restore's ``lock: create`` (or is gone):
    once the final config is written, or an administrator unlocked and changed the VM, the
    volumes belong to that config and nothing is touched. When the lock is not to be had, or
    something fails half-way, the record stays for the next restore of the VMID to finish.
    """
    notes: list[str] = []
    record = _state_path(node, state.vmid)
    try:
        vms = VmConfigService(node)
        with vms.store.locked(state.vmid, timeout=lock_timeout):
            current = _load_state(record)
            if current is None or current.token != state.token:
                notes.append(
                    f"nothing to undo for VM {state.vmid}: the restore's record is gone or "
                    "belongs to another restore"
                )
                return notes
            _stop_nbd_servers(node, state.vmid, notes)
            if _owned_by_restore(vms, state, notes):
                _free_new_volumes(vms, state, notes)
                _put_config_back(vms, state, notes)
            record.unlink(missing_ok=True)
    except (RespaldoError, OSError, ValueError) as err:
        notes.append(f"could not undo the restore of VM {state.vmid} ({err}); kept {record}")
    return notes


def _load_state(path: Path) -> RestoreState | None:
    try:
        return RestoreState(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _restore_process_alive(pid: int) -> bool:
    """Is ``pid`` still a respaldo process (a restore worker or its supervisor)?"""
    return b"respaldo" in process.command_line(pid)


def _owned_by_restore(vms: VmConfigService, state: RestoreState, notes: list[str]) -> bool:
    """Is the config still the restore's reservation (or the untouched old config)?"""
    if not vms.store.exists(state.vmid):
        return True
    try:
        text = vms.store.path(state.vmid).read_text(encoding="utf-8")
        lock = vms.store.load(state.vmid).lock
    except (OSError, ValueError, RespaldoError) as err:
        notes.append(f"left VM {state.vmid} as it is: its configuration is unreadable: {err}")
        return False
    if lock == "create" or text == state.old_config:
        return True
    notes.append(
        f"left VM {state.vmid} as it is: its configuration is no longer the restore's "
        f"(lock: {lock or 'none'})"
    )
    return False


def _free_new_volumes(vms: VmConfigService, state: RestoreState, notes: list[str]) -> None:
    for volume in state.new_volumes:
        try:
            vms.disks.free(volume)
            notes.append(f"freed new volume '{volume}'")
        except RespaldoError as err:
            notes.append(f"could not free new volume '{volume}': {err}")


def _put_config_back(vms: VmConfigService, state: RestoreState, notes: list[str]) -> None:
    path = vms.store.path(state.vmid)
    if state.created_config:
        path.unlink(missing_ok=True)
        notes.append(f"removed the configuration of VM {state.vmid} (restore did not finish)")
    elif state.old_config is not None:
        try:
            atomic_write_text(path, state.old_config)
            notes.append(f"put back the previous configuration of VM {state.vmid}")
        except OSError as err:
            notes.append(f"could not put back the configuration of VM {state.vmid}: {err}")


def _stop_nbd_servers(node: Node, vmid: int, notes: list[str]) -> None:
    """qemu-nbd servers of a killed worker still run (they fork off): end them."""
    for pidfile in (node.run_dir / "qmrestore").glob(f"{vmid}-*.pid"):
        socket = pidfile.with_suffix(".nbd")
        try:
            pid = int(pidfile.read_text().strip())
            if str(socket).encode() in process.command_line(pid):
                process.kill(pid)
                notes.append(f"stopped qemu-nbd {pid} serving {socket.name}")
        except (OSError, ValueError, RespaldoError):
            pass  # gone already
        pidfile.unlink(missing_ok=True)
        socket.unlink(missing_ok=True)


def recover_worker(node: Node, pid: int) -> list[str]:
    """Undo what a killed restore worker ``pid`` left."""
    notes: list[str] = []
    folder = node.run_dir / "qmrestore"
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        state = _load_state(path)
        if state is not None and state.pid == pid:
            notes += undo(node, state)
    return notes
