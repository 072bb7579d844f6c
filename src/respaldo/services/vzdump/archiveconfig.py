"""The ``qemu-server.conf`` stored inside a VMA archive (see vma-format.md)."""

from __future__ import annotations

import copy

from respaldo.config.keyvalue import KeyValueFile
from respaldo.config.vmconfig import UNUSED_KEY, Drive, VmConfig

DROPPED_KEYS = ("lock", "parent")


def qmdump_map_line(drive: Drive, fmt: str) -> str:
    """``#qmdump#map:<key>:<device>:<storage>:<format>:`` (``drive-tpmstate0-backup`` is the
    device of ``tpmstate0``)."""
    storage = drive.volume.partition(":")[0] if ":" in drive.volume else ""
    return f"#qmdump#map:{drive.key}:{drive.backup_device}:{storage}:{fmt}:"


def archive_config(config: VmConfig, included: list[tuple[Drive, str]]) -> str:
    """The VM config without snapshots, pending changes, lock, parent and unusedN, plus one
    ``#qmdump#map`` line per disk in the archive (``included``: drive and its image format)."""
    main = copy.deepcopy(config.data.main)
    for key in list(main.keys()):
        if key in DROPPED_KEYS or UNUSED_KEY.match(key):
            main.delete(key)
    text = KeyValueFile(main=main).format()
    return text + "".join(qmdump_map_line(drive, fmt) + "\n" for drive, fmt in included)
