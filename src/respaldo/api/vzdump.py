"""``/nodes/{node}/vzdump``: backup now, the node's backup defaults, an archive's config
(pve-manager ``PVE/API2/VZDump.pm``, ``PVE/API2/Backup.pm``; qemu-server's extractconfig).

Permissions as Proxmox checks them: ``VM.Backup`` on every guest and
``Datastore.AllocateSpace`` on the target storage; ``dumpdir``, ``tmpdir``, ``script`` and
``job-id`` for root@pam only; ``bwlimit``, ``ionice`` and ``performance`` need ``Sys.Modify``
on the node, and ``prune-backups`` ``Datastore.Allocate`` on the storage.
"""

from __future__ import annotations

from respaldo.api.method import ALL_USERS, ApiMethod, Call, array, obj, prop, upid
from respaldo.api.tasks import start_task
from respaldo.config.ids import is_volume_id, parse_volid
from respaldo.config.prune import format_prune_backups, parse_prune_backups
from respaldo.config.schema import Schema, string
from respaldo.config.stdparams import NODE
from respaldo.errors import InputError, PermissionDenied
from respaldo.jobs.guests import pool_members
from respaldo.services.pvesm import StorageManager
from respaldo.services.vzdump.job import DEFAULT_STORAGE, resolve_vmids, stop_running_backups
from respaldo.services.vzdump.options import VZDUMP_PARAMS, node_defaults, parse_options
from respaldo.storage.backups import parse_backup_name

ROOT_ONLY = ("dumpdir", "tmpdir", "script", "job-id")
SYS_MODIFY = ("bwlimit", "ionice", "performance")
#: Removed from the defaults for users without Sys.Audit on the node (Proxmox's rule).
PRIVATE_DEFAULTS = ("mailto", "tmpdir", "dumpdir", "script", "ionice")


def _check_options(call: Call) -> None:
    for key in ROOT_ONLY:
        if key in call.params and not call.is_root:
            raise PermissionDenied(f"only root may set option '{key}'")
    if call.params.get("stdout"):
        raise InputError("stdout", 1, "option is only allowed on the command line interface.")
    if any(key in call.params for key in SYS_MODIFY):
        call.access.check(call.principal, f"/nodes/{call.node.name}", ("Sys.Modify",))


def _vzdump(call: Call) -> object:
    _check_options(call)
    given = {key: str(value) for key, value in call.raw.items() if key not in ("node", "stdout")}
    opts = parse_options(given, node_defaults(call.node))
    if opts.extra.get("stop"):
        call.access.check(call.principal, f"/nodes/{call.node.name}", ("Sys.Modify",))
        stop_running_backups(call.node)
        if not (opts.vmids or opts.all or opts.pool):
            return "OK"
    task: dict[str, object] = dict(given)
    if opts.pool is not None:
        opts.pool_vmids = pool_members(call.node, opts.pool)
        task["pool_vmids"] = opts.pool_vmids
    vmids = resolve_vmids(call.node, opts)
    storage = opts.storage or (None if opts.dumpdir else DEFAULT_STORAGE)
    for vmid in vmids:
        call.access.check(call.principal, f"/vms/{vmid}", ("VM.Backup",))
    if storage is not None:
        call.access.check(call.principal, f"/storage/{storage}", ("Datastore.AllocateSpace",))
        if opts.prune_backups is not None:
            call.access.check(call.principal, f"/storage/{storage}", ("Datastore.Allocate",))
    if not vmids:
        return "OK"  # nothing to back up on this node (Ansible checks for this)
    task_id = str(vmids[0]) if len(vmids) == 1 else ""
    return start_task(call, "vzdump", task_id, "vzdump", task, recover="recover_vzdump")


def _defaults(call: Call) -> object:
    defaults: dict[str, object] = dict(node_defaults(call.node))
    storage = call.opt_text("storage") or str(defaults.get("storage") or DEFAULT_STORAGE)
    defaults["storage"] = storage
    plugin = StorageManager(call.node).registry.get(storage)
    if plugin.prune_backups and "prune-backups" not in defaults:
        defaults["prune-backups"] = plugin.prune_backups
    privs = call.access.permissions(call.principal, f"/nodes/{call.node.name}")
    if "Sys.Audit" not in privs:
        for key in PRIVATE_DEFAULTS:
            defaults.pop(key, None)
    if "prune-backups" in defaults:
        defaults["prune-backups"] = format_prune_backups(
            parse_prune_backups(str(defaults["prune-backups"]))
        )
    return defaults


def _check_extract(call: Call) -> None:
    volume = call.text("volume")
    if not is_volume_id(volume):
        if not call.is_root:
            raise PermissionDenied("only root may read an archive by its path")
        return
    volid = parse_volid(volume)
    name = parse_backup_name(volid.volname.rpartition("/")[2])
    if name is not None and name.vmid is not None:
        call.access.check(call.principal, f"/vms/{name.vmid}", ("VM.Backup",))
    call.access.check(call.principal, f"/storage/{volid.storage}", ("Datastore.AllocateSpace",))


def _extractconfig(call: Call) -> object:
    _check_extract(call)
    return StorageManager(call.node).extract_config(call.text("volume"))


METHODS = [
    ApiMethod(
        "vzdump",
        "POST",
        "/nodes/{node}/vzdump",
        "Create backup. Returns the UPID of the vzdump task, or 'OK' when nothing is to do.",
        VZDUMP_PARAMS,
        upid(),
        _vzdump,
        ALL_USERS,
        protected=True,
    ),
    ApiMethod(
        "vzdump_defaults",
        "GET",
        "/nodes/{node}/vzdump/defaults",
        "Get the currently configured vzdump defaults.",
        Schema((NODE, string("storage", "The storage identifier.", format="pve-storage-id"))),
        {"type": "object"},
        _defaults,
        ALL_USERS,
    ),
    ApiMethod(
        "vzdump_extractconfig",
        "GET",
        "/nodes/{node}/vzdump/extractconfig",
        "Extract configuration from vzdump backup archive.",
        Schema(
            (
                NODE,
                string(
                    "volume", "Volume identifier", format="pve-volume-id-or-path", optional=False
                ),
            )
        ),
        {"type": "string"},
        _extractconfig,
        ALL_USERS,
    ),
    ApiMethod(
        "vzdump_index",
        "GET",
        "/nodes/{node}/vzdump",
        "Index of vzdump methods.",
        Schema((NODE,)),
        array(obj(name=prop("string"))),
        lambda call: [{"name": "defaults"}, {"name": "extractconfig"}],
        ALL_USERS,
    ),
]
