"""``user.cfg``: users, API tokens, groups, pools, custom roles and ACLs, in Proxmox's format.

One entry a line, fields separated by ``:`` (``PVE/AccessControl.pm``, parse_user_config and
write_user_config)::

    user:<userid>:<enable>:<expire>:<firstname>:<lastname>:<email>:<comment>:<keys>:
    token:<userid>!<token>:<expire>:<privsep>:<comment>:
    group:<groupid>:<userid>,<userid>...:<comment>:
    pool:<poolid>:<comment>:<vmid>,<vmid>...:<storage>,<storage>...:
    role:<roleid>:<privilege>,<privilege>...:
    acl:<propagate>:<path>:<userid>|@<groupid>|<tokenid>,...:<roleid>,...:

Free text (names, comments) is percent-encoded: control characters, bytes above 0x7e of its
UTF-8 form, ``%`` and ``:``. Proxmox writes users (each followed by its tokens), groups, pools,
roles and ACLs, each block sorted and followed by an empty line; ACL paths in tree order (a
path, then its children by name); ``root@pam`` always exists and its ACL entries are never
written (it holds every privilege anyway). :func:`format_user_cfg` writes the same bytes, so a
file Proxmox wrote reads and writes back unchanged. Lines respaldo cannot read (an unknown
kind, an invalid name) are kept and written back at the end; Proxmox would drop them.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field

from respaldo.access import ids
from respaldo.access.privileges import BUILTIN_ROLES

#: role name -> whether it propagates to the paths below.
RoleFlags = dict[str, bool]


@dataclass
class ApiToken:
    """An API token of a user; its secret lives hashed in ``priv/token.cfg``."""

    expire: int = 0  # seconds since the epoch, 0 = never
    privsep: bool = True  # privileges = the token's ACLs intersected with the user's
    comment: str | None = None


@dataclass
class User:
    enable: bool = True
    expire: int = 0  # seconds since the epoch, 0 = never
    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None
    comment: str | None = None
    keys: str | None = None  # legacy two-factor keys, kept as they are
    tokens: dict[str, ApiToken] = field(default_factory=dict)


@dataclass
class Group:
    users: set[str] = field(default_factory=set)
    comment: str | None = None


@dataclass
class Pool:
    comment: str | None = None
    vms: set[int] = field(default_factory=set)
    storage: set[str] = field(default_factory=set)


@dataclass
class AclEntries:
    """The ACL entries on one path: member -> {role: propagate}."""

    users: dict[str, RoleFlags] = field(default_factory=dict)
    groups: dict[str, RoleFlags] = field(default_factory=dict)
    tokens: dict[str, RoleFlags] = field(default_factory=dict)

    def kinds(self) -> Iterator[tuple[str, dict[str, RoleFlags]]]:
        """(type as the ACL API names it, members) for users, groups and tokens."""
        yield "user", self.users
        yield "group", self.groups
        yield "token", self.tokens


@dataclass
class UserConfig:
    users: dict[str, User] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    roles: dict[str, set[str]] = field(default_factory=dict)  # custom roles only
    pools: dict[str, Pool] = field(default_factory=dict)
    acl: dict[str, AclEntries] = field(default_factory=dict)  # normalized path -> entries
    unknown: list[str] = field(default_factory=list)  # lines kept as they were

    def __post_init__(self) -> None:
        self.users.setdefault(ids.ROOT, User())

    def role(self, role: str) -> frozenset[str] | None:
        """The privileges of a built-in or custom role, None if there is no such role."""
        builtin = BUILTIN_ROLES.get(role)
        if builtin is not None:
            return builtin
        custom = self.roles.get(role)
        return frozenset(custom) if custom is not None else None

    def groups_of(self, userid: str) -> list[str]:
        return sorted(name for name, group in self.groups.items() if userid in group.users)

    def acl_node(self, path: str) -> AclEntries:
        return self.acl.setdefault(path, AclEntries())

    def acl_tree_paths(self) -> list[str]:
        """Every path of the ACL tree, with the inner nodes (``/vms`` for ``/vms/100``), in tree
        order: the paths Proxmox visits when it walks its ACL tree."""
        found: set[tuple[str, ...]] = {()}
        for path in self.acl:
            parts = _parts(path)
            found.update(parts[:depth] for depth in range(1, len(parts) + 1))
        return ["/" + "/".join(parts) for parts in sorted(found)]


def _parts(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.split("/") if part)


# -- text fields ------------------------------------------------------------------------------

_UNSAFE = re.compile(rb"[^\x20-\x24\x26-\x39\x3b-\x7e]")


def encode_text(text: str) -> str:
    """Percent-encode control characters, non-ASCII (as UTF-8 bytes), ``%`` and ``:``."""
    raw = _UNSAFE.sub(lambda m: b"%%%02X" % m.group(0)[0], text.encode("utf-8"))
    return raw.decode("ascii")


def decode_text(text: str) -> str:
    return urllib.parse.unquote(text, errors="replace")


def _truthy(value: str) -> bool:
    """Perl's truth of a string, which decides Proxmox's 0/1 fields."""
    return value not in ("", "0")


# -- parsing ----------------------------------------------------------------------------------


def parse_user_cfg(text: str) -> UserConfig:
    """Read user.cfg; never fails: a line it cannot read is kept in ``unknown``."""
    cfg = UserConfig()
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        fields = [part.strip() for part in line.split(":")]
        parser = _PARSERS.get(fields[0])
        if parser is None or not parser(cfg, fields[1:]):
            cfg.unknown.append(line)
    return cfg


def _get(fields: list[str], index: int) -> str:
    return fields[index] if index < len(fields) else ""


def _opt_text(value: str) -> str | None:
    return decode_text(value) if _truthy(value) else None


def _parse_user(cfg: UserConfig, fields: list[str]) -> bool:
    userid, expire = _get(fields, 0), _get(fields, 2) or "0"
    if not ids.is_userid(userid) or not expire.isdigit():
        return False
    email = _get(fields, 5)
    cfg.users[userid] = User(
        enable=_truthy(_get(fields, 1)),
        expire=int(expire),
        firstname=_opt_text(_get(fields, 3)),
        lastname=_opt_text(_get(fields, 4)),
        email=email or None,
        comment=_opt_text(_get(fields, 6)),
        keys=_get(fields, 7) if _truthy(_get(fields, 7)) else None,
    )
    return True


def _parse_token(cfg: UserConfig, fields: list[str]) -> bool:
    tokenid, expire = _get(fields, 0), _get(fields, 1) or "0"
    if not ids.is_tokenid(tokenid) or not expire.isdigit():
        return False
    userid, name = ids.parse_tokenid(tokenid)
    user = cfg.users.get(userid)
    if user is None:
        return False
    user.tokens[name] = ApiToken(
        expire=int(expire), privsep=_truthy(_get(fields, 2)), comment=_opt_text(_get(fields, 3))
    )
    return True


def _parse_group(cfg: UserConfig, fields: list[str]) -> bool:
    groupid = _get(fields, 0)
    if not re.fullmatch(ids.GROUP_RE, groupid):
        return False
    group = cfg.groups.setdefault(groupid, Group())
    group.comment = _opt_text(_get(fields, 2)) or group.comment
    group.users |= {member for member in ids.split_list(_get(fields, 1)) if ids.is_userid(member)}
    return True


def _parse_pool(cfg: UserConfig, fields: list[str]) -> bool:
    poolid = _get(fields, 0)
    if poolid.count("/") > 2 or not re.fullmatch(ids.POOL_RE, poolid):
        return False
    pool = cfg.pools.setdefault(poolid, Pool())
    parent = poolid
    while "/" in parent:  # nested pools imply their parents
        parent = parent.rpartition("/")[0]
        cfg.pools.setdefault(parent, Pool())
    pool.comment = _opt_text(_get(fields, 1)) or pool.comment
    pool.vms |= {int(vmid) for vmid in ids.split_list(_get(fields, 2)) if vmid.isdigit()}
    pool.storage |= {
        store
        for store in ids.split_list(_get(fields, 3))
        if re.fullmatch(r"[a-z][a-z0-9\-_.]*[a-z0-9]", store, re.IGNORECASE)
    }
    return True


def _parse_role(cfg: UserConfig, fields: list[str]) -> bool:
    roleid = _get(fields, 0)
    if not re.fullmatch(ids.ROLE_RE, roleid) or roleid in BUILTIN_ROLES:
        return False
    cfg.roles.setdefault(roleid, set()).update(ids.split_list(_get(fields, 1)))
    return True


def _parse_acl(cfg: UserConfig, fields: list[str]) -> bool:
    path = ids.normalize_path(_get(fields, 1))
    if path is None:
        return False
    propagate = _truthy(_get(fields, 0))
    roles = [role for role in ids.split_list(_get(fields, 3)) if re.fullmatch(ids.ROLE_RE, role)]
    node = cfg.acl_node(path)
    for member in ids.split_list(_get(fields, 2)):
        if member.startswith("@") and re.fullmatch(ids.GROUP_RE, member[1:]):
            target = node.groups.setdefault(member[1:], {})
        elif ids.is_userid(member):
            target = node.users.setdefault(member, {})
        elif ids.is_tokenid(member):
            target = node.tokens.setdefault(member, {})
        else:
            continue
        target.update(dict.fromkeys(roles, propagate))
    return True


_PARSERS = {
    "user": _parse_user,
    "token": _parse_token,
    "group": _parse_group,
    "pool": _parse_pool,
    "role": _parse_role,
    "acl": _parse_acl,
}


# -- writing ----------------------------------------------------------------------------------


def _text(value: str | None) -> str:
    return encode_text(value) if value else ""


def _flag(value: bool) -> int:
    return 1 if value else 0


def format_user_cfg(cfg: UserConfig) -> str:
    """user.cfg as Proxmox writes it, then the lines respaldo kept without understanding."""
    out: list[str] = []
    for userid in sorted(cfg.users):
        user = cfg.users[userid]
        out.append(
            f"user:{userid}:{_flag(user.enable)}:{user.expire}:{_text(user.firstname)}:"
            f"{_text(user.lastname)}:{user.email or ''}:{_text(user.comment)}:{user.keys or ''}:\n"
        )
        for name in sorted(user.tokens):
            token = user.tokens[name]
            out.append(
                f"token:{userid}!{name}:{token.expire}:{_flag(token.privsep)}:"
                f"{_text(token.comment)}:\n"
            )
    out.append("\n")
    for groupid in sorted(cfg.groups):
        group = cfg.groups[groupid]
        out.append(f"group:{groupid}:{','.join(sorted(group.users))}:{_text(group.comment)}:\n")
    out.append("\n")
    for poolid in sorted(cfg.pools):
        pool = cfg.pools[poolid]
        vms = ",".join(sorted(str(vmid) for vmid in pool.vms))
        out.append(f"pool:{poolid}:{_text(pool.comment)}:{vms}:{','.join(sorted(pool.storage))}:\n")
    out.append("\n")
    for roleid in sorted(cfg.roles):
        out.append(f"role:{roleid}:{','.join(sorted(cfg.roles[roleid]))}:\n")
    out.append("\n")
    for path in sorted(cfg.acl, key=_parts):
        out.extend(_acl_lines(path, cfg.acl[path]))
    out.extend(line + "\n" for line in cfg.unknown)
    return "".join(out)


def _acl_lines(path: str, node: AclEntries) -> list[str]:
    # propagate flag -> role list -> members holding exactly that list
    by_roles: dict[bool, dict[str, set[str]]] = {False: {}, True: {}}
    members = [
        *((f"@{group}", roles) for group, roles in node.groups.items()),
        *((user, roles) for user, roles in node.users.items() if user != ids.ROOT),
        *node.tokens.items(),
    ]
    for member, roles in members:
        for propagate in (False, True):
            names = sorted(role for role, flag in roles.items() if flag == propagate)
            if names:
                by_roles[propagate].setdefault(",".join(names), set()).add(member)
    return [
        f"acl:{_flag(propagate)}:{path}:{','.join(sorted(who))}:{rolelist}:\n"
        for propagate in (False, True)
        for rolelist, who in sorted(by_roles[propagate].items())
    ]
