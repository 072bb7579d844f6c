"""The permission checks of the ``/access`` endpoints that are more than "privilege P on path".

Proxmox declares them on its API methods (``PVE/RPCEnvironment.pm`` exec_api2_perm_check):
``userid-group``, ``userid-param`` and ``perm-modify``. root@pam passes every check (as in
``check_api2_permissions``); its API tokens do not get that pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from respaldo.access import ids
from respaldo.access.control import Access, PrincipalLike, authid_of
from respaldo.errors import NotFoundError, PermissionDenied


def _root(who: PrincipalLike) -> bool:
    return authid_of(who) == ids.ROOT


def groups_allowed(access: Access, who: PrincipalLike, privs: Iterable[str]) -> set[str]:
    """Groups on whose ``/access/groups/<group>`` ``who`` holds any of ``privs``."""
    view, authid, wanted = access.view(), authid_of(who), list(privs)
    return {
        group
        for group in view.cfg.groups
        if view.allowed(authid, f"/access/groups/{group}", wanted, any_of=True)
    }


def users_allowed(access: Access, who: PrincipalLike, privs: Iterable[str]) -> set[str] | None:
    """Users ``who`` may see or change with any of ``privs``: None for all of them (any of
    ``privs`` on ``/access/groups``), else the members of the groups it holds them on."""
    wanted = list(privs)
    if _root(who) or access.view().allowed(authid_of(who), "/access/groups", wanted, True):
        return None
    cfg = access.config()
    return {
        user for group in groups_allowed(access, who, wanted) for user in cfg.groups[group].users
    }


def check_userid_group(
    access: Access,
    who: PrincipalLike,
    userid: str,
    privs: Iterable[str],
    groups_param: Literal["create", "update"] | None = None,
    groups: str | list[str] | None = None,
) -> None:
    """``['userid-group', privs, groups_param => ...]``: ``who`` holds any of ``privs`` on
    ``/access/groups``, or on a group ``userid`` is in; when ``groups_param`` is given, also on
    every group in ``groups`` (a list, or its text). With ``groups_param='create'`` the user
    need not exist yet."""
    if _root(who):
        return
    wanted = list(privs)
    if groups_param != "create" and userid not in access.config().users:
        raise NotFoundError(f"user '{userid}' does not exist")
    view, authid = access.view(), authid_of(who)
    if view.allowed(authid, "/access/groups", wanted, any_of=True):
        return
    allowed = groups_allowed(access, who, wanted)
    if groups_param:
        listed = ids.names(groups)
        if not listed:
            raise PermissionDenied(f"/access/groups, {'|'.join(wanted)}")
        for group in listed:
            if group not in allowed:
                raise PermissionDenied(f"/access/groups/{group}, {'|'.join(wanted)}")
    if groups_param != "create":
        members = {user for group in allowed for user in view.cfg.groups[group].users}
        if userid not in members:
            raise PermissionDenied()


def check_userid_param(
    access: Access, who: PrincipalLike, userid: str, test: Literal["self", "Realm.AllocateUser"]
) -> None:
    """``['userid-param', 'self']``: ``who`` is the user ``userid`` (which must exist);
    ``['userid-param', 'Realm.AllocateUser']``: ``who`` holds it on the user's realm."""
    if _root(who):
        return
    _, realm = ids.parse_userid(userid)
    if test == "self":
        if userid not in access.config().users:
            raise NotFoundError(f"user '{userid}' does not exist")
        if authid_of(who) != userid:
            raise PermissionDenied()
        return
    access.check(who, f"/access/realm/{realm}", ["Realm.AllocateUser"])


def check_perm_modify(access: Access, who: PrincipalLike, path: str | None) -> None:
    """``['perm-modify', path]``: ``Permissions.Modify`` on the path, or on a guest, storage or
    pool path the privilege that allocates it (VM.Allocate, Datastore.Allocate,
    Pool.Allocate); without a path, ``Permissions.Modify`` on ``/access``."""
    if _root(who):
        return
    if not path:
        access.check(who, "/access", ["Permissions.Modify"])
        return
    wanted = ["Permissions.Modify"]
    for prefix, priv in (
        ("/storage/", "Datastore.Allocate"),
        ("/vms/", "VM.Allocate"),
        ("/pool/", "Pool.Allocate"),
    ):
        if path.startswith(prefix) and len(path) > len(prefix):
            wanted.append(priv)
    access.check(who, path, wanted, any=True)
