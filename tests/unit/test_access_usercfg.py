"""user.cfg: Proxmox's format read and written back byte for byte."""

from __future__ import annotations

from pathlib import Path

from respaldo.access.usercfg import (
    ApiToken,
    UserConfig,
    decode_text,
    encode_text,
    format_user_cfg,
    parse_user_cfg,
)

from .accesskit import make_access

# As Proxmox VE writes it: users (each with its tokens), groups, pools, roles, ACLs, each block
# sorted and ended by an empty line; text fields percent-encoded.
PROXMOX_USER_CFG = """\
user:backup@pve:1:1798761600:Backup:Operator:backup@example.com:runs the nightly jobs%3A 02%3A00::
token:backup@pve!nas:0:1:NAS pull:
user:joe@pve:0:0:Jos%C3%A9:M%C3%BCller:::x!oath:
user:root@pam:1:0:::admin@example.com:::
token:root@pam!monitoring:0:0::

group:admins:joe@pve,root@pam:Administrators:
group:operators:backup@pve::

pool:prod:Production guests:100,1000,101:local:

role:BackupOperator:Datastore.AllocateSpace,Datastore.Audit,VM.Audit,VM.Backup:

acl:1:/:@admins:Administrator:
acl:1:/pool/prod:@operators:PVEVMUser:
acl:1:/storage/local:backup@pve,backup@pve!nas:PVEDatastoreUser:
acl:0:/vms:backup@pve:PVEAuditor:
acl:1:/vms:@operators:BackupOperator:
acl:1:/vms/100:backup@pve!nas:BackupOperator:
"""


def test_proxmox_file_reads_and_writes_back_unchanged() -> None:
    cfg = parse_user_cfg(PROXMOX_USER_CFG)
    assert format_user_cfg(cfg) == PROXMOX_USER_CFG
    assert cfg.unknown == []


def test_fields_are_read() -> None:
    cfg = parse_user_cfg(PROXMOX_USER_CFG)
    backup = cfg.users["backup@pve"]
    assert backup.expire == 1798761600
    assert backup.comment == "runs the nightly jobs: 02:00"
    assert backup.tokens == {"nas": ApiToken(expire=0, privsep=True, comment="NAS pull")}
    joe = cfg.users["joe@pve"]
    assert (joe.enable, joe.firstname, joe.lastname, joe.keys) == (
        False,
        "José",
        "Müller",
        "x!oath",
    )
    assert cfg.users["root@pam"].tokens["monitoring"].privsep is False
    assert cfg.groups["admins"].users == {"joe@pve", "root@pam"}
    assert cfg.pools["prod"].vms == {100, 101, 1000}
    assert cfg.roles["BackupOperator"] == {
        "Datastore.AllocateSpace",
        "Datastore.Audit",
        "VM.Audit",
        "VM.Backup",
    }
    assert cfg.acl["/vms"].users == {"backup@pve": {"PVEAuditor": False}}
    assert cfg.acl["/vms"].groups == {"operators": {"BackupOperator": True}}
    assert cfg.acl["/storage/local"].tokens == {"backup@pve!nas": {"PVEDatastoreUser": True}}


def test_lenient_lines_as_proxmox_reads_them() -> None:
    # Hand-written style: no trailing colons, empty fields, a trailing slash on a path.
    cfg = parse_user_cfg(
        "user:max@pve:1:\n"
        "token:max@pve!ci::0:\n"
        "token:max@pve!ro:\n"
        "group:devs:max@pve\n"
        "acl:1:/vms/100/:max@pve,max@pve!ci:PVEVMUser\n"
    )
    assert cfg.users["max@pve"].expire == 0
    assert cfg.users["max@pve"].tokens["ro"] == ApiToken(expire=0, privsep=False)
    assert cfg.acl["/vms/100"].users == {"max@pve": {"PVEVMUser": True}}
    assert cfg.acl["/vms/100"].tokens == {"max@pve!ci": {"PVEVMUser": True}}
    assert "root@pam" in cfg.users  # always there, as in Proxmox


def test_unknown_lines_are_kept_at_the_end() -> None:
    text = PROXMOX_USER_CFG + "realm:ldap1:something:\n"
    cfg = parse_user_cfg("# managed by hand\n" + text + "user:bad user:1:0:\n")
    assert cfg.unknown == ["# managed by hand", "realm:ldap1:something:", "user:bad user:1:0:"]
    written = format_user_cfg(cfg)
    assert (
        written
        == PROXMOX_USER_CFG + "# managed by hand\nrealm:ldap1:something:\nuser:bad user:1:0:\n"
    )
    assert format_user_cfg(parse_user_cfg(written)) == written


def test_fresh_config_has_root_only() -> None:
    assert format_user_cfg(UserConfig()) == "user:root@pam:1:0::::::\n\n\n\n\n"


def test_acl_lines_group_members_by_role_list_and_flag() -> None:
    cfg = UserConfig()
    node = cfg.acl_node("/storage/local")
    node.users["b@pve"] = {"PVEDatastoreUser": True, "PVEAuditor": False}
    node.users["a@pve"] = {"PVEDatastoreUser": True}
    node.groups["ops"] = {"PVEDatastoreUser": True}
    node.users["root@pam"] = {"NoAccess": True}  # never written: root holds everything anyway
    lines = [line for line in format_user_cfg(cfg).splitlines() if line.startswith("acl")]
    assert lines == [
        "acl:0:/storage/local:b@pve:PVEAuditor:",
        "acl:1:/storage/local:@ops,a@pve,b@pve:PVEDatastoreUser:",
    ]


def test_nested_pool_implies_its_parents() -> None:
    cfg = parse_user_cfg("pool:dept/team/lab::300::\n")
    assert set(cfg.pools) == {"dept", "dept/team", "dept/team/lab"}
    assert "pool:dept::::\npool:dept/team::::\npool:dept/team/lab::300::\n" in format_user_cfg(cfg)


def test_text_encoding_escapes_separators_and_non_ascii() -> None:
    assert encode_text("50% off: ja\n") == "50%25 off%3A ja%0A"
    assert encode_text("Zoë") == "Zo%C3%AB"
    assert decode_text(encode_text("a:b%c ñ\t")) == "a:b%c ñ\t"


def test_edit_writes_atomically_and_next_read_sees_it(tmp_path: Path) -> None:
    access = make_access(tmp_path, user_cfg=PROXMOX_USER_CFG)
    first = access.config()
    assert access.config() is first  # cached while the file is unchanged
    with access.files.edit() as cfg:
        cfg.users["joe@pve"].enable = True
    assert access.config().users["joe@pve"].enable is True
    text = access.files.user_cfg.read_text()
    assert "user:joe@pve:1:0:Jos%C3%A9:M%C3%BCller:::x!oath:\n" in text
    assert [p.name for p in access.files.user_cfg.parent.iterdir() if p.name.startswith(".")] == []


def test_failed_edit_writes_nothing(tmp_path: Path) -> None:
    access = make_access(tmp_path, user_cfg=PROXMOX_USER_CFG)
    try:
        with access.files.edit() as cfg:
            cfg.users.clear()
            raise RuntimeError("stop")
    except RuntimeError:
        pass
    assert access.files.user_cfg.read_text() == PROXMOX_USER_CFG
