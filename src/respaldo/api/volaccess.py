"""Who may use a volume: pve-storage ``PVE::Storage::check_volume_access``, the rule behind
every method that takes a volume from the caller (a backup to restore, list, read, change; a
disk for a VM's config).

1. A file system path (anything that is not ``<storage>:<volume name>``) is root@pam's alone.
2. ``Datastore.Allocate`` on the storage allows every volume of it.
3. Otherwise by content: ISO images with ``Datastore.AllocateSpace`` or ``Datastore.Audit``;
   a volume of the VM being worked on (``vmid``) always; a backup of a guest with
   ``Datastore.AllocateSpace`` on the storage and ``VM.Backup`` on the guest; a disk image of
   a VM with ``Datastore.Audit`` on the storage and ``VM.Config.Disk`` on the VM; nothing else.
"""

from __future__ import annotations

from respaldo.api.method import Call
from respaldo.config.ids import STORAGE_ID
from respaldo.errors import InputError, PermissionDenied
from respaldo.storage.backups import backup_owner
from respaldo.storage.base import Storage, VolumeInfo, VolumeName
from respaldo.storage.registry import StorageRegistry

#: pve-storage ``parse_volume_id``: a volume id, else the text is a path.
_READABLE = ("iso", "vztmpl", "import")


def is_volid(text: str) -> bool:
    """Whether ``text`` is a volume id (``<storage>:<name>``) rather than a path."""
    storage, sep, volname = text.partition(":")
    return bool(sep and volname) and STORAGE_ID.fullmatch(storage) is not None


class VolumeAccess:
    """:func:`check_volume_access` for many volumes of one call (a listing): the storages
    are read once."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self._registry = StorageRegistry(call.node)
        self._storages: dict[str, Storage] = {}
        self._privs: dict[str, set[str]] = {}
        self._verdicts: dict[tuple[str, str, int | None], bool] = {}

    def volume_name(self, volid: str, what: str = "volume") -> VolumeName:
        """The content type and owner of a volume id; InputError for a name the storage does
        not use (``..``, a folder, a NUL or newline...), NotFoundError for an unknown
        storage."""
        storage_id, _, volname = volid.partition(":")
        storage = self._storages.get(storage_id)
        if storage is None:
            storage = self._storages[storage_id] = self._registry.get(storage_id)
        try:
            return storage.parse_volname(volname)
        except InputError as err:
            raise InputError(what, volid, err.reason) from err

    def _held(self, path: str) -> set[str]:
        privs = self._privs.get(path)
        if privs is None:
            privs = self._privs[path] = self.call.access.permissions(self.call.principal, path)
        return privs

    def _need(self, path: str, *privs: str, any: bool = False) -> None:
        held = self._held(path)
        missing = [priv for priv in privs if priv not in held]
        if missing and (not any or len(missing) == len(privs)):
            raise PermissionDenied(f"{path}, {'|'.join(missing) if any else missing[0]}")

    def check(
        self,
        volume: str,
        *,
        vmid: int | None = None,
        content: str | None = None,
        what: str = "volume",
    ) -> VolumeName | None:
        """Raise PermissionDenied (403) unless the caller may use ``volume`` (the module's
        rules); ``vmid`` is the VM the volume is for (its own volumes are allowed),
        ``content`` the content type the method needs (InputError, 400, for another).
        Returns the parsed volume name, or None for a path (root@pam only)."""
        if not is_volid(volume):
            if not self.call.is_root:
                raise PermissionDenied("only root can pass arbitrary filesystem paths")
            return None
        name = self.volume_name(volume, what)
        if content is not None and name.vtype != content:
            raise InputError(
                what, volume, f"unable to use volume - content type needs to be '{content}'"
            )
        storage = f"/storage/{volume.partition(':')[0]}"
        if "Datastore.Allocate" in self._held(storage):
            return name
        if name.vtype in _READABLE:
            self._need(storage, "Datastore.AllocateSpace", "Datastore.Audit", any=True)
        elif name.owner is not None and name.owner == vmid:
            pass  # the VM's own volume
        elif name.vtype == "backup" and name.owner is not None:
            self._need(storage, "Datastore.AllocateSpace")
            self._need(f"/vms/{name.owner}", "VM.Backup")
        elif name.vtype == "images" and name.owner is not None:
            self._need(storage, "Datastore.Audit")
            self._need(f"/vms/{name.owner}", "VM.Config.Disk")
        else:
            raise PermissionDenied(f"missing privileges to access {volume}")
        return name

    def allows_all(self, storage_id: str) -> bool:
        """Whether the caller may use every volume of a storage (``Datastore.Allocate``): a
        listing then needs no check per volume."""
        return "Datastore.Allocate" in self._held(f"/storage/{storage_id}")

    def allows(self, volume: VolumeInfo) -> bool:
        """Whether the caller may see a listed volume (a listing leaves out the others). The
        rules depend on the storage, the content and the owner alone: decided once for
        each."""
        if volume.content == "backup":
            owner = backup_owner(volume.volid.rpartition("/")[2])
        else:
            owner = volume.vmid
        return self.allows_volid(volume.volid, volume.content, owner)

    def allows_volid(self, volid: str, content: str, owner: int | None) -> bool:
        """As :meth:`allows`, for a volume known by its volid, content and owning VMID."""
        key = (volid.partition(":")[0], content, owner)
        verdict = self._verdicts.get(key)
        if verdict is None:
            try:
                self.check(volid)
                verdict = True
            except (PermissionDenied, InputError):
                verdict = False
            self._verdicts[key] = verdict
        return verdict


def check_volume_access(
    call: Call,
    volume: str,
    *,
    vmid: int | None = None,
    content: str | None = None,
    what: str = "volume",
) -> VolumeName | None:
    """:meth:`VolumeAccess.check` for one volume."""
    return VolumeAccess(call).check(volume, vmid=vmid, content=content, what=what)
