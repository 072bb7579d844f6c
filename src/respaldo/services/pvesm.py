"""Storage management: the service behind ``respaldo pvesm ...`` and ``/nodes/{node}/storage``.

Backups are volumes too (``<storage>:backup/<file>``): they are listed with the disk images,
their configuration is read from the archive header alone (``extractconfig``), their notes and
protection are set with :meth:`StorageManager.set_backup`, and freeing one removes its log, notes
and digest beside it, never a protected one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from respaldo.archive.compress import open_reader
from respaldo.archive.vma import read_header
from respaldo.config.ids import check_vmid, is_volume_id, parse_volid
from respaldo.config.propstring import parse_size
from respaldo.config.prune import PRUNE_SCHEMA, PruneOptions, parse_prune_backups
from respaldo.config.schema import Schema, boolean, integer, string
from respaldo.config.stdparams import STORAGE
from respaldo.errors import ArchiveError, ConflictError, InputError, NoSuchVolume
from respaldo.node import Node
from respaldo.services.prune import PruneResult, prune
from respaldo.services.vmstore import VmStore
from respaldo.storage.backups import BackupInfo, parse_backup_name
from respaldo.storage.backupstore import ArchiveSource, BackupStore
from respaldo.storage.base import CONTENT_TYPES, StorageStatus, VolumeInfo
from respaldo.storage.dirstorage import BACKUP_PREFIX, backup_volume
from respaldo.storage.registry import StorageRegistry

_IMAGE_EXTENSION = re.compile(r"\.(raw|qcow2|vmdk)$")

_STORAGE_OPT = string("storage", "Only list status for specified storage.", format="pve-storage-id")
_CONTENT = string(
    "content",
    "Only list content of this type.",
    enum=("images", "rootdir", "iso", "vztmpl", "backup", "snippets"),
)
_VOLUME = string("volume", "Volume identifier.", format="pve-volume-id", optional=False)

#: Parameters of the storage methods (pve-storage ``PVE/API2/Storage/*.pm``, ``PVE/CLI/pvesm.pm``).
STATUS_PARAMS = Schema((_STORAGE_OPT,), "Get status for all datastores.")
LIST_PARAMS = Schema(
    (STORAGE, _CONTENT, integer("vmid", "Only list images for this VM.", format="pve-vmid")),
    "List storage content.",
)
_CONTENT_LIST = "(" + "|".join(CONTENT_TYPES) + ")(,(" + "|".join(CONTENT_TYPES) + "))*"
#: The options of a ``dir`` storage in ``storage.cfg`` (pve-storage ``PVE/Storage/Plugin.pm``
#: and ``DirPlugin.pm``), as ``pvesm add`` and ``pvesm set`` take them.
STORAGE_OPTIONS = Schema(
    (
        string("path", "File system path.", optional=False),
        string(
            "content",
            "Allowed content types: " + ", ".join(CONTENT_TYPES) + " (comma separated). "
            "NOTE: the value 'rootdir' is used for Containers, and value 'images' for VMs.",
            pattern=_CONTENT_LIST,
            default="images,rootdir",
        ),
        string(
            "prune-backups",
            "The retention options for backups on this storage, applied after each backup "
            "and by prune-backups (keep-all=1 by default).",
            format="prune-backups",
        ),
        integer(
            "max-protected-backups",
            "Maximal number of protected backups per guest. Use '-1' for unlimited.",
            minimum=-1,
        ),
        boolean("disable", "Flag to disable the storage."),
        boolean(
            "shared",
            "Indicate that this is a single storage with the same contents on all nodes (or "
            "all listed in the 'nodes' option). It just marks an already shared storage as "
            "such!",
        ),
        string(
            "nodes",
            "List of nodes for which the storage configuration applies.",
            pattern=r"[a-zA-Z0-9][a-zA-Z0-9.-]*([,;\s]+[a-zA-Z0-9][a-zA-Z0-9.-]*)*",
        ),
        string(
            "is_mountpoint",
            "Assume the given path is an externally managed mountpoint and consider the "
            "storage offline if it is not mounted. Using a boolean (yes/no) value serves as "
            "a shortcut to using the target path in this field.",
            default="no",
        ),
        boolean(
            "mkdir",
            "Create the directory if it doesn't exist and populate it with default sub-dirs. "
            "NOTE: Deprecated, use the 'create-base-path' and 'create-subdirs' options "
            "instead.",
            default=True,
        ),
        boolean("create-base-path", "Create the base directory if it doesn't exist.", default=True),
        boolean(
            "create-subdirs", "Populate the directory with the default structure.", default=True
        ),
    ),
    "Storage options.",
)
ADD_PARAMS = Schema(
    (string("type", "Storage type.", enum=("dir",), optional=False), STORAGE, *STORAGE_OPTIONS),
    "Create a new storage.",
)
UPDATE_PARAMS = Schema(
    (
        STORAGE,
        *STORAGE_OPTIONS.without("path"),
        string(
            "delete",
            "A list of settings you want to delete.",
            format="pve-configid-list",
        ),
        string(
            "digest",
            "Prevent changes if current configuration file has a different digest. This can "
            "be used to prevent concurrent modifications.",
            max_length=64,
        ),
    ),
    "Update storage configuration.",
)
REMOVE_PARAMS = Schema((STORAGE,), "Delete storage configuration.")
#: ``pvesm prune-backups`` (pve-storage ``PVE/CLI/pvesm.pm``): the keep-* options one by one.
PRUNE_PARAMS = Schema(
    (
        STORAGE,
        boolean("dry-run", "Only show what would be pruned, don't delete anything."),
        *PRUNE_SCHEMA,
        string(
            "type",
            "Either 'qemu' or 'lxc'. Only consider backups for guests of this type.",
            enum=("qemu", "lxc"),
        ),
        integer("vmid", "Only consider backups for this guest.", format="pve-vmid"),
    ),
    "Prune backups. Only those using the standard naming scheme are considered. Without "
    "keep-* options, the storage's retention applies.",
)
ALLOC_PARAMS = Schema(
    (
        STORAGE,
        integer("vmid", "Specify owner VM.", format="pve-vmid", optional=False),
        string(
            "filename",
            "The name of the file to create: vm-<vmid>-disk-<n>[.<fmt>], or - for the next "
            "free name.",
            optional=False,
        ),
        string(
            "size",
            "Size in kilobyte (1024 bytes). Optional suffixes 'M' (megabyte) and 'G' (gigabyte).",
            pattern=r"\d+(\.\d+)?[KMGT]?",
            optional=False,
        ),
        string("format", "Format of the image.", enum=("raw", "qcow2")),
    ),
    "Allocate disk images.",
)
FREE_PARAMS = Schema((_VOLUME,), "Delete volume.")
PATH_PARAMS = Schema((_VOLUME,), "Get filesystem path for specified volume.")
EXTRACTCONFIG_PARAMS = Schema(
    (
        string(
            "volume",
            "Volume identifier of a backup, or the path of an archive file.",
            format="pve-volume-id-or-path",
            optional=False,
        ),
    ),
    "Extract configuration from vzdump backup archive.",
)
#: ``PUT /nodes/{node}/storage/{storage}/content/{volume}`` (pvesh set): a backup's notes
#: and protection.
VOLUME_UPDATE_PARAMS = Schema(
    (
        _VOLUME,
        string("notes", "The new notes (the listing shows the first line)."),
        boolean("protected", "Protection status. Currently only supported for backups."),
    ),
    "Update volume attributes.",
)


def _canonical(schema: Schema, given: Mapping[str, str]) -> dict[str, str]:
    """The options checked (all bad ones named at once) and as storage.cfg writes them."""
    schema.parse(given, partial=True)
    return {key: schema.get(key).canonical(str(value), key) for key, value in given.items()}


class StorageManager:
    """``registry``: the node's storages (default: ``StorageRegistry(node)``; tests hand one
    whose backups are kept in memory)."""

    def __init__(self, node: Node, registry: StorageRegistry | None = None) -> None:
        self.node = node
        self.registry = registry or StorageRegistry(node)
        self.vms = VmStore(node)

    def status(self, storage: str | None = None) -> list[StorageStatus]:
        plugins = [self.registry.get(storage)] if storage else self.registry.all()
        return [plugin.status() for plugin in plugins]

    def list_backups(self, storage: str, vmid: int | None = None) -> list[BackupInfo]:
        """The backups of a storage, newest first (``content=backup``, the common listing:
        rows straight from the store); InputError when the storage holds no backups."""
        if vmid is not None:
            check_vmid(vmid)
        return self.registry.get(storage).backups().list(vmid)

    def list(
        self, storage: str, content: str | None = None, vmid: int | None = None
    ) -> list[VolumeInfo]:
        """The volumes, sorted by volume id as Proxmox's ``volume_list`` sorts them (disk
        images, then backups oldest first); only ``content``'s when given.

        Without ``content`` a storage that does not hold backups lists none; ``content='backup'``
        on it is an InputError.
        """
        if vmid is not None:
            check_vmid(vmid)
        volumes = self.registry.get(storage).list_volumes(vmid=vmid, content=content)
        return sorted(volumes, key=lambda v: v.volid.lower())

    def add(self, storage: str, type: str, given: Mapping[str, str]) -> None:
        """``pvesm add <type> <storage> --path ...``: options checked by
        :data:`STORAGE_OPTIONS` and written as Proxmox writes them (booleans as 1/0,
        ``prune-backups`` in its order). Raises ParameterError naming every bad option."""
        if type != "dir":
            raise InputError("type", type, "only 'dir' storages are supported")
        self.registry.add_dir(storage, _canonical(STORAGE_OPTIONS, given))

    def update(
        self,
        storage: str,
        given: Mapping[str, str],
        delete: Sequence[str] = (),
        digest: str | None = None,
    ) -> None:
        """``pvesm set <storage>``: change options (``path`` is fixed) and delete those named
        in ``delete``; ``digest`` guards against a concurrent change."""
        schema = STORAGE_OPTIONS.without("path")
        for key in delete:
            if key != "path" and key not in schema:
                raise InputError("delete", key, f"no such option '{key}'")
        self.registry.update(storage, _canonical(schema, given), delete, digest)

    def retention(self, storage: str, given: str | None = None) -> PruneOptions:
        """The retention to prune with: ``given`` (a prune-backups text), else the
        storage's, else keep all."""
        text = given if given is not None else self.registry.get(storage).prune_backups
        return parse_prune_backups(text or "keep-all=1")

    def prune_preview(
        self,
        storage: str,
        options: PruneOptions,
        vmid: int | None = None,
        subtype: str = "qemu",
    ) -> Sequence[PruneResult]:
        """What pruning ``storage`` with ``options`` would do, per guest, newest first: each
        backup's mark and the rule that kept it. Nothing is removed."""
        store = self.backup_store(storage)
        guests = sorted({i.vmid for i in store.list(vmid) if i.standard and i.vmid is not None})
        results: list[PruneResult] = []
        for guest in guests:
            results += prune(store, guest, options, dry_run=True, subtype=subtype)
        return results

    def remove(self, storage: str) -> None:
        for vmid in self.vms.vmids():
            for drive in self.vms.load(vmid).disks():
                if drive.volume.startswith(f"{storage}:"):
                    raise ConflictError(f"storage '{storage}' is used by VM {vmid} ({drive.key})")
        self.registry.remove(storage)

    def alloc(
        self, storage: str, vmid: int, filename: str, size: str, fmt: str | None = None
    ) -> str:
        """``pvesm alloc``: size in KiB unless it has a unit (K, M, G, T).

        The format comes from the file name's extension (pve-storage's ``Content.pm``: a
        different ``fmt`` is refused), else ``fmt``, else the storage's default (raw); a name
        without a format extension gets the format's (``vm-100-disk-5`` + raw ->
        ``vm-100-disk-5.raw``).
        """
        check_vmid(vmid)
        size_bytes = parse_size(size, "size", default_unit="K")
        name = None if filename in ("", "-") else filename
        plugin = self.registry.get(storage)
        extension = _IMAGE_EXTENSION.search(name or "")
        if extension is not None:
            if fmt is not None and fmt != extension.group(1):
                raise InputError(
                    "format", fmt, f"different storage formats ({fmt} != {extension.group(1)})"
                )
            fmt = extension.group(1)
        fmt = fmt or plugin.default_format
        if name is not None and extension is None:
            name = f"{name}.{fmt}"
        return f"{storage}:{plugin.alloc_image(vmid, fmt, size_bytes, name)}"

    def _user_of(self, volid: str) -> str | None:
        for vmid in self.vms.vmids():
            config = self.vms.load(vmid)
            for key, value in config.data.main.items():
                if value == volid or value.startswith(volid + ","):
                    return f"VM {vmid} ({key})"
        return None

    def free(self, volid: str) -> None:
        """Delete a volume. A backup goes with its ``.log``, ``.notes`` and digest sidecar;
        a protected backup is refused (ConflictError), as is a disk image a VM still uses."""
        parsed = parse_volid(volid)
        if parsed.volname.startswith(BACKUP_PREFIX):
            store, filename = self.backup_parts(volid)
            store.remove(filename)
            return
        user = self._user_of(volid)
        if user is not None:
            raise ConflictError(f"volume '{volid}' is still in use by {user}")
        plugin = self.registry.get(parsed.storage)
        if not plugin.volume_path(parsed.volname).exists():
            raise NoSuchVolume(volid)
        plugin.free_image(parsed.volname)

    def volume_size(self, volid: str) -> int:
        """The virtual size of a disk image, bytes."""
        parsed = parse_volid(volid)
        return self.registry.get(parsed.storage).volume_size(parsed.volname)

    def path(self, volid: str) -> Path:
        parsed = parse_volid(volid)
        plugin = self.registry.get(parsed.storage)
        return plugin.volume_path(parsed.volname)

    # -- backups ----------------------------------------------------------------------------

    def backup_store(self, storage: str) -> BackupStore:
        """The backups of ``storage`` (which must hold ``backup`` content)."""
        return self.registry.backup_store(storage)

    def backup_parts(self, volid: str) -> tuple[BackupStore, str]:
        """The store and file name of a backup volume id; InputError for any other volume.

        The storage does not need ``backup`` in its content: as in Proxmox, a backup named by
        its volume id stays readable, changeable and removable.
        """
        return self.registry.backup(volid)

    def backup(self, volid: str) -> VolumeInfo:
        """One backup as its listing row; NoSuchVolume when the archive is not there."""
        store, filename = self.backup_parts(volid)
        return backup_volume(store.get(filename))

    def set_backup(
        self, volid: str, notes: str | None = None, protected: bool | None = None
    ) -> VolumeInfo:
        """Set a backup's notes (an empty string removes them) and/or its protection.

        Returns the backup's listing row after the change.
        """
        if notes is None and protected is None:
            raise InputError(
                "notes/protected", None, "nothing to change: give notes, protected (0|1) or both"
            )
        store, filename = self.backup_parts(volid)
        store.get(filename)  # NoSuchVolume before anything changes
        if notes is not None:
            store.set_notes(filename, notes)
        if protected is not None:
            store.set_protected(filename, protected)
        return backup_volume(store.get(filename))

    def extract_config(self, archive: str) -> str:
        """The ``qemu-server.conf`` inside a VMA backup, read from the archive header only.

        ``archive`` is a backup volume id or the path of an archive file (as Proxmox's
        ``extractconfig`` accepts). The compression is detected from the content, and nothing
        past the header is decompressed, so a huge archive takes no longer than a small one.
        """
        source = self._archive(archive)
        try:
            with open_reader(source.open(), source.name) as stream:
                header = read_header(stream)
            return header.config_text()
        except ArchiveError as err:
            raise ArchiveError(f"cannot read the configuration in '{archive}': {err}") from err

    def _archive(self, archive: str) -> ArchiveSource:
        """The archive of ``extractconfig``: a VMA backup's volume id, or an archive file
        (a path, relative ones too, as pve-storage's ``parse_volume_id`` tells them apart)."""
        if is_volume_id(archive):
            _, filename = self.backup_parts(archive)
            name = parse_backup_name(filename)
            if name is not None and name.archive_format != "vma":
                raise InputError(
                    "volume",
                    archive,
                    f"a {name.subtype} {name.format} archive; extractconfig reads the VMA "
                    "archives of VMs (vzdump-qemu-...vma[.zst|.gz|.lzo])",
                )
        return self.registry.archive_source(archive)
