"""Build the ``qemu-system-x86_64`` command line of a VM from its config (pure, no I/O).

Block devices are ``-blockdev`` nodes with stable names so that backup can address them:
the protocol node is ``file-<key>`` and the format node ``drive-<key>``, which is also the
device name a VMA archive uses for that disk.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from respaldo.config.vmconfig import Drive, NetDevice, VmConfig

NET_DEVICE_MODELS = {
    "virtio": "virtio-net-pci",
    "e1000": "e1000",
    "rtl8139": "rtl8139",
    "vmxnet3": "vmxnet3",
}


@dataclass(frozen=True)
class RuntimePaths:
    pidfile: Path
    qmp: Path
    qmp_job: Path  # a second monitor for long jobs (backup), so status queries never wait
    qga: Path
    serial_log: Path


@dataclass(frozen=True)
class ResolvedDrive:
    drive: Drive
    path: Path | None  # None: an empty CD-ROM drive
    format: str


def format_node(key: str) -> str:
    return f"drive-{key}"


def file_node(key: str) -> str:
    return f"file-{key}"


def _blockdev(rd: ResolvedDrive) -> list[str]:
    assert rd.path is not None
    read_only = rd.drive.is_cdrom
    proto = {
        "driver": "file",
        "filename": str(rd.path),
        "node-name": file_node(rd.drive.key),
        "read-only": read_only,
        "discard": "unmap",
    }
    fmt = {
        "driver": rd.format,
        "node-name": format_node(rd.drive.key),
        "file": file_node(rd.drive.key),
        "read-only": read_only,
        "discard": "unmap",
    }
    return ["-blockdev", json.dumps(proto), "-blockdev", json.dumps(fmt)]


def _device(rd: ResolvedDrive, bootindex: int | None) -> str:
    drive, key = rd.drive, rd.drive.key
    disk_or_cd = "cd" if drive.is_cdrom else "hd"
    if drive.bus == "scsi":
        model = f"scsi-{disk_or_cd},bus=scsihw0.0,channel=0,scsi-id={drive.index},lun=0"
    elif drive.bus == "virtio":
        model = "virtio-blk-pci"
    elif drive.bus == "sata":
        model = f"ide-{disk_or_cd},bus=ahci0.{drive.index}"
    else:
        model = f"ide-{disk_or_cd},bus=ide.{drive.index // 2},unit={drive.index % 2}"
    parts = [model, f"id={key}"]
    if rd.path is not None:
        parts.append(f"drive={format_node(key)}")
    if bootindex is not None:
        parts.append(f"bootindex={bootindex}")
    return ",".join(parts)


def _net(net: NetDevice, bootindex: int | None) -> list[str]:
    device = f"{NET_DEVICE_MODELS[net.model]},netdev={net.key},mac={net.mac},id={net.key}"
    if bootindex is not None:
        device += f",bootindex={bootindex}"
    # Bridges of the config (bridge=vmbr0) are not set up by respaldo: user-mode networking
    # gives the guest outbound access without touching the host's network.
    return ["-netdev", f"user,id={net.key}", "-device", device]


def build_argv(
    qemu: str,
    config: VmConfig,
    drives: list[ResolvedDrive],
    paths: RuntimePaths,
    kvm: bool,
    paused: bool = False,
) -> list[str]:
    boot = {key: n for n, key in enumerate(config.boot_order(), start=100)}
    argv = [
        qemu,
        "-name",
        f"{config.name},debug-threads=on",
        "-nodefaults",
        "-daemonize",
        "-pidfile",
        str(paths.pidfile),
        "-qmp",
        f"unix:{paths.qmp},server=on,wait=off",
        "-qmp",
        f"unix:{paths.qmp_job},server=on,wait=off",
        "-machine",
        "pc",
        "-accel",
        "kvm" if kvm else "tcg",
        "-m",
        str(config.memory),
        "-smp",
        f"{config.cores * config.sockets},sockets={config.sockets},cores={config.cores}",
        "-display",
        "none",
        "-vga",
        "std",
        "-chardev",
        f"file,id=serial0,path={paths.serial_log}",
        "-serial",
        "chardev:serial0",
    ]
    if paused:
        argv.append("-S")
    if any(rd.drive.bus == "scsi" for rd in drives):
        argv += ["-device", "virtio-scsi-pci,id=scsihw0"]
    if any(rd.drive.bus == "sata" for rd in drives):
        argv += ["-device", "ahci,id=ahci0"]
    for rd in drives:
        if rd.path is not None:
            argv += _blockdev(rd)
        argv += ["-device", _device(rd, boot.get(rd.drive.key))]
    for net in config.nets():
        argv += _net(net, boot.get(net.key))
    argv += _identity(config)
    if config.get("agent", "0").split(",")[0] in ("1", "enabled=1"):  # type: ignore[union-attr]
        argv += [
            "-chardev",
            f"socket,path={paths.qga},server=on,wait=off,id=qga0",
            "-device",
            "virtio-serial,id=qga0-serial",
            "-device",
            "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
        ]
    extra = config.get("args")
    if extra:
        argv += shlex.split(extra)
    return argv


# QEMU serves each NBD read of a backup from a freshly allocated bounce buffer of the request
# size (MiBs). glibc hands such sizes out with mmap and trims them back, so every request
# page-faults its buffer in again: measured here, half of QEMU's CPU time during a backup
# (1.55 CPU-s to serve 1.36 GB; 0.74 with these thresholds). Guest RAM is mapped by QEMU
# itself and not affected; the heap may keep up to 64 MiB of freed buffers.
QEMU_MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=67108864"


def qemu_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The environment QEMU starts with: ``base`` plus the malloc thresholds above (settings
    the caller gave in GLIBC_TUNABLES come later, so they win)."""
    env = dict(base)
    own = env.get("GLIBC_TUNABLES")
    env["GLIBC_TUNABLES"] = f"{QEMU_MALLOC_TUNABLES}:{own}" if own else QEMU_MALLOC_TUNABLES
    return env


def _identity(config: VmConfig) -> list[str]:
    argv = []
    smbios = config.get("smbios1")
    if smbios:
        argv += ["-smbios", f"type=1,{smbios}"]
    vmgenid = config.get("vmgenid")
    if vmgenid and vmgenid != "0":
        argv += ["-device", f"vmgenid,guid={vmgenid}"]
    return argv
