"""Runs respaldo commands for the archive fuzz test, each in a forked child under a memory limit.

Started once per test module as ``python -m tests.integration.fuzz_driver <limit bytes>``: it
sets ``RLIMIT_AS`` for itself (so for every child), imports the CLI once, then answers each
JSON line on stdin, a list of requests run side by side, with one JSON line on stdout::

    [{"argv": ["vma", "verify", "/x.vma"], "env": {}, "out": "/o", "err": "/e", "timeout": 30}]
    -> [{"code": 1, "timed_out": false, "maxrss_kib": 41234, "seconds": 0.03}]

A child is ``respaldo <argv>`` as the console script runs it (``main``), with stdout and
stderr in the named files; forking a process that has the CLI imported already costs a few
milliseconds where a new interpreter costs a quarter of a second. ``maxrss_kib`` is the peak
resident memory of the child and of every process it waited for (qmrestore's worker). A
child still running at ``timeout`` is killed with its process group and reported as timed out.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import select
import signal
import sys
import time
import traceback
from typing import Any

from respaldo.cli.main import COMMANDS
from respaldo.cli.main import main as respaldo_main

EXIT_CRASH = 70


def _child(request: dict[str, Any]) -> None:
    """Become ``respaldo <argv>``; never returns."""
    code = EXIT_CRASH
    try:
        os.setpgid(0, 0)  # a timeout kills the child and whatever it started
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd, name in ((1, request["out"]), (2, request["err"])):
            os.dup2(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
        os.environ.update(request["env"])
        code = respaldo_main(request["argv"])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def start(request: dict[str, Any]) -> int:
    """Fork the child of one request; its pid."""
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        _child(request)
    return pid


def run_all(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the requests side by side; each answer once its child has ended or was killed."""
    started = time.monotonic()
    pids = [start(request) for request in requests]
    pidfds = {os.pidfd_open(pid): i for i, pid in enumerate(pids)}
    ended: dict[int, float] = {}
    deadline = started + max(r["timeout"] for r in requests)
    try:
        while len(ended) < len(pids) and (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select(list(pidfds), [], [], left)
            for fd in ready:
                ended[pidfds.pop(fd)] = time.monotonic() - started
                os.close(fd)
    finally:
        for fd in pidfds:
            os.close(fd)
    answers = []
    for i, pid in enumerate(pids):
        if i not in ended:
            os.killpg(pid, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
        answers.append(
            {
                "code": os.waitstatus_to_exitcode(status),
                "timed_out": i not in ended,
                "maxrss_kib": usage.ru_maxrss,
                "seconds": ended.get(i, time.monotonic() - started),
            }
        )
    return answers


def main() -> None:
    limit = int(sys.argv[1])
    for command in COMMANDS:  # imported once, before any fork
        importlib.import_module(f"respaldo.cli.{command}")
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    for line in sys.stdin:
        print(json.dumps(run_all(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
