"""The test guest (respaldo.guestimage) boots as a respaldo VM: data disk, guest agent, workload.

The first run builds the guest from Debian packages (about 15 s, into pytest's cache or
$RESPALDO_GUEST_CACHE); later runs find it there at once. Under TCG a boot takes about 10 s.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from respaldo.guestimage.build import GuestImage, guest_args
from tests.integration.conftest import Cli
from tests.integration.guest_helpers import (
    check_records,
    connect_agent,
    e2fsck,
    serial,
    start_and_wait_ready,
    wait_for,
)

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(300)]


def test_guest_boots_freezes_and_writes_consistently(
    cli: Cli, guest_image: GuestImage, tmp_path: Path
) -> None:
    cli.run(
        "qm",
        "create",
        "100",
        "--memory",
        "256",
        "--virtio0",
        "local:0.125,format=raw",
        "--agent",
        "1",
        "--args",
        guest_args(guest_image),
    )
    config = cli.run("qm", "config", "100").stdout
    volid = re.search(r"^virtio0: ([^,\s]+)", config, re.MULTILINE)
    assert volid, config
    disk = Path(cli.run("pvesm", "path", volid.group(1)).stdout.strip())
    # The guest has no mkfs.ext4: its data disk is formatted on the host.
    subprocess.run(["mkfs.ext4", "-q", "-F", str(disk)], check=True)

    boot_seconds = start_and_wait_ready(cli, 100)
    assert "agent=/dev/vport" in serial(cli, 100)

    with connect_agent(cli, 100) as agent:
        assert agent.execute("guest-get-host-name") == {"host-name": "respaldo-guest"}
        time.sleep(2)  # the workload is writing
        start = time.monotonic()
        assert agent.freeze() >= 1
        freeze_seconds = time.monotonic() - start
        try:
            assert agent.freeze_status() == "frozen"
            # A frozen ext4 is consistent on disk: a copy taken now needs no journal replay.
            frozen = tmp_path / "frozen.raw"
            shutil.copyfile(disk, frozen)
        finally:
            start = time.monotonic()
            agent.thaw()
            thaw_seconds = time.monotonic() - start
        assert agent.freeze_status() == "thawed"
    check = e2fsck(frozen, "-fn")
    assert check.returncode == 0, check.stdout + check.stderr
    frozen_records = check_records(frozen, tmp_path)
    frozen.unlink()

    time.sleep(3)  # more records after the thaw
    cli.run("qm", "stop", "100")  # a power cut: the journal needs a replay
    stopped_records = check_records(disk, tmp_path)
    assert stopped_records > frozen_records

    # The next boot goes on numbering after the manifest, and the power button shuts the
    # guest down cleanly: the file system needs no repair then.
    start_and_wait_ready(cli, 100)
    wait_for(lambda: "writing records from" in serial(cli, 100), 10, "the workload")
    match = re.search(r"writing records from (\d+)", serial(cli, 100))
    assert match and int(match.group(1)) > stopped_records, serial(cli, 100)
    time.sleep(1)
    # without --forceStop (Proxmox's default), a guest that did not shut down in time
    # would fail the command
    cli.run("qm", "shutdown", "100", "--timeout", "30")
    check = e2fsck(disk, "-fn")
    assert check.returncode == 0, check.stdout + check.stderr

    print(
        f"\nguest boot (qm start -> ready): {boot_seconds:.1f} s, "
        f"freeze {freeze_seconds * 1000:.0f} ms, thaw {thaw_seconds * 1000:.0f} ms, "
        f"{frozen_records} records when frozen, {stopped_records} at the hard stop"
    )
