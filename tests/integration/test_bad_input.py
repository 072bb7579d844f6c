"""Bad input: each a clear error naming the value, with nothing changed on disk."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.integration.conftest import Cli

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(120)]


#: Files up to this size are compared by content; larger ones (disk images) by size,
#: modification time and inode: any write changes those, and reading a sparse 1 GiB image
#: twice per case would take seconds.
CONTENT_LIMIT = 4 << 20


def _tree(home: Path) -> dict[str, str]:
    """Every file below the data dir with a digest of it (run/ lock files aside)."""
    result = {}
    for path in sorted(home.rglob("*")):
        if path.is_file() and "lock" not in path.parts:
            st = path.stat()
            if st.st_size > CONTENT_LIMIT:
                digest = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            result[str(path.relative_to(home))] = digest
    return result


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["qm", "start", "555"], "VM 555 does not exist"),
        (["qm", "config", "99"], "invalid value for vmid '99': must be between 100 and 999999999"),
        (["qm", "create", "1000000000"], "must be between 100 and 999999999"),
        (["qm", "create", "abc"], "invalid value for vmid 'abc': not a whole number"),
        (["qm", "create", "100", "--memory", "64"], "VM 100 already exists"),
        (
            ["qm", "create", "104", "--scsi0", "nas:4"],
            "storage 'nas' does not exist (configured storages: local)",
        ),
        (["qm", "create", "104", "--scsi0", "local:4Q"], "invalid value for scsi0 'local:4Q'"),
        (["qm", "create", "104", "--memory", "lots"], "invalid value for memory 'lots'"),
        (["qm", "create", "104", "--scsi0", "local:1", "--scsi1", "nas:1"], "storage 'nas'"),
        (["qm", "create", "104", "--net0", "ne2k"], "needs a model"),
        (["qm", "create", "104", "--colour", "red"], "invalid value for option 'colour'"),
        (
            ["qm", "set", "100", "--scsi5", "local:100/vm-100-disk-9.qcow2"],
            "volume 'local:100/vm-100-disk-9.qcow2' does not exist",
        ),
        (["pvesm", "alloc", "local", "100", "-", "12Q"], "invalid value for size '12Q'"),
        (["pvesm", "add", "dir", "Bad_Id", "--path", "/tmp"], "invalid value for storage 'Bad_Id'"),
        (["pvesm", "add", "dir", "local", "--path", "/tmp"], "already defined"),
        (["pvesm", "free", "local:100/vm-100-disk-0.raw"], "in use by VM 100 (scsi0)"),
    ],
)
def test_bad_input_is_named_and_changes_nothing(cli: Cli, args: list[str], message: str) -> None:
    cli.run("qm", "create", "100", "--memory", "64", "--scsi0", "local:1")
    before = _tree(cli.home)
    stderr = cli.fails(*args)
    assert message in stderr
    assert _tree(cli.home) == before


def test_malformed_config_line_names_file_and_line(cli: Cli) -> None:
    cli.run("qm", "create", "100", "--memory", "64")
    conf = cli.home / "config" / "qemu-server" / "100.conf"
    conf.write_text(conf.read_text() + "this line is broken\n")
    before = _tree(cli.home)
    stderr = cli.fails("qm", "start", "100")
    lines = conf.read_text().count("\n")
    assert f"100.conf, line {lines}: expected 'key: value'" in stderr
    assert _tree(cli.home) == before
