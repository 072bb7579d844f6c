"""``/cluster/backup``, ``/cluster/backup-info`` and ``/cluster/jobs``: backup jobs, the guests
no job covers, and the schedule simulator (pve-manager ``PVE/API2/Backup.pm``,
``PVE/API2/Cluster/BackupInfo.pm``, ``PVE/API2/Cluster/Jobs.pm``).

Permissions as Proxmox checks them: ``Sys.Audit`` on ``/`` to read, ``Sys.Modify`` on ``/``
to change; for users other than root@pam, ``tmpdir``, ``dumpdir``, ``script`` and
``job-id`` are refused, ``bwlimit``, ``ionice`` and ``performance`` need ``Sys.Modify`` on
``/`` too, the target storage ``Datastore.Allocate``, a fleecing storage
``Datastore.AllocateSpace``, a pool ``VM.Backup`` on ``/pool/<pool>``; a job with a
``dumpdir`` is root@pam's alone to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import cast

from respaldo.api.method import ALL_USERS, ApiMethod, Call, Perm, array, null, obj, prop
from respaldo.api.vzdump import check_common_options
from respaldo.config.schema import Schema, integer
from respaldo.errors import InputError, NotFoundError
from respaldo.jobs import guests, jobscfg
from respaldo.jobs.scheduler import schedule_analyze
from respaldo.services.vzdump.job import DEFAULT_STORAGE

AUDIT = Perm("/", ("Sys.Audit",))
MODIFY = Perm("/", ("Sys.Modify",))


def _storage_of(options: Mapping[str, object]) -> str | None:
    """The storage a job writes to (PVE/VZDump.pm ``get_storage_param``)."""
    if options.get("storage"):
        return str(options["storage"])
    return None if options.get("dumpdir") else DEFAULT_STORAGE


def _check_pool(call: Call) -> None:
    pool = call.opt_text("pool")
    if pool is None:
        return
    if pool not in call.access.config().pools:
        raise NotFoundError(f"pool '{pool}' does not exist")
    call.access.check(call.principal, f"/pool/{pool}", ("VM.Backup",))


def _check_create(call: Call) -> None:
    _check_pool(call)
    if call.is_root:
        return
    check_common_options(call, call.params)
    storage = _storage_of(call.params)
    if storage is not None:
        call.access.check(call.principal, f"/storage/{storage}", ("Datastore.Allocate",))


def _deleted(call: Call) -> list[str]:
    return [str(key) for key in cast("list[object]", call.get("delete") or [])]


def _check_update(call: Call) -> None:
    _check_pool(call)
    if call.is_root:
        return
    deleted = _deleted(call)
    check_common_options(call, call.params)
    check_common_options(call, dict.fromkeys(deleted, ""), deleting=True)
    if call.get("storage"):
        call.access.check(
            call.principal, f"/storage/{call.get('storage')}", ("Datastore.Allocate",)
        )
    elif "storage" in deleted:
        call.access.check(call.principal, f"/storage/{DEFAULT_STORAGE}", ("Datastore.Allocate",))
    current = jobscfg.find_job(call.node, call.text("id")).properties
    if current.get("dumpdir"):
        raise InputError("id", call.text("id"), "only root@pam may edit jobs with a 'dumpdir'")
    storage = _storage_of(current)
    if storage is not None:
        call.access.check(call.principal, f"/storage/{storage}", ("Datastore.Allocate",))


def _given(call: Call, *drop: str) -> dict[str, str]:
    """The options as sent (the file keeps them as Proxmox writes them)."""
    return {key: str(value) for key, value in call.raw.items() if key not in drop}


def _may_audit(call: Call) -> guests.MayAudit:
    def check(vmid: int) -> bool:
        return "VM.Audit" in call.access.permissions(call.principal, f"/vms/{vmid}")

    return check


def _pools(call: Call) -> guests.Pools:
    return {name: pool.vms for name, pool in call.access.config().pools.items()}


def _create(call: Call) -> object:
    jobscfg.create_job(call.node, _given(call))
    return None


def _update(call: Call) -> object:
    jobscfg.update_job(call.node, call.text("id"), _given(call, "id", "delete"), _deleted(call))
    return None


def _delete(call: Call) -> object:
    jobscfg.delete_job(call.node, call.text("id"))
    return None


def _analyze(call: Call) -> object:
    starttime = call.get("starttime")
    return schedule_analyze(
        call.text("schedule"),
        int(str(starttime)) if starttime is not None else None,
        call.number("iterations", 10),
    )


_ID = Schema((jobscfg.JOB_ID,))
_JOB = {"type": "object", "description": "A backup job: its vzdump options and properties."}
_SUBDIRS = array(obj(subdir=prop("string")))

METHODS = [
    ApiMethod(
        "backup_jobs",
        "GET",
        "/cluster/backup",
        "List vzdump backup schedule.",
        Schema(()),
        array(_JOB),
        lambda call: jobscfg.list_jobs(call.node),
        AUDIT,
    ),
    ApiMethod(
        "backup_job_create",
        "POST",
        "/cluster/backup",
        "Create new vzdump backup job.",
        jobscfg.CREATE_PARAMS,
        null(),
        _create,
        Perm("/", ("Sys.Modify",), check=_check_create),
        protected=True,
    ),
    ApiMethod(
        "backup_job",
        "GET",
        "/cluster/backup/{id}",
        "Read vzdump backup job definition.",
        _ID,
        _JOB,
        lambda call: jobscfg.get_job(call.node, call.text("id")),
        AUDIT,
    ),
    ApiMethod(
        "backup_job_update",
        "PUT",
        "/cluster/backup/{id}",
        "Update vzdump backup job definition.",
        jobscfg.UPDATE_PARAMS,
        null(),
        _update,
        Perm("/", ("Sys.Modify",), check=_check_update),
        protected=True,
    ),
    ApiMethod(
        "backup_job_delete",
        "DELETE",
        "/cluster/backup/{id}",
        "Delete vzdump backup job definition.",
        _ID,
        null(),
        _delete,
        MODIFY,
        protected=True,
    ),
    ApiMethod(
        "backup_job_included_volumes",
        "GET",
        "/cluster/backup/{id}/included_volumes",
        "Returns included guests and the backup status of their disks.",
        _ID,
        obj(children=array({"type": "object"})),
        lambda call: guests.included_volumes(
            call.node, call.text("id"), _may_audit(call), _pools(call)
        ),
        AUDIT,
        protected=True,
    ),
    ApiMethod(
        "backup_info_index",
        "GET",
        "/cluster/backup-info",
        "Index for backup info related endpoints.",
        Schema(()),
        _SUBDIRS,
        lambda call: [{"subdir": "not-backed-up"}],
        ALL_USERS,
    ),
    ApiMethod(
        "backup_info_not_backed_up",
        "GET",
        "/cluster/backup-info/not-backed-up",
        "Shows all guests which are not covered by any backup job.",
        Schema(()),
        array(obj(vmid=prop("integer"), name=prop("string"), type=prop("string"))),
        lambda call: guests.not_backed_up(call.node, _may_audit(call), _pools(call)),
        AUDIT,
        protected=True,
    ),
    ApiMethod(
        "jobs_index",
        "GET",
        "/cluster/jobs",
        "Index for jobs related endpoints.",
        Schema(()),
        _SUBDIRS,
        lambda call: [{"subdir": "schedule-analyze"}],
        ALL_USERS,
    ),
    ApiMethod(
        "schedule_analyze",
        "GET",
        "/cluster/jobs/schedule-analyze",
        "Returns a list of future schedule runtimes.",
        Schema(
            (
                replace(
                    jobscfg.JOB_PROPERTIES.get("schedule"),
                    description="Job schedule. The format is a subset of `systemd` calendar "
                    "events.",
                    optional=False,
                ),
                integer(
                    "starttime",
                    "UNIX timestamp to start the calculation from. Defaults to the current time.",
                ),
                integer(
                    "iterations",
                    "Number of event-iteration to simulate and return.",
                    minimum=1,
                    maximum=100,
                    default=10,
                ),
            )
        ),
        array(obj(timestamp=prop("integer"), utc=prop("string"))),
        _analyze,
        ALL_USERS,
    ),
]
