"""``respaldo qm ...``: VM commands with Proxmox's verbs and option names.

Each verb is built from the parameter schema of its service method (``services/qmconfig.py``,
``services/qmpower.py``); this module only prints.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import cast

from respaldo.cli.commands import Command, register_commands
from respaldo.cli.output import OUTPUT_FORMAT, emit, print_table
from respaldo.config.pvetext import encode_text
from respaldo.config.schema import boolean
from respaldo.node import Node
from respaldo.services import qmconfig, qmpower
from respaldo.services.qmconfig import VmConfigService
from respaldo.services.qmpower import VmPower, VmStatusInfo
from respaldo.tasks.context import PrintContext

MIB = 1 << 20
VERBOSE = boolean("verbose", "Verbose output format.", default=False)


def _status_json(info: VmStatusInfo) -> dict[str, object]:
    data = asdict(info)
    data["status"] = info.status.value
    return data


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


def cmd_list(params: dict[str, object], node: Node) -> None:
    infos = VmPower(node).list()
    rows = [
        [i.vmid, i.name, i.status.value, i.memory_mib, f"{i.maxdisk / (1 << 30):.2f}", i.pid or 0]
        for i in infos
    ]
    emit(
        _fmt(params),
        [_status_json(i) for i in infos],
        lambda: print_table(
            ["VMID", "NAME", "STATUS", "MEM(MB)", "BOOTDISK(GB)", "PID"],
            rows,
            right=[True, False, False, True, True, True],
        ),
    )


def cmd_status(params: dict[str, object], node: Node) -> None:
    info = VmPower(node).status(_vmid(params))

    def text() -> None:
        print(f"status: {info.status.value}")
        if params.get("verbose"):
            for key, value in _status_json(info).items():
                print(f"{key}: {value}")

    emit(_fmt(params), _status_json(info), text)


def cmd_start(params: dict[str, object], node: Node) -> None:
    VmPower(node).start(_vmid(params), skiplock=_skiplock(params), ctx=PrintContext())


def cmd_stop(params: dict[str, object], node: Node) -> None:
    timeout = cast(int, params.get("timeout", 10))
    VmPower(node).stop(_vmid(params), timeout=timeout, skiplock=_skiplock(params))


def cmd_shutdown(params: dict[str, object], node: Node) -> None:
    VmPower(node).shutdown(
        _vmid(params),
        timeout=cast(int, params.get("timeout", 60)),
        force_stop=bool(params.get("forceStop", True)),
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
