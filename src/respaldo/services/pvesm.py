"""Storage management: the service behind ``respaldo pvesm ...`` and ``/nodes/{node}/storage``."""

from __future__ import annotations

from pathlib import Path

from respaldo.config.propstring import parse_size
from respaldo.errors import ConflictError, NoSuchVolume
from respaldo.node import Node
from respaldo.services.vmstore import VmStore
from respaldo.storage.base import StorageStatus, VolumeInfo
from respaldo.storage.registry import StorageRegistry
from respaldo.storage.volid import check_vmid, parse_volid


class StorageManager:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.registry = StorageRegistry(node)
        self.vms = VmStore(node)

    def status(self, storage: str | None = None) -> list[StorageStatus]:
        plugins = [self.registry.get(storage)] if storage else self.registry.all()
        return [plugin.status() for plugin in plugins]

    def list(
        self, storage: str, content: str | None = None, vmid: int | None = None
    ) -> list[VolumeInfo]:
        return self.registry.get(storage).list_volumes(vmid=vmid, content=content)

    def add_dir(self, storage: str, path: str, content: str | None = None) -> None:
        self.registry.add_dir(storage, path, content)

    def remove(self, storage: str) -> None:
        for vmid in self.vms.vmids():
            for drive in self.vms.load(vmid).disks():
                if drive.volume.startswith(f"{storage}:"):
                    raise ConflictError(f"storage '{storage}' is used by VM {vmid} ({drive.key})")
        self.registry.remove(storage)

    def alloc(
        self, storage: str, vmid: int, filename: str, size: str, fmt: str | None = None
    ) -> str:
        """``pvesm alloc``: size in KiB unless it has a unit (K, M, G, T)."""
        check_vmid(vmid)
        size_bytes = parse_size(size, "size", default_unit="K")
        name = None if filename in ("", "-") else filename
        if name and fmt is None:
            fmt = name.rpartition(".")[2]
        plugin = self.registry.get(storage)
        return f"{storage}:{plugin.alloc_image(vmid, fmt or 'qcow2', size_bytes, name)}"

    def _user_of(self, volid: str) -> str | None:
        for vmid in self.vms.vmids():
            config = self.vms.load(vmid)
            for key, value in config.data.main.items():
                if value == volid or value.startswith(volid + ","):
                    return f"VM {vmid} ({key})"
        return None

    def free(self, volid: str) -> None:
        parsed = parse_volid(volid)
        user = self._user_of(volid)
        if user is not None:
            raise ConflictError(f"volume '{volid}' is still in use by {user}")
        plugin = self.registry.get(parsed.storage)
        if not plugin.volume_path(parsed.volname).exists():
            raise NoSuchVolume(volid)
        plugin.free_image(parsed.volname)

    def path(self, volid: str) -> Path:
        parsed = parse_volid(volid)
        plugin = self.registry.get(parsed.storage)
        return plugin.volume_path(parsed.volname)
