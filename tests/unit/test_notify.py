"""Notifications: matchers, webhook templates, notifications.cfg, and delivery to a real SMTP
server (plain, STARTTLS, TLS, with a login) and a real HTTP receiver on loopback."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from respaldo.api.tls import generate_self_signed
from respaldo.config.schema import ParameterError
from respaldo.errors import ConflictError, InputError
from respaldo.node import Node
from respaldo.notify.notification import (
    Matcher,
    Notification,
    Severity,
    render_template,
    targets_for,
)
from respaldo.notify.targets import NotifyError
from respaldo.services.notifications import NotificationConfig
from tests.smtpserver import LOOPBACK, Accounts, Collector, start_smtp_server
from tests.webhookserver import Receiver, webhook_receiver

OK = Notification(
    Severity.INFO,
    "vzdump backup status (pve): backup successful",
    "all went well",
    1715335200,
    {"type": "vzdump", "hostname": "pve", "job-id": "nightly"},
)
FAILED = Notification(Severity.ERROR, "backup failed", "VM 100 failed", 1715335200, OK.fields)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# -- matchers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matcher", "ok", "failed"),
    [
        (Matcher("all", ["t"]), True, True),
        (Matcher("errors", ["t"], match_severity=["error"]), False, True),
        (Matcher("warn+err", ["t"], match_severity=["warning,error"]), False, True),
        (Matcher("job", ["t"], match_field=["exact:job-id=nightly"]), True, True),
        (Matcher("other-job", ["t"], match_field=["exact:job-id=weekly"]), False, False),
        (Matcher("job-list", ["t"], match_field=["exact:job-id=weekly,nightly"]), True, True),
        (Matcher("regex", ["t"], match_field=["regex:hostname=^p.e$"]), True, True),
        (Matcher("no-field", ["t"], match_field=["exact:datastore=x"]), False, False),
        (
            Matcher(
                "job-failures",
                ["t"],
                match_field=["exact:job-id=nightly"],
                match_severity=["error"],
            ),
            False,
            True,
        ),
        (
            Matcher(
                "any", ["t"], match_field=["exact:job-id=x"], match_severity=["error"], mode="any"
            ),
            False,
            True,
        ),
        (Matcher("inverted", ["t"], match_severity=["error"], invert=True), True, False),
        (Matcher("disabled", ["t"], disable=True), False, False),
    ],
)
def test_matchers(matcher: Matcher, ok: bool, failed: bool) -> None:
    assert (matcher.matches(OK), matcher.matches(FAILED)) == (ok, failed)


def test_targets_of_every_matching_matcher_once() -> None:
    matchers = [
        Matcher("a", ["mail", "hook"]),
        Matcher("b", ["hook", "pager"], match_severity=["error"]),
    ]
    assert targets_for(OK, matchers) == ["mail", "hook"]
    assert targets_for(FAILED, matchers) == ["mail", "hook", "pager"]


def test_templates() -> None:
    data = {"title": 'a "b"', "severity": "info", "fields": {"job-id": "x y"}, "secrets": {}}
    assert render_template('{"t": {{ json title }}}', data) == '{"t": "a \\"b\\""}'
    assert render_template("q={{ url-encode fields.job-id }}", data) == "q=x%20y"
    assert render_template("{{severity}}/{{ escape title }}", data) == "info/a &quot;b&quot;"
    for bad in ("{{ nope }}", "{{ upper title }}", "{{ fields.other }}"):
        with pytest.raises(InputError):
            render_template(bad, data)


# -- notifications.cfg ------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path) -> NotificationConfig:
    node = Node(tmp_path / "home", "pve")
    node.ensure_dirs()
    return NotificationConfig(node)


def test_the_files_in_proxmox_format_with_secrets_apart(config: NotificationConfig) -> None:
    config.create(
        "smtp",
        {
            "name": "mail",
            "server": "smtp.example.com",
            "mode": "starttls",
            "username": "backup",
            "password": "s3cret",
            "mailto": "a@example.com,b@example.com",
            "from-address": "pve@example.com",
        },
    )
    config.create(
        "webhook",
        {
            "name": "hook",
            "url": "https://hooks.example.com/{{ secrets.token }}",
            "method": "post",
            "secret": f"name=token,value={b64('t0k3n')}",
        },
    )
    config.create("matcher", {"name": "failures", "target": "mail,hook", "match-severity": "error"})
    assert config.path.read_text() == (
        "smtp: mail\n\tserver smtp.example.com\n\tmode starttls\n\tusername backup\n"
        "\tmailto a@example.com\n\tmailto b@example.com\n\tfrom-address pve@example.com\n\n"
        "webhook: hook\n\turl https://hooks.example.com/{{ secrets.token }}\n\tmethod post\n\n"
        "matcher: failures\n\tmatch-severity error\n\ttarget mail\n\ttarget hook\n\n"
    )
    assert config.priv_path.read_text() == (
        "smtp: mail\n\tpassword s3cret\n\n"
        f"webhook: hook\n\tsecret name=token,value={b64('t0k3n')}\n\n"
    )
    assert config.priv_path.stat().st_mode & 0o077 == 0
    assert config.priv_path.parent.stat().st_mode & 0o077 == 0
    shown = config.get("smtp", "mail")
    assert "password" not in shown and shown["mailto"] == ["a@example.com", "b@example.com"]
    assert config.get("webhook", "hook")["secret"] == [{"name": "token"}]
    assert [t["name"] for t in config.targets()] == ["mail", "hook"]
    config.update("smtp", "mail", {"port": "2525"}, delete=["username"])
    assert config.get("smtp", "mail")["port"] == 2525
    assert "username" not in config.get("smtp", "mail")
    assert "password s3cret" in config.priv_path.read_text()  # kept through the update


def test_bad_entries_are_refused(config: NotificationConfig) -> None:
    with pytest.raises(ParameterError) as info:
        config.create("smtp", {"name": "m", "server": "x", "from-address": "nope", "mode": "ssl"})
    assert set(info.value.errors) == {"name", "from-address", "mode"}
    with pytest.raises(InputError, match="no notification target 'ghost'"):
        config.create("matcher", {"name": "mm", "target": "ghost"})
    with pytest.raises(InputError, match="expected"):
        config.create("matcher", {"name": "mm", "match-field": "type=vzdump"})
    config.create("webhook", {"name": "hook", "url": "http://x.example", "method": "post"})
    config.create("matcher", {"name": "mm", "target": "hook"})
    with pytest.raises(ConflictError, match="still used by matcher 'mm'"):
        config.delete("webhook", "hook")
    with pytest.raises(ConflictError, match="already exists"):
        config.create("webhook", {"name": "hook", "url": "http://x.example", "method": "get"})


# -- delivery ---------------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    with webhook_receiver() as kept:
        yield kept, kept.url


def test_a_webhook_gets_the_rendered_request(
    config: NotificationConfig, receiver: tuple[Receiver, str]
) -> None:
    kept, url = receiver
    body = '{"title": {{ json title }}, "severity": "{{ severity }}", "job": "{{ fields.job-id }}"}'
    config.create(
        "webhook",
        {
            "name": "hook",
            "url": url + "/notify/{{ secrets.token }}",
            "method": "put",
            "body": b64(body),
            "header": f"name=Content-Type,value={b64('application/json')},"
            f"name=X-Severity,value={b64('{{ severity }}')}",
            "secret": f"name=token,value={b64('t0k3n')}",
        },
    )
    config.create("matcher", {"name": "all", "target": "hook"})
    assert config.notify(OK) == (["hook"], [])
    [(method, path, headers, sent)] = kept.requests
    assert (method, path) == ("PUT", "/notify/t0k3n")
    assert headers["Content-Type"] == "application/json" and headers["X-Severity"] == "info"
    assert json.loads(sent) == {"title": OK.title, "severity": "info", "job": "nightly"}
    kept.status = 500
    reached, failed = config.notify(OK)
    assert reached == [] and "answered 500" in str(failed[0])


def test_a_target_that_cannot_be_reached_is_reported_not_raised(
    config: NotificationConfig,
) -> None:
    config.create(
        "smtp",
        {
            "name": "mail",
            "server": LOOPBACK,
            "port": "1",
            "mode": "insecure",
            "mailto": "a@example.com",
            "from-address": "pve@example.com",
        },
    )
    config.create("matcher", {"name": "all", "target": "mail"})
    reached, [failure] = config.notify(OK)
    assert reached == [] and failure.target == "mail" and "mail" in str(failure)
    with pytest.raises(NotifyError):
        config.test_target("mail")


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 that the client trusts (SSL_CERT_FILE)."""
    cert, key = tmp_path / "smtp.pem", tmp_path / "smtp.key"
    generate_self_signed(cert, key, "smtp.test")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return cert, key


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("mode", ["insecure", "starttls", "tls"])
def test_smtp_modes_with_a_login(
    config: NotificationConfig, certificate: tuple[Path, Path], mode: str
) -> None:
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(*certificate)
    collector = Collector()
    accounts = Accounts({"backup": "s3cret"})
    controller = start_smtp_server(
        collector,
        ssl_context=server_tls if mode == "tls" else None,
        starttls_context=server_tls if mode == "starttls" else None,
        accounts=accounts if mode != "insecure" else None,
    )
    login = {"username": "backup", "password": "s3cret"} if mode != "insecure" else {}
    try:
        config.create(
            "smtp",
            {
                "name": "mail",
                "server": LOOPBACK,
                "port": str(controller.port),
                "mode": mode,
                "mailto": "admin@example.com",
                "from-address": "pve@example.com",
                "author": "Backup Node",
                **login,
            },
        )
        config.create("matcher", {"name": "failures", "target": "mail", "match-severity": "error"})
        assert config.notify(OK) == ([], [])  # not matched: nothing sent
        assert config.notify(FAILED) == (["mail"], [])
    finally:
        controller.stop()
    [envelope] = collector.envelopes
    assert envelope.rcpt_tos == ["admin@example.com"]
    message = email.message_from_bytes(
        envelope.original_content or b"", policy=email.policy.default
    )
    assert message["Subject"] == "backup failed"
    assert message["From"] == "Backup Node <pve@example.com>"
    assert accounts.logins == (["backup"] if login else [])
