"""Groups: the service behind ``pveum group ...`` and ``/access/groups`` (``PVE/API2/Group.pm``).

Members are set on the users (``modify_user(groups=...)``); a group has an id and a comment.
"""

from __future__ import annotations

from typing import Any

from respaldo.access import ids
from respaldo.access.checks import groups_allowed
from respaldo.access.control import Access, PrincipalLike
from respaldo.access.usercfg import Group, UserConfig
from respaldo.errors import ConflictError, NotFoundError

_SEE_GROUPS = ("User.Modify", "Sys.Audit", "Group.Allocate")


def _existing(cfg: UserConfig, groupid: str) -> Group:
    group = cfg.groups.get(groupid)
    if group is None:
        raise NotFoundError(f"group '{groupid}' does not exist")
    return group


def list_groups(access: Access, *, who: PrincipalLike | None = None) -> list[dict[str, Any]]:
    """``GET /access/groups``: [{groupid, comment?, users (comma list)}]; with ``who``, only
    groups it holds User.Modify, Sys.Audit or Group.Allocate on."""
    cfg = access.config()
    visible = groups_allowed(access, who, _SEE_GROUPS) if who else set(cfg.groups)
    result = []
    for groupid in sorted(visible):
        group = cfg.groups[groupid]
        entry: dict[str, Any] = {"groupid": groupid, "users": ",".join(sorted(group.users))}
        if group.comment:
            entry["comment"] = group.comment
        result.append(entry)
    return result


def get_group(access: Access, groupid: str) -> dict[str, Any]:
    """``GET /access/groups/{groupid}``: {comment?, members: [userid...]}."""
    group = _existing(access.config(), groupid)
    result: dict[str, Any] = {"members": sorted(group.users)}
    if group.comment:
        result["comment"] = group.comment
    return result


def add_group(access: Access, groupid: str, *, comment: str | None = None) -> None:
    """``POST /access/groups`` / ``pveum group add``; ConflictError if it exists."""
    ids.check_groupid(groupid)
    with access.files.edit() as cfg:
        if groupid in cfg.groups:
            raise ConflictError(f"group '{groupid}' already exists")
        cfg.groups[groupid] = Group(comment=comment or None)


def modify_group(access: Access, groupid: str, *, comment: str | None = None) -> None:
    """``PUT /access/groups/{groupid}`` / ``pveum group modify``."""
    with access.files.edit() as cfg:
        group = _existing(cfg, groupid)
        if comment is not None:
            group.comment = comment or None


def delete_group(access: Access, groupid: str) -> None:
    """``DELETE /access/groups/{groupid}`` / ``pveum group delete``: the group and its ACL
    entries (its members stay)."""
    with access.files.edit() as cfg:
        _existing(cfg, groupid)
        del cfg.groups[groupid]
        for node in cfg.acl.values():
            node.groups.pop(groupid, None)
