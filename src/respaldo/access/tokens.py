"""API tokens: the service behind ``pveum user token ...`` and ``/access/users/{userid}/token``.

A token's secret is a UUID made when the token is added (or regenerated) and returned that
once; only its digest is kept (``priv/token.cfg``). ``privsep`` (default on) limits the token
to its own ACL entries intersected with its user's privileges; off, it has all of its user's
privileges. ``expire`` 0 means the token ends with its user (``PVE/API2/User.pm``).
"""

from __future__ import annotations

from typing import Any

from respaldo.access import ids
from respaldo.access.control import Access
from respaldo.access.usercfg import ApiToken, User, UserConfig
from respaldo.access.users import token_info
from respaldo.errors import InputError, NotFoundError


def _user(cfg: UserConfig, userid: str) -> User:
    ids.parse_userid(userid)
    user = cfg.users.get(userid)
    if user is None:
        raise NotFoundError(f"user '{userid}' does not exist")
    return user


def _token(cfg: UserConfig, userid: str, name: str) -> ApiToken:
    token = _user(cfg, userid).tokens.get(name)
    if token is None:
        raise NotFoundError(f"no such token '{name}' for user '{userid}'")
    return token


def list_tokens(access: Access, userid: str) -> list[dict[str, Any]]:
    """``GET .../token``: [{tokenid, expire, privsep, comment?}]."""
    user = _user(access.config(), userid)
    return [{"tokenid": name, **token_info(user.tokens[name])} for name in sorted(user.tokens)]


def get_token(access: Access, userid: str, tokenid: str) -> dict[str, Any]:
    """``GET .../token/{tokenid}``: {expire, privsep, comment?}."""
    return token_info(_token(access.config(), userid, tokenid))


def add_token(
    access: Access,
    userid: str,
    tokenid: str,
    *,
    expire: int | None = None,
    privsep: bool = True,
    comment: str | None = None,
) -> dict[str, Any]:
    """``POST .../token/{tokenid}`` / ``pveum user token add``: {full-tokenid, info: {expire,
    privsep, comment?}, value}; ``value`` is the secret, shown this once. InputError if the
    token exists."""
    ids.check_token_subid(tokenid)
    full = ids.join_tokenid(userid, tokenid)
    if expire is not None and expire < 0:
        raise InputError("expire", expire, "seconds since the epoch, 0 for never")
    with access.files.edit() as cfg:
        user = _user(cfg, userid)
        if tokenid in user.tokens:
            raise InputError("tokenid", tokenid, "Token already exists.")
        token = ApiToken(expire=expire or 0, privsep=privsep, comment=comment or None)
        user.tokens[tokenid] = token
        value = access.token_secrets.generate(full)
    return {"full-tokenid": full, "info": token_info(token), "value": value}


def modify_token(
    access: Access,
    userid: str,
    tokenid: str,
    *,
    expire: int | None = None,
    privsep: bool | None = None,
    comment: str | None = None,
    regenerate: bool = False,
    delete: str | list[str] | None = None,
) -> dict[str, Any]:
    """``PUT .../token/{tokenid}`` / ``pveum user token modify``: {expire, privsep,
    comment?}, plus ``value`` and ``full-tokenid`` when ``regenerate`` made a new secret (the
    old one stops working). ``delete`` may name ``comment``."""
    full = ids.join_tokenid(userid, tokenid)
    to_delete = ids.names(delete)
    for key in to_delete:
        if key != "comment":
            raise InputError("delete", key, "unknown option (only 'comment' can be deleted)")
    with access.files.edit() as cfg:
        token = _token(cfg, userid, tokenid)
        if privsep is not None:
            token.privsep = privsep
        if expire is not None:
            token.expire = expire
        if comment is not None:
            token.comment = comment or None
        if to_delete:
            token.comment = None
        value = access.token_secrets.generate(full) if regenerate else None
    result = token_info(token)
    if value is not None:
        result.update({"value": value, "full-tokenid": full})
    return result


def remove_token(access: Access, userid: str, tokenid: str) -> None:
    """``DELETE .../token/{tokenid}`` / ``pveum user token remove``: the token, its secret
    and its ACL entries."""
    full = ids.join_tokenid(userid, tokenid)
    with access.files.edit() as cfg:
        _token(cfg, userid, tokenid)
        del cfg.users[userid].tokens[tokenid]
        for node in cfg.acl.values():
            node.tokens.pop(full, None)
        access.token_secrets.remove(full)
