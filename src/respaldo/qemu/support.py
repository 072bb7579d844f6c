"""Which keys of a VM config QEMU gets, which change nothing in it, and which respaldo refuses.

A Proxmox config may hold keys respaldo cannot apply (PCI passthrough, hugepages, SPICE...).
Starting such a VM without them would run other hardware than the config says, so ``qm start``
refuses it, naming every such key and why (:func:`refusals`). The lists follow qemu-server's
``confdesc`` (``PVE/QemuServer.pm``) and ``config_to_command``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from respaldo.config.drive import THROTTLE_KEYS, Drive, check_drive, is_drive_key
from respaldo.config.vmconfig import NET_KEY
from respaldo.config.vmformats import VGA_FORMAT, hotplug_features, net_properties
from respaldo.errors import RespaldoError

#: Keys that QEMU's command line is built from (:mod:`respaldo.qemu.cmdline`).
APPLIED = frozenset(
    [
        "name",
        "memory",
        "balloon",
        "cores",
        "sockets",
        "vcpus",
        "smp",
        "cpu",
        "bios",
        "machine",
        "arch",
        "agent",
        "kvm",
        "acpi",
        "localtime",
        "tdf",
        "startdate",
        "freeze",
        "reboot",
        "tablet",
        "allow-ksm",
        "keyboard",
        "vga",
        "watchdog",
        "rng0",
        "smbios1",
        "vmgenid",
        "boot",
        "bootdisk",
        "ostype",
        "scsihw",
        "args",
        "numa",
        "hotplug",
        "cpulimit",
        "cpuunits",
    ]
)
#: Keys that change nothing in how QEMU runs: metadata, the node's start order, backups,
#: migration, snapshots, and cloud-init settings (which act only through a cloud-init drive).
NO_QEMU_EFFECT = frozenset(
    [
        "description",
        "onboot",
        "startup",
        "protection",
        "tags",
        "lock",
        "shares",
        "meta",
        "digest",
        "parent",
        "snaptime",
        "vmstatestorage",
        "migrate_speed",
        "migrate_downtime",
        "autostart",
        "keephugepages",
        "runningmachine",
        "runningcpu",
        "running-nets-host-mtu",
        "cicustom",
        "cipassword",
        "citype",
        "ciupgrade",
        "ciuser",
        "nameserver",
        "searchdomain",
        "sshkeys",
    ]
)
_INDEXED_NO_EFFECT = re.compile(r"^(unused|ipconfig)\d+$")
#: What respaldo says about keys it knows but cannot apply.
_NOT_SUPPORTED = {
    "hostpci": "PCI passthrough is not supported",
    "usb": "USB passthrough is not supported",
    "serial": "serial ports besides respaldo's console log are not supported",
    "parallel": "parallel ports are not supported",
    "audio": "audio devices are not supported",
    "virtiofs": "virtiofs is not supported",
    "numa": "NUMA topologies are not supported",
    "hugepages": "hugepages are not supported",
    "affinity": "CPU affinity (taskset) is not supported",
    "ivshmem": "inter-VM shared memory is not supported",
    "amd-sev": "AMD SEV is not supported",
    "intel-tdx": "Intel TDX is not supported",
    "spice_enhancements": "SPICE is not supported",
    "hookscript": "hook scripts of VMs are not supported",
    "vmstate": "the VM was suspended to disk; resuming such a state is not supported",
    "template": "the VM is a template; templates are not started",
}
#: CPU weights that are the default (cgroup v2 and v1): a VM with them runs as respaldo runs it.
DEFAULT_CPUUNITS = ("100", "1024")


def refusals(config: Mapping[str, str], sections: list[str] | None = None) -> dict[str, str]:
    """``key -> reason`` for every key of ``config`` QEMU would not get as it says."""
    problems: dict[str, str] = {}
    for key, value in config.items():
        try:
            reason = _refusal(key, value)
        except RespaldoError as err:
            reason = str(err)
        if reason:
            problems[key] = reason
    if "PENDING" in (sections or []):
        problems["[PENDING]"] = "the VM has pending changes, which respaldo does not apply"
    return problems


def notices(config: Mapping[str, str]) -> list[str]:
    """What respaldo applies otherwise than the config says, and why (``qm start`` warns).

    ``iothread=1``: QEMU 7.2 aborts when an NBD client of a disk in an I/O thread
    disconnects (``nbd_blockdev_client_closed``: ``qemu_in_main_thread()`` fails), and every
    backup reads the disks over NBD; such disks run in QEMU's main loop, which the guest
    does not see.
    """
    result = []
    for key, value in config.items():
        if is_drive_key(key):
            drive = Drive.parse(key, value)
            if drive.props.get("iothread", "0").lower() in ("1", "on", "yes", "true"):
                result.append(
                    f"{key}: iothread=1 is not applied (QEMU 7.2 aborts when a backup's NBD "
                    "client of a disk in an I/O thread disconnects); the disk runs in QEMU's "
                    "main loop"
                )
    return result


def _refusal(key: str, value: str) -> str | None:
    if key in NO_QEMU_EFFECT or _INDEXED_NO_EFFECT.match(key):
        return None
    if is_drive_key(key):
        return _drive_refusal(Drive.parse(key, value))
    if NET_KEY.match(key):
        props = net_properties(value, key)
        return "respaldo cannot start a NIC with its link down" if props.get("link_down") else None
    if key in APPLIED:
        return _value_refusal(key, value)
    stem = key.rstrip("0123456789")
    return _NOT_SUPPORTED.get(key) or _NOT_SUPPORTED.get(stem) or "unknown to respaldo"


def _value_refusal(key: str, value: str) -> str | None:
    """The values of applied keys that respaldo cannot apply."""
    if key == "numa" and value not in ("0", "off", "no", "false"):
        return _NOT_SUPPORTED["numa"]
    if key == "hotplug" and hotplug_features(value) & {"cpu", "memory"}:
        return "CPU and memory hotplug are not supported"
    if key == "cpulimit" and float(value) != 0:
        return "CPU limits (cgroups) are not supported"
    if key == "cpuunits" and value not in DEFAULT_CPUUNITS:
        return "CPU weights (cgroups) are not supported"
    if key == "arch" and value != "x86_64":
        return "only x86_64 VMs are supported"
    if key == "vga":
        vga = VGA_FORMAT.parse(value, key)
        if str(vga.get("type", "std")).startswith(("qxl", "virtio-gl")):
            return "SPICE and VirGL displays are not supported"
        if vga.get("clipboard"):
            return "the VNC clipboard is not supported"
    return None


def _drive_refusal(drive: Drive) -> str | None:
    props = check_drive(drive)
    if drive.is_cloudinit:
        return "cloud-init drives are not supported"
    if props.get("snapshot"):
        return "snapshot mode drives are not supported"
    if props.get("scsiblock"):
        return "scsi-block passthrough is not supported"
    limits = sorted(THROTTLE_KEYS & set(props))
    if limits:
        return f"I/O limits ({', '.join(limits)}) are not supported"
    return None
