"""``respaldo server``: the API server (and, with it, the web UI and the backup job scheduler)
of a node.

At the first start it prepares the node as Proxmox's installer does: ``root@pam`` in
``user.cfg``, and an administrator ``admin@pve`` with a random password (printed once, and kept
in ``config/priv/admin-password``, readable by the owner only) with the ``Administrator`` role
on ``/``. The certificate and the ticket keys are made on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from respaldo.access.acl import modify_acl
from respaldo.access.control import Access, AccessSettings
from respaldo.access.users import add_user
from respaldo.api.app import ApiServer, ServerSettings, serve
from respaldo.api.methods import all_methods
from respaldo.api.tls import server_context
from respaldo.config.schema import Schema, integer, number, string
from respaldo.jobs.launch import task_status_reader, vzdump_starter
from respaldo.jobs.scheduler import Scheduler
from respaldo.node import Node

#: ``respaldo server``'s options.
SERVER_PARAMS = Schema(
    (
        string(
            "listen",
            "The address to listen on (all addresses, IPv4 and IPv6, by default).",
        ),
        integer(
            "port",
            "The TCP port of the API and the web UI.",
            minimum=1,
            maximum=65535,
            default=8006,
        ),
        number(
            "auth-delay",
            "Seconds before an unauthorized request is answered (Proxmox: 3).",
            minimum=0,
            maximum=60,
            default=3,
        ),
    ),
    "Run the REST API server (HTTPS) of this node.",
)

ADMIN = "admin@pve"
#: Seconds between scheduler rounds at most: a job created or changed through the API (or
#: by another process) is seen this soon.
SCHEDULER_WAIT = 10.0
_SCHEDULER_JOIN = 30.0  # seconds the end of a round may take at shutdown
ADMIN_PASSWORD_FILE = "admin-password"


@dataclass(frozen=True)
class FirstStart:
    """What the first start made: the admin's password, or None when it existed already."""

    admin_password: str | None
    password_file: Path


def admin_password_file(node: Node) -> Path:
    return node.config_dir / "priv" / ADMIN_PASSWORD_FILE


def prepare_node(node: Node, access: Access) -> FirstStart:
    """root@pam and admin@pve in user.cfg (each only when missing)."""
    node.ensure_dirs()
    password_file = admin_password_file(node)
    config = access.config()
    if "root@pam" not in config.users:
        add_user(access, "root@pam", comment="the node's root")
    if ADMIN in access.config().users:
        return FirstStart(None, password_file)
    password = secrets.token_urlsafe(15)
    add_user(access, ADMIN, password=password, comment="respaldo administrator")
    modify_acl(access, "/", "Administrator", users=ADMIN)
    password_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(password + "\n")
    return FirstStart(password, password_file)


def settings_from(params: dict[str, object]) -> ServerSettings:
    """ServerSettings from ``respaldo server``'s parsed options."""
    return ServerSettings(
        host=str(params.get("listen", "")),
        port=int(str(params.get("port", 8006))),
        auth_delay=float(str(params.get("auth-delay", 3.0))),
    )


@contextlib.contextmanager
def scheduler_running(node: Node) -> Iterator[Scheduler]:
    """The backup job scheduler in a thread of its own for the block; stopped and joined
    when the block ends (the tasks it started go on: they are processes of their own)."""
    scheduler = Scheduler(
        node, vzdump_starter(node), task_status_reader(node), max_wait=SCHEDULER_WAIT
    )
    thread = threading.Thread(target=scheduler.run, name="scheduler", daemon=True)
    thread.start()
    try:
        yield scheduler
    finally:
        scheduler.stop()
        thread.join(_SCHEDULER_JOIN)


def run(node: Node, settings: ServerSettings, say: Callable[[str], None] = print) -> None:
    """Serve, and run the scheduled backup jobs, until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    access = Access(node, AccessSettings(failed_login_delay=settings.auth_delay))
    first = prepare_node(node, access)
    if first.admin_password is not None:
        say(f"created {ADMIN} with the password: {first.admin_password}")
        say(f"(kept in {first.password_file}, readable by its owner only)")
    server = ApiServer(node, all_methods(), settings, access)
    context = server_context(node)

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
        await serve(server, context, lambda url: say(f"respaldo is listening on {url}"))

    with scheduler_running(node), contextlib.suppress(asyncio.CancelledError):
        asyncio.run(main())
    sys.stdout.flush()
