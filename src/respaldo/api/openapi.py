"""The OpenAPI 3 document of the API, built from the method declarations.

Served at ``/api2/openapi.json``. Parameters of GET and DELETE are query parameters; those of
POST and PUT a form-urlencoded (or JSON) body, as Proxmox's clients send them. Path parameters
are path parameters. Every response is Proxmox's envelope ``{"data": <returns>}``; errors are
``{"data": null, "message": ..., "errors"?: {...}}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from respaldo.access import ids
from respaldo.api.method import ApiMethod
from respaldo.config.ids import STORAGE_ID

_ERROR = {
    "type": "object",
    "properties": {
        "data": {"type": "null"},
        "message": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["data", "message"],
}


def _operation(method: ApiMethod) -> dict[str, Any]:
    schema = method.params.json_schema()
    properties: dict[str, Any] = schema["properties"]
    required = set(schema.get("required", []))
    path_params = set(method.path_params)
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": _scalar(properties[name])}
        for name in method.path_params
    ]
    rest = {k: v for k, v in properties.items() if k not in path_params}
    operation: dict[str, Any] = {
        "operationId": method.name,
        "summary": method.description,
        "responses": {
            "200": {
                "description": "success",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"data": method.returns},
                            "required": ["data"],
                        }
                    }
                },
            },
            "default": {
                "description": "error",
                "content": {"application/json": {"schema": _ERROR}},
            },
        },
    }
    if method.http in ("GET", "DELETE"):
        parameters += [
            {"name": name, "in": "query", "required": name in required, "schema": _scalar(prop)}
            for name, prop in rest.items()
        ]
    elif rest:
        body = {
            "type": "object",
            "properties": {name: _scalar(prop) for name, prop in rest.items()},
            "additionalProperties": False,
        }
        needed = sorted(required - path_params)
        if needed:
            body["required"] = needed
        operation["requestBody"] = {
            "required": bool(needed),
            "content": {"application/x-www-form-urlencoded": {"schema": body}},
        }
    if parameters:
        operation["parameters"] = parameters
    return operation


_USERID = f"{ids.USER_NAME_RE}@{ids.REALM_RE}"
#: The formats of names, as the patterns their parsers take (a client that generates values
#: from the document then sends valid ones; a test checks each against its parser).
FORMAT_PATTERNS = {
    "pve-configid": r"[A-Za-z][A-Za-z0-9_-]+",
    "pve-storage-id": STORAGE_ID.pattern,
    "pve-node": r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?",
    "pve-userid": _USERID,
    "pve-tokenid": f"{_USERID}!{ids.TOKEN_SUBID_RE}",
    "pve-realm": ids.REALM_RE,
    "pve-token-subid": ids.TOKEN_SUBID_RE,
    "pve-groupid": ids.GROUP_RE,
    "pve-roleid": ids.ROLE_RE,
}


def _scalar(prop: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema as OpenAPI takes it (Proxmox's own keywords as ``x-`` keys; a
    name format also as its ``pattern``)."""
    doc = {k: v for k, v in prop.items() if k != "description" or len(v) < 400}
    pattern = FORMAT_PATTERNS.get(prop.get("x-format", ""))
    if pattern is not None and "pattern" not in doc:
        doc["pattern"] = f"^(?:{pattern})$"
    return doc


def document(methods: Sequence[ApiMethod], prefix: str) -> dict[str, Any]:
    """The whole OpenAPI 3.0 document."""
    paths: dict[str, dict[str, Any]] = {}
    for method in methods:
        paths.setdefault(prefix + method.path, {})[method.http.lower()] = _operation(method)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "respaldo API (Proxmox VE compatible /api2/json)",
            "version": "1",
        },
        "components": {
            "securitySchemes": {
                "ticket": {"type": "apiKey", "in": "cookie", "name": "PVEAuthCookie"},
                "token": {"type": "apiKey", "in": "header", "name": "Authorization"},
            }
        },
        "security": [{"ticket": []}, {"token": []}],
        "paths": paths,
    }
