"""``respaldo server``: run the node's REST API server in the foreground."""

from __future__ import annotations

import argparse
import functools

from respaldo import daemon
from respaldo.cli.commands import Command, add_command
from respaldo.node import Node


def cmd_server(params: dict[str, object], node: Node) -> None:
    daemon.run(node, daemon.settings_from(params), functools.partial(print, flush=True))


COMMAND = Command(
    "server",
    "run the REST API server (HTTPS, port 8006)",
    daemon.SERVER_PARAMS,
    cmd_server,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add_command(sub, COMMAND)
