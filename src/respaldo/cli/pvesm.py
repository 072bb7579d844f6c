"""``respaldo pvesm ...``: storage commands with Proxmox's verbs and option names.

Each verb is built from the parameter schema of its service method (``services/pvesm.py``);
this module only prints.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from typing import cast

from respaldo.cli.commands import Command, register_commands
from respaldo.cli.output import OUTPUT_FORMAT, emit, print_table
from respaldo.config.prune import PRUNE_SCHEMA, format_prune_backups
from respaldo.config.schema import print_property_string
from respaldo.node import Node
from respaldo.services import pvesm
from respaldo.services.pvesm import StorageManager
from respaldo.services.taskwork import ENTRY
from respaldo.tasks.worker import run_foreground

KIB = 1024


def _fmt(params: dict[str, object]) -> str:
    return str(params.get("output-format", "text"))


def _opt(params: dict[str, object], key: str) -> str | None:
    value = params.get(key)
    return None if value is None else str(value)


def cmd_status(params: dict[str, object], node: Node) -> None:
    statuses = StorageManager(node).status(_opt(params, "storage"))
    rows = []
    for s in statuses:
        share = 100 * s.used / s.total if s.total else 0.0
        rows.append(
            [
                s.storage,
                s.type,
                "active" if s.active else "inactive",
                s.total // KIB,
                s.used // KIB,
                s.available // KIB,
                f"{share:.2f}%",
            ]
        )
    emit(
        _fmt(params),
        [asdict(s) for s in statuses],
        lambda: print_table(
            ["Name", "Type", "Status", "Total", "Used", "Available", "%"],
            rows,
            right=[False, False, False, True, True, True, True],
        ),
    )


def cmd_list(params: dict[str, object], node: Node) -> None:
    vmid = cast("int | None", params.get("vmid"))
    volumes = StorageManager(node).list(str(params["storage"]), _opt(params, "content"), vmid)
    rows = [[v.volid, v.format, v.content, v.size, v.vmid or ""] for v in volumes]
    emit(
        _fmt(params),
        [asdict(v) for v in volumes],
        lambda: print_table(
            ["Volid", "Format", "Type", "Size", "VMID"],
            rows,
            right=[False, False, False, True, True],
        ),
    )


def cmd_add(params: dict[str, object], node: Node) -> None:
    StorageManager(node).add_dir(
        str(params["storage"]),
        str(params["path"]),
        _opt(params, "content"),
        _opt(params, "prune-backups"),
    )


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


def cmd_set(params: dict[str, object], node: Node) -> None:
    StorageManager(node).set_backup(
        str(params["volume"]),
        notes=_opt(params, "notes"),
        protected=cast("bool | None", params.get("protected")),
    )


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
    Command("add", "add a storage", pvesm.ADD_PARAMS, cmd_add, ("type", "storage")),
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
        "set the notes or the protection of a backup",
        pvesm.SET_PARAMS,
        cmd_set,
        ("volume",),
    ),
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    register_commands(sub, "pvesm", "manage storages and volumes", COMMANDS)
