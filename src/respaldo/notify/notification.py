"""A notification, the matchers that route it to targets, and the templates of webhooks.

As Proxmox's notification system (proxmox-notify, pve-docs ``notifications.adoc``) has them:

- A notification has a severity (``info``, ``notice``, ``warning``, ``error``, ``unknown``),
  a title, a message (plain text; an HTML form for mail), a timestamp and metadata fields
  (``type`` = ``vzdump``, ``hostname``, ``job-id``).
- A matcher holds rules: ``match-severity`` (one rule: a list of severities),
  ``match-field`` (each one rule: ``exact:<field>=<value>[,<value>...]`` or
  ``regex:<field>=<regex>``), combined by ``mode`` ``all`` (default) or ``any``;
  ``invert-match`` turns the result round; a matcher without rules matches everything; a
  disabled matcher matches nothing. A field the notification lacks matches no rule.
- A webhook's URL, body and header values are Handlebars templates. Supported here: the
  variables ``title``, ``message``, ``severity``, ``timestamp``, ``fields.<name>`` and
  ``secrets.<name>``, and the helpers ``json``, ``url-encode`` and ``escape`` (``{{ json
  fields }}``, ``{{ url-encode title }}``), which is what Proxmox documents for webhooks.
"""

from __future__ import annotations

import enum
import html
import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from respaldo.errors import InputError


class Severity(enum.Enum):
    INFO = "info"
    NOTICE = "notice"
    WARNING = "warning"
    ERROR = "error"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Notification:
    """One notification. ``message`` is plain text; ``html`` an HTML form of it for mail."""

    severity: Severity
    title: str
    message: str
    timestamp: int
    fields: Mapping[str, str] = field(default_factory=dict)
    html: str | None = None


# -- matchers ---------------------------------------------------------------------------------

_FIELD_RULE = re.compile(r"(exact|regex):([A-Za-z0-9_-]+)=(.*)", re.DOTALL)


def check_field_rule(text: str, key: str = "match-field") -> str:
    """``exact:<field>=<value>`` or ``regex:<field>=<regex>``; InputError otherwise."""
    found = _FIELD_RULE.fullmatch(text)
    if found is None:
        raise InputError(key, text, "expected (exact|regex):<field>=<value>")
    if found.group(1) == "regex":
        try:
            re.compile(found.group(3))
        except re.error as err:
            raise InputError(key, text, f"not a regular expression: {err}") from err
    return text


def check_severities(text: str, key: str = "match-severity") -> list[str]:
    """``warning,error``: known severities, separated by commas (or spaces)."""
    names = [part for part in re.split(r"[,;\s]+", text.strip()) if part]
    valid = [s.value for s in Severity]
    for name in names:
        if name not in valid:
            raise InputError(key, text, f"unknown severity '{name}' (valid: {', '.join(valid)})")
    return names


def _field_rule_matches(rule: str, fields: Mapping[str, str]) -> bool:
    found = _FIELD_RULE.fullmatch(rule)
    if found is None:
        return False
    kind, name, value = found.groups()
    if name not in fields:
        return False
    if kind == "exact":
        return fields[name] in value.split(",")
    return re.search(value, fields[name]) is not None


@dataclass(frozen=True)
class Matcher:
    """A matcher of ``notifications.cfg``."""

    name: str
    targets: Sequence[str] = ()
    match_field: Sequence[str] = ()
    match_severity: Sequence[str] = ()
    mode: str = "all"
    invert: bool = False
    disable: bool = False

    def matches(self, notification: Notification) -> bool:
        if self.disable:
            return False
        results = [_field_rule_matches(rule, notification.fields) for rule in self.match_field]
        for rule in self.match_severity:
            results.append(notification.severity.value in check_severities(rule))
        if not results:
            matched = True
        elif self.mode == "any":
            matched = any(results)
        else:
            matched = all(results)
        return matched != self.invert


def targets_for(notification: Notification, matchers: Sequence[Matcher]) -> list[str]:
    """The targets of every matcher that matches, each once, in order."""
    found: list[str] = []
    for matcher in matchers:
        if matcher.matches(notification):
            found += [name for name in matcher.targets if name not in found]
    return found


# -- templates --------------------------------------------------------------------------------

_EXPRESSION = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.DOTALL)
_HELPERS = ("json", "url-encode", "escape")


def _lookup(path: str, data: Mapping[str, object], template: str) -> object:
    value: object = data
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise InputError("template", template, f"unknown variable '{path}'")
        value = value[part]
    return value


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def render_template(template: str, data: Mapping[str, object]) -> str:
    """Render the Handlebars subset Proxmox documents for webhooks (see the module's
    docstring). Raises InputError naming an unknown variable or helper."""

    def expand(found: re.Match[str]) -> str:
        words = found.group(1).split()
        if len(words) == 1:
            return _text(_lookup(words[0], data, template))
        if len(words) == 2 and words[0] in _HELPERS:
            value = _lookup(words[1], data, template)
            if words[0] == "json":
                return json.dumps(value)
            if words[0] == "url-encode":
                return urllib.parse.quote(_text(value), safe="")
            return html.escape(_text(value))
        raise InputError(
            "template",
            template,
            f"unsupported expression '{found.group(1)}' (helpers: {', '.join(_HELPERS)})",
        )

    return _EXPRESSION.sub(expand, template)


def template_data(notification: Notification, secrets: Mapping[str, str]) -> dict[str, object]:
    """What a webhook template sees."""
    return {
        "title": notification.title,
        "message": notification.message,
        "severity": notification.severity.value,
        "timestamp": notification.timestamp,
        "fields": dict(notification.fields),
        "secrets": dict(secrets),
    }
