"""The ``respaldo`` command: parse, call one service function, map errors to exit codes."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable

from respaldo.cli.commands import EXTRA, SCHEMA_KEY
from respaldo.errors import NotRoot, RespaldoError, out_of_memory
from respaldo.node import Node

EXIT_FAILURE = 1
EXIT_USER_ERROR = 2

Handler = Callable[[argparse.Namespace, Node], None]
COMMANDS = (
    "qm",
    "pvesm",
    "vzdump",
    "qmrestore",
    "vma",
    "pveum",
    "server",
    "job",
    "notification",
    "pvesh",
)
#: Commands that act as root@pam of the node, as Proxmox's ``qm``, ``pvesm``, ``vzdump``,
#: ``qmrestore``, ``pveum`` and ``pvesh`` (for jobs and notifications) do
#: (``PVE::RPCEnvironment::setup_default_cli_env``): only root may run them, or the user whose
#: own node it is (a data dir of theirs, ``~/.local/share/respaldo``). ``vma`` reads files and
#: ``server`` checks every caller: any user may run them.
AS_ROOT = ("qm", "pvesm", "vzdump", "qmrestore", "pveum", "job", "notification", "pvesh")
#: The effective uid of this process (a seam: tests fake another user).
geteuid: Callable[[], int] = os.geteuid


def check_acts_as_root(command: str, node: Node) -> None:
    """Raise NotRoot unless this process may act as root@pam of ``node``: it is root, or the
    node's data dir (or, before it exists, the nearest folder above it) is its user's."""
    uid = geteuid()
    if uid == 0:
        return
    place = node.home
    while not place.exists() and place != place.parent:
        place = place.parent
    if place.stat().st_uid != uid:
        raise NotRoot(command, uid, node.home)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or with ``only`` of that one: a command then imports
    just its own modules (a backup starts without the restore and storage code)."""
    parser = argparse.ArgumentParser(
        prog="respaldo", description="Back up and restore QEMU/KVM VMs, the Proxmox VE way."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in [only] if only in COMMANDS else COMMANDS:
        importlib.import_module(f"respaldo.cli.{name}").register(sub)
    return parser


def double_dashed(argv: list[str]) -> list[str]:
    """Proxmox's CLI takes ``-storage local`` as ``--storage local`` (Getopt::Long with the
    prefix ``--|-``); argparse wants two dashes. ``-h`` stays help; ``-`` and negative
    numbers stay words."""
    return [
        f"-{word}" if len(word) > 2 and word[0] == "-" and word[1].isalpha() else word
        for word in argv
    ]


def parse(argv: list[str]) -> argparse.Namespace:
    """argparse; words it does not know are kept for the command's schema, which names an
    unknown option with the valid ones (a command without a schema refuses them at once)."""
    argv = double_dashed(argv)
    parser = build_parser(argv[0] if argv else None)
    args, extra = parser.parse_known_args(argv)
    if extra:
        if not hasattr(args, SCHEMA_KEY):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        setattr(args, EXTRA, extra)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    handler: Handler = args.func
    try:
        node = Node.from_env()
        if args.command in AS_ROOT:
            check_acts_as_root(args.command, node)
        handler(args, node)
    except RespaldoError as err:
        print(f"respaldo: {err}", file=sys.stderr)
        return EXIT_USER_ERROR if err.user_error else EXIT_FAILURE
    except (MemoryError, RuntimeError) as err:
        if (oom := out_of_memory(err)) is None:
            raise
        print(f"respaldo: {oom}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
