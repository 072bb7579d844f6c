"""``respaldo pveum ...``: users, API tokens, groups, roles and ACLs, with the verbs and options
of Proxmox's ``pveum`` (pve-access-control ``PVE/CLI/pveum.pm``).

Every verb's parameters are the schema of its API method (:mod:`respaldo.access.params`), and
its work one call of an access service. As Proxmox's CLI, ``pveum`` acts as ``root@pam`` (no
permission checks) and so only root may run it (or the owner of the node's data dir); for
another system user :mod:`respaldo.cli.main` stops with :class:`~respaldo.errors.NotRoot`
before it reads anything.

Output as Proxmox's ``print_api_result``: lists as a table whose columns are the result's
properties (required ones first, then the others, each group sorted), an object as a
key/value table, ``--output-format json|json-pretty`` for JSON. ``user token add`` prints the
token's secret, which is shown this once.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from respaldo.access import Access, acl
from respaldo.access import params as p
from respaldo.cli.commands import Command, Runner, add_command
from respaldo.cli.output import OUTPUT_FORMAT, emit, print_table
from respaldo.errors import InputError
from respaldo.node import Node


def make_access(node: Node) -> Access:
    """The access layer the commands use (a seam: tests make a cheaper one)."""
    return Access(node)


def _access(node: Node) -> Access:
    return make_access(node)


Params = dict[str, Any]
Action = Callable[[Access, Params], object]
Show = Callable[[str, Any], None]


def _run(action: Action, show: Show | None = None) -> Runner:
    """A command's ``run``: root check, the action with the parsed parameters, the result
    printed by ``show`` in the ``--output-format`` asked for."""

    def run(params: dict[str, object], node: Node) -> None:
        given = dict(params)
        fmt = str(given.pop("output-format", "text"))
        result = action(_access(node), given)
        if show is not None:
            show(fmt, result)

    return run


# -- printing (pve-common ``PVE/CLIFormatter.pm``) --------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def _rows(columns: Sequence[str]) -> Show:
    """A list of objects as a table with these columns (Proxmox prints nothing for none)."""

    def show(fmt: str, data: list[dict[str, object]]) -> None:
        def text() -> None:
            if data:
                print_table(columns, [[_cell(row.get(key)) for key in columns] for row in data])

        emit(fmt, data, text)

    return show


def _object(keys: Sequence[str]) -> Show:
    """An object as a key/value table of the keys it has, in this order."""

    def show(fmt: str, data: dict[str, object]) -> None:
        def text() -> None:
            rows = [[key, _cell(data[key])] for key in keys if data.get(key) is not None]
            print_table(["key", "value"], rows)

        emit(fmt, data, text)

    return show


def _nothing(fmt: str, data: None) -> None:
    """A verb whose result is null, that still takes ``--output-format`` (as Proxmox's
    ``token delete``)."""


def _show_permissions(fmt: str, data: dict[str, dict[str, int]]) -> None:
    """``user permissions``: each path with its privileges, one a line, ``(*)`` marking the
    propagated ones."""

    def text() -> None:
        rows: list[list[str]] = []
        for path in sorted(data):
            privs = [f"{priv} (*)" if flag else priv for priv, flag in sorted(data[path].items())]
            for index, priv in enumerate(privs or [""]):
                rows.append([path if index == 0 else "", priv])
        print_table(["ACL path", "Permissions"], rows)
        print("Permissions marked with '(*)' have the 'propagate' flag set.")

    emit(fmt, data, text)


# -- actions ---------------------------------------------------------------------------------


def _do(operation: p.Operation, **extra: Any) -> Action:
    """An operation as root runs it: no ``who``, nothing filtered."""
    return lambda access, params: operation(access, params, **extra)


def _permissions(access: Access, params: Params) -> object:
    return access.permissions_tree(params.get("userid", "root@pam"), params.get("path"))


def _token_permissions(access: Access, params: Params) -> object:
    tokenid = f"{params['userid']}!{params['tokenid']}"
    return access.permissions_tree(tokenid, params.get("path"))


def read_new_password() -> str:
    """A new password as Proxmox's ``get_confirmed_password`` reads it: twice, on a terminal
    with the prompts ``Enter new password:`` and ``Retype new password:`` and without echo,
    else as two lines of stdin. InputError if the two differ or stdin ends first."""
    first, second = _read_password("Enter new password: "), _read_password("Retype new password: ")
    if first != second:
        raise InputError("password", "(hidden)", "passwords do not match")
    return first


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline()
    if not line:
        raise InputError("password", "", "EOF while reading password")
    return line.removesuffix("\n")


def _passwd(access: Access, params: Params) -> None:
    password = params.get("password") or read_new_password()
    p.CHANGE_PASSWORD(access, {**params, "password": password})


# -- commands --------------------------------------------------------------------------------

_FMT = OUTPUT_FORMAT
_USER_COLUMNS = (
    "userid",
    "comment",
    "email",
    "enable",
    "expire",
    "firstname",
    "groups",
    "keys",
    "lastname",
    "realm-type",
    "tokens",
)


def _verb(name: str, operation: p.Operation, show: Show | None = None, **extra: Any) -> Command:
    """``name`` doing ``operation``, its positional parameters Proxmox's ``arg_param``; with
    ``show``, its result printed and ``--output-format`` taken."""
    schema = operation.schema.extend(_FMT) if show else operation.schema
    return Command(
        name,
        schema.description,
        schema,
        _run(_do(operation, **extra), show),
        operation.positional,
    )


def _user_commands() -> list[Command]:
    return [
        _verb("add", p.CREATE_USER),
        _verb("modify", p.UPDATE_USER),
        _verb("delete", p.DELETE_USER),
        _verb("list", p.LIST_USERS, _rows(_USER_COLUMNS)),
        Command(
            "permissions",
            p.PERMISSIONS.description + " (default: root@pam)",
            p.PERMISSIONS.extend(_FMT),
            _run(_permissions, _show_permissions),
            ("userid",),
        ),
    ]


def _token_commands() -> list[Command]:
    return [
        _verb("add", p.GENERATE_TOKEN, _object(("full-tokenid", "info", "value"))),
        _verb(
            "modify",
            p.UPDATE_TOKEN,
            _object(("comment", "expire", "full-tokenid", "privsep", "value")),
        ),
        _verb("delete", p.REMOVE_TOKEN, _nothing),
        _verb("remove", p.REMOVE_TOKEN, _nothing),
        _verb("list", p.LIST_TOKENS, _rows(("tokenid", "comment", "expire", "privsep"))),
        Command(
            "permissions",
            p.TOKEN_PERMISSIONS.description,
            p.TOKEN_PERMISSIONS.extend(_FMT),
            _run(_token_permissions, _show_permissions),
            ("userid", "tokenid"),
        ),
    ]


def _group_commands() -> list[Command]:
    return [
        _verb("add", p.CREATE_GROUP),
        _verb("modify", p.UPDATE_GROUP),
        _verb("delete", p.DELETE_GROUP),
        _verb("list", p.LIST_GROUPS, _rows(("groupid", "comment", "users"))),
    ]


def _role_commands() -> list[Command]:
    return [
        _verb("add", p.CREATE_ROLE),
        _verb("modify", p.UPDATE_ROLE),
        _verb("delete", p.DELETE_ROLE),
        _verb("list", p.LIST_ROLES, _rows(("roleid", "privs", "special"))),
    ]


#: ``acl modify`` and ``acl delete`` are ``PUT /access/acl`` with ``delete`` fixed.
_ACL_SET = p.Operation(p.ACL_UPDATE.without("delete"), acl.modify_acl, ("path",))


def _acl_commands() -> list[Command]:
    return [
        _verb("modify", _ACL_SET, delete=False),
        _verb("delete", _ACL_SET, delete=True),
        _verb("list", p.READ_ACL, _rows(("path", "roleid", "type", "ugid", "propagate"))),
    ]


PASSWD = Command(
    "passwd",
    "Change user password (read from the terminal, or as two lines of stdin).",
    p.PASSWORD.only("userid", "password").overriding(password={"optional": True}),
    _run(_passwd),
    ("userid",),
)


def _group(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    parser = sub.add_parser(name, help=help_text, description=help_text)
    return parser.add_subparsers(dest=f"{name}_verb", required=True, metavar="COMMAND")


def _alias(command: Command, name: str, family: str) -> Command:
    """Proxmox's ``useradd`` for ``user add`` and the like."""
    help_text = f"alias of '{family} {command.name}'"
    return Command(name, help_text, command.schema, command.run, command.positional)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``respaldo pveum <user|group|role|acl|passwd> ...`` and Proxmox's aliases
    (``useradd``, ``aclmod``...)."""
    pveum = _group(sub, "pveum", "manage users, API tokens, groups, roles and ACLs")
    families = {
        "user": ("manage users", _user_commands()),
        "group": ("manage groups", _group_commands()),
        "role": ("manage roles", _role_commands()),
        "acl": ("manage access control lists", _acl_commands()),
    }
    aliases: list[Command] = []
    for family, (help_text, commands) in families.items():
        verbs = _group(pveum, family, help_text)
        for command in commands:
            add_command(verbs, command)
        if family == "user":
            _add_tokens(verbs)
        short = {"add": "add", "modify": "mod", "delete": "del"}
        aliases += [_alias(c, family + short[c.name], family) for c in commands if c.name in short]
    add_command(pveum, PASSWD)
    for command in aliases:
        add_command(pveum, command)


def _add_tokens(user_verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verbs = _group(user_verbs, "token", "manage a user's API tokens")
    for command in _token_commands():
        add_command(verbs, command)
