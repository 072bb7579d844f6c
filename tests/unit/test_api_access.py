"""The /access API methods over HTTP: users, tokens, groups, roles, ACLs, password, permissions,
their result shapes and Proxmox's permission checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from respaldo.access import Access, acl, groups, tokens, users

from .accesskit import FakePam, make_access
from .apikit import Client, Reply, running_server


@pytest.fixture
def access(tmp_path: Path) -> Access:
    """ops: joe; dev: ann. boss administers users of ops only; vmadmin owns VM 100; the
    auditor audits everything."""
    access = make_access(tmp_path, pam=FakePam({"root": "rootpw-123"}))
    groups.add_group(access, "ops", comment="Operators")
    groups.add_group(access, "dev")
    users.add_user(access, "joe@pve", password="joe-secret", groups="ops")
    users.add_user(access, "ann@pve", password="ann-secret", groups="dev")
    users.add_user(access, "boss@pve", password="boss-secret")
    users.add_user(access, "vmadmin@pve", password="vmadmin-secret")
    users.add_user(access, "auditor@pve", password="auditor-secret")
    acl.modify_acl(access, "/access/groups/ops", "PVEUserAdmin", users="boss@pve")
    acl.modify_acl(access, "/access/realm/pve", "PVEUserAdmin", users="boss@pve")
    acl.modify_acl(access, "/vms/100", "PVEVMAdmin", users="vmadmin@pve")
    acl.modify_acl(access, "/", "PVEAuditor", users="auditor@pve")
    return access


@pytest.fixture
def base(access: Access) -> Iterator[str]:
    with running_server(access) as url:
        yield url


def as_user(base: str, access: Access, userid: str) -> Client:
    return Client(base, access, userid=userid)


def token_of(access: Access, userid: str, name: str, privsep: bool = True) -> tuple[str, str]:
    secret = tokens.add_token(access, userid, name, privsep=privsep)["value"]
    return f"{userid}!{name}", secret


# -- users -----------------------------------------------------------------------------------


def test_user_lifecycle_as_root(base: str, access: Access) -> None:
    root = as_user(base, access, "root@pam")
    made = root.post(
        "/access/users",
        userid="max@pve",
        password="max-secret",
        groups="ops,dev",
        email="max@example.com",
        expire=1900000000,
    )
    assert made.status == 200 and made.data is None
    got = root.get("/access/users/max@pve")
    assert got.data == {
        "enable": 1,
        "expire": 1900000000,
        "email": "max@example.com",
        "groups": ["dev", "ops"],
        "tokens": {},
    }
    assert root.put("/access/users/max@pve", enable=0, groups="dev", comment="x").status == 200
    listed = {row["userid"]: row for row in root.get("/access/users", full=1).data}
    assert listed["max@pve"]["enable"] == 0 and listed["max@pve"]["groups"] == "dev"
    assert listed["max@pve"]["comment"] == "x" and listed["max@pve"]["realm-type"] == "pve"
    disabled = root.get("/access/users", enabled=0).data
    assert [row["userid"] for row in disabled] == ["max@pve"]
    assert root.delete("/access/users/max@pve").status == 200
    gone = root.get("/access/users/max@pve")
    assert gone.status == 500 and "does not exist" in gone.reason
    again = root.post("/access/users", userid="joe@pve")
    assert again.status == 500 and "already exists" in again.body["message"]


def test_bad_user_parameters_are_named(base: str, access: Access) -> None:
    root = as_user(base, access, "root@pam")
    reply = root.post("/access/users", userid="no-realm", password="short", colour="red")
    assert reply.status == 400
    assert set(reply.errors) == {"userid", "password", "colour"}
    assert "no-realm" not in access.config().users


def test_user_list_shows_only_what_the_caller_may_see(base: str, access: Access) -> None:
    def seen(userid: str) -> set[str]:
        return {row["userid"] for row in as_user(base, access, userid).get("/access/users").data}

    assert seen("joe@pve") == {"joe@pve"}
    assert seen("boss@pve") == {"boss@pve", "joe@pve"}
    assert seen("auditor@pve") == set(access.config().users)


def test_user_admin_of_one_group(base: str, access: Access) -> None:
    boss = as_user(base, access, "boss@pve")
    assert boss.post("/access/users", userid="new@pve", groups="ops").status == 200
    refused = boss.post("/access/users", userid="other@pve", groups="dev")
    assert refused.status == 403 and "/access/groups/dev" in refused.reason
    assert boss.post("/access/users", userid="nogroup@pve").status == 403
    assert boss.put("/access/users/joe@pve", groups="ops", comment="ok").status == 200
    assert boss.put("/access/users/ann@pve", groups="ops").status == 403
    assert boss.get("/access/users/joe@pve").status == 200
    assert boss.get("/access/users/ann@pve").status == 403
    assert boss.delete("/access/users/ann@pve").status == 403
    assert boss.delete("/access/users/new@pve").status == 200
    cfg = access.config()
    assert "new@pve" not in cfg.users and "other@pve" not in cfg.users
    assert cfg.users["joe@pve"].comment == "ok" and "ann@pve" in cfg.users


def test_users_without_privileges_change_nothing(base: str, access: Access) -> None:
    joe = as_user(base, access, "joe@pve")
    assert joe.post("/access/users", userid="x@pve").status == 403
    assert joe.put("/access/users/ann@pve", comment="hacked").status == 403
    assert joe.delete("/access/users/ann@pve").status == 403
    assert joe.get("/access/users/ann@pve").status == 403
    missing = joe.get("/access/users/nosuch@pve")  # Proxmox: 500, "no such user"
    assert missing.status == 500 and "does not exist" in missing.reason
    assert access.config().users["ann@pve"].comment is None


# -- API tokens ------------------------------------------------------------------------------


def test_token_lifecycle(base: str, access: Access) -> None:
    joe = as_user(base, access, "joe@pve")
    made = joe.post("/access/users/joe@pve/token/ci", comment="CI", privsep=0)
    assert made.status == 200
    assert made.data["full-tokenid"] == "joe@pve!ci"
    assert made.data["info"] == {"comment": "CI", "expire": 0, "privsep": 0}
    secret = made.data["value"]
    assert secret not in (Path(access.files.token_cfg).read_text())
    with_token = Client(base, access, token=("joe@pve!ci", secret))
    assert with_token.get("/access/permissions").status == 200
    assert joe.get("/access/users/joe@pve/token").data == [
        {"tokenid": "ci", "comment": "CI", "expire": 0, "privsep": 0}
    ]
    assert joe.get("/access/users/joe@pve/token/ci").data == {
        "comment": "CI",
        "expire": 0,
        "privsep": 0,
    }
    renewed = joe.put("/access/users/joe@pve/token/ci", regenerate=1, delete="comment")
    assert renewed.data["full-tokenid"] == "joe@pve!ci" and renewed.data["value"] != secret
    assert "comment" not in renewed.data
    assert with_token.get("/access/permissions").status == 401
    again = joe.post("/access/users/joe@pve/token/ci")
    assert again.status == 400 and "tokenid" in again.errors
    assert joe.delete("/access/users/joe@pve/token/ci").status == 200
    assert joe.get("/access/users/joe@pve/token").data == []


def test_tokens_of_others_need_user_modify(base: str, access: Access) -> None:
    joe = as_user(base, access, "joe@pve")
    assert joe.post("/access/users/ann@pve/token/xx").status == 403
    assert joe.get("/access/users/ann@pve/token").status == 403
    boss = as_user(base, access, "boss@pve")
    assert boss.post("/access/users/joe@pve/token/byboss").status == 200
    assert boss.post("/access/users/ann@pve/token/byboss").status == 403
    assert set(access.config().users["joe@pve"].tokens) == {"byboss"}
    assert access.config().users["ann@pve"].tokens == {}


def test_a_token_cannot_create_tokens(base: str, access: Access) -> None:
    """'self' is the user, never its token; without User.Modify a token makes no token, not
    even for its own user (with or without privilege separation)."""
    for name, privsep in (("sep", True), ("full", False)):
        client = Client(base, access, token=token_of(access, "joe@pve", name, privsep))
        refused = client.post("/access/users/joe@pve/token/more", privsep=0)
        assert refused.status == 403
        assert client.put("/access/users/joe@pve/token/sep", regenerate=1).status == 403
    assert set(access.config().users["joe@pve"].tokens) == {"sep", "full"}


def test_a_token_holds_at_most_its_users_privileges_for_tokens(base: str, access: Access) -> None:
    """As Proxmox: a token with User.Modify on the user's group may manage that user's
    tokens (the privilege, not the token, decides)."""
    boss_token = Client(base, access, token=token_of(access, "boss@pve", "tk", privsep=False))
    assert boss_token.post("/access/users/joe@pve/token/xx").status == 200
    assert boss_token.post("/access/users/ann@pve/token/xx").status == 403
    sep_token = Client(base, access, token=token_of(access, "boss@pve", "sep"))
    assert sep_token.post("/access/users/joe@pve/token/yy").status == 403


# -- password --------------------------------------------------------------------------------


def change_password(client: Client, userid: str, password: str, confirmation: str) -> Reply:
    return client.put(
        "/access/password",
        userid=userid,
        password=password,
        **{"confirmation-password": confirmation},
    )


def test_user_changes_own_password_with_confirmation(base: str, access: Access) -> None:
    joe = as_user(base, access, "joe@pve")
    missing = joe.put("/access/password", userid="joe@pve", password="joe-new-secret")
    assert missing.status == 400 and "confirmation-password" in missing.errors
    done = change_password(joe, "joe@pve", "joe-new-secret", "joe-secret")
    assert done.status == 200
    access.authenticate_password("joe@pve", "joe-new-secret")
    login = Client(base, access).post(
        "/access/ticket", username="joe@pve", password="joe-new-secret"
    )
    assert login.status == 200 and login.data["username"] == "joe@pve"


def test_wrong_confirmation_password_changes_nothing(base: str, access: Access) -> None:
    joe = as_user(base, access, "joe@pve")
    reply = change_password(joe, "joe@pve", "joe-new-secret", "not-joes-password")
    assert reply.status == 401
    access.authenticate_password("joe@pve", "joe-secret")


def test_password_of_another_user_needs_user_modify(base: str, access: Access) -> None:
    joe = as_user(base, access, "joe@pve")
    refused = change_password(joe, "ann@pve", "stolen-pass", "joe-secret")
    assert refused.status == 403
    access.authenticate_password("ann@pve", "ann-secret")
    boss = as_user(base, access, "boss@pve")
    done = change_password(boss, "joe@pve", "set-by-boss", "boss-secret")
    assert done.status == 200
    access.authenticate_password("joe@pve", "set-by-boss")
    root_pw = change_password(boss, "root@pam", "stolen-pass", "boss-secret")
    assert root_pw.status == 403


def test_tokens_cannot_change_passwords(base: str, access: Access) -> None:
    client = Client(base, access, token=token_of(access, "joe@pve", "tk", privsep=False))
    reply = change_password(client, "joe@pve", "by-a-token", "joe-secret")
    assert reply.status == 403 and "not available with API token" in reply.reason
    access.authenticate_password("joe@pve", "joe-secret")


def test_root_sets_any_password_without_confirmation(base: str, access: Access) -> None:
    root = as_user(base, access, "root@pam")
    assert root.put("/access/password", userid="ann@pve", password="from-root").status == 200
    access.authenticate_password("ann@pve", "from-root")
    short = root.put("/access/password", userid="ann@pve", password="short")
    assert short.status == 400 and "password" in short.errors


# -- groups and roles ------------------------------------------------------------------------


def test_groups(base: str, access: Access) -> None:
    root = as_user(base, access, "root@pam")
    assert root.post("/access/groups", groupid="qa", comment="Testers").status == 200
    assert root.put("/access/users/ann@pve", groups="qa", append=1).status == 200
    assert root.get("/access/groups/qa").data == {"comment": "Testers", "members": ["ann@pve"]}
    assert root.put("/access/groups/qa", comment="QA").status == 200
    listed = {row["groupid"]: row for row in root.get("/access/groups").data}
    assert listed["qa"] == {"groupid": "qa", "comment": "QA", "users": "ann@pve"}
    assert root.delete("/access/groups/qa").status == 200
    assert "qa" not in access.config().groups
    assert access.config().users["ann@pve"] is not None  # members stay


def test_group_permissions(base: str, access: Access) -> None:
    boss, joe = as_user(base, access, "boss@pve"), as_user(base, access, "joe@pve")
    assert [row["groupid"] for row in boss.get("/access/groups").data] == ["ops"]
    assert joe.get("/access/groups").data == []
    assert (
        boss.post("/access/groups", groupid="x").status == 403
    )  # Group.Allocate on its group only
    assert joe.get("/access/groups/ops").status == 403
    assert as_user(base, access, "auditor@pve").get("/access/groups/ops").status == 200
    assert "x" not in access.config().groups


def test_roles(base: str, access: Access) -> None:
    root = as_user(base, access, "root@pam")
    made = root.post("/access/roles", roleid="Backup", privs="VM.Backup,Datastore.AllocateSpace")
    assert made.status == 200
    assert root.get("/access/roles/Backup").data == {"Datastore.AllocateSpace": 1, "VM.Backup": 1}
    assert root.put("/access/roles/Backup", privs="VM.Audit", append=1).status == 200
    listed = {row["roleid"]: row for row in root.get("/access/roles").data}
    assert listed["Backup"] == {
        "roleid": "Backup",
        "privs": "Datastore.AllocateSpace,VM.Audit,VM.Backup",
        "special": 0,
    }
    assert listed["PVEAuditor"]["special"] == 1
    bad = root.post("/access/roles", roleid="Bad", privs="VM.Fly")
    assert bad.status == 400 and "privs" in bad.errors
    reserved = root.post("/access/roles", roleid="PVEMine")
    assert reserved.status == 400 and "roleid" in reserved.errors
    assert root.put("/access/roles/PVEVMUser", privs="VM.Audit").status == 400
    assert root.delete("/access/roles/Backup").status == 200
    assert "Backup" not in access.config().roles


def test_roles_need_sys_modify(base: str, access: Access) -> None:
    auditor = as_user(base, access, "auditor@pve")
    assert auditor.get("/access/roles").status == 200
    assert auditor.get("/access/roles/PVEVMUser").status == 200
    assert auditor.post("/access/roles", roleid="Mine", privs="VM.Audit").status == 403
    assert auditor.delete("/access/roles/PVEVMUser").status == 403
    assert "Mine" not in access.config().roles


# -- ACLs ------------------------------------------------------------------------------------


def test_acl_update_and_read_as_root(base: str, access: Access) -> None:
    root = as_user(base, access, "root@pam")
    tokenid, _ = token_of(access, "joe@pve", "ci")
    given = root.put(
        "/access/acl",
        path="/storage/local",
        roles="PVEDatastoreUser",
        users="joe@pve",
        groups="dev",
        tokens=tokenid,
        propagate=0,
    )
    assert given.status == 200
    entries = [row for row in root.get("/access/acl").data if row["path"] == "/storage/local"]
    assert sorted((row["type"], row["ugid"]) for row in entries) == [
        ("group", "dev"),
        ("token", tokenid),
        ("user", "joe@pve"),
    ]
    assert all(row["roleid"] == "PVEDatastoreUser" and row["propagate"] == 0 for row in entries)
    taken = root.put(
        "/access/acl", path="/storage/local", roles="PVEDatastoreUser", users="joe@pve", delete=1
    )
    assert taken.status == 200
    left = [row["ugid"] for row in root.get("/access/acl").data if row["path"] == "/storage/local"]
    assert sorted(left) == ["dev", tokenid]
    none = root.put("/access/acl", path="/", roles="PVEAuditor")
    assert none.status == 400 and "users" in none.errors
    bad_path = root.put("/access/acl", path="/nowhere/x", roles="PVEAuditor", users="joe@pve")
    assert bad_path.status == 400 and "path" in bad_path.errors


def test_acl_delegation_stays_within_what_the_caller_holds(base: str, access: Access) -> None:
    """vmadmin holds PVEVMAdmin (VM.Allocate, no Permissions.Modify) on /vms/100: it may hand
    out roles made of its own privileges there, and nothing more."""
    vmadmin = as_user(base, access, "vmadmin@pve")
    ok = vmadmin.put("/access/acl", path="/vms/100", roles="PVEVMUser", users="joe@pve")
    assert ok.status == 200
    more = vmadmin.put("/access/acl", path="/vms/100", roles="Administrator", users="joe@pve")
    assert more.status == 400 and "Permissions.Modify" in more.errors["roles"]
    masked = vmadmin.put("/access/acl", path="/vms/100", roles="NoAccess", users="ann@pve")
    assert masked.status == 400
    elsewhere = vmadmin.put("/access/acl", path="/vms/101", roles="PVEVMUser", users="joe@pve")
    assert elsewhere.status == 403
    above = vmadmin.put("/access/acl", path="/", roles="PVEVMUser", users="joe@pve")
    assert above.status == 403
    assert access.permissions("joe@pve", "/vms/100") >= {"VM.Backup", "VM.PowerMgmt"}
    assert "VM.Allocate" not in access.permissions("joe@pve", "/vms/100")
    assert access.permissions("joe@pve", "/vms/101") == set()
    assert access.permissions("ann@pve", "/vms/100") == set()
    seen = {(row["path"], row["ugid"]) for row in vmadmin.get("/access/acl").data}
    assert seen == {("/vms/100", "vmadmin@pve"), ("/vms/100", "joe@pve")}


def test_acl_needs_permissions_modify(base: str, access: Access) -> None:
    joe = as_user(base, access, "joe@pve")
    refused = joe.put("/access/acl", path="/", roles="Administrator", users="joe@pve")
    assert refused.status == 403
    assert joe.get("/access/acl").data == []
    assert access.permissions("joe@pve", "/") == set()


# -- permissions -----------------------------------------------------------------------------


def test_permissions_of_self_own_tokens_and_others(base: str, access: Access) -> None:
    tokenid, _ = token_of(access, "vmadmin@pve", "tk", privsep=False)
    vmadmin = as_user(base, access, "vmadmin@pve")
    mine = vmadmin.get("/access/permissions").data
    assert mine["/vms/100"]["VM.Allocate"] == 1
    own_token = vmadmin.get("/access/permissions", userid=tokenid, path="/vms/100").data
    assert own_token == {"/vms/100": mine["/vms/100"]}
    assert vmadmin.get("/access/permissions", userid="joe@pve").status == 403
    auditor = as_user(base, access, "auditor@pve")
    theirs = auditor.get("/access/permissions", userid="vmadmin@pve", path="/vms/100")
    assert theirs.status == 200 and theirs.data == {"/vms/100": mine["/vms/100"]}


def test_openapi_documents_the_access_methods(base: str, access: Access) -> None:
    document = requests.get(base + "/api2/openapi.json", timeout=30).json()
    paths = document["paths"]
    assert set(paths["/api2/json/access/users/{userid}/token/{tokenid}"]) == {
        "get",
        "post",
        "put",
        "delete",
    }
    password = paths["/api2/json/access/password"]["put"]["requestBody"]["content"]
    schema = password["application/x-www-form-urlencoded"]["schema"]["properties"]["password"]
    assert (schema["minLength"], schema["maxLength"]) == (8, 64)
