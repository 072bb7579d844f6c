"""The basic value formats of Proxmox's schema, registered for :mod:`respaldo.config.schema`.

Names and rules as pve-common ``PVE/JSONSchema.pm`` registers them (``pve-vmid``,
``pve-vmid-list``, ``pve-storage-id``, ``pve-storage-id-list``, ``pve-configid``,
``pve-configid-list``, ``pve-node``, ``disk-size``) and pve-storage ``PVE/Storage.pm``
(``pve-volume-id``, ``pve-volume-id-or-path``), plus ``prune-backups`` (pve-storage
``PVE/Storage/Plugin.pm``).
Importing this module registers them; every schema module imports it.
"""

from __future__ import annotations

import re

from respaldo.config.ids import (
    check_storage_id,
    check_vmid,
    is_volume_id,
    parse_volid,
)
from respaldo.config.propstring import parse_size
from respaldo.config.prune import format_prune_backups, parse_prune_backups, prune_json
from respaldo.config.schema import register_format
from respaldo.errors import InputError

_LIST_SPLIT = re.compile(r"[,;\s]+")
_CONFIG_ID = re.compile(r"[a-z][a-z0-9_-]+", re.ASCII | re.IGNORECASE)
_NODE = re.compile(r"[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?", re.ASCII)


def _renamed(err: InputError, key: str) -> InputError:
    return InputError(key, err.value, err.reason)


def vmid(text: str, key: str) -> int:
    try:
        return check_vmid(text)
    except InputError as err:
        raise _renamed(err, key) from None


def vmid_list(text: str, key: str) -> list[int]:
    """``100,101 102;103``: VMIDs split at commas, semicolons or spaces."""
    return [vmid(part, key) for part in _LIST_SPLIT.split(text.strip()) if part]


def storage_id(text: str, key: str) -> str:
    try:
        return check_storage_id(text)
    except InputError as err:
        raise _renamed(err, key) from None


def storage_id_list(text: str, key: str) -> list[str]:
    return [storage_id(part, key) for part in _LIST_SPLIT.split(text.strip()) if part]


def volume_id(text: str, key: str) -> str:
    if "\0" in text or "\n" in text:
        raise InputError(key, text, "a volume id holds no NUL or line break")
    try:
        parse_volid(text, key)
    except InputError as err:
        raise _renamed(err, key) from None
    return text


def volume_id_or_path(text: str, key: str) -> str:
    """A volume id, or a file path (absolute, or relative to the current directory)."""
    if not is_volume_id(text):
        if "\0" in text or "\n" in text:
            raise InputError(key, text, "a path holds no NUL or line break")
        return text
    return volume_id(text, key)


def config_id(text: str, key: str) -> str:
    """pve-common ``pve-configid``: ``[a-z][a-z0-9_-]+``, in any case."""
    if not _CONFIG_ID.fullmatch(text):
        raise InputError(
            key,
            text,
            "invalid configuration ID (a letter, then letters, digits, '-' or '_')",
        )
    return text


def config_id_list(text: str, key: str) -> list[str]:
    return [config_id(part, key) for part in _LIST_SPLIT.split(text.strip()) if part]


def node_name(text: str, key: str) -> str:
    if not _NODE.fullmatch(text) or len(text) > 63:
        raise InputError(key, text, "expected a host name (letters, digits, '-')")
    return text


def disk_size(text: str, key: str) -> int:
    """``32G``, ``512M``, ``1024`` (bytes) -> bytes."""
    return parse_size(text, key)


def prune_backups(text: str, key: str) -> object:
    return parse_prune_backups(text)


register_format("pve-vmid", vmid, "<integer 100..999999999>")
register_format(
    "pve-vmid-list", vmid_list, "<string>", print=lambda vmids: ",".join(map(str, vmids))
)
register_format("pve-storage-id", storage_id, "<storage ID>")
register_format("pve-storage-id-list", storage_id_list, "<storage ID list>")
register_format("pve-volume-id", volume_id, "<volume ID>")
register_format("pve-volume-id-or-path", volume_id_or_path, "<volume ID or path>")
register_format("pve-configid", config_id, "<string>")
register_format("pve-configid-list", config_id_list, "<string>", print=",".join)
register_format("pve-node", node_name, "<node name>")
register_format("disk-size", disk_size, "<size (e.g. 32G)>")
register_format(
    "prune-backups",
    prune_backups,
    "[keep-all=<1|0>] [,keep-daily=<N>] [,keep-hourly=<N>] [,keep-last=<N>] "
    "[,keep-monthly=<N>] [,keep-weekly=<N>] [,keep-yearly=<N>]",
    print=format_prune_backups,
    json=prune_json,
)
