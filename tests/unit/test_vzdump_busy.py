"""Never two backups of one VM at once: a job's run skips a VM whose backup is still running;
a job asked to stop backs up no further VM."""

from __future__ import annotations

from pathlib import Path

import pytest

from respaldo.errors import TaskStopped
from respaldo.locks import file_lock
from respaldo.node import Node
from respaldo.services.vzdump import recovery
from respaldo.services.vzdump.job import VzdumpJob
from respaldo.services.vzdump.jobresult import JobResult
from respaldo.services.vzdump.options import parse_options
from respaldo.tasks.context import MemoryContext


@pytest.fixture
def node(tmp_path: Path) -> Node:
    node = Node(tmp_path / "home", "pve")
    node.ensure_dirs()
    (tmp_path / "store").mkdir()
    node.storage_cfg.write_text(f"dir: local\n\tpath {tmp_path / 'store'}\n\tcontent backup\n")
    node.vm_config_dir.mkdir(parents=True, exist_ok=True)
    (node.vm_config_dir / "100.conf").write_text("name: web\nmemory: 64\n")
    return node


def run_with_the_backup_of_100_running(
    node: Node, options: dict[str, str]
) -> tuple[MemoryContext, JobResult]:
    ctx = MemoryContext()
    job = VzdumpJob(node, parse_options(options, {}))
    with file_lock(recovery.backup_lock_path(node, 100), "the other backup of VM 100", 1):
        return ctx, job.run(ctx)


def test_a_jobs_run_skips_the_vm_with_a_warning(node: Node) -> None:
    ctx, result = run_with_the_backup_of_100_running(node, {"vmid": "100", "job-id": "nightly"})
    [guest] = result.guests
    assert guest.skipped and guest.status == "skipped" and guest.archive is None
    assert result.ok  # a warning, not a failed backup
    assert ctx.warnings == 1
    assert "WARN: VM 100 is still being backed up by another task: skipped" in ctx.lines
    assert not list((node.home.parent / "store" / "dump").glob("*.vma*"))


def test_a_backup_now_waits_lockwait_then_fails(node: Node) -> None:
    _, result = run_with_the_backup_of_100_running(node, {"vmid": "100", "lockwait": "0"})
    [guest] = result.guests
    assert not guest.ok and not guest.skipped
    assert "can't lock backup of VM 100" in (guest.error or "")


def test_a_stop_requested_before_a_vms_turn_ends_the_job(node: Node) -> None:
    # The flag a stop signal sets, even when the exception its handler raised was dropped
    ctx = MemoryContext()
    ctx.request_stop("interrupted by signal")
    job = VzdumpJob(node, parse_options({"vmid": "100"}, {}))
    with pytest.raises(TaskStopped, match=r"^interrupted by signal$"):
        job.run(ctx)
    assert ctx.lines[-1] == "ERROR: Backup job failed - interrupted by signal"
    assert not any("Starting Backup of VM 100" in line for line in ctx.lines)
    assert not list((node.home.parent / "store" / "dump").glob("*"))
