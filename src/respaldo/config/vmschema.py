"""The keys of a VM's config (``qemu-server/<vmid>.conf``) that respaldo accepts, declared once.

Names, types and limits as qemu-server's ``PVE/QemuServer.pm`` declares them (its
``confdesc``; drives in ``PVE/QemuServer/Drive.pm``, the property-string formats in
:mod:`respaldo.config.vmformats`). ``qm create`` / ``qm set`` take them as options,
``POST|PUT /nodes/{node}/qemu/{vmid}/config`` as parameters, and a restore takes the
non-drive ones as overrides. Keys a config file holds beyond these are kept as they are.

Every key here is applied when QEMU starts, as qemu-server applies it, or, for the values
respaldo cannot apply, refused by ``qm start`` with a message naming the key
(:mod:`respaldo.qemu.support`).
"""

from __future__ import annotations

import respaldo.config.formats
import respaldo.config.vmformats  # noqa: F401  (registers the VM formats)
from respaldo.config.drive import DRIVE_INTERFACES, Drive, check_drive
from respaldo.config.schema import Param, Schema, boolean, integer, number, register_format, string

MIN_MEMORY_MIB = 16
MAX_NETS = 32
MAX_UNUSED = 256


def _drive(text: str, key: str) -> str:
    """A drive value as ``qm set`` takes it: a new disk may be ``<storage>:<GiB>``;
    ``cdrom`` is ``ide2`` with ``media=cdrom``."""
    drive = Drive.parse("ide2" if key == "cdrom" else key, text)
    if key == "cdrom":
        drive.props.setdefault("media", "cdrom")
    check_drive(drive, allocate=True)
    return text


register_format("pve-qm-drive", _drive, "<volume>[,option=value...]")

_DRIVE_TEXT = {
    "ide": "Use volume as IDE hard disk or CD-ROM (n is 0 to 3).",
    "sata": "Use volume as SATA hard disk or CD-ROM (n is 0 to 5).",
    "scsi": "Use volume as SCSI hard disk or CD-ROM (n is 0 to 30).",
    "virtio": "Use volume as VIRTIO hard disk (n is 0 to 15).",
    "efidisk": "Configure a disk for storing EFI vars (bios: ovmf). Its size is that of the "
    "OVMF variables template, whatever size is asked for.",
    "tpmstate": "Configure a Disk for storing TPM state; 4 MiB, whatever size is asked for.",
}
_NEW_DISK = (
    " A new volume is given as <storage>:<size in GiB>[,format=raw|qcow2]; an existing one by "
    "its volume id."
)


def _drive_param(interface: str) -> Param:
    count = DRIVE_INTERFACES[interface]
    text = _DRIVE_TEXT[interface] + _NEW_DISK
    if count == 1:
        return string(f"{interface}0", text, format="pve-qm-drive")
    return string(interface, text, format="pve-qm-drive", indexed=count)


def _flag(name: str, description: str, default: bool) -> Param:
    return boolean(name, description, default=default)


#: VM config keys respaldo accepts (beyond them, keys in a config file are kept untouched).
VM_CONFIG = Schema(
    (
        string(
            "name",
            "Set a name for the VM. Only used on the configuration web interface.",
            pattern=r"[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?",
        ),
        string(
            "description",
            "Description for the VM. Shown as comment in the config.",
            max_length=8192,
        ),
        integer("memory", "Memory in MiB.", minimum=MIN_MEMORY_MIB, default=512),
        integer(
            "balloon",
            "Amount of target RAM for the VM in MiB. The balloon device is there unless this is 0.",
            minimum=0,
        ),
        integer(
            "shares",
            "Amount of memory shares for auto-ballooning (done by Proxmox's pvestatd).",
            minimum=0,
            maximum=50000,
            default=1000,
        ),
        integer("cores", "The number of cores per socket.", minimum=1, default=1),
        integer("sockets", "The number of CPU sockets.", minimum=1, default=1),
        integer("vcpus", "Number of hotplugged vcpus.", minimum=1),
        string("cpu", "Emulated CPU type.", format="pve-vm-cpu-conf"),
        number("cpulimit", "Limit of CPU usage (0: none).", minimum=0, maximum=128, default=0),
        integer("cpuunits", "CPU weight for a VM.", minimum=1, maximum=262144),
        _flag("numa", "Enable/disable NUMA.", False),
        string("bios", "Select BIOS implementation.", enum=("seabios", "ovmf"), default="seabios"),
        string("machine", "Specify the QEMU machine.", format="pve-qemu-machine-fmt"),
        string(
            "arch",
            "Virtual processor architecture. Defaults to the host architecture.",
            enum=("x86_64", "aarch64"),
        ),
        string(
            "agent",
            "Enable/disable communication with the QEMU Guest Agent.",
            format="pve-qm-agent",
        ),
        _flag("kvm", "Enable/disable KVM hardware virtualization.", True),
        _flag("acpi", "Enable/disable ACPI.", True),
        _flag("localtime", "Set the real time clock (RTC) to local time.", False),
        _flag("tdf", "Enable/disable time drift fix.", False),
        string(
            "startdate",
            "Set the initial date of the real time clock: now, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.",
            pattern=r"(now|\d{4}-\d{1,2}-\d{1,2}(T\d{1,2}:\d{1,2}:\d{1,2})?)",
            default="now",
        ),
        _flag(
            "freeze", "Freeze CPU at startup (use 'c' monitor command to start execution).", False
        ),
        _flag("reboot", "Allow reboot. If set to '0' the VM exits on reboot.", True),
        _flag("tablet", "Enable/disable the USB tablet device.", True),
        _flag("allow-ksm", "Allow memory pages of this guest to be merged via KSM.", True),
        string(
            "keyboard",
            "Keyboard layout for VNC server.",
            enum=tuple(
                [
                    "de",
                    "de-ch",
                    "da",
                    "en-gb",
                    "en-us",
                    "es",
                    "fi",
                    "fr",
                    "fr-be",
                    "fr-ca",
                    "fr-ch",
                    "hu",
                    "is",
                    "it",
                    "ja",
                    "lt",
                    "mk",
                    "nl",
                    "no",
                    "pl",
                    "pt",
                    "pt-br",
                    "sv",
                    "sl",
                    "tr",
                ]
            ),
        ),
        string("vga", "Configure the VGA hardware.", format="pve-qm-vga"),
        string("watchdog", "Create a virtual hardware watchdog device.", format="pve-qm-watchdog"),
        string("rng0", "Configure a VirtIO-based Random Number Generator.", format="pve-qm-rng"),
        string(
            "hotplug",
            "Selectively enable hotplug features: network, disk, cpu, memory, usb, cloudinit; "
            "0 for none, 1 for network,disk,usb.",
            format="pve-hotplug-features",
            default="network,disk,usb",
        ),
        _flag("onboot", "Specifies whether a VM will be started during system bootup.", False),
        string("startup", "Startup and shutdown behavior.", format="pve-startup-order"),
        _flag(
            "protection", "Sets the protection flag of the VM: no remove, no disk remove.", False
        ),
        string("args", "Arbitrary arguments passed to kvm (root only in Proxmox).", pattern=r".+"),
        string("smbios1", "Specify SMBIOS type 1 fields.", format="pve-qm-smbios1", max_length=512),
        string(
            "vmgenid",
            "Set VM Generation ID. Use '1' to autogenerate on create or update, '0' to disable.",
            pattern=r"0|1|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        ),
        string(
            "boot", "Specify guest boot order: order=<device[;device...]>.", format="pve-qm-boot"
        ),
        string(
            "bootdisk",
            "Enable booting from specified disk. Deprecated: Use 'boot: order=foo;bar' instead.",
            pattern=r"(ide|sata|scsi|virtio)\d+",
        ),
        string(
            "ostype",
            "Specify guest operating system.",
            enum=tuple(
                [
                    "other",
                    "wxp",
                    "w2k",
                    "w2k3",
                    "w2k8",
                    "wvista",
                    "win7",
                    "win8",
                    "win10",
                    "win11",
                    "l24",
                    "l26",
                    "solaris",
                ]
            ),
            default="other",
        ),
        string("tags", "Tags of the VM.", pattern=r"[a-zA-Z0-9_.;+-]*"),
        string(
            "scsihw",
            "SCSI controller model.",
            enum=("lsi", "lsi53c810", "virtio-scsi-pci", "virtio-scsi-single", "megasas", "pvscsi"),
            default="lsi",
        ),
        string(
            "lock",
            "Lock/unlock the VM.",
            enum=(
                "backup",
                "clone",
                "create",
                "migrate",
                "rollback",
                "snapshot",
                "snapshot-delete",
                "suspending",
                "suspended",
            ),
        ),
        string("cdrom", "This is an alias for option -ide2 (media=cdrom).", format="pve-qm-drive"),
        *(_drive_param(interface) for interface in DRIVE_INTERFACES),
        string("net", "Specify network devices.", format="pve-qm-net", indexed=MAX_NETS),
    ),
    description="VM configuration options.",
)

#: Keys a config holds that no option sets: respaldo manages them.
MANAGED_KEYS = Schema(
    (
        string(
            "unused",
            "Reference to unused volumes, managed by respaldo (n is 0 to 255).",
            format="pve-volume-id",
            indexed=MAX_UNUSED,
        ),
    ),
)
