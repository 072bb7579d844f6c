"""Users: the service behind ``pveum user ...``, ``pveum passwd`` and ``/access/users``.

Results are plain dicts with Proxmox's field names (``PVE/API2/User.pm``): flags as 0/1, times
in seconds since the epoch (0 = never). Route-level permission checks are the caller's (see
:mod:`respaldo.access.checks`); where Proxmox filters a result by the caller's privileges, the
``who`` argument does that (None: no filter, as for root on the CLI).
"""

from __future__ import annotations

from typing import Any

from respaldo.access import ids
from respaldo.access.checks import users_allowed
from respaldo.access.control import Access, AuthMethod, Principal, PrincipalLike, authid_of
from respaldo.access.realms import REALMS, check_known_realm
from respaldo.access.usercfg import ApiToken, User, UserConfig
from respaldo.errors import ConflictError, InputError, NotFoundError, PermissionDenied

PASSWORD_MIN, PASSWORD_MAX = 8, 64
_TEXT_FIELDS = ("firstname", "lastname", "email", "comment", "keys")


def token_info(token: ApiToken) -> dict[str, Any]:
    """An API token as the API shows it: {expire, privsep, comment?}."""
    info: dict[str, Any] = {"expire": token.expire, "privsep": int(token.privsep)}
    if token.comment:
        info["comment"] = token.comment
    return info


def _user_data(userid: str, user: User, cfg: UserConfig, full: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"enable": int(user.enable), "expire": user.expire}
    for name in _TEXT_FIELDS:
        value = getattr(user, name)
        if value:
            data[name] = value
    if full:
        data["groups"] = cfg.groups_of(userid)
        data["tokens"] = {name: token_info(token) for name, token in sorted(user.tokens.items())}
    return data


def get_user(access: Access, userid: str) -> dict[str, Any]:
    """``GET /access/users/{userid}``: {enable, expire, firstname?, lastname?, email?,
    comment?, keys?, groups: [...], tokens: {name: {expire, privsep, comment?}}}."""
    ids.parse_userid(userid)
    cfg = access.config()
    return _user_data(userid, _existing(cfg, userid), cfg, full=True)


def list_users(
    access: Access,
    *,
    enabled: bool | None = None,
    full: bool = False,
    who: PrincipalLike | None = None,
) -> list[dict[str, Any]]:
    """``GET /access/users``: [{userid, enable, expire, ..., realm-type}], with ``full`` also
    ``groups`` (comma list) and ``tokens`` ([{tokenid, expire, privsep, comment?}]). With
    ``who``, only the users it may see: all with User.Modify or Sys.Audit on
    ``/access/groups``, else the members of groups it holds one of them on, and itself."""
    cfg = access.config()
    visible = users_allowed(access, who, ["User.Modify", "Sys.Audit"]) if who else None
    result = []
    for userid in sorted(cfg.users):
        if visible is not None and userid not in visible and userid != authid_of(who or ""):
            continue
        user = cfg.users[userid]
        if enabled is not None and user.enable != enabled:
            continue
        entry = {"userid": userid, **_user_data(userid, user, cfg, full)}
        if full:
            entry["groups"] = ",".join(entry["groups"])
            entry["tokens"] = [{"tokenid": name, **info} for name, info in entry["tokens"].items()]
        realm = userid.rpartition("@")[2]
        if realm in REALMS:
            entry["realm-type"] = REALMS[realm][0]
        result.append(entry)
    return result


def _existing(cfg: UserConfig, userid: str) -> User:
    user = cfg.users.get(userid)
    if user is None:
        raise NotFoundError(f"user '{userid}' does not exist")
    return user


def _check_password(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InputError(
            "password", "(hidden)", f"must have {PASSWORD_MIN} to {PASSWORD_MAX} characters"
        )


def _set_groups(cfg: UserConfig, userid: str, groups: str | list[str] | None) -> None:
    names = ids.names(groups)
    for name in names:
        if name not in cfg.groups:
            raise NotFoundError(f"group '{name}' does not exist")
    for name in names:
        cfg.groups[name].users.add(userid)


def _check_expire(expire: int | None) -> None:
    if expire is not None and expire < 0:
        raise InputError("expire", expire, "seconds since the epoch, 0 for never")


def add_user(
    access: Access,
    userid: str,
    *,
    password: str | None = None,
    enable: bool = True,
    expire: int = 0,
    firstname: str | None = None,
    lastname: str | None = None,
    email: str | None = None,
    comment: str | None = None,
    keys: str | None = None,
    groups: str | list[str] | None = None,
) -> None:
    """``POST /access/users`` / ``pveum user add``; ``password`` is set in the user's realm
    (for ``pam``, on the system account). ConflictError if the user exists, NotFoundError for
    an unknown group."""
    _, realm = ids.parse_userid(userid)
    check_known_realm(realm, "userid")
    _check_expire(expire)
    if password is not None:
        _check_password(password)
    with access.files.edit() as cfg:
        if userid in cfg.users:
            raise ConflictError(f"user '{userid}' already exists")
        cfg.users[userid] = User(enable=enable, expire=expire or 0)
        _set_groups(cfg, userid, groups)
        _apply_text(
            cfg.users[userid],
            firstname=firstname,
            lastname=lastname,
            email=email,
            comment=comment,
            keys=keys,
        )
        if password is not None:
            access.set_password(userid, password)


def _apply_text(user: User, **values: str | None) -> None:
    for name, value in values.items():
        if value is not None:
            setattr(user, name, value or None)


def modify_user(
    access: Access,
    userid: str,
    *,
    enable: bool | None = None,
    expire: int | None = None,
    firstname: str | None = None,
    lastname: str | None = None,
    email: str | None = None,
    comment: str | None = None,
    keys: str | None = None,
    groups: str | list[str] | None = None,
    append: bool = False,
) -> None:
    """``PUT /access/users/{userid}`` / ``pveum user modify``: set what is given (an empty
    string clears a text field); ``groups`` replaces the user's groups, or adds to them with
    ``append``."""
    ids.parse_userid(userid)
    _check_expire(expire)
    if append and groups is None:
        raise InputError("append", append, "needs 'groups'")
    with access.files.edit() as cfg:
        user = _existing(cfg, userid)
        if enable is not None:
            user.enable = enable
        if expire is not None:
            user.expire = expire
        if groups is not None and not append:
            for group in cfg.groups.values():
                group.users.discard(userid)
        _set_groups(cfg, userid, groups)
        _apply_text(
            user, firstname=firstname, lastname=lastname, email=email, comment=comment, keys=keys
        )


def delete_user(access: Access, userid: str) -> None:
    """``DELETE /access/users/{userid}`` / ``pveum user delete``: the user, its password (pve
    realm), its API tokens and their secrets, its group memberships and its ACL entries."""
    name, realm = ids.parse_userid(userid)
    if userid == ids.ROOT:
        raise ConflictError(f"user '{ids.ROOT}' cannot be deleted")
    with access.files.edit() as cfg:
        user = _existing(cfg, userid)
        tokenids = {f"{userid}!{token}" for token in user.tokens}
        del cfg.users[userid]
        for group in cfg.groups.values():
            group.users.discard(userid)
        for node in cfg.acl.values():
            node.users.pop(userid, None)
            for tokenid in tokenids:
                node.tokens.pop(tokenid, None)
        if realm == "pve":
            access.shadow.remove(name)
        access.token_secrets.remove_user(userid)


def change_password(
    access: Access,
    userid: str,
    password: str,
    *,
    who: Principal | None = None,
    confirmation_password: str | None = None,
) -> None:
    """``PUT /access/password`` / ``pveum passwd``. With ``who`` (the API caller), Proxmox's
    rules apply: no API tokens; only root@pam changes root@pam's password; anyone else must
    confirm with their own password (``confirmation_password``), may change their own
    password if enabled, and never that of a pam user other than themselves."""
    _, realm = ids.parse_userid(userid)
    _check_password(password)
    if userid not in access.config().users:
        raise NotFoundError(f"user '{userid}' does not exist")
    if who is not None:
        _check_password_change(access, who, userid, realm, confirmation_password)
    with access.files.locked():
        access.set_password(userid, password)


def _check_password_change(
    access: Access, who: Principal, userid: str, realm: str, confirmation: str | None
) -> None:
    if who.method is AuthMethod.TOKEN:
        raise PermissionDenied("API tokens cannot change passwords")
    if who.userid == ids.ROOT:
        return
    if userid == ids.ROOT:
        raise PermissionDenied()
    if confirmation is None:
        raise InputError("confirmation-password", "", "password is required to modify user")
    access.authenticate_password(who.userid, confirmation)
    if who.userid == userid:
        access.check_user_enabled(userid)
    elif realm == "pam":
        raise PermissionDenied()
