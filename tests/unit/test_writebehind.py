"""Write-behind: the archive becomes durable while it grows; a failed sync is not lost."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from respaldo.errors import StorageError
from respaldo.storage.writebehind import WriteBehind

STEP = 1 << 20


def test_file_is_synced_in_the_background_every_step(tmp_path: Path) -> None:
    with (tmp_path / "a.dat").open("wb", buffering=0) as f:
        with WriteBehind(f.fileno(), STEP) as behind:
            f.write(b"x" * STEP)
            behind.advance(STEP - 1)
            assert not behind.attempted.wait(0.2)  # below one step: no sync asked for
            behind.advance(1)
            assert behind.attempted.wait(10)
            behind.finish()
        assert behind.syncs >= 1
        assert behind.error is None


def test_a_failed_background_sync_fails_the_next_step_and_finish() -> None:
    read_end, write_end = os.pipe()  # fdatasync and lseek fail on a pipe
    try:
        behind = WriteBehind(write_end, STEP, what="the archive")
        behind.advance(STEP)
        assert behind.attempted.wait(10)
        with pytest.raises(StorageError, match="cannot make the archive durable"):
            behind.advance(1)  # the copy stops at once, not at the end
        behind.stop()  # stop() never raises, even with an error kept
        with pytest.raises(StorageError) as err:
            behind.finish()
        assert isinstance(err.value.__cause__, OSError)
        assert behind.syncs == 0
    finally:
        os.close(read_end)
        os.close(write_end)
