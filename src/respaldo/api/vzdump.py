"""``/nodes/{node}/vzdump``: backup now, the node's backup defaults, an archive's config
(pve-manager ``PVE/API2/VZDump.pm``, ``PVE/API2/Backup.pm``; qemu-server's extractconfig).

Permissions as Proxmox checks them (``PVE/API2/VZDump.pm``, ``PVE/API2/Backup.pm``
assert_param_permission_common), for everyone but root@pam: ``VM.Backup`` on every guest named
(with ``all``, the guests without it are left out, as Proxmox's job skips them) and
``Datastore.AllocateSpace`` on the target storage and on the fleecing storage; ``dumpdir``,
``tmpdir``, ``script`` and ``job-id`` are refused (400, ``Only root may set this option.``);
``bwlimit``, ``ionice`` and ``performance`` need ``Sys.Modify`` on ``/``, ``stop``
``Sys.Modify`` on the node, and ``prune-backups`` ``Datastore.Allocate`` on the storage.
The defaults need ``Datastore.Audit`` or ``Datastore.AllocateSpace`` on the storage they are
read for; an archive's config needs read access to it (``respaldo.api.volaccess``) and
``VM.Backup`` on its guest.
"""

from __future__ import annotations

from collections.abc import Mapping

from respaldo.api.method import ALL_USERS, ApiMethod, Call, array, obj, prop, upid
from respaldo.api.tasks import start_task
from respaldo.api.volaccess import check_volume_access
from respaldo.config.prune import format_prune_backups, parse_prune_backups
from respaldo.config.schema import Schema, string
from respaldo.config.stdparams import NODE
from respaldo.errors import InputError, PermissionDenied
from respaldo.jobs.guests import pool_members
from respaldo.services.pvesm import StorageManager
from respaldo.services.vzdump.job import DEFAULT_STORAGE, resolve_vmids, stop_running_backups
from respaldo.services.vzdump.options import VZDUMP_PARAMS, node_defaults, parse_options

ROOT_ONLY = ("tmpdir", "dumpdir", "script", "job-id")
SYS_MODIFY = ("bwlimit", "ionice", "performance")
#: Removed from the defaults for users without Sys.Audit on the node (Proxmox's rule).
PRIVATE_DEFAULTS = ("mailto", "tmpdir", "dumpdir", "script", "ionice")


def check_common_options(call: Call, options: Mapping[str, object], deleting: bool = False) -> None:
    """The option checks a backup and a backup job share (pve-manager ``PVE/API2/Backup.pm``
    assert_param_permission_common); ``deleting``: the options are being removed from a job
    (a fleecing storage named then is not checked)."""
    if call.is_root:
        return
    for key in ROOT_ONLY:
        if key in options:
            raise InputError(key, options[key], "Only root may set this option.")
    if any(options.get(key) is not None for key in SYS_MODIFY):
        call.access.check(call.principal, "/", ("Sys.Modify",))
    fleecing = options.get("fleecing")
    if not deleting and isinstance(fleecing, Mapping) and fleecing.get("storage"):
        path = f"/storage/{fleecing['storage']}"
        call.access.check(call.principal, path, ("Datastore.AllocateSpace",))


def _check_options(call: Call, storage: str | None) -> None:
    if call.params.get("stdout"):
        raise InputError("stdout", 1, "option is only allowed on the command line interface.")
    check_common_options(call, call.params)
    if call.params.get("prune-backups") is not None and storage is not None:
        call.access.check(call.principal, f"/storage/{storage}", ("Datastore.Allocate",))
    if call.flag("stop"):
        call.access.check(call.principal, f"/nodes/{call.node.name}", ("Sys.Modify",))


def _guests(call: Call, given: dict[str, object], vmids: list[int], every: bool) -> list[int]:
    """The guests the caller may back up: each one named needs ``VM.Backup`` (403 without);
    of all guests, those without it are left out (``given`` then names the rest)."""
    if call.is_root:
        return vmids
    allowed = [
        vmid
        for vmid in vmids
        if not every or "VM.Backup" in call.access.permissions(call.principal, f"/vms/{vmid}")
    ]
    for vmid in allowed:
        call.access.check(call.principal, f"/vms/{vmid}", ("VM.Backup",))
    if allowed != vmids:
        for key in ("all", "exclude", "pool", "pool_vmids"):
            given.pop(key, None)
        given["vmid"] = ",".join(str(vmid) for vmid in allowed)
    return allowed


def _vzdump(call: Call) -> object:
    given = {key: str(value) for key, value in call.raw.items() if key not in ("node", "stdout")}
    opts = parse_options(given, node_defaults(call.node))
    storage = opts.storage or (None if opts.dumpdir else DEFAULT_STORAGE)
    _check_options(call, storage)
    if opts.extra.get("stop"):
        stop_running_backups(call.node)
        if not (opts.vmids or opts.all or opts.pool):
            return "OK"
    task: dict[str, object] = dict(given)
    if opts.pool is not None:
        opts.pool_vmids = pool_members(call.node, opts.pool)
        task["pool_vmids"] = opts.pool_vmids
    every = opts.all or opts.pool is not None
    vmids = _guests(call, task, resolve_vmids(call.node, opts), every)
    if not vmids and not every:
        return "OK"  # nothing to back up on this node (Ansible checks for this)
    if storage is not None:
        call.access.check(call.principal, f"/storage/{storage}", ("Datastore.AllocateSpace",))
    if not vmids:
        return "OK"
    task_id = str(vmids[0]) if len(vmids) == 1 else ""
    return start_task(call, "vzdump", task_id, "vzdump", task, recover="recover_vzdump")


def _defaults(call: Call) -> object:
    defaults: dict[str, object] = dict(node_defaults(call.node))
    storage = call.opt_text("storage") or str(defaults.get("storage") or DEFAULT_STORAGE)
    defaults["storage"] = storage
    call.access.check(
        call.principal,
        f"/storage/{storage}",
        ("Datastore.Audit", "Datastore.AllocateSpace"),
        any=True,
    )
    plugin = StorageManager(call.node).registry.get(storage)
    if plugin.prune_backups and "prune-backups" not in defaults:
        defaults["prune-backups"] = plugin.prune_backups
    privs = call.access.permissions(call.principal, f"/nodes/{call.node.name}")
    if "Sys.Audit" not in privs:
        for key in PRIVATE_DEFAULTS:
            defaults.pop(key, None)
    pool = defaults.get("pool")
    if pool and "Pool.Audit" not in call.access.permissions(call.principal, f"/pool/{pool}"):
        del defaults["pool"]
    if "prune-backups" in defaults:
        defaults["prune-backups"] = format_prune_backups(
            parse_prune_backups(str(defaults["prune-backups"]))
        )
    return defaults


def _check_extract(call: Call) -> None:
    name = check_volume_access(call, call.text("volume"), content="backup")
    if name is not None and not call.is_root:
        if name.owner is None:
            raise PermissionDenied(f"missing privileges to access {call.text('volume')}")
        call.access.check(call.principal, f"/vms/{name.owner}", ("VM.Backup",))


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
