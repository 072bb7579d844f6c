"""What changing a VM's config needs, key by key (qemu-server ``PVE/API2/Qemu.pm``:
``check_vm_modify_config_perm``, ``check_storage_access``, the drive checks of ``update_vm``).

- Each option needs the ``VM.Config.*`` privilege of its group on ``/vms/<vmid>`` (CPU, memory,
  hardware type, general options, disks, network, cloud-init); ``startup`` also ``Sys.Modify``
  on ``/``; an option of no group (``args``, ``lock``, ``vmgenid``...) is root@pam's alone.
- A drive needs ``VM.Config.CDROM`` when it is a CD-ROM, else ``VM.Config.Disk``; its volume:
  a new disk (``<storage>:<GiB>``) ``Datastore.AllocateSpace`` on the storage, the physical
  drive (``cdrom``) ``Sys.Console`` on ``/``, an existing volume the read access of
  :mod:`respaldo.api.volaccess` (a path only for root@pam).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from respaldo.api.method import Call
from respaldo.api.volaccess import check_volume_access
from respaldo.config.vmconfig import UNUSED_KEY, Drive, is_drive_key
from respaldo.errors import InputError, PermissionDenied

#: The option groups of qemu-server's ``$cpuoptions``, ``$memoryoptions``, ... -> privilege.
_GROUPS: dict[str, frozenset[str]] = {
    "VM.Config.CPU": frozenset(
        {"cores", "cpu", "runningcpu", "cpulimit", "cpuunits", "numa", "smp", "sockets", "vcpus"}
    ),
    "VM.Config.Memory": frozenset({"memory", "balloon", "shares", "allow-ksm"}),
    "VM.Config.HWType": frozenset(
        {
            "acpi",
            "hotplug",
            "kvm",
            "machine",
            "runningmachine",
            "scsihw",
            "smbios1",
            "tablet",
            "vga",
            "watchdog",
            "audio0",
            "rng0",
        }
    ),
    "VM.Config.Options": frozenset(
        {
            "agent",
            "autostart",
            "bios",
            "description",
            "keyboard",
            "localtime",
            "migrate_downtime",
            "migrate_speed",
            "name",
            "onboot",
            "ostype",
            "protection",
            "reboot",
            "startdate",
            "startup",
            "tdf",
            "template",
            # qemu-server checks tags by their own rules (assert_tag_permissions), which start
            # from VM.Config.Options
            "tags",
        }
    ),
    "VM.PowerMgmt": frozenset({"freeze"}),
    "VM.Config.Disk": frozenset({"boot", "bootdisk", "vmstatestorage"}),
}
_CLOUDINIT = frozenset(
    {"cicustom", "cipassword", "citype", "ciuser", "ciupgrade", "nameserver", "searchdomain"}
    | {"sshkeys"}
)


def is_drive(key: str) -> bool:
    """A drive key (``scsi0``, ``efidisk0``...) or ``cdrom`` (ide2's alias)."""
    return is_drive_key(key) or key == "cdrom"


def _need(call: Call, vmid: int, *privs: str, any: bool = False) -> None:
    call.access.check(call.principal, f"/vms/{vmid}", privs, any=any)


def check_option(call: Call, vmid: int, key: str) -> None:
    """The privilege of setting or removing option ``key`` (drives are checked by value,
    :func:`check_drive`); PermissionDenied for an option only root@pam may set."""
    if call.is_root or is_drive(key) or UNUSED_KEY.match(key):
        return
    for priv, keys in _GROUPS.items():
        if key in keys:
            _need(call, vmid, priv)
            if key == "startup":
                call.access.check(call.principal, "/", ("Sys.Modify",))
            return
    if re.fullmatch(r"numa\d+", key):
        _need(call, vmid, "VM.Config.CPU")
    elif re.fullmatch(r"net\d+", key):
        _need(call, vmid, "VM.Config.Network")
    elif key in _CLOUDINIT or re.fullmatch(r"ipconfig\d+", key):
        _need(call, vmid, "VM.Config.Cloudinit", "VM.Config.Network", any=True)
    elif key == "vmstate":
        _need(call, vmid, "VM.Config.Disk", "VM.PowerMgmt")
    else:
        raise PermissionDenied(f"only root can set '{key}' config")


def _drive(key: str, value: str) -> Drive:
    return Drive.parse("ide2" if key == "cdrom" else key, value)


def check_drive(call: Call, vmid: int, key: str, value: str) -> None:
    """The privilege of setting drive ``key`` to ``value`` and of using the volume it
    names."""
    drive = _drive(key, value)
    cdrom = key == "cdrom" or drive.is_cdrom
    if drive.is_cloudinit:
        _need(call, vmid, "VM.Config.Cloudinit", "VM.Config.CDROM")
    else:
        _need(call, vmid, "VM.Config.CDROM" if cdrom else "VM.Config.Disk")
    check_drive_volume(call, vmid, key, drive, cdrom)


def check_drive_removal(call: Call, vmid: int, key: str, value: str | None) -> None:
    """The privilege of removing drive ``key`` whose value is ``value`` now."""
    cdrom = key == "cdrom" or (value is not None and _drive(key, value).is_cdrom)
    _need(call, vmid, "VM.Config.CDROM" if cdrom else "VM.Config.Disk")


def check_drive_volume(call: Call, vmid: int, key: str, drive: Drive, cdrom: bool) -> None:
    """May the caller put the drive's volume into drive ``key`` of VM ``vmid``?"""
    volume = drive.volume
    if volume in ("none", "cloudinit") or drive.is_cloudinit:
        return
    if cdrom and volume == "cdrom":
        call.access.check(call.principal, "/", ("Sys.Console",))
        return
    new_disk = drive.new_disk
    if new_disk is not None and not cdrom:
        if new_disk[0] is not None:  # no storage named: the service refuses it
            path = f"/storage/{new_disk[0]}"
            call.access.check(call.principal, path, ("Datastore.AllocateSpace",))
        return
    name = check_volume_access(call, volume, vmid=vmid, what=key)
    if name is not None and name.vtype not in ("images", "iso"):
        raise InputError(key, volume, "content type needs to be 'images' or 'iso'")


def check_config_change(
    call: Call,
    vmid: int,
    options: Mapping[str, str],
    deleted: Iterable[str] = (),
    current: Mapping[str, str] | None = None,
) -> None:
    """Everything setting ``options`` (key -> config text) and removing ``deleted`` from VM
    ``vmid`` needs; ``current`` is its config now (the value of a drive removed decides
    between CD-ROM and disk)."""
    current = current or {}
    for key in deleted:
        check_option(call, vmid, key)
        if is_drive(key):
            check_drive_removal(call, vmid, key, current.get(key))
    for key, value in options.items():
        check_option(call, vmid, key)
        if is_drive(key):
            check_drive(call, vmid, key, value)
        elif UNUSED_KEY.match(key):
            check_volume_access(call, value, vmid=vmid, content="images", what=key)
