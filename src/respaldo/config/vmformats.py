"""The formats of a VM config's property-string keys, as qemu-server declares them.

``machine`` (``PVE/QemuServer/Machine.pm``), ``cpu`` (``PVE/QemuServer/CPUConfig.pm``, the
VM-specific ``pve-vm-cpu-conf``), ``agent`` (``PVE/QemuServer/Agent.pm``), ``rng0``
(``PVE/QemuServer/RNG.pm``), ``net[n]`` (``PVE/QemuServer/Network.pm``) and ``boot``,
``vga``, ``watchdog``, ``smbios1``, ``hotplug``, ``startup`` (``PVE/QemuServer.pm``). Each is
registered under Proxmox's name; what QEMU makes of them is :mod:`respaldo.qemu`'s business.
"""

from __future__ import annotations

import re

from respaldo.config.drive import is_drive_key
from respaldo.config.propformat import PropertyFormat, property_format
from respaldo.config.schema import boolean, integer, number, register_format, string
from respaldo.errors import InputError

MACHINE_FORMAT = property_format(
    "pve-qemu-machine-fmt",
    string(
        "type",
        "Specifies the QEMU machine type.",
        pattern=r"(pc|pc(-i440fx)?-\d+(\.\d+)+(\+pve\d+)?(\.pxe)?|q35|pc-q35-\d+(\.\d+)+"
        r"(\+pve\d+)?(\.pxe)?|virt(?:-\d+(\.\d+)+)?(\+pve\d+)?)",
        max_length=40,
    ),
    string("viommu", "Enable and set guest vIOMMU variant.", enum=("intel", "virtio")),
    integer("aw-bits", "Specifies the vIOMMU address space bit width.", minimum=32, maximum=64),
    boolean("enable-s3", "Enables S3 power state."),
    boolean("enable-s4", "Enables S4 power state."),
    default_key="type",
).register("[[type=]<machine type>] [,enable-s3=<1|0>] [,enable-s4=<1|0>] [,viommu=...]")

# -- cpu ----------------------------------------------------------------------------------------

#: x86-64 CPU models qemu-server knows (besides ``host`` and the x86-64-vN models below).
CPU_MODELS = frozenset(
    [
        "486",
        "pentium",
        "pentium2",
        "pentium3",
        "coreduo",
        "core2duo",
        "Conroe",
        "Penryn",
        "Nehalem",
        "Nehalem-IBRS",
        "Westmere",
        "Westmere-IBRS",
        "SandyBridge",
        "SandyBridge-IBRS",
        "IvyBridge",
        "IvyBridge-IBRS",
        "Haswell",
        "Haswell-IBRS",
        "Haswell-noTSX",
        "Haswell-noTSX-IBRS",
        "Broadwell",
        "Broadwell-IBRS",
        "Broadwell-noTSX",
        "Broadwell-noTSX-IBRS",
        "Skylake-Client",
        "Skylake-Client-IBRS",
        "Skylake-Client-noTSX-IBRS",
        "Skylake-Client-v4",
        "Skylake-Server",
        "Skylake-Server-IBRS",
        "Skylake-Server-noTSX-IBRS",
        "Skylake-Server-v4",
        "Skylake-Server-v5",
        "Cascadelake-Server",
        "Cascadelake-Server-v2",
        "Cascadelake-Server-noTSX",
        "Cascadelake-Server-v4",
        "Cascadelake-Server-v5",
        "Cooperlake",
        "Cooperlake-v2",
        "KnightsMill",
        "Icelake-Client",
        "Icelake-Client-noTSX",
        "Icelake-Server",
        "Icelake-Server-noTSX",
        "Icelake-Server-v3",
        "Icelake-Server-v4",
        "Icelake-Server-v5",
        "Icelake-Server-v6",
        "Icelake-Server-v7",
        "SapphireRapids",
        "SapphireRapids-v2",
        "SapphireRapids-v3",
        "SapphireRapids-v4",
        "GraniteRapids",
        "GraniteRapids-v2",
        "GraniteRapids-v3",
        "SierraForest",
        "SierraForest-v2",
        "SierraForest-v3",
        "ClearwaterForest",
        "athlon",
        "phenom",
        "Opteron_G1",
        "Opteron_G2",
        "Opteron_G3",
        "Opteron_G4",
        "Opteron_G5",
        "EPYC",
        "EPYC-IBPB",
        "EPYC-v3",
        "EPYC-v4",
        "EPYC-v5",
        "EPYC-Rome",
        "EPYC-Rome-v2",
        "EPYC-Rome-v3",
        "EPYC-Rome-v4",
        "EPYC-Rome-v5",
        "EPYC-Milan",
        "EPYC-Milan-v2",
        "EPYC-Milan-v3",
        "EPYC-Genoa",
        "EPYC-Genoa-v2",
        "EPYC-Turin",
        "kvm32",
        "kvm64",
        "qemu32",
        "qemu64",
        "max",
        "host",
    ]
)
#: qemu-server's built-in models: the model QEMU gets and the flags they add to it.
BUILTIN_CPU_MODELS = {
    "x86-64-v2": ("qemu64", "+popcnt;+pni;+sse4.1;+sse4.2;+ssse3"),
    "x86-64-v2-AES": ("qemu64", "+aes;+popcnt;+pni;+sse4.1;+sse4.2;+ssse3"),
    "x86-64-v3": (
        "qemu64",
        "+aes;+popcnt;+pni;+sse4.1;+sse4.2;+ssse3;+avx;+avx2;+bmi1;+bmi2;+f16c;+fma;+abm;"
        "+movbe;+xsave",
    ),
    "x86-64-v4": (
        "qemu64",
        "+aes;+popcnt;+pni;+sse4.1;+sse4.2;+ssse3;+avx;+avx2;+bmi1;+bmi2;+f16c;+fma;+abm;"
        "+movbe;+xsave;+avx512f;+avx512bw;+avx512cd;+avx512dq;+avx512vl",
    ),
}
#: The CPU flags a VM's own ``cpu: ...,flags=`` may set (``CPUFlags.pm``).
VM_CPU_FLAGS = frozenset(
    [
        "nested-virt",
        "md-clear",
        "pcid",
        "spec-ctrl",
        "ssbd",
        "ibpb",
        "virt-ssbd",
        "amd-ssbd",
        "amd-no-ssb",
        "pdpe1gb",
        "hv-tlbflush",
        "hv-evmcs",
        "aes",
    ]
)
_CPU_FLAG = re.compile(r"([+-])([a-zA-Z0-9\-_.]+)")


def parse_cpu_flags(text: str | None) -> list[tuple[str, str]]:
    """``+aes;-pcid`` -> [("+", "aes"), ("-", "pcid")]."""
    result = []
    for item in (text or "").split(";"):
        match = _CPU_FLAG.fullmatch(item)
        if match is None:
            raise InputError("cpu flags", text, "expected +FLAG or -FLAG, separated by ';'")
        result.append((match.group(1), match.group(2)))
    return result


def _cpu_flags(text: str, key: str) -> str:
    for _, flag in parse_cpu_flags(text):
        if flag not in VM_CPU_FLAGS:
            raise InputError(
                key,
                text,
                "VM-specific CPU flags must be a subset of: " + ", ".join(sorted(VM_CPU_FLAGS)),
            )
    return text


def _phys_bits(text: str, key: str) -> str:
    if text != "host" and not (re.fullmatch(r"\d{1,2}", text) and 8 <= int(text) <= 64):
        raise InputError(key, text, "value must be an integer between 8 and 64 or 'host'")
    return text


def _cputype(text: str, key: str) -> str:
    if text.startswith("custom-") or text in CPU_MODELS or text in BUILTIN_CPU_MODELS:
        return text
    raise InputError(key, text, "Built-in cputype is not defined (missing 'custom-' prefix?)")


register_format("pve-vm-cputype", _cputype, "<string>")
register_format("pve-vm-cpu-flags", _cpu_flags, "+FLAG[;-FLAG...]")
register_format("pve-phys-bits", _phys_bits, "8-64|host")

CPU_FORMAT = property_format(
    "pve-vm-cpu-conf",
    string("cputype", "Emulated CPU type.", format="pve-vm-cputype", default="kvm64"),
    string("flags", "List of additional CPU flags.", format="pve-vm-cpu-flags"),
    boolean("hidden", "Do not identify as a KVM virtual machine."),
    string("hv-vendor-id", "The Hyper-V vendor ID.", pattern=r"[a-zA-Z0-9]{1,12}"),
    integer("guest-phys-bits", "Physical address bits of the guest.", minimum=32, maximum=64),
    string("phys-bits", "The physical memory address bits reported.", format="pve-phys-bits"),
    integer("level", "Maximum input value for the basic CPUID leaves.", minimum=0),
    default_key="cputype",
).register("[[cputype=]<string>] [,flags=<+FLAG[;-FLAG...]>] [,hidden=<1|0>] ...")

# -- other property strings -------------------------------------------------------------------

AGENT_FORMAT = property_format(
    "pve-qm-agent",
    boolean("enabled", "Enable/disable communication with a QEMU Guest Agent.", optional=False),
    boolean("fstrim_cloned_disks", "Run fstrim after moving a disk or migrating the VM."),
    boolean("freeze-fs", "Freeze guest filesystems through QGA on backups and snapshots."),
    string("type", "Select the agent type.", enum=("virtio", "isa"), default="virtio"),
    default_key="enabled",
    aliases={"freeze-fs-on-backup": "freeze-fs", "guest-fsfreeze": "freeze-fs"},
).register("[enabled=]<1|0> [,freeze-fs=<1|0>] [,fstrim_cloned_disks=<1|0>] [,type=...]")

VGA_TYPES = [
    "cirrus",
    "qxl",
    "qxl2",
    "qxl3",
    "qxl4",
    "none",
    "serial0",
    "serial1",
    "serial2",
    "serial3",
    "std",
    "virtio",
    "virtio-gl",
    "vmware",
]
VGA_FORMAT = property_format(
    "pve-qm-vga",
    string("type", "Select the VGA type.", enum=tuple(VGA_TYPES), default="std"),
    integer("memory", "Sets the VGA memory (in MiB).", minimum=4, maximum=512),
    string("clipboard", "Enable a specific clipboard.", enum=("vnc",)),
    default_key="type",
).register("[[type=]<enum>] [,clipboard=<vnc>] [,memory=<integer>]")

WATCHDOG_FORMAT = property_format(
    "pve-qm-watchdog",
    string("model", "Watchdog type to emulate.", enum=("i6300esb", "ib700"), default="i6300esb"),
    string(
        "action",
        "The action when the guest fails to poll the watchdog in time.",
        enum=("reset", "shutdown", "poweroff", "pause", "debug", "none"),
    ),
    default_key="model",
).register("[[model=]<i6300esb|ib700>] [,action=<enum>]")

RNG_FORMAT = property_format(
    "pve-qm-rng",
    string(
        "source",
        "The file on the host to gather entropy from.",
        enum=("/dev/urandom", "/dev/random", "/dev/hwrng"),
        optional=False,
    ),
    integer("max_bytes", "Maximum bytes of entropy per 'period'.", default=1024),
    integer("period", "Milliseconds between resets of the entropy quota.", default=1000),
    default_key="source",
).register("[source=]</dev/urandom|/dev/random|/dev/hwrng> [,max_bytes=<N>] [,period=<N>]")

_BASE64 = r"[A-Za-z0-9+/]+={0,2}"
SMBIOS1_FORMAT = property_format(
    "pve-qm-smbios1",
    string(
        "uuid",
        "Set SMBIOS1 UUID.",
        pattern=r"[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}",
    ),
    *(
        string(name, f"Set SMBIOS1 {name}.", pattern=_BASE64)
        for name in ("version", "serial", "manufacturer", "product", "sku", "family")
    ),
    boolean("base64", "Flag to indicate that the SMBIOS values are base64 encoded."),
).register("[base64=<1|0>] [,family=<Base64>] [,uuid=<UUID>] ...")

STARTUP_FORMAT = property_format(
    "pve-startup-order",
    integer("order", "Startup order.", minimum=0),
    integer("up", "Seconds to wait after starting.", minimum=0),
    integer("down", "Seconds to wait after stopping.", minimum=0),
    default_key="order",
).register("[[order=]\\d+] [,up=\\d+] [,down=\\d+]")


def _boot_device(text: str, key: str) -> str:
    """``pve-qm-bootdev``: a drive (not efidisk/tpmstate), ``netN``, ``usbN`` or
    ``hostpciN``."""
    special = text.startswith(("efidisk", "tpmstate"))
    if (is_drive_key(text) and not special) or re.fullmatch(r"(net|usb|hostpci)\d+", text):
        return text
    raise InputError(key, text, "invalid boot device (a disk such as scsi0, or net0)")


def _boot_order(text: str, key: str) -> str:
    for device in re.split(r"[;,\s]+", text):
        if device:
            _boot_device(device, key)
    return text


register_format("pve-qm-bootdev-list", _boot_order, "device[;device...]")

BOOT_FORMAT = property_format(
    "pve-qm-boot",
    string(
        "legacy",
        "Boot on floppy (a), hard disk (c), CD-ROM (d), or network (n).",
        pattern="[acdn]{1,4}",
        default="cdn",
    ),
    string("order", "The boot order of devices.", format="pve-qm-bootdev-list"),
    default_key="legacy",
).register("[[legacy=]<[acdn]{1,4}>] [,order=<device[;device...]>]")

HOTPLUG_FEATURES = ("network", "disk", "cpu", "memory", "usb", "cloudinit")
HOTPLUG_DEFAULT = "network,disk,usb"


def hotplug_features(text: str, key: str = "hotplug") -> frozenset[str]:
    """``0`` -> none, ``1`` -> the default ``network,disk,usb``, else the listed ones."""
    if text == "0":
        return frozenset()
    features = frozenset(
        f for f in re.split(r"[;,\s]+", HOTPLUG_DEFAULT if text == "1" else text) if f
    )
    for feature in features:
        if feature not in HOTPLUG_FEATURES:
            raise InputError(key, text, f"invalid hotplug feature '{feature}'")
    return features


def _hotplug(text: str, key: str) -> str:
    hotplug_features(text, key)
    return text


register_format("pve-hotplug-features", _hotplug, "<string>")

# -- network devices ----------------------------------------------------------------------------

#: Proxmox's NIC models (``$nic_model_list``).
NIC_MODELS = [
    "e1000",
    "e1000-82540em",
    "e1000-82544gc",
    "e1000-82545em",
    "e1000e",
    "i82551",
    "i82557b",
    "i82559er",
    "ne2k_isa",
    "ne2k_pci",
    "pcnet",
    "rtl8139",
    "virtio",
    "vmxnet3",
]
_MAC = r"[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}"
NET_FORMAT: PropertyFormat = property_format(
    "pve-qm-net",
    string("model", "Network Card Model.", enum=tuple(NIC_MODELS), optional=False),
    string("macaddr", "MAC address.", pattern=_MAC),
    string("bridge", "Bridge to attach the network device to.", pattern=r"[-_.\w\d]+"),
    boolean("firewall", "Whether this interface should be protected by the firewall."),
    boolean("link_down", "Whether this interface should be disconnected."),
    integer("mtu", "MTU of the device (1 = the bridge's).", minimum=1, maximum=65520),
    integer("queues", "Number of packet queues to be used on the device.", minimum=0, maximum=64),
    number("rate", "Rate limit in mbps (megabytes per second).", minimum=0),
    integer("tag", "VLAN tag to apply to packets on this interface.", minimum=1, maximum=4094),
    string(
        "trunks",
        "VLAN trunks to pass through this interface.",
        pattern=r"\d+(?:-\d+)?(?:;\d+(?:-\d+)?)*",
    ),
)


def net_properties(text: str, key: str) -> dict[str, object]:
    """``virtio=BC:24:11:..,bridge=vmbr0`` -> typed properties (``model``, ``macaddr``...);
    ``<model>=<mac>`` is the model with its MAC, a lone ``<model>`` one without."""
    parts = []
    for part in text.split(","):
        name, sep, value = part.partition("=")
        if name in NIC_MODELS:
            parts.append(f"model={name}")
            if sep:
                parts.append(f"macaddr={value}")
        else:
            parts.append(part)
    if not any(part.startswith("model=") for part in parts):
        raise InputError(key, text, f"needs a model: one of {', '.join(NIC_MODELS)}")
    return NET_FORMAT.parse(",".join(parts), key)


def _net(text: str, key: str) -> str:
    net_properties(text, key)
    return text


register_format("pve-qm-net", _net, "<model>[=<macaddr>][,bridge=<bridge>][,option=value...]")
