"""Undoing an unfinished restore: only while the VM's config is still the restore's."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from respaldo.locks import file_lock
from respaldo.node import Node
from respaldo.services.restore.qmrestore import RestoreState, undo
from respaldo.services.vmstore import VmStore

VMID = 120
VOLUME = f"local:{VMID}/vm-{VMID}-disk-0.raw"
OLD_CONFIG = "cores: 2\nmemory: 512\nscsi0: local:120/vm-120-disk-9.raw,size=1G\n"


@pytest.fixture
def node(tmp_path: Path) -> Node:
    node = Node(tmp_path / "n", "testnode")
    node.ensure_dirs()
    return node


def new_volume(node: Node) -> Path:
    """A volume the restore allocated (its file in the local storage)."""
    path = node.home / "storage" / "local" / "images" / str(VMID) / f"vm-{VMID}-disk-0.raw"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\0" * 4096)
    return path


def config_path(node: Node) -> Path:
    return VmStore(node).path(VMID)


def recorded(node: Node, state: RestoreState) -> RestoreState:
    """The restore's record in run/qmrestore, as the restore keeps it."""
    record = node.run_dir / "qmrestore" / f"{VMID}.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(asdict(state)))
    return state


def test_undo_of_a_new_vm_removes_the_reservation_and_the_new_volume(node: Node) -> None:
    volume = new_volume(node)
    config_path(node).write_text("lock: create\n")
    state = recorded(node, RestoreState(VMID, created_config=True, new_volumes=[VOLUME]))

    notes = undo(node, state)

    assert not volume.exists()
    assert not config_path(node).exists()
    assert f"freed new volume '{VOLUME}'" in notes


def test_undo_over_an_existing_vm_puts_its_config_back(node: Node) -> None:
    volume = new_volume(node)
    config_path(node).write_text(OLD_CONFIG.replace("cores: 2\n", "cores: 2\nlock: create\n"))
    state = recorded(node, RestoreState(VMID, old_config=OLD_CONFIG, new_volumes=[VOLUME]))

    undo(node, state)

    assert not volume.exists()
    assert config_path(node).read_text() == OLD_CONFIG


@pytest.mark.parametrize(
    "config",
    [
        f"cores: 4\nscsi0: {VOLUME},size=4K\n",  # the final config: the restore had finished
        "cores: 1\nmemory: 64\n",  # an administrator unlocked the VM and changed it
    ],
)
def test_undo_leaves_a_config_that_is_no_longer_the_restores(node: Node, config: str) -> None:
    volume = new_volume(node)
    config_path(node).write_text(config)
    state = recorded(node, RestoreState(VMID, created_config=True, new_volumes=[VOLUME]))

    notes = undo(node, state)

    assert volume.exists()
    assert config_path(node).read_text() == config
    assert any("left VM 120 as it is" in note and "lock: none" in note for note in notes)


def test_undo_that_cannot_lock_the_vm_keeps_its_record_for_the_next_restore(node: Node) -> None:
    volume = new_volume(node)
    config_path(node).write_text("lock: create\n")
    record = node.run_dir / "qmrestore" / f"{VMID}.json"
    state = recorded(node, RestoreState(VMID, created_config=True, new_volumes=[VOLUME]))

    with file_lock(node.lock_dir / f"lock-{VMID}.conf", "a long qm set", 1.0):
        notes = undo(node, state, lock_timeout=0.2)

    assert volume.exists()
    assert config_path(node).read_text() == "lock: create\n"
    assert record.exists()
    assert any(f"kept {record}" in note for note in notes)


def test_a_late_undo_leaves_alone_the_restore_that_owns_the_vm_now(node: Node) -> None:
    """An earlier restore's undo that comes late (its supervisor waited for the lock while the
    next restore cleaned up and started over) must not touch the new restore."""
    earlier = RestoreState(VMID, created_config=True, new_volumes=[VOLUME])
    volume = new_volume(node)  # the new restore's disk, the same name as the earlier one's
    config_path(node).write_text("lock: create\n")
    recorded(node, RestoreState(VMID, created_config=True, new_volumes=[VOLUME]))

    notes = undo(node, earlier)

    assert volume.exists()
    assert config_path(node).read_text() == "lock: create\n"
    assert (node.run_dir / "qmrestore" / f"{VMID}.json").exists()
    assert any("belongs to another restore" in note for note in notes)


def test_undo_never_raises_on_a_config_it_cannot_read(node: Node) -> None:
    volume = new_volume(node)
    config_path(node).write_bytes(b"description: caf\xe9\nlock: create\n")
    state = recorded(node, RestoreState(VMID, created_config=True, new_volumes=[VOLUME]))

    notes = undo(node, state)

    assert volume.exists()
    assert any("left VM 120 as it is" in note for note in notes)
