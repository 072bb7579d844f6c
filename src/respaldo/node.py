"""The node: its data directory, its name and its node-wide settings.

A node has one data directory, as Proxmox has ``/etc/pve`` and ``/var/lib/vz``, whichever
directory a command runs from: ``RESPALDO_HOME`` when set, else ``/var/lib/respaldo`` for
root, else ``$XDG_DATA_HOME/respaldo`` (``~/.local/share/respaldo``) for another user.

Layout of the data directory::

    config/            Proxmox-format configuration (what an admin edits or backs up)
      storage.cfg
      vzdump.conf
      node.cfg         node-wide respaldo settings (accelerator)
      qemu-server/<vmid>.conf
    run/               runtime state, rebuilt as processes come and go
      qemu/<vmid>.pid, <vmid>.qmp, <vmid>.qga
      lock/lock-<vmid>.conf
    log/               logs (QEMU serial consoles, tasks)
    storage/local/     the default ``local`` dir storage (images/, dump/)
"""

from __future__ import annotations

import enum
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from respaldo.config.keyvalue import KeyValueFile, atomic_write_text, read_keyvalue
from respaldo.errors import InputError


class Accelerator(enum.Enum):
    KVM = "kvm"
    TCG = "tcg"
    AUTO = "auto"


def _parse_accel(value: str, source: str) -> Accelerator:
    try:
        return Accelerator(value)
    except ValueError as err:
        raise InputError(source, value, "expected one of kvm, tcg, auto") from err


@dataclass(frozen=True)
class Node:
    home: Path
    name: str

    @classmethod
    def from_env(cls) -> Node:
        home = Path(os.environ.get("RESPALDO_HOME") or default_home()).absolute()
        name = os.environ.get("RESPALDO_NODE") or socket.gethostname().split(".")[0]
        return cls(home, name)

    @property
    def config_dir(self) -> Path:
        return self.home / "config"

    @property
    def vm_config_dir(self) -> Path:
        return self.config_dir / "qemu-server"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def qemu_run_dir(self) -> Path:
        return self.run_dir / "qemu"

    @property
    def lock_dir(self) -> Path:
        return self.run_dir / "lock"

    @property
    def log_dir(self) -> Path:
        return self.home / "log"

    @property
    def storage_cfg(self) -> Path:
        return self.config_dir / "storage.cfg"

    @property
    def vzdump_conf(self) -> Path:
        return self.config_dir / "vzdump.conf"

    @property
    def node_cfg(self) -> Path:
        return self.config_dir / "node.cfg"

    @property
    def default_storage_path(self) -> Path:
        return self.home / "storage" / "local"

    def ensure_dirs(self) -> None:
        for path in (self.vm_config_dir, self.qemu_run_dir, self.lock_dir, self.log_dir):
            path.mkdir(parents=True, exist_ok=True)

    def accelerator(self) -> Accelerator:
        """The node-wide default; ``RESPALDO_ACCEL`` overrides ``accel`` in node.cfg."""
        env = os.environ.get("RESPALDO_ACCEL")
        if env:
            return _parse_accel(env, "RESPALDO_ACCEL")
        if self.node_cfg.exists():
            value = read_keyvalue(self.node_cfg, sections=False).main.get("accel")
            if value:
                return _parse_accel(value, f"accel in {self.node_cfg}")
        return Accelerator.AUTO

    def set_accelerator(self, accel: Accelerator) -> None:
        exists = self.node_cfg.exists()
        cfg = read_keyvalue(self.node_cfg, sections=False) if exists else KeyValueFile()
        cfg.main.set("accel", accel.value)
        atomic_write_text(self.node_cfg, cfg.format())


SYSTEM_HOME = Path("/var/lib/respaldo")


def default_home() -> Path:
    """The node's data directory when ``RESPALDO_HOME`` is not set (see the module's doc)."""
    if os.geteuid() == 0:
        return SYSTEM_HOME
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "respaldo"


def kvm_usable() -> bool:
    """Whether /dev/kvm can be opened for use.

    This is the check ``accel: auto`` relies on; it cannot tell whether a given guest runs well
    under KVM (on some hosts a Linux guest hangs under KVM), which is why the accelerator is a
    setting that an admin can pin to ``tcg``.
    """
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    os.close(fd)
    return True
