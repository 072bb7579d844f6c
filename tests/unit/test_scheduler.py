"""The scheduler with a fake clock: what runs when, once."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from respaldo.errors import InputError, StorageError
from respaldo.jobs import jobscfg, state
from respaldo.jobs.scheduler import Run, Scheduler, schedule_analyze
from respaldo.jobs.state import RunState
from respaldo.node import Node

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str) -> int:
    """``2024-05-10 21:00`` on the node's clock (Europe/Berlin) as epoch seconds."""
    return int(datetime.fromisoformat(text).replace(tzinfo=BERLIN).timestamp())


def make_upid(now: int) -> str:
    return f"UPID:pve:{os.getpid():08X}:00C0FFEE:{now:08X}:vzdump::root@pam:"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Tasks:
    """The task system as the scheduler sees it: start_job starts a task at the clock's time,
    which runs until the test ends it."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.started: list[tuple[str, dict[str, str], int]] = []
        self.exitstatus: dict[str, str | None] = {}
        self.fail_with: Exception | None = None
        self.answer_ok = False

    def start_job(self, job_id: str, options: dict[str, str]) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        now = int(self.clock())
        self.started.append((job_id, options, now))
        if self.answer_ok:
            return "OK"
        upid = make_upid(now) + f"{len(self.started)}"
        self.exitstatus[upid] = None
        return upid

    def task_status(self, upid: str) -> str | None:
        return self.exitstatus[upid]

    def finish_all(self, exitstatus: str = "OK") -> None:
        for upid, status in self.exitstatus.items():
            if status is None:
                self.exitstatus[upid] = exitstatus


@pytest.fixture
def node(tmp_path: Path) -> Node:
    return Node(tmp_path, "pve")


@pytest.fixture
def clock() -> Clock:
    return Clock(at("2024-05-10 12:00"))


@pytest.fixture
def tasks(clock: Clock) -> Tasks:
    return Tasks(clock)


def scheduler(node: Node, tasks: Tasks, clock: Clock, **kwargs: Any) -> Scheduler:
    return Scheduler(node, tasks.start_job, tasks.task_status, clock=clock, zone=BERLIN, **kwargs)


def create(where: Node, clock: Clock, **params: str) -> str:
    """A job on VM 100 to storage local with ``params`` (``repeat_missed`` for
    ``repeat-missed``), created at the clock's time."""
    given = {"vmid": "100", "storage": "local"} | {
        k.replace("_", "-"): v for k, v in params.items()
    }
    return jobscfg.create_job(where, given, now=int(clock()))


def tick(sched: Scheduler, clock: Clock, when: str) -> list[tuple[str, str]]:
    """Run a round at ``when``; the started runs as (job id, local due time)."""
    clock.now = at(when)
    return [(run.job_id, local(run.due)) for run in sched.tick()]


def local(epoch: int) -> str:
    return f"{datetime.fromtimestamp(epoch, BERLIN):%Y-%m-%d %H:%M}"


# -- on time ----------------------------------------------------------------------------------


def test_a_job_fires_on_time_and_once(node: Node, tasks: Tasks, clock: Clock) -> None:
    job_id = create(node, clock, id="nightly", schedule="21:00")
    sched = scheduler(node, tasks, clock)
    assert sched.next_wakeup() == at("2024-05-10 21:00")
    assert tick(sched, clock, "2024-05-10 20:59:59") == []
    assert tick(sched, clock, "2024-05-10 21:00") == [(job_id, "2024-05-10 21:00")]
    assert tick(sched, clock, "2024-05-10 21:00:30") == []  # still running
    tasks.finish_all()
    assert tick(sched, clock, "2024-05-10 21:05") == []
    assert tick(sched, clock, "2024-05-11 20:59") == []
    assert tick(sched, clock, "2024-05-11 21:00") == [(job_id, "2024-05-11 21:00")]
    assert [(job, when) for job, _, when in tasks.started] == [
        (job_id, at("2024-05-10 21:00")),
        (job_id, at("2024-05-11 21:00")),
    ]


def test_the_run_gets_the_jobs_vzdump_options(node: Node, tasks: Tasks, clock: Clock) -> None:
    create(node, clock, id="nightly", schedule="21:00", compress="zstd", comment="x")
    sched = scheduler(node, tasks, clock)
    tick(sched, clock, "2024-05-10 21:00")
    assert tasks.started[0][1] == {
        "compress": "zstd",
        "storage": "local",
        "vmid": "100",
        "job-id": "nightly",
        "quiet": "1",
    }


def test_the_state_records_the_upid_and_the_result(node: Node, tasks: Tasks, clock: Clock) -> None:
    job_id = create(node, clock, schedule="21:00")
    sched = scheduler(node, tasks, clock)
    clock.now = at("2024-05-10 21:00")
    (run,) = sched.tick()
    saved = state.read_state(node, job_id)
    assert saved is not None
    assert (saved.state, saved.upid) == (RunState.STARTED, run.upid)
    tasks.finish_all("job errors")
    tick(sched, clock, "2024-05-10 21:10")
    saved = state.read_state(node, job_id)
    assert saved is not None
    assert (saved.state, saved.upid, saved.msg) == (RunState.STOPPED, run.upid, "job errors")


def test_a_daily_job_keeps_its_local_time_across_dst(
    node: Node, tasks: Tasks, clock: Clock
) -> None:
    clock.now = at("2024-03-30 12:00")
    job_id = create(node, clock, schedule="21:00")
    sched = scheduler(node, tasks, clock)
    assert tick(sched, clock, "2024-03-30 21:00") == [(job_id, "2024-03-30 21:00")]
    tasks.finish_all()
    assert tick(sched, clock, "2024-03-31 20:00") == []  # 23 hours later
    assert tick(sched, clock, "2024-03-31 21:00") == [(job_id, "2024-03-31 21:00")]


# -- missed runs ------------------------------------------------------------------------------


def downtime_scenario(
    node: Node, tasks: Tasks, clock: Clock, repeat_missed: str
) -> tuple[str, Scheduler]:
    """A job that ran on 05-10 at 21:00; then no scheduler ran until 05-13 10:00."""
    job_id = create(node, clock, schedule="21:00", repeat_missed=repeat_missed)
    before = scheduler(node, tasks, clock)
    assert tick(before, clock, "2024-05-10 21:00") == [(job_id, "2024-05-10 21:00")]
    tasks.finish_all()
    return job_id, scheduler(node, tasks, clock)


def test_a_missed_run_is_caught_up_once_with_repeat_missed(
    node: Node, tasks: Tasks, clock: Clock
) -> None:
    job_id, after = downtime_scenario(node, tasks, clock, repeat_missed="1")
    assert tick(after, clock, "2024-05-13 10:00") == [(job_id, "2024-05-11 21:00")]
    assert tick(after, clock, "2024-05-13 10:01") == []
    tasks.finish_all()
    assert tick(after, clock, "2024-05-13 10:02") == []
    assert tick(after, clock, "2024-05-13 21:00") == [(job_id, "2024-05-13 21:00")]


def test_missed_runs_are_skipped_without_repeat_missed(
    node: Node, tasks: Tasks, clock: Clock
) -> None:
    job_id, after = downtime_scenario(node, tasks, clock, repeat_missed="0")
    assert tick(after, clock, "2024-05-13 10:00") == []
    assert tick(after, clock, "2024-05-13 20:59") == []
    assert tick(after, clock, "2024-05-13 21:00") == [(job_id, "2024-05-13 21:00")]


def test_a_run_due_just_before_the_start_still_runs(node: Node, tasks: Tasks, clock: Clock) -> None:
    # A second scheduler starting next to a running one must not drop the run that one is
    # about to start: runs due within startup_grace before the start are not "missed".
    job_id = create(node, clock, schedule="21:00")
    assert tick(scheduler(node, tasks, clock), clock, "2024-05-10 21:00:30") == [
        (job_id, "2024-05-10 21:00")
    ]
    tasks.finish_all()
    assert tick(scheduler(node, tasks, clock), clock, "2024-05-11 21:01:30") == []


def test_a_run_that_lasts_past_the_next_event_is_followed_by_one_run(
    node: Node, tasks: Tasks, clock: Clock
) -> None:
    job_id = create(node, clock, schedule="*/10")
    sched = scheduler(node, tasks, clock)
    assert tick(sched, clock, "2024-05-10 12:10") == [(job_id, "2024-05-10 12:10")]
    assert tick(sched, clock, "2024-05-10 12:20") == []
    assert tick(sched, clock, "2024-05-10 12:30") == []
    tasks.finish_all()
    assert tick(sched, clock, "2024-05-10 12:35") == [(job_id, "2024-05-10 12:20")]
    tasks.finish_all()
    assert tick(sched, clock, "2024-05-10 12:36") == []
    assert tick(sched, clock, "2024-05-10 12:40") == [(job_id, "2024-05-10 12:40")]


# -- jobs that do not run ---------------------------------------------------------------------


def test_a_disabled_job_never_runs(node: Node, tasks: Tasks, clock: Clock) -> None:
    job_id = create(node, clock, schedule="21:00", enabled="0", repeat_missed="1")
    sched = scheduler(node, tasks, clock)
    for day in range(10, 15):
        assert tick(sched, clock, f"2024-05-{day} 21:00") == []
    assert sched.next_wakeup() is None
    assert tasks.started == []
    # Enabled again: the next run counts from then, the missed days stay missed.
    clock.now = at("2024-05-15 21:30")
    jobscfg.update_job(node, job_id, {"enabled": "1"}, now=int(clock()))
    assert tick(sched, clock, "2024-05-15 21:31") == []
    assert tick(sched, clock, "2024-05-16 21:00") == [(job_id, "2024-05-16 21:00")]


def test_a_job_for_another_node_does_not_run_here(node: Node, tasks: Tasks, clock: Clock) -> None:
    create(node, clock, id="elsewhere", schedule="21:00", node="pve2")
    create(node, clock, id="here", schedule="21:00", node="pve")
    sched = scheduler(node, tasks, clock)
    assert tick(sched, clock, "2024-05-10 21:00") == [("here", "2024-05-10 21:00")]


def test_a_failed_start_is_recorded_and_retried_at_the_next_event(
    node: Node, tasks: Tasks, clock: Clock
) -> None:
    job_id = create(node, clock, schedule="21:00")
    sched = scheduler(node, tasks, clock)
    tasks.fail_with = StorageError("storage 'local' is full")
    clock.now = at("2024-05-10 21:00")
    assert sched.tick() == [Run(job_id, at("2024-05-10 21:00"), msg="storage 'local' is full")]
    saved = state.read_state(node, job_id)
    assert saved is not None
    assert (saved.state, saved.msg) == (RunState.STOPPED, "storage 'local' is full")
    tasks.fail_with = None
    assert tick(sched, clock, "2024-05-10 21:01") == []
    assert tick(sched, clock, "2024-05-11 21:00") == [(job_id, "2024-05-11 21:00")]


def test_nothing_to_do_is_ok(node: Node, tasks: Tasks, clock: Clock) -> None:
    job_id = create(node, clock, schedule="21:00")
    tasks.answer_ok = True
    clock.now = at("2024-05-10 21:00")
    assert scheduler(node, tasks, clock).tick() == [Run(job_id, at("2024-05-10 21:00"), msg="OK")]
    saved = state.read_state(node, job_id)
    assert saved is not None and (saved.state, saved.msg) == (RunState.STOPPED, "OK")


def test_a_bad_schedule_is_logged_and_the_others_run(
    node: Node, tasks: Tasks, clock: Clock
) -> None:
    create(node, clock, id="good", schedule="21:00")
    path = jobscfg.jobs_cfg_path(node)
    path.write_text(path.read_text() + "vzdump: bad\n\tschedule 25:00\n\tall 1\n")
    warnings: list[str] = []
    sched = scheduler(node, tasks, clock, log=warnings.append)
    assert tick(sched, clock, "2024-05-10 21:00") == [("good", "2024-05-10 21:00")]
    assert any("job 'bad'" in w and "hour 25 is out of range" in w for w in warnings)


# -- state files follow jobs.cfg --------------------------------------------------------------


def test_state_files_follow_the_config(node: Node, tasks: Tasks, clock: Clock) -> None:
    path = jobscfg.jobs_cfg_path(node)
    path.parent.mkdir(parents=True)
    path.write_text("vzdump: handmade\n\tschedule 21:00\n\tall 1\n")  # no state yet
    sched = scheduler(node, tasks, clock)
    clock.now = at("2024-05-11 21:30")
    assert sched.tick() == []  # its first run is the first event after it was noticed
    assert tick(sched, clock, "2024-05-12 21:00") == [("handmade", "2024-05-12 21:00")]
    jobscfg.delete_job(node, "handmade")
    state.create_state(node, "orphan", {"schedule": "21:00"}, int(clock()))
    sched.tick()
    assert state.known_state_ids(node) == []


# -- two schedulers, two processes ------------------------------------------------------------


def _scheduler_process(home: str, rounds: list[int], barrier: Any, out: str) -> None:
    node = Node(Path(home), "pve")
    clock = Clock(rounds[0])

    def start_job(job_id: str, options: dict[str, str]) -> str:
        now = int(clock())
        with open(out, "a") as file:
            file.write(f"{job_id} {now} {os.getpid()}\n")
        return make_upid(now)

    sched = Scheduler(node, start_job, lambda upid: "OK", clock=clock, zone=BERLIN)
    for now in rounds:
        clock.now = now
        barrier.wait(timeout=60)
        sched.tick()


@pytest.mark.timeout(120)
def test_two_scheduler_processes_start_each_run_once(node: Node, tmp_path: Path) -> None:
    start = at("2024-05-10 12:00")
    for index in range(3):
        jobscfg.create_job(node, {"id": f"job{index}", "schedule": "*/5", "all": "1"}, now=start)
    rounds = [start + 300 * k for k in range(1, 11)]
    out = tmp_path / "started.txt"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    processes = [
        context.Process(target=_scheduler_process, args=(str(node.home), rounds, barrier, str(out)))
        for _ in range(2)
    ]
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=100)
            assert process.exitcode == 0
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join()
    lines = [line.split() for line in out.read_text().splitlines()]
    runs = sorted((job, int(now)) for job, now, _ in lines)
    assert runs == sorted((f"job{i}", now) for i in range(3) for now in rounds)
    assert len({pid for _, _, pid in lines}) == 2  # both processes did start runs


# -- the loop ---------------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_the_loop_waits_for_the_due_time_and_wakes_up(node: Node) -> None:
    started = threading.Event()
    names: list[str] = []

    def start_job(job_id: str, options: dict[str, str]) -> str:
        names.append(job_id)
        started.set()
        return make_upid(int(time.time()))

    sched = Scheduler(node, start_job, lambda upid: "OK", zone=BERLIN, max_wait=60)
    loop = threading.Thread(target=sched.run)
    loop.start()
    try:
        assert not started.wait(0.5)  # no jobs: the loop waits (up to max_wait)
        jobscfg.create_job(node, {"id": "every-second", "schedule": "*:*:*", "all": "1"})
        sched.wake()  # without this, the loop would notice the job after 60 s
        assert started.wait(5)
    finally:
        sched.stop()
        loop.join(timeout=10)
    assert not loop.is_alive()
    assert names[0] == "every-second"


# -- schedule-analyze -------------------------------------------------------------------------


def test_schedule_analyze() -> None:
    result = schedule_analyze("sat *-1..7 15:00", at("2024-05-10 00:00"), 3, zone=BERLIN)
    assert result == [
        {"timestamp": at("2024-06-01 15:00"), "utc": "Sat Jun  1 13:00:00 2024"},
        {"timestamp": at("2024-07-06 15:00"), "utc": "Sat Jul  6 13:00:00 2024"},
        {"timestamp": at("2024-08-03 15:00"), "utc": "Sat Aug  3 13:00:00 2024"},
    ]
    assert len(schedule_analyze("*/30", iterations=100, now=at("2024-05-10 00:00"))) == 100
    assert schedule_analyze("2015-10-21", at("2024-01-01 00:00")) == []


@pytest.mark.parametrize(
    ("schedule", "iterations", "name"),
    [("*/30", 0, "iterations"), ("*/30", 101, "iterations"), ("whenever", 10, "schedule")],
)
def test_schedule_analyze_errors(schedule: str, iterations: int, name: str) -> None:
    with pytest.raises(InputError) as info:
        schedule_analyze(schedule, 0, iterations)
    assert info.value.name == name
