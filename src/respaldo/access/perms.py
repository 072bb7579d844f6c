"""Effective privileges of a user or API token on an ACL path, computed as Proxmox VE does.

Rules (``PVE/AccessControl.pm`` ``roles`` and ``PVE/RPCEnvironment.pm`` ``permissions``):

1. ``root@pam`` holds every privilege everywhere.
2. The roles on a path come from walking the ACL tree from ``/`` down to the path. At each
   node, the entries that apply (all of them on the path itself, only propagating ones on the
   nodes above) *replace* what was inherited: the member's own entries first (a token's
   entries for a token), else the entries of the groups the user belongs to, merged.
3. ``NoAccess`` among the resulting roles masks every other role.
4. Pools: the roles a user has on ``/pool/<pool>`` also apply, without propagation, to
   ``/vms/<vmid>`` and ``/storage/<id>`` of the pool's members, unless the path's own roles
   hold ``NoAccess``; ``NoAccess`` on the pool masks the path's roles.
5. An API token without privilege separation has its user's privileges; with it, the
   privileges of its own ACL entries intersected with its user's (a token of root@pam keeps
   its own ACLs' privileges).

Privileges map to a propagate flag, as Proxmox returns them from ``GET /access/permissions``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from respaldo.access import ids
from respaldo.access.privileges import BUILTIN_ROLES, PRIVILEGES, check_privilege
from respaldo.access.usercfg import RoleFlags, UserConfig
from respaldo.errors import PermissionDenied

#: privilege -> propagate flag
Privs = dict[str, bool]


def _split(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def _applicable(flags: RoleFlags | None, final: bool) -> RoleFlags:
    if not flags:
        return {}
    return {role: propagate for role, propagate in flags.items() if final or propagate}


def acl_roles(cfg: UserConfig, authid: str, path: str) -> RoleFlags:
    """The roles ``authid`` (a userid, or a tokenid with privilege separation) has on ``path``
    from the ACLs alone (rules 2 and 3), role -> propagate."""
    roles: RoleFlags = {}
    parts = _split(path)
    nodes = ["/"] + ["/" + "/".join(parts[: depth + 1]) for depth in range(len(parts))]
    for depth, node_path in enumerate(nodes):
        node = cfg.acl.get(node_path)
        if node is None:
            continue
        final = depth == len(nodes) - 1
        own = _applicable(node.tokens.get(authid), final) or _applicable(
            node.users.get(authid), final
        )
        if own:
            roles = own
            continue
        merged: RoleFlags = {}
        for group, flags in node.groups.items():
            members = cfg.groups.get(group)
            if members is not None and authid in members.users:
                merged.update(_applicable(flags, final))
        if merged:
            roles = merged
    if "NoAccess" in roles:
        return {"NoAccess": roles["NoAccess"]}
    return roles


class PermissionView:
    """Privileges computed over one snapshot of user.cfg, cached per member and path.

    Build one per read of the config (the :class:`~respaldo.access.Access` facade does); it is
    not to be shared across changes of the config.
    """

    def __init__(self, cfg: UserConfig) -> None:
        self.cfg = cfg
        self._privs: dict[tuple[str, str], Privs] = {}
        self._pool_roles: dict[str, dict[str, set[str]]] = {}

    def privileges(self, authid: str, path: str) -> Privs:
        """privilege -> propagate flag of ``authid`` (userid or tokenid) on ``path``."""
        if authid == ids.ROOT:
            return dict.fromkeys(sorted(PRIVILEGES), True)
        key = (authid, path)
        cached = self._privs.get(key)
        if cached is None:
            cached = self._compute(authid, path)
            self._privs[key] = cached
        return dict(cached)

    def _compute(self, authid: str, path: str) -> Privs:
        owner: str | None = None
        if ids.is_tokenid(authid):
            owner, name = ids.parse_tokenid(authid)
            user = self.cfg.users.get(owner)
            token = user.tokens.get(name) if user else None
            if token is None:
                return {}
            if not token.privsep:
                return self.privileges(owner, path)
        elif not ids.is_userid(authid):
            return {}
        privs = self._privs_of_roles(self._roles_with_pools(authid, path))
        if owner is not None and owner != ids.ROOT:
            user_privs = self.privileges(owner, path)
            privs = {
                priv: flag and user_privs[priv]
                for priv, flag in privs.items()
                if priv in user_privs
            }
        return privs

    def _roles_with_pools(self, authid: str, path: str) -> RoleFlags:
        roles = acl_roles(self.cfg, authid, path)
        from_pools = self._pool_roles_of(authid).get(path)
        if from_pools and "NoAccess" not in roles:
            if "NoAccess" in from_pools:
                return {"NoAccess": False}
            for role in from_pools:
                roles.setdefault(role, False)
        return roles

    def _pool_roles_of(self, authid: str) -> dict[str, set[str]]:
        """``/vms/<vmid>`` and ``/storage/<id>`` -> the roles ``authid`` has through pools."""
        cached = self._pool_roles.get(authid)
        if cached is not None:
            return cached
        result: dict[str, set[str]] = {}
        for poolid, pool in self.cfg.pools.items():
            roles = acl_roles(self.cfg, authid, f"/pool/{poolid}")
            if not roles:
                continue
            members = [f"/vms/{vmid}" for vmid in pool.vms]
            members += [f"/storage/{store}" for store in pool.storage]
            for member in members:
                result.setdefault(member, set()).update(roles)
        self._pool_roles[authid] = result
        return result

    def _privs_of_roles(self, roles: RoleFlags) -> Privs:
        privs: Privs = {}
        for role, propagate in roles.items():
            for priv in (self.cfg.role(role) or frozenset()) & PRIVILEGES:
                privs[priv] = privs.get(priv, False) or propagate
        return privs

    # -- checks -------------------------------------------------------------------------------

    def check(self, authid: str, path: str, privs: Iterable[str], any_of: bool = False) -> None:
        """Raise PermissionDenied unless ``authid`` holds all ``privs`` on ``path`` (or one of
        them with ``any_of``); the message names the path and the privilege(s) missing, as
        Proxmox's ``Permission check failed (/vms/100, VM.Backup)``."""
        wanted = [check_privilege(priv) for priv in privs]
        held = self.privileges(authid, path)
        if any_of:
            if not any(priv in held for priv in wanted):
                raise PermissionDenied(f"{path}, {'|'.join(wanted)}")
            return
        for priv in wanted:
            if priv not in held:
                raise PermissionDenied(f"{path}, {priv}")

    def allowed(self, authid: str, path: str, privs: Iterable[str], any_of: bool = False) -> bool:
        try:
            self.check(authid, path, privs, any_of)
        except PermissionDenied:
            return False
        return True

    # -- summaries ----------------------------------------------------------------------------

    def cap(self, authid: str) -> dict[str, dict[str, int]]:
        """The ``cap`` object of a login: for each area (vms, storage, access, nodes, sdn, dc,
        mapping) the privileges held on it or anywhere below it, priv -> 1
        (``compute_api_permission`` of ``PVE/RPCEnvironment.pm``)."""
        result: dict[str, dict[str, int]] = {area: {} for area in _CAP_PREFIXES}
        required = ["/", "/nodes", "/access/groups", "/vms", "/storage", "/sdn", "/mapping"]
        for path in dict.fromkeys(required + self.cfg.acl_tree_paths()):
            top = _split(path)[0] if path != "/" else "dc"
            for priv in self.privileges(authid, path):
                for area in _cap_areas(top, priv):
                    result[area][priv] = 1
        return result

    def tree(self, authid: str, path: str | None = None) -> dict[str, dict[str, int]]:
        """``GET /access/permissions``: path -> {priv: propagate 0/1}. With ``path``, that path
        alone (even with no privilege); without, every top-level path, every path of the ACL
        tree and every pool member, leaving out paths without privileges."""
        if path:
            return {path: _as_ints(self.privileges(authid, path))}
        paths = set(_TREE_PATHS) | set(self.cfg.acl_tree_paths())
        for pool in self.cfg.pools.values():
            paths.update(f"/vms/{vmid}" for vmid in pool.vms)
            paths.update(f"/storage/{store}" for store in pool.storage)
        result: dict[str, dict[str, int]] = {}
        for each in sorted(paths):
            privs = self.privileges(authid, each)
            if privs:
                result[each] = _as_ints(privs)
        return result


def _as_ints(privs: Mapping[str, bool]) -> dict[str, int]:
    return {priv: int(flag) for priv, flag in sorted(privs.items())}


_TREE_PATHS = ("/", "/access", "/access/groups", "/nodes", "/pool", "/sdn", "/storage", "/vms")

#: area of the cap object -> privilege prefixes that count for it
_CAP_PREFIXES: dict[str, tuple[str, ...]] = {
    "vms": ("VM.", "Permissions.Modify"),
    "access": ("User.", "Group.", "Permissions.Modify"),
    "storage": ("Datastore.", "Permissions.Modify"),
    "nodes": ("Sys.", "Permissions.Modify"),
    "sdn": ("SDN.", "Permissions.Modify"),
    "dc": ("Sys.Audit", "Sys.Modify", "SDN."),
    "mapping": ("Mapping.", "Permissions.Modify"),
}


def _cap_areas(top: str, priv: str) -> list[str]:
    """Areas of the cap object a privilege held under top-level path ``top`` counts for."""
    if top == "pool":  # a pool holds guests and storages
        if priv.startswith("VM."):
            return ["vms"]
        if priv.startswith("Datastore."):
            return ["storage"]
        return ["storage", "vms"] if priv == "Permissions.Modify" else []
    prefixes = _CAP_PREFIXES.get(top)
    return [top] if prefixes and priv.startswith(prefixes) else []


def builtin_role_names() -> list[str]:
    return sorted(BUILTIN_ROLES)
