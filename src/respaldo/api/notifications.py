"""``/cluster/notifications``: notification targets (smtp, webhook), matchers, the list of
targets and "send test notification" (pve-manager ``PVE/API2/Cluster/Notifications.pm``).

Permissions as Proxmox's: ``Mapping.Audit`` or ``Mapping.Modify`` on
``/mapping/notifications`` to read, ``Mapping.Modify`` to change; an endpoint (which reaches
the network) also needs ``Sys.Audit`` and ``Sys.Modify``, or ``Sys.AccessNetwork``, on
``/``; listing and testing targets any of ``Mapping.Modify``, ``Mapping.Audit``,
``Mapping.Use``. Passwords and secret values are never returned.
"""

from __future__ import annotations

from dataclasses import replace

from respaldo.api.method import ApiMethod, Call, Perm, array, null, obj, prop
from respaldo.config.schema import Schema, string
from respaldo.errors import PermissionDenied
from respaldo.services.notifications import SCHEMAS, NotificationConfig

PATH = "/mapping/notifications"
READ = Perm(PATH, ("Mapping.Modify", "Mapping.Audit"), any=True)
USE = Perm(PATH, ("Mapping.Modify", "Mapping.Audit", "Mapping.Use"), any=True)
MODIFY = Perm(PATH, ("Mapping.Modify",))


def _network_check(call: Call) -> None:
    privs = call.access.permissions(call.principal, "/")
    if {"Sys.Audit", "Sys.Modify"} <= privs or "Sys.AccessNetwork" in privs:
        return
    raise PermissionDenied("/, Sys.Audit and Sys.Modify, or Sys.AccessNetwork")


MODIFY_ENDPOINT = Perm(PATH, ("Mapping.Modify",), check=_network_check)
_DELETE = string("delete", "A list of settings you want to delete.", format="pve-configid-list")
_DIGEST = string("digest", "Prevent changes if the configuration changed meanwhile (ignored).")


def _given(call: Call, *drop: str) -> dict[str, object]:
    return {key: value for key, value in call.raw.items() if key not in ("digest", *drop)}


def _deleted(call: Call) -> list[str]:
    return [str(key) for key in call.get("delete") or []]  # type: ignore[attr-defined]


def _methods(kind: str, base: str, what: str) -> list[ApiMethod]:
    schema = SCHEMAS[kind]
    name = schema.get("name")
    one = Schema((name,))
    optional = Schema(tuple(replace(p, optional=p.name != "name") for p in schema))
    update = optional.extend(_DELETE, _DIGEST)
    change = MODIFY if kind == "matcher" else MODIFY_ENDPOINT

    def config(call: Call) -> NotificationConfig:
        return NotificationConfig(call.node)

    return [
        ApiMethod(
            f"notification_{kind}_list",
            "GET",
            base,
            f"Returns a list of all {what}s",
            Schema(()),
            array({"type": "object"}),
            lambda call: config(call).entries(kind),
            READ,
        ),
        ApiMethod(
            f"notification_{kind}_get",
            "GET",
            f"{base}/{{name}}",
            f"Return a specific {what}",
            one,
            {"type": "object"},
            lambda call: config(call).get(kind, call.text("name")),
            READ,
        ),
        ApiMethod(
            f"notification_{kind}_create",
            "POST",
            base,
            f"Create a new {what}",
            schema,
            null(),
            lambda call: config(call).create(kind, _given(call)),
            change,
            protected=True,
        ),
        ApiMethod(
            f"notification_{kind}_update",
            "PUT",
            f"{base}/{{name}}",
            f"Update existing {what}",
            update,
            null(),
            lambda call: config(call).update(
                kind, call.text("name"), _given(call, "name", "delete"), _deleted(call)
            ),
            change,
            protected=True,
        ),
        ApiMethod(
            f"notification_{kind}_delete",
            "DELETE",
            f"{base}/{{name}}",
            f"Remove {what}",
            one,
            null(),
            lambda call: config(call).delete(kind, call.text("name")),
            MODIFY,
            protected=True,
        ),
    ]


_INDEX = array(obj(name=prop("string")))
PREFIX = "/cluster/notifications"

METHODS = [
    ApiMethod(
        "notifications_index",
        "GET",
        PREFIX,
        "Index for notification-related API endpoints.",
        Schema(()),
        _INDEX,
        lambda call: [{"name": n} for n in ("endpoints", "matchers", "targets")],
        Perm(user="all"),
    ),
    ApiMethod(
        "notification_endpoints_index",
        "GET",
        f"{PREFIX}/endpoints",
        "Index for all available endpoint types.",
        Schema(()),
        _INDEX,
        lambda call: [{"name": "smtp"}, {"name": "webhook"}],
        Perm(user="all"),
    ),
    *_methods("smtp", f"{PREFIX}/endpoints/smtp", "smtp endpoint"),
    *_methods("webhook", f"{PREFIX}/endpoints/webhook", "webhook endpoint"),
    *_methods("matcher", f"{PREFIX}/matchers", "matcher"),
    ApiMethod(
        "notification_targets",
        "GET",
        f"{PREFIX}/targets",
        "Returns a list of all entities that can be used as notification targets.",
        Schema(()),
        array(
            obj(
                name=prop("string"),
                type=prop("string"),
                comment=prop("string"),
                disable=prop("integer", "1 when the target is disabled (Proxmox's 0/1)."),
                origin=prop("string"),
            )
        ),
        lambda call: NotificationConfig(call.node).targets(),
        USE,
        protected=True,
    ),
    ApiMethod(
        "notification_target_test",
        "POST",
        f"{PREFIX}/targets/{{name}}/test",
        "Send a test notification to a provided target.",
        Schema((string("name", "Name of the target.", format="pve-configid", optional=False),)),
        null(),
        lambda call: NotificationConfig(call.node).test_target(call.text("name")),
        USE,
        protected=True,
    ),
]
