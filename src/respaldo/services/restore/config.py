"""The VM config a restore writes: the archived one, pointed at the new volumes."""

from __future__ import annotations

import copy
import random
import uuid

from respaldo.config.keyvalue import Comment, KeyValueFile, KeyValueSection, Option
from respaldo.config.propstring import format_propstring, format_size, parse_propstring
from respaldo.config.vmconfig import (
    NET_KEY,
    UNUSED_KEY,
    Drive,
    NetDevice,
    VmConfig,
    is_drive_key,
)
from respaldo.services.disks import is_owned_volume
from respaldo.services.qmconfig import random_mac

QMDUMP_MAP = "qmdump#map:"
DROPPED_KEYS = ("lock", "parent")


def restored_config(
    archived: VmConfig,
    volumes: dict[str, tuple[str, int]],
    unique: bool,
    rng: random.Random | None = None,
) -> VmConfig:
    """``volumes``: disk key -> (new volume id, size). Archived disks that are not restored
    (``backup=0``, or left out by ``--disks``) come back commented out, as in Proxmox."""
    main = copy.deepcopy(archived.data.main)
    lines: list[Comment | Option] = []
    for line in main.lines:
        if isinstance(line, Comment):
            if not line.text.startswith(QMDUMP_MAP):
                lines.append(line)
            continue
        if line.key in DROPPED_KEYS or UNUSED_KEY.match(line.key):
            continue  # runtime state of the archived VM, not of the restored one
        lines.append(_restored_line(line, volumes, unique, rng))
    config = VmConfig(archived.vmid, KeyValueFile(main=KeyValueSection(lines)))
    vmgenid = config.get("vmgenid")
    if vmgenid and vmgenid != "0":
        config.set("vmgenid", str(uuid.uuid4()))  # a restored VM is a new generation, always
    if unique:
        _new_smbios_uuid(config)
    return config


def _restored_line(
    line: Option, volumes: dict[str, tuple[str, int]], unique: bool, rng: random.Random | None
) -> Option | Comment:
    if line.key in volumes:  # any archived disk: scsiN..., efidisk0, tpmstate0
        drive = Drive.parse(line.key, line.value)
        volid, size = volumes[line.key]
        # the format may change on restore (restore_update_config_line drops it)
        props = {k: v for k, v in drive.props.items() if k != "format"}
        props["size"] = format_size(size)
        return Option(line.key, Drive(line.key, volid, props).format())
    if is_drive_key(line.key) and not Drive.parse(line.key, line.value).is_cdrom:
        # Not in the archive (backup=0, an EFI disk of a SeaBIOS VM, left out by --disks): a
        # drive line would name another VM's volume, so it is kept as a comment.
        return Comment(f"{line.key}: {line.value}")
    if unique and NET_KEY.match(line.key):
        net = NetDevice.parse(line.key, line.value)
        props = {net.model: random_mac(rng), **net.props}
        return Option(line.key, format_propstring(props, None))
    return Option(line.key, line.value)


def _new_smbios_uuid(config: VmConfig) -> None:
    smbios = config.get("smbios1")
    props = parse_propstring(smbios, None, "smbios1") if smbios else {}
    props["uuid"] = str(uuid.uuid4())
    config.set("smbios1", format_propstring(props, None))


def merge_over_existing(
    new: VmConfig, old: VmConfig, restored_keys: set[str]
) -> tuple[VmConfig, list[str]]:
    """A full restore over an existing VM: the new config, where the old VM's disks that the
    archive does not cover stay as ``unusedN``. Returns it and the old volumes to free."""
    to_free: list[str] = []
    keep: list[str] = []
    for drive in old.disks():
        if not is_owned_volume(drive.volume, old.vmid):
            continue
        (to_free if drive.key in restored_keys else keep).append(drive.volume)
    keep += [volume for _, volume in old.unused_volumes()]
    for volume in keep:
        new.set(new.next_unused_key(), volume)
    return new, to_free


def replace_disks(old: VmConfig, volumes: dict[str, tuple[str, int]]) -> tuple[VmConfig, list[str]]:
    """A partial restore (``--disks``) over an existing VM: its own config, with the chosen
    disks pointing at the restored volumes. Returns it and the replaced volumes to free."""
    config = VmConfig(old.vmid, copy.deepcopy(old.data))
    to_free = []
    for key, (volid, size) in volumes.items():
        old_drive = config.drive(key)
        props = dict(old_drive.props) if old_drive else {}
        props.pop("format", None)
        if old_drive and is_owned_volume(old_drive.volume, old.vmid):
            to_free.append(old_drive.volume)
        props["size"] = format_size(size)
        config.set_drive(Drive(key, volid, props))
    return config, to_free
