"""The hook script of a backup job: ``<script> <phase> [<mode> <vmid>]`` as Proxmox calls it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from respaldo.errors import TaskError

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
        """Run the hook for a phase; its output is returned for the log. Non-zero aborts."""
        if self.script is None:
            return ""
        argv = [str(self.script), phase]
        if mode is not None and vmid is not None:
            argv += [mode, str(vmid)]
        env = {**os.environ, **self.env, **(extra_env or {})}
        try:
            proc = subprocess.run(
                argv,
                env=env,
                capture_output=True,
                text=True,
                timeout=HOOK_TIMEOUT,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except OSError as err:
            raise HookError(f"hook script {self.script} could not run: {err}") from err
        except subprocess.TimeoutExpired as err:
            raise HookError(f"hook script {self.script} {phase}: timed out") from err
        output = (proc.stdout + proc.stderr).strip()
        if proc.returncode != 0:
            detail = f": {output}" if output else ""
            raise HookError(
                f"hook script {self.script} failed in phase '{phase}' "
                f"(exit code {proc.returncode}){detail}"
            )
        return output
