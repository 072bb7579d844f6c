"""How the scheduler starts a job's run and learns that it ended: a ``vzdump`` task.

As pve-manager ``PVE/Jobs/VZDump.pm`` runs a job: the job's vzdump options with ``job-id``
and ``quiet``, as root@pam, in a task of its own (``vzdump``, id the VMID when the job backs
up one guest); ``OK`` without a task when there is nothing to back up on this node.
"""

from __future__ import annotations

from collections.abc import Mapping

from respaldo.errors import NoSuchTask
from respaldo.jobs.guests import pool_members
from respaldo.jobs.jobscfg import find_job
from respaldo.jobs.scheduler import StartJob, TaskStatus
from respaldo.node import Node
from respaldo.services.taskwork import ENTRY
from respaldo.services.vmstore import VmStore
from respaldo.services.vzdump.options import node_defaults, parse_options
from respaldo.tasks.store import UNEXPECTED_STATUS, TaskStore
from respaldo.tasks.worker import spawn

#: Who runs scheduled jobs (Proxmox's pvescheduler runs them as root@pam).
JOB_USER = "root@pam"


def _guests(node: Node, options: Mapping[str, str]) -> list[int]:
    """The VMIDs the run backs up; a listed VMID without a config is kept, so that the task
    reports it as the guest that failed."""
    opts = parse_options(dict(options), node_defaults(node))
    if opts.pool is not None:
        return pool_members(node, opts.pool)
    if opts.all:
        return [vmid for vmid in VmStore(node).vmids() if vmid not in opts.exclude]
    return sorted(opts.vmids)


def task_id_of(vmids: list[int]) -> str:
    """A vzdump task's id: the VMID when it backs up one guest, else empty (Proxmox's)."""
    return str(vmids[0]) if len(vmids) == 1 else ""


def run_now(node: Node, job_id: str) -> tuple[str, dict[str, str]]:
    """What running job ``job_id`` now takes: the vzdump task's id and its options (the
    job's, with ``job-id``). Raises NoSuchJob, InputError for options that do not parse."""
    options = find_job(node, job_id).vzdump_options()
    return task_id_of(_guests(node, options)), options


def vzdump_starter(node: Node) -> StartJob:
    """``start_job(job_id, options) -> UPID``: a ``vzdump`` task with the job's options.

    Raises InputError for options that do not parse (the run is recorded as not started),
    TaskError when the task process does not start."""

    def start_job(job_id: str, options: dict[str, str]) -> str:
        vmids = _guests(node, options)
        if not vmids:
            return "OK"
        params: dict[str, object] = dict(options)
        if "pool" in options:
            params["pool_vmids"] = vmids
        upid = spawn(
            node,
            "vzdump",
            task_id_of(vmids),
            JOB_USER,
            f"{ENTRY}:vzdump",
            params,
            f"{ENTRY}:recover_vzdump",
        )
        return str(upid)

    return start_job


def task_status_reader(node: Node) -> TaskStatus:
    """``task_status(upid)``: None while the task runs, else its exit status; a task whose
    log is gone counts as ended with ``unexpected status``."""
    store = TaskStore.for_node(node)

    def task_status(upid: str) -> str | None:
        try:
            row = store.status(upid)
        except NoSuchTask:
            return UNEXPECTED_STATUS
        if row["status"] == "running":
            return None
        return str(row.get("exitstatus", UNEXPECTED_STATUS))

    return task_status
