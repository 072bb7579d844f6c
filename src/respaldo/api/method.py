"""One declaration per API method, as Proxmox's ``PVE::RESTHandler->register_method``.

An :class:`ApiMethod` gives the HTTP method and the path (``/nodes/{node}/qemu/{vmid}/config``),
the parameter schema (path parameters included, with Proxmox's formats), the return schema,
the permission it needs, whether API tokens may call it, and the handler. From the
declarations the server builds its routing, its request validation and permission checks
(``respaldo.api.app``), and the OpenAPI document (``respaldo.api.openapi``); the tests walk
them too. A handler is a thin face: it turns typed parameters into one service call (or one
task) and returns plain data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from respaldo.access.control import Access, Principal
from respaldo.config.schema import Schema
from respaldo.node import Node

#: The JSON schema of a method's result (``returns`` in Proxmox's declarations).
Returns = dict[str, Any]


@dataclass
class Call:
    """What a handler is given: the node, the access layer, who calls, and the typed
    parameters (path parameters included)."""

    node: Node
    access: Access
    principal: Principal
    params: dict[str, object]
    #: The parameters as sent, before typing (a method that hands them on as text).
    raw: dict[str, object] = field(default_factory=dict)
    #: The client's address (the failed-login limit counts per user and address).
    client: str | None = None

    @property
    def is_root(self) -> bool:
        return self.principal.userid == "root@pam" and self.principal.tokenid is None

    def get(self, key: str, default: object = None) -> object:
        return self.params.get(key, default)

    def text(self, key: str) -> str:
        """A required parameter as text."""
        return str(self.params[key])

    def opt_text(self, key: str) -> str | None:
        value = self.params.get(key)
        return None if value is None else str(value)

    def number(self, key: str, default: int = 0) -> int:
        value = self.params.get(key, default)
        if not isinstance(value, int):
            raise TypeError(f"parameter {key} is {type(value).__name__}, not int")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        return bool(self.params.get(key, default))


@dataclass(frozen=True)
class Result:
    """A result with Proxmox's extra top-level keys (``total`` of a list, ``changes``)."""

    data: object
    total: int | None = None


Handler = Callable[[Call], object]


@dataclass(frozen=True)
class Perm:
    """A permission as Proxmox declares it: ``check => ['perm', '/vms/{vmid}', ['VM.Audit']]``.

    ``path`` may name parameters in braces; ``privs`` are all needed, or any one with
    ``any``. ``user="all"`` (any authenticated user; the handler may filter) is Proxmox's
    ``permissions => { user => 'all' }``. ``check`` is a function for rules that one path
    cannot say (Proxmox's ``description`` + code in the handler).
    """

    path: str | None = None
    privs: tuple[str, ...] = ()
    any: bool = False
    user: str | None = None
    check: Callable[[Call], None] | None = None
    description: str = ""

    def format_path(self, params: dict[str, object]) -> str:
        assert self.path is not None
        return re.sub(r"\{([a-z0-9_-]+)\}", lambda m: str(params[m.group(1)]), self.path)


ALL_USERS = Perm(user="all")
OPEN = Perm(user="world")


@dataclass(frozen=True)
class ApiMethod:
    """One API method: ``GET /nodes/{node}/qemu`` and all it needs."""

    name: str
    http: str
    path: str
    description: str
    params: Schema
    returns: Returns
    handler: Handler
    permission: Perm = ALL_USERS
    #: Proxmox's ``allowtoken``: whether an API token may call it.
    allowtoken: bool = True
    #: Proxmox's ``protected``: runs privileged (all of respaldo's server is one process).
    protected: bool = False
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(
            r"\{([a-z0-9_-]+)\}",
            lambda m: f"(?P<{m.group(1).replace('-', '_')}>{_segment(m.group(1))})",
            re.escape(self.path).replace(r"\{", "{").replace(r"\}", "}"),
        )
        object.__setattr__(self, "_pattern", re.compile(regex))

    def match(self, path: str) -> dict[str, str] | None:
        """The path parameters if ``path`` is this method's path (all of it: a line break in
        a segment is part of the value, which the parameter's check then refuses)."""
        found = self._pattern.fullmatch(path)
        if found is None:
            return None
        names = re.findall(r"\{([a-z0-9_-]+)\}", self.path)
        return {name: found.group(name.replace("-", "_")) for name in names}

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"\{([a-z0-9_-]+)\}", self.path)


def _segment(name: str) -> str:
    """A volume id may hold '/' (``local:backup/vzdump-...``): it takes the rest of the path."""
    return "(?s:.+)" if name == "volume" else "[^/]+"


# -- return schemas -------------------------------------------------------------------------


def null() -> Returns:
    return {"type": "null"}


def upid() -> Returns:
    return {"type": "string", "description": "The UPID of the task started."}


def obj(**properties: Returns) -> Returns:
    return {"type": "object", "properties": properties}


def array(items: Returns) -> Returns:
    return {"type": "array", "items": items}


def prop(kind: str, description: str = "") -> Returns:
    """A property of a result object (every property may be absent, as in Proxmox's)."""
    doc: Returns = {"type": kind}
    if description:
        doc["description"] = description
    return doc
