"""``/access``: login, realms, permissions, users, API tokens, groups, roles and ACLs
(pve-access-control ``PVE/API2/AccessControl.pm``, ``Domains.pm``, ``User.pm``, ``Group.pm``,
``Role.pm``, ``ACL.pm``).

Parameters are the schemas of :mod:`respaldo.access.params` (shared with ``pveum``); the work
is done by the services of :mod:`respaldo.access`. Permissions as Proxmox declares them:
one privilege on one path as a :class:`Perm` path; ``userid-group``, ``userid-param`` and
``perm-modify`` (and their ``and``/``or``) as check functions over
:mod:`respaldo.access.checks`; lists filtered by the caller in the services (``who``).
Creating a ticket and changing a password are refused to API tokens (``allowtoken``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, cast

from respaldo.access import checks, ids
from respaldo.access import params as p
from respaldo.api.method import (
    ALL_USERS,
    OPEN,
    ApiMethod,
    Call,
    Perm,
    Returns,
    array,
    null,
    obj,
    prop,
)
from respaldo.config.schema import Schema, string
from respaldo.errors import InputError, NotFoundError, PermissionDenied

Check = Callable[[Call], None]

# -- permission checks (``PVE/RPCEnvironment.pm`` exec_api2_perm_check) ---------------------


def _userid_group(*privs: str, groups_param: Literal["create", "update"] | None = None) -> Check:
    """``['userid-group', privs, groups_param => ...]`` on the ``userid`` parameter."""

    def check(call: Call) -> None:
        checks.check_userid_group(
            call.access,
            call.principal,
            call.text("userid"),
            privs,
            groups_param,
            groups=cast("str | list[str] | None", call.get("groups")),
        )

    return check


def _userid_param(test: Literal["self", "Realm.AllocateUser"]) -> Check:
    """``['userid-param', test]`` on the ``userid`` parameter."""

    def check(call: Call) -> None:
        checks.check_userid_param(call.access, call.principal, call.text("userid"), test)

    return check


def _all_of(*tests: Check) -> Check:
    def check(call: Call) -> None:
        for test in tests:
            test(call)

    return check


def _any_of(*tests: Check) -> Check:
    """Proxmox's ``['or', ...]``: the first test that passes lets the call through; a user
    that does not exist fails a test as a missing privilege does (403)."""

    def check(call: Call) -> None:
        for test in tests:
            try:
                test(call)
            except (PermissionDenied, NotFoundError):
                continue
            return
        raise PermissionDenied()

    return check


def _acl_path(call: Call) -> str:
    path = ids.normalize_path(call.text("path"))
    if path is None:
        raise InputError("path", call.text("path"), "invalid ACL path")
    return path


def _perm_modify(call: Call) -> None:
    """``['perm-modify', '{path}']``."""
    checks.check_perm_modify(call.access, call.principal, _acl_path(call))


_SELF_OR_USER_MODIFY = Perm(
    check=_any_of(_userid_param("self"), _userid_group("User.Modify")),
    description="The user itself, or 'User.Modify' on '/access/groups' or on a group of the user.",
)
_GROUP_ALLOCATE = Perm("/access/groups", ("Group.Allocate",))
_SYS_MODIFY = Perm("/access", ("Sys.Modify",))

# -- login, realms, permissions ----------------------------------------------------------------


def _index(call: Call) -> object:
    subdirs = ("users", "groups", "roles", "acl", "domains", "ticket", "password", "permissions")
    return [{"subdir": name} for name in subdirs]


def _domains(call: Call) -> object:
    return call.access.domains()


def _login(call: Call) -> object:
    result = call.access.login(
        call.text("username"),
        call.text("password"),
        call.opt_text("realm"),
        otp=call.opt_text("otp"),
        path=call.opt_text("path"),
        privs=call.opt_text("privs"),
        client=call.client,
    )
    return result.as_dict()


def _permissions(call: Call) -> object:
    """A user or token sees its own permissions and those of its tokens; anyone else's
    need Sys.Audit on /access."""
    me = call.principal.authid
    who = call.opt_text("userid") or me
    owner = who.partition("!")[0] if "!" in who else None
    if me not in (who, owner):
        call.access.check(call.principal, "/access", ("Sys.Audit",))
    return call.access.permissions_tree(who, call.opt_text("path"))


LOGIN_PARAMS = Schema(
    (
        string("username", "User name", max_length=64, optional=False),
        string("password", "The secret password. This can also be a valid ticket.", optional=False),
        string("realm", "You can optionally pass the realm using this parameter.", max_length=32),
        string("otp", "One-time password for Two-factor authentication."),
        string(
            "path", "Verify ticket, and check if user have access 'privs' on 'path'", max_length=64
        ),
        string(
            "privs", "Verify ticket, and check if user have access 'privs' on 'path'", max_length=64
        ),
        string("new-format", "This parameter is now ignored and assumed to be 1."),
        string("tfa-challenge", "The signed TFA challenge string the user wants to respond to."),
    ),
    "Create or verify authentication ticket.",
)

# -- result shapes -----------------------------------------------------------------------------

_TOKEN_INFO = {
    "expire": prop("integer", "Expiration (seconds since the epoch), 0 for never."),
    "privsep": prop("integer", "Privilege separation (0/1)."),
    "comment": prop("string"),
}
_USER_FIELDS = {
    "enable": prop("integer"),
    "expire": prop("integer"),
    "firstname": prop("string"),
    "lastname": prop("string"),
    "email": prop("string"),
    "comment": prop("string"),
    "keys": prop("string"),
}
_USER_ROW = obj(
    userid=prop("string"),
    **_USER_FIELDS,
    groups=prop("string", "Comma-separated list of groups (with 'full')."),
    tokens={**array(obj(tokenid=prop("string"), **_TOKEN_INFO)), "description": "With 'full'."},
    **{"realm-type": prop("string", "The type of the user's realm.")},
)
_USER = obj(
    **_USER_FIELDS,
    groups=array(prop("string")),
    tokens={"type": "object", "additionalProperties": obj(**_TOKEN_INFO)},
)

_NEW_SECRET = {
    "value": prop("string", "API token value used for authentication."),
    "full-tokenid": prop("string", "The full token id (<userid>!<tokenid>)."),
}

# -- declarations ------------------------------------------------------------------------------


def _run(operation: p.Operation, who: bool) -> Callable[[Call], object]:
    """The handler of an operation; with ``who``, the service filters by (or checks against)
    the caller."""

    def handler(call: Call) -> object:
        extra = {"who": call.principal} if who else {}
        return operation(call.access, call.params, **extra)

    return handler


def _method(
    name: str,
    http: str,
    path: str,
    operation: p.Operation,
    returns: Returns,
    permission: Perm = ALL_USERS,
    *,
    who: bool = False,
    allowtoken: bool = True,
) -> ApiMethod:
    """An /access method of an operation of :mod:`respaldo.access.params` (its description
    is the schema's, Proxmox's text)."""
    return ApiMethod(
        name,
        http,
        path,
        operation.schema.description,
        operation.schema,
        returns,
        _run(operation, who),
        permission,
        allowtoken=allowtoken,
        protected=http != "GET",
    )


_USERS = "/access/users"
_USER_PATH = "/access/users/{userid}"
_TOKEN_PATH = "/access/users/{userid}/token/{tokenid}"

METHODS = [
    ApiMethod(
        "access_index",
        "GET",
        "/access",
        "Directory index.",
        Schema(()),
        array(obj(subdir=prop("string"))),
        _index,
    ),
    ApiMethod(
        "domains",
        "GET",
        "/access/domains",
        "Authentication domain index.",
        Schema(()),
        array(obj(realm=prop("string"), type=prop("string"), comment=prop("string"))),
        _domains,
        OPEN,
    ),
    ApiMethod(
        "get_ticket",
        "GET",
        "/access/ticket",
        "Dummy. Useful for formatters which want to provide a login page.",
        Schema(()),
        null(),
        lambda call: None,
        OPEN,
    ),
    ApiMethod(
        "create_ticket",
        "POST",
        "/access/ticket",
        LOGIN_PARAMS.description,
        LOGIN_PARAMS,
        obj(
            username=prop("string"),
            ticket=prop("string"),
            CSRFPreventionToken=prop("string"),
            cap=prop("object"),
            clustername=prop("string"),
        ),
        _login,
        OPEN,
        allowtoken=False,
        protected=True,
    ),
    ApiMethod(
        "permissions",
        "GET",
        "/access/permissions",
        p.PERMISSIONS.description,
        p.PERMISSIONS,
        {"type": "object", "additionalProperties": {"type": "object"}},
        _permissions,
    ),
    _method(
        "change_password",
        "PUT",
        "/access/password",
        p.CHANGE_PASSWORD,
        null(),
        Perm(
            check=_any_of(
                _userid_param("self"),
                _all_of(_userid_param("Realm.AllocateUser"), _userid_group("User.Modify")),
            ),
            description="Each user may change their own password; another user's needs "
            "'Realm.AllocateUser' on its realm and 'User.Modify' on one of its groups.",
        ),
        who=True,
        allowtoken=False,
    ),
    # users
    _method("users", "GET", _USERS, p.LIST_USERS, array(_USER_ROW), who=True),
    _method(
        "create_user",
        "POST",
        _USERS,
        p.CREATE_USER,
        null(),
        Perm(
            check=_all_of(
                _userid_param("Realm.AllocateUser"),
                _userid_group("User.Modify", groups_param="create"),
            ),
            description="'Realm.AllocateUser' on the user's realm, and 'User.Modify' on every "
            "group given (on '/access/groups' without groups).",
        ),
    ),
    _method(
        "read_user",
        "GET",
        _USER_PATH,
        p.READ_USER,
        _USER,
        Perm(check=_userid_group("User.Modify", "Sys.Audit")),
    ),
    _method(
        "update_user",
        "PUT",
        _USER_PATH,
        p.UPDATE_USER,
        null(),
        Perm(check=_userid_group("User.Modify", groups_param="update")),
    ),
    _method(
        "delete_user",
        "DELETE",
        _USER_PATH,
        p.DELETE_USER,
        null(),
        Perm(check=_all_of(_userid_param("Realm.AllocateUser"), _userid_group("User.Modify"))),
    ),
    # API tokens
    _method(
        "token_index",
        "GET",
        _USER_PATH + "/token",
        p.LIST_TOKENS,
        array(obj(tokenid=prop("string"), **_TOKEN_INFO)),
        _SELF_OR_USER_MODIFY,
    ),
    _method(
        "read_token",
        "GET",
        _TOKEN_PATH,
        p.READ_TOKEN,
        obj(**_TOKEN_INFO),
        _SELF_OR_USER_MODIFY,
    ),
    _method(
        "generate_token",
        "POST",
        _TOKEN_PATH,
        p.GENERATE_TOKEN,
        obj(info=obj(**_TOKEN_INFO), **_NEW_SECRET),
        _SELF_OR_USER_MODIFY,
    ),
    _method(
        "update_token_info",
        "PUT",
        _TOKEN_PATH,
        p.UPDATE_TOKEN,
        obj(**_TOKEN_INFO, **_NEW_SECRET),
        _SELF_OR_USER_MODIFY,
    ),
    _method(
        "remove_token",
        "DELETE",
        _TOKEN_PATH,
        p.REMOVE_TOKEN,
        null(),
        _SELF_OR_USER_MODIFY,
    ),
    # groups
    _method(
        "groups",
        "GET",
        "/access/groups",
        p.LIST_GROUPS,
        array(obj(groupid=prop("string"), comment=prop("string"), users=prop("string"))),
        who=True,
    ),
    _method(
        "create_group",
        "POST",
        "/access/groups",
        p.CREATE_GROUP,
        null(),
        _GROUP_ALLOCATE,
    ),
    _method(
        "read_group",
        "GET",
        "/access/groups/{groupid}",
        p.READ_GROUP,
        obj(comment=prop("string"), members=array(prop("string"))),
        Perm("/access/groups", ("Sys.Audit", "Group.Allocate"), any=True),
    ),
    _method(
        "update_group",
        "PUT",
        "/access/groups/{groupid}",
        p.UPDATE_GROUP,
        null(),
        _GROUP_ALLOCATE,
    ),
    _method(
        "delete_group",
        "DELETE",
        "/access/groups/{groupid}",
        p.DELETE_GROUP,
        null(),
        _GROUP_ALLOCATE,
    ),
    # roles
    _method(
        "roles",
        "GET",
        "/access/roles",
        p.LIST_ROLES,
        array(obj(roleid=prop("string"), privs=prop("string"), special=prop("integer"))),
    ),
    _method("create_role", "POST", "/access/roles", p.CREATE_ROLE, null(), _SYS_MODIFY),
    _method(
        "read_role",
        "GET",
        "/access/roles/{roleid}",
        p.READ_ROLE,
        {"type": "object", "additionalProperties": {"type": "integer"}},
    ),
    _method(
        "update_role",
        "PUT",
        "/access/roles/{roleid}",
        p.UPDATE_ROLE,
        null(),
        _SYS_MODIFY,
    ),
    _method(
        "delete_role",
        "DELETE",
        "/access/roles/{roleid}",
        p.DELETE_ROLE,
        null(),
        _SYS_MODIFY,
    ),
    # ACLs
    _method(
        "read_acl",
        "GET",
        "/access/acl",
        p.READ_ACL,
        array(
            obj(
                path=prop("string"),
                type=prop("string"),
                ugid=prop("string"),
                roleid=prop("string"),
                propagate=prop("integer"),
            )
        ),
        who=True,
    ),
    _method(
        "update_acl",
        "PUT",
        "/access/acl",
        p.UPDATE_ACL,
        null(),
        Perm(
            check=_perm_modify,
            description="'Permissions.Modify' on the path (or, on a VM, "
            "storage or pool, the privilege that allocates it).",
        ),
        who=True,
    ),
]
