"""The outcome of a finished backup job, as vzdump reports it.

The backup service fills these while it works through the guests of a job; the status mail
(:mod:`respaldo.notify.mail`) and the REST API read them. They hold plain data only: no
open files, no references to services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class GuestResult:
    """One guest of a backup job.

    ``archive`` is the file name of the archive written (no directory, no volume id), or
    ``None`` when none was written; ``size`` its size in bytes (0 without an archive);
    ``seconds`` how long this guest's backup took; ``log_text`` the guest's task log, the same
    text that goes into the ``.log`` file beside the archive.
    """

    vmid: int
    name: str
    ok: bool
    error: str | None
    archive: str | None
    size: int
    seconds: float
    log_text: str
    #: Not backed up, without an error: a backup of it was still running (a warning).
    skipped: bool = False

    @property
    def status(self) -> str:
        """``ok``, ``err`` or ``skipped``, the words of the STATUS column in vzdump's mail."""
        if self.skipped:
            return "skipped"
        return "ok" if self.ok else "err"


@dataclass
class JobResult:
    """A whole backup job on one node.

    ``started`` is when the job began, ``seconds`` how long the whole job ran, ``job_error``
    an error that concerns the job rather than one guest (a failing ``job-start`` hook, a
    storage that is not available...).
    """

    node: str
    started: datetime
    seconds: float
    guests: list[GuestResult]
    job_error: str | None = None

    @property
    def ok(self) -> bool:
        """True when every guest was backed up and the job itself had no error."""
        return self.job_error is None and all(guest.ok for guest in self.guests)

    @property
    def total_size(self) -> int:
        """Bytes of all archives written by the job."""
        return sum(guest.size for guest in self.guests)

    @property
    def failed(self) -> list[GuestResult]:
        """The guests whose backup failed, in job order."""
        return [guest for guest in self.guests if not guest.ok]
