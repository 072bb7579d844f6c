"""Driving the test guest (respaldo.guestimage) from tests: boot, agent, data-disk checks."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from respaldo.qemu.agent import AgentError, GuestAgent
from tests.integration.conftest import Cli

READY = "RESPALDO-GUEST-READY"
FAILED = "RESPALDO-GUEST-ERROR"


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``condition`` every 0.1 s; returns the seconds it took."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - start


def serial(cli: Cli, vmid: int) -> str:
    try:
        return (cli.home / "log" / "qemu" / f"{vmid}.serial.log").read_text(errors="replace")
    except FileNotFoundError:
        return ""


def start_and_wait_ready(cli: Cli, vmid: int) -> float:
    """Start the VM; returns the seconds from ``qm start`` to the guest's ready marker."""
    start = time.monotonic()
    cli.run("qm", "start", str(vmid))

    def ready() -> bool:
        log = serial(cli, vmid)
        assert FAILED not in log, f"the guest failed to start:\n{log}"
        return READY in log

    try:
        wait_for(ready, 60, "the guest's ready marker")
    except AssertionError as err:
        raise AssertionError(f"{err}; serial console:\n{serial(cli, vmid)}") from err
    return time.monotonic() - start


def connect_agent(cli: Cli, vmid: int) -> GuestAgent:
    """A connected agent; qemu-ga listens before the ready marker, but allow a moment."""
    socket_path = cli.home / "run" / "qemu" / f"{vmid}.qga"
    deadline = time.monotonic() + 15
    while True:
        agent = GuestAgent(socket_path, timeout=10)
        try:
            agent.connect()
            agent.ping()
            return agent
        except AgentError:
            agent.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def e2fsck(image: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["e2fsck", *options, str(image)], capture_output=True, text=True, check=False
    )


def check_records(image: Path, workdir: Path) -> int:
    """Replay the journal of a copy of ``image``, then check every manifest entry.

    Returns the number of records in the manifest.
    """
    copy = workdir / "copy.raw"
    shutil.copyfile(image, copy)
    fixed = e2fsck(copy, "-fy")
    assert fixed.returncode in (0, 1), fixed.stdout + fixed.stderr  # 1: journal replayed
    clean = e2fsck(copy, "-fn")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    out = workdir / "out"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    subprocess.run(
        ["debugfs", "-R", f"rdump /records /manifest {out}", str(copy)],
        capture_output=True,
        check=True,
    )
    lines = (out / "manifest").read_text().splitlines()
    assert lines, "the workload wrote no records"
    for number, line in enumerate(lines, start=1):
        assert re.fullmatch(r"\d+ [0-9a-f]{64}", line), f"torn manifest line {line!r}"
        n, checksum = line.split()
        assert int(n) == number, f"manifest line {number} is record {n}"
        record = out / "records" / f"{n}.rec"
        assert hashlib.sha256(record.read_bytes()).hexdigest() == checksum, f"record {n}"
    copy.unlink()
    return len(lines)
