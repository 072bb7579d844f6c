"""``respaldo qm ...``: VM commands with Proxmox's verbs and option names.

Each verb is built from the parameter schema of its service method (``services/qmconfig.py``,
``services/qmpower.py``); this module only prints.
"""

from __future__ import annotations

import argparse
from typing import cast

from respaldo.api.rows import vm_row, vm_status_row
from respaldo.cli.commands import Command, register_commands
from respaldo.cli.output import OUTPUT_FORMAT, emit
from respaldo.config.pvetext import encode_text
from respaldo.config.schema import boolean
from respaldo.node import Node
from respaldo.services import qmconfig, qmpower
from respaldo.services.qmconfig import VmConfigService
from respaldo.services.qmpower import VmPower, VmStatusInfo
from respaldo.services.vmstore import VmStore
from respaldo.tasks.context import PrintContext

GIB = 1 << 30
LIST_HEADER = ("VMID", "NAME", "STATUS", "MEM(MB)", "BOOTDISK(GB)", "PID")
VERBOSE = boolean("verbose", "Verbose output format.", default=False)


def _fmt(params: dict[str, object]) -> str:
    return str(params.get("output-format", "text"))


def _vmid(params: dict[str, object]) -> int:
    return cast(int, params["vmid"])


def _skiplock(params: dict[str, object]) -> bool:
    return bool(params.get("skiplock", False))


def _options(params: dict[str, object], *drop: str) -> dict[str, object]:
    return {k: v for k, v in params.items() if k not in {"vmid", "skiplock", *drop}}


def cmd_create(params: dict[str, object], node: Node) -> None:
    VmConfigService(node).create(_vmid(params), _options(params))


def cmd_set(params: dict[str, object], node: Node) -> None:
    delete = [k for k in str(params.get("delete", "")).replace(";", ",").split(",") if k]
    VmConfigService(node).set(_vmid(params), _options(params, "delete"), delete, _skiplock(params))


def cmd_config(params: dict[str, object], node: Node) -> None:
    config = VmConfigService(node).config(_vmid(params))
    data = config.as_dict()
    data.pop("description", None)
    if config.description:
        data["description"] = config.description
    data = dict(sorted(data.items()))

    def text() -> None:
        # As PVE/CLI/qm.pm prints it: one line per key, the description encoded again so
        # that it stays on its line (the JSON output has the decoded text).
        for key, value in data.items():
            print(f"{key}: {encode_text(value) if key == 'description' else value}")

    emit(_fmt(params), data, text)


def _print_list(infos: list[VmStatusInfo]) -> None:
    """qemu-server ``qm list``'s fixed columns, byte for byte (an empty list prints nothing)."""
    if not infos:
        return
    vmid, name, status, mem, disk, pid = LIST_HEADER
    print(f"{vmid:>10} {name:<20} {status:<10} {mem:<10} {disk:>12} {pid:<10}")
    for info in sorted(infos, key=lambda i: i.vmid):
        status = info.qmpstatus if info.pid is not None else info.status.value
        print(
            f"{info.vmid:>10} {info.name:<20} {status:<10} {info.memory_mib!s:<10} "
            f"{info.maxdisk / GIB:>12.2f} {info.pid or 0!s:<10}"
        )


def cmd_list(params: dict[str, object], node: Node) -> None:
    infos = VmPower(node).list()
    emit(_fmt(params), [vm_row(i) for i in infos], lambda: _print_list(infos))


def _print_status(row: dict[str, object], verbose: bool) -> None:
    """``status: <qmpstatus>``, or with ``verbose`` every key sorted, once (qemu-server
    ``qm status``: nested values indented by a tab; ``cpu`` left out, always 0)."""
    if not verbose:
        print(f"status: {row.get('qmpstatus') or 'unknown'}")
        return
    for key in sorted(row):
        if key not in ("cpu", "relcpu"):
            _print_nested("", key, row[key])


def _print_nested(prefix: str, key: str, value: object) -> None:
    if isinstance(value, dict):
        print(f"{prefix}{key}:")
        for inner in sorted(value):
            _print_nested(prefix + "\t", inner, value[inner])
    elif value is not None:
        print(f"{prefix}{key}: {value}")


def cmd_status(params: dict[str, object], node: Node) -> None:
    vmid = _vmid(params)
    row = vm_status_row(VmPower(node).status(vmid), VmStore(node).load(vmid))
    verbose = bool(params.get("verbose"))
    if verbose:
        row.pop("ha", None)  # Proxmox's verbose status is the VM's, not the API's
    emit(_fmt(params), row, lambda: _print_status(row, verbose))


def cmd_start(params: dict[str, object], node: Node) -> None:
    VmPower(node).start(_vmid(params), skiplock=_skiplock(params), ctx=PrintContext())


def cmd_stop(params: dict[str, object], node: Node) -> None:
    timeout = cast(int, params.get("timeout", 10))
    VmPower(node).stop(_vmid(params), timeout=timeout, skiplock=_skiplock(params))


def cmd_shutdown(params: dict[str, object], node: Node) -> None:
    VmPower(node).shutdown(
        _vmid(params),
        timeout=cast("int | None", params.get("timeout")),
        force_stop=bool(params.get("forceStop", False)),
        skiplock=_skiplock(params),
        ctx=PrintContext(),
    )


def cmd_suspend(params: dict[str, object], node: Node) -> None:
    VmPower(node).suspend(_vmid(params), skiplock=_skiplock(params))


def cmd_resume(params: dict[str, object], node: Node) -> None:
    VmPower(node).resume(_vmid(params), skiplock=_skiplock(params))


def cmd_destroy(params: dict[str, object], node: Node) -> None:
    VmConfigService(node).destroy(_vmid(params), skiplock=_skiplock(params))


def cmd_unlock(params: dict[str, object], node: Node) -> None:
    VmConfigService(node).unlock(_vmid(params))


def cmd_resize(params: dict[str, object], node: Node) -> None:
    VmConfigService(node).resize(
        _vmid(params), str(params["disk"]), str(params["size"]), skiplock=_skiplock(params)
    )


VMID = ("vmid",)
COMMANDS = (
    Command("create", "create a VM", qmconfig.CREATE_PARAMS, cmd_create, VMID),
    Command("set", "change VM options", qmconfig.SET_PARAMS, cmd_set, VMID),
    Command(
        "config",
        "show the VM configuration",
        qmconfig.CONFIG_PARAMS.extend(OUTPUT_FORMAT),
        cmd_config,
        VMID,
    ),
    Command("list", "list VMs", qmpower.LIST_PARAMS.extend(OUTPUT_FORMAT), cmd_list),
    Command(
        "status",
        "show VM status",
        qmpower.STATUS_PARAMS.extend(VERBOSE, OUTPUT_FORMAT),
        cmd_status,
        VMID,
    ),
    Command("start", "start a VM", qmpower.START_PARAMS, cmd_start, VMID),
    Command("stop", "stop a VM hard (like pulling the plug)", qmpower.STOP_PARAMS, cmd_stop, VMID),
    Command("shutdown", "shut a VM down through ACPI", qmpower.SHUTDOWN_PARAMS, cmd_shutdown, VMID),
    Command("suspend", "pause a VM's CPUs", qmpower.SUSPEND_PARAMS, cmd_suspend, VMID),
    Command("resume", "resume a paused VM", qmpower.RESUME_PARAMS, cmd_resume, VMID),
    Command(
        "destroy",
        "destroy a stopped VM and free its disks",
        qmconfig.DESTROY_PARAMS,
        cmd_destroy,
        VMID,
    ),
    Command("unlock", "remove a config lock", qmconfig.UNLOCK_PARAMS, cmd_unlock, VMID),
    Command(
        "resize",
        "grow a disk: +1G grows by, 10G grows to",
        qmconfig.RESIZE_PARAMS,
        cmd_resize,
        ("vmid", "disk", "size"),
    ),
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    register_commands(sub, "qm", "manage virtual machines", COMMANDS)
