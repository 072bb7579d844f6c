"""ACLs: the service behind ``pveum acl ...`` and ``/access/acl`` (``PVE/API2/ACL.pm``)."""

from __future__ import annotations

from typing import Any

from respaldo.access import ids
from respaldo.access.checks import check_perm_modify
from respaldo.access.control import Access, PrincipalLike, authid_of
from respaldo.access.perms import Privs
from respaldo.access.usercfg import AclEntries, RoleFlags, UserConfig
from respaldo.errors import InputError, NotFoundError, PermissionDenied


def list_acl(access: Access, *, who: PrincipalLike | None = None) -> list[dict[str, Any]]:
    """``GET /access/acl``: [{path, type (user|group|token), ugid, roleid, propagate 0/1}]
    in tree order; with ``who``, only paths it may change permissions on (or all with
    Sys.Audit on ``/access``)."""
    cfg = access.config()
    audit = who is None or access.view().allowed(authid_of(who), "/access", ["Sys.Audit"])
    result = []
    for path in cfg.acl_tree_paths():
        node = cfg.acl.get(path)
        if node is None or not (audit or _may_modify(access, who, path)):
            continue
        for kind, members in node.kinds():
            for ugid in sorted(members):
                for roleid, propagate in sorted(members[ugid].items()):
                    result.append(
                        {
                            "path": path,
                            "type": kind,
                            "ugid": ugid,
                            "roleid": roleid,
                            "propagate": int(propagate),
                        }
                    )
    return result


def _may_modify(access: Access, who: PrincipalLike | None, path: str) -> bool:
    try:
        check_perm_modify(access, who or ids.ROOT, path)
    except PermissionDenied:
        return False
    return True


def modify_acl(
    access: Access,
    path: str,
    roles: str | list[str],
    *,
    users: str | list[str] | None = None,
    groups: str | list[str] | None = None,
    tokens: str | list[str] | None = None,
    propagate: bool = True,
    delete: bool = False,
    who: PrincipalLike | None = None,
) -> None:
    """``PUT /access/acl`` / ``pveum acl modify|delete``: give (or with ``delete`` take away)
    ``roles`` on ``path`` to users, groups and API tokens. With ``who`` (the caller) lacking
    Permissions.Modify on the path, it may only hand out roles whose privileges it holds
    there itself (propagated, for a propagated entry), and never NoAccess."""
    members = {"users": ids.names(users), "groups": ids.names(groups), "tokens": ids.names(tokens)}
    if not any(members.values()):
        raise InputError("users", "", "either 'users', 'groups' or 'tokens' is required")
    normalized = ids.normalize_path(path)
    if normalized is None or (not delete and not ids.check_acl_path(normalized)):
        raise InputError("path", path, "not a valid ACL path")
    with access.files.edit() as cfg:
        held = access.view().privileges(authid_of(who), normalized) if who else None
        node = cfg.acl_node(normalized)
        for role in ids.names(roles):
            _check_role(cfg, role, held, propagate, delete)
            for target in _targets(cfg, node, members):
                if delete:
                    target.pop(role, None)
                else:
                    target[role] = propagate
        _drop_empty(cfg, normalized)


def _check_role(
    cfg: UserConfig, role: str, held: Privs | None, propagate: bool, delete: bool
) -> None:
    privs = cfg.role(role)
    if privs is None:
        raise NotFoundError(f"role '{role}' does not exist")
    if held is None or "Permissions.Modify" in held:
        return
    verb = "remove" if delete else "add"
    if role == "NoAccess" or not privs <= held.keys():
        raise InputError(
            "roles", role, f"cannot {verb} it: needs Permissions.Modify or all of its privileges"
        )
    if propagate and not delete and not all(held[priv] for priv in privs):
        raise InputError(
            "roles", role, f"cannot {verb} it propagated: needs its privileges propagated"
        )


def _targets(cfg: UserConfig, node: AclEntries, members: dict[str, list[str]]) -> list[RoleFlags]:
    targets = []
    for group in members["groups"]:
        if group not in cfg.groups:
            raise NotFoundError(f"group '{group}' does not exist")
        targets.append(node.groups.setdefault(group, {}))
    for userid in members["users"]:
        ids.parse_userid(userid, "users")
        if userid not in cfg.users:
            raise NotFoundError(f"user '{userid}' does not exist")
        targets.append(node.users.setdefault(userid, {}))
    for tokenid in members["tokens"]:
        userid, name = ids.parse_tokenid(tokenid, "tokens")
        user = cfg.users.get(userid)
        if user is None or name not in user.tokens:
            raise NotFoundError(f"no such token '{name}' for user '{userid}'")
        targets.append(node.tokens.setdefault(tokenid, {}))
    return targets


def _drop_empty(cfg: UserConfig, path: str) -> None:
    node = cfg.acl[path]
    for _, members in node.kinds():
        for ugid in [ugid for ugid, flags in members.items() if not flags]:
            del members[ugid]
    if not (node.users or node.groups or node.tokens):
        del cfg.acl[path]
