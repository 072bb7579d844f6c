"""The scheduler: which backup job runs are due, and starting each one exactly once.

It follows pve-manager ``PVE/Jobs.pm`` (``run_jobs``) and ``PVE/Service/pvescheduler.pm``:

- A job's next run is the first event of its schedule after its last run
  (:meth:`respaldo.jobs.state.JobState.last_run`: the time its schedule or enabled flag last
  changed, else the start of its last run's task, else when it was created). A run is due
  when that time has come; a job whose run is still going (state ``started``) is not started
  again, and once it ends a run it missed meanwhile is started, once.
- Disabled jobs and jobs restricted to another node (``node``) never run here.
- When a scheduler starts, jobs without ``repeat-missed`` forget the runs they missed while
  no scheduler ran: their next run is computed from the start (Proxmox: from the start
  exactly; here from ``startup_grace`` seconds before it, so that a second scheduler starting
  next to a running one does not drop the run that one is about to start). With
  ``repeat-missed 1`` a missed run is started once, right away.
- Starting a run is claimed under the job's state lock: the due check and the move to
  ``starting`` are one step, so several schedulers on one data directory (in one process or
  several) start each run once. The run itself is started by the ``start_job`` callback
  (the task system: ``start_job(job_id, options) -> UPID``) outside the lock; its UPID goes
  into the state. Whether that task has ended is asked of ``task_status(upid)``.

Times are epoch seconds; the clock is injectable (``clock``), so is the time zone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo

from respaldo.errors import InputError, RespaldoError
from respaldo.jobs import jobscfg, state
from respaldo.jobs.calendar import CalendarEvent, occurrences, parse_calendar_event
from respaldo.jobs.jobscfg import Job
from respaldo.jobs.state import JobState, RunState
from respaldo.node import Node

#: ``start_job(job_id, options) -> UPID``: start a vzdump task with ``options`` (the job's
#: vzdump options as strings, plus ``job-id`` and ``quiet``; :meth:`Job.vzdump_options`).
#: Returns the task's UPID, or ``OK`` when there was nothing to do; raises on failure.
StartJob = Callable[[str, dict[str, str]], str]
#: ``task_status(upid) -> exit status | None``: None while the task runs, else its exit
#: status (``OK``, ``WARNINGS: 2``, ``job errors``, ``unexpected status`` for a task that
#: is gone).
TaskStatus = Callable[[str], str | None]

STARTUP_GRACE = 60  # seconds
MAX_WAIT = 60.0  # seconds between rounds at most: jobs.cfg and tasks change elsewhere too
_OVERDUE_WAIT = 1.0  # seconds: a due run that could not be claimed is retried this soon
_LATE = 0.01  # seconds: wake up this much after a due time, so the round sees it due

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Run:
    """A run :meth:`Scheduler.tick` started: the job, the event it was due at, and the UPID
    of its task, or the reason it ended at once (``msg``: ``OK`` when there was nothing to
    do, else the error)."""

    job_id: str
    due: int
    upid: str | None = None
    msg: str | None = None


class Scheduler:
    """Starts the due runs of the jobs in ``config/jobs.cfg`` of ``node``.

    ``clock`` gives the current time (epoch seconds), ``zone`` the local time zone of the
    schedules (default: :func:`respaldo.jobs.calendar.local_zone`), ``log`` takes the
    warnings (default: the ``respaldo.jobs.scheduler`` logger). Thread-safe for one caller
    of :meth:`tick` or :meth:`run` at a time; :meth:`wake` and :meth:`stop` may be called
    from any thread.
    """

    def __init__(
        self,
        node: Node,
        start_job: StartJob,
        task_status: TaskStatus,
        *,
        clock: Callable[[], float] = time.time,
        zone: tzinfo | None = None,
        startup_grace: int = STARTUP_GRACE,
        max_wait: float = MAX_WAIT,
        log: Callable[[str], None] = _logger.warning,
    ) -> None:
        self.node = node
        self.start_job = start_job
        self.task_status = task_status
        self.clock = clock
        self.zone = zone
        self.startup_grace = startup_grace
        self.max_wait = max_wait
        self.log = log
        self._first_round = True
        self._wake = threading.Event()
        self._stopping = threading.Event()

    # -- one round -------------------------------------------------------------------------

    def tick(self, now: float | None = None) -> list[Run]:
        """One round at ``now`` (default: the clock): bring the state files in step with
        jobs.cfg, note runs that ended, and start every due run. Returns the runs started."""
        moment = int(self.clock() if now is None else now)
        self._synchronize(moment)
        started = []
        for job in sorted(jobscfg.load_jobs(self.node), key=lambda j: j.id):
            run = self._tick_job(job, moment)
            if run is not None:
                started.append(run)
        self._first_round = False
        return started

    def _tick_job(self, job: Job, now: int) -> Run | None:
        if job.node is not None and job.node != self.node.name:
            return None
        try:
            self._note_ended(job.id)
            if self._first_round and not job.repeat_missed:
                self._forget_missed(job.id, now)
        except RespaldoError as err:
            self.log(f"job '{job.id}': could not update its state, skipped: {err}")
            return None
        if not job.enabled:
            return None
        event = self._event(job)
        if event is None:
            return None
        try:
            due = self._claim(job.id, event, now)
        except RespaldoError as err:
            self.log(f"job '{job.id}': could not claim its run, skipped: {err}")
            return None
        return None if due is None else self._start(job, due, now)

    def _event(self, job: Job) -> CalendarEvent | None:
        try:
            return parse_calendar_event(job.schedule or "")
        except InputError as err:
            self.log(f"job '{job.id}': not scheduled: {err}")
            return None

    def _synchronize(self, now: int) -> None:
        """State files for new jobs (created now), saved config of changed ones, none for
        removed ones (PVE/Jobs.pm ``synchronize_job_states_with_config``)."""
        with jobscfg.locked(self.node):
            jobs = jobscfg.load_jobs(self.node)
            for job in jobs:
                if state.read_state(self.node, job.id) is None:
                    state.create_state(self.node, job.id, job.properties, now)
                else:
                    state.note_config_change(self.node, job.id, job.properties, now)
            known = {job.id for job in jobs}
            for job_id in state.known_state_ids(self.node):
                if job_id not in known:
                    state.remove_state(self.node, job_id)

    def _note_ended(self, job_id: str) -> None:
        """A started run whose task has ended becomes ``stopped`` with its exit status."""
        current = state.read_state(self.node, job_id)
        if current is None or current.state is not RunState.STARTED or current.upid is None:
            return
        try:
            exitstatus = self.task_status(current.upid)
        except Exception as err:  # a failing callback leaves the run as it is, not the loop
            self.log(f"job '{job_id}': status of task {current.upid} unknown: {err}")
            return
        if exitstatus is None:
            return
        with state.locked(self.node, job_id):
            current = state.read_state(self.node, job_id)
            if current is None or current.state is not RunState.STARTED:
                return
            state.write_state(self.node, job_id, current.stopped(job_id, exitstatus))

    def _forget_missed(self, job_id: str, now: int) -> None:
        """The next run is computed from ``now - startup_grace`` at the earliest."""
        state.raise_last_run(self.node, job_id, now - self.startup_grace)

    def _claim(self, job_id: str, event: CalendarEvent, now: int) -> int | None:
        """If the job's next run is due at ``now``, move it to ``starting`` and return the
        time it was due; else None. The check and the move are one step under the lock."""
        with state.locked(self.node, job_id):
            current = state.read_state(self.node, job_id)
            if current is None or current.state is RunState.STARTED:
                return None
            due = event.next_event(current.last_run(), self.zone)
            if due is None or now < due:
                return None
            state.write_state(self.node, job_id, current.starting(job_id, now))
            return due

    def _start(self, job: Job, due: int, now: int) -> Run:
        try:
            upid = self.start_job(job.id, job.vzdump_options())
        except Exception as err:  # any failure of the callback ends this run, not the loop
            msg = str(err) or type(err).__name__
            self.log(f"job '{job.id}': could not start: {msg}")
            self._record(job.id, lambda s: s.not_started(job.id, now, msg))
            return Run(job.id, due, msg=msg)
        if upid == "OK":
            self._record(job.id, lambda s: s.not_started(job.id, now, "OK"))
            return Run(job.id, due, msg="OK")
        self._record(job.id, lambda s: s.started(job.id, upid))
        _logger.info("job '%s': run due at %d started: %s", job.id, due, upid)
        return Run(job.id, due, upid=upid)

    def _record(self, job_id: str, change: Callable[[JobState], JobState]) -> None:
        try:
            with state.locked(self.node, job_id):
                current = state.read_state(self.node, job_id)
                if current is not None:  # None: the job was removed meanwhile
                    state.write_state(self.node, job_id, change(current))
        except RespaldoError as err:
            self.log(f"job '{job_id}': could not record its run: {err}")

    # -- waiting ---------------------------------------------------------------------------

    def next_wakeup(self, now: float | None = None) -> float | None:
        """When a round is next needed: the earliest next run of the enabled local jobs,
        ``now + max_wait`` while one runs (to notice its end); None without jobs."""
        moment = self.clock() if now is None else now
        times: list[float] = []
        for job in jobscfg.load_jobs(self.node):
            if not job.enabled or (job.node is not None and job.node != self.node.name):
                continue
            current = state.read_state(self.node, job.id)
            if current is not None and current.state is RunState.STARTED:
                times.append(moment + self.max_wait)
                continue
            try:
                event = parse_calendar_event(job.schedule or "")
            except InputError:
                continue
            last = current.last_run() if current is not None else int(moment)
            following = event.next_event(last, self.zone)
            if following is not None:
                times.append(following)
        return min(times, default=None)

    def run(self) -> None:
        """Run rounds until :meth:`stop`: each round, then wait until the next run is due,
        :meth:`wake` is called, or ``max_wait`` has passed (jobs.cfg may change in another
        process). Errors of a round are logged; the loop goes on."""
        while not self._stopping.is_set():
            try:
                self.tick()
                wakeup = self.next_wakeup()
            except (RespaldoError, OSError) as err:  # a full disk must not end the loop
                self.log(f"scheduler round failed: {err}")
                wakeup = None
            self._wait(wakeup)

    def _wait(self, wakeup: float | None) -> None:
        if wakeup is None:
            timeout = self.max_wait
        else:
            ahead = wakeup - self.clock()
            timeout = _OVERDUE_WAIT if ahead <= 0 else min(ahead + _LATE, self.max_wait)
        self._wake.wait(timeout)
        self._wake.clear()

    def wake(self) -> None:
        """Start a round now (after jobs.cfg changed in this process)."""
        self._wake.set()

    def stop(self) -> None:
        """End :meth:`run` after the current round."""
        self._stopping.set()
        self._wake.set()


def schedule_analyze(
    schedule: str,
    starttime: int | None = None,
    iterations: int = 10,
    zone: tzinfo | None = None,
    now: float | None = None,
) -> list[dict[str, object]]:
    """``GET /cluster/jobs/schedule-analyze`` (pve-manager ``PVE/API2/Cluster/Jobs.pm``):
    the next ``iterations`` (1..100) events of ``schedule`` after ``starttime`` (default:
    ``now``, default the current time), each ``{"timestamp": epoch, "utc": "Thu Sep 12
    21:00:00 2024"}`` (Perl's ``scalar(gmtime)``). Raises InputError for a bad schedule or
    count."""
    if not 1 <= iterations <= 100:
        raise InputError("iterations", iterations, "must be between 1 and 100")
    event = parse_calendar_event(schedule, "schedule")
    start = starttime if starttime is not None else int(time.time() if now is None else now)
    return [
        {"timestamp": at, "utc": time.asctime(time.gmtime(at))}
        for at in occurrences(event, start, iterations, zone)
    ]
