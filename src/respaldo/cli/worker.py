"""Long commands (vzdump, qmrestore) run their work in a supervised worker process."""

from __future__ import annotations

from collections.abc import Callable

from respaldo.errors import RespaldoError, out_of_memory
from respaldo.services.supervise import run_supervised

EXIT_FAILED = 1


def run_in_worker(action: Callable[[], bool], recover: Callable[[int], list[str]]) -> None:
    """Run ``action`` (True: it went well) in a worker; exit non-zero if it failed or died.

    ``recover(pid)`` undoes what a killed worker left behind.
    """

    def work() -> int:
        try:
            return 0 if action() else EXIT_FAILED
        except RespaldoError as err:
            print(f"ERROR: {err}", flush=True)
            return EXIT_FAILED
        except (MemoryError, RuntimeError) as err:
            if (oom := out_of_memory(err)) is None:
                raise
            print(f"ERROR: {oom}", flush=True)
            return EXIT_FAILED

    code = run_supervised(work, recover)
    if code:
        raise SystemExit(code)
