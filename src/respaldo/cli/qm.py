"""``respaldo qm ...``: VM commands with Proxmox's verbs and option names."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from respaldo.cli.output import FORMATS, emit, print_table
from respaldo.cli.pairs import parse_pairs
from respaldo.config.ids import check_vmid
from respaldo.node import Node
from respaldo.services.qm import VmManager, VmStatusInfo

MIB = 1 << 20


def _status_json(info: VmStatusInfo) -> dict[str, object]:
    data = asdict(info)
    data["status"] = info.status.value
    return data


def cmd_create(args: argparse.Namespace, node: Node) -> None:
    VmManager(node).create(check_vmid(args.vmid), parse_pairs(args.options))


def cmd_set(args: argparse.Namespace, node: Node) -> None:
    options = parse_pairs(args.options)
    delete = [k for k in options.pop("delete", "").split(",") if k]
    skiplock = options.pop("skiplock", "0") == "1"
    VmManager(node).set(check_vmid(args.vmid), options, delete, skiplock)


def cmd_config(args: argparse.Namespace, node: Node) -> None:
    config = VmManager(node).config(check_vmid(args.vmid))
    data = dict(sorted(config.as_dict().items()))
    if config.description:
        data = {"description": config.description, **data}

    def text() -> None:
        for key, value in data.items():
            print(f"{key}: {value}")

    emit(args.output_format, data, text)


def cmd_list(args: argparse.Namespace, node: Node) -> None:
    infos = VmManager(node).list()
    rows = [
        [i.vmid, i.name, i.status.value, i.memory_mib, f"{i.maxdisk / (1 << 30):.2f}", i.pid or 0]
        for i in infos
    ]
    emit(
        args.output_format,
        [_status_json(i) for i in infos],
        lambda: print_table(
            ["VMID", "NAME", "STATUS", "MEM(MB)", "BOOTDISK(GB)", "PID"],
            rows,
            right=[True, False, False, True, True, True],
        ),
    )


def cmd_status(args: argparse.Namespace, node: Node) -> None:
    info = VmManager(node).status(check_vmid(args.vmid))

    def text() -> None:
        print(f"status: {info.status.value}")
        if args.verbose:
            for key, value in _status_json(info).items():
                print(f"{key}: {value}")

    emit(args.output_format, _status_json(info), text)


def cmd_start(args: argparse.Namespace, node: Node) -> None:
    VmManager(node).start(check_vmid(args.vmid), skiplock=args.skiplock)


def cmd_stop(args: argparse.Namespace, node: Node) -> None:
    VmManager(node).stop(check_vmid(args.vmid), timeout=args.timeout, skiplock=args.skiplock)


def cmd_shutdown(args: argparse.Namespace, node: Node) -> None:
    clean = VmManager(node).shutdown(
        check_vmid(args.vmid),
        timeout=args.timeout,
        force_stop=bool(args.forceStop),
        skiplock=args.skiplock,
    )
    if not clean:
        print(f"VM {args.vmid} did not shut down within {args.timeout} seconds: stopped hard")


def cmd_suspend(args: argparse.Namespace, node: Node) -> None:
    VmManager(node).suspend(check_vmid(args.vmid), skiplock=args.skiplock)


def cmd_resume(args: argparse.Namespace, node: Node) -> None:
    VmManager(node).resume(check_vmid(args.vmid), skiplock=args.skiplock)


def cmd_destroy(args: argparse.Namespace, node: Node) -> None:
    VmManager(node).destroy(check_vmid(args.vmid), skiplock=args.skiplock)


def cmd_unlock(args: argparse.Namespace, node: Node) -> None:
    VmManager(node).unlock(check_vmid(args.vmid))


def cmd_resize(args: argparse.Namespace, node: Node) -> None:
    VmManager(node).resize(check_vmid(args.vmid), args.disk, args.size, skiplock=args.skiplock)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    qm = sub.add_parser("qm", help="manage virtual machines")
    verbs = qm.add_subparsers(dest="verb", required=True, metavar="COMMAND")

    def verb(
        name: str,
        func: object,
        help_text: str,
        vmid: bool = True,
        skiplock: bool = True,
        output: bool = False,
    ) -> argparse.ArgumentParser:
        p = verbs.add_parser(name, help=help_text)
        if vmid:
            p.add_argument("vmid", help="the VM id (100..999999999)")
        if skiplock:
            p.add_argument(
                "--skiplock",
                type=int,
                choices=(0, 1),
                default=0,
                help="ignore a config lock (root only in Proxmox)",
            )
        if output:
            p.add_argument("--output-format", choices=FORMATS, default="text")
        p.set_defaults(func=func)
        return p

    for name, func, text in (
        ("create", cmd_create, "create a VM"),
        ("set", cmd_set, "change VM options"),
    ):
        p = verbs.add_parser(
            name,
            help=text,
            description=(
                f"{text}; options as in Proxmox: --name, --memory, --cores, --sockets, --agent, "
                "--args, --smbios1, --vmgenid, --boot, --cdrom, --netN virtio[,bridge=vmbr0], "
                "--scsiN|--virtioN|--sataN|--ideN <storage>:<GiB> or a volume id"
            ),
        )
        p.add_argument("vmid")
        p.add_argument(
            "options",
            nargs=argparse.REMAINDER,
            help="--<option> <value> pairs"
            + ("; --delete a,b removes options; --skiplock 1" if name == "set" else ""),
        )
        p.set_defaults(func=func)

    verb("config", cmd_config, "show the VM configuration", skiplock=False, output=True)
    p = verb("list", cmd_list, "list VMs", vmid=False, skiplock=False, output=True)
    p = verb("status", cmd_status, "show VM status", skiplock=False, output=True)
    p.add_argument("--verbose", type=int, choices=(0, 1), default=0)
    verb("start", cmd_start, "start a VM")
    p = verb("stop", cmd_stop, "stop a VM hard (like pulling the plug)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for QEMU to end")
    p = verb("shutdown", cmd_shutdown, "shut a VM down through ACPI")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (default 60)")
    p.add_argument(
        "--forceStop",
        type=int,
        choices=(0, 1),
        default=1,
        help="stop hard when the guest has not shut down in time (default 1)",
    )
    verb("suspend", cmd_suspend, "pause a VM's CPUs")
    verb("resume", cmd_resume, "resume a paused VM")
    verb("destroy", cmd_destroy, "destroy a stopped VM and free its disks")
    verb("unlock", cmd_unlock, "remove a config lock", skiplock=False)
    p = verb("resize", cmd_resize, "grow a disk: +1G grows by, 10G grows to")
    p.add_argument("disk")
    p.add_argument("size")
