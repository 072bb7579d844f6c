"""The issue's named permission cases on ``respaldo server`` as a user starts it, with real
backups and restores (QEMU under TCG), through proxmoxer as the users themselves.

- ``vmuser@pve`` (PVEVMUser on /vms/101, PVEDatastoreUser on /storage/local) backs up VM 101
  to ``local``, but not VM 102, and not to ``other``; restores its backup over VM 101 with
  ``force`` (VM.Backup), not without (no VM.Allocate); removes its backup.
- ``auditor@pve`` (PVEAuditor on /) lists VMs and storages but backs up, restores and removes
  nothing, and sees no backup (Proxmox shows backups to those who may back the guest up).
- A token of an Administrator, with privilege separation and no ACL of its own, can do
  nothing.

Users and ACLs are made with ``respaldo pveum`` (root on the node), as an admin would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from proxmoxer import ResourceException  # type: ignore[import-untyped]

from tests.e2e.conftest import Server, wait_task

pytestmark = [pytest.mark.server, pytest.mark.timeout(300)]

PASSWORD = "e2e-secret-1"


def refused(call: Callable[[], Any]) -> str:
    """The call is refused with 403; its reason."""
    with pytest.raises(ResourceException) as raised:
        call()
    assert raised.value.status_code == 403, raised.value
    return str(raised.value)


def setup(server: Server) -> None:
    for vmid in (101, 102):
        server.cli("qm", "create", str(vmid), "--memory", "64", "--virtio0", "local:0.01")
    server.cli("pvesm", "add", "dir", "other", "--path", str(server.home / "other"))
    for user in ("vmuser@pve", "auditor@pve"):
        server.cli("pveum", "user", "add", user, "--password", PASSWORD)
    for user, path, role in [
        ("vmuser@pve", "/vms/101", "PVEVMUser"),
        ("vmuser@pve", "/storage/local", "PVEDatastoreUser"),
        ("auditor@pve", "/", "PVEAuditor"),
    ]:
        server.cli("pveum", "acl", "modify", path, "--roles", role, "--users", user)


def test_the_named_cases(server: Server) -> None:
    setup(server)
    node = server.node
    vmuser = server.proxmox(user="vmuser@pve", password=PASSWORD).nodes(node)
    auditor = server.proxmox(user="auditor@pve", password=PASSWORD).nodes(node)

    # a PVEVMUser backs up its VM to the storage it may use, and nothing else
    upid = vmuser.vzdump.post(vmid=101, storage="local", compress="zstd")
    wait_task(server.proxmox(user="vmuser@pve", password=PASSWORD), upid)
    [backup] = vmuser.storage("local").content.get(content="backup")
    assert backup["vmid"] == 101 and backup["volid"].startswith("local:backup/vzdump-qemu-101-")
    volid = backup["volid"]
    assert "/vms/102, VM.Backup" in refused(lambda: vmuser.vzdump.post(vmid=102, storage="local"))
    assert "/storage/other" in refused(lambda: vmuser.vzdump.post(vmid=101, storage="other"))

    # restore over its VM: refused without VM.Allocate and without force, done with force
    assert "VM.Allocate" in refused(lambda: vmuser.qemu.post(vmid=101, archive=volid))
    upid = vmuser.qemu.post(vmid=101, archive=volid, force=1)
    wait_task(server.proxmox(user="vmuser@pve", password=PASSWORD), upid)

    # an auditor lists, and changes nothing
    assert {vm["vmid"] for vm in auditor.qemu.get()} == {101, 102}
    assert {s["storage"] for s in auditor.storage.get()} == {"local", "other"}
    assert auditor.storage("local").content.get(content="backup") == []
    refused(lambda: auditor.vzdump.post(vmid=101, storage="local"))
    refused(lambda: auditor.qemu.post(vmid=101, archive=volid, force=1))
    refused(lambda: auditor.storage("local").content(volid).delete())
    refused(lambda: auditor.vzdump.extractconfig.get(volume=volid))

    # a privilege-separated token without an ACL of its own: nothing
    secret = token_secret(server)
    bare = server.proxmox(user="admin@pve", token_name="bare", token_value=secret).nodes(node)
    assert bare.qemu.get() == [] and bare.storage.get() == []
    refused(lambda: bare.vzdump.post(vmid=101, storage="local"))
    refused(lambda: bare.storage("local").content(volid).delete())
    refused(bare.qemu(101).config.get)

    # the PVEVMUser removes its backup
    upid = vmuser.storage("local").content(volid).delete()
    wait_task(server.proxmox(user="vmuser@pve", password=PASSWORD), upid)
    assert vmuser.storage("local").content.get(content="backup") == []


def token_secret(server: Server) -> str:
    """A token of admin@pve with privilege separation, made with pveum; its secret."""
    made = server.cli(
        "pveum",
        "user",
        "token",
        "add",
        "admin@pve",
        "bare",
        "--privsep",
        "1",
        "--output-format",
        "json",
    )
    return str(json.loads(made.stdout)["value"])
