"""/cluster/notifications over HTTP: endpoints, matchers, targets and the test action."""

from __future__ import annotations

import json

from respaldo.access import Access
from tests.unit.test_api_backup_jobs import access, base, login  # noqa: F401  (fixtures)
from tests.unit.test_notify import b64, receiver  # noqa: F401  (fixture)
from tests.webhookserver import Receiver


def test_endpoints_matchers_and_a_test_notification(
    base: str,  # noqa: F811
    access: Access,  # noqa: F811
    receiver: tuple[Receiver, str],  # noqa: F811
) -> None:
    root = login(base, "root@pam", access)
    prefix = "/cluster/notifications"
    root.data(
        "POST",
        f"{prefix}/endpoints/smtp",
        name="mail",
        server="smtp.example.com",
        mailto=["a@example.com", "b@example.com"],
        password="s3cret",
        **{"from-address": "pve@example.com"},
    )
    shown = root.data("GET", f"{prefix}/endpoints/smtp/mail")
    assert shown["mailto"] == ["a@example.com", "b@example.com"] and "password" not in shown
    root.data(
        "POST",
        f"{prefix}/endpoints/webhook",
        name="hook",
        url=receiver[1],
        method="post",
        body=b64('{"t": {{ json title }}}'),
    )
    root.data(
        "POST", f"{prefix}/matchers", name="failures", target="hook", **{"match-severity": "error"}
    )
    assert [m["name"] for m in root.data("GET", f"{prefix}/matchers")] == ["failures"]
    assert {(t["name"], t["type"]) for t in root.data("GET", f"{prefix}/targets")} == {
        ("mail", "smtp"),
        ("hook", "webhook"),
    }
    assert root.data("POST", f"{prefix}/targets/hook/test") is None
    [(_, _, _, sent)] = receiver[0].requests
    assert json.loads(sent) == {"t": "Test notification"}
    root.data("PUT", f"{prefix}/endpoints/smtp/mail", port=2525, delete="mailto")
    assert "mailto" not in root.data("GET", f"{prefix}/endpoints/smtp/mail")
    status, body = root.call_body("DELETE", f"{prefix}/endpoints/webhook/hook")
    assert status == 500 and "still used by matcher 'failures'" in body["message"]
    status, body = root.call_body("POST", f"{prefix}/endpoints/smtp", name="x1", server="s")
    assert status == 400 and "from-address" in body["errors"]


def test_permissions(base: str, access: Access) -> None:  # noqa: F811
    auditor = login(base, "auditor@pve", access)
    assert auditor.data("GET", "/cluster/notifications/endpoints/smtp") == []
    status, body = auditor.call_body(
        "POST",
        "/cluster/notifications/endpoints/webhook",
        name="hook",
        url="http://x.example",
        method="post",
    )
    assert status == 403 and "Mapping.Modify" in body["message"]
