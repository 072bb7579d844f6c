"""Per-job state files: Proxmox's fields, guarded changes, the time the next run counts from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from respaldo.errors import ConfigError, ConflictError
from respaldo.jobs import state
from respaldo.jobs.state import JobState, JobStateError, RunState
from respaldo.node import Node

T0 = 1715335200
UPID = f"UPID:pve:0001A2B3:00C0FFEE:{T0 + 60:08X}:vzdump::root@pam:"


@pytest.fixture
def node(tmp_path: Path) -> Node:
    return Node(tmp_path, "pve")


def test_a_run_goes_through_its_states() -> None:
    created = JobState(time=T0, config={"enabled": 1, "schedule": "21:00"})
    starting = created.starting("j", T0 + 59)
    started = starting.started("j", UPID)
    stopped = started.stopped("j", "OK")
    assert [s.state for s in (created, starting, started, stopped)] == [
        RunState.CREATED,
        RunState.STARTING,
        RunState.STARTED,
        RunState.STOPPED,
    ]
    assert stopped.to_json() == {
        "state": "stopped",
        "upid": UPID,
        "msg": "OK",
        "config": {"enabled": 1, "schedule": "21:00"},
    }
    again = stopped.starting("j", T0 + 3600)
    assert again.state is RunState.STARTING and again.upid is None


@pytest.mark.parametrize(
    ("current", "change"),
    [
        (JobState(RunState.STARTED, upid=UPID), lambda s: s.starting("j", T0)),
        (JobState(RunState.CREATED), lambda s: s.started("j", UPID)),
        (JobState(RunState.STOPPED), lambda s: s.stopped("j", "OK")),
        (JobState(RunState.CREATED), lambda s: s.not_started("j", T0, "error")),
    ],
)
def test_changes_the_state_does_not_allow_are_refused(current: JobState, change: object) -> None:
    with pytest.raises(JobStateError) as info:
        change(current)  # type: ignore[operator]
    assert info.value.current is current.state
    assert "job 'j' is" in str(info.value)


def test_last_run_is_updated_then_the_tasks_start_then_time() -> None:
    assert JobState().last_run() == 0
    assert JobState(time=T0).last_run() == T0
    assert JobState(RunState.STARTED, upid=UPID).last_run() == T0 + 60
    assert JobState(RunState.STOPPED, upid=UPID, updated=T0 + 500).last_run() == T0 + 500
    assert JobState(RunState.STOPPED, time=T0, msg="error").last_run() == T0
    assert JobState(RunState.STOPPED, time=T0, upid="not a upid").last_run() == T0


def test_a_stopped_run_keeps_a_change_made_while_it_ran() -> None:
    started = JobState(RunState.STARTED, upid=UPID, updated=T0 + 500)
    assert started.stopped("j", "job errors").last_run() == T0 + 500


def test_files_read_as_proxmox_writes_them(node: Node) -> None:
    path = state.state_path(node, "backup-1")
    assert path == node.home / "run" / "jobs" / "vzdump-backup-1.json"
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps({"state": "stopped", "upid": UPID, "msg": "OK", "config": {"enabled": "1"}})
    )
    assert state.read_state(node, "backup-1") == JobState(
        RunState.STOPPED, upid=UPID, msg="OK", config={"enabled": "1"}
    )
    path.write_text("")
    assert state.read_state(node, "backup-1") == JobState()
    assert state.read_state(node, "other") is None
    assert state.known_state_ids(node) == ["backup-1"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"state": "running"}', "unknown state 'running'"),
        ('{"state": "created", "time": "soon"}', "'time' is not a number"),
    ],
)
def test_bad_files_are_config_errors(node: Node, text: str, fragment: str) -> None:
    path = state.state_path(node, "j")
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        state.read_state(node, "j")


def test_create_twice_is_refused_once_a_run_started(node: Node) -> None:
    state.create_state(node, "j", {"schedule": "21:00"}, T0)
    state.create_state(node, "j", {"schedule": "22:00"}, T0 + 1)  # still only created
    saved = state.read_state(node, "j")
    assert saved is not None
    state.write_state(node, "j", saved.starting("j", T0 + 5))
    with pytest.raises(ConflictError, match="job state already exists"):
        state.create_state(node, "j", {"schedule": "21:00"}, T0 + 10)


def test_raise_last_run_only_moves_forward(node: Node) -> None:
    state.create_state(node, "j", {"schedule": "21:00"}, T0)
    assert state.raise_last_run(node, "j", T0 + 100)
    assert not state.raise_last_run(node, "j", T0 + 50)
    saved = state.read_state(node, "j")
    assert saved is not None and saved.last_run() == T0 + 100
    assert not state.raise_last_run(node, "gone", T0)
