"""``/nodes/{node}/storage``: storages, their content, backups' notes and protection, prune
(pve-storage ``PVE/API2/Storage/Status.pm``, ``Content.pm``, ``PruneBackups.pm``).

Permissions as Proxmox checks them: a storage is listed, and its status, content and prune
preview read, with ``Datastore.Audit`` or ``Datastore.AllocateSpace`` on it; its content lists
only the volumes the caller may use (:mod:`respaldo.api.volaccess`: a backup needs
``VM.Backup`` on its guest as well, so an auditor sees none), and a volume's attributes are
read or changed under the same rule. Removing a backup of a guest needs
``Datastore.AllocateSpace`` plus ``VM.Backup`` on the guest, any other volume
``Datastore.Allocate``; a prune of one guest's backups ``Datastore.AllocateSpace`` plus
``VM.Backup`` on it, a prune of the whole storage ``Datastore.Allocate``.
"""

from __future__ import annotations

from typing import cast

from respaldo.api.method import ALL_USERS, ApiMethod, Call, Perm, array, null, obj, prop, upid
from respaldo.api.rows import backup_row, storage_row, volume_row
from respaldo.api.tasks import start_task
from respaldo.api.volaccess import VolumeAccess, check_volume_access
from respaldo.config.ids import parse_volid
from respaldo.config.prune import format_prune_backups, parse_prune_backups
from respaldo.config.schema import Schema, boolean, integer, string
from respaldo.config.stdparams import NODE, STORAGE
from respaldo.errors import InputError
from respaldo.services import pvesm
from respaldo.services.pvesm import StorageManager
from respaldo.storage.backups import backup_owner
from respaldo.storage.backupstore import archive_location

_SEE = ("Datastore.Audit", "Datastore.AllocateSpace")
_STORAGE_PATH = "/storage/{storage}"


def _visible(call: Call, storage: str) -> bool:
    return bool(call.access.permissions(call.principal, f"/storage/{storage}") & set(_SEE))


def _list(call: Call) -> object:
    content = call.opt_text("content")
    wanted = call.opt_text("storage")
    rows = []
    for status in StorageManager(call.node).status():
        if wanted is not None and status.storage != wanted:
            continue
        if not _visible(call, status.storage):
            continue
        if content is not None and not set(content.split(",")) & set(status.content):
            continue
        row = storage_row(status)
        if call.flag("format"):
            row["formats"] = {"supported": ["raw", "qcow2"], "default": "qcow2"}
        rows.append(row)
    if wanted is not None and not rows:
        raise InputError("storage", wanted, "No such storage.")
    return rows


def _status(call: Call) -> object:
    status = StorageManager(call.node).status(call.text("storage"))[0]
    row = storage_row(status)
    row.pop("storage", None)
    return row


def _index(call: Call) -> object:
    StorageManager(call.node).status(call.text("storage"))
    names = ("content", "status", "prunebackups")
    return [{"subdir": name} for name in names]


def _content(call: Call) -> object:
    vmid = cast("int | None", call.get("vmid"))
    manager = StorageManager(call.node)
    access = VolumeAccess(call)
    every = access.allows_all(call.text("storage"))
    if call.opt_text("content") == "backup":  # the big listing: rows straight from the store
        backups = manager.list_backups(call.text("storage"), vmid)
        return [
            backup_row(info)
            for info in backups
            if every or access.allows_volid(info.volid, "backup", backup_owner(info.filename))
        ]
    volumes = manager.list(call.text("storage"), call.opt_text("content"), vmid)
    return [volume_row(volume) for volume in volumes if every or access.allows(volume)]


def _alloc(call: Call) -> object:
    size = call.text("size")
    return StorageManager(call.node).alloc(
        call.text("storage"),
        call.number("vmid"),
        call.text("filename"),
        size,
        call.opt_text("format"),
    )


def _volid(call: Call) -> str:
    """The volume of the path: a full volid, or a name on the path's storage."""
    volume = call.text("volume")
    storage = call.text("storage")
    if ":" in volume:
        if parse_volid(volume).storage != storage:
            raise InputError("volume", volume, f"not a volume of storage '{storage}'")
        return volume
    return f"{storage}:{volume}"


def _check_remove(call: Call, volid: str) -> int | None:
    """Proxmox's rule for removing a volume; the backup's guest, if any."""
    name = VolumeAccess(call).volume_name(volid)
    storage = f"/storage/{parse_volid(volid).storage}"
    if name.vtype == "backup" and name.owner is not None:
        call.access.check(call.principal, storage, ("Datastore.AllocateSpace",))
        call.access.check(call.principal, f"/vms/{name.owner}", ("VM.Backup",))
    else:
        call.access.check(call.principal, storage, ("Datastore.Allocate",))
    return name.owner


def _volume_info(call: Call) -> object:
    volid = _volid(call)
    check_volume_access(call, volid)
    manager = StorageManager(call.node)
    if parse_volid(volid).volname.startswith("backup/"):
        info = manager.backup(volid)
        store, filename = manager.backup_parts(volid)
        row: dict[str, object] = {
            "path": archive_location(store, filename),
            "size": info.size,
            "used": info.used,
            "format": info.format,
        }
        notes = store.read_notes(filename)
        if notes:
            row["notes"] = notes
        if info.protected:
            row["protected"] = 1
        return row
    path = manager.path(volid)
    size = manager.volume_size(volid)
    return {
        "path": str(path),
        "size": size,
        "used": path.stat().st_blocks * 512,
        "format": path.suffix.lstrip(".") or "raw",
    }


def _volume_update(call: Call) -> object:
    volid = _volid(call)
    check_volume_access(call, volid)
    protected = call.get("protected")
    StorageManager(call.node).set_backup(
        volid,
        notes=call.opt_text("notes"),
        protected=None if protected is None else bool(protected),
    )
    return None


def _volume_delete(call: Call) -> object:
    volid = _volid(call)
    owner = _check_remove(call, volid)
    manager = StorageManager(call.node)
    if parse_volid(volid).volname.startswith("backup/"):
        info = manager.backup(volid)
        if info.protected:
            raise InputError("volume", volid, f"cannot remove protected archive '{volid}'")
    else:
        manager.path(volid)
    task_id = f"{owner}@{call.text('storage')}" if owner else call.text("storage")
    return start_task(call, "imgdel", task_id, "imgdel", {"volume": volid})


def _prune_options(call: Call) -> str:
    # the raw text: the parsed parameter is an options object, not a property string
    raw = call.raw.get("prune-backups")
    text = None if raw is None else str(raw)
    if text is None:
        plugin = StorageManager(call.node).registry.get(call.text("storage"))
        text = plugin.prune_backups or "keep-all=1"
    return format_prune_backups(parse_prune_backups(text))


def _check_prune(call: Call) -> None:
    storage = f"/storage/{call.text('storage')}"
    vmid = call.get("vmid")
    if vmid is not None:
        call.access.check(call.principal, storage, ("Datastore.AllocateSpace",))
        call.access.check(call.principal, f"/vms/{vmid}", ("VM.Backup",))
    else:
        call.access.check(call.principal, storage, ("Datastore.Allocate",))


def _prune_preview(call: Call) -> object:
    manager = StorageManager(call.node)
    options = parse_prune_backups(_prune_options(call))
    wanted = cast("int | None", call.get("vmid"))
    kind = call.opt_text("type") or "qemu"
    rows: list[dict[str, object]] = []
    for result in manager.prune_preview(call.text("storage"), options, wanted, kind):
        row: dict[str, object] = {
            "volid": result.volid,
            "ctime": result.ctime,
            "mark": result.mark,
            "type": result.type,
            "vmid": result.vmid,
        }
        if result.reason is not None:
            row["reason"] = result.reason  # respaldo's: the rule that kept it
        rows.append(row)
    return rows


def _prune(call: Call) -> object:
    _check_prune(call)
    params: dict[str, object] = {
        "storage": call.text("storage"),
        "prune_backups": _prune_options(call),
    }
    if call.get("vmid") is not None:
        params["vmid"] = call.get("vmid")
    if call.get("type") is not None:
        params["type"] = call.get("type")
    vmid = call.get("vmid")
    task_id = f"{vmid}@{call.text('storage')}" if vmid is not None else call.text("storage")
    return start_task(call, "prunebackups", task_id, "prunebackups", params)


_VOLUME = string("volume", "Volume identifier", optional=False)
_PRUNE = string(
    "prune-backups",
    "Use these retention options instead of those from the storage configuration.",
    format="prune-backups",
)
_PRUNE_FILTERS = (
    string(
        "type",
        "Either 'qemu' or 'lxc'. Only consider backups for guests of this type.",
        enum=("qemu", "lxc"),
    ),
    integer("vmid", "Only consider backups for this guest.", format="pve-vmid"),
)
_AUDIT = Perm(_STORAGE_PATH, _SEE, any=True)
_VOLUME_ROW = obj(
    volid=prop("string"),
    format=prop("string"),
    size=prop("integer"),
    used=prop("integer"),
    ctime=prop("integer"),
    vmid=prop("integer"),
    notes=prop("string"),
    protected=prop("integer"),
    content=prop("string"),
    subtype=prop("string"),
)

METHODS = [
    ApiMethod(
        "storage_list",
        "GET",
        "/nodes/{node}/storage",
        "Get status for all datastores.",
        Schema(
            (
                NODE,
                string(
                    "storage", "Only list status for specified storage", format="pve-storage-id"
                ),
                string("content", "Only list stores which support this content type."),
                boolean("enabled", "Only list stores which are enabled.", default=False),
                boolean("format", "Include information about formats", default=False),
                string(
                    "target",
                    "If target is different to 'node', we only lists shared "
                    "storages which content is accessible on this 'node' and the specified "
                    "'target' node.",
                    format="pve-node",
                ),
            )
        ),
        array(
            obj(
                storage=prop("string"),
                type=prop("string"),
                content=prop("string"),
                enabled=prop("integer"),
                active=prop("integer"),
                shared=prop("integer"),
                total=prop("integer"),
                used=prop("integer"),
                avail=prop("integer"),
                used_fraction=prop("number"),
            )
        ),
        _list,
        ALL_USERS,
    ),
    ApiMethod(
        "storage_index",
        "GET",
        "/nodes/{node}/storage/{storage}",
        "Storage index.",
        Schema((NODE, STORAGE)),
        array(obj(subdir=prop("string"))),
        _index,
        _AUDIT,
    ),
    ApiMethod(
        "storage_status",
        "GET",
        "/nodes/{node}/storage/{storage}/status",
        "Read storage status.",
        Schema((NODE, STORAGE)),
        {"type": "object"},
        _status,
        _AUDIT,
    ),
    ApiMethod(
        "storage_content",
        "GET",
        "/nodes/{node}/storage/{storage}/content",
        "List storage content.",
        Schema(
            (
                NODE,
                STORAGE,
                string(
                    "content",
                    "Only list content of this type.",
                    enum=("images", "rootdir", "iso", "vztmpl", "backup", "snippets", "import"),
                ),
                integer("vmid", "Only list images for this VM", format="pve-vmid"),
            )
        ),
        array(_VOLUME_ROW),
        _content,
        _AUDIT,
    ),
    ApiMethod(
        "storage_alloc",
        "POST",
        "/nodes/{node}/storage/{storage}/content",
        "Allocate disk images.",
        Schema((NODE, STORAGE, *[p for p in pvesm.ALLOC_PARAMS if p.name != "storage"])),
        {"type": "string"},
        _alloc,
        Perm(_STORAGE_PATH, ("Datastore.AllocateSpace",)),
    ),
    ApiMethod(
        "volume_info",
        "GET",
        "/nodes/{node}/storage/{storage}/content/{volume}",
        "Get volume attributes",
        Schema((NODE, STORAGE, _VOLUME)),
        obj(
            path=prop("string"),
            size=prop("integer"),
            used=prop("integer"),
            format=prop("string"),
            notes=prop("string"),
            protected=prop("integer"),
        ),
        _volume_info,
        ALL_USERS,
    ),
    ApiMethod(
        "volume_update",
        "PUT",
        "/nodes/{node}/storage/{storage}/content/{volume}",
        "Update volume attributes",
        Schema((NODE, STORAGE, _VOLUME, *pvesm.VOLUME_UPDATE_PARAMS.without("volume"))),
        null(),
        _volume_update,
        ALL_USERS,
    ),
    ApiMethod(
        "volume_delete",
        "DELETE",
        "/nodes/{node}/storage/{storage}/content/{volume}",
        "Delete volume",
        Schema(
            (
                NODE,
                STORAGE,
                _VOLUME,
                integer("delay", "Time to wait for the task to finish.", minimum=1, maximum=30),
            )
        ),
        upid(),
        _volume_delete,
        ALL_USERS,
    ),
    ApiMethod(
        "prune_preview",
        "GET",
        "/nodes/{node}/storage/{storage}/prunebackups",
        "Get prune information for backups. NOTE: this is only a preview and might not be "
        "what a subsequent prune call does if backups are removed/added in the meantime.",
        Schema((NODE, STORAGE, _PRUNE, *_PRUNE_FILTERS)),
        array(
            obj(
                volid=prop("string"),
                ctime=prop("integer"),
                mark=prop("string"),
                type=prop("string"),
                vmid=prop("integer"),
                reason=prop("string", "The rule that keeps it ('keep-daily: 2'), 'protected'."),
            )
        ),
        _prune_preview,
        _AUDIT,
    ),
    ApiMethod(
        "prune",
        "DELETE",
        "/nodes/{node}/storage/{storage}/prunebackups",
        "Prune backups. Only those using the standard naming scheme are considered.",
        Schema((NODE, STORAGE, _PRUNE, *_PRUNE_FILTERS)).overriding(
            **{"prune-backups": {"optional": False}}
        ),
        upid(),
        _prune,
        ALL_USERS,
    ),
]
