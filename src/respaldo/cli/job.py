"""``respaldo job ...``: backup jobs (``config/jobs.cfg``) as ``/cluster/backup`` edits them.

Proxmox has no command of its own for them (``pvesh create /cluster/backup ...``); these
verbs take the same parameters, built from the same schemas (:mod:`respaldo.jobs.jobscfg`),
and ``run`` starts a job now as the scheduler would, in the foreground.
"""

from __future__ import annotations

import argparse
import time

from respaldo.cli.commands import Command, register_commands
from respaldo.cli.output import OUTPUT_FORMAT, emit, print_table
from respaldo.config.schema import Schema
from respaldo.jobs import jobscfg, launch
from respaldo.node import Node
from respaldo.services.taskwork import ENTRY
from respaldo.tasks.worker import run_foreground


def _selection(job: dict[str, object]) -> str:
    if job.get("pool"):
        return f"pool {job['pool']}"
    if job.get("all"):
        return f"all except {job['exclude']}" if job.get("exclude") else "all"
    return str(job.get("vmid", ""))


def _retention(job: dict[str, object]) -> str:
    keep = job.get("prune-backups")
    if not isinstance(keep, dict):
        return "(storage's)"
    return ",".join(f"{key}={value}" for key, value in keep.items())


def cmd_list(params: dict[str, object], node: Node) -> None:
    jobs = jobscfg.list_jobs(node)

    def when(job: dict[str, object]) -> str:
        at = job.get("next-run")
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(int(str(at)))) if at else "-"

    rows = [
        [
            job["id"],
            "yes" if job.get("enabled") else "no",
            job.get("schedule", ""),
            when(job),
            job.get("storage", ""),
            _selection(job),
            _retention(job),
            job.get("comment", ""),
        ]
        for job in jobs
    ]
    emit(
        str(params.get("output-format", "text")),
        jobs,
        lambda: print_table(
            [
                "ID",
                "Enabled",
                "Schedule",
                "Next run",
                "Storage",
                "Selection",
                "Retention",
                "Comment",
            ],
            rows,
        ),
    )


def cmd_show(params: dict[str, object], node: Node) -> None:
    job = jobscfg.get_job(node, str(params["id"]))

    def text() -> None:
        for key, value in job.items():
            print(f"{key}: {value}")

    emit(str(params.get("output-format", "text")), job, text)


def cmd_create(params: dict[str, object], node: Node) -> None:
    job_id = jobscfg.create_job(node, {k: str(v) for k, v in params.items()})
    print(f"created job '{job_id}'")


def cmd_set(params: dict[str, object], node: Node) -> None:
    given = {k: str(v) for k, v in params.items() if k not in ("id", "delete")}
    jobscfg.update_job(node, str(params["id"]), given, str(params.get("delete", "")))


def cmd_delete(params: dict[str, object], node: Node) -> None:
    jobscfg.delete_job(node, str(params["id"]))


def cmd_run(params: dict[str, object], node: Node) -> None:
    task_id, options = launch.run_now(node, str(params["id"]))
    code = run_foreground(
        node,
        "vzdump",
        task_id,
        launch.JOB_USER,
        f"{ENTRY}:vzdump",
        options,
        f"{ENTRY}:recover_vzdump",
    )
    if code:
        raise SystemExit(code)


ID = Schema((jobscfg.JOB_ID,))
COMMANDS = (
    Command(
        "list",
        "list the backup jobs with their next run",
        Schema((OUTPUT_FORMAT,)),
        cmd_list,
    ),
    Command("show", "show a backup job", ID.extend(OUTPUT_FORMAT), cmd_show, ("id",)),
    Command(
        "create",
        "create a backup job (a schedule, a selection, vzdump options)",
        jobscfg.CREATE_PARAMS,
        cmd_create,
        ("id",),
        checked=False,
    ),
    Command(
        "set",
        "change a backup job (--delete removes options)",
        jobscfg.UPDATE_PARAMS,
        cmd_set,
        ("id",),
        checked=False,
    ),
    Command("delete", "delete a backup job", ID, cmd_delete, ("id",)),
    Command("run", "run a backup job now, in the foreground", ID, cmd_run, ("id",)),
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    register_commands(sub, "job", "manage scheduled backup jobs", COMMANDS)
