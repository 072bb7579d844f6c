from __future__ import annotations

import io
from pathlib import Path

import pytest

from respaldo.errors import BadUpid, InputError, NoSuchTask
from respaldo.tasks.context import FileContext
from respaldo.tasks.store import (
    TaskStore,
    final_status,
    normalize_status_type,
    read_last_line,
    status_is_error,
)
from respaldo.tasks.upid import UPID

T0 = 1_700_000_000


class Processes:
    """A fake process table: which (pid, pstart) pairs run."""

    def __init__(self) -> None:
        self.live: set[tuple[int, int]] = set()

    def __call__(self, pid: int, pstart: int) -> bool:
        return (pid, pstart) in self.live


@pytest.fixture
def procs() -> Processes:
    return Processes()


@pytest.fixture
def store(tmp_path: Path, procs: Processes) -> TaskStore:
    return TaskStore(tmp_path / "tasks", alive=procs)


def start(
    store: TaskStore,
    procs: Processes,
    pid: int,
    starttime: int = T0,
    type_: str = "vzdump",
    id_: str = "100",
    user: str = "root@pam",
) -> UPID:
    upid = UPID("pve", pid, pid * 10, starttime, type_, id_, user)
    procs.live.add((upid.pid, upid.pstart))
    store.create(upid)
    return upid


def end(store: TaskStore, procs: Processes, upid: UPID, *lines: str, endtime: int = 0) -> str:
    """The task process writes its lines and ends the task, as the worker does."""
    log = FileContext(store.log_path(upid))
    for line in lines:
        log.log(line)
    log.close()
    status = store.finish(upid, endtime or upid.starttime + 60)
    procs.live.discard((upid.pid, upid.pstart))
    return status


def upids(rows: list[dict[str, str | int]]) -> list[str | int]:
    return [row["upid"] for row in rows]


# -- exit status, as pve-common PVE/UPID.pm reads it -----------------------------------------


@pytest.mark.parametrize(
    ("line", "status", "kind"),
    [
        ("TASK OK", "OK", "ok"),
        ("TASK WARNINGS: 42", "WARNINGS: 42", "warning"),
        ("TASK ERROR: Some error message", "Some error message", "error"),
        ("TASK ERROR: job errors", "job errors", "error"),
    ],
)
def test_final_lines(line: str, status: str, kind: str) -> None:
    assert final_status(line) == status
    assert normalize_status_type(status) == kind
    assert status_is_error(status) == (kind == "error")


@pytest.mark.parametrize("line", ["", "Some log line", "TASK ERROR: ", "TASK WARNINGS: x"])
def test_other_last_lines_are_no_final_line(line: str) -> None:
    assert final_status(line) is None


def test_unexpected_and_running_are_unknown() -> None:
    assert normalize_status_type("unexpected status") == "unknown"
    assert normalize_status_type(None) == "unknown"


def test_last_line_of_a_long_log(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_text("x" * 10_000 + "\n" + "y" * 9000 + "\nTASK OK\n")
    assert read_last_line(path) == "TASK OK"
    path.write_text("z" * 9000)
    assert read_last_line(path) == "z" * 9000
    path.write_text("")
    assert read_last_line(path) == ""


# -- a task's life in active and index --------------------------------------------------------


def test_new_task_is_active_and_running(store: TaskStore, procs: Processes) -> None:
    upid = start(store, procs, 4242)
    assert store.log_path(upid) == store.task_dir / "0" / str(upid)
    assert store.log_path(upid).read_text() == ""
    assert store.active_path.read_text() == f"{upid} 0\n"
    rows, total = store.list_tasks(source="active")
    assert (upids(rows), total) == ([str(upid)], 1)
    assert rows[0]["status"] == "RUNNING" and "endtime" not in rows[0]
    assert store.list_tasks() == ([], 0)  # the archive holds finished tasks only
    status = store.status(upid)
    assert status["status"] == "running" and "exitstatus" not in status
    assert (status["pid"], status["pstart"], status["starttime"]) == (4242, 42420, T0)


def test_finished_task_moves_to_the_index(store: TaskStore, procs: Processes) -> None:
    upid = start(store, procs, 4242)
    assert end(store, procs, upid, "INFO: working", "TASK WARNINGS: 2", endtime=T0 + 0x10) == (
        "WARNINGS: 2"
    )
    assert store.active_path.read_text() == ""
    assert store.index_path.read_text() == f"{upid} {T0 + 0x10:08X} WARNINGS: 2\n"
    rows, total = store.list_tasks()
    assert total == 1
    assert rows[0] == {
        "upid": str(upid),
        "node": "pve",
        "pid": 4242,
        "pstart": 42420,
        "starttime": T0,
        "type": "vzdump",
        "id": "100",
        "user": "root@pam",
        "endtime": T0 + 0x10,
        "status": "WARNINGS: 2",
    }
    status = store.status(str(upid))
    assert (status["status"], status["exitstatus"]) == ("stopped", "WARNINGS: 2")


def test_finishing_twice_writes_one_index_line(store: TaskStore, procs: Processes) -> None:
    upid = start(store, procs, 4242)
    end(store, procs, upid, "TASK OK")
    store.finish(upid)
    assert store.index_path.read_text().count(str(upid)) == 1


def test_a_task_with_its_final_line_reads_stopped_before_its_process_ends(
    store: TaskStore, procs: Processes
) -> None:
    upid = start(store, procs, 4242)
    FileContext(store.log_path(upid)).log("TASK ERROR: no space left")
    status = store.status(upid)
    assert (status["status"], status["exitstatus"]) == ("stopped", "no space left")


def test_dead_task_without_final_line_is_finished_as_unexpected_status_by_the_list(
    store: TaskStore, procs: Processes
) -> None:
    gone = start(store, procs, 100)
    alive = start(store, procs, 200, starttime=T0 + 1)
    FileContext(store.log_path(gone)).log("INFO: half way")
    procs.live.discard((gone.pid, gone.pstart))  # killed, or the pid now names another process
    rows, _ = store.list_tasks(source="all")
    assert [(r["upid"], r["status"]) for r in rows] == [
        (str(alive), "RUNNING"),
        (str(gone), "unexpected status"),
    ]
    assert store.active_path.read_text() == f"{alive} 0\n"
    assert store.index_path.read_text().startswith(f"{gone} ")
    assert store.index_path.read_text().endswith(" unexpected status\n")


def test_dead_task_is_finished_by_reading_its_status(store: TaskStore, procs: Processes) -> None:
    upid = start(store, procs, 100)
    procs.live.clear()
    status = store.status(upid)
    assert (status["status"], status["exitstatus"]) == ("stopped", "unexpected status")
    assert store.active_path.read_text() == ""
    rows, _ = store.list_tasks()
    assert rows[0]["status"] == "unexpected status"


def test_dead_task_that_wrote_its_final_line_keeps_its_status(
    store: TaskStore, procs: Processes
) -> None:
    upid = start(store, procs, 100)
    FileContext(store.log_path(upid)).log("TASK OK")
    procs.live.clear()  # died before it moved itself to the index
    rows, _ = store.list_tasks()
    assert rows[0]["status"] == "OK"


def test_proxmox_active_lines_of_finished_tasks_are_not_listed_as_running(
    store: TaskStore, procs: Processes
) -> None:
    running = start(store, procs, 100)
    saved = UPID("pve", 5, 50, T0, "qmstart", "101", "root@pam")
    with store.active_path.open("a") as f:
        f.write(f"{saved} 1 {T0 + 5:08X} OK\n")
    rows, total = store.list_tasks(source="active")
    assert (upids(rows), total) == ([str(running)], 1)


# -- the list ---------------------------------------------------------------------------------


@pytest.fixture
def history(store: TaskStore, procs: Processes) -> dict[str, UPID]:
    """Finished tasks in this order, then one running."""
    tasks = {
        "ok100": start(store, procs, 1, T0, "vzdump", "100", "root@pam"),
        "err101": start(store, procs, 2, T0 + 10, "qmrestore", "101", "alice@pve"),
        "warn100": start(store, procs, 3, T0 + 20, "vzdump", "100", "alice@pve!ci"),
        "lost": start(store, procs, 4, T0 + 30, "qmstart", "102", "bob@pve"),
    }
    end(store, procs, tasks["ok100"], "TASK OK")
    end(store, procs, tasks["err101"], "TASK ERROR: job errors")
    end(store, procs, tasks["warn100"], "TASK WARNINGS: 1")
    procs.live.discard((4, 40))
    tasks["running"] = start(store, procs, 5, T0 + 40, "vzdump", "", "root@pam")
    return tasks


def names(history: dict[str, UPID], rows: list[dict[str, str | int]]) -> list[str]:
    by_text = {str(upid): name for name, upid in history.items()}
    return [by_text[str(row["upid"])] for row in rows]


def test_list_newest_first_running_first(store: TaskStore, history: dict[str, UPID]) -> None:
    rows, total = store.list_tasks(source="all")
    assert names(history, rows) == ["running", "lost", "warn100", "err101", "ok100"]
    assert total == 5
    assert store.list_tasks(source="active")[1] == 1
    assert store.list_tasks()[1] == 4


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"typefilter": "vzdump"}, ["warn100", "ok100"]),
        ({"vmid": 100}, ["warn100", "ok100"]),
        ({"userfilter": "ALICE"}, ["warn100", "err101"]),
        ({"since": T0 + 10, "until": T0 + 20}, ["warn100", "err101"]),
        # Proxmox's errors=1 drops only ok tasks (pve-manager Tasks.pm), warnings stay.
        ({"errors": True}, ["lost", "warn100", "err101"]),
        ({"statusfilter": "ok,warning"}, ["warn100", "ok100"]),
        ({"statusfilter": ["unknown"]}, ["lost"]),
        ({"statusfilter": "error", "errors": True}, ["lost", "warn100", "err101"]),
        ({"owner": "alice@pve"}, ["warn100", "err101"]),  # a user sees their tokens' tasks
        ({"owner": "alice@pve!ci"}, ["warn100"]),  # a token only its own
    ],
)
def test_list_filters(
    store: TaskStore, history: dict[str, UPID], filters: dict[str, object], expected: list[str]
) -> None:
    rows, total = store.list_tasks(**filters)  # type: ignore[arg-type]
    assert names(history, rows) == expected
    assert total == len(expected)


def test_running_tasks_are_unknown_to_the_status_filter(
    store: TaskStore, history: dict[str, UPID]
) -> None:
    assert names(history, store.list_tasks(source="all", statusfilter="ok")[0]) == ["ok100"]
    rows, _ = store.list_tasks(source="all", errors=True)
    assert names(history, rows) == ["running", "lost", "warn100", "err101"]


def test_token_tasks_carry_the_token_apart(store: TaskStore, history: dict[str, UPID]) -> None:
    row = store.list_tasks(typefilter="vzdump", limit=1)[0][0]
    assert (row["user"], row["tokenid"]) == ("alice@pve", "ci")


def test_paging_counts_every_match(store: TaskStore, history: dict[str, UPID]) -> None:
    rows, total = store.list_tasks(source="all", start=1, limit=2)
    assert (names(history, rows), total) == (["lost", "warn100"], 5)
    assert store.list_tasks(source="all", start=4, limit=50)[0][0]["upid"] == str(history["ok100"])
    assert store.list_tasks(source="all", limit=0) == ([], 5)


def test_bad_list_parameters_are_named(store: TaskStore) -> None:
    with pytest.raises(InputError) as info:
        store.list_tasks(statusfilter="ok,broken")
    assert info.value.name == "statusfilter"
    with pytest.raises(InputError) as info:
        store.list_tasks(source="everything")
    assert info.value.name == "source"


def test_old_index_is_listed_after_the_current_one(tmp_path: Path, procs: Processes) -> None:
    store = TaskStore(tmp_path / "tasks", alive=procs, index_max_bytes=300)
    done = []
    for n in range(10):
        upid = start(store, procs, 1000 + n, T0 + n)
        end(store, procs, upid, "TASK OK")
        done.append(str(upid))
    assert (store.task_dir / "index.1").exists()
    # Rotation drops what is older than index.1, as Proxmox's does.
    kept = sum(
        len(path.read_text().splitlines()) if path.exists() else 0
        for path in (store.task_dir / "index", store.task_dir / "index.1")
    )
    rows, total = store.list_tasks(limit=100)
    assert total == kept < 10
    assert upids(rows) == list(reversed(done))[:kept]


def test_list_sees_tasks_finished_since_the_last_list(store: TaskStore, procs: Processes) -> None:
    first = start(store, procs, 1)
    end(store, procs, first, "TASK OK")
    assert store.list_tasks()[1] == 1
    second = start(store, procs, 2, T0 + 1)
    end(store, procs, second, "TASK ERROR: failed")
    rows, total = store.list_tasks()
    assert (upids(rows), total) == ([str(second), str(first)], 2)
    # Another process writing the index is seen as well (the index is the truth).
    other = TaskStore(store.task_dir, alive=procs)
    third = start(other, procs, 3, T0 + 2)
    end(other, procs, third, "TASK OK")
    assert store.list_tasks()[1] == 3


# -- status and log ---------------------------------------------------------------------------


def test_status_of_bad_or_unknown_upid(store: TaskStore) -> None:
    with pytest.raises(BadUpid):
        store.status("UPID:nonsense")
    missing = UPID("pve", 1, 2, T0, "vzdump", "", "root@pam")
    with pytest.raises(NoSuchTask) as info:
        store.status(missing)
    assert info.value.reason == "no such task"


def test_log_lines_are_numbered_from_one(store: TaskStore, procs: Processes) -> None:
    upid = start(store, procs, 1)
    end(store, procs, upid, *(f"line {n}" for n in range(1, 8)), "TASK OK")
    rows, total = store.read_log(upid)
    assert total == 8
    assert rows[0] == {"n": 1, "t": "line 1"} and rows[-1] == {"n": 8, "t": "TASK OK"}
    rows, total = store.read_log(str(upid), start=2, limit=3)
    assert (rows, total) == ([{"n": 3, "t": "line 3"}, {"n": 4, "t": "line 4"},
                              {"n": 5, "t": "line 5"}], 8)  # fmt: skip
    assert len(store.read_log(upid, limit=0)[0]) == 8
    assert store.read_log(upid, start=20) == ([], 8)


def test_empty_and_missing_logs(store: TaskStore, procs: Processes) -> None:
    upid = start(store, procs, 1)
    assert store.read_log(upid) == ([{"n": 1, "t": "no content"}], 1)
    store.log_path(upid).unlink()
    rows, total = store.read_log(upid)
    assert total == 1 and str(rows[0]["t"]).startswith("unable to open file - ")


def test_file_context_logs_and_echoes(tmp_path: Path) -> None:
    echo = io.StringIO()
    ctx = FileContext(tmp_path / "log", echo)
    ctx.log("one\ntwo")
    ctx.warn("careful")
    ctx.stop_echo()
    ctx.log("TASK WARNINGS: 1")
    ctx.close()
    ctx.close()
    assert (tmp_path / "log").read_text() == "one\ntwo\nWARN: careful\nTASK WARNINGS: 1\n"
    assert echo.getvalue() == "one\ntwo\nWARN: careful\n"
    assert ctx.warnings == 1
