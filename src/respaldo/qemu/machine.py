"""The machine a VM runs as: ``machine:``, the guest OS type and the clock keys, as QEMU options.

Rules of qemu-server: ``PVE/QemuServer/Machine.pm`` (the ``machine`` format, the default
``pc``, Windows guests pinned to a machine version, S3/S4 power states),
``PVE/QemuServer/Cfg2Cmd/Timer.pm`` (``localtime``, ``tdf``, ``startdate``, the HPET and PIT
settings for Windows) and ``config_to_command`` (``acpi``, the vIOMMU devices).

Proxmox's own machine revisions (``+pve0``) select changes of Proxmox's QEMU build; upstream
QEMU has none, so the revision is dropped and the upstream machine of that version is used.
``.pxe`` machines (Proxmox's old iPXE ROMs) are refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from respaldo.config.vmformats import MACHINE_FORMAT
from respaldo.errors import InputError

_VERSION = re.compile(r"-(\d+)\.(\d+)(?:\+pve(\d+))?$")
_REVISION = re.compile(r"\+pve\d+$")
#: Proxmox's ``windows_version`` of each Windows ``ostype``.
WINDOWS_VERSIONS = {
    "wxp": 5,
    "w2k": 5,
    "w2k3": 5,
    "w2k8": 6,
    "wvista": 6,
    "win7": 7,
    "win8": 8,
    "win10": 10,
    "win11": 11,
}
#: Windows VMs without a machine version run this one (unless created by QEMU 9.1 or later).
WINDOWS_PIN = "5.1"


def windows_version(ostype: str | None) -> int:
    """0 for other guests."""
    return WINDOWS_VERSIONS.get(ostype or "", 0)


def version_of(machine_type: str) -> tuple[int, int] | None:
    match = _VERSION.search(machine_type)
    return (int(match.group(1)), int(match.group(2))) if match else None


@dataclass
class Machine:
    """What ``machine:`` and the clock keys add to QEMU's command line.

    ``type`` is the upstream machine type QEMU gets; ``version`` its version (the rules that
    depend on it, such as Hyper-V flags, use it); ``properties`` go into ``-machine``.
    """

    type: str
    q35: bool
    version: tuple[int, int]
    properties: list[str] = field(default_factory=list)
    globals: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    rtc: list[str] = field(default_factory=list)


def resolve_machine(
    config: Mapping[str, str],
    machines: Mapping[str, str],
    meta_qemu: str | None = None,
    qemu_version: tuple[int, int] = (7, 2),
) -> Machine:
    """The machine of a VM config (``machine``, ``ostype``, ``acpi`` and the clock keys).

    ``machines`` are the installed QEMU's types (name -> versioned name), ``qemu_version`` its
    version; ``meta_qemu`` the QEMU version that created the VM (``meta: creation-qemu=``).
    InputError naming ``machine`` for what this QEMU cannot run.
    """
    props = MACHINE_FORMAT.parse(config["machine"], "machine") if config.get("machine") else {}
    given = str(props.get("type") or "pc")
    if given.endswith(".pxe"):
        raise InputError("machine", given, "'.pxe' machine types (old iPXE ROMs) are not supported")
    if given.startswith("virt"):
        raise InputError("machine", given, "respaldo runs x86_64 VMs only (pc, q35)")
    wanted = _REVISION.sub("", given)
    winversion = windows_version(config.get("ostype"))
    if wanted in ("pc", "q35") and winversion:
        wanted = _windows_pinned(wanted, meta_qemu, machines)
    qemu_type = machines.get(wanted)
    if qemu_type is None:
        newest = machines.get("pc", "?")
        raise InputError(
            "machine", given, f"this QEMU does not have it (its newest pc machine is {newest})"
        )
    version = version_of(qemu_type) or (0, 0)
    machine = Machine(qemu_type, "q35" in qemu_type, version)
    _power_states(machine, props, given)
    _iommu(machine, props, qemu_version)
    if config.get("acpi") in ("0", "off", "no", "false"):
        machine.properties.append("acpi=off")
    _timer(machine, config, winversion)
    return machine


def _windows_pinned(base: str, meta_qemu: str | None, machines: Mapping[str, str]) -> str:
    """Windows is confused by a changed ACPI layout: pin the machine version (5.1, or the
    creating QEMU's from 9.1 on); the newest installed one when this QEMU lacks it."""
    pin = WINDOWS_PIN
    created = re.match(r"(\d+)\.(\d+)", meta_qemu or "")
    if created is not None and (int(created.group(1)), int(created.group(2))) >= (9, 1):
        pin = f"{created.group(1)}.{created.group(2)}"
    name = f"pc-i440fx-{pin}" if base == "pc" else f"pc-q35-{pin}"
    return name if name in machines else base


def _power_states(machine: Machine, props: Mapping[str, object], given: str) -> None:
    """S3/S4 are on in QEMU; Proxmox turns them off by default from machine 9.2+pve1 on."""
    revision = _VERSION.search(given)
    # An unversioned type runs as the newest revision, which has them off for 9.2.
    newest = revision is None or (revision.group(3) is not None and int(revision.group(3)) >= 1)
    off_by_default = machine.version > (9, 2) or (machine.version == (9, 2) and newest)
    device = "ICH9-LPC" if machine.q35 else "PIIX4_PM"
    for state in ("s3", "s4"):
        enabled = props.get(f"enable-{state}")
        if enabled is False or (enabled is None and off_by_default):
            machine.globals.append(f"{device}.disable_{state}=1")


def _iommu(machine: Machine, props: Mapping[str, object], qemu_version: tuple[int, int]) -> None:
    viommu, bits = props.get("viommu"), props.get("aw-bits")
    if bits is not None and viommu is None:
        raise InputError("machine", bits, "aw-bits needs a vIOMMU (viommu=intel|virtio)")
    if bits is not None and viommu == "virtio" and qemu_version < (9, 0):
        raise InputError("machine", bits, "this QEMU's virtio-iommu-pci has no aw-bits (9.0+)")
    width = f",aw-bits={bits}" if bits is not None else ""
    if viommu == "intel":
        if not machine.q35:
            raise InputError("machine", "viommu=intel", "the Intel vIOMMU needs a q35 machine")
        if bits is not None and bits not in (39, 48):
            raise InputError("machine", bits, "the Intel vIOMMU takes aw-bits 39 or 48")
        machine.devices.append(f"intel-iommu,intremap=on,caching-mode=on{width}")
        machine.properties.append("kernel-irqchip=split")
    elif viommu == "virtio":
        machine.devices.append(f"virtio-iommu-pci{width}")


def _timer(machine: Machine, config: Mapping[str, str], winversion: int) -> None:
    """The real time clock and timers (Cfg2Cmd/Timer.pm)."""
    localtime = _flag(config.get("localtime"))
    drift_fix = _flag(config.get("tdf"))
    if winversion >= 5:
        localtime = True if localtime is None else localtime
        acpi = _flag(config.get("acpi"))
        drift_fix = True if drift_fix is None and acpi is not False else drift_fix
    if winversion >= 6:
        machine.globals.append("kvm-pit.lost_tick_policy=discard")
        machine.properties.append("hpet=off")
    elif config.get("ostype") == "l26" and machine.version >= (10, 1):
        machine.properties.append("hpet=off")
    if drift_fix:
        machine.rtc.append("driftfix=slew")
    startdate = config.get("startdate", "now")
    if startdate != "now":
        machine.rtc.append(f"base={startdate}")
    elif localtime:
        machine.rtc.append("base=localtime")


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.lower() in ("1", "on", "yes", "true")
