"""Tasks with real processes: spawn, the log as it grows, stop, a killed work process, a
task that outlives its spawner, and the CLI's foreground mode.

Every task process and work process a test starts is killed at teardown, passed or not.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest

from respaldo.errors import InputError, TaskError
from respaldo.node import Node
from respaldo.tasks import worker
from respaldo.tasks.proc import is_running, process_start
from respaldo.tasks.store import TaskStore
from respaldo.tasks.upid import UPID, decode

pytestmark = [pytest.mark.tasks, pytest.mark.timeout(90)]

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = "tests.integration.task_entries"


def wait_until(what: str, check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.02)


def wait_gone(pid: int, timeout: float = 20) -> None:
    """Wait for a process that may not be our child to end."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        assert poller.poll(timeout * 1000), f"process {pid} still runs after {timeout} s"
    finally:
        os.close(fd)


@dataclass
class Tasks:
    node: Node
    store: TaskStore
    upids: list[UPID] = field(default_factory=list)
    pidfiles: list[Path] = field(default_factory=list)
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def spawn(
        self,
        entry: str,
        params: dict[str, object],
        recover: str | None = None,
        grace: float = worker.STOP_GRACE,
    ) -> UPID:
        upid = worker.spawn(
            self.node,
            "test",
            "100",
            "root@pam",
            f"{ENTRIES}:{entry}",
            params,
            f"{ENTRIES}:{recover}" if recover else None,
            grace=grace,
        )
        self.upids.append(upid)
        return upid

    def pidfile(self, name: str) -> Path:
        path = self.node.home / f"{name}.pid"
        self.pidfiles.append(path)
        return path

    def log(self, upid: UPID) -> list[str]:
        return self.store.log_path(upid).read_text().splitlines()

    def wait_end(self, upid: UPID) -> list[str]:
        wait_gone(upid.pid)
        return self.log(upid)

    def started(self, pidfile: Path) -> tuple[int, int]:
        wait_until(f"{pidfile.name} is written", pidfile.exists)
        pid, pstart = pidfile.read_text().split()
        return int(pid), int(pstart)

    def python(self, code: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        return proc

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
        for upid in self.upids:
            if is_running(upid.pid, upid.pstart):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(upid.pid, signal.SIGKILL)
        for path in self.pidfiles:
            if path.exists():
                pid, pstart = (int(word) for word in path.read_text().split())
                if is_running(pid, pstart):
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(pid, signal.SIGKILL)
                        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def tasks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tasks]:
    home = tmp_path / "home"
    home.mkdir()
    node = Node(home, "testnode")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the task processes import the test entries
    monkeypatch.setenv("RESPALDO_HOME", str(home))
    monkeypatch.setenv("RESPALDO_NODE", node.name)
    t = Tasks(node, TaskStore.for_node(node))
    try:
        yield t
    finally:
        t.kill_all()


def logged(tasks: Tasks, upid: UPID, count: int) -> bool:
    return len(tasks.log(upid)) == count


def test_spawn_returns_at_once_and_the_log_grows_line_by_line(tasks: Tasks) -> None:
    fifo = tasks.node.home / "steps"
    os.mkfifo(fifo)
    began = time.monotonic()
    upid = tasks.spawn("steps", {"fifo": str(fifo)})
    assert time.monotonic() - began < 2  # the work has not even started
    assert upid.pid != os.getpid() and upid.node == "testnode"
    assert tasks.store.status(upid)["status"] == "running"
    assert tasks.log(upid) == []
    with open(fifo, "w", encoding="utf-8") as writer:
        for n in (1, 2, 3):
            writer.write(f"{n}\n")
            writer.flush()
            wait_until(f"step {n} is logged", partial(logged, tasks, upid, n))
            assert tasks.log(upid)[-1] == f"step {n}"
            assert tasks.store.status(upid)["status"] == "running"
            rows, _ = tasks.store.list_tasks(source="active")
            assert [row["upid"] for row in rows] == [str(upid)]
    assert tasks.wait_end(upid) == ["step 1", "step 2", "step 3", "TASK OK"]
    status = tasks.store.status(upid)
    assert (status["status"], status["exitstatus"]) == ("stopped", "OK")
    rows, total = tasks.store.list_tasks()
    assert (total, rows[0]["upid"], rows[0]["status"]) == (1, str(upid), "OK")
    assert tasks.store.list_tasks(source="active") == ([], 0)


@pytest.mark.parametrize(
    ("entry", "params", "last", "exitstatus"),
    [
        ("lines", {"lines": ["INFO: one", "INFO: two"]}, "TASK OK", "OK"),
        ("warns", {"count": 2}, "TASK WARNINGS: 2", "WARNINGS: 2"),
        ("fails", {"message": "job errors"}, "TASK ERROR: job errors", "job errors"),
        (
            "crashes",
            {},
            "TASK ERROR: ValueError: an unexpected value",
            "ValueError: an unexpected value",
        ),
    ],
)
def test_final_line_says_how_the_task_ended(
    tasks: Tasks, entry: str, params: dict[str, object], last: str, exitstatus: str
) -> None:
    upid = tasks.spawn(entry, params)
    log = tasks.wait_end(upid)
    assert log[-1] == last
    assert tasks.store.status(upid)["exitstatus"] == exitstatus
    assert tasks.store.list_tasks()[0][0]["status"] == exitstatus
    if entry == "warns":
        assert log[:-1] == ["checking", "WARN: something odd #1", "WARN: something odd #2"]
    if entry == "crashes":
        assert log[1] == "Traceback (most recent call last):"
        assert "ValueError: an unexpected" in log


def test_stop_ends_the_task_and_its_cleanup_runs(tasks: Tasks) -> None:
    pidfile = tasks.pidfile("work")
    helper_pidfile = tasks.pidfile("helper")
    upid = tasks.spawn("waits", {"pidfile": str(pidfile), "helper_pidfile": str(helper_pidfile)})
    work_pid, _ = tasks.started(pidfile)
    helper_pid, helper_pstart = tasks.started(helper_pidfile)
    assert work_pid != upid.pid  # the work runs in a process of its own
    assert worker.stop(tasks.node, str(upid), wait=20)
    log = tasks.wait_end(upid)
    assert log == [
        "waiting",
        "cleanup ran (stop requested: True)",
        "TASK ERROR: received interrupt",
    ]
    assert not is_running(helper_pid, helper_pstart)
    status = tasks.store.status(upid)
    assert (status["status"], status["exitstatus"]) == ("stopped", "received interrupt")
    assert not worker.stop(tasks.node, upid)  # nothing runs any more


def test_stop_right_after_spawn_still_ends_the_task_properly(tasks: Tasks) -> None:
    pidfile = tasks.pidfile("work")
    upid = tasks.spawn("waits", {"pidfile": str(pidfile)})
    assert worker.stop(tasks.node, upid)  # the task process is still starting Python
    log = tasks.wait_end(upid)
    assert log[-1] == "TASK ERROR: received interrupt"
    # How far the work got before the stop reached it depends on timing.
    assert set(log[:-1]) <= {"waiting", "cleanup ran (stop requested: True)"}


def test_stop_never_signals_a_process_that_reuses_the_pid(tasks: Tasks) -> None:
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        pstart = process_start(bystander.pid)
        assert pstart is not None
        # A task of an earlier process with this pid: same pid, another start time.
        old = UPID("testnode", bystander.pid, pstart - 1, int(time.time()), "test", "", "root@pam")
        tasks.store.create(old)
        assert not worker.stop(tasks.node, old)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_killed_work_process_is_recovered(tasks: Tasks) -> None:
    pidfile = tasks.pidfile("work")
    helper_pidfile = tasks.pidfile("helper")
    params: dict[str, object] = {"pidfile": str(pidfile), "helper_pidfile": str(helper_pidfile)}
    upid = tasks.spawn("waits", params, recover="recover")
    work_pid, _ = tasks.started(pidfile)
    helper_pid, helper_pstart = tasks.started(helper_pidfile)
    os.kill(work_pid, signal.SIGKILL)  # as the OOM killer does
    log = tasks.wait_end(upid)
    killed = f"work process {work_pid} was killed by SIGKILL"
    assert log == [
        "waiting",
        f"ERROR: {killed}; cleaning up",
        f"INFO: undid what work process {work_pid} left",
        f"TASK ERROR: {killed}",
    ]
    assert (tasks.node.home / f"recovered-{work_pid}").exists()
    assert not is_running(helper_pid, helper_pstart)  # its helper did not outlive it
    assert tasks.store.status(upid)["exitstatus"] == killed


def test_work_that_ignores_a_stop_is_killed_after_the_grace_period(tasks: Tasks) -> None:
    pidfile = tasks.pidfile("work")
    upid = tasks.spawn("stubborn", {"pidfile": str(pidfile)}, recover="recover", grace=1)
    work_pid, _ = tasks.started(pidfile)
    began = time.monotonic()
    assert worker.stop(tasks.node, upid)
    log = tasks.wait_end(upid)
    assert time.monotonic() - began >= 1
    assert log == [
        "not stopping",
        f"ERROR: work process {work_pid} did not stop within 1 s; killing it",
        f"ERROR: work process {work_pid} was killed by SIGKILL; cleaning up",
        f"INFO: undid what work process {work_pid} left",
        "TASK ERROR: received interrupt",
    ]


def test_task_outlives_the_process_that_spawned_it(tasks: Tasks) -> None:
    fifo = tasks.node.home / "steps"
    os.mkfifo(fifo)
    spawner = tasks.python(
        "import sys, time\n"
        "from respaldo.node import Node\n"
        "from respaldo.tasks import worker\n"
        f"upid = worker.spawn(Node.from_env(), 'test', '', 'root@pam', '{ENTRIES}:steps',"
        f" {{'fifo': {str(fifo)!r}}})\n"
        "print(upid, flush=True)\n"
        "time.sleep(600)\n"
    )
    assert spawner.stdout is not None
    upid = decode(spawner.stdout.readline().strip())
    tasks.upids.append(upid)
    spawner.kill()  # the server dies (or restarts)
    spawner.wait()
    assert tasks.store.status(upid)["status"] == "running"
    with open(fifo, "w", encoding="utf-8") as writer:
        writer.write("after\n")
    assert tasks.wait_end(upid) == ["step after", "TASK OK"]
    assert tasks.store.list_tasks()[0][0]["status"] == "OK"


def test_dead_task_process_is_listed_as_unexpected_status(tasks: Tasks) -> None:
    pidfile = tasks.pidfile("work")
    upid = tasks.spawn("waits", {"pidfile": str(pidfile)})
    work_pid, _ = tasks.started(pidfile)
    os.kill(upid.pid, signal.SIGKILL)  # first: it must not see its work end and log that
    wait_gone(upid.pid)
    os.killpg(work_pid, signal.SIGKILL)
    rows, _ = tasks.store.list_tasks(source="all")
    assert [(r["upid"], r["status"]) for r in rows] == [(str(upid), "unexpected status")]
    status = tasks.store.status(upid)
    assert (status["status"], status["exitstatus"]) == ("stopped", "unexpected status")


FOREGROUND = (
    "import sys\n"
    "from respaldo.node import Node\n"
    "from respaldo.tasks import worker\n"
    "entry = sys.argv[1]\n"
    "params = eval(sys.argv[2])\n"
    "code = worker.run_foreground(Node.from_env(), 'vzdump', '100', 'root@pam', entry, params)\n"
    "sys.exit(code)\n"
)


def foreground(tasks: Tasks, entry: str, params: dict[str, object]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", FOREGROUND, f"{ENTRIES}:{entry}", repr(params)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    tasks.procs.append(proc)
    return proc


def only_task(tasks: Tasks) -> UPID:
    rows, total = tasks.store.list_tasks(source="all")
    assert total == 1
    upid = decode(str(rows[0]["upid"]))
    tasks.upids.append(upid)
    return upid


def test_foreground_prints_and_logs_the_same_lines(tasks: Tasks) -> None:
    proc = foreground(tasks, "warns", {"count": 2})
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    upid = only_task(tasks)
    assert upid.pid == proc.pid  # the CLI process is the task process
    log = tasks.log(upid)
    assert log == [
        "checking",
        "WARN: something odd #1",
        "WARN: something odd #2",
        "TASK WARNINGS: 2",
    ]
    assert out.splitlines() == log[:-1]
    assert err == "Task finished with 2 warning(s)!\n"
    assert tasks.store.list_tasks()[0][0]["status"] == "WARNINGS: 2"


def test_foreground_failure_exits_non_zero_with_the_message(tasks: Tasks) -> None:
    proc = foreground(tasks, "fails", {"message": "job errors"})
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert out == "about to fail\n"
    assert err == "ERROR: job errors\n"
    assert tasks.log(only_task(tasks)) == ["about to fail", "TASK ERROR: job errors"]


def test_foreground_ctrl_c_stops_the_task_with_its_cleanup(tasks: Tasks) -> None:
    pidfile = tasks.pidfile("work")
    proc = foreground(tasks, "waits", {"pidfile": str(pidfile)})
    tasks.started(pidfile)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends the CLI
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert out.splitlines() == ["waiting", "cleanup ran (stop requested: True)"]
    # a vzdump task (FOREGROUND's type) ends as Proxmox's vzdump does on a signal
    assert err == "ERROR: interrupted by signal\n"
    assert tasks.log(only_task(tasks))[-1] == "TASK ERROR: interrupted by signal"


def test_foreground_runs_a_callable_and_its_recover(tasks: Tasks) -> None:
    code = (
        "import os, signal, sys\n"
        "from respaldo.node import Node\n"
        "from respaldo.tasks import worker\n"
        "def work(ctx, word):\n"
        "    ctx.log(f'got {word}')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "def recover(pid):\n"
        "    return [f'recovered {pid}']\n"
        "sys.exit(worker.run_foreground(Node.from_env(), 'test', '', 'root@pam', work,"
        " {'word': 'hello'}, recover))\n"
    )
    proc = tasks.python(code)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    log = tasks.log(only_task(tasks))
    assert log[0] == "got hello"
    assert log[1].startswith("ERROR: work process ") and log[1].endswith(
        " was killed by SIGKILL; cleaning up"
    )
    assert log[2].startswith("INFO: recovered ")
    assert log[-1].startswith("TASK ERROR: work process ")
    assert out.splitlines() == log[:-1]


def test_bad_task_names_fail_before_anything_starts(tasks: Tasks) -> None:
    with pytest.raises(InputError) as info:
        worker.spawn(tasks.node, "vz dump", "", "root@pam", f"{ENTRIES}:lines", {"lines": []})
    assert info.value.name == "type"
    with pytest.raises(InputError) as info:
        worker.spawn(tasks.node, "test", "", "root@pam", "no-entry", {})
    assert info.value.name == "entry"
    with pytest.raises(TaskError, match="has no function missing"):
        worker.spawn(tasks.node, "test", "", "root@pam", f"{ENTRIES}:missing", {})
    with pytest.raises(InputError) as info:
        worker.spawn(tasks.node, "test", "", "root@pam", f"{ENTRIES}:lines", {"x": object()})
    assert info.value.name == "params"
    assert tasks.store.list_tasks(source="all") == ([], 0)
    assert not tasks.store.task_dir.exists() or not any(tasks.store.task_dir.glob("?/UPID:*"))
