"""Bad input over HTTP, sent as root@pam (who may do anything, so only the input is refused):
volume ids that climb out of their storage (``..``, encoded dots, absolute paths), names with
NUL or newline, symbolic links out of the storage, oversized bodies and unknown parameters
are answered 400, and the data dir (and the files the links lead to) are byte for byte as
before: hashed before and after each request.

Requests are sent with ``http.client`` so that the path reaches the server as written (no
client normalises ``..`` or re-encodes anything).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pytest

from respaldo.archive.compress import Compression

from .apiworld import (
    N,
    Template,
    World,
    backup_name,
    build_template,
    changes,
    open_world,
    tree_digest,
    volid,
    write_archive,
)

B101 = volid("local", 101)
B100 = volid("local", 100)
LINKED = backup_name(101, "2025_03_01-00_00_00")  # a link to an archive outside the storage
LINKED_IMAGE = "101/vm-101-disk-7.qcow2"  # a link to a file outside the storage
CONTENT = f"{N}/storage/local/content"


@dataclass
class Answer:
    status: int
    body: dict[str, Any]


@dataclass
class Site:
    """The world with links out of its storage, and the folder the links lead to."""

    world: World
    outside: Path

    def send(
        self, verb: str, raw_path: str, form: dict[str, str] | None = None, body: bytes = b""
    ) -> Answer:
        """``verb`` ``/api2/json<raw_path>`` as root@pam, the path sent as it is."""
        access = self.world.access
        ticket = urllib.parse.quote(access.authkeys.assemble_ticket("root@pam"), safe="")
        headers = {
            "Cookie": f"PVEAuthCookie={ticket}",
            "CSRFPreventionToken": access.csrf.assemble("root@pam"),
        }
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        url = urllib.parse.urlsplit(self.world.base)
        conn = HTTPConnection(url.hostname or "", url.port, timeout=30)
        try:
            conn.request(verb, "/api2/json" + raw_path, body=body or None, headers=headers)
            reply = conn.getresponse()
            return Answer(reply.status, json.loads(reply.read() or b"{}"))
        finally:
            conn.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return build_template(tmp_path_factory.mktemp("template") / "data", "http://127.0.0.1:9")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, template: Template) -> Iterator[Site]:
    top = tmp_path_factory.mktemp("bad")
    outside = top / "outside"
    write_archive(outside / LINKED, 101, Compression.ZSTD)
    (outside / "secret").write_text("not for the API\n")
    with open_world(template, top / "data") as world:
        storage = world.access.node.default_storage_path
        (storage / "dump" / LINKED).symlink_to(outside / LINKED)
        (storage / "dump" / f"{backup_name(100, ext='')}.notes").symlink_to(outside / "secret")
        (storage / "images" / "101").mkdir(parents=True)
        (storage / "images" / LINKED_IMAGE).symlink_to(outside / "secret")
        yield Site(world, outside)


def digest(site: Site) -> dict[str, str]:
    return {
        **{f"data/{k}": v for k, v in tree_digest(site.world.home).items()},
        **{f"outside/{k}": v for k, v in tree_digest(site.outside).items()},
    }


def refused(site: Site, http: str, raw_path: str, **form: str) -> Answer:
    """The request is answered 400 and nothing changed on disk."""
    before = digest(site)
    answer = site.send(http, raw_path, form if http in ("POST", "PUT") else None)
    assert answer.status == 400, (raw_path, form, answer)
    assert answer.body.get("errors"), answer.body
    assert changes(before, digest(site)) == []
    return answer


def q(text: str) -> str:
    """Percent-encode everything but what a volume id shows plainly."""
    return urllib.parse.quote(text, safe=":/")


BAD_VOLUMES = [
    "local:backup/../../etc/passwd",
    "local:backup/%2e%2e/%2e%2e/etc/passwd",
    "local:backup%2F..%2F..%2Fetc%2Fpasswd",
    "local:backup/%252e%252e/x",  # '%2e%2e' as text: never decoded twice into '..'
    "local:100/../../../../etc/passwd",
    "local:iso/../../secret",
    "local:%2Fetc%2Fpasswd",
    "%2Fetc%2Fpasswd",
    f"local:backup/{backup_name(101)}%00",
    f"local:backup/{backup_name(101)}%0A",
    f"local:backup/{backup_name(101)}%0Aprotected",
    f"local:backup/{LINKED}",
    f"local:{LINKED_IMAGE}",
]


@pytest.mark.parametrize("volume", BAD_VOLUMES)
@pytest.mark.parametrize("http", ["GET", "PUT", "DELETE"])
def test_a_volume_out_of_its_storage_in_the_path(site: Site, http: str, volume: str) -> None:
    form = {"notes": "x", "protected": "1"} if http == "PUT" else {}
    refused(site, http, f"{CONTENT}/{volume}", **form)


QUERY_VOLUMES = [
    "local:backup/../../etc/passwd",
    "local:backup/%2e%2e/x",
    "local:backup/../dump/" + backup_name(101),
    f"local:backup/{backup_name(101)}\0",
    f"local:backup/{backup_name(101)}\n",
    f"local:backup/{LINKED}",
    "local:../../../etc/passwd",
]


@pytest.mark.parametrize("volume", QUERY_VOLUMES)
def test_a_volume_out_of_its_storage_as_a_parameter(site: Site, volume: str) -> None:
    quoted = urllib.parse.quote(volume, safe="")
    refused(site, "GET", f"{N}/vzdump/extractconfig?volume={quoted}")
    refused(site, "POST", f"{N}/qemu", vmid="300", archive=volume)
    refused(site, "POST", f"{N}/qemu", vmid="101", archive=volume, force="1")


@pytest.mark.parametrize(
    "value",
    [
        "local:101/../../../../etc/passwd",
        f"local:{LINKED_IMAGE}",
        "local:backup/../../etc/passwd",
        "local:101/vm-101-disk-0.qcow2\0",
    ],
)
def test_a_disk_out_of_its_storage(site: Site, value: str) -> None:
    refused(site, "PUT", f"{N}/qemu/101/config", virtio1=value)
    refused(site, "POST", f"{N}/qemu", vmid="300", virtio0=value)


def test_links_out_of_the_storage_are_not_listed(site: Site) -> None:
    before = digest(site)
    listed = site.send("GET", CONTENT)
    assert listed.status == 200
    shown = {row["volid"] for row in listed.body["data"]}
    assert f"local:backup/{LINKED}" not in shown and B101 in shown
    assert all("notes" not in row for row in listed.body["data"] if row["volid"] == B100)
    assert changes(before, digest(site)) == []


# -- names with NUL or a line break, in what ends up in a config file ---------------------------

NAMES = [
    ("POST", "/access/users", {"userid": "evil\n@pve"}),
    ("POST", "/access/users", {"userid": "ev\0il@pve"}),
    ("POST", "/access/users", {"userid": "evil@pve", "email": "a@example.com\0"}),
    ("POST", "/access/groups", {"groupid": "g\nacl:1:/:evil@pve:Administrator:"}),
    ("POST", "/access/roles", {"roleid": "R\0", "privs": "VM.Audit"}),
    ("POST", "/access/users/vmuser@pve/token/t", {"comment": "x\ntoken:root@pam!t:0:0::"}),
    ("PUT", "/access/acl", {"path": "/vms/101\n", "roles": "PVEAuditor", "users": "noone@pve"}),
    ("PUT", f"{N}/qemu/101/config", {"name": "x\nargs: -no-reboot"}),
    ("PUT", f"{N}/qemu/101/config", {"tags": "a\nargs: -no-reboot"}),
    ("POST", f"{N}/qemu", {"vmid": "300", "name": "x\0"}),
    ("POST", "/cluster/backup", {"id": "j\n", "schedule": "21:00", "vmid": "101"}),
    (
        "POST",
        "/cluster/backup",
        {"id": "j", "schedule": "21:00", "vmid": "101", "comment": "x\n\tdumpdir /etc"},
    ),
    ("PUT", "/cluster/backup/nightly", {"notes-template": "x\0"}),
    ("PUT", "/cluster/backup/nightly", {"mailto": "a@example.com\nroot@localhost"}),
    (
        "POST",
        "/cluster/notifications/endpoints/webhook",
        {"name": "h\n", "url": "http://127.0.0.1:9", "method": "post"},
    ),
    (
        "POST",
        "/cluster/notifications/endpoints/webhook",
        {"name": "h", "url": "http://127.0.0.1:9\nsmtp: x", "method": "post"},
    ),
    ("POST", "/cluster/notifications/matchers", {"name": "m", "comment": "x\n\tdisable 1"}),
    ("PUT", f"{N}/storage/local/content/{B101}", {"protected": "1\n"}),
]


@pytest.mark.parametrize(("http", "where", "form"), NAMES, ids=repr)
def test_a_name_with_nul_or_newline(
    site: Site, http: str, where: str, form: dict[str, str]
) -> None:
    refused(site, http, where, **form)


@pytest.mark.parametrize(
    "where",
    [
        f"{N}/storage/lo%0Acal/content",
        f"{N}/storage/local%00/status",
        f"{N}/qemu/101%0A/config",
        "/nodes/pve1%00/qemu",
        f"{N}/tasks/UPID%0A/status",
        "/access/users/vmuser%40pve%0A",
        "/cluster/backup/nightly%00",
        f"{N}/storage/loc%2561l/status",  # decoded once: the value holds a %
    ],
)
def test_a_path_segment_with_nul_or_newline(site: Site, where: str) -> None:
    refused(site, "GET", where)


# -- size and unknown parameters ----------------------------------------------------------------


def test_an_oversized_body(site: Site) -> None:
    before = digest(site)
    limit = 1 << 20  # ServerSettings.max_body
    body = urllib.parse.urlencode({"userid": "big@pve", "comment": "x" * limit}).encode()
    answer = site.send("POST", "/access/users", body=body)
    assert answer.status == 400 and "too large" in answer.body["message"], answer
    assert changes(before, digest(site)) == []


@pytest.mark.parametrize(
    ("http", "where", "form"),
    [
        ("POST", f"{N}/vzdump", {"vmid": "101", "colour": "red"}),
        ("GET", f"{N}/qemu?colour=red", {}),
        ("PUT", f"{N}/qemu/101/config", {"colour": "red"}),
        ("POST", "/access/users", {"userid": "x@pve", "isadmin": "1"}),
        ("DELETE", f"{N}/storage/local/content/{B101}?force=1", {}),
        ("POST", "/cluster/backup", {"schedule": "21:00", "runas": "root"}),
    ],
)
def test_an_unknown_parameter(site: Site, http: str, where: str, form: dict[str, str]) -> None:
    answer = refused(site, http, where, **form)
    unknown = {key for key in form if key not in ("vmid", "userid", "schedule")}
    unknown |= {
        part.split("=")[0] for part in urllib.parse.urlsplit(where).query.split("&") if part
    }
    assert set(answer.body["errors"]) == unknown, answer.body


def test_free_text_with_line_breaks_stays_text(tmp_path: Path, template: Template) -> None:
    """Comments and names Proxmox keeps as free text (user.cfg percent-encodes them) may
    hold a line break; it never becomes a line of the file."""
    with open_world(template, tmp_path / "data") as world:
        root = world.client("root@pam")
        forged = "x\nuser:evil@pve:1:0::::::\nacl:1:/:evil@pve:Administrator:"
        assert root.post("/access/users", userid="new@pve", comment=forged).status == 200
        assert root.put("/access/users/vmuser@pve", firstname=forged).status == 200
        assert root.post("/access/groups", groupid="g2", comment=forged).status == 200
        cfg = world.access.config()
        assert "evil@pve" not in cfg.users and cfg.users["new@pve"].comment == forged
        assert cfg.users["vmuser@pve"].firstname == forged and cfg.groups["g2"].comment == forged
        assert all("evil@pve" not in entries.users for entries in cfg.acl.values())
        assert root.get("/access/users/new@pve").data["comment"] == forged
