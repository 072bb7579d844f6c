"""Proxmox's wire conventions, checked with raw HTTP requests (``requests``) on a running server
(``../shared/proxmox-api.md`` A.0): the error text in the reason phrase, the error body,
parameter errors, boolean spellings in, integers out, UPIDs, task logs, 501s, bodies on GET,
query over body, ``_dc``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from proxmoxer import ResourceException  # type: ignore[import-untyped]
from proxmoxer.tools import Tasks  # type: ignore[import-untyped]

from tests.e2e.conftest import Login, Server, running_server, wait_task

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]

VMID = 150


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[Server, Login]]:
    """One server for the module, logged in, with VM 150 (no disks, stopped)."""
    with running_server() as server:
        prox = server.proxmox()
        wait_task(prox, prox.nodes(server.node).qemu.post(vmid=VMID, name="wire", memory=64))
        yield server, server.login()


def test_error_text_is_the_reason_phrase_and_the_message(api: tuple[Server, Login]) -> None:
    server, login = api
    reply = server.request("GET", f"/nodes/{server.node}/qemu/999/config", login)
    assert reply.status_code == 500
    assert "does not exist" in reply.reason  # what the Terraform provider looks for
    body = reply.json()
    assert body == {"data": None, "message": reply.reason + "\n"}
    assert reply.headers["Content-Type"].startswith("application/json")


def test_proxmoxer_reports_the_reason(api: tuple[Server, Login]) -> None:
    server, _ = api
    with pytest.raises(ResourceException) as failed:
        server.proxmox().nodes(server.node).qemu(999).status.current.get()
    assert failed.value.status_code == 500
    assert "does not exist" in failed.value.status_message + failed.value.content


def test_parameter_errors_are_400_with_one_error_per_parameter(
    api: tuple[Server, Login],
) -> None:
    server, login = api
    reply = server.request(
        "GET",
        f"/nodes/{server.node}/tasks",
        login,
        params={"limit": "abc", "source": "bogus", "bogus": "1"},
    )
    assert (reply.status_code, reply.reason) == (400, "Parameter verification failed.")
    body = reply.json()
    assert body["data"] is None and body["message"] == "Parameter verification failed.\n"
    assert set(body["errors"]) == {"limit", "source", "bogus"}
    assert all(isinstance(text, str) and text for text in body["errors"].values())
    missing = server.request("GET", f"/nodes/{server.node}/vzdump/extractconfig", login)
    assert missing.status_code == 400
    assert missing.json()["errors"] == {"volume": "property is missing and it is not optional"}


@pytest.mark.parametrize(
    ("spelling", "value"),
    [(word, True) for word in ("1", "on", "yes", "true", "ON", "Yes", "TRUE")]
    + [(word, False) for word in ("0", "off", "no", "false", "OFF", "No", "False")],
)
def test_boolean_spellings_in(api: tuple[Server, Login], spelling: str, value: bool) -> None:
    server, login = api
    reply = server.request(
        "GET", f"/nodes/{server.node}/storage", login, params={"format": spelling}
    )
    assert reply.status_code == 200, reply.text
    assert all(("formats" in row) is value for row in reply.json()["data"])


def test_a_bad_boolean_is_a_parameter_error(api: tuple[Server, Login]) -> None:
    server, login = api
    reply = server.request("GET", f"/nodes/{server.node}/storage", login, params={"format": "2"})
    assert reply.status_code == 400 and set(reply.json()["errors"]) == {"format"}


def test_integers_out(api: tuple[Server, Login]) -> None:
    server, login = api
    reply = server.request("GET", f"/nodes/{server.node}/storage", login)
    local = next(row for row in reply.json()["data"] if row["storage"] == "local")
    for key in ("active", "enabled", "shared", "total", "used", "avail"):
        assert type(local[key]) is int, (key, local[key])  # 1, not true
    assert local["active"] == 1 and local["enabled"] == 1 and local["shared"] == 0
    assert '"active":1' in reply.text.replace(" ", "")
    vms = server.request("GET", f"/nodes/{server.node}/qemu", login).json()["data"]
    vm = next(row for row in vms if row["vmid"] == VMID)
    assert type(vm["vmid"]) is int and type(vm["maxmem"]) is int and vm["maxmem"] == 64 << 20


def test_upids_parse_with_proxmoxer_and_the_task_log_has_n_t_and_total(
    api: tuple[Server, Login],
) -> None:
    server, login = api
    reply = server.request(
        "POST", f"/nodes/{server.node}/qemu/{VMID}/config", login, data={"description": "x"}
    )
    assert reply.status_code == 200, reply.text
    upid = reply.json()["data"]
    info = Tasks.decode_upid(upid)
    assert upid.endswith(":") and upid.startswith("UPID:")
    assert (info["node"], info["type"], info["id"], info["user"]) == (
        server.node,
        "qmconfig",
        str(VMID),
        "admin@pve",
    )
    assert info["pid"] > 0 and info["pstart"] > 0 and info["starttime"] > 0
    lines = wait_task(server.proxmox(), upid)
    log = server.request("GET", f"/nodes/{server.node}/tasks/{upid}/log", login).json()
    assert log["total"] == len(lines) == len(log["data"])
    assert [row["n"] for row in log["data"]] == list(range(1, len(lines) + 1))
    assert [row["t"] for row in log["data"]] == lines
    page = server.request(
        "GET",
        f"/nodes/{server.node}/tasks/{upid}/log",
        login,
        params={"start": len(lines) - 1, "limit": 1},
    ).json()
    assert page == {"data": [{"n": len(lines), "t": "TASK OK"}], "total": len(lines)}
    status = server.request("GET", f"/nodes/{server.node}/tasks/{upid}/status", login).json()
    assert status["data"]["status"] == "stopped" and status["data"]["exitstatus"] == "OK"
    assert status["data"]["upid"] == upid and type(status["data"]["pid"]) is int


@pytest.mark.parametrize(
    ("http", "path"),
    [
        ("GET", "/nodes/{node}/bogus"),
        ("GET", "/no/such/path"),
        ("PUT", "/version"),
        ("PATCH", "/nodes/{node}/qemu"),
    ],
)
def test_unknown_paths_and_verbs_are_501(api: tuple[Server, Login], http: str, path: str) -> None:
    server, login = api
    path = path.format(node=server.node)
    reply = server.request(http, path, login)
    assert reply.status_code == 501
    assert reply.reason == f"Method '{http} {path}' not implemented"
    assert reply.json() == {"data": None, "message": reply.reason + "\n"}


def test_get_with_a_body_is_refused(api: tuple[Server, Login]) -> None:
    server, login = api
    reply = server.request("GET", f"/nodes/{server.node}/qemu", login, data={"full": "1"})
    assert reply.status_code == 501 and "Unexpected content" in reply.reason


def test_the_query_wins_over_the_body(api: tuple[Server, Login]) -> None:
    server, login = api
    path = f"/nodes/{server.node}/qemu/{VMID}/config"
    reply = server.request("PUT", path, login, params={"name": "query"}, data={"name": "body"})
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"data": None}
    assert server.request("GET", path, login).json()["data"]["name"] == "query"


def test_json_bodies_are_read_like_forms(api: tuple[Server, Login]) -> None:
    server, login = api
    path = f"/nodes/{server.node}/qemu/{VMID}/config"
    reply = server.request(
        "PUT",
        path,
        login,
        data=json.dumps({"name": "json", "onboot": True, "cores": 2}),
        headers={"Content-Type": "application/json"},
    )
    assert reply.status_code == 200, reply.text
    config = server.request("GET", path, login).json()["data"]
    assert (config["name"], str(config["onboot"]), str(config["cores"])) == ("json", "1", "2")


def test_dc_is_ignored(api: tuple[Server, Login]) -> None:
    server, login = api
    for path in ("/version", f"/nodes/{server.node}/tasks", f"/nodes/{server.node}/qemu"):
        reply = server.request("GET", path, login, params={"_dc": "1733000000000"})
        assert reply.status_code == 200, (path, reply.text)
    put = server.request(
        "PUT",
        f"/nodes/{server.node}/qemu/{VMID}/config",
        login,
        params={"_dc": "1"},
        data={"name": "dc"},
    )
    assert put.status_code == 200, put.text


def test_a_missing_vm_everywhere_says_does_not_exist(api: tuple[Server, Login]) -> None:
    """Every VM method on a missing VM: 500 with "does not exist" (not a 200 or a task)."""
    server, login = api
    base = f"/nodes/{server.node}/qemu/999"
    for http, path in [
        ("GET", ""),
        ("GET", "/status/current"),
        ("POST", "/status/start"),
        ("POST", "/status/stop"),
        ("POST", "/status/shutdown"),
        ("DELETE", ""),
        ("PUT", "/config"),
    ]:
        data = {"name": "x"} if http == "PUT" else None
        reply = server.request(http, base + path, login, data=data)
        assert reply.status_code == 500 and "does not exist" in reply.reason, (path, reply.text)


@pytest.mark.parametrize("path", ["/nodes/{node}/qemu/1%0A2/config", "/nodes/a%0Ab/qemu", "/%0A"])
def test_odd_paths_get_proxmoxs_json_answers(api: tuple[Server, Login], path: str) -> None:
    """A line break in a path is no reason for a bare 404 text page."""
    server, login = api
    reply = server.request("GET", path.format(node=server.node), login)
    assert reply.status_code in (400, 501), reply.text
    assert reply.json()["data"] is None and reply.json()["message"]
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


def test_a_bad_or_unknown_upid_is_a_parameter_error(api: tuple[Server, Login]) -> None:
    server, login = api
    bad = server.request("GET", f"/nodes/{server.node}/tasks/garbage/status", login)
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"upid"}, bad.text
    unknown = f"UPID:{server.node}:00001234:00005678:66A1B2C3:vzdump:100:admin@pve:"
    for http, path in [("GET", "/status"), ("DELETE", "")]:
        reply = server.request(http, f"/nodes/{server.node}/tasks/{unknown}{path}", login)
        assert reply.status_code == 400 and set(reply.json()["errors"]) == {"upid"}, reply.text
    # the log of a task without one reads as Proxmox's (pve-common dump_logfile)
    log = server.request("GET", f"/nodes/{server.node}/tasks/{unknown}/log", login).json()
    assert log == {
        "data": [{"n": 1, "t": "unable to open file - No such file or directory"}],
        "total": 1,
    }
