"""The hook script of a backup job: ``<script> <phase> [<mode> <vmid>]`` as Proxmox calls it."""

from __future__ import annotations

import os
from pathlib import Path

from respaldo.errors import CommandError, TaskError
from respaldo.runner import run

JOB_PHASES = ("job-init", "job-start", "job-end", "job-abort")
GUEST_PHASES = (
    "backup-start",
    "pre-stop",
    "pre-restart",
    "post-restart",
    "backup-end",
    "backup-abort",
    "log-end",
)
HOOK_TIMEOUT = 3600


class HookError(TaskError):
    pass


class HookRunner:
    def __init__(self, script: Path | None, env: dict[str, str]) -> None:
        self.script = script
        self.env = env

    def __call__(
        self,
        phase: str,
        mode: str | None = None,
        vmid: int | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> str:
        """Run the hook for a phase; returns its output. A non-zero exit raises HookError."""
        if self.script is None:
            return ""
        argv = [str(self.script), phase]
        if mode is not None and vmid is not None:
            argv += [mode, str(vmid)]
        env = {**os.environ, **self.env, **(extra_env or {})}
        try:
            return run(argv, timeout=HOOK_TIMEOUT, env=env).strip()
        except CommandError as err:
            detail = f": {err.stderr.strip()}" if err.stderr.strip() else ""
            raise HookError(
                f"hook script {self.script} failed in phase '{phase}' "
                f"(exit code {err.returncode}){detail}"
            ) from err
