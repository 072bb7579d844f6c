"""The parameters of ``pveum`` and of the ``/access`` API methods, declared once.

Each :class:`~respaldo.config.schema.Schema` here is the parameter set of one Proxmox API
method (pve-access-control ``PVE/API2/User.pm``, ``Group.pm``, ``Role.pm``, ``ACL.pm``,
``AccessControl.pm``), with Proxmox's names, formats, limits and descriptions. An
:class:`Operation` binds one to the service function that does the work (``CREATE_USER``:
the schema of ``POST /access/users`` and ``users.add_user``); the API
(``respaldo.api.access``) and the CLI (``respaldo.cli.pveum``) are both built from them.

Importing this module registers the formats of the access layer's identifiers: ``pve-userid``,
``pve-groupid``, ``pve-roleid``, ``pve-tokenid``, ``pve-realm``, ``pve-token-subid``, their
``-list`` forms (a list of names), ``pve-priv-list``, ``pve-userid-or-tokenid`` and
``email-opt``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import respaldo.config.formats  # noqa: F401  (registers pve-configid-list)
from respaldo.access import acl, groups, ids, roles, tokens, users
from respaldo.access.control import Access
from respaldo.access.privileges import check_privilege
from respaldo.config.schema import Schema, boolean, integer, register_format, string
from respaldo.errors import InputError

# -- formats -------------------------------------------------------------------------------

#: Proxmox's ``pve_verify_email`` (pve-common ``PVE/JSONSchema.pm``).
_EMAIL = re.compile(r"[\w+\-~]+(\.[\w+\-~]+)*@[a-zA-Z0-9\-]+(\.[a-zA-Z0-9\-]+)*")


def _userid(text: str, key: str) -> str:
    ids.parse_userid(text, key)
    return text


def _tokenid(text: str, key: str) -> str:
    ids.parse_tokenid(text, key)
    return text


def _userid_or_tokenid(text: str, key: str) -> str:
    if not (ids.is_userid(text) or ids.is_tokenid(text)):
        ids.parse_userid(text, key)  # raises with the userid grammar in its reason
    return text


def _email_opt(text: str, key: str) -> str:
    if text and not _EMAIL.fullmatch(text):
        raise InputError(key, text, "not an email address (name@domain)")
    return text


def _privilege(text: str, key: str) -> str:
    return check_privilege(text, key)


def _list_of(check: Callable[[str, str], str]) -> Callable[[str, str], list[str]]:
    def parse(text: str, key: str) -> list[str]:
        return [check(item, key) for item in ids.split_list(text)]

    return parse


register_format("pve-userid", _userid, "<userid>")
register_format("pve-userid-list", _list_of(_userid), "<userid list>")
register_format("pve-tokenid", _tokenid, "<userid>!<tokenid>")
register_format("pve-tokenid-list", _list_of(_tokenid), "<tokenid list>")
register_format("pve-userid-or-tokenid", _userid_or_tokenid, "<userid or tokenid>")
register_format("pve-groupid", ids.check_groupid, "<groupid>")
register_format("pve-groupid-list", _list_of(ids.check_groupid), "<groupid list>")
register_format("pve-roleid", ids.check_roleid, "<roleid>")
register_format("pve-roleid-list", _list_of(ids.check_roleid), "<roleid list>")
register_format("pve-realm", ids.check_realm, "<realm>")
register_format("pve-token-subid", ids.check_token_subid, "<tokenid>")
register_format("pve-priv-list", _list_of(_privilege), "<privilege list>")
register_format("email-opt", _email_opt, "<email>")

# -- standard options (pve-access-control's register_standard_option) ----------------------

USERID = string(
    "userid",
    "Full User ID, in the `name@realm` format.",
    format="pve-userid",
    max_length=64,
    optional=False,
)
TOKENID = string(
    "tokenid", "User-specific token identifier.", format="pve-token-subid", optional=False
)
GROUPID = string("groupid", "The group ID.", format="pve-groupid", optional=False)
ROLEID = string("roleid", "The role ID.", format="pve-roleid", optional=False)

_USER_ENABLE = boolean(
    "enable",
    "Enable the account (default). You can set this to '0' to disable the account",
    default=True,
)
_USER_EXPIRE = integer(
    "expire",
    "Account expiration date (seconds since epoch). '0' means no expiration date.",
    minimum=0,
)
_USER_TEXT = (
    string("firstname", "First name.", max_length=1024),
    string("lastname", "Last name.", max_length=1024),
    string("email", "Email address.", format="email-opt", max_length=254),
    string("comment", "Comment.", max_length=2048),
    string("keys", "Keys for two factor auth (yubico).", pattern=r"[0-9a-zA-Z!=]{0,4096}"),
)
_GROUPS = string("groups", "List of groups.", format="pve-groupid-list")
_TOKEN_OPTIONS = (
    integer(
        "expire",
        "API token expiration date (seconds since epoch). '0' means no expiration date.",
        minimum=0,
    ),
    boolean(
        "privsep",
        "Restrict API token privileges with separate ACLs (default), or give full privileges "
        "of corresponding user.",
        default=True,
    ),
    string("comment", "Comment.", max_length=2048),
)
_ACL_PATH = string("path", "Access control path", max_length=256, optional=False)

# -- users -----------------------------------------------------------------------------------

USER_INDEX = Schema(
    (
        boolean("enabled", "Optional filter for enable property."),
        boolean("full", "Include group and token information.", default=False),
    ),
    "User index.",
)
USER_CREATE = Schema(
    (
        USERID,
        _USER_ENABLE,
        _USER_EXPIRE,
        *_USER_TEXT,
        string("password", "Initial password.", min_length=8, max_length=64),
        _GROUPS,
    ),
    "Create new user.",
)
USER_READ = Schema((USERID,), "Get user configuration.")
USER_UPDATE = Schema(
    (
        USERID,
        _USER_ENABLE,
        _USER_EXPIRE,
        *_USER_TEXT,
        _GROUPS,
        boolean(
            "append",
            "Add the groups to the user's groups instead of replacing them.",
            requires="groups",
        ),
    ),
    "Update user configuration.",
)
USER_DELETE = Schema((USERID,), "Delete user.")

PASSWORD = Schema(
    (
        USERID,
        string("password", "The new password.", min_length=8, max_length=64, optional=False),
        string(
            "confirmation-password",
            "The current password of the user performing the change.",
            min_length=5,
            max_length=64,
        ),
    ),
    "Change user password.",
)

PERMISSIONS = Schema(
    (
        string("userid", "User ID or full API token ID", format="pve-userid-or-tokenid"),
        string("path", "Only dump this specific path, not the whole tree.", max_length=256),
    ),
    "Retrieve effective permissions of given user/token.",
)

# -- API tokens ------------------------------------------------------------------------------

TOKEN_INDEX = Schema((USERID,), "Get user API tokens.")
TOKEN_READ = Schema((USERID, TOKENID), "Get specific API token information.")
TOKEN_CREATE = Schema(
    (USERID, TOKENID, *_TOKEN_OPTIONS),
    "Generate a new API token for a specific user. NOTE: returns API token value, which needs "
    "to be stored as it cannot be retrieved afterwards!",
)
TOKEN_UPDATE = Schema(
    (
        USERID,
        TOKENID,
        *_TOKEN_OPTIONS,
        boolean(
            "regenerate",
            "Regenerate the token's secret value. All users of the previous secret will lose "
            "access after this operation.",
            default=False,
        ),
        string("delete", "A list of settings you want to delete.", format="pve-configid-list"),
    ),
    "Update API token for a specific user. NOTE: when 'regenerate' is set, the returned token "
    "value needs to be stored as it cannot be retrieved afterwards!",
)
TOKEN_DELETE = Schema((USERID, TOKENID), "Remove API token for a specific user.")
TOKEN_PERMISSIONS = Schema(
    (USERID, TOKENID, PERMISSIONS.get("path")),
    "Retrieve effective permissions of given token.",
)

# -- groups ----------------------------------------------------------------------------------

_GROUP_COMMENT = string("comment", "Comment.", max_length=2048)
GROUP_INDEX = Schema((), "Group index.")
GROUP_CREATE = Schema((GROUPID, _GROUP_COMMENT), "Create new group.")
GROUP_READ = Schema((GROUPID,), "Get group configuration.")
GROUP_UPDATE = Schema((GROUPID, _GROUP_COMMENT), "Update group data.")
GROUP_DELETE = Schema((GROUPID,), "Delete group.")

# -- roles -----------------------------------------------------------------------------------

_ROLE_PRIVS = string("privs", "List of privileges.", format="pve-priv-list")
ROLE_INDEX = Schema((), "Role index.")
ROLE_CREATE = Schema((ROLEID, _ROLE_PRIVS), "Create new role.")
ROLE_READ = Schema((ROLEID,), "Get role configuration.")
ROLE_UPDATE = Schema(
    (
        ROLEID,
        _ROLE_PRIVS,
        boolean(
            "append",
            "Add the privileges to the role's instead of replacing them.",
            requires="privs",
        ),
    ),
    "Update an existing role.",
)
ROLE_DELETE = Schema((ROLEID,), "Delete role.")

# -- ACLs ------------------------------------------------------------------------------------

ACL_READ = Schema((), "Get Access Control List (ACLs).")
ACL_UPDATE = Schema(
    (
        boolean("propagate", "Allow to propagate (inherit) permissions.", default=True),
        _ACL_PATH,
        string("users", "List of users.", format="pve-userid-list"),
        string("groups", "List of groups.", format="pve-groupid-list"),
        string("tokens", "List of API tokens.", format="pve-tokenid-list"),
        string("roles", "List of roles.", format="pve-roleid-list", optional=False),
        boolean("delete", "Remove permissions (instead of adding it)."),
    ),
    "Update Access Control List (add or remove permissions).",
)


# -- operations: a schema and the service that does the work --------------------------------


def service_options(params: Mapping[str, object], *drop: str) -> dict[str, Any]:
    """Parsed parameters as the keyword arguments of a service function (``-`` in a name
    becomes ``_``: ``confirmation-password`` -> ``confirmation_password``), less ``drop``."""
    return {key.replace("-", "_"): value for key, value in params.items() if key not in drop}


@dataclass(frozen=True)
class Operation:
    """One API method of /access and its pveum verb: the parameters, and the service function
    they go to. ``positional`` parameters are passed in that order, the others by name;
    ``extra`` keywords are the face's own (``who=`` the API caller, ``delete=`` of ``acl
    delete``)."""

    schema: Schema
    service: Callable[..., Any]
    positional: tuple[str, ...] = ()

    def __call__(self, access: Access, params: Mapping[str, object], **extra: Any) -> Any:
        args = [params[key] for key in self.positional]
        return self.service(access, *args, **service_options(params, *self.positional), **extra)


_U, _T = ("userid",), ("userid", "tokenid")
LIST_USERS = Operation(USER_INDEX, users.list_users)
CREATE_USER = Operation(USER_CREATE, users.add_user, _U)
READ_USER = Operation(USER_READ, users.get_user, _U)
UPDATE_USER = Operation(USER_UPDATE, users.modify_user, _U)
DELETE_USER = Operation(USER_DELETE, users.delete_user, _U)
CHANGE_PASSWORD = Operation(PASSWORD, users.change_password, ("userid", "password"))
LIST_TOKENS = Operation(TOKEN_INDEX, tokens.list_tokens, _U)
READ_TOKEN = Operation(TOKEN_READ, tokens.get_token, _T)
GENERATE_TOKEN = Operation(TOKEN_CREATE, tokens.add_token, _T)
UPDATE_TOKEN = Operation(TOKEN_UPDATE, tokens.modify_token, _T)
REMOVE_TOKEN = Operation(TOKEN_DELETE, tokens.remove_token, _T)
LIST_GROUPS = Operation(GROUP_INDEX, groups.list_groups)
CREATE_GROUP = Operation(GROUP_CREATE, groups.add_group, ("groupid",))
READ_GROUP = Operation(GROUP_READ, groups.get_group, ("groupid",))
UPDATE_GROUP = Operation(GROUP_UPDATE, groups.modify_group, ("groupid",))
DELETE_GROUP = Operation(GROUP_DELETE, groups.delete_group, ("groupid",))
LIST_ROLES = Operation(ROLE_INDEX, roles.list_roles)
CREATE_ROLE = Operation(ROLE_CREATE, roles.add_role, ("roleid",))
READ_ROLE = Operation(ROLE_READ, roles.get_role, ("roleid",))
UPDATE_ROLE = Operation(ROLE_UPDATE, roles.modify_role, ("roleid",))
DELETE_ROLE = Operation(ROLE_DELETE, roles.delete_role, ("roleid",))
READ_ACL = Operation(ACL_READ, acl.list_acl)
UPDATE_ACL = Operation(ACL_UPDATE, acl.modify_acl, ("path",))
