"""``/nodes/{node}/tasks``: the task list, a task's status and log, stopping a task (pve-manager
``PVE/API2/Tasks.pm``), and :func:`start_task`, how every other method starts one.

A user sees and stops the tasks they started (and those of their API tokens; a token only its
own); ``Sys.Audit`` on ``/nodes/{node}`` shows all, ``Sys.Modify`` lets one stop any; the
index of a task is anyone's (Proxmox's rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from respaldo.api.method import ALL_USERS, ApiMethod, Call, Result, array, null, obj, prop
from respaldo.config.schema import Schema, boolean, integer, string
from respaldo.config.stdparams import NODE
from respaldo.services.taskwork import ENTRY
from respaldo.tasks.store import TaskStore, owned_by
from respaldo.tasks.upid import decode
from respaldo.tasks.worker import spawn, stop


def start_task(
    call: Call,
    type: str,
    id: str,
    work: str,
    params: Mapping[str, Any],
    recover: str | None = None,
) -> str:
    """Start task ``type`` running ``services.taskwork.<work>(ctx, **params)``; its UPID."""
    upid = spawn(
        call.node,
        type,
        id,
        call.principal.authid,
        f"{ENTRY}:{work}",
        params,
        f"{ENTRY}:{recover}" if recover else None,
    )
    return str(upid)


def _may_see_all(call: Call) -> bool:
    return "Sys.Audit" in call.access.permissions(call.principal, f"/nodes/{call.node.name}")


def _check_owner(call: Call, upid: str, privilege: str) -> None:
    task = decode(upid)
    if owned_by(task, call.principal.authid):
        return
    call.access.check(call.principal, f"/nodes/{call.node.name}", (privilege,))


def _list(call: Call) -> object:
    store = TaskStore.for_node(call.node)
    vmid = call.get("vmid")
    rows, total = store.list_tasks(
        start=call.number("start", 0),
        limit=call.number("limit", 50),
        userfilter=call.opt_text("userfilter"),
        typefilter=call.opt_text("typefilter"),
        vmid=int(str(vmid)) if vmid is not None else None,
        errors=call.flag("errors"),
        source=call.opt_text("source") or "archive",
        since=call.get("since"),  # type: ignore[arg-type]
        until=call.get("until"),  # type: ignore[arg-type]
        statusfilter=call.opt_text("statusfilter"),
        owner=None if _may_see_all(call) else call.principal.authid,
    )
    return Result(rows, total=total)


def _index(call: Call) -> object:
    decode(call.text("upid"))  # an index of anything but a UPID is a parameter error
    return [{"name": "log"}, {"name": "status"}]


def _status(call: Call) -> object:
    _check_owner(call, call.text("upid"), "Sys.Audit")
    return TaskStore.for_node(call.node).status(call.text("upid"))


def _log(call: Call) -> object:
    _check_owner(call, call.text("upid"), "Sys.Audit")
    lines, total = TaskStore.for_node(call.node).read_log(
        call.text("upid"), call.number("start", 0), call.number("limit", 50)
    )
    return Result(lines, total=total)


def _stop(call: Call) -> object:
    _check_owner(call, call.text("upid"), "Sys.Modify")
    stop(call.node, call.text("upid"), wait=5)
    return None


UPID = string("upid", "The task's unique ID.", optional=False)
_ROW = obj(
    upid=prop("string"),
    node=prop("string"),
    pid=prop("integer"),
    pstart=prop("integer"),
    starttime=prop("integer"),
    type=prop("string"),
    id=prop("string"),
    user=prop("string"),
    status=prop("string"),
    endtime=prop("integer"),
)

METHODS = [
    ApiMethod(
        "node_tasks",
        "GET",
        "/nodes/{node}/tasks",
        "Read task list for one node (finished tasks).",
        Schema(
            (
                NODE,
                integer("start", "List tasks beginning from this offset.", minimum=0, default=0),
                integer("limit", "Only list this amount of tasks.", minimum=0, default=50),
                string("userfilter", "Only list tasks from this user."),
                string("typefilter", "Only list tasks of this type (e.g., vzstart, vzdump)."),
                integer("vmid", "Only list tasks for this VM.", format="pve-vmid"),
                boolean("errors", "Only list tasks with a status of ERROR.", default=False),
                string(
                    "source",
                    "List archived, active or all tasks.",
                    enum=("archive", "active", "all"),
                    default="archive",
                ),
                integer("since", "Only list tasks since this UNIX epoch.", minimum=0),
                integer("until", "Only list tasks until this UNIX epoch.", minimum=0),
                string(
                    "statusfilter",
                    "List of Task States that should be returned (ok, warning, error, unknown).",
                    pattern=r"(ok|warning|error|unknown)([,; ](ok|warning|error|unknown))*",
                ),
            )
        ),
        array(_ROW),
        _list,
        ALL_USERS,
    ),
    ApiMethod(
        "task_index",
        "GET",
        "/nodes/{node}/tasks/{upid}",
        "Task index.",
        Schema((NODE, UPID)),
        array(obj(name=prop("string"))),
        _index,
        ALL_USERS,
    ),
    ApiMethod(
        "task_status",
        "GET",
        "/nodes/{node}/tasks/{upid}/status",
        "Read task status.",
        Schema((NODE, UPID)),
        _ROW,
        _status,
        ALL_USERS,
    ),
    ApiMethod(
        "task_log",
        "GET",
        "/nodes/{node}/tasks/{upid}/log",
        "Read task log.",
        Schema(
            (
                NODE,
                UPID,
                integer(
                    "start", "Start at this line when reading the tasklog", minimum=0, default=0
                ),
                integer(
                    "limit", "The amount of lines to read from the tasklog.", minimum=0, default=50
                ),
            )
        ),
        array(obj(n=prop("integer"), t=prop("string"))),
        _log,
        ALL_USERS,
    ),
    ApiMethod(
        "task_stop",
        "DELETE",
        "/nodes/{node}/tasks/{upid}",
        "Stop a task.",
        Schema((NODE, UPID)),
        null(),
        _stop,
        ALL_USERS,
    ),
]
