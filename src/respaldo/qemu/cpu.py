"""The ``-cpu`` argument of a VM, as qemu-server's ``get_cpu_options`` builds it.

From ``cpu:`` (``PVE/QemuServer/CPUConfig.pm``): the model (``kvm64`` under KVM and ``qemu64``
under TCG when none is given; the built-in ``x86-64-v2-AES`` & co. are ``qemu64`` plus their
flags), the flags Proxmox sets itself (``+lahf_lm``, ``+sep`` for ``kvm64``; the paravirtual
``+kvm_pv_*`` under KVM; ``-x2apic`` for Solaris; ``-rdtscp`` for Opterons), the Hyper-V
enlightenments of Windows guests under KVM, the VM's own ``flags=``, and the forced ones
(``enforce`` under KVM, ``kvm=off`` for ``hidden=1``, ``vendor=`` for vendor-specific models).
Later sources win; the flags are printed sorted by name, each once.

Custom models (``custom-...``, from Proxmox's cluster-wide ``cpu-models.conf``) do not exist on
a respaldo node and are refused; so is ``host`` without KVM.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from respaldo.config.vmformats import BUILTIN_CPU_MODELS, CPU_FORMAT, parse_cpu_flags
from respaldo.errors import InputError

_AMD_PREFIXES = ("athlon", "phenom", "Opteron", "EPYC")
_GENERIC = ("kvm32", "kvm64", "qemu32", "qemu64", "max", "host")
_RENAMED = {"Icelake-Client": "Icelake-Server", "Icelake-Client-noTSX": "Icelake-Server-noTSX"}


@dataclass(frozen=True)
class CpuFlag:
    op: str  # "+", "-" or "" (a property such as enforce, or name=value)
    value: str | None = None


def vendor_of(model: str) -> str | None:
    """The vendor a model reports (None for the generic models, which take the host's)."""
    if model in _GENERIC:
        return None
    return "AuthenticAMD" if model.startswith(_AMD_PREFIXES) else "GenuineIntel"


@dataclass(frozen=True)
class CpuContext:
    """What besides ``cpu:`` decides the ``-cpu`` argument."""

    kvm: bool
    windows_version: int = 0
    ostype: str | None = None
    bios: str | None = None
    machine_version: tuple[int, int] = (0, 0)
    #: The host CPU's virtualization flag (``vmx``/``svm``), for ``nested-virt``.
    host_virt_flag: str | None = None


def cpu_argument(value: str | None, ctx: CpuContext, models: Iterable[str]) -> str:
    """The ``-cpu`` value for ``cpu: <value>``; InputError naming ``cpu`` for a model this
    QEMU (``models``) or this accelerator cannot run."""
    props = CPU_FORMAT.parse(value, "cpu") if value else {}
    cputype = str(props.get("cputype") or ("kvm64" if ctx.kvm else "qemu64"))
    builtin_flags = ""
    if cputype in BUILTIN_CPU_MODELS:
        cputype, builtin_flags = BUILTIN_CPU_MODELS[cputype]
    elif cputype.startswith("custom-"):
        raise InputError("cpu", value, "custom CPU models (cpu-models.conf) are not supported")
    cputype = _RENAMED.get(cputype, cputype)
    if cputype == "host" and not ctx.kvm:
        raise InputError("cpu", value, "the 'host' CPU model needs KVM (this VM runs with TCG)")
    if cputype != "host" and cputype not in set(models):
        raise InputError("cpu", value, f"this QEMU has no CPU model '{cputype}'")
    flags: dict[str, CpuFlag] = {}
    for source in (
        _proxmox_flags(cputype, ctx),
        _hyperv_flags(ctx, props.get("hv-vendor-id")) if ctx.kvm else {},
        _listed(builtin_flags, ctx),
        _listed(props.get("flags"), ctx),
        _forced(cputype, ctx.kvm, bool(props.get("hidden"))),
    ):
        flags.update(source)
    text = cputype
    if props.get("level") is not None:
        text += f",level={props['level']}"
    for name in sorted(flags):
        flag = flags[name]
        text += f",{flag.op}{name}" + (f"={flag.value}" if flag.value else "")
    if props.get("guest-phys-bits") is not None:
        text += f",guest-phys-bits={props['guest-phys-bits']}"
    phys = props.get("phys-bits")
    if phys is not None:
        text += ",host-phys-bits=true" if phys == "host" else f",phys-bits={phys}"
    return text


def _listed(text: object, ctx: CpuContext) -> dict[str, CpuFlag]:
    result = {}
    for op, name in parse_cpu_flags(str(text)) if text else []:
        flag = ctx.host_virt_flag if name == "nested-virt" else name
        if flag is not None:  # nested-virt is ignored when the host has neither vmx nor svm
            result[flag] = CpuFlag(op)
    return result


def _proxmox_flags(cputype: str, ctx: CpuContext) -> dict[str, CpuFlag]:
    flags = {}
    if cputype == "kvm64":
        flags["lahf_lm"] = CpuFlag("+")
    if ctx.ostype == "solaris":
        flags["x2apic"] = CpuFlag("-")
    if cputype in ("kvm64", "kvm32"):
        flags["sep"] = CpuFlag("+")
    if cputype.startswith("Opteron"):
        flags["rdtscp"] = CpuFlag("-")
    if ctx.kvm and ctx.machine_version >= (2, 3):
        flags["kvm_pv_unhalt"] = CpuFlag("+")
        flags["kvm_pv_eoi"] = CpuFlag("+")
    return flags


def _hyperv_flags(ctx: CpuContext, vendor_id: object) -> dict[str, CpuFlag]:
    """Hyper-V enlightenments for Windows (Vista and later; with OVMF, 8 and later)."""
    winversion, version = ctx.windows_version, ctx.machine_version
    if winversion < 6 or (ctx.bios == "ovmf" and winversion < 8):
        return {}
    flags = {}
    if vendor_id is not None:
        flags["hv_vendor_id"] = CpuFlag("", str(vendor_id))
    if version >= (2, 3):
        flags.update(hv_spinlocks=CpuFlag("", "0x1fff"), hv_vapic=CpuFlag(""), hv_time=CpuFlag(""))
    else:
        flags["hv_spinlocks"] = CpuFlag("", "0xffff")
    if version >= (2, 6):
        flags.update(hv_reset=CpuFlag(""), hv_vpindex=CpuFlag(""), hv_runtime=CpuFlag(""))
    if winversion >= 7:
        flags["hv_relaxed"] = CpuFlag("")
        if version >= (2, 12):
            flags.update(hv_synic=CpuFlag(""), hv_stimer=CpuFlag(""))
        if version >= (3, 1):
            flags["hv_ipi"] = CpuFlag("")
    return flags


def _forced(cputype: str, kvm: bool, hidden: bool) -> dict[str, CpuFlag]:
    flags = {}
    if cputype != "host" and kvm:
        flags["enforce"] = CpuFlag("")
    if hidden:
        flags["kvm"] = CpuFlag("", "off")
    vendor = vendor_of(cputype)
    if vendor is not None:
        flags["vendor"] = CpuFlag("", vendor)
    return flags
