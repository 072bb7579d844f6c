"""``/access``: login, realms, permissions (pve-access-control ``PVE/API2/AccessControl.pm``,
``PVE/API2/Domains.pm``)."""

from __future__ import annotations

from respaldo.api.method import (
    ALL_USERS,
    OPEN,
    ApiMethod,
    Call,
    array,
    null,
    obj,
    prop,
)
from respaldo.config.schema import Schema, string


def _index(call: Call) -> object:
    return [
        {"subdir": name}
        for name in ("users", "groups", "roles", "acl", "domains", "ticket", "permissions")
    ]


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
    )
    return result.as_dict()


def _permissions(call: Call) -> object:
    who = call.opt_text("userid") or call.principal.authid
    if who != call.principal.authid:
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
    ),
    ApiMethod(
        "permissions",
        "GET",
        "/access/permissions",
        "Retrieve effective permissions of given user/token.",
        Schema(
            (
                string("userid", "User ID or full API token ID"),
                string("path", "Only dump this specific path, not the whole tree."),
            )
        ),
        {"type": "object", "additionalProperties": {"type": "object"}},
        _permissions,
        ALL_USERS,
    ),
]
