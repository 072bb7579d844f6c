"""Notification targets and matchers as ``notifications.cfg`` declares them, and sending.

The properties are proxmox-notify's (pve-manager ``PVE/API2/Cluster/Notifications.pm``):

- ``smtp: <name>``: ``server``, ``port`` (default by mode: 465, 587, 25), ``mode``
  (``tls`` by default, ``starttls``, ``insecure``), ``username``, ``password`` (kept in
  ``priv/notifications.cfg``), ``mailto`` (addresses), ``mailto-user`` (users whose
  ``email`` in user.cfg is used), ``from-address``, ``author`` (default ``Proxmox VE``,
  here ``respaldo``), ``comment``, ``disable``.
- ``webhook: <name>``: ``url``, ``method`` (``post``, ``put``, ``get``), ``body`` (a
  template, base64), ``header`` (``name=<name>,value=<base64 template>``, repeated),
  ``secret`` (the same form, kept in ``priv/notifications.cfg``), ``comment``, ``disable``.
- ``matcher: <name>``: ``target`` (repeated), ``match-field``, ``match-severity``,
  ``match-calendar``, ``mode`` (``all``/``any``), ``invert-match``, ``comment``, ``disable``.

List properties are one line per element in the file. Webhooks go out through
``urllib.request`` (the standard library: a task process has no event loop to run an async
client in, and it verifies TLS certificates by default).
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import urllib.error
import urllib.request
from collections.abc import Mapping

import respaldo.config.formats  # noqa: F401  (registers the basic formats)
from respaldo.config.schema import Schema, boolean, integer, register_format, string
from respaldo.errors import InputError, RespaldoError
from respaldo.notify.mail import (
    Mail,
    SmtpMode,
    SmtpServer,
    build_message,
    check_address,
    deliver,
)
from respaldo.notify.notification import (
    Notification,
    check_field_rule,
    check_severities,
    render_template,
    template_data,
)

DEFAULT_AUTHOR = "respaldo"
TIMEOUT = 10.0  # seconds for a connection and each exchange
_LIST_SPLIT = re.compile(r"[,;\s]+")


class NotifyError(RespaldoError):
    """A target could not be reached or refused the notification."""

    http_status = 502

    def __init__(self, target: str, message: str) -> None:
        super().__init__(f"notification target '{target}': {message}")
        self.target = target


# -- formats of list properties ---------------------------------------------------------------


def _words(text: str, key: str) -> list[str]:
    return [part for part in _LIST_SPLIT.split(text.strip()) if part]


def _base64(text: str, key: str) -> str:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise InputError(key, text, "expected base64") from err
    return text


def _pairs(text: str, key: str) -> list[str]:
    """``name=<name>,value=<base64>`` entries (the API and a form join repeated ones with
    commas: each entry starts at ``name=``)."""
    entries = [part for part in re.split(r",(?=name=)", text.strip()) if part]
    for entry in entries:
        found = re.fullmatch(r"name=([^,=]+)(?:,value=([^,]*))?", entry)
        if found is None:
            raise InputError(key, entry, "expected name=<name>,value=<base64 value>")
        _base64(found.group(2) or "", key)
    return entries


def _field_rules(text: str, key: str) -> list[str]:
    """``exact:type=vzdump,regex:hostname=^pve`` (entries start at ``exact:``/``regex:``)."""
    rules = [part for part in re.split(r",(?=(?:exact|regex):)", text.strip()) if part]
    return [check_field_rule(rule, key) for rule in rules]


def _severities(text: str, key: str) -> str:
    return ",".join(check_severities(text, key))


def _url(text: str, key: str) -> str:
    if not re.match(r"https?://[^\s/]+", text):
        raise InputError(key, text, "expected an http:// or https:// URL")
    return text


register_format("word-list", _words, "<list>", print="\n".join)
register_format("notify-pairs", _pairs, "name=<name>,value=<base64>", print="\n".join)
register_format(
    "notify-field-rules", _field_rules, "(exact|regex):<field>=<value>", print="\n".join
)
register_format("notify-severities", _severities, "<severity list>", print=str)
register_format("base64", _base64, "<base64>")
register_format("http-url", _url, "<URL>")

_NAME = string("name", "The name of the endpoint.", format="pve-configid", optional=False)
_COMMENT = string("comment", "Comment", max_length=512)
_DISABLE = boolean("disable", "Disable this target", default=False)

SMTP_PROPERTIES = Schema(
    (
        _NAME,
        string("server", "The address of the SMTP server.", optional=False, max_length=256),
        integer(
            "port",
            "The port to be used. Defaults to 465 for TLS based connections, 587 for STARTTLS "
            "based connections and port 25 for insecure plain-text connections.",
            minimum=1,
            maximum=65535,
        ),
        string(
            "mode",
            "Determine which encryption method shall be used for the connection.",
            enum=tuple(m.value for m in SmtpMode),
            default="tls",
        ),
        string("username", "Username for SMTP authentication", max_length=256),
        string("password", "Password for SMTP authentication", max_length=512),
        string("mailto", "List of email recipients", format="word-list"),
        string("mailto-user", "List of users", format="word-list"),
        string(
            "from-address",
            "`From` address for the mail",
            format="email-address",
            optional=False,
        ),
        string("author", "Author of the mail. Defaults to 'respaldo'.", max_length=256),
        _COMMENT,
        _DISABLE,
    ),
    "An SMTP notification target.",
)
WEBHOOK_PROPERTIES = Schema(
    (
        _NAME,
        string("url", "Server URL", format="http-url", optional=False),
        string("method", "HTTP method", enum=("post", "put", "get"), optional=False),
        string(
            "header",
            "HTTP headers to set: name=<name>,value=<base64 of value>, repeated.",
            format="notify-pairs",
        ),
        string("body", "HTTP body, base64 encoded", format="base64"),
        string(
            "secret",
            "Secrets to set: name=<name>,value=<base64 of value>, repeated.",
            format="notify-pairs",
        ),
        _COMMENT,
        _DISABLE,
    ),
    "A webhook notification target.",
)
MATCHER_PROPERTIES = Schema(
    (
        string("name", "Name of the matcher.", format="pve-configid", optional=False),
        string(
            "match-field",
            "Metadata fields to match (regex or exact match). Must be in the form "
            "(regex|exact):<field>=<value>",
            format="notify-field-rules",
        ),
        string("match-severity", "Notification severities to match", format="notify-severities"),
        string("match-calendar", "Match notification timestamp (not supported by respaldo)"),
        string("target", "Targets to notify on match", format="word-list"),
        string(
            "mode",
            "Choose between 'all' and 'any' for when multiple properties are specified",
            enum=("all", "any"),
            default="all",
        ),
        boolean("invert-match", "Invert match of the whole matcher"),
        string("comment", "Comment", max_length=512),
        boolean("disable", "Disable this matcher", default=False),
    ),
    "A notification matcher.",
)
#: Properties with one line per element in the file.
LIST_PROPERTIES = frozenset({"mailto", "mailto-user", "header", "secret", "match-field", "target"})
#: Properties kept in ``priv/notifications.cfg``, never shown.
PRIVATE_PROPERTIES = {"smtp": ("password",), "webhook": ("secret",)}


def _email(text: str, key: str) -> str:
    return check_address(key, text)


register_format("email-address", _email, "<email address>")


# -- sending ----------------------------------------------------------------------------------


def _pair(entry: str) -> tuple[str, str]:
    """``name=X,value=<base64>`` -> (X, decoded value)."""
    name, _, rest = entry.partition(",value=")
    return name.removeprefix("name="), base64.b64decode(rest).decode("utf-8", "replace")


def send_smtp(
    name: str,
    props: Mapping[str, str],
    recipients: list[str],
    notification: Notification,
    timeout: float = TIMEOUT,
) -> None:
    """Mail ``notification`` through the smtp target ``name`` (its properties, the password
    among them) to ``recipients``. Raises NotifyError."""
    if not recipients:
        raise NotifyError(name, "no recipient (mailto or mailto-user with an email)")
    server = SmtpServer(
        props["server"],
        int(props["port"]) if props.get("port") else None,
        SmtpMode(props.get("mode", "tls")),
        props.get("username"),
        props.get("password"),
    )
    text_html = notification.html or f"<pre>{html.escape(notification.message)}</pre>\n"
    mail = Mail(notification.title, notification.message, text_html)
    sender = props["from-address"]
    msg = build_message(sender, recipients, mail, props.get("author", DEFAULT_AUTHOR))
    try:
        deliver(server, sender, recipients, msg, timeout)
    except RespaldoError as err:
        raise NotifyError(name, str(err)) from err


def send_webhook(
    name: str, props: Mapping[str, str], notification: Notification, timeout: float = TIMEOUT
) -> int:
    """Send ``notification`` to the webhook target ``name``: the URL, the body and the
    header values rendered as templates. Returns the HTTP status; raises NotifyError for a
    bad template, a connection that fails or a status that is not 2xx."""
    secrets = dict(_pair(entry) for entry in props.get("secret", "").split("\n") if entry)
    data = template_data(notification, secrets)
    try:
        url = render_template(props["url"], data)
        body = base64.b64decode(props["body"]).decode() if props.get("body") else None
        payload = render_template(body, data).encode() if body is not None else None
        headers = {
            key: render_template(value, data)
            for key, value in (_pair(e) for e in props.get("header", "").split("\n") if e)
        }
    except (InputError, ValueError) as err:
        raise NotifyError(name, f"cannot render the request: {err}") from err
    request = urllib.request.Request(
        url, data=payload, headers=headers, method=props.get("method", "post").upper()
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status: int = response.status
    except urllib.error.HTTPError as err:
        raise NotifyError(name, f"{url} answered {err.code} {err.reason}") from err
    except (urllib.error.URLError, OSError) as err:
        raise NotifyError(name, f"cannot reach {url}: {err}") from err
    return status
