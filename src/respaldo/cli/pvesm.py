"""``respaldo pvesm ...``: storage commands with Proxmox's verbs and option names.

Each verb is built from the parameter schema of its service method (``services/pvesm.py``);
this module only prints.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from typing import cast

from respaldo.api.rows import storage_row, volume_row
from respaldo.cli.commands import Command, register_commands
from respaldo.cli.output import OUTPUT_FORMAT, emit, print_table
from respaldo.config.ids import is_volume_id
from respaldo.config.prune import PRUNE_SCHEMA, format_prune_backups
from respaldo.config.schema import print_property_string
from respaldo.errors import InputError
from respaldo.node import Node
from respaldo.services import pvesm
from respaldo.services.pvesm import StorageManager
from respaldo.services.taskwork import ENTRY
from respaldo.storage.base import StorageStatus, VolumeInfo
from respaldo.tasks.worker import run_foreground

KIB = 1024


def _fmt(params: dict[str, object]) -> str:
    return str(params.get("output-format", "text"))


def _opt(params: dict[str, object], key: str) -> str | None:
    value = params.get(key)
    return None if value is None else str(value)


def _print_status(statuses: list[StorageStatus]) -> None:
    """pve-storage ``pvesm status``'s columns (sizes in KiB, sorted by name); a disabled
    storage shows ``disabled`` and ``N/A``."""
    width = max((len(s.storage) for s in statuses), default=0) + 1
    print(
        f"{'Name':<{width}} {'Type':>10} {'Status':>10} {'Total (KiB)':>15} "
        f"{'Used (KiB)':>15} {'Available (KiB)':>15} {'%':>8}"
    )
    for s in sorted(statuses, key=lambda s: s.storage):
        state = "active" if s.active else "inactive"
        share = f"{100 * s.used / s.total if s.total > 0 else 0: 7.2f}%"
        if not s.enabled:
            state, share = "disabled", f"{'N/A':>8}"
        print(
            f"{s.storage:<{width}} {s.type:>10} {state:>10} {s.total // KIB:>15} "
            f"{s.used // KIB:>15} {s.available // KIB:>15} {share}"
        )


def cmd_status(params: dict[str, object], node: Node) -> None:
    statuses = StorageManager(node).status(_opt(params, "storage"))
    rows = [storage_row(s) for s in sorted(statuses, key=lambda s: s.storage)]
    emit(_fmt(params), rows, lambda: _print_status(statuses))


def _print_list(volumes: list[VolumeInfo]) -> None:
    """pve-storage ``pvesm list``'s columns: the volumes of a guest first, then the others
    by format."""
    width = max((len(v.volid) for v in volumes), default=0)
    digits = len(str(max((v.size for v in volumes), default=0)))

    def line(volid: str, fmt: str, content: str, size: object) -> str:
        return f"{volid:<{width}} {fmt:<7} {content:<9} {size!s:>{digits}}"

    print(line("Volid", "Format", "Type", "Size") + " VMID")
    for v in volumes:
        if v.vmid:
            print(line(v.volid, v.format, v.content, v.size) + f" {v.vmid}")
    for v in sorted(volumes, key=lambda v: v.format):
        if not v.vmid:
            print(line(v.volid, v.format, v.content, v.size))


def cmd_list(params: dict[str, object], node: Node) -> None:
    vmid = cast("int | None", params.get("vmid"))
    volumes = StorageManager(node).list(str(params["storage"]), _opt(params, "content"), vmid)
    emit(_fmt(params), [volume_row(v) for v in volumes], lambda: _print_list(volumes))


def cmd_add(given: dict[str, object], node: Node) -> None:
    options = {key: str(value) for key, value in given.items()}
    kind, storage = options.pop("type"), options.pop("storage")
    StorageManager(node).add(storage, kind, options)


def cmd_set(given: dict[str, object], node: Node) -> None:
    """``pvesm set <storage>``: a storage's options, as Proxmox's. A backup's notes and
    protection are ``pvesh set /nodes/<node>/storage/<storage>/content/<volume>``."""
    options = {key: str(value) for key, value in given.items()}
    storage = options.pop("storage")
    if is_volume_id(storage):
        raise InputError(
            "storage",
            storage,
            "pvesm set changes a storage; set a backup's notes or protection with "
            f"'respaldo pvesh set /nodes/{node.name}/storage/{storage.partition(':')[0]}"
            f"/content/{storage} --notes <text> --protected 1'",
        )
    delete = [key for key in re.split(r"[,;\s]+", options.pop("delete", "")) if key]
    digest = options.pop("digest", None)
    StorageManager(node).update(storage, options, delete, digest)


def cmd_prune_backups(params: dict[str, object], node: Node) -> None:
    """``pvesm prune-backups``: a preview with ``--dry-run``, else a ``prunebackups`` task in
    the foreground, as Proxmox's (the keep-* options given, else the storage's retention)."""
    manager = StorageManager(node)
    storage = str(params["storage"])
    keep = {k: v for k, v in params.items() if k in PRUNE_SCHEMA}
    given = print_property_string(keep) if keep else None
    retention = manager.retention(storage, given)
    vmid = cast("int | None", params.get("vmid"))
    kind = _opt(params, "type") or "qemu"
    if params.get("dry-run"):
        rows = [
            [
                r.volid,
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.ctime)),
                r.mark,
                r.reason or "",
            ]
            for r in manager.prune_preview(storage, retention, vmid, kind)
        ]
        print_table(["Backup-ID", "Time", "Mark", "Kept by"], rows)
        return
    task: dict[str, object] = {
        "storage": storage,
        "prune_backups": format_prune_backups(retention),
        "type": kind,
    }
    if vmid is not None:
        task["vmid"] = vmid
    code = run_foreground(node, "prunebackups", storage, "root@pam", f"{ENTRY}:prunebackups", task)
    if code:
        raise SystemExit(code)


def cmd_remove(params: dict[str, object], node: Node) -> None:
    StorageManager(node).remove(str(params["storage"]))


def cmd_alloc(params: dict[str, object], node: Node) -> None:
    volid = StorageManager(node).alloc(
        str(params["storage"]),
        cast(int, params["vmid"]),
        str(params["filename"]),
        str(params["size"]),
        _opt(params, "format"),
    )
    print(f"successfully created '{volid}'")


def cmd_free(params: dict[str, object], node: Node) -> None:
    StorageManager(node).free(str(params["volume"]))


def cmd_path(params: dict[str, object], node: Node) -> None:
    print(StorageManager(node).path(str(params["volume"])))


def cmd_extractconfig(params: dict[str, object], node: Node) -> None:
    text = StorageManager(node).extract_config(str(params["volume"]))
    sys.stdout.write(text if not text or text.endswith("\n") else text + "\n")


COMMANDS = (
    Command(
        "status",
        "storage status (sizes in KiB)",
        pvesm.STATUS_PARAMS.extend(OUTPUT_FORMAT),
        cmd_status,
    ),
    Command(
        "list",
        "list the volumes of a storage (backups newest first)",
        pvesm.LIST_PARAMS.extend(OUTPUT_FORMAT),
        cmd_list,
        ("storage",),
    ),
    Command(
        "add",
        "create a new storage",
        pvesm.ADD_PARAMS,
        cmd_add,
        ("type", "storage"),
        checked=False,
    ),
    Command(
        "prune-backups",
        "prune backups by retention rules (--dry-run shows each mark and the rule)",
        pvesm.PRUNE_PARAMS,
        cmd_prune_backups,
        ("storage",),
    ),
    Command(
        "remove",
        "remove a storage from the configuration (files stay)",
        pvesm.REMOVE_PARAMS,
        cmd_remove,
        ("storage",),
    ),
    Command(
        "alloc",
        "allocate a disk image (size in KiB, or with K/M/G/T)",
        pvesm.ALLOC_PARAMS,
        cmd_alloc,
        ("storage", "vmid", "filename", "size"),
    ),
    Command(
        "free",
        "delete a volume (a backup with its log, notes and digest; not if protected)",
        pvesm.FREE_PARAMS,
        cmd_free,
        ("volume",),
    ),
    Command("path", "the file path of a volume", pvesm.PATH_PARAMS, cmd_path, ("volume",)),
    Command(
        "extractconfig",
        "print the VM configuration stored in a backup archive",
        pvesm.EXTRACTCONFIG_PARAMS,
        cmd_extractconfig,
        ("volume",),
    ),
    Command(
        "set",
        "update storage configuration",
        pvesm.UPDATE_PARAMS,
        cmd_set,
        ("storage",),
        checked=False,
    ),
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    register_commands(sub, "pvesm", "manage storages and volumes", COMMANDS)
