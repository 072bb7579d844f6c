"""``respaldo pvesh get|set|create|delete|ls|usage <api_path> [--option value]...``: the REST
API from the shell, as Proxmox's ``pvesh`` (pve-manager ``PVE/CLI/pvesh.pm``).

The method is found by its HTTP verb (get = GET, set = PUT, create = POST, delete = DELETE)
and path among the API's declarations (``respaldo.api.methods``); its options are parsed by
the method's own schema, and its handler runs in this process as ``root@pam``, as Proxmox's
pvesh acts as root, so there is no server, login or HTTP. A method that starts a task prints
its UPID. Output: ``--output-format text`` (default: a scalar as is, an object as a
key/value table, a list of objects as a table), ``json`` or ``json-pretty``.

Example: a backup's notes and protection, as in Proxmox 8 (``pvesm set`` changes storages):
``respaldo pvesh set /nodes/<node>/storage/local/content/local:backup/<file> --notes text``.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable

from respaldo.access import Access
from respaldo.access.control import Principal
from respaldo.api.app import Router, check_node, check_permission
from respaldo.api.method import ApiMethod, Call, Result
from respaldo.api.methods import all_methods
from respaldo.cli.commands import EXTRA, Command, add_command, add_schema, given_values
from respaldo.cli.output import OUTPUT_FORMAT, emit, print_table
from respaldo.config.schema import Schema, string
from respaldo.errors import InputError, NotRoot
from respaldo.node import Node

#: pvesh's verbs and the HTTP methods they call.
VERBS = {"get": "GET", "set": "PUT", "create": "POST", "delete": "DELETE"}
#: Who pvesh acts as (Proxmox's pvesh runs as root@pam).
CLI_USER = "root@pam"
#: The effective uid of this process (a seam: tests fake another user).
geteuid: Callable[[], int] = os.geteuid

API_PATH = string("api_path", "API path.", optional=False, pattern=r"/.*")
PARAMS = Schema((API_PATH, OUTPUT_FORMAT), "Call an API method from the shell.")


def _path(text: str) -> str:
    return "/" + text.strip("/")


def find_method(verb: str, path: str) -> tuple[ApiMethod, dict[str, str]]:
    """The API method ``verb`` calls at ``path`` and the path's parameters; InputError
    (Proxmox's words) when there is none."""
    found = Router(all_methods()).find(VERBS[verb], _path(path))
    if found is None:
        raise InputError("api_path", path, f"No '{verb}' handler defined for '{_path(path)}'")
    return found


def _schema_parser(
    method: ApiMethod, verb: str, path_params: dict[str, str]
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"pvesh {verb} {method.path}", add_help=False)
    add_schema(parser, method.params.without(*path_params))
    return parser


def call_method(node: Node, verb: str, path: str, words: list[str]) -> object:
    """Run the method ``verb`` calls at ``path``, its options parsed from ``words`` by its
    schema, as root@pam in this process; its result (a UPID for a task). Raises NotRoot
    for another system user, InputError (and ParameterError) for bad input."""
    uid = geteuid()
    if uid != 0:
        raise NotRoot("pvesh", uid)
    method, path_params = find_method(verb, path)
    parser = _schema_parser(method, verb, path_params)
    args, unknown = parser.parse_known_args(words)
    setattr(args, EXTRA, unknown)  # named by the schema, with the valid ones
    raw: dict[str, object] = dict(given_values(args))
    raw.update(path_params)
    params = method.params.parse(raw)
    check_node(node, params)
    call = Call(node, Access(node), Principal.user(CLI_USER), params, raw)
    check_permission(call, method.permission)
    result = method.handler(call)
    return result.data if isinstance(result, Result) else result


def _print_text(data: object) -> None:
    if data is None:
        return
    if isinstance(data, dict):
        print_table(["key", "value"], [[k, _cell(v)] for k, v in sorted(data.items())])
    elif isinstance(data, list) and data and all(isinstance(row, dict) for row in data):
        keys = sorted({key for row in data for key in row})
        print_table(keys, [[_cell(row.get(key, "")) for key in keys] for row in data])
    elif isinstance(data, list):
        for item in data:
            print(_cell(item))
    else:
        print(data)


def _cell(value: object) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _run_verb(verb: str) -> Callable[[argparse.Namespace, Node], None]:
    def run(args: argparse.Namespace, node: Node) -> None:
        given = vars(args)
        fmt = str(given.get("opt:output-format", "text"))
        words = [str(word) for word in given.get(EXTRA, [])]
        data = call_method(node, verb, str(given["pos:api_path"]), words)
        emit(fmt, data, lambda: _print_text(data))

    return run


def cmd_ls(given: dict[str, object], node: Node) -> None:
    """The paths one level below ``api_path``, each with what may be done there, as
    Proxmox's ``pvesh ls`` (``D`` more below, ``r`` get, ``w`` set, ``c`` create, ``d``
    delete); a parameter shows as its ``{name}``."""
    prefix = _path(str(given["api_path"])).rstrip("/")
    depth = len([p for p in prefix.split("/") if p]) + 1
    children: dict[str, set[str]] = {}
    deeper: set[str] = set()
    for method in all_methods():
        if not _matches_prefix(method, prefix):
            continue
        parts = [p for p in method.path.split("/") if p]
        name = parts[depth - 1]
        children.setdefault(name, set())
        if len(parts) == depth:
            children[name].add(method.http)
        else:
            deeper.add(name)
    for name in sorted(children):
        https = children[name]
        flags = "D" if name in deeper else "-"
        for http, flag in (("GET", "r"), ("PUT", "w"), ("POST", "c"), ("DELETE", "d")):
            flags += flag if http in https else "-"
        print(f"{flags}        {name}")


def _matches_prefix(method: ApiMethod, prefix: str) -> bool:
    """Whether the method's path begins with ``prefix`` (its ``{params}`` matching any
    segment there)."""
    parts = [p for p in method.path.split("/") if p]
    given = [p for p in prefix.split("/") if p]
    if len(parts) <= len(given):
        return False
    pairs = zip(parts[: len(given)], given, strict=True)
    return all(p == g or (p.startswith("{") and p.endswith("}")) for p, g in pairs)


def cmd_usage(given: dict[str, object], node: Node) -> None:
    """The options of every method at ``api_path``."""
    path = _path(str(given["api_path"]))
    for verb, http in VERBS.items():
        found = Router(all_methods()).find(http, path)
        if found is not None:
            method, path_params = found
            usage = _schema_parser(method, verb, path_params).format_usage()
            print(f"{method.description}\n{usage}")


COMMANDS = (
    Command("ls", "list the paths below a path", PARAMS.only("api_path"), cmd_ls, ("api_path",)),
    Command(
        "usage",
        "the options of a path's methods",
        PARAMS.only("api_path"),
        cmd_usage,
        ("api_path",),
    ),
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("pvesh", help="call the REST API from the shell (as root@pam)")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    for verb, http in VERBS.items():
        # The method's own options are not known before its path is: argparse keeps them
        # (main.parse), the method's schema parses them.
        child = verbs.add_parser(verb, help=f"call the API's {http} method at a path")
        add_schema(child, PARAMS, ("api_path",))
        child.set_defaults(func=_run_verb(verb))
    for command in COMMANDS:
        add_command(verbs, command)
