"""``/nodes/{node}/qemu``: VMs (qemu-server ``PVE/API2/Qemu.pm``).

List, create (or restore, with ``archive``), config, destroy, status and power. Long work is a
task: ``qmcreate``, ``qmrestore``, ``qmconfig`` (POST config), ``qmdestroy``, ``qmstart``,
``qmstop``, ``qmshutdown``, ``qmsuspend``/``qmpause``, ``qmresume``.

Permissions as qemu-server checks them: the list shows the VMs with ``VM.Audit``; config and
status need ``VM.Audit``; power ``VM.PowerMgmt``; config changes any ``VM.Config.*`` to get in
and then, key by key, the privilege of the key's group and access to every volume a drive
names (:mod:`respaldo.api.vmperms`); destroy ``VM.Allocate``; create ``VM.Allocate`` (plus
``VM.PowerMgmt`` with ``start``, ``Datastore.AllocateSpace`` on ``storage``); a restore
``VM.Allocate``, or over an existing VM with ``force`` ``VM.Backup``, and read access to the
archive (:mod:`respaldo.api.volaccess`) and ``Datastore.AllocateSpace`` on every storage it
writes to. ``skiplock``, ``keepActive`` and ``nocheck`` are root@pam's (400 for others).
"""

from __future__ import annotations

from respaldo.api.method import (
    ALL_USERS,
    ApiMethod,
    Call,
    Perm,
    array,
    null,
    obj,
    prop,
    upid,
)
from respaldo.api.rows import vm_row, vm_status_row
from respaldo.api.tasks import start_task
from respaldo.api.vmperms import check_config_change
from respaldo.api.volaccess import check_volume_access
from respaldo.config.schema import Schema, boolean, integer, string
from respaldo.config.stdparams import NODE, SKIPLOCK, VMID
from respaldo.config.vmconfig import is_drive_key
from respaldo.config.vmschema import VM_CONFIG
from respaldo.errors import ConflictError, InputError, PermissionDenied
from respaldo.services.qmconfig import VmConfigService
from respaldo.services.qmpower import VmPower
from respaldo.services.restore.plan import make_plan, parse_map_storage
from respaldo.services.restore.qmrestore import RESTORE_PARAMS, check_target
from respaldo.services.vmstore import VmStore
from respaldo.storage.backupstore import ArchiveSource
from respaldo.storage.registry import StorageRegistry

_VM_PATH = "/vms/{vmid}"
#: Any one of these lets a caller into the config methods; each key then needs its own
#: (qemu-server ``$vm_config_perm_list``).
CONFIG_PRIVS = (
    "VM.Config.Disk",
    "VM.Config.CDROM",
    "VM.Config.CPU",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.HWType",
    "VM.Config.Options",
    "VM.Config.Cloudinit",
)


def _root_only(call: Call, *keys: str) -> None:
    """qemu-server's options for root@pam only (a parameter error for anyone else)."""
    for key in keys:
        if call.params.get(key) and not call.is_root:
            raise InputError(key, call.params[key], "Only root may use this option.")


def _vmid(call: Call) -> int:
    return call.number("vmid")


def _options(call: Call, *drop: str) -> dict[str, object]:
    skip = {"node", "vmid", "skiplock", "delete", "digest", "background_delay", *drop}
    return {k: v for k, v in call.params.items() if k not in skip}


# -- list, status -----------------------------------------------------------------------------


def _list(call: Call) -> object:
    rows = []
    for info in VmPower(call.node).list():
        if "VM.Audit" in call.access.permissions(call.principal, f"/vms/{info.vmid}"):
            rows.append(vm_row(info))
    return rows


def _vm_index(call: Call) -> object:
    VmStore(call.node).load(_vmid(call))  # a missing VM says so, as its other methods do
    return [{"subdir": name} for name in ("config", "status")]


def _status_index(call: Call) -> object:
    VmStore(call.node).load(_vmid(call))  # the VM must exist (qemu-server's test)
    return [
        {"subdir": name} for name in ("current", "start", "stop", "shutdown", "suspend", "resume")
    ]


def _current(call: Call) -> object:
    info = VmPower(call.node).status(_vmid(call))
    return vm_status_row(info, VmStore(call.node).load(_vmid(call)))


# -- config -----------------------------------------------------------------------------------


def _config(call: Call) -> object:
    store = VmStore(call.node)
    config = store.load(_vmid(call))
    data: dict[str, object] = dict(config.as_dict())
    data.pop("description", None)  # an older "description:" line is part of the description
    if config.description:
        data["description"] = config.description
    data["digest"] = store.digest(_vmid(call))
    return data


def _check_digest(call: Call) -> None:
    digest = call.opt_text("digest")
    if digest and digest != VmStore(call.node).digest(_vmid(call)):
        raise ConflictError("detected modified configuration - file changed by other user?")


def _delete_list(call: Call) -> list[str]:
    text = call.opt_text("delete") or ""
    return [key for key in text.replace(";", ",").replace(" ", ",").split(",") if key]


def _check_set(call: Call) -> None:
    _root_only(call, "skiplock")
    options = {key: str(call.raw[key]) for key in _options(call)}
    deleted = _delete_list(call)
    if not options and not deleted:
        raise InputError("delete", "", "no options specified")
    current = VmStore(call.node).load(_vmid(call)).as_dict()
    check_config_change(call, _vmid(call), options, deleted, current)


def _set_sync(call: Call) -> object:
    _check_set(call)
    _check_digest(call)
    VmConfigService(call.node).set(
        _vmid(call), _options(call), _delete_list(call), call.flag("skiplock")
    )
    return None


def _set_async(call: Call) -> object:
    _check_set(call)
    _check_digest(call)
    VmConfigService(call.node).check({k: call.raw[k] for k in _options(call)})
    params = {
        "vmid": _vmid(call),
        "options": {k: str(v) for k, v in call.raw.items() if k in _options(call)},
        "delete": _delete_list(call),
        "skiplock": call.flag("skiplock"),
    }
    return start_task(call, "qmconfig", str(_vmid(call)), "qmconfig", params)


# -- create, restore, destroy -----------------------------------------------------------------


CREATE_PARAMS = Schema(
    (
        NODE,
        VMID,
        *[p for p in RESTORE_PARAMS if p.name not in ("vmid",)],
        *[p for p in VM_CONFIG if p.name not in ("lock",)],
        string("pool", "Add the VM to the specified pool."),
        boolean(
            "live-restore",
            "Start the VM immediately while importing or restoring in "
            "the background (Proxmox Backup Server only).",
            default=False,
        ),
    ),
    "Create or restore a virtual machine.",
).overriding(archive={"optional": True})

#: Config keys a restore takes as overrides (qemu-server: anything but drives).
_NOT_OVERRIDES = {
    "node",
    "vmid",
    "archive",
    "storage",
    "force",
    "unique",
    "start",
    "bwlimit",
    "map-storage",
    "disks",
    "pool",
    "live-restore",
}


def _create(call: Call) -> object:
    vmid = _vmid(call)
    if call.params.get("pool"):
        raise InputError("pool", call.params["pool"], "pools are not supported on this node")
    if "archive" in call.params:
        return _restore(call, vmid)
    for key in ("force", "unique", "map-storage", "disks"):
        if call.params.get(key):
            raise InputError(key, call.params[key], "option requires option 'archive'")
    _check_storage(call)
    if call.flag("start"):
        call.access.check(call.principal, f"/vms/{vmid}", ("VM.PowerMgmt",))
    call.access.check(call.principal, f"/vms/{vmid}", ("VM.Allocate",))
    options = {k: str(call.raw[k]) for k in _options(call, *_NOT_OVERRIDES)}
    check_config_change(call, vmid, options)
    if VmStore(call.node).exists(vmid):
        raise ConflictError(f"unable to create VM {vmid} - VM {vmid} already exists")
    VmConfigService(call.node).check(options)  # bad options fail now, not in the task
    params = {"vmid": vmid, "options": options, "start": call.flag("start")}
    return start_task(call, "qmcreate", str(vmid), "qmcreate", params)


def _check_storage(call: Call) -> None:
    storage = call.opt_text("storage")
    if storage:
        call.access.check(call.principal, f"/storage/{storage}", ("Datastore.AllocateSpace",))


def _archive(call: Call) -> ArchiveSource:
    """The archive to restore, found now: a missing one, or a name out of its storage, is a
    parameter error before any task starts."""
    try:
        return StorageRegistry(call.node).archive_source(call.text("archive"))
    except InputError as err:
        raise InputError("archive", call.text("archive"), err.reason) from err


def _check_restore_storages(call: Call, vmid: int, archive: ArchiveSource) -> None:
    """Every storage the restore writes disks to needs ``Datastore.AllocateSpace`` (qemu-server
    parse_backup_hints): those given and, without ``storage``, those the archive names."""
    if call.is_root:
        return
    plan = make_plan(
        StorageRegistry(call.node),
        archive,
        vmid,
        call.opt_text("storage"),
        parse_map_storage(call.opt_text("map-storage")),
        None,
    )
    for storage in sorted({disk.storage for disk in plan.disks}):
        call.access.check(call.principal, f"/storage/{storage}", ("Datastore.AllocateSpace",))


def _restore(call: Call, vmid: int) -> object:
    for key in call.params:
        if is_drive_key(key) or key == "cdrom":
            raise InputError(key, call.params[key], "option conflicts with option 'archive'")
    if call.flag("live-restore"):
        raise InputError(
            "live-restore",
            1,
            "live-restore is only compatible with backup images from a Proxmox Backup Server",
        )
    exists = VmStore(call.node).exists(vmid)
    _check_storage(call)
    if call.flag("start"):
        call.access.check(call.principal, f"/vms/{vmid}", ("VM.PowerMgmt",))
    privs = call.access.permissions(call.principal, f"/vms/{vmid}")
    if not ("VM.Allocate" in privs or (exists and call.flag("force") and "VM.Backup" in privs)):
        raise PermissionDenied(f"/vms/{vmid}, VM.Allocate")
    check_volume_access(call, call.text("archive"), vmid=vmid, content="backup", what="archive")
    overrides = {k: str(call.raw[k]) for k in _options(call, *_NOT_OVERRIDES)}
    check_config_change(call, vmid, overrides)
    if exists and not call.flag("force"):
        raise ConflictError(f"unable to restore VM {vmid} - VM {vmid} already exists")
    if exists:
        # refused now, not in the task: running, locked or protected (as qemu-server does)
        check_target(VmConfigService(call.node), vmid, force=True)
    _check_restore_storages(call, vmid, _archive(call))
    params: dict[str, object] = {
        key: call.params[key]
        for key in (
            "archive",
            "storage",
            "force",
            "unique",
            "start",
            "bwlimit",
            "map-storage",
            "disks",
        )
        if key in call.params
    }
    params.update(vmid=vmid, overrides=overrides)
    return start_task(
        call, "qmrestore", str(vmid), "qmrestore", params, recover="recover_qmrestore"
    )


def _destroy(call: Call) -> object:
    _root_only(call, "skiplock")
    vmid = _vmid(call)
    VmStore(call.node).load(vmid)
    return start_task(
        call, "qmdestroy", str(vmid), "qmdestroy", {"vmid": vmid, "skiplock": call.flag("skiplock")}
    )


# -- power ------------------------------------------------------------------------------------


def _power(kind: str, work: str, *keys: str):  # type: ignore[no-untyped-def]
    def handler(call: Call) -> object:
        _root_only(call, "skiplock", "keepActive", "nocheck")
        vmid = _vmid(call)
        VmStore(call.node).load(vmid)  # a missing VM fails now, not in the task
        params: dict[str, object] = {"vmid": vmid, "skiplock": call.flag("skiplock")}
        params.update({key: call.params[key] for key in keys if key in call.params})
        return start_task(call, kind, str(vmid), work, params)

    return handler


def _suspend(call: Call) -> object:
    if call.flag("todisk"):
        raise InputError("todisk", 1, "suspend to disk is not supported on this node")
    return _power("qmpause", "qmsuspend")(call)


_POWER = Perm(_VM_PATH, ("VM.PowerMgmt",))
_CONFIG = Perm(_VM_PATH, CONFIG_PRIVS, any=True)
_TIMEOUT = integer("timeout", "Wait maximal timeout seconds.", minimum=0)
_VM_LIST_ROW = obj(
    vmid=prop("integer"),
    status=prop("string"),
    name=prop("string"),
    cpus=prop("integer"),
    maxmem=prop("integer"),
    mem=prop("integer"),
    maxdisk=prop("integer"),
    uptime=prop("integer"),
    pid=prop("integer"),
)


def _vm(*extra: object, description: str = "") -> Schema:
    return Schema((NODE, VMID, *extra), description)  # type: ignore[arg-type]


#: ``POST|PUT .../config``: the config keys, ``delete``, ``digest`` (qemu-server update_vm).
_SET_CONFIG = Schema(
    (
        NODE,
        VMID,
        *VM_CONFIG,
        SKIPLOCK,
        string("delete", "A list of settings you want to delete."),
        string(
            "digest",
            "Prevent changes if current configuration file has a different SHA1 digest.",
            max_length=40,
        ),
    )
)

METHODS = [
    ApiMethod(
        "vm_list",
        "GET",
        "/nodes/{node}/qemu",
        "Virtual machine index (per node).",
        Schema((NODE, boolean("full", "Determine the full status of active VMs."))),
        array(_VM_LIST_ROW),
        _list,
        ALL_USERS,
    ),
    ApiMethod(
        "vm_create",
        "POST",
        "/nodes/{node}/qemu",
        CREATE_PARAMS.description,
        CREATE_PARAMS,
        upid(),
        _create,
        ALL_USERS,
    ),
    ApiMethod(
        "vm_index",
        "GET",
        "/nodes/{node}/qemu/{vmid}",
        "Directory index.",
        _vm(),
        array(obj(subdir=prop("string"))),
        _vm_index,
        ALL_USERS,
    ),
    ApiMethod(
        "vm_destroy",
        "DELETE",
        "/nodes/{node}/qemu/{vmid}",
        "Destroy the VM and all used/owned volumes.",
        _vm(
            SKIPLOCK,
            boolean("purge", "Remove VMID from configurations."),
            boolean("destroy-unreferenced-disks", "Also destroy unreferenced disks."),
        ),
        upid(),
        _destroy,
        Perm(_VM_PATH, ("VM.Allocate",)),
    ),
    ApiMethod(
        "vm_config",
        "GET",
        "/nodes/{node}/qemu/{vmid}/config",
        "Get the virtual machine configuration.",
        _vm(
            boolean("current", "Get current values (instead of pending values)."),
            string("snapshot", "Fetch config values from given snapshot."),
        ),
        {"type": "object"},
        _config,
        Perm(_VM_PATH, ("VM.Audit",)),
    ),
    ApiMethod(
        "vm_config_async",
        "POST",
        "/nodes/{node}/qemu/{vmid}/config",
        "Set virtual machine options (asynchronous API).",
        _SET_CONFIG.extend(
            integer(
                "background_delay",
                "Time to wait for the task to finish.",
                minimum=1,
                maximum=30,
            )
        ),
        upid(),
        _set_async,
        _CONFIG,
    ),
    ApiMethod(
        "vm_config_sync",
        "PUT",
        "/nodes/{node}/qemu/{vmid}/config",
        "Set virtual machine options (synchronous API).",
        _SET_CONFIG,
        null(),
        _set_sync,
        _CONFIG,
    ),
    ApiMethod(
        "vm_status_index",
        "GET",
        "/nodes/{node}/qemu/{vmid}/status",
        "Directory index",
        _vm(),
        array(obj(subdir=prop("string"))),
        _status_index,
        ALL_USERS,
    ),
    ApiMethod(
        "vm_status",
        "GET",
        "/nodes/{node}/qemu/{vmid}/status/current",
        "Get virtual machine status.",
        _vm(),
        _VM_LIST_ROW,
        _current,
        Perm(_VM_PATH, ("VM.Audit",)),
    ),
    ApiMethod(
        "vm_start",
        "POST",
        "/nodes/{node}/qemu/{vmid}/status/start",
        "Start virtual machine.",
        _vm(SKIPLOCK, _TIMEOUT),
        upid(),
        _power("qmstart", "qmstart"),
        _POWER,
    ),
    ApiMethod(
        "vm_stop",
        "POST",
        "/nodes/{node}/qemu/{vmid}/status/stop",
        "Stop virtual machine.",
        _vm(SKIPLOCK, _TIMEOUT, boolean("keepActive", "Do not deactivate storage volumes.")),
        upid(),
        _power("qmstop", "qmstop", "timeout"),
        _POWER,
    ),
    ApiMethod(
        "vm_shutdown",
        "POST",
        "/nodes/{node}/qemu/{vmid}/status/shutdown",
        "Shutdown virtual machine.",
        _vm(
            SKIPLOCK,
            _TIMEOUT,
            boolean("forceStop", "Make sure the VM stops.", default=False),
            boolean("keepActive", "Do not deactivate storage volumes."),
        ),
        upid(),
        _power("qmshutdown", "qmshutdown", "timeout", "forceStop"),
        _POWER,
    ),
    ApiMethod(
        "vm_suspend",
        "POST",
        "/nodes/{node}/qemu/{vmid}/status/suspend",
        "Suspend virtual machine.",
        _vm(
            SKIPLOCK,
            boolean("todisk", "If set, suspends the VM to disk.", default=False),
            string("statestorage", "The storage for the VM state", format="pve-storage-id"),
        ),
        upid(),
        _suspend,
        _POWER,
    ),
    ApiMethod(
        "vm_resume",
        "POST",
        "/nodes/{node}/qemu/{vmid}/status/resume",
        "Resume virtual machine.",
        _vm(SKIPLOCK, boolean("nocheck", "Do not check the migration state.")),
        upid(),
        _power("qmresume", "qmresume"),
        _POWER,
    ),
]
