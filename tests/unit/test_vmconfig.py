"""Typed views and changes of a VM config that must keep the Proxmox file format."""

from __future__ import annotations

import pytest

from respaldo.config.vmconfig import VmConfig
from respaldo.errors import InputError
from respaldo.services.vzdump.guest import _agent_enabled


def test_description_is_the_comment_lines_at_the_top() -> None:
    config = VmConfig.parse(100, "#old\nmemory: 512\n")
    config.set_description("web server\nsecond line")
    assert config.format() == "#web server\n#second line\nmemory: 512\n"
    config.set_description("")
    assert config.format() == "memory: 512\n"


@pytest.mark.parametrize("value", ["a\nmemory: 1", "a\rb", "x\x00"])
def test_values_that_would_break_the_file_are_refused(value: str) -> None:
    config = VmConfig.parse(100, "memory: 512\n")
    with pytest.raises(InputError, match="single line"):
        config.set("name", value)
    assert config.format() == "memory: 512\n"


@pytest.mark.parametrize(
    ("agent", "freeze"),
    [
        ("1", True),
        ("enabled=1", True),
        ("1,freeze-fs-on-backup=0", False),
        ("enabled=1,freeze-fs=0", False),
        ("0", False),
        ("1,fstrim_cloned_disks=1", True),
        ("garbage,,", False),
    ],
)
def test_when_a_backup_may_freeze_the_guest(agent: str, freeze: bool) -> None:
    assert _agent_enabled(VmConfig.parse(100, f"agent: {agent}\n")) is freeze
