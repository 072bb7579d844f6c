"""``respaldo job ...`` in a subprocess: the same parameters and errors as /cluster/backup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from respaldo.jobs import jobscfg
from respaldo.node import Node


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RESPALDO_HOME=str(home), RESPALDO_NODE="pve")
    return subprocess.run(
        [sys.executable, "-m", "respaldo.cli.main", "job", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_create_list_set_delete(tmp_path: Path) -> None:
    made = run_cli(
        tmp_path,
        "create",
        "nightly",
        "--schedule",
        "mon..fri 21:00",
        "--all",
        "--exclude",
        "105",
        "--prune-backups",
        "keep-daily=7,keep-last=2",
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout == "created job 'nightly'\n"
    listed = run_cli(tmp_path, "list", "--output-format", "json")
    [job] = json.loads(listed.stdout)
    assert (job["id"], job["all"], job["exclude"]) == ("nightly", 1, "105")
    assert job["prune-backups"] == {"keep-daily": 7, "keep-last": 2}
    assert "next-run" in job
    assert "all except 105" in run_cli(tmp_path, "list").stdout
    changed = run_cli(tmp_path, "set", "nightly", "--vmid", "100", "--delete", "prune-backups")
    assert changed.returncode == 0, changed.stderr
    job = jobscfg.get_job(Node(tmp_path, "pve"), "nightly")
    assert job["vmid"] == "100" and "all" not in job and "prune-backups" not in job
    assert run_cli(tmp_path, "delete", "nightly").returncode == 0
    assert json.loads(run_cli(tmp_path, "list", "--output-format", "json").stdout) == []


def test_bad_input_is_named_with_exit_code_2(tmp_path: Path) -> None:
    bad = run_cli(tmp_path, "create", "nightly", "--schedule", "daily", "--all", "--zstd", "x")
    assert bad.returncode == 2
    assert "zstd" in bad.stderr and "type check ('integer') failed" in bad.stderr
    missing = run_cli(tmp_path, "show", "nope")
    assert missing.returncode == 2 and "No such job 'nope'" in missing.stderr
