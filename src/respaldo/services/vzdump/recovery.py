"""What a running backup has changed, kept on disk, and how to undo it.

Every change a backup makes to the VM (config lock, paused CPUs, a QEMU started for the
backup, fleecing nodes, a frozen guest, a ``.dat`` file) is recorded before it is made. The
same ``undo`` runs on every failure path of the backup itself, in the supervising process when
the backup worker was killed, and at the start of the next backup when both were: whoever comes
first leaves the VM as the user had it.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from respaldo.config.ids import is_decimal
from respaldo.config.keyvalue import atomic_write_text
from respaldo.errors import LockTimeout, RespaldoError
from respaldo.locks import file_lock
from respaldo.node import Node
from respaldo.qemu import fleece, process
from respaldo.qemu.agent import GuestAgent
from respaldo.qemu.qmp import Qmp
from respaldo.services.qmpower import VmPower
from respaldo.services.vmstore import VmStore


@dataclass
class BackupState:
    vmid: int
    pid: int = field(default_factory=os.getpid)
    locked: bool = False  # we set ``lock: backup`` in the VM config
    resume: bool = False  # the VM's CPUs are stopped by us: ``cont`` when undoing
    stop_qemu: bool = False  # QEMU was started for the backup (the VM was off)
    restart: bool = False  # stop mode shut the running VM down: start it again when undoing
    fleecing: bool = False  # fleecing nodes / NBD server may exist
    frozen: bool = False  # a guest-fsfreeze-freeze was sent
    dat: str | None = None  # the partial archive file
    scratch_dir: str | None = None
    nbd_socket: str | None = None


def state_path(node: Node, vmid: int) -> Path:
    return node.run_dir / "vzdump" / f"{vmid}.json"


def save(node: Node, state: BackupState) -> None:
    atomic_write_text(state_path(node, state.vmid), json.dumps(asdict(state)))


def load(node: Node, vmid: int) -> BackupState | None:
    try:
        return BackupState(**json.loads(state_path(node, vmid).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def stale(node: Node, vmid: int) -> BackupState | None:
    """Left by an earlier backup of the VM: called with the VM's backup lock held, so the
    process that wrote it is gone, whatever its pid is doing now."""
    state = load(node, vmid)
    if state is None or state.pid == os.getpid():
        return None
    return state


def undo(node: Node, state: BackupState, log: list[str]) -> None:
    """Put the VM back as the user had it; never raises, says what it did in ``log``."""
    paths = process.runtime_paths(node, state.vmid)
    qemu_running = process.running_pid(paths) is not None
    if state.frozen and qemu_running:
        _thaw(paths.qga, log)
    if qemu_running and (state.fleecing or state.resume or state.stop_qemu):
        try:
            with Qmp(paths.qmp_job, timeout=10) as qmp:
                if state.fleecing:
                    log.extend(fleece.teardown(qmp))
                if state.resume and not state.stop_qemu:
                    qmp.execute("cont")
                    log.append("resumed the VM")
        except RespaldoError as err:
            log.append(f"could not clean up inside QEMU: {err}")
    if state.stop_qemu and qemu_running:
        _stop(node, state.vmid, log)
    if state.restart and not qemu_running:
        _start(node, state.vmid, log)
    _remove_files(state, log)
    if state.locked:
        _unlock(node, state.vmid, log)
    state_path(node, state.vmid).unlink(missing_ok=True)


def _thaw(qga: Path, log: list[str]) -> None:
    try:
        with GuestAgent(qga, timeout=5) as agent:
            if agent.freeze_status() == "frozen":
                agent.thaw()
                log.append("thawed the guest filesystems")
    except RespaldoError as err:
        log.append(f"could not check or thaw the guest filesystems: {err}")


def _stop(node: Node, vmid: int, log: list[str]) -> None:
    try:
        VmPower(node).stop(vmid, skiplock=True)
        log.append("stopped the VM again (it was off before the backup)")
    except RespaldoError as err:
        log.append(f"could not stop the VM: {err}")


def _start(node: Node, vmid: int, log: list[str]) -> None:
    try:
        VmPower(node).start(vmid, skiplock=True)
        log.append("started the VM again (stop mode had shut it down)")
    except RespaldoError as err:
        log.append(f"could not start the VM again: {err}")


def _remove_files(state: BackupState, log: list[str]) -> None:
    if state.dat:
        with contextlib.suppress(FileNotFoundError):
            Path(state.dat).unlink()
            log.append(f"removed the partial archive {state.dat}")
    if state.scratch_dir:
        for scratch in Path(state.scratch_dir).glob(f"{fleece.FLEECE_PREFIX}*.qcow2"):
            scratch.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            Path(state.scratch_dir).rmdir()
    if state.nbd_socket:
        Path(state.nbd_socket).unlink(missing_ok=True)


def _unlock(node: Node, vmid: int, log: list[str]) -> None:
    store = VmStore(node)
    try:
        with store.locked(vmid):
            config = store.load(vmid)
            if config.lock == "backup":
                config.delete("lock")
                store.save(config)
    except RespaldoError as err:
        log.append(f"could not remove 'lock: backup' from VM {vmid}: {err}")


def recover_worker(node: Node, pid: int) -> list[str]:
    """Undo what the killed backup worker ``pid`` left, for every VM it was backing up."""
    notes: list[str] = []
    folder = node.run_dir / "vzdump"
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if not is_decimal(path.stem):
            continue
        state = load(node, int(path.stem))
        if state is None or state.pid != pid:
            continue
        # A new backup of the VM may have started since the worker died: it holds this
        # lock, and cleans up the stale state itself before it changes anything.
        try:
            with file_lock(backup_lock_path(node, state.vmid), f"backup of VM {state.vmid}", 5):
                if load(node, state.vmid) == state:
                    undo(node, state, notes)
        except LockTimeout:
            notes.append(f"VM {state.vmid}: a new backup runs, it cleans up on its own")
    return notes


def backup_lock_path(node: Node, vmid: int) -> Path:
    """Held for the whole backup of one VM (the ``lockwait`` of vzdump)."""
    return node.lock_dir / f"vzdump-{vmid}.lock"
