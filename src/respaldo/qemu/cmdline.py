"""Build the ``qemu-system-x86_64`` command line of a VM from its config (pure, no I/O).

What each key becomes follows qemu-server's ``config_to_command`` (``PVE/QemuServer.pm``) and
the modules it calls: the machine (:mod:`respaldo.qemu.machine`), the CPU
(:mod:`respaldo.qemu.cpu`), OVMF and its EFI disk (``OVMF.pm``), the TPM (``add_tpm_device``),
the disk controllers and devices (``DriveDevice.pm``), the VGA card, the USB tablet, the
balloon, watchdog and RNG devices. Keys that respaldo cannot apply are refused before (see
:mod:`respaldo.qemu.support`).

Block devices are ``-blockdev`` nodes with stable names so that backup can address them: the
protocol node is ``file-<key>`` and the format node ``drive-<key>``, which is also the device
name a VMA archive uses for that disk. The EFI disk is ``drive-efidisk0`` (pflash1, beside the
firmware code ``pflash0``), as in Proxmox.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from respaldo.config.drive import Drive
from respaldo.config.vmconfig import NetDevice, VmConfig
from respaldo.config.vmformats import (
    AGENT_FORMAT,
    BOOT_FORMAT,
    RNG_FORMAT,
    SMBIOS1_FORMAT,
    VGA_FORMAT,
    WATCHDOG_FORMAT,
)
from respaldo.errors import InputError
from respaldo.qemu import firmware
from respaldo.qemu.cpu import CpuContext, cpu_argument
from respaldo.qemu.firmware import OvmfImages
from respaldo.qemu.machine import Machine, resolve_machine, windows_version

_VGA_DEVICES = {
    "std": "VGA",
    "cirrus": "cirrus-vga",
    "vmware": "vmware-svga",
    "virtio": "virtio-vga",
}
_MAX_SATA = 6


@dataclass(frozen=True)
class RuntimePaths:
    pidfile: Path
    qmp: Path
    qmp_job: Path  # a second monitor for long jobs (backup), so status queries never wait
    qga: Path
    serial_log: Path
    swtpm_socket: Path
    swtpm_pidfile: Path
    swtpm_log: Path
    efivars: Path  # a VM with bios: ovmf but no efidisk0 runs on a copy of the vars template


@dataclass(frozen=True)
class ResolvedDrive:
    drive: Drive
    path: Path | None  # None: an empty CD-ROM drive
    format: str


@dataclass(frozen=True)
class HostFacts:
    """What the command line depends on besides the config: the installed QEMU's machine
    types and CPU models (:mod:`respaldo.qemu.capabilities`), the OVMF images of a ``bios:
    ovmf`` VM (None otherwise), the host CPU's virtualization flag."""

    machines: Mapping[str, str]
    cpu_models: frozenset[str]
    ovmf: OvmfImages | None = None
    host_virt_flag: str | None = None
    qemu_version: tuple[int, int] = (7, 2)


@dataclass
class _Argv:
    """The command line in parts, assembled in Proxmox's order."""

    head: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)

    def device(self, text: str) -> None:
        self.devices += ["-device", text]


def format_node(key: str) -> str:
    return f"drive-{key}"


def file_node(key: str) -> str:
    return f"file-{key}"


def _truthy(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.lower() in ("1", "on", "yes", "true")


def build_argv(
    qemu: str,
    config: VmConfig,
    drives: list[ResolvedDrive],
    paths: RuntimePaths,
    kvm: bool,
    host: HostFacts,
    paused: bool = False,
) -> list[str]:
    """The argv of the VM; InputError naming the key for a value this QEMU cannot run."""
    values = config.as_dict()
    meta = values.get("meta", "")
    creation = re.search(r"creation-qemu=([\d.]+)", meta)
    created = creation.group(1) if creation else None
    machine = resolve_machine(values, host.machines, created, host.qemu_version)
    argv = _Argv()
    argv.head = [
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
        "-accel",
        "kvm" if kvm else "tcg",
    ]
    argv.head += _identity(values)
    if values.get("bios") == "ovmf":
        _ovmf(argv, machine, config, drives, host.ovmf, paths.efivars)
    argv.head += _cpu_and_memory(config, values, kvm, machine, host)
    argv.head += [
        "-display",
        "none",
        "-chardev",
        f"file,id=serial0,path={paths.serial_log}",
        "-serial",
        "chardev:serial0",
    ]
    if paused or _truthy(values.get("freeze"), False):
        argv.head.append("-S")
    if values.get("keyboard"):
        argv.head += ["-k", values["keyboard"]]
    if not _truthy(values.get("reboot"), True):
        argv.head.append("-no-reboot")
    for flag in machine.globals:
        argv.head += ["-global", flag]
    _devices(argv, config, values, drives, machine, paths)
    result = argv.head + argv.devices
    if machine.rtc:
        result += ["-rtc", ",".join(machine.rtc)]
    result += ["-machine", ",".join([f"type={machine.type}", *machine.properties])]
    extra = values.get("args")
    if extra:
        result += shlex.split(extra)
    return result


def _cpu_and_memory(
    config: VmConfig, values: Mapping[str, str], kvm: bool, machine: Machine, host: HostFacts
) -> list[str]:
    ctx = CpuContext(
        kvm=kvm,
        windows_version=windows_version(values.get("ostype")),
        ostype=values.get("ostype"),
        bios=values.get("bios"),
        machine_version=machine.version,
        host_virt_flag=host.host_virt_flag,
    )
    sockets = config.sockets if "sockets" in values else config.get_int("smp", 1)
    maxcpus = sockets * config.cores
    vcpus = config.get_int("vcpus", maxcpus)
    if vcpus > maxcpus:
        raise InputError("vcpus", vcpus, f"more than sockets * cores ({maxcpus})")
    if not _truthy(values.get("allow-ksm"), True):
        machine.properties.append("mem-merge=off")
    return [
        "-smp",
        f"{vcpus},sockets={sockets},cores={config.cores},maxcpus={maxcpus}",
        "-cpu",
        cpu_argument(values.get("cpu"), ctx, host.cpu_models),
        "-m",
        str(config.memory),
    ]


def _identity(values: Mapping[str, str]) -> list[str]:
    argv = []
    if values.get("smbios1"):
        argv += ["-smbios", smbios_argument(values["smbios1"])]
    return argv


def smbios_argument(value: str) -> str:
    """``type=1,...`` from ``smbios1``: fields sorted, base64 ones decoded (``base64=1``),
    commas doubled, empty ones left out, as ``config_to_command`` does."""
    props = SMBIOS1_FORMAT.parse(value, "smbios1")
    encoded = bool(props.pop("base64", False))
    text = "type=1"
    for key in sorted(props):
        field_value = str(props[key])
        if encoded and key != "uuid":
            try:
                field_value = base64.b64decode(field_value, validate=True).decode(
                    "utf-8", errors="replace"
                )
            except (binascii.Error, ValueError) as err:
                raise InputError("smbios1", value, f"{key} is not valid base64") from err
        if field_value:
            text += f",{key}={field_value.replace(',', ',,')}"
    return text


# -- firmware ------------------------------------------------------------------------------------


def _ovmf(
    argv: _Argv,
    machine: Machine,
    config: VmConfig,
    drives: list[ResolvedDrive],
    images: OvmfImages | None,
    efivars: Path,
) -> None:
    """OVMF as two pflash nodes: the read-only code and the EFI disk (or, without one, a
    copy of the variables template the caller made at ``efivars``)."""
    if images is None:
        raise InputError("bios", "ovmf", "no OVMF images given (a respaldo bug)")
    code = {
        "driver": "raw",
        "file": {"driver": "file", "filename": str(images.code)},
        "node-name": firmware.CODE_NODE,
        "read-only": True,
    }
    efidisk = next((rd for rd in drives if rd.drive.is_efidisk), None)
    if efidisk is None or efidisk.path is None:
        efidisk = ResolvedDrive(Drive("efidisk0", str(efivars), {}), efivars, "raw")
    # Write-back: the firmware rewrites the flash in small pieces (Proxmox bug #3329).
    proto, fmt = _blockdev_nodes(efidisk, writeback=True)
    if efidisk.format == "raw":
        fmt["size"] = images.vars_size  # the volume may be larger than the firmware expects
    for node in (code, proto, fmt):
        argv.head += ["-blockdev", json.dumps(node)]
    machine.properties += [f"pflash0={firmware.CODE_NODE}", f"pflash1={format_node('efidisk0')}"]


# -- block devices -------------------------------------------------------------------------------


def _cache(drive: Drive) -> dict[str, bool]:
    """Proxmox's cache modes as blockdev options; without ``cache=``, respaldo keeps QEMU's
    write-back through the host's page cache (Proxmox uses O_DIRECT, ``cache=none``)."""
    mode = drive.props.get("cache")
    direct = mode in ("none", "directsync")
    return {"direct": direct, "no-flush": mode == "unsafe"}


def _blockdev_nodes(
    rd: ResolvedDrive, writeback: bool = False
) -> tuple[dict[str, object], dict[str, object]]:
    """The protocol and format nodes of a drive (``file-<key>``, ``drive-<key>``)."""
    assert rd.path is not None
    drive = rd.drive
    read_only = drive.is_cdrom or _truthy(drive.props.get("ro"), False)
    common: dict[str, object] = {"read-only": read_only}
    if not drive.is_cdrom:
        discard = drive.props.get("discard") == "on"
        common["discard"] = "unmap" if discard else "ignore"
        zeroes = _truthy(drive.props.get("detect_zeroes"), True)
        common["detect-zeroes"] = ("unmap" if discard else "on") if zeroes else "off"
    caching = {"direct": False, "no-flush": False} if writeback else _cache(drive)
    proto: dict[str, object] = {
        "driver": "file",
        "filename": str(rd.path),
        "node-name": file_node(drive.key),
        "cache": caching,
        **common,
    }
    if drive.props.get("aio"):
        proto["aio"] = drive.props["aio"]
    fmt = {
        "driver": rd.format,
        "node-name": format_node(drive.key),
        "file": file_node(drive.key),
        "cache": caching,
        **common,
    }
    return proto, fmt


def _blockdev(rd: ResolvedDrive) -> list[str]:
    proto, fmt = _blockdev_nodes(rd)
    return ["-blockdev", json.dumps(proto), "-blockdev", json.dumps(fmt)]


def _scsi_controller(scsihw: str, index: int) -> tuple[str, str, int]:
    """(controller id, QEMU device, drives per controller) of SCSI drive ``index``."""
    if scsihw.startswith("lsi"):
        per = 7
    elif scsihw == "virtio-scsi-single":
        per = 1
    else:
        per = 256
    prefix = "virtioscsi" if scsihw == "virtio-scsi-single" else "scsihw"
    model = "virtio-scsi-pci" if scsihw == "virtio-scsi-single" else scsihw
    return f"{prefix}{index // per}", model, per


def _device(rd: ResolvedDrive, values: Mapping[str, str], q35: bool, bootindex: int | None) -> str:
    """The ``-device`` of a drive, its properties in ``print_drivedevice_full``'s order."""
    drive, key = rd.drive, rd.drive.key
    kind = "cd" if drive.is_cdrom else "hd"
    props = drive.props
    attached = [f"drive={format_node(key)}"] if rd.path is not None else []
    parts: list[str]
    if drive.bus == "virtio":
        parts = ["virtio-blk-pci", *attached, f"id={key}"]  # no iothread: see support.notices
    elif drive.bus == "scsi":
        scsihw = values.get("scsihw", "lsi")
        controller, _, per = _scsi_controller(scsihw, drive.index)
        parts = [f"scsi-{kind}", f"bus={controller}.0"]
        if scsihw.startswith("lsi") or scsihw == "pvscsi":
            parts.append(f"scsi-id={drive.index % per}")
        else:
            parts += ["channel=0", "scsi-id=0", f"lun={drive.index}"]
        parts += [*attached, f"id={key}", *_disk_identity(drive, kind)]
        parts += [f"{name}={props[name]}" for name in ("vendor", "product") if props.get(name)]
    else:
        if drive.bus == "sata":
            parts = [f"ide-{kind}", f"bus=ahci{drive.index // _MAX_SATA}.{drive.index % _MAX_SATA}"]
        else:
            port, unit = drive.index // 2, drive.index % 2
            if q35:  # q35's AHCI has one unit per port: odd indices move up by two
                port, unit = port + 2 * unit, 0
            parts = [f"ide-{kind}", f"bus=ide.{port}", f"unit={unit}"]
        parts += [*attached, f"id={key}"]
        if drive.bus == "ide" and kind == "hd" and props.get("model"):
            parts.append(f"model={_decoded(props['model'])}")
        parts += _disk_identity(drive, kind)
    if bootindex is not None:
        parts.append(f"bootindex={bootindex}")
    if props.get("serial"):
        parts.append(f"serial={_decoded(props['serial'])}")
    if not drive.is_cdrom:
        cache = props.get("cache")
        parts.append(f"write-cache={'off' if cache in ('writethrough', 'directsync') else 'on'}")
    parts += [f"{name}={props[name]}" for name in ("rerror", "werror") if props.get(name)]
    return ",".join(parts)


def _disk_identity(drive: Drive, kind: str) -> list[str]:
    """``ssd=1`` as a non-rotating disk and the ``wwn`` of SCSI, IDE and SATA disks."""
    parts = []
    if kind == "hd" and _truthy(drive.props.get("ssd"), False):
        parts.append("rotation_rate=1")
    if drive.props.get("wwn"):
        parts.append(f"wwn={drive.props['wwn']}")
    return parts


def _decoded(value: str) -> str:
    """A url-encoded ``serial``/``model``, decoded, with commas doubled for QEMU."""
    return urllib.parse.unquote(value).replace(",", ",,")


# -- devices -------------------------------------------------------------------------------------


def _devices(
    argv: _Argv,
    config: VmConfig,
    values: Mapping[str, str],
    drives: list[ResolvedDrive],
    machine: Machine,
    paths: RuntimePaths,
) -> None:
    for device in machine.devices:
        argv.device(device)
    if values.get("vmgenid") and values["vmgenid"] != "0":
        argv.device(f"vmgenid,guid={values['vmgenid']}")
    vga = VGA_FORMAT.parse(values["vga"], "vga") if values.get("vga") else {}
    winversion = windows_version(values.get("ostype"))
    vga_type = str(vga.get("type", "cirrus" if 0 < winversion < 6 else "std"))
    no_display = vga_type == "none" or vga_type.startswith("serial")
    if not machine.q35:
        argv.device("piix3-usb-uhci,id=uhci")
    if _truthy(values.get("tablet"), not no_display):
        if machine.q35:
            argv.device("ich9-usb-ehci1,id=ehci")
        argv.device(f"usb-tablet,id=tablet,bus={'ehci' if machine.q35 else 'uhci'}.0,port=1")
    if any(rd.drive.is_tpmstate for rd in drives):
        _tpm(argv, drives, paths)
    if not no_display:
        memory = f",vgamem_mb={vga['memory']}" if vga.get("memory") else ""
        if vga_type == "virtio" and vga.get("memory"):
            memory = f",max_hostmem={int(str(vga['memory'])) << 20}"
        edid = vga_type == "std" and winversion and values.get("bios") != "ovmf"
        argv.device(f"{_VGA_DEVICES[vga_type]},id=vga{memory}" + (",edid=off" if edid else ""))
    if values.get("balloon", "1") != "0":
        argv.device("virtio-balloon-pci,id=balloon0" + _free_page(machine))
    if values.get("watchdog"):
        watchdog = WATCHDOG_FORMAT.parse(values["watchdog"], "watchdog")
        argv.device(str(watchdog.get("model", "i6300esb")))
        if watchdog.get("action"):
            argv.devices += ["-watchdog-action", str(watchdog["action"])]
    _disks(argv, values, drive_order(drives), machine, _bootindexes(config, values))
    _nets(argv, config, _bootindexes(config, values))
    _agent(argv, values, paths)
    if values.get("rng0"):
        rng = RNG_FORMAT.parse(values["rng0"], "rng0")
        argv.devices += ["-object", f"rng-random,filename={rng['source']},id=rng0"]
        limit = int(str(rng.get("max_bytes", 1024)))
        period = int(str(rng.get("period", 1000)))
        argv.device(
            "virtio-rng-pci,rng=rng0" + (f",max-bytes={limit},period={period}" if limit else "")
        )


def _free_page(machine: Machine) -> str:
    return ",free-page-reporting=on" if machine.version >= (6, 2) else ""


def _tpm(argv: _Argv, drives: list[ResolvedDrive], paths: RuntimePaths) -> None:
    tpm = next(rd for rd in drives if rd.drive.is_tpmstate)
    if tpm.format != "raw":
        raise InputError("tpmstate0", tpm.drive.volume, "swtpm needs a raw volume")
    argv.devices += [
        "-chardev",
        f"socket,id=tpmchar,path={paths.swtpm_socket}",
        "-tpmdev",
        "emulator,id=tpmdev,chardev=tpmchar",
    ]
    argv.device("tpm-tis,tpmdev=tpmdev")


def _disks(
    argv: _Argv,
    values: Mapping[str, str],
    drives: list[ResolvedDrive],
    machine: Machine,
    boot: Mapping[str, int],
) -> None:
    controllers: set[str] = set()
    for rd in drives:
        drive = rd.drive
        if not drive.on_bus:
            continue  # efidisk0 is firmware, tpmstate0 the TPM's: both added above
        if drive.bus == "scsi":
            scsihw = values.get("scsihw", "lsi")
            controller, model, _ = _scsi_controller(scsihw, drive.index)
            if controller not in controllers:
                queues = drive.props.get("queues")
                single = scsihw == "virtio-scsi-single"
                argv.device(
                    f"{model},id={controller}"
                    + (f",num_queues={queues}" if single and queues else "")
                )
                controllers.add(controller)
        elif drive.bus == "sata":
            controller = f"ahci{drive.index // _MAX_SATA}"
            if controller not in controllers:
                argv.device(f"ahci,id={controller},multifunction=on")
                controllers.add(controller)
        if rd.path is not None:
            argv.devices += _blockdev(rd)
        argv.device(_device(rd, values, machine.q35, boot.get(drive.key)))


def _nets(argv: _Argv, config: VmConfig, boot: Mapping[str, int]) -> None:
    for net in config.nets():
        argv.devices += _net(net, boot.get(net.key))


def _net(net: NetDevice, bootindex: int | None) -> list[str]:
    model = "virtio-net-pci" if net.model == "virtio" else net.model
    device = f"{model},mac={net.mac},netdev={net.key},id={net.key}"
    queues = int(net.props.get("queues") or 0)
    if net.model == "virtio" and queues > 1:
        device += f",vectors={queues * 2 + 2},mq=on"
    if bootindex is not None:
        device += f",bootindex={bootindex}"
    # Bridges of the config (bridge=vmbr0) are not set up by respaldo: user-mode networking
    # gives the guest outbound access without touching the host's network.
    return ["-netdev", f"user,id={net.key}", "-device", device]


def _agent(argv: _Argv, values: Mapping[str, str], paths: RuntimePaths) -> None:
    if not values.get("agent"):
        return
    agent = AGENT_FORMAT.parse(values["agent"], "agent")
    if not agent.get("enabled"):
        return
    argv.devices += ["-chardev", f"socket,path={paths.qga},server=on,wait=off,id=qga0"]
    if agent.get("type", "virtio") == "isa":
        argv.device("isa-serial,chardev=qga0")
    else:
        argv.device("virtio-serial,id=qga0-serial")
        argv.device("virtserialport,chardev=qga0,name=org.qemu.guest_agent.0")


def _bootindexes(config: VmConfig, values: Mapping[str, str]) -> dict[str, int]:
    """Proxmox's ``device_bootorder``: ``order=`` numbers its devices from 100; without it,
    the legacy letters (default ``cdn``): ``bootdisk`` (c), the CD-ROMs (d), the NICs (n)."""
    boot = BOOT_FORMAT.parse(values["boot"], "boot") if values.get("boot") else {}
    order = boot.get("order")
    if order is not None and not boot.get("legacy"):
        devices = [d for d in re.split(r"[;,\s]+", str(order)) if d]
        return {device: index for index, device in enumerate(devices, start=100)}
    letters = str(boot.get("legacy") or "cdn")
    base = {letter: (position + 1) * 100 for position, letter in enumerate(letters)}
    result: dict[str, int] = {}
    for drive in sorted(config.drives(), key=lambda d: d.rank):
        if not drive.on_bus:
            continue
        if drive.is_cdrom and not drive.is_cloudinit:
            if "d" in base:
                result[drive.key] = base["d"]
                base["d"] += 1
        elif "c" in base:
            if values.get("bootdisk") == drive.key:
                result[drive.key] = base["c"]
            base["c"] += 1
    if "n" in base:
        for net in config.nets():
            result[net.key] = base["n"]
            base["n"] += 1
    return result


def drive_order(drives: list[ResolvedDrive]) -> list[ResolvedDrive]:
    """Drives in Proxmox's ``valid_drive_names`` order (ide, scsi, virtio, sata, efidisk0,
    tpmstate0), the order QEMU gets their devices in."""
    return sorted(drives, key=lambda rd: rd.drive.rank)


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
