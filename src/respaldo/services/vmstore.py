"""Where VM configs live, and how they are read and written under the VM's lock."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from respaldo.config.ids import check_vmid, is_decimal
from respaldo.config.keyvalue import KeyValueFile, atomic_write_text
from respaldo.config.vmconfig import VmConfig
from respaldo.errors import NoSuchVM, VMExists, VMLocked
from respaldo.locks import file_lock
from respaldo.node import Node


class VmStore:
    def __init__(self, node: Node) -> None:
        self.node = node

    def path(self, vmid: int) -> Path:
        return self.node.vm_config_dir / f"{vmid}.conf"

    def exists(self, vmid: int) -> bool:
        return self.path(vmid).exists()

    def vmids(self) -> list[int]:
        if not self.node.vm_config_dir.is_dir():
            return []
        found = []
        for entry in self.node.vm_config_dir.glob("*.conf"):
            if is_decimal(entry.stem):
                found.append(int(entry.stem))
        return sorted(found)

    def load(self, vmid: int) -> VmConfig:
        check_vmid(vmid)
        path = self.path(vmid)
        if not path.exists():
            raise NoSuchVM(vmid)
        return VmConfig.load(vmid, path)

    def digest(self, vmid: int) -> str:
        return hashlib.sha1(self.path(vmid).read_bytes()).hexdigest()

    def save(self, config: VmConfig) -> None:
        atomic_write_text(self.path(config.vmid), config.format())

    def remove(self, vmid: int) -> None:
        self.path(vmid).unlink(missing_ok=True)

    @contextmanager
    def locked(self, vmid: int, timeout: float = 10.0) -> Iterator[None]:
        """The VM's lock file (as Proxmox's lock-<vmid>.conf), held for one change."""
        with file_lock(self.node.lock_dir / f"lock-{vmid}.conf", f"VM {vmid}", timeout):
            yield

    @contextmanager
    def operating(self, vmid: int, skiplock: bool = False) -> Iterator[VmConfig]:
        """The config, loaded under the VM's lock and held for one operation; a config
        ``lock`` refuses it unless ``skiplock``."""
        with self.locked(vmid):
            config = self.load(vmid)
            if not skiplock:
                check_unlocked(config)
            yield config

    @contextmanager
    def editing(self, vmid: int, skiplock: bool = False) -> Iterator[VmConfig]:
        """As ``operating``, and the config is saved when the block ends cleanly."""
        with self.operating(vmid, skiplock) as config:
            yield config
            self.save(config)

    @contextmanager
    def creating(self, vmid: int) -> Iterator[VmConfig]:
        """A new, empty config; refused when the VMID is taken. Saved when the block succeeds."""
        check_vmid(vmid)
        with self.locked(vmid):
            if self.exists(vmid):
                raise VMExists(vmid)
            config = VmConfig(vmid, KeyValueFile())
            yield config
            self.node.vm_config_dir.mkdir(parents=True, exist_ok=True)
            self.save(config)


def check_unlocked(config: VmConfig) -> None:
    if config.lock:
        raise VMLocked(config.vmid, config.lock)
