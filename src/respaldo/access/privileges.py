"""Privileges and the built-in roles, as Proxmox VE 9 defines them (``PVE/AccessControl.pm``).

Proxmox sorts the privileges of each category into four tiers: ``root`` (only root@pam and the
Administrator role hold them), ``admin``, ``user`` and ``audit``. The built-in roles follow
from the tiers:

- ``PVE<Category>Admin``: admin + user + audit of the category;
- ``PVE<Category>User``: user + audit, only for categories with a user tier;
- ``PVEAdmin``: admin + user + audit of every category, less ``Mapping.Modify``;
- ``PVEAuditor``: audit of every category;
- ``PVETemplateUser``: ``VM.Clone`` and ``VM.Audit``;
- ``Administrator``: every privilege; ``NoAccess``: none (and it masks every other role).

Built-in roles are never written to user.cfg and cannot be changed or removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from respaldo.errors import InputError


@dataclass(frozen=True)
class _Tiers:
    root: tuple[str, ...] = ()
    admin: tuple[str, ...] = ()
    user: tuple[str, ...] = ()
    audit: tuple[str, ...] = ()


_CATEGORIES: dict[str, _Tiers] = {
    "VM": _Tiers(
        admin=(
            "VM.Allocate",
            "VM.Clone",
            "VM.Config.CPU",
            "VM.Config.Disk",
            "VM.Config.HWType",
            "VM.Config.Memory",
            "VM.Config.Network",
            "VM.Config.Options",
            "VM.GuestAgent.Unrestricted",
            "VM.Migrate",
            "VM.Replicate",
            "VM.Snapshot",
            "VM.Snapshot.Rollback",
        ),
        user=(
            "VM.Backup",
            "VM.Config.CDROM",
            "VM.Config.Cloudinit",
            "VM.Console",
            "VM.GuestAgent.FileRead",
            "VM.GuestAgent.FileSystemMgmt",
            "VM.GuestAgent.FileWrite",
            "VM.PowerMgmt",
        ),
        audit=("VM.Audit", "VM.GuestAgent.Audit"),
    ),
    "Sys": _Tiers(
        root=("Sys.AccessNetwork", "Sys.Incoming", "Sys.Modify", "Sys.PowerMgmt"),
        admin=("Sys.Console", "Sys.Syslog"),
        audit=("Sys.Audit",),
    ),
    "Datastore": _Tiers(
        admin=("Datastore.Allocate", "Datastore.AllocateTemplate"),
        user=("Datastore.AllocateSpace",),
        audit=("Datastore.Audit",),
    ),
    "SDN": _Tiers(
        admin=("SDN.Allocate", "SDN.Audit"),
        user=("SDN.Use",),
        audit=("SDN.Audit",),
    ),
    "User": _Tiers(
        root=("Realm.Allocate",),
        admin=("Group.Allocate", "Realm.AllocateUser", "User.Modify"),
    ),
    "Pool": _Tiers(
        admin=("Pool.Allocate",),
        user=("Pool.Audit",),
        audit=("Pool.Audit",),
    ),
    "Mapping": _Tiers(
        admin=("Mapping.Modify",),
        user=("Mapping.Use",),
        audit=("Mapping.Audit",),
    ),
}

#: Every privilege Proxmox VE knows; ``Permissions.Modify`` belongs to no category.
PRIVILEGES: frozenset[str] = frozenset(
    {"Permissions.Modify"}
    | {
        priv
        for tiers in _CATEGORIES.values()
        for priv in tiers.root + tiers.admin + tiers.user + tiers.audit
    }
)


def _builtin_roles() -> dict[str, frozenset[str]]:
    roles: dict[str, set[str]] = {"PVEAdmin": set(), "PVEAuditor": set()}
    for category, tiers in _CATEGORIES.items():
        managed = set(tiers.admin + tiers.user + tiers.audit)
        roles[f"PVE{category}Admin"] = managed
        roles["PVEAdmin"] |= managed
        if tiers.user:
            roles[f"PVE{category}User"] = set(tiers.user + tiers.audit)
        roles["PVEAuditor"] |= set(tiers.audit)
    # Mappings reach host hardware: only Administrator and PVEMappingAdmin may change them.
    roles["PVEAdmin"].discard("Mapping.Modify")
    roles["PVETemplateUser"] = {"VM.Audit", "VM.Clone"}
    roles["Administrator"] = set(PRIVILEGES)
    roles["NoAccess"] = set()
    return {name: frozenset(privs) for name, privs in roles.items()}


#: The roles every installation has: name -> privileges.
BUILTIN_ROLES: Mapping[str, frozenset[str]] = _builtin_roles()


def is_builtin_role(role: str) -> bool:
    return role in BUILTIN_ROLES


def check_privilege(priv: str, name: str = "privs") -> str:
    if priv not in PRIVILEGES:
        raise InputError(name, priv, "not a privilege (see `pveum role list` for the known ones)")
    return priv


def check_privileges(privs: Iterable[str], name: str = "privs") -> frozenset[str]:
    return frozenset(check_privilege(priv, name) for priv in privs)
