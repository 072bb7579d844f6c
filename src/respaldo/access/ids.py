"""Identifiers of the access layer: user, realm, API token, group, role and pool ids, ACL paths.

The grammar follows Proxmox (``PVE/Auth/Plugin.pm``, ``PVE/AccessControl.pm``):

- a userid is ``<name>@<realm>``, 3 to 64 characters; the name has no white space, ``:`` or
  ``/`` (user.cfg is ``:``-separated and API paths are ``/``-separated);
- a realm starts with a letter, then at least one of ``A-Za-z0-9.-_``;
- an API token id is ``<userid>!<tokenid>``, the token part spelled like a realm;
- group and role ids are ``A-Za-z0-9.-_``; pool ids are up to three such names joined by ``/``.
"""

from __future__ import annotations

import re

from respaldo.errors import InputError

REALM_RE = r"[A-Za-z][A-Za-z0-9.\-_]+"
USER_NAME_RE = r"[^\s:/\x00-\x1f\x7f]+"  # no control character either
GROUP_RE = r"[A-Za-z0-9.\-_]+"
ROLE_RE = r"[A-Za-z0-9.\-_]+"
POOL_RE = r"[A-Za-z0-9.\-_]+(?:/[A-Za-z0-9.\-_]+){0,2}"
TOKEN_SUBID_RE = REALM_RE

_USERID = re.compile(rf"({USER_NAME_RE})@({REALM_RE})")
_TOKENID = re.compile(rf"((?:{USER_NAME_RE})@(?:{REALM_RE}))!({TOKEN_SUBID_RE})")
_REALM = re.compile(REALM_RE)
_GROUP = re.compile(GROUP_RE)
_ROLE = re.compile(ROLE_RE)
_POOL = re.compile(POOL_RE)
_TOKEN_SUBID = re.compile(TOKEN_SUBID_RE)

USERID_MAX = 64

#: The system's root account: it holds every privilege whatever the ACLs say.
ROOT = "root@pam"


def parse_userid(userid: str, name: str = "userid") -> tuple[str, str]:
    """Split ``user@realm`` into (user name, realm); InputError if it is not a valid userid."""
    if len(userid) < 3:
        raise InputError(name, userid, "user name is too short (at least 3 characters)")
    if len(userid) > USERID_MAX:
        raise InputError(name, userid, f"user name is too long ({len(userid)} > {USERID_MAX})")
    match = _USERID.fullmatch(userid)
    if not match:
        raise InputError(
            name, userid, "not a valid user id: expected <name>@<realm>, without ':' '/' or spaces"
        )
    return match.group(1), match.group(2)


def is_userid(value: str) -> bool:
    return 3 <= len(value) <= USERID_MAX and _USERID.fullmatch(value) is not None


def parse_tokenid(tokenid: str, name: str = "tokenid") -> tuple[str, str]:
    """Split ``user@realm!token`` into (userid, token name); InputError if it is not one."""
    match = _TOKENID.fullmatch(tokenid)
    if not match:
        raise InputError(name, tokenid, "not a valid API token id: expected <userid>!<token>")
    return match.group(1), match.group(2)


def is_tokenid(value: str) -> bool:
    return _TOKENID.fullmatch(value) is not None


def join_tokenid(userid: str, token: str) -> str:
    tokenid = f"{userid}!{token}"
    parse_tokenid(tokenid)
    return tokenid


def _check(pattern: re.Pattern[str], name: str, value: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise InputError(name, value, what)
    return value


def check_realm(realm: str, name: str = "realm") -> str:
    return _check(_REALM, name, realm, "a realm is a letter, then one or more of A-Za-z0-9.-_")


def check_token_subid(token: str, name: str = "tokenid") -> str:
    return _check(
        _TOKEN_SUBID, name, token, "a token name is a letter, then one or more of A-Za-z0-9.-_"
    )


def check_groupid(group: str, name: str = "groupid") -> str:
    return _check(_GROUP, name, group, "a group name has only the characters A-Z a-z 0-9 . - _")


def check_roleid(role: str, name: str = "roleid") -> str:
    return _check(_ROLE, name, role, "a role name has only the characters A-Z a-z 0-9 . - _")


def check_poolid(pool: str, name: str = "poolid") -> str:
    if pool.count("/") > 2:
        raise InputError(name, pool, "pool name nested too deeply (at most 3 levels)")
    return _check(_POOL, name, pool, "a pool name has only the characters A-Z a-z 0-9 . - _")


def normalize_path(path: str | None) -> str | None:
    """An ACL path in its one spelling (``/vms/100/`` -> ``/vms/100``), None if it has other
    characters than letters, digits and ``. - _ /`` (Proxmox's ``normalize_path``)."""
    if not path:
        return None
    path = re.sub(r"/+", "/", path)
    path = path.removesuffix("/") or "/"
    if not path.startswith("/"):
        path = "/" + path
    if not re.fullmatch(r"[A-Za-z0-9.\-_/]+", path):
        return None
    return path


_NAME = r"[A-Za-z0-9.\-_]+"
_ALNUM = r"[A-Za-z0-9]+"
_ACL_PATHS = re.compile(
    "|".join(
        [
            "/",
            "/access",
            "/access/groups",
            f"/access/groups/{_NAME}",
            "/access/realm",
            f"/access/realm/{_NAME}",
            "/nodes",
            f"/nodes/{_NAME}",
            "/pool",
            f"/pool/{POOL_RE}",
            "/sdn",
            "/sdn/controllers",
            r"/sdn/controllers/[A-Za-z0-9_\-]+",
            *(f"/sdn/{kind}(?:/{_ALNUM})?" for kind in ("dns", "fabrics", "ipams")),
            *(f"/sdn/{kind}(?:/{_ALNUM})?" for kind in ("prefix-lists", "route-maps")),
            "/sdn/zones",
            f"/sdn/zones/{_NAME}",
            f"/sdn/zones/{_NAME}/{_NAME}",
            f"/sdn/zones/{_NAME}/{_NAME}/[1-9][0-9]{{0,3}}",
            "/storage",
            f"/storage/{_NAME}",
            "/vms",
            "/vms/[1-9][0-9]{2,}",
            "/mapping",
            f"/mapping/{_NAME}",
            f"/mapping/{_NAME}/{_NAME}",
        ]
    )
)


def check_acl_path(path: str) -> bool:
    """Whether an ACL may be set on this (normalized) path (Proxmox's ``check_path``)."""
    return _ACL_PATHS.fullmatch(path) is not None


def split_list(text: str | None) -> list[str]:
    """A Proxmox list parameter: items separated by ``,`` ``;`` or white space (or NUL)."""
    if not text:
        return []
    if "\0" in text:
        return text.split("\0")
    return re.sub(r"[,;]", " ", text).split()


def names(value: str | list[str] | None) -> list[str]:
    """A list parameter as a list: a string is split as :func:`split_list` does, a list (from
    a parsed ``-list`` format) is taken as it is."""
    return split_list(value) if isinstance(value, str) else list(value or [])
