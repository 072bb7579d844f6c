"""The services behind pveum and /access: users, passwords, tokens, groups, roles, ACLs."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from respaldo.access import Access, AuthMethod, Principal, acl, checks, groups, roles, tokens, users
from respaldo.errors import (
    AuthError,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDenied,
)

from .accesskit import FakePam, make_access


@pytest.fixture
def pam() -> FakePam:
    return FakePam({"root": "rootpw-123", "admin": "adminpw-1"})


@pytest.fixture
def access(tmp_path: Path, pam: FakePam) -> Access:
    access = make_access(tmp_path, pam=pam)
    groups.add_group(access, "ops", comment="Operators")
    users.add_user(access, "joe@pve", password="joe-secret", groups="ops", firstname="Joe")
    users.add_user(access, "admin@pam", comment="system admin")
    return access


def test_user_lifecycle(access: Access) -> None:
    assert users.get_user(access, "joe@pve") == {
        "enable": 1,
        "expire": 0,
        "firstname": "Joe",
        "groups": ["ops"],
        "tokens": {},
    }
    users.modify_user(access, "joe@pve", email="joe@example.com", firstname="", expire=1800000000)
    got = users.get_user(access, "joe@pve")
    assert got["email"] == "joe@example.com" and "firstname" not in got
    assert got["expire"] == 1800000000
    listed = {entry["userid"]: entry for entry in users.list_users(access)}
    assert set(listed) == {"admin@pam", "joe@pve", "root@pam"}
    assert listed["admin@pam"]["realm-type"] == "pam"
    assert "groups" not in listed["joe@pve"]
    full = {entry["userid"]: entry for entry in users.list_users(access, full=True)}
    assert full["joe@pve"]["groups"] == "ops" and full["joe@pve"]["tokens"] == []
    users.modify_user(access, "joe@pve", enable=False)
    assert [e["userid"] for e in users.list_users(access, enabled=False)] == ["joe@pve"]
    with pytest.raises(ConflictError, match="already exists"):
        users.add_user(access, "joe@pve")
    with pytest.raises(NotFoundError):
        users.add_user(access, "new@pve", groups=["nosuch"])
    with pytest.raises(InputError):
        users.add_user(access, "x@ldap1")  # no such realm here
    with pytest.raises(InputError):
        users.add_user(access, "short@pve", password="1234567")


def test_groups_of_a_user_replaced_or_appended(access: Access) -> None:
    groups.add_group(access, "dev")
    users.modify_user(access, "joe@pve", groups="dev")
    assert users.get_user(access, "joe@pve")["groups"] == ["dev"]
    users.modify_user(access, "joe@pve", groups="ops", append=True)
    assert users.get_user(access, "joe@pve")["groups"] == ["dev", "ops"]
    assert groups.get_group(access, "ops") == {"members": ["joe@pve"], "comment": "Operators"}


def test_delete_user_removes_everything_of_it(access: Access) -> None:
    secret = tokens.add_token(access, "joe@pve", "ci")["value"]
    acl.modify_acl(access, "/vms", "PVEVMUser", users="joe@pve", tokens="joe@pve!ci")
    users.delete_user(access, "joe@pve")
    cfg = access.config()
    assert "joe@pve" not in cfg.users
    assert cfg.groups["ops"].users == set()
    assert acl.list_acl(access) == []
    assert "joe" not in access.files.shadow_cfg.read_text()
    assert "joe@pve" not in access.files.token_cfg.read_text()
    assert secret not in access.files.user_cfg.read_text()
    with pytest.raises(NotFoundError):
        users.delete_user(access, "joe@pve")
    with pytest.raises(ConflictError):
        users.delete_user(access, "root@pam")


def test_passwords(access: Access, pam: FakePam) -> None:
    assert access.login("joe@pve", "joe-secret").username == "joe@pve"
    shadow = access.files.shadow_cfg.read_text()
    assert shadow.startswith("joe:$argon2id$") and "joe-secret" not in shadow
    users.change_password(access, "joe@pve", "new-secret")
    access.login("joe@pve", "new-secret")
    users.change_password(access, "admin@pam", "admin-new-1")  # the system account's
    assert pam.accounts["admin"] == "admin-new-1"


def test_password_change_rules_for_api_callers(access: Access) -> None:
    joe = Principal("joe@pve", None, AuthMethod.TICKET)
    users.change_password(
        access, "joe@pve", "joe-next-1", who=joe, confirmation_password="joe-secret"
    )
    with pytest.raises(AuthError):  # must confirm with the current password
        users.change_password(access, "joe@pve", "joe-next-2", who=joe, confirmation_password="bad")
    with pytest.raises(InputError):
        users.change_password(access, "joe@pve", "joe-next-2", who=joe)
    with pytest.raises(PermissionDenied):
        users.change_password(
            access, "root@pam", "new-root-1", who=joe, confirmation_password="joe-next-1"
        )
    with pytest.raises(PermissionDenied):  # never another pam user's system password
        users.change_password(
            access, "admin@pam", "admin-new-1", who=joe, confirmation_password="joe-next-1"
        )
    with pytest.raises(PermissionDenied):
        users.change_password(
            access, "joe@pve", "joe-next-3", who=Principal("joe@pve", "ci", AuthMethod.TOKEN)
        )
    root = Principal.user("root@pam")
    users.change_password(access, "admin@pam", "admin-new-2", who=root)


def test_tokens_store_only_a_digest(access: Access) -> None:
    created = tokens.add_token(access, "joe@pve", "ci", comment="CI jobs", privsep=False)
    secret = created["value"]
    assert created["full-tokenid"] == "joe@pve!ci"
    assert created["info"] == {"expire": 0, "privsep": 0, "comment": "CI jobs"}
    stored = access.files.token_cfg.read_text()
    assert stored.startswith("joe@pve!ci sha256:")
    for path in access.files.node.home.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path
    assert tokens.list_tokens(access, "joe@pve") == [
        {"tokenid": "ci", "expire": 0, "privsep": 0, "comment": "CI jobs"}
    ]
    assert "token:joe@pve!ci:0:0:CI jobs:" in access.files.user_cfg.read_text()
    with pytest.raises(InputError, match="already exists"):
        tokens.add_token(access, "joe@pve", "ci")


def test_token_modify_and_regenerate(access: Access) -> None:
    old = tokens.add_token(access, "joe@pve", "ci", comment="x")["value"]
    changed = tokens.modify_token(access, "joe@pve", "ci", privsep=False, delete="comment")
    assert changed == {"expire": 0, "privsep": 0}
    renewed = tokens.modify_token(access, "joe@pve", "ci", regenerate=True)
    assert renewed["full-tokenid"] == "joe@pve!ci" and renewed["value"] != old
    access.authenticate_request(None, f"PVEAPIToken=joe@pve!ci={renewed['value']}")
    with pytest.raises(AuthError):
        access.authenticate_request(None, f"PVEAPIToken=joe@pve!ci={old}")
    with pytest.raises(InputError):
        tokens.modify_token(access, "joe@pve", "ci", delete="privsep")
    tokens.remove_token(access, "joe@pve", "ci")
    assert tokens.list_tokens(access, "joe@pve") == []
    with pytest.raises(NotFoundError):
        tokens.get_token(access, "joe@pve", "ci")


def test_proxmox_clear_token_secret_is_accepted_then_hashed(access: Access) -> None:
    tokens.add_token(access, "joe@pve", "old")
    clear = "d2a3b1f4-0c7e-4a55-9f0e-2f3b7d8e9a10"
    access.files.write_private(access.files.token_cfg, f"joe@pve!old {clear}\n")
    access.authenticate_request(None, f"PVEAPIToken=joe@pve!old={clear}")
    tokens.add_token(access, "joe@pve", "new")  # the next write hashes every line
    assert clear not in access.files.token_cfg.read_text()
    access.authenticate_request(None, f"PVEAPIToken=joe@pve!old={clear}")


def test_roles(access: Access) -> None:
    roles.add_role(access, "Backup", privs="VM.Backup,Datastore.AllocateSpace")
    assert roles.get_role(access, "Backup") == {"Datastore.AllocateSpace": 1, "VM.Backup": 1}
    roles.modify_role(access, "Backup", privs="VM.Audit", append=True)
    assert set(roles.get_role(access, "Backup")) == {
        "Datastore.AllocateSpace",
        "VM.Audit",
        "VM.Backup",
    }
    listed = {entry["roleid"]: entry for entry in roles.list_roles(access)}
    assert listed["Backup"]["special"] == 0
    assert listed["PVEVMUser"]["special"] == 1 and "VM.Backup" in listed["PVEVMUser"]["privs"]
    assert (
        "role:Backup:Datastore.AllocateSpace,VM.Audit,VM.Backup:"
        in access.files.user_cfg.read_text()
    )
    for builtin in ("PVEVMUser", "Administrator", "NoAccess"):
        with pytest.raises(InputError, match="built-in"):
            roles.modify_role(access, builtin, privs="VM.Audit")
        with pytest.raises(InputError, match="built-in"):
            roles.delete_role(access, builtin)
    with pytest.raises(InputError):
        roles.add_role(access, "pveMine")
    with pytest.raises(InputError):
        roles.add_role(access, "Bad", privs="VM.Fly")
    with pytest.raises(ConflictError):
        roles.add_role(access, "Backup")
    acl.modify_acl(access, "/vms/100", "Backup", users="joe@pve")
    roles.delete_role(access, "Backup")
    assert acl.list_acl(access) == []  # its ACL entries went with it


def test_acl_modify_list_delete(access: Access) -> None:
    acl.modify_acl(access, "/vms/100/", "PVEVMUser", users="joe@pve", groups="ops", propagate=False)
    acl.modify_acl(access, "/storage/local", ["PVEDatastoreUser"], groups=["ops"])
    assert acl.list_acl(access) == [
        {
            "path": "/storage/local",
            "type": "group",
            "ugid": "ops",
            "roleid": "PVEDatastoreUser",
            "propagate": 1,
        },
        {
            "path": "/vms/100",
            "type": "user",
            "ugid": "joe@pve",
            "roleid": "PVEVMUser",
            "propagate": 0,
        },
        {"path": "/vms/100", "type": "group", "ugid": "ops", "roleid": "PVEVMUser", "propagate": 0},
    ]
    assert access.permissions("joe@pve", "/vms/100") >= {"VM.Backup"}
    acl.modify_acl(access, "/vms/100", "PVEVMUser", users="joe@pve", groups="ops", delete=True)
    assert [entry["path"] for entry in acl.list_acl(access)] == ["/storage/local"]
    with pytest.raises(InputError, match="required"):
        acl.modify_acl(access, "/vms", "PVEVMUser")
    with pytest.raises(InputError, match="path"):
        acl.modify_acl(access, "/nothing/here", "PVEVMUser", users="joe@pve")
    with pytest.raises(NotFoundError):
        acl.modify_acl(access, "/vms", "NoSuchRole", users="joe@pve")
    with pytest.raises(NotFoundError):
        acl.modify_acl(access, "/vms", "PVEVMUser", users="nobody@pve")
    with pytest.raises(NotFoundError):
        acl.modify_acl(access, "/vms", "PVEVMUser", tokens="joe@pve!nosuch")


def test_acl_delegation_without_permissions_modify(access: Access) -> None:
    # joe may allocate VMs under /vms (PVEVMAdmin) but may not modify permissions.
    acl.modify_acl(access, "/vms", "PVEVMAdmin", users="joe@pve")
    joe = Principal("joe@pve", None, AuthMethod.TICKET)
    checks.check_perm_modify(access, joe, "/vms/100")  # VM.Allocate there is enough
    with pytest.raises(PermissionDenied):
        checks.check_perm_modify(access, joe, "/storage/local")
    acl.modify_acl(access, "/vms/100", "PVEVMUser", users="admin@pam", who=joe)  # a subset
    with pytest.raises(InputError, match=r"Permissions\.Modify"):
        acl.modify_acl(access, "/vms/100", "Administrator", users="admin@pam", who=joe)
    with pytest.raises(InputError, match=r"Permissions\.Modify"):
        acl.modify_acl(access, "/vms/100", "NoAccess", users="admin@pam", who=joe)
    acl.modify_acl(
        access, "/vms/100", "Administrator", users="admin@pam", who=Principal.user("root@pam")
    )


def test_listing_filtered_by_the_caller(access: Access) -> None:
    groups.add_group(access, "dev")
    users.add_user(access, "max@pve", groups="dev")
    acl.modify_acl(access, "/access/groups/dev", "PVEUserAdmin", users="joe@pve")
    joe = Principal("joe@pve", None, AuthMethod.TICKET)
    assert {e["userid"] for e in users.list_users(access, who=joe)} == {"joe@pve", "max@pve"}
    assert [e["groupid"] for e in groups.list_groups(access, who=joe)] == ["dev"]
    checks.check_userid_group(access, joe, "max@pve", ["User.Modify"])
    with pytest.raises(PermissionDenied):
        checks.check_userid_group(access, joe, "admin@pam", ["User.Modify"])
    with pytest.raises(PermissionDenied, match="/access/groups/ops"):
        checks.check_userid_group(access, joe, "new@pve", ["User.Modify"], "create", "dev,ops")
    assert acl.list_acl(access, who=joe) == []  # needs Sys.Audit or perm-modify


def test_priv_files_are_private(access: Access) -> None:
    tokens.add_token(access, "joe@pve", "ci")
    access.login("joe@pve", "joe-secret")
    priv = access.files.priv_dir
    assert stat.S_IMODE(os.stat(priv).st_mode) == 0o700
    names = sorted(path.name for path in priv.iterdir())
    assert names == ["authkey.key", "pve-www.key", "shadow.cfg", "token.cfg"]
    for path in priv.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


def test_priv_dir_with_loose_mode_is_tightened(access: Access) -> None:
    os.chmod(access.files.priv_dir, 0o755)
    users.change_password(access, "joe@pve", "another-1")
    assert stat.S_IMODE(os.stat(access.files.priv_dir).st_mode) == 0o700
