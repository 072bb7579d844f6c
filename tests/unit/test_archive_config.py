"""The config stored in an archive, and the config a restore writes from it."""

from __future__ import annotations

import random

from respaldo.config.vmconfig import VmConfig
from respaldo.services.restore.config import merge_over_existing, replace_disks, restored_config
from respaldo.services.vzdump.archiveconfig import archive_config
from tests.conftest import FIXTURES


def _proxmox_vm() -> VmConfig:
    return VmConfig.parse(100, (FIXTURES / "config" / "100.conf").read_text())


def test_archive_config_drops_runtime_keys_and_sections_and_maps_disks() -> None:
    config = _proxmox_vm()
    config.set("lock", "backup")
    scsi0 = config.drive("scsi0")
    assert scsi0 is not None
    text = archive_config(config, [(scsi0, "qcow2")])
    assert text.startswith("#Web server of the accounting team\n")
    for gone in ("lock:", "parent:", "unused0:", "[before-upgrade]", "[PENDING]", "snaptime"):
        assert gone not in text
    assert "scsi1: local:100/vm-100-disk-1.raw,backup=0,size=4G" in text  # stays, not mapped
    assert text.endswith("#qmdump#map:scsi0:drive-scsi0:local:qcow2:\n")


def test_restored_config_points_at_new_volumes_and_comments_out_the_rest() -> None:
    archived = VmConfig.parse(
        200, archive_config(_proxmox_vm(), []) + "#qmdump#map:scsi0:drive-scsi0:local:qcow2:\n"
    )
    new = restored_config(
        archived, {"scsi0": ("fast:200/vm-200-disk-0.qcow2", 32 << 30)}, unique=False
    )
    assert new.get("scsi0") == "fast:200/vm-200-disk-0.qcow2,iothread=1,size=32G"
    assert new.get("scsi1") is None
    assert "scsi1: local:100/vm-100-disk-1.raw,backup=0,size=4G" in new.description
    assert "qmdump" not in new.format()
    assert new.get("ide2") == "none,media=cdrom"  # CD-ROMs stay
    assert new.get("vmgenid") != archived.get("vmgenid")
    assert new.get("net0") == archived.get("net0")
    assert new.get("smbios1") == archived.get("smbios1")


def test_unique_changes_macs_and_smbios_uuid_only() -> None:
    archived = VmConfig.parse(200, archive_config(_proxmox_vm(), []))
    new = restored_config(archived, {}, unique=True, rng=random.Random(1))
    assert new.get("net0") != archived.get("net0")
    net0 = new.get("net0") or ""
    assert net0.startswith("virtio=BC:24:11:") and net0.endswith(",bridge=vmbr0,firewall=1")
    assert (new.get("smbios1") or "").startswith("uuid=") and new.get("smbios1") != archived.get(
        "smbios1"
    )


def test_full_restore_over_existing_keeps_uncovered_disks_as_unused() -> None:
    old = _proxmox_vm()
    new = VmConfig.parse(100, "scsi0: local:100/vm-100-disk-7.qcow2,size=32G\n")
    merged, to_free = merge_over_existing(new, old, {"scsi0"})
    assert to_free == ["local:100/vm-100-disk-0.qcow2"]
    assert merged.unused_volumes() == [
        ("unused0", "local:100/vm-100-disk-1.raw"),
        ("unused1", "local:100/vm-100-disk-2.qcow2"),
    ]


def test_partial_restore_replaces_only_chosen_disks() -> None:
    old = _proxmox_vm()
    config, to_free = replace_disks(old, {"scsi1": ("local:100/vm-100-disk-9.raw", 4 << 30)})
    assert to_free == ["local:100/vm-100-disk-1.raw"]
    assert config.get("scsi1") == "local:100/vm-100-disk-9.raw,backup=0,size=4G"
    assert config.get("memory") == old.get("memory") and config.get("scsi0") == old.get("scsi0")


def test_restore_maps_efidisk_and_drops_runtime_keys() -> None:
    archived = VmConfig.parse(
        300,
        "lock: backup\nparent: snap1\nunused0: local:100/vm-100-disk-9.raw\n"
        "efidisk0: local-lvm:vm-100-disk-1,efitype=4m,size=4M\n"
        "scsi0: local-lvm:vm-100-disk-0,size=8G\n",
    )
    new = restored_config(
        archived,
        {
            "efidisk0": ("local:300/vm-300-disk-1.raw", 4 << 20),
            "scsi0": ("local:300/vm-300-disk-0.raw", 8 << 30),
        },
        unique=False,
    )
    assert new.get("efidisk0") == "local:300/vm-300-disk-1.raw,efitype=4m,size=4M"
    assert new.get("scsi0") == "local:300/vm-300-disk-0.raw,size=8G"
    assert new.get("lock") is None and new.get("parent") is None and new.get("unused0") is None
