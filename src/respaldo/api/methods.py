"""Every API method of the server, in one list (the router, the OpenAPI document and the
tests walk it)."""

from __future__ import annotations

from respaldo.api import (
    access,
    cluster_backup,
    nodes,
    notifications,
    qemu,
    storage,
    tasks,
    vzdump,
)
from respaldo.api.method import ApiMethod


def all_methods() -> list[ApiMethod]:
    return [
        *nodes.METHODS,
        *access.METHODS,
        *qemu.METHODS,
        *storage.METHODS,
        *vzdump.METHODS,
        *tasks.METHODS,
        *cluster_backup.METHODS,
        *notifications.METHODS,
    ]
