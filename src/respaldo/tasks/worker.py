"""Running a task: a task process that supervises a work process, writes the log and ends it.

A task is named by an entry point ``"package.module:function"``, called as
``function(ctx: TaskContext, **params) -> None`` (params JSON-serialisable), and optionally a
recover entry ``"package.module:function"``, called as ``recover(pid) -> list[str]`` with the
pid of a work process that was killed: it undoes what that process left behind (e.g. vzdump's
``recover_worker``) and says what it did. Entries are imported when the task runs, so this
layer depends on no service.

Two processes per task, as Proxmox's ``fork_worker`` in CLI mode (pve-common
``src/PVE/RESTEnvironment.pm``):

* the **task process** (its pid and start time are in the UPID) lists the task as active,
  forks the work process, forwards a stop to it, and when it ends writes the last line
  (``TASK OK``, ``TASK WARNINGS: <n>``, ``TASK ERROR: <message>``) and moves the task to the
  index. When the work process was killed (SIGKILL, the OOM killer) it runs the recover entry
  first and logs what it did.
* the **work process** (its own process group) runs the function with a
  :class:`~respaldo.tasks.context.FileContext` that appends each line to the log at once.
  SIGTERM, SIGINT and SIGHUP set the context's stop flag and raise
  :class:`~respaldo.errors.TaskStopped` in its main thread, once, so that ``finally`` and undo
  code runs; the task then ends with ``TASK ERROR: received interrupt``, Proxmox's words.

:func:`spawn` starts the task process as a fresh Python (``python -m respaldo.tasks.runner``)
in a session of its own, so that it outlives the caller (a server that restarts);
:func:`run_foreground` makes the calling process (the CLI) the task process, printing the lines
as they come.
"""

from __future__ import annotations

import contextlib
import enum
import importlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TextIO

from respaldo import memtune
from respaldo.errors import (
    InputError,
    NoSuchTask,
    RespaldoError,
    TaskError,
    TaskStopped,
    out_of_memory,
)
from respaldo.node import Node
from respaldo.tasks.context import FileContext
from respaldo.tasks.proc import process_start
from respaldo.tasks.store import UNEXPECTED_STATUS, TaskStore, final_status, status_is_error
from respaldo.tasks.upid import UPID, decode

#: Seconds a stopped work process has to end by itself before it is killed (and recovered).
STOP_GRACE = 30.0
EXIT_OK = 0
EXIT_FAILED = 1

#: ``function(ctx, **params)``: the work of a task.
WorkFunction = Callable[..., None]
#: ``recover(pid)``: undo what the killed work process ``pid`` left; what was done, as lines.
RecoverFunction = Callable[[int], list[str]]

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)

#: How a stopped task of these types ends (``TASK ERROR: <message>``): Proxmox's vzdump and
#: qmrestore workers die ``interrupted by signal``, any other ``received interrupt``
#: (pve-manager ``PVE/API2/VZDump.pm``, qemu-server ``restore_vma_archive``, pve-common
#: ``fork_worker``).
STOP_MESSAGES = {"vzdump": "interrupted by signal", "qmrestore": "interrupted by signal"}


def stop_message(task_type: str) -> str:
    """What a stopped task of ``task_type`` ends with."""
    return STOP_MESSAGES.get(task_type, TaskStopped().reason)


_ENTRY_RE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")


def resolve_entry(entry: str) -> Callable[..., Any]:
    """Import ``"package.module:function"`` and return the function.

    Raises InputError for a text of another shape, TaskError when the module cannot be
    imported or has no such callable (the cause kept)."""
    if not _ENTRY_RE.fullmatch(entry):
        raise InputError("entry", entry, "expected 'package.module:function'")
    module_name, _, name = entry.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise TaskError(f"task entry {entry}: cannot import {module_name}: {err}") from err
    function = getattr(module, name, None)
    if not callable(function):
        raise TaskError(f"task entry {entry}: {module_name} has no function {name}")
    return function  # type: ignore[no-any-return]


def _params_json(params: Mapping[str, Any]) -> str:
    try:
        return json.dumps(dict(params))
    except (TypeError, ValueError) as err:
        raise InputError("params", params, f"not JSON-serialisable: {err}") from err


# -- starting and stopping --------------------------------------------------------------------


def spawn(
    node: Node,
    type: str,
    id: str,
    user: str,
    entry: str,
    params: Mapping[str, Any] | None = None,
    recover: str | None = None,
    *,
    grace: float = STOP_GRACE,
) -> UPID:
    """Start a task in a new task process and return its UPID at once.

    The task process is ``sys.executable -P -m respaldo.tasks.runner`` (never a fork of the
    caller, which may have threads) in a session of its own, with ``RESPALDO_HOME`` and
    ``RESPALDO_NODE`` set to ``node``'s, so it outlives the caller; the caller reaps it (a
    thread waits for it) and leaves no zombie. When this returns, the task's (empty) log
    exists and the task is in the active list.

    Raises InputError for a bad entry, type, id, user or non-JSON params, TaskError when an
    entry cannot be imported or the task process does not start.
    """
    resolve_entry(entry)
    if recover is not None:
        resolve_entry(recover)
    params_json = _params_json(params or {})
    starttime = int(time.time())
    UPID(node.name, 0, 0, starttime, type, id, user)  # bad names fail before a process starts
    store = TaskStore.for_node(node)
    store.task_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, RESPALDO_HOME=str(node.home), RESPALDO_NODE=node.name)
    # The task process starts with stop signals held back (the mask is inherited), so that a
    # stop that comes before its handlers are in place still ends the task properly.
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "respaldo.tasks.runner"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
    try:
        pstart = process_start(proc.pid)
        if pstart is None:
            raise TaskError(f"task process {proc.pid} ended at once")
        upid = UPID(node.name, proc.pid, pstart, starttime, type, id, user)
        store.create(upid)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    spec = {
        "upid": str(upid),
        "task_dir": str(store.task_dir),
        "entry": entry,
        "params": json.loads(params_json),
        "recover": recover,
        "grace": grace,
    }
    assert proc.stdin is not None
    # A task process that died already is seen as gone and finished as "unexpected status".
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.write(json.dumps(spec).encode())
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.close()
    threading.Thread(target=proc.wait, name=f"reap task {proc.pid}", daemon=True).start()
    return upid


def stop(node: Node, upid: UPID | str, wait: float = 0.0) -> bool:
    """Ask a task to stop (``DELETE /nodes/{node}/tasks/{upid}``): SIGTERM to its task
    process, which stops the work and ends the task. A pid that now names another process
    (the start time differs) is never signalled.

    Waits up to ``wait`` seconds for the task process to end. Returns whether the task was
    running. Raises BadUpid for a text that is not a UPID, NoSuchTask without a log."""
    task = decode(upid) if isinstance(upid, str) else upid
    if not TaskStore.for_node(node).log_path(task).is_file():
        raise NoSuchTask(str(upid))
    try:
        pidfd = os.pidfd_open(task.pid)
    except ProcessLookupError:
        return False
    try:
        # The pidfd names one process: checked now, it cannot be another one when signalled.
        if process_start(task.pid) != task.pstart:
            return False
        signal.pidfd_send_signal(pidfd, signal.SIGTERM)
        if wait > 0:
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            poller.poll(wait * 1000)
        return True
    finally:
        os.close(pidfd)


def run_foreground(
    node: Node,
    type: str,
    id: str,
    user: str,
    entry: str | WorkFunction,
    params: Mapping[str, Any] | None = None,
    recover: str | RecoverFunction | None = None,
    *,
    grace: float = STOP_GRACE,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run a task with the calling process as its task process (the CLI): same log, active
    list and index as :func:`spawn`, and every log line printed to ``out`` (standard output)
    as it comes. As Proxmox's CLI, the last line is not printed; an error's message goes to
    ``err`` (standard error), and warnings as ``Task finished with <n> warning(s)!``.

    ``entry`` and ``recover`` may be callables here (the work process is a fork of the
    caller, so closures work). Call it from the main thread: SIGTERM, SIGINT (Ctrl-C) and
    SIGHUP then stop the task as :func:`stop` does. Returns 0 (OK or warnings) or 1.
    Raises InputError or TaskError for a bad entry before anything starts.
    """
    work = resolve_entry(entry) if isinstance(entry, str) else entry
    undo = resolve_entry(recover) if isinstance(recover, str) else recover
    store = TaskStore.for_node(node)
    upid = _own_upid(store, node, type, id, user)
    out = out or sys.stdout
    status = TaskRun(store, upid, work, dict(params or {}), undo, grace, out).run()
    _print_result(status, err or sys.stderr)
    return EXIT_FAILED if status_is_error(status) else EXIT_OK


def _own_upid(store: TaskStore, node: Node, type: str, id: str, user: str) -> UPID:
    """A new task of this process, listed as active. Two tasks of one process in one second
    would share a UPID, so the second starts in the next second."""
    pid = os.getpid()
    pstart = process_start(pid)
    assert pstart is not None  # this process runs
    upid = UPID(node.name, pid, pstart, int(time.time()), type, id, user)
    if store.log_path(upid).exists():
        time.sleep(1 - time.time() % 1)
        upid = UPID(node.name, pid, pstart, int(time.time()), type, id, user)
    store.create(upid)
    return upid


def _print_result(status: str, err: TextIO) -> None:
    with contextlib.suppress(OSError, ValueError):
        if status_is_error(status):
            err.write(f"ERROR: {status}\n")
        elif status != "OK":
            count = status.partition(" ")[2]
            err.write(f"Task finished with {count} warning(s)!\n")
        err.flush()


# -- the task process -------------------------------------------------------------------------


class Phase(enum.Enum):
    """The task process's view of its work process."""

    RUNNING = "running"  # working
    STOPPING = "stopping"  # asked to stop (SIGTERM forwarded); the grace period runs
    KILLED = "killed"  # did not stop within the grace period: SIGKILL sent

    def can_become(self, new: Phase) -> bool:
        return (self, new) in {
            (Phase.RUNNING, Phase.STOPPING),
            (Phase.STOPPING, Phase.KILLED),
        }


class TaskRun:
    """One task, run from its task process (this process): forks the work process, waits,
    ends the log and the task's entry. Used by the runner and by :func:`run_foreground`."""

    def __init__(
        self,
        store: TaskStore,
        upid: UPID,
        work: WorkFunction,
        params: dict[str, Any],
        recover: RecoverFunction | None,
        grace: float,
        echo: TextIO | None,
    ) -> None:
        if upid.pid != os.getpid():
            raise TaskError(f"task {upid} belongs to process {upid.pid}, not {os.getpid()}")
        self.store = store
        self.upid = upid
        self._work = work
        self._params = params
        self._recover = recover
        self._grace = grace
        self._echo = echo
        self.phase = Phase.RUNNING
        self._deadline: float | None = None
        self._work_pid = 0
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._log = FileContext(store.log_path(upid), echo)

    def run(self) -> str:
        """Run the task to its end; returns its exit status (``OK``, ``WARNINGS: <n>`` or
        the error message)."""
        try:
            final = self._supervise()
        except Exception as err:
            # The work process could not even be started (fork failed, ...).
            self._log.log(traceback.format_exc().rstrip("\n"))
            final = _error_line(err)
        finally:
            os.close(self._wake_r)
            os.close(self._wake_w)
        self._log.stop_echo()
        self._log.log(final)
        self._log.close()
        # If this fails, whoever lists the tasks after this process ended moves it.
        with contextlib.suppress(RespaldoError, OSError):
            self.store.finish(self.upid)
        return final_status(final) or UNEXPECTED_STATUS

    def _supervise(self) -> str:
        ctrl_r, ctrl_w = os.pipe()
        # Stop signals wait while the work process is forked: the work takes them once its
        # own handlers are in place, this process once it knows the work process's pid.
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            with _handlers_for(STOP_SIGNALS, self._on_stop_signal) as installed:
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    os.close(ctrl_r)
                    log = self.store.log_path(self.upid)
                    stopped = stop_message(self.upid.type)
                    _work_main(log, self._echo, self._work, self._params, ctrl_w, stopped)
                self._work_pid = pid
                os.close(ctrl_w)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
                self._wait(pid, interruptible=installed)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        result = _read_all(ctrl_r)
        os.close(ctrl_r)
        if result is None:
            # Still a zombie, the pid names no other process group yet.
            _kill_group(pid)  # its helpers (compressors, qemu-img) must not outlive it
        status = os.waitpid(pid, 0)[1]
        return result if result is not None else self._after_death(pid, status)

    def _on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.phase is Phase.RUNNING and self._work_pid:
            self._become(Phase.STOPPING)
            self._deadline = time.monotonic() + self._grace
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._work_pid, signal.SIGTERM)
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_w, b"\0")

    def _become(self, new: Phase) -> None:
        if not self.phase.can_become(new):
            raise TaskError(f"task {self.upid}: no way from {self.phase.value} to {new.value}")
        self.phase = new

    def _wait(self, pid: int, interruptible: bool) -> None:
        """Wait for the work process to end (not reaped: a zombie), killing it once a stop's
        grace period is over."""
        pidfd = os.pidfd_open(pid)
        try:
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            if interruptible:
                poller.register(self._wake_r, select.POLLIN)
            while True:
                timeout = None
                if self._deadline is not None and self.phase is Phase.STOPPING:
                    timeout = max(0.0, self._deadline - time.monotonic()) * 1000
                ready = {fd for fd, _ in poller.poll(timeout)}
                if pidfd in ready:
                    break
                if self._wake_r in ready:
                    os.read(self._wake_r, 64)
                if (
                    self.phase is Phase.STOPPING
                    and self._deadline is not None
                    and time.monotonic() >= self._deadline
                ):
                    self._kill_work(pid)
        finally:
            os.close(pidfd)

    def _kill_work(self, pid: int) -> None:
        self._become(Phase.KILLED)
        self._log.log(
            f"ERROR: work process {pid} did not stop within {self._grace:g} s; killing it"
        )
        _kill_group(pid)

    def _after_death(self, pid: int, status: int) -> str:
        """The work process ended without a result: clean up after it."""
        if os.WIFSIGNALED(status):
            what = f"work process {pid} was killed by {signal.Signals(os.WTERMSIG(status)).name}"
        else:
            code = os.waitstatus_to_exitcode(status)
            what = f"work process {pid} ended without a result (exit code {code})"
        self._log.log(f"ERROR: {what}; cleaning up")
        if self._recover is not None:
            try:
                for note in self._recover(pid):
                    self._log.log(f"INFO: {note}")
            except Exception as err:
                self._log.log(traceback.format_exc().rstrip("\n"))
                self._log.log(f"ERROR: cleaning up failed: {_one_line(str(err))}")
        if self.phase is not Phase.RUNNING:
            return f"TASK ERROR: {stop_message(self.upid.type)}"
        return f"TASK ERROR: {what}"


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _read_all(fd: int) -> str | None:
    """The final line the work process reported, or None if it reported none."""
    os.set_blocking(fd, False)
    chunks = []
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(fd, 4096):
            chunks.append(chunk)
    text = b"".join(chunks).decode("utf-8", "replace")
    return text if final_status(text) is not None else None


# -- the work process -------------------------------------------------------------------------


def _work_main(
    log: Path,
    echo: TextIO | None,
    work: WorkFunction,
    params: dict[str, Any],
    ctrl_w: int,
    stopped: str,
) -> NoReturn:
    """The forked work process: run the work, report the final line, exit. A stop ends the
    work with TaskStopped(``stopped``)."""
    final = "TASK ERROR: work process failed to start"
    try:
        os.setpgid(0, 0)
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # may write to the CLI's terminal
        _stdin_devnull()
        memtune.keep_freed_buffers()
        # Output that is gone (a closed pipe, a terminal hung up) stops the work, as the
        # SIGPIPE that Proxmox's workers die of.
        ctx = FileContext(log, echo, on_echo_lost=lambda: os.kill(os.getpid(), signal.SIGTERM))
        _install_stop(ctx, stopped)
        final = _do_work(ctx, work, params)
    finally:
        with contextlib.suppress(OSError):
            os.write(ctrl_w, final.encode("utf-8", "replace"))
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(0)


def _do_work(ctx: FileContext, work: WorkFunction, params: dict[str, Any]) -> str:
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        try:
            work(ctx, **params)
        finally:
            # A stop that comes now is too late to raise: the work is over.
            for sig in STOP_SIGNALS:
                signal.signal(sig, lambda signum, frame: ctx.request_stop())
    except RespaldoError as err:
        return _error_line(err)
    except BaseException as err:
        oom = out_of_memory(err)
        if oom is not None:  # a clean message, not a traceback: the work ran out of memory
            return _error_line(oom)
        ctx.log(traceback.format_exc().rstrip("\n"))
        return _error_line(err)
    return f"TASK WARNINGS: {ctx.warnings}" if ctx.warnings else "TASK OK"


def _install_stop(ctx: FileContext, message: str) -> None:
    """SIGTERM, SIGINT, SIGHUP, SIGQUIT: stop flag set; TaskStopped(``message``) raised in
    the main thread once (a second signal must not break off the clean-up the first one
    started). That raise interrupts a wait, but where it lands in code that drops
    exceptions (an asyncio callback, a ``__del__``) it is lost: the work's next
    ``ctx.check_stop()`` raises it again from the flag."""
    raised = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal raised
        ctx.request_stop(message)
        if not raised:
            raised = True
            raise TaskStopped(message)

    for sig in STOP_SIGNALS:
        signal.signal(sig, on_signal)


def _stdin_devnull() -> None:
    fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(fd, 0)
    os.close(fd)


def _error_line(err: BaseException) -> str:
    if isinstance(err, RespaldoError):
        message = str(err)
    else:
        message = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    return f"TASK ERROR: {_one_line(message) or type(err).__name__}"


def _one_line(text: str) -> str:
    """Proxmox joins the lines of an error message with spaces for the final line."""
    return " ".join(text.split("\n")).strip()


# -- signal plumbing --------------------------------------------------------------------------

Handler = Callable[[int, FrameType | None], None]


@contextlib.contextmanager
def _handlers_for(signals: tuple[signal.Signals, ...], handler: Handler) -> Iterator[bool]:
    """Install ``handler`` for ``signals`` while the block runs (main thread only: elsewhere
    nothing is installed, and the block gets False)."""
    if threading.current_thread() is not threading.main_thread():
        yield False
        return
    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield True
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
