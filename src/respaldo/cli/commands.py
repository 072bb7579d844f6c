"""CLI commands built from the parameter schema, as Proxmox's ``PVE/CLIHandler.pm`` builds them.

A :class:`Command` names a verb, the :class:`~respaldo.config.schema.Schema` of its
parameters and which of them are positional (Proxmox's ``arg_param``); its arguments are
generated from the schema, so every option of ``--help`` is declared once. Options are read as
Proxmox reads them (pve-common ``PVE/JSONSchema.pm`` ``get_options``): ``--name value``,
``--name=value`` or ``-name value``; a boolean given without a value is true (``--force``); an
option whose format is a list may be repeated (``--exclude 101 --exclude 102``); a positional
parameter whose format is a list (``pve-vmid-list``) takes every remaining word
(``vzdump 100 101``). The values are checked by the schema, which names
every bad one; the command's ``run`` gets the typed values of the parameters given.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from respaldo.cli.pairs import parse_pairs
from respaldo.config.schema import Param, ParamType, Schema
from respaldo.errors import InputError
from respaldo.node import Node

#: ``run(params, node)``: the typed values of the parameters given (or, for a command that
#: checks them itself, the strings as typed).
Runner = Callable[[dict[str, object], Node], None]

#: Set on the parsed arguments of a command built from a schema.
SCHEMA_KEY = "_schema"


@dataclass(frozen=True)
class Command:
    """One verb: ``qm start <vmid> [--skiplock]``."""

    name: str
    help: str
    schema: Schema
    run: Runner
    positional: tuple[str, ...] = ()
    description: str | None = None
    #: False: ``run`` gets the values as typed and checks them itself against the schema
    #: (vzdump, which first lays them over the defaults of ``vzdump.conf``).
    checked: bool = True


def _option_help(param: Param, key: str) -> str:
    text = param.description
    if param.indexed:
        text += f" (also {param.name}1..{param.name}{param.indexed - 1})"
    if param.default is not None:
        default = param.default
        if isinstance(default, bool):
            default = int(default)
        text += f" (default: {default})"
    return text.replace("%", "%%")


def _add_option(parser: argparse.ArgumentParser, param: Param, key: str, shown: bool) -> None:
    kwargs: dict[str, object] = {
        "dest": f"opt:{key}",
        "default": argparse.SUPPRESS,
        "metavar": param.text(),
        "help": _option_help(param, key) if shown else argparse.SUPPRESS,
    }
    if param.type is ParamType.BOOLEAN:
        kwargs.update(nargs="?", const="1")
    elif _is_list(param):
        kwargs.update(action="append")  # --vmid 100 --vmid 101, joined as 100,101
    parser.add_argument(f"--{key}", **kwargs)  # type: ignore[arg-type]


def _is_list(param: Param) -> bool:
    return param.format is not None and param.format.endswith("-list")


def _add_positional(parser: argparse.ArgumentParser, param: Param) -> None:
    nargs: str | None = None
    if _is_list(param):
        nargs = "*"
    elif param.optional:
        nargs = "?"
    parser.add_argument(
        f"pos:{param.name}",
        metavar=param.name,
        help=param.description.replace("%", "%%"),
        nargs=nargs,
        default=argparse.SUPPRESS,
    )


def add_schema(
    parser: argparse.ArgumentParser, schema: Schema, positional: Sequence[str] = ()
) -> None:
    """Arguments for every parameter of ``schema``: ``positional`` ones in that order, the
    others as ``--options``. An indexed parameter (``scsi[n]``) shows its first key in the
    help and accepts all."""
    for name in positional:
        _add_positional(parser, schema.get(name))
    for param in schema:
        if param.name in positional:
            continue
        for index, key in enumerate(param.keys()):
            _add_option(parser, param, key, shown=index == 0)
    parser.set_defaults(**{SCHEMA_KEY: schema})


#: Where :func:`respaldo.cli.main.parse` leaves the words argparse did not know.
EXTRA = "_extra_words"


def given_values(args: argparse.Namespace) -> dict[str, str]:
    """The parameters given on the command line, as typed: ``{"vmid": "100", ...}``.

    Options argparse did not know (``--colour red``) are included, so that the schema names
    them as unknown with the valid ones, as Proxmox does.
    """
    values: dict[str, str] = dict(parse_pairs(getattr(args, EXTRA, [])))
    for dest, value in vars(args).items():
        kind, _, key = dest.partition(":")
        if key in values:
            raise InputError(f"--{key}", value, "given twice")
        if kind == "opt":
            values[key] = ",".join(value) if isinstance(value, list) else value
        elif kind == "pos" and value is not None:
            if isinstance(value, list):
                if value:
                    values[key] = ",".join(value)
            else:
                values[key] = value
    return values


def register_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    group: str,
    help_text: str,
    commands: Sequence[Command],
) -> None:
    """``respaldo <group> <verb> ...`` for each command."""
    parser = sub.add_parser(group, help=help_text)
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    for command in commands:
        add_command(verbs, command)


def add_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], command: Command
) -> argparse.ArgumentParser:
    """One parser for ``command``; its ``func(args, node)`` checks and runs it."""
    parser = sub.add_parser(
        command.name,
        help=command.help,
        description=command.description or command.help,
    )
    add_schema(parser, command.schema, command.positional)

    def func(args: argparse.Namespace, node: Node) -> None:
        given: dict[str, object] = dict(given_values(args))
        command.run(command.schema.parse(given) if command.checked else given, node)

    parser.set_defaults(func=func)
    return parser
