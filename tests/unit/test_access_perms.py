"""Permissions as Proxmox computes them: built-in roles, ACL inheritance, groups, NoAccess,
propagation, pools, API tokens, root@pam; the cap object and GET /access/permissions."""

from __future__ import annotations

from pathlib import Path

import pytest

from respaldo.access import Access
from respaldo.access.privileges import BUILTIN_ROLES, PRIVILEGES
from respaldo.errors import InputError, PermissionDenied

from .accesskit import make_access

CFG = """\
user:auditor@pve:1:0::::::
user:max@pve:1:0::::::
token:max@pve!full:0:0::
token:max@pve!sep:0:1::
token:max@pve!sep2:0:1::
user:nopro@pve:1:0::::::
user:pooler2@pve:1:0::::::
user:pooler@pve:1:0::::::
user:root@pam:1:0::::::
token:root@pam!rtok:0:1::
user:sue@pve:1:0::::::
user:vmuser@pve:1:0::::::

group:devs:max@pve,sue@pve::

pool:prod::300:nfs:

role:Backup:Datastore.AllocateSpace,VM.Backup:

acl:1:/:auditor@pve,root@pam!rtok:PVEAuditor:
acl:1:/pool/prod:pooler@pve:PVEVMUser:
acl:1:/pool/prod:pooler2@pve:NoAccess:
acl:1:/storage/local:vmuser@pve:PVEDatastoreUser:
acl:0:/vms:nopro@pve:PVEAuditor:
acl:1:/vms:@devs,pooler2@pve:PVEVMAdmin:
acl:1:/vms/100:max@pve:PVEAuditor:
acl:1:/vms/101:max@pve!sep2:Administrator:
acl:1:/vms/101:vmuser@pve:PVEVMUser:
acl:1:/vms/200:@devs:NoAccess:
"""


@pytest.fixture
def access(tmp_path: Path) -> Access:
    return make_access(tmp_path, user_cfg=CFG)


def _privs(*roles: str) -> set[str]:
    return set().union(*(BUILTIN_ROLES[role] for role in roles))


def test_builtin_roles_are_proxmox_s() -> None:
    assert len(PRIVILEGES) == 47
    assert BUILTIN_ROLES["Administrator"] == PRIVILEGES
    assert BUILTIN_ROLES["NoAccess"] == frozenset()
    assert BUILTIN_ROLES["PVEDatastoreUser"] == {"Datastore.AllocateSpace", "Datastore.Audit"}
    assert BUILTIN_ROLES["PVEVMUser"] == {
        "VM.Audit",
        "VM.Backup",
        "VM.Config.CDROM",
        "VM.Config.Cloudinit",
        "VM.Console",
        "VM.GuestAgent.Audit",
        "VM.GuestAgent.FileRead",
        "VM.GuestAgent.FileSystemMgmt",
        "VM.GuestAgent.FileWrite",
        "VM.PowerMgmt",
    }
    assert BUILTIN_ROLES["PVEAuditor"] == {
        "Datastore.Audit",
        "Mapping.Audit",
        "Pool.Audit",
        "SDN.Audit",
        "Sys.Audit",
        "VM.Audit",
        "VM.GuestAgent.Audit",
    }
    assert BUILTIN_ROLES["PVETemplateUser"] == {"VM.Audit", "VM.Clone"}
    assert BUILTIN_ROLES["PVESysAdmin"] == {"Sys.Audit", "Sys.Console", "Sys.Syslog"}
    assert BUILTIN_ROLES["PVEUserAdmin"] == {"Group.Allocate", "Realm.AllocateUser", "User.Modify"}
    assert BUILTIN_ROLES["PVEPoolUser"] == {"Pool.Audit"}
    assert BUILTIN_ROLES["PVEPoolAdmin"] == {"Pool.Allocate", "Pool.Audit"}
    root_only = {"Permissions.Modify", "Realm.Allocate", "Sys.Modify", "Sys.PowerMgmt"}
    assert not BUILTIN_ROLES["PVEAdmin"] & (root_only | {"Mapping.Modify"})
    assert "VM.Allocate" in BUILTIN_ROLES["PVEVMAdmin"]
    assert "Permissions.Modify" not in BUILTIN_ROLES["PVEVMAdmin"]
    assert "PVESysUser" not in BUILTIN_ROLES  # Sys has no user tier


@pytest.mark.parametrize(
    ("who", "path", "expected"),
    [
        # PVEAuditor on / reaches everything, but only to look
        ("auditor@pve", "/", _privs("PVEAuditor")),
        ("auditor@pve", "/vms/100", _privs("PVEAuditor")),
        ("auditor@pve", "/storage/local", _privs("PVEAuditor")),
        # PVEVMUser on /vms/101 only
        ("vmuser@pve", "/vms/101", _privs("PVEVMUser")),
        ("vmuser@pve", "/vms/102", set()),
        ("vmuser@pve", "/vms", set()),
        ("vmuser@pve", "/storage/local", _privs("PVEDatastoreUser")),
        # the user's own entry beats the group's; a more specific path beats an inherited one
        ("max@pve", "/vms/100", _privs("PVEAuditor")),
        ("max@pve", "/vms/101", _privs("PVEVMAdmin")),
        ("sue@pve", "/vms/100", _privs("PVEVMAdmin")),
        ("sue@pve", "/vms/200", set()),  # NoAccess for the group there
        ("sue@pve", "/vms/201", _privs("PVEVMAdmin")),
        # propagate=0: on the path itself, not below it
        ("nopro@pve", "/vms", _privs("PVEAuditor")),
        ("nopro@pve", "/vms/100", set()),
        # pools: the pool's roles apply to its guests and storages
        ("pooler@pve", "/vms/300", _privs("PVEVMUser")),
        ("pooler@pve", "/vms/301", set()),
        ("pooler2@pve", "/vms/300", set()),  # NoAccess on the pool masks the /vms role
        ("pooler2@pve", "/vms/301", _privs("PVEVMAdmin")),
        # API tokens
        ("max@pve!full", "/vms/101", _privs("PVEVMAdmin")),  # no privsep: the user's
        ("max@pve!sep", "/vms/101", set()),  # privsep and no ACL: nothing
        ("max@pve!sep", "/", set()),
        ("max@pve!sep2", "/vms/101", _privs("PVEVMAdmin")),  # Administrator ∩ user's
        ("max@pve!sep2", "/vms/100", set()),
        ("max@pve!nosuch", "/vms/101", set()),
        ("root@pam!rtok", "/vms/100", _privs("PVEAuditor")),  # root's token: its own ACLs
        ("nobody@pve", "/", set()),
        # root@pam holds everything
        ("root@pam", "/", set(PRIVILEGES)),
        ("root@pam", "/vms/999", set(PRIVILEGES)),
    ],
)
def test_permission_table(access: Access, who: str, path: str, expected: set[str]) -> None:
    assert access.permissions(who, path) == expected


def test_check_names_the_missing_privilege(access: Access) -> None:
    access.check("auditor@pve", "/vms/100", ["VM.Audit"])
    with pytest.raises(
        PermissionDenied, match=r"^Permission check failed \(/vms/100, VM.Backup\)$"
    ):
        access.check("auditor@pve", "/vms/100", ["VM.Audit", "VM.Backup"])
    access.check("vmuser@pve", "/vms/101", ["VM.Backup"])
    with pytest.raises(PermissionDenied) as caught:
        access.check("vmuser@pve", "/vms/102", ["VM.Backup"])
    assert caught.value.http_status == 403
    access.check("auditor@pve", "/vms/100", ["VM.Backup", "VM.Audit"], any=True)
    with pytest.raises(PermissionDenied, match=r"\(/vms/102, VM.Backup\|VM.Allocate\)"):
        access.check("vmuser@pve", "/vms/102", ["VM.Backup", "VM.Allocate"], any=True)
    with pytest.raises(InputError):
        access.check("root@pam", "/", ["VM.NoSuchThing"])


def test_custom_role(access: Access) -> None:
    with access.files.edit() as cfg:
        cfg.acl_node("/vms/500").users["nopro@pve"] = {"Backup": True}
    assert access.permissions("nopro@pve", "/vms/500") == {"Datastore.AllocateSpace", "VM.Backup"}


def test_cap_object(access: Access) -> None:
    cap = access.cap("vmuser@pve")
    assert set(cap) == {"vms", "storage", "access", "nodes", "sdn", "dc", "mapping"}
    assert cap["vms"] == dict.fromkeys(BUILTIN_ROLES["PVEVMUser"], 1)
    assert cap["storage"] == {"Datastore.AllocateSpace": 1, "Datastore.Audit": 1}
    assert cap["dc"] == cap["nodes"] == cap["access"] == {}
    auditor = access.cap("auditor@pve")
    assert auditor["dc"] == {"Sys.Audit": 1, "SDN.Audit": 1}
    assert auditor["nodes"] == {"Sys.Audit": 1}
    assert auditor["access"] == {}
    root = access.cap("root@pam")
    assert root["access"] == {
        "Group.Allocate": 1,
        "Permissions.Modify": 1,
        "User.Modify": 1,
    }
    assert "Sys.PowerMgmt" in root["nodes"] and "Sys.PowerMgmt" not in root["dc"]
    pooler = access.cap("pooler@pve")  # a pool's guest privileges count for vms
    assert pooler["vms"] == dict.fromkeys(BUILTIN_ROLES["PVEVMUser"], 1)


def test_permissions_tree(access: Access) -> None:
    auditor_flags = dict.fromkeys(BUILTIN_ROLES["PVEAuditor"], 0)  # not propagated
    assert access.permissions_tree("nopro@pve") == {"/vms": auditor_flags}
    tree = access.permissions_tree("vmuser@pve")
    assert set(tree) == {"/vms/101", "/storage/local"}
    assert tree["/vms/101"]["VM.Backup"] == 1
    assert access.permissions_tree("pooler@pve")["/vms/300"]["VM.Backup"] == 0  # via the pool
    assert access.permissions_tree("vmuser@pve", "/vms/102") == {"/vms/102": {}}
    assert access.permissions_tree("max@pve!sep") == {}
