"""The node's notification targets and matchers, and sending a notification through them.

``config/notifications.cfg`` and ``config/priv/notifications.cfg`` (passwords and webhook
secrets, readable by the owner only) in Proxmox's section config format (``smtp:``,
``webhook:``, ``matcher:`` sections; sections of other types are kept as they are). Changes
are serialised by ``run/lock/notifications.lck``. The API (``/cluster/notifications``) and the
CLI (``respaldo notification``) edit them through :class:`NotificationConfig`; vzdump sends a
job's notification with :meth:`NotificationConfig.notify`, where a target that fails is
reported, never raised.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from respaldo.config.keyvalue import atomic_write_text
from respaldo.config.schema import ParameterError, Schema
from respaldo.config.sectionconfig import Section, format_sections, parse_sections
from respaldo.errors import ConflictError, InputError, NotFoundError
from respaldo.locks import file_lock
from respaldo.node import Node
from respaldo.notify.notification import Matcher, Notification, Severity, targets_for
from respaldo.notify.targets import (
    LIST_PROPERTIES,
    MATCHER_PROPERTIES,
    PRIVATE_PROPERTIES,
    SMTP_PROPERTIES,
    WEBHOOK_PROPERTIES,
    NotifyError,
    send_smtp,
    send_webhook,
)

#: The schema of each section type respaldo edits.
SCHEMAS: dict[str, Schema] = {
    "smtp": SMTP_PROPERTIES,
    "webhook": WEBHOOK_PROPERTIES,
    "matcher": MATCHER_PROPERTIES,
}
TARGET_TYPES = ("smtp", "webhook")
_LOCK_TIMEOUT = 10.0  # seconds

#: ``user_email(userid)``: the email address of a user (``mailto-user``), None without one.
UserEmail = Callable[[str], str | None]


class NoSuchEntity(NotFoundError):
    def __init__(self, kind: str, name: str) -> None:
        what = "matcher" if kind == "matcher" else f"{kind} endpoint"
        super().__init__(f"{what} '{name}' does not exist")


def user_emails(node: Node) -> UserEmail:
    """The ``email`` field of user.cfg's ``user:`` lines (pve-access-control's format)."""
    emails: dict[str, str] = {}
    path = node.config_dir / "user.cfg"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    for line in text.splitlines():
        fields = line.split(":")
        if fields[0] == "user" and len(fields) > 6 and fields[6]:
            emails[fields[1]] = urllib.parse.unquote(fields[6])
    return emails.get


class NotificationConfig:
    """The targets and matchers of ``node``."""

    def __init__(self, node: Node) -> None:
        self.node = node

    @property
    def path(self) -> Path:
        return self.node.config_dir / "notifications.cfg"

    @property
    def priv_path(self) -> Path:
        return self.node.config_dir / "priv" / "notifications.cfg"

    # -- the files -------------------------------------------------------------------------

    def _read(self, path: Path) -> list[Section]:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return parse_sections(text, path, repeatable=LIST_PROPERTIES)

    def _write(self, path: Path, sections: list[Section]) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        text = format_sections(sections)
        atomic_write_text(path, text + "\n" if text else "")

    @contextmanager
    def _editing(self) -> Iterator[tuple[list[Section], list[Section]]]:
        with file_lock(
            self.node.lock_dir / "notifications.lck", "notifications.cfg", _LOCK_TIMEOUT
        ):
            public, private = self._read(self.path), self._read(self.priv_path)
            yield public, private
            self._write(self.path, public)
            self._write(self.priv_path, private)

    @staticmethod
    def _find(sections: list[Section], kind: str, name: str) -> Section | None:
        return next((s for s in sections if s.type == kind and s.id == name), None)

    def _entity(self, kind: str, name: str) -> dict[str, str]:
        """A section's properties with its private ones; NoSuchEntity."""
        public = self._find(self._read(self.path), kind, name)
        if public is None:
            raise NoSuchEntity(kind, name)
        private = self._find(self._read(self.priv_path), kind, name)
        return {**public.properties, **(private.properties if private else {})}

    # -- checking and showing ---------------------------------------------------------------

    @staticmethod
    def _checked(kind: str, params: Mapping[str, object]) -> dict[str, str]:
        """Each value checked by the kind's schema, as the file holds it."""
        schema = SCHEMAS[kind]
        result: dict[str, str] = {}
        errors: dict[str, InputError] = {}
        for key, value in params.items():
            param = schema.find(key)
            try:
                if param is None:
                    raise InputError(key, value, f"unknown {kind} property")
                text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
                if "\n" in text or "\r" in text:
                    raise InputError(key, text, "contains a line feed (a value is one line)")
                result[key] = param.canonical(text, key)
            except InputError as err:
                errors[key] = err
        if errors:
            raise ParameterError(errors)
        if kind == "matcher" and "match-calendar" in result:
            raise InputError("match-calendar", result["match-calendar"], "not supported")
        return result

    @staticmethod
    def _view(kind: str, name: str, props: Mapping[str, str]) -> dict[str, object]:
        """As the API returns it: typed values, lists as lists, no password or secret value."""
        schema = SCHEMAS[kind]
        view: dict[str, object] = {"name": name}
        for key, value in props.items():
            if key in PRIVATE_PROPERTIES.get(kind, ()):
                continue
            if key in LIST_PROPERTIES:
                view[key] = value.split("\n")
            else:
                view[key] = schema.api_value(key, value)
        view["origin"] = "user-created"
        return view

    # -- reading -----------------------------------------------------------------------------

    def entries(self, kind: str) -> list[dict[str, object]]:
        """Every endpoint of ``kind`` (``smtp``, ``webhook``) or every ``matcher``."""
        return [
            self._view(kind, s.id, s.properties) for s in self._read(self.path) if s.type == kind
        ]

    def get(self, kind: str, name: str) -> dict[str, object]:
        """One endpoint or matcher; NoSuchEntity. Secrets are listed by name only."""
        view = self._view(kind, name, self._entity(kind, name))
        if kind == "webhook":
            secrets = self._entity(kind, name).get("secret", "")
            view["secret"] = [
                {"name": entry.partition(",")[0].removeprefix("name=")}
                for entry in secrets.split("\n")
                if entry
            ]
        return view

    def targets(self) -> list[dict[str, object]]:
        """``GET /cluster/notifications/targets``: every endpoint, with its type."""
        rows: list[dict[str, object]] = []
        for section in self._read(self.path):
            if section.type not in TARGET_TYPES:
                continue
            row: dict[str, object] = {"name": section.id, "type": section.type}
            if "comment" in section.properties:
                row["comment"] = section.properties["comment"]
            row["disable"] = int(section.properties.get("disable", "0") == "1")
            row["origin"] = "user-created"
            rows.append(row)
        return rows

    # -- changing ----------------------------------------------------------------------------

    def create(self, kind: str, params: Mapping[str, object]) -> None:
        """Add an endpoint or a matcher. Raises ParameterError, ConflictError (the name is
        taken: endpoints and matchers share one namespace)."""
        props = self._checked(kind, params)
        missing = [p.name for p in SCHEMAS[kind] if not p.optional and p.name not in props]
        if missing:
            raise InputError(missing[0], None, "property is missing and it is not optional")
        name = props.pop("name")
        with self._editing() as (public, private):
            if any(section.id == name for section in public):
                raise ConflictError(f"'{name}' already exists")
            self._place(kind, name, props, public, private)
            self._check_references(public)

    def update(
        self, kind: str, name: str, params: Mapping[str, object], delete: Sequence[str] = ()
    ) -> None:
        """Set ``params`` and remove the properties named in ``delete``. Raises NoSuchEntity,
        ParameterError, InputError (``no options specified``; a required property deleted)."""
        props = self._checked(kind, {k: v for k, v in params.items() if k != "name"})
        if not props and not delete:
            raise InputError("delete", "", "no options specified")
        for key in delete:
            param = SCHEMAS[kind].find(key)
            if param is None or not param.optional:
                raise InputError("delete", key, f"cannot delete '{key}'")
        with self._editing() as (public, private):
            section = self._find(public, kind, name)
            if section is None:
                raise NoSuchEntity(kind, name)
            secret = self._find(private, kind, name)
            current = {**section.properties, **(secret.properties if secret else {})}
            merged = {k: v for k, v in current.items() if k not in delete} | props
            public.remove(section)
            if secret is not None:
                private.remove(secret)
            self._place(kind, name, merged, public, private)
            self._check_references(public)

    def delete(self, kind: str, name: str) -> None:
        """Remove an endpoint (not while a matcher names it) or a matcher."""
        with self._editing() as (public, private):
            section = self._find(public, kind, name)
            if section is None:
                raise NoSuchEntity(kind, name)
            users = [
                s.id
                for s in public
                if s.type == "matcher" and name in s.properties.get("target", "").split("\n")
            ]
            if users:
                raise ConflictError(f"'{name}' is still used by matcher '{users[0]}'")
            public.remove(section)
            private[:] = [s for s in private if not (s.type == kind and s.id == name)]

    @staticmethod
    def _place(
        kind: str,
        name: str,
        props: Mapping[str, str],
        public: list[Section],
        private: list[Section],
    ) -> None:
        hidden = PRIVATE_PROPERTIES.get(kind, ())
        order = [p.name for p in SCHEMAS[kind]]
        shown = {k: props[k] for k in sorted(props, key=order.index) if k not in hidden}
        public.append(Section(kind, name, shown))
        secret = {k: props[k] for k in hidden if k in props}
        if secret:
            private.append(Section(kind, name, secret))

    @staticmethod
    def _check_references(public: list[Section]) -> None:
        names = {s.id for s in public if s.type in TARGET_TYPES}
        for section in public:
            if section.type != "matcher":
                continue
            for target in section.properties.get("target", "").split("\n"):
                if target and target not in names:
                    raise InputError("target", target, f"no notification target '{target}'")

    # -- sending ------------------------------------------------------------------------------

    def _matchers(self) -> list[Matcher]:
        return [
            Matcher(
                s.id,
                targets=[t for t in s.properties.get("target", "").split("\n") if t],
                match_field=[r for r in s.properties.get("match-field", "").split("\n") if r],
                match_severity=[r for r in s.properties.get("match-severity", "").split("\n") if r],
                mode=s.properties.get("mode", "all"),
                invert=s.properties.get("invert-match", "0") == "1",
                disable=s.properties.get("disable", "0") == "1",
            )
            for s in self._read(self.path)
            if s.type == "matcher"
        ]

    def send_to(
        self, name: str, notification: Notification, user_email: UserEmail | None = None
    ) -> None:
        """Send through the target ``name`` (even a disabled one). Raises NoSuchEntity,
        NotifyError."""
        for kind in TARGET_TYPES:
            section = self._find(self._read(self.path), kind, name)
            if section is None:
                continue
            props = self._entity(kind, name)
            if kind == "webhook":
                send_webhook(name, props, notification)
                return
            emails = user_email or user_emails(self.node)
            recipients = [a for a in props.get("mailto", "").split("\n") if a]
            for userid in props.get("mailto-user", "").split("\n"):
                address = emails(userid) if userid else None
                if address and address not in recipients:
                    recipients.append(address)
            send_smtp(name, props, recipients, notification)
            return
        raise NoSuchEntity("notification target", name)

    def test_target(self, name: str) -> None:
        """``POST /cluster/notifications/targets/{name}/test``. Raises NotifyError."""
        self.send_to(
            name,
            Notification(
                Severity.INFO,
                "Test notification",
                f"This is a test of the notification target '{name}'.",
                int(time.time()),
                {"type": "system", "hostname": self.node.name},
            ),
        )

    def notify(self, notification: Notification) -> tuple[list[str], list[NotifyError]]:
        """Send to the enabled targets of every matcher that matches. Returns the targets
        reached and the errors of those that failed (a failing target never raises)."""
        enabled = {
            s.id
            for s in self._read(self.path)
            if s.type in TARGET_TYPES and s.properties.get("disable", "0") != "1"
        }
        reached: list[str] = []
        failed: list[NotifyError] = []
        emails = user_emails(self.node)
        for name in targets_for(notification, self._matchers()):
            if name not in enabled:
                continue
            try:
                self.send_to(name, notification, emails)
                reached.append(name)
            except NotifyError as err:
                failed.append(err)
            except NoSuchEntity:
                continue
        return reached, failed
