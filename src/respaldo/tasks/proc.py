"""Whether a task's process still runs, from ``/proc/<pid>/stat``.

A pid alone says little: the process may be gone and its pid reused. A task is named by its
pid *and* its start time in clock ticks (``pstart``), as pve-common
``PVE/ProcFSTools.pm`` ``check_process_running`` does; a zombie counts as gone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProcStat:
    """The fields of ``/proc/<pid>/stat`` a task needs."""

    state: str  # R, S, D, Z, ...
    starttime: int  # clock ticks after boot


def read_stat(pid: int) -> ProcStat | None:
    """The state and start time of process ``pid``, or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read()
    except OSError:
        return None
    return parse_stat(text)


def parse_stat(text: bytes) -> ProcStat | None:
    """The state and start time from the text of a ``/proc/<pid>/stat`` file."""
    # The command name (field 2) is in parentheses and may itself hold spaces or ')'.
    _, _, rest = text.rpartition(b")")
    fields = rest.split()
    try:
        # fields[0] is field 3 (state); starttime is field 22.
        return ProcStat(fields[0].decode(), int(fields[19]))
    except (IndexError, ValueError):
        return None


def process_start(pid: int) -> int | None:
    """The start time (clock ticks after boot) of a live process ``pid``; None if gone or a
    zombie."""
    stat = read_stat(pid)
    if stat is None or stat.state == "Z":
        return None
    return stat.starttime


def is_running(pid: int, pstart: int) -> bool:
    """Whether the process ``pid`` that started at ``pstart`` still runs (not a reused pid)."""
    return process_start(pid) == pstart
