"""``respaldo pveum``: each verb through ``main()``, its output, and the root-only rule."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from respaldo.access import Access
from respaldo.access.realms import SystemPam
from respaldo.cli import main as cli_main
from respaldo.cli import pveum
from respaldo.cli.main import main
from respaldo.errors import CommandError
from respaldo.node import Node

from .accesskit import FakePam, make_access

HOME_ENV = "RESPALDO_HOME"


@pytest.fixture
def access(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Access:
    """The node of the commands (in tmp_path/data), seen through a cheap Access; the CLI
    runs as root."""
    access = make_access(tmp_path, pam=FakePam({"root": "rootpw-123", "alice": "alice-pw-1"}))
    monkeypatch.setenv(HOME_ENV, str(access.node.home))
    monkeypatch.setenv("RESPALDO_NODE", access.node.name)

    def same_node(node: Node) -> Access:
        assert node.home == access.node.home
        return access

    monkeypatch.setattr(pveum, "make_access", same_node)
    return access


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["pveum", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv, "--output-format", "json")
    assert code == 0, err
    return json.loads(out)


def set_stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


# -- users -----------------------------------------------------------------------------------


def test_user_add_modify_list_delete(access: Access, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "group", "add", "ops", "--comment", "Operators")[0] == 0
    code, out, err = run(
        capsys,
        "user",
        "add",
        "joe@pve",
        "--password",
        "joe-secret",
        "--email",
        "joe@example.com",
        "--groups",
        "ops",
        "--expire",
        "1900000000",
    )
    assert (code, out, err) == (0, "", "")
    access.authenticate_password("joe@pve", "joe-secret")
    assert run(capsys, "user", "modify", "joe@pve", "--enable", "0", "--firstname", "Joe")[0] == 0
    listed = {row["userid"]: row for row in run_json(capsys, "user", "list", "--full")}
    assert listed["joe@pve"] == {
        "userid": "joe@pve",
        "enable": 0,
        "expire": 1900000000,
        "email": "joe@example.com",
        "firstname": "Joe",
        "groups": "ops",
        "tokens": [],
        "realm-type": "pve",
    }
    assert [row["userid"] for row in run_json(capsys, "user", "list", "--enabled", "1")] == [
        "root@pam"
    ]
    code, out, _ = run(capsys, "user", "list")
    header, *lines = out.splitlines()
    assert header.split() == [
        "userid",
        "comment",
        "email",
        "enable",
        "expire",
        "firstname",
        "groups",
        "keys",
        "lastname",
        "realm-type",
        "tokens",
    ]
    assert [line.split()[0] for line in lines] == ["joe@pve", "root@pam"]
    assert run(capsys, "user", "delete", "joe@pve")[0] == 0
    assert "joe@pve" not in access.config().users


def test_user_errors_exit_2_with_the_reason(
    access: Access, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "user", "add", "joe", "--colour", "red")
    assert code == 2
    assert "userid 'joe'" in err and "colour" in err
    assert run(capsys, "user", "add", "joe@pve")[0] == 0
    code, _, err = run(capsys, "user", "add", "joe@pve")
    assert code == 2 and "already exists" in err
    code, _, err = run(capsys, "user", "add", "max@pve", "--password", "short")
    assert code == 2 and "password" in err
    assert "max@pve" not in access.config().users


def test_aliases(access: Access, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "useradd", "joe@pve", "--comment", "x")[0] == 0
    assert run(capsys, "usermod", "joe@pve", "--comment", "y")[0] == 0
    assert access.config().users["joe@pve"].comment == "y"
    assert run(capsys, "groupadd", "ops")[0] == 0
    assert run(capsys, "roleadd", "Backup", "--privs", "VM.Backup")[0] == 0
    assert run(capsys, "aclmod", "/vms/100", "--roles", "Backup", "--groups", "ops")[0] == 0
    assert access.config().acl["/vms/100"].groups == {"ops": {"Backup": True}}
    assert run(capsys, "acldel", "/vms/100", "--roles", "Backup", "--groups", "ops")[0] == 0
    assert "/vms/100" not in access.config().acl
    for alias, name in (("roledel", "Backup"), ("groupdel", "ops"), ("userdel", "joe@pve")):
        assert run(capsys, alias, name)[0] == 0
    cfg = access.config()
    assert "Backup" not in cfg.roles and "ops" not in cfg.groups and "joe@pve" not in cfg.users


def test_user_permissions(access: Access, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "user", "add", "joe@pve")
    run(capsys, "acl", "modify", "/vms/100", "--roles", "PVEVMUser", "--users", "joe@pve")
    run(
        capsys,
        "acl",
        "modify",
        "/storage",
        "--roles",
        "PVEDatastoreUser",
        "--users",
        "joe@pve",
        "--propagate",
        "0",
    )
    perms = run_json(capsys, "user", "permissions", "joe@pve")
    assert perms["/vms/100"]["VM.Backup"] == 1
    assert perms["/storage"] == {"Datastore.AllocateSpace": 0, "Datastore.Audit": 0}
    code, out, _ = run(capsys, "user", "permissions", "joe@pve", "--path", "/storage")
    assert code == 0
    assert out.splitlines() == [
        "ACL path Permissions",
        "/storage Datastore.AllocateSpace",
        "         Datastore.Audit",
        "Permissions marked with '(*)' have the 'propagate' flag set.",
    ]
    root = run_json(capsys, "user", "permissions")
    assert "Permissions.Modify" in root["/"]


# -- passwords -------------------------------------------------------------------------------


def test_passwd_reads_two_lines_of_stdin(
    access: Access, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "user", "add", "joe@pve", "--password", "joe-secret")
    set_stdin(monkeypatch, "joe-new-pw\njoe-new-pw\n")
    assert run(capsys, "passwd", "joe@pve")[0] == 0
    access.authenticate_password("joe@pve", "joe-new-pw")
    set_stdin(monkeypatch, "first-one\nsecond-one\n")
    code, _, err = run(capsys, "passwd", "joe@pve")
    assert code == 2 and "passwords do not match" in err
    set_stdin(monkeypatch, "only-once\n")
    code, _, err = run(capsys, "passwd", "joe@pve")
    assert code == 2 and "EOF while reading password" in err
    set_stdin(monkeypatch, "short\nshort\n")
    assert run(capsys, "passwd", "joe@pve")[0] == 2
    access.authenticate_password("joe@pve", "joe-new-pw")


def test_passwd_prompts_twice_on_a_terminal(
    access: Access, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts: list[str] = []

    def getpass(prompt: str) -> str:
        prompts.append(prompt)
        return "typed-secret"

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal(""))
    monkeypatch.setattr("getpass.getpass", getpass)
    assert run(capsys, "passwd", "alice@pam")[0] == 2  # not in user.cfg yet
    run(capsys, "user", "add", "alice@pam")
    prompts.clear()
    assert run(capsys, "passwd", "alice@pam")[0] == 0
    assert prompts == ["Enter new password: ", "Retype new password: "]
    assert isinstance(access.pam, FakePam) and access.pam.accounts["alice"] == "typed-secret"


def test_passwd_takes_the_password_option(
    access: Access, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "user", "add", "joe@pve")
    assert run(capsys, "passwd", "joe@pve", "--password", "given-on-line")[0] == 0
    access.authenticate_password("joe@pve", "given-on-line")


# -- tokens ----------------------------------------------------------------------------------


def test_token_add_shows_the_secret_once(
    access: Access, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "user", "add", "joe@pve")
    code, out, _ = run(capsys, "user", "token", "add", "joe@pve", "ci", "--comment", "CI")
    assert code == 0
    table = dict(line.split(None, 1) for line in out.splitlines())
    assert list(table) == ["key", "full-tokenid", "info", "value"]
    assert table["full-tokenid"] == "joe@pve!ci"
    assert json.loads(table["info"]) == {"comment": "CI", "expire": 0, "privsep": 1}
    secret = table["value"]
    assert access.token_secrets.verify("joe@pve!ci", secret)
    assert secret not in access.files.token_cfg.read_text()
    listed = run_json(capsys, "user", "token", "list", "joe@pve")
    assert listed == [{"tokenid": "ci", "comment": "CI", "expire": 0, "privsep": 1}]
    assert secret not in json.dumps(listed)


def test_token_modify_permissions_remove(
    access: Access, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "user", "add", "joe@pve")
    first = run_json(capsys, "user", "token", "add", "joe@pve", "ci", "--privsep", "0")
    changed = run_json(capsys, "user", "token", "modify", "joe@pve", "ci", "--regenerate")
    assert changed["full-tokenid"] == "joe@pve!ci" and changed["privsep"] == 0
    assert not access.token_secrets.verify("joe@pve!ci", first["value"])
    assert access.token_secrets.verify("joe@pve!ci", changed["value"])
    run(capsys, "acl", "modify", "/vms", "--roles", "PVEVMUser", "--users", "joe@pve")
    perms = run_json(capsys, "user", "token", "permissions", "joe@pve", "ci", "--path", "/vms")
    assert perms["/vms"]["VM.Backup"] == 1  # no privilege separation: the user's
    assert run(capsys, "user", "token", "remove", "joe@pve", "ci")[0] == 0
    assert access.config().users["joe@pve"].tokens == {}
    code, _, err = run(capsys, "user", "token", "delete", "joe@pve", "ci")
    assert code == 2 and "no such token" in err


# -- groups, roles, ACLs ---------------------------------------------------------------------


def test_groups(access: Access, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "group", "add", "ops", "--comment", "Operators")
    run(capsys, "user", "add", "joe@pve", "--groups", "ops")
    run(capsys, "group", "modify", "ops", "--comment", "Ops")
    assert run_json(capsys, "group", "list") == [
        {"groupid": "ops", "comment": "Ops", "users": "joe@pve"}
    ]
    assert run(capsys, "group", "list")[1].splitlines() == [
        "groupid comment users",
        "ops     Ops     joe@pve",
    ]
    run(capsys, "group", "delete", "ops")
    assert run_json(capsys, "group", "list") == []
    assert run(capsys, "group", "list")[1] == ""  # nothing for no rows, as Proxmox


def test_roles(access: Access, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "role", "add", "Backup", "--privs", "VM.Backup")[0] == 0
    run(capsys, "role", "modify", "Backup", "--privs", "Datastore.AllocateSpace", "--append")
    listed = {row["roleid"]: row for row in run_json(capsys, "role", "list")}
    assert listed["Backup"] == {
        "roleid": "Backup",
        "privs": "Datastore.AllocateSpace,VM.Backup",
        "special": 0,
    }
    assert listed["PVEVMUser"]["special"] == 1
    code, _, err = run(capsys, "role", "modify", "Backup", "--append")
    assert code == 2 and "privs" in err
    code, _, err = run(capsys, "role", "delete", "Administrator")
    assert code == 2 and "built-in" in err
    run(capsys, "role", "delete", "Backup")
    assert "Backup" not in access.config().roles


def test_acl_modify_list_delete(access: Access, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "user", "add", "joe@pve")
    run(capsys, "user", "token", "add", "joe@pve", "ci")
    code, _, _ = run(
        capsys,
        "acl",
        "modify",
        "/storage/local",
        "--roles",
        "PVEDatastoreUser",
        "--users",
        "joe@pve",
        "--tokens",
        "joe@pve!ci",
        "--propagate",
        "0",
    )
    assert code == 0
    assert run_json(capsys, "acl", "list") == [
        {
            "path": "/storage/local",
            "type": "user",
            "ugid": "joe@pve",
            "roleid": "PVEDatastoreUser",
            "propagate": 0,
        },
        {
            "path": "/storage/local",
            "type": "token",
            "ugid": "joe@pve!ci",
            "roleid": "PVEDatastoreUser",
            "propagate": 0,
        },
    ]
    code, out, _ = run(capsys, "acl", "list")
    assert out.splitlines()[0].split() == ["path", "roleid", "type", "ugid", "propagate"]
    run(
        capsys,
        "acl",
        "delete",
        "/storage/local",
        "--roles",
        "PVEDatastoreUser",
        "--users",
        "joe@pve",
    )
    assert [row["ugid"] for row in run_json(capsys, "acl", "list")] == ["joe@pve!ci"]
    code, _, err = run(
        capsys, "acl", "modify", "/bad/path", "--roles", "NoAccess", "--users", "joe@pve"
    )
    assert code == 2 and "path" in err


# -- who may run it --------------------------------------------------------------------------


def test_refused_to_other_system_users(
    access: Access, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_main, "geteuid", lambda: 1000)
    for argv in (("user", "add", "joe@pve"), ("user", "list"), ("passwd", "root@pam")):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == ""
        assert "please run as root" in err and "uid 1000" in err
    assert "joe@pve" not in access.config().users
    assert not access.files.user_cfg.exists()


# -- the pam realm's chpasswd ----------------------------------------------------------------


def test_system_pam_sets_passwords_through_chpasswd_stdin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[list[str], bytes | None]] = []

    def fake_run(argv: list[str], timeout: float | None = 300, **kwargs: Any) -> bytes:
        calls.append((argv, kwargs.get("data")))
        if "bad" in (kwargs.get("data") or b"").decode():
            raise CommandError(argv, 1, "chpasswd: line 1: user 'bad' does not exist")
        return b""

    monkeypatch.setattr("respaldo.access.realms.run_bytes", fake_run)
    monkeypatch.setenv("RESPALDO_CHPASSWD", "/usr/sbin/chpasswd")
    pam = SystemPam()
    pam.set_password("alice", "s3cret:with-colon")
    assert calls == [(["/usr/sbin/chpasswd"], b"alice:s3cret:with-colon\n")]
    with pytest.raises(CommandError, match="does not exist"):
        pam.set_password("bad", "whatever1")
    with pytest.raises(Exception, match="line break"):
        pam.set_password("alice", "two\nlines")
    assert len(calls) == 2
