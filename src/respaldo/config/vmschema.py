"""The keys of a VM's config (``qemu-server/<vmid>.conf``) that respaldo accepts, declared once.

Names, types and limits as qemu-server's ``PVE/QemuServer.pm`` declares them (its
``confdesc``; drives in ``PVE/QemuServer/Drive.pm``). ``qm create`` / ``qm set`` take them as
options, ``POST|PUT /nodes/{node}/qemu/{vmid}/config`` as parameters, and a restore takes the
non-drive ones as overrides. Keys a config file holds beyond these are kept as they are.
"""

from __future__ import annotations

import respaldo.config.formats  # noqa: F401  (registers the basic formats)
from respaldo.config.propstring import format_propstring, parse_propstring
from respaldo.config.schema import Param, Schema, boolean, integer, register_format, string
from respaldo.config.vmconfig import DISK_BUSES, Drive, NetDevice
from respaldo.errors import InputError

MIN_MEMORY_MIB = 16
MAX_NETS = 32
MAX_UNUSED = 256


def _drive(text: str, key: str) -> str:
    Drive.parse(key, text)
    return text


def _net(text: str, key: str) -> str:
    """``virtio[=<MAC>][,bridge=<bridge>]...``: the model must be one Proxmox knows (a MAC is
    generated for a model given without one)."""
    props = parse_propstring(text, "model", key)
    model = props.pop("model", None)
    if model is not None:
        props = {model: "", **props}
    NetDevice.parse(key, format_propstring(props, None))
    return text


def _agent(text: str, key: str) -> str:
    """``[enabled=]<1|0>[,fstrim_cloned_disks=<1|0>][,type=<virtio|isa>]...``."""
    first = text.split(",", 1)[0]
    flag = first.partition("=")[2] if first.startswith("enabled=") else first
    if flag not in ("0", "1"):
        raise InputError(key, text, "expected [enabled=]<0|1>[,option=value...]")
    return text


register_format("pve-qm-drive", _drive, "<volume>[,option=value...]")
register_format("pve-qm-net", _net, "<model>[=<macaddr>][,bridge=<bridge>][,option=value...]")
register_format("pve-qm-agent", _agent, "[enabled=]<1|0>[,option=value...]")

_DRIVE_TEXT = (
    "Use volume as {bus} hard disk or CD-ROM (n is 0 to {last}). A new volume is given as "
    "<storage>:<size in GiB>[,format=raw|qcow2][,backup=0]; an existing one by its volume id."
)


def _drive_param(bus: str) -> Param:
    count = DISK_BUSES[bus]
    return string(
        bus,
        _DRIVE_TEXT.format(bus=bus.upper() if bus != "virtio" else "VIRTIO", last=count - 1),
        format="pve-qm-drive",
        indexed=count,
    )


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
        integer(
            "memory",
            "Memory in MiB.",
            minimum=MIN_MEMORY_MIB,
            default=512,
        ),
        integer("cores", "The number of cores per socket.", minimum=1, default=1),
        integer("sockets", "The number of CPU sockets.", minimum=1, default=1),
        string(
            "agent",
            "Enable/disable communication with the QEMU Guest Agent.",
            format="pve-qm-agent",
        ),
        boolean("kvm", "Enable/disable KVM hardware virtualization.", default=True),
        boolean(
            "onboot", "Specifies whether a VM will be started during system bootup.", default=False
        ),
        boolean(
            "protection",
            "Sets the protection flag of the VM: no remove, no disk remove.",
            default=False,
        ),
        string("args", "Arbitrary arguments passed to kvm (root only in Proxmox).", pattern=r".+"),
        string("smbios1", "Specify SMBIOS type 1 fields.", pattern=r".+", max_length=512),
        string(
            "vmgenid",
            "Set VM Generation ID. Use '1' to autogenerate on create or update, '0' to disable.",
            pattern=r"0|1|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        ),
        string(
            "boot",
            "Specify guest boot order: order=<device[;device...]>.",
            pattern=r"order=[a-z0-9;]+",
        ),
        string("ostype", "Specify guest operating system.", pattern=r"[a-z0-9]+"),
        string("tags", "Tags of the VM.", pattern=r"[a-zA-Z0-9_.;+-]*"),
        string(
            "scsihw", "SCSI controller model.", enum=("virtio-scsi-pci",), default="virtio-scsi-pci"
        ),
        string(
            "lock",
            "Lock/unlock the VM.",
            enum=("backup", "clone", "create", "migrate", "rollback", "snapshot", "suspended"),
        ),
        string("cdrom", "This is an alias for option -ide2 (media=cdrom).", format="pve-qm-drive"),
        _drive_param("ide"),
        _drive_param("sata"),
        _drive_param("scsi"),
        _drive_param("virtio"),
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
