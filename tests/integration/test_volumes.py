"""Volumes as Proxmox makes them (issue 10, part 7): formats, names and recorded sizes."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import Cli

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(120)]


def _config(cli: Cli, vmid: int) -> dict[str, str]:
    data: dict[str, str] = json.loads(
        cli.run("qm", "config", str(vmid), "--output-format", "json").stdout
    )
    return data


def test_new_disks_on_a_dir_storage_are_raw_unless_a_format_is_given(cli: Cli) -> None:
    """pve-storage's DirPlugin: raw is the default format."""
    cli.run("qm", "create", "9300", "--memory", "64", "--scsi0", "local:1")
    cli.run("qm", "set", "9300", "--scsi1", "local:1,format=qcow2")
    config = _config(cli, 9300)
    assert config["scsi0"] == "local:9300/vm-9300-disk-0.raw,size=1G"
    assert config["scsi1"] == "local:9300/vm-9300-disk-1.qcow2,size=1G"  # format= not kept
    out = cli.run("pvesm", "alloc", "local", "9300", "-", "1M").stdout
    assert "successfully created 'local:9300/vm-9300-disk-2.raw'" in out


def test_pvesm_alloc_takes_a_name_without_extension_and_a_format(cli: Cli) -> None:
    out = cli.run(
        "pvesm", "alloc", "local", "9300", "vm-9300-disk-5", "1G", "--format", "raw"
    ).stdout
    assert "successfully created 'local:9300/vm-9300-disk-5.raw'" in out
    out = cli.run("pvesm", "alloc", "local", "9300", "vm-9300-disk-6", "64M").stdout
    assert "successfully created 'local:9300/vm-9300-disk-6.raw'" in out  # the storage default
    # pve-storage's Content.pm: the name's extension and --format must agree
    assert "different storage formats (qcow2 != raw)" in cli.fails(
        "pvesm", "alloc", "local", "9300", "vm-9300-disk-7.raw", "1M", "--format", "qcow2"
    )
    volumes = json.loads(cli.run("pvesm", "list", "local", "--output-format", "json").stdout)
    assert [(v["volid"], v["format"], v["size"]) for v in volumes] == [
        ("local:9300/vm-9300-disk-5.raw", "raw", 1 << 30),
        ("local:9300/vm-9300-disk-6.raw", "raw", 64 << 20),
    ]


def test_a_disk_attached_by_volume_id_gets_its_size(cli: Cli) -> None:
    """Issue 10, part 7: ``--scsi1 local:9300/vm-9300-disk-1.qcow2`` records size=, as
    qemu-server's create_disks does, so qm list shows it."""
    cli.run("pvesm", "alloc", "local", "9300", "vm-9300-disk-1.qcow2", "2G")
    cli.run("qm", "create", "9300", "--memory", "64", "--scsi1", "local:9300/vm-9300-disk-1.qcow2")
    assert _config(cli, 9300)["scsi1"] == "local:9300/vm-9300-disk-1.qcow2,size=2G"
    [row] = json.loads(cli.run("qm", "list", "--output-format", "json").stdout)
    assert row["maxdisk"] == 2 << 30
    assert "2.00" in cli.run("qm", "list").stdout
    # a format= that is not the volume's is refused (qemu-server: 'option different from
    # storage format')
    assert "'format=raw' option different from storage format 'qcow2'" in cli.fails(
        "qm", "set", "9300", "--scsi2", "local:9300/vm-9300-disk-1.qcow2,format=raw"
    )


def test_efi_disk_and_tpm_state_get_proxmoxs_sizes_whatever_is_asked(cli: Cli) -> None:
    """The EFI disk is as large as the OVMF variables template (528K for 4m, 128K for 2m), a
    TPM state 4 MiB (qemu-server's create_disks)."""
    cli.run(
        "qm",
        "create",
        "9400",
        "--memory",
        "64",
        "--efidisk0",
        "local:1,efitype=4m",
        "--tpmstate0",
        "local:7,version=v2.0",
    )
    config = _config(cli, 9400)
    assert config["efidisk0"] == "local:9400/vm-9400-disk-0.raw,efitype=4m,size=528K"
    assert config["tpmstate0"] == "local:9400/vm-9400-disk-1.raw,size=4M,version=v2.0"
    cli.run("qm", "set", "9400", "--delete", "efidisk0")
    cli.run("qm", "set", "9400", "--efidisk0", "local:1")
    assert _config(cli, 9400)["efidisk0"] == "local:9400/vm-9400-disk-2.raw,size=128K"
