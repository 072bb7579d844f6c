"""``respaldo notification ...``: notification targets and matchers of this node.

``respaldo notification smtp|webhook|matcher list|show|create|set|delete`` and
``respaldo notification targets|test <name>``, with the parameters of
``/cluster/notifications`` (the schemas of :mod:`respaldo.notify.targets`).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from respaldo.cli.commands import Command, add_command, register_commands
from respaldo.cli.output import OUTPUT_FORMAT, emit, print_table
from respaldo.config.schema import Schema, string
from respaldo.node import Node
from respaldo.services.notifications import SCHEMAS, NotificationConfig

NAME = ("name",)


def _fmt(params: dict[str, object]) -> str:
    return str(params.get("output-format", "text"))


def _kind_commands(kind: str) -> tuple[Command, ...]:
    schema = SCHEMAS[kind]
    one = Schema((schema.get("name"),))
    update = Schema(tuple(replace(p, optional=p.name != "name") for p in schema)).extend(
        string("delete", "A list of settings you want to delete.", format="pve-configid-list")
    )

    def cmd_list(params: dict[str, object], node: Node) -> None:
        rows = NotificationConfig(node).entries(kind)
        emit(
            _fmt(params),
            rows,
            lambda: print_table(
                ["Name", "Disabled", "Comment"],
                [
                    [r["name"], "yes" if r.get("disable") else "", r.get("comment", "")]
                    for r in rows
                ],
            ),
        )

    def cmd_show(params: dict[str, object], node: Node) -> None:
        entry = NotificationConfig(node).get(kind, str(params["name"]))

        def text() -> None:
            for key, value in entry.items():
                print(f"{key}: {value}")

        emit(_fmt(params), entry, text)

    def cmd_create(params: dict[str, object], node: Node) -> None:
        NotificationConfig(node).create(kind, params)

    def cmd_set(params: dict[str, object], node: Node) -> None:
        delete = [k for k in str(params.get("delete", "")).replace(";", ",").split(",") if k]
        given = {k: v for k, v in params.items() if k not in ("name", "delete")}
        NotificationConfig(node).update(kind, str(params["name"]), given, delete)

    def cmd_delete(params: dict[str, object], node: Node) -> None:
        NotificationConfig(node).delete(kind, str(params["name"]))

    return (
        Command("list", f"list the {kind} entries", Schema((OUTPUT_FORMAT,)), cmd_list),
        Command("show", f"show a {kind} entry", one.extend(OUTPUT_FORMAT), cmd_show, NAME),
        Command("create", f"create a {kind} entry", schema, cmd_create, NAME, checked=False),
        Command("set", f"change a {kind} entry", update, cmd_set, NAME, checked=False),
        Command("delete", f"delete a {kind} entry", one, cmd_delete, NAME),
    )


def cmd_targets(params: dict[str, object], node: Node) -> None:
    rows = NotificationConfig(node).targets()
    emit(
        _fmt(params),
        rows,
        lambda: print_table(
            ["Name", "Type", "Disabled", "Comment"],
            [
                [r["name"], r["type"], "yes" if r["disable"] else "", r.get("comment", "")]
                for r in rows
            ],
        ),
    )


def cmd_test(params: dict[str, object], node: Node) -> None:
    NotificationConfig(node).test_target(str(params["name"]))
    print(f"test notification sent to '{params['name']}'")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("notification", help="manage notification targets and matchers")
    groups = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")
    register_commands(groups, "smtp", "SMTP targets", _kind_commands("smtp"))
    register_commands(groups, "webhook", "webhook targets", _kind_commands("webhook"))
    register_commands(
        groups, "matcher", "matchers (which notification goes where)", _kind_commands("matcher")
    )
    add_command(
        groups, Command("targets", "list every target", Schema((OUTPUT_FORMAT,)), cmd_targets)
    )
    add_command(
        groups,
        Command(
            "test",
            "send a test notification to a target",
            Schema((string("name", "Name of the target.", format="pve-configid", optional=False),)),
            cmd_test,
            NAME,
        ),
    )
