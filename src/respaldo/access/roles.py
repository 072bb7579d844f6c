"""Roles: the service behind ``pveum role ...`` and ``/access/roles`` (``PVE/API2/Role.pm``).

Built-in roles (:data:`~respaldo.access.privileges.BUILTIN_ROLES`) are listed with
``special: 1`` and cannot be changed or removed; custom role ids may not start with ``PVE``
(any case), which Proxmox keeps for its own.
"""

from __future__ import annotations

from typing import Any

from respaldo.access import ids
from respaldo.access.control import Access
from respaldo.access.privileges import BUILTIN_ROLES, check_privileges
from respaldo.errors import ConflictError, InputError, NotFoundError


def _privs(privs: str | list[str] | None) -> set[str]:
    names = ids.names(privs)
    return set(check_privileges(names))


def _not_builtin(roleid: str, verb: str) -> None:
    if roleid in BUILTIN_ROLES:
        raise InputError("roleid", roleid, f"a built-in role cannot be {verb}")


def list_roles(access: Access) -> list[dict[str, Any]]:
    """``GET /access/roles``: [{roleid, privs (comma list), special 0/1}], built-in and
    custom."""
    cfg = access.config()
    roles = {**{name: set(privs) for name, privs in BUILTIN_ROLES.items()}, **cfg.roles}
    return [
        {
            "roleid": roleid,
            "privs": ",".join(sorted(roles[roleid])),
            "special": int(roleid in BUILTIN_ROLES),
        }
        for roleid in sorted(roles)
    ]


def get_role(access: Access, roleid: str) -> dict[str, int]:
    """``GET /access/roles/{roleid}``: {privilege: 1}."""
    privs = access.config().role(roleid)
    if privs is None:
        raise NotFoundError(f"role '{roleid}' does not exist")
    return dict.fromkeys(sorted(privs), 1)


def add_role(access: Access, roleid: str, *, privs: str | list[str] | None = None) -> None:
    """``POST /access/roles`` / ``pveum role add``; ``privs`` a list of privileges."""
    ids.check_roleid(roleid)
    if roleid.lower().startswith("pve"):
        raise InputError("roleid", roleid, "role ids starting with 'PVE' (any case) are reserved")
    wanted = _privs(privs)
    with access.files.edit() as cfg:
        if roleid in cfg.roles or roleid in BUILTIN_ROLES:
            raise ConflictError(f"role '{roleid}' already exists")
        cfg.roles[roleid] = wanted


def modify_role(
    access: Access, roleid: str, *, privs: str | list[str] | None = None, append: bool = False
) -> None:
    """``PUT /access/roles/{roleid}`` / ``pveum role modify``: replace the privileges, or add
    to them with ``append``."""
    _not_builtin(roleid, "modified")
    wanted = _privs(privs)
    if append and privs is None:
        raise InputError("append", append, "needs 'privs'")
    with access.files.edit() as cfg:
        current = cfg.roles.get(roleid)
        if current is None:
            raise NotFoundError(f"role '{roleid}' does not exist")
        cfg.roles[roleid] = (current | wanted) if append else wanted


def delete_role(access: Access, roleid: str) -> None:
    """``DELETE /access/roles/{roleid}`` / ``pveum role delete``, and the ACL entries that
    name it (Proxmox drops those at its next read of user.cfg)."""
    _not_builtin(roleid, "deleted")
    with access.files.edit() as cfg:
        if roleid not in cfg.roles:
            raise NotFoundError(f"role '{roleid}' does not exist")
        del cfg.roles[roleid]
        for node in cfg.acl.values():
            for _, members in node.kinds():
                for flags in members.values():
                    flags.pop(roleid, None)
