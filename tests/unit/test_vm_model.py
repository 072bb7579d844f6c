"""The VM model as qemu-server defines it: drive keys and formats, the VM keys' formats, what a
start applies or refuses, what a backup includes and a restore writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from respaldo.config.drive import Drive, check_drive, drive_properties, is_drive_key
from respaldo.config.keyvalue import KeyValueFile
from respaldo.config.schema import ParameterError
from respaldo.config.vmconfig import VmConfig
from respaldo.config.vmformats import CPU_FORMAT, MACHINE_FORMAT, net_properties
from respaldo.config.vmschema import VM_CONFIG
from respaldo.errors import InputError
from respaldo.node import Node
from respaldo.qemu.capabilities import (
    QemuCapabilities,
    host_virt_flag,
    parse_cpu_models,
    parse_machines,
)
from respaldo.qemu.support import notices, refusals
from respaldo.services.disks import new_disk_request
from respaldo.services.qmconfig import VmConfigService
from respaldo.services.restore.config import restored_config
from respaldo.services.vzdump.archiveconfig import archive_config

# -- drive keys and formats ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("ide3", True),
        ("ide4", False),
        ("sata5", True),
        ("sata6", False),
        ("scsi30", True),
        ("scsi31", False),
        ("virtio15", True),
        ("virtio16", False),
        ("efidisk0", True),
        ("efidisk1", False),
        ("tpmstate0", True),
        ("tpmstate1", False),
        ("scsi01", False),
        ("unused0", False),
    ],
)
def test_every_drive_key_of_drive_pm(key: str, valid: bool) -> None:
    assert is_drive_key(key) is valid


def test_each_interface_takes_its_own_properties() -> None:
    assert "efitype" in drive_properties("efidisk") and "ssd" not in drive_properties("efidisk")
    assert "version" in drive_properties("tpmstate")
    assert "iothread" in drive_properties("virtio") and "ssd" not in drive_properties("virtio")
    assert {"product", "vendor", "queues", "scsiblock"} <= set(drive_properties("scsi"))
    assert "model" in drive_properties("ide") and "model" not in drive_properties("sata")


@pytest.mark.parametrize(
    "value",
    [
        "local:100/vm-100-disk-0.raw,efitype=4m,pre-enrolled-keys=1,size=528K",
        "local:100/vm-100-disk-0.raw,efitype=4m,ms-cert=2023k,pre-enrolled-keys=1,size=528K",
        "volume=local:100/vm-100-disk-0.qcow2,format=qcow2",
    ],
)
def test_proxmox_efidisk_values_are_valid(value: str) -> None:
    check_drive(Drive.parse("efidisk0", value))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("efidisk0", "local:100/vm-100-disk-0.raw,efitype=8m", "enumeration '2m, 4m'"),
        ("efidisk0", "local:100/vm-100-disk-0.raw,ssd=1", "unknown key 'ssd'"),
        ("tpmstate0", "local:100/vm-100-disk-1.raw,version=v3", "enumeration 'v1.2, v2.0'"),
        ("virtio0", "none,media=cdrom", "a CD-ROM cannot be a VirtIO drive"),
        ("ide2", "local:iso/x.iso,media=cdrom,format=raw", "a CD-ROM takes no 'format'"),
        ("scsi0", "none", "'none' needs media=cdrom"),
        ("scsi0", "local:100/vm-100-disk-0.raw,cache=fast", "enumeration 'none, writethrough"),
        ("scsi0", "local:100/vm-100-disk-0.raw,mbps=10,mbps_rd=5", "excludes mbps_rd"),
        ("scsi0", "local:100/vm-100-disk-0.raw,mbps_max=10", "'mbps_max' requires 'mbps'"),
        ("scsi0", "local:100/vm-100-disk-0.raw,wwn=12", "does not match the format"),
        ("sata0", "local:100/vm-100-disk-0.raw,serial=a b", "URL-encoded"),
        ("scsi0", "local:4", "a new disk (<storage>:<size>) cannot be given here"),
    ],
)
def test_bad_drive_values_are_refused_naming_the_drive(key: str, value: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)) as info:
        check_drive(Drive.parse(key, value))
    assert info.value.name.startswith(key)


def test_drive_geometry_is_dropped_and_legacy_names_are_aliases() -> None:
    drive = Drive.parse("ide0", "local:100/vm-100-disk-0.raw,cyls=10,heads=16,bps_rd_length=5")
    assert drive.props == {"bps_rd_max_length": "5"}


def test_a_drive_is_written_as_print_drive_writes_it() -> None:
    drive = Drive.parse("scsi0", "local:100/vm-100-disk-0.raw,ssd=1,discard=on,size=4G")
    assert drive.format() == "local:100/vm-100-disk-0.raw,discard=on,size=4G,ssd=1"


def test_backup_device_names() -> None:
    assert Drive.parse("tpmstate0", "local:1/vm-1-disk-0.raw").backup_device == (
        "drive-tpmstate0-backup"
    )
    assert Drive.parse("efidisk0", "local:1/vm-1-disk-0.raw").backup_device == "drive-efidisk0"


# -- VM keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "ok"),
    [
        ({"cpu": "host"}, True),
        ({"cpu": "x86-64-v2-AES,flags=+aes;-pcid"}, True),
        ({"cpu": "kvm64,flags=+avx2"}, False),  # not a VM-specific flag
        ({"cpu": "Skylake"}, False),  # Proxmox: missing 'custom-' prefix?
        ({"cpu": "kvm64,reported-model=EPYC"}, False),  # only for custom models
        ({"cpu": "kvm64,phys-bits=host"}, True),
        ({"cpu": "kvm64,phys-bits=70"}, False),
        ({"scsihw": "virtio-scsi-single"}, True),
        ({"scsihw": "megasas"}, True),
        ({"bios": "ovmf", "machine": "q35"}, True),
        ({"machine": "pc-i440fx-8.1+pve0,viommu=virtio"}, True),
        ({"machine": "q35,aw-bits=100"}, False),
        ({"machine": "isapc"}, False),
        ({"efidisk0": "local:1,efitype=4m,pre-enrolled-keys=1"}, True),
        ({"tpmstate0": "local:1,version=v2.0"}, True),
        ({"vga": "virtio,memory=64"}, True),
        ({"vga": "std,memory=2"}, False),
        ({"watchdog": "model=i6300esb,action=reset"}, True),
        ({"rng0": "source=/dev/urandom,max_bytes=1024,period=1000"}, True),
        ({"rng0": "source=/dev/null"}, False),
        ({"smbios1": "uuid=7b10d7af-b932-4c66-b2c3-3996152ec465,base64=1,product=U2VydmVy"}, True),
        ({"hotplug": "network,disk,usb"}, True),
        ({"hotplug": "network,gpu"}, False),
        ({"boot": "order=scsi0;ide2;net0"}, True),
        ({"boot": "order=efidisk0"}, False),
        ({"boot": "cdn"}, True),
        ({"agent": "1,freeze-fs-on-backup=0,type=isa"}, True),
        ({"agent": "1,type=usb"}, False),
        ({"net0": "e1000e=BC:24:11:00:00:01,bridge=vmbr0,tag=10,firewall=1"}, True),
        ({"net0": "ne2k"}, False),
        ({"ostype": "win11"}, True),
        ({"ostype": "win12"}, False),
    ],
)
def test_vm_keys_take_proxmoxs_formats(options: dict[str, str], ok: bool) -> None:
    if ok:
        VM_CONFIG.parse(options, partial=True)
    else:
        with pytest.raises(ParameterError):
            VM_CONFIG.parse(options, partial=True)


def test_machine_and_cpu_formats_have_default_keys() -> None:
    assert MACHINE_FORMAT.parse("q35,enable-s3=0", "machine") == {"type": "q35", "enable-s3": False}
    assert CPU_FORMAT.parse("host,hidden=1", "cpu") == {"cputype": "host", "hidden": True}


def test_a_nic_model_with_its_mac() -> None:
    props = net_properties("virtio=BC:24:11:00:00:01,bridge=vmbr0,queues=4", "net0")
    assert props == {
        "model": "virtio",
        "macaddr": "BC:24:11:00:00:01",
        "bridge": "vmbr0",
        "queues": 4,
    }


def test_default_boot_devices_as_qm_create_sets_them() -> None:
    config = VmConfig.parse(
        100,
        "sata0: local:1/vm-1-disk-0.raw\nscsi3: local:1/vm-1-disk-1.raw\n"
        "ide2: none,media=cdrom\nnet1: virtio=BC:24:11:00:00:01\nnet0: e1000=BC:24:11:00:00:02\n",
    )
    assert config.default_boot_devices() == ["scsi3", "ide2", "net0"]


# -- what a start applies, what it refuses ------------------------------------------------------


def test_a_proxmox_config_with_only_supported_keys_starts() -> None:
    config = VmConfig.load(100, Path(__file__).parents[1] / "fixtures" / "config" / "100.conf")
    problems = refusals(config.as_dict(), [name for name, _ in config.data.sections])
    assert problems == {"[PENDING]": "the VM has pending changes, which respaldo does not apply"}
    assert notices(config.as_dict()) == [
        "scsi0: iothread=1 is not applied (QEMU 7.2 aborts when a backup's NBD client of a disk "
        "in an I/O thread disconnects); the disk runs in QEMU's main loop"
    ]


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("hostpci0", "0000:01:00.0,pcie=1", "PCI passthrough is not supported"),
        ("usb0", "host=1234:5678", "USB passthrough is not supported"),
        ("serial0", "socket", "serial ports besides"),
        ("numa", "1", "NUMA topologies"),
        ("numa0", "cpus=0-1,memory=512", "NUMA topologies"),
        ("hugepages", "2", "hugepages"),
        ("hotplug", "disk,cpu", "CPU and memory hotplug"),
        ("cpulimit", "2", "CPU limits"),
        ("cpuunits", "2048", "CPU weights"),
        ("arch", "aarch64", "only x86_64"),
        ("vga", "qxl2", "SPICE"),
        ("vga", "std,clipboard=vnc", "VNC clipboard"),
        ("template", "1", "the VM is a template"),
        ("vmstate", "local:100/vm-100-state-x.raw", "suspended to disk"),
        ("ide2", "local:100/vm-100-cloudinit.qcow2,media=cdrom", "cloud-init"),
        ("scsi0", "local:100/vm-100-disk-0.raw,mbps_rd=10", "I/O limits (mbps_rd)"),
        ("virtio0", "local:100/vm-100-disk-0.raw,snapshot=1", "snapshot mode"),
        ("scsi0", "/dev/sdb,scsiblock=1", "scsi-block"),
        ("net0", "virtio=BC:24:11:00:00:01,link_down=1", "link down"),
        ("scsi0", "local:100/vm-100-disk-0.raw,ssd=maybe", "expected a boolean"),
        ("frobnicate", "1", "unknown to respaldo"),
    ],
)
def test_what_respaldo_cannot_apply_is_refused_by_key(key: str, value: str, reason: str) -> None:
    problems = refusals({"memory": "512", key: value})
    assert list(problems) == [key] and reason in problems[key]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("numa", "0"),
        ("cpuunits", "1024"),
        ("cpulimit", "0"),
        ("hotplug", "1"),
        ("onboot", "1"),
        ("startup", "order=2,up=30"),
        ("meta", "creation-qemu=8.1.5,ctime=1716220308"),
        ("ciuser", "admin"),
        ("ipconfig0", "ip=dhcp"),
        ("unused3", "local:100/vm-100-disk-9.raw"),
        ("efidisk0", "local:100/vm-100-disk-1.raw,efitype=4m,size=528K"),
        ("tpmstate0", "local:100/vm-100-disk-2.raw,size=4M,version=v2.0"),
    ],
)
def test_what_changes_nothing_or_is_applied_is_not_refused(key: str, value: str) -> None:
    assert refusals({key: value}) == {}


def test_new_disk_requests() -> None:
    request = new_disk_request(Drive.parse("scsi0", "local:4,format=qcow2"))
    assert request is not None and (request.storage, request.size, request.format) == (
        "local",
        4 << 30,
        "qcow2",
    )
    request = new_disk_request(Drive.parse("tpmstate0", "local:0,version=v2.0"))
    assert request is not None and request.format is None  # the storage's default
    assert new_disk_request(Drive.parse("scsi0", "local:100/vm-100-disk-0.raw")) is None
    with pytest.raises(InputError, match="name the storage"):
        new_disk_request(Drive.parse("scsi0", "4"))
    with pytest.raises(InputError, match="above 0 GiB"):
        new_disk_request(Drive.parse("scsi0", "local:0"))


# -- capabilities --------------------------------------------------------------------------------


def test_qemu_machines_and_cpu_models_are_read_from_its_help() -> None:
    machines = parse_machines(
        "Supported machines are:\n"
        "pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)\n"
        "pc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996) (default)\n"
        "q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)\n"
    )
    assert machines == {
        "pc": "pc-i440fx-7.2",
        "pc-i440fx-7.2": "pc-i440fx-7.2",
        "q35": "pc-q35-7.2",
    }
    models = parse_cpu_models(
        "Available CPUs:\nx86 486                   (alias configured by machine type)\n"
        "x86 EPYC-v4               AMD EPYC-v4 Processor\n\nRecognized CPUID flags:\n  3dnow\n"
    )
    assert models == {"486", "EPYC-v4"}


def test_the_host_virtualization_flag(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu vme svm sse\n")
    assert host_virt_flag(cpuinfo) == "svm"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu vme sse\n")
    assert host_virt_flag(cpuinfo) is None


# -- archive config and restored config ----------------------------------------------------------

SOURCE = """\
#web server
bios: ovmf
efidisk0: local:9300/vm-9300-disk-1.raw,efitype=4m,pre-enrolled-keys=1,size=1M
lock: backup
scsi0: local:9300/vm-9300-disk-0.raw,size=1G
scsi1: local:9300/vm-9300-disk-3.qcow2,backup=0,size=1G
tpmstate0: local:9300/vm-9300-disk-2.raw,format=raw,size=4M,version=v2.0
vmgenid: 0
"""


def test_archive_config_maps_every_drive_kind() -> None:
    config = VmConfig.parse(9300, SOURCE)
    included = [(config.drive(key), "raw") for key in ("efidisk0", "scsi0", "tpmstate0")]
    text = archive_config(config, [(d, f) for d, f in included if d is not None])
    assert "lock:" not in text
    assert text.endswith(
        "#qmdump#map:efidisk0:drive-efidisk0:local:raw:\n"
        "#qmdump#map:scsi0:drive-scsi0:local:raw:\n"
        "#qmdump#map:tpmstate0:drive-tpmstate0-backup:local:raw:\n"
    )


def test_a_restored_config_names_only_the_new_vms_volumes() -> None:
    archived = VmConfig(9301, KeyValueFile(main=VmConfig.parse(9301, SOURCE).data.main))
    volumes = {
        "efidisk0": ("local:9301/vm-9301-disk-0.raw", 540672),
        "scsi0": ("local:9301/vm-9301-disk-1.raw", 1 << 30),
        "tpmstate0": ("local:9301/vm-9301-disk-2.raw", 8704),
    }
    text = restored_config(archived, volumes, unique=False).format()
    assert "efidisk0: local:9301/vm-9301-disk-0.raw,efitype=4m,pre-enrolled-keys=1,size=528K\n" in (
        text
    )
    # restore_update_config_line drops format=: the restored volume's may differ
    assert "tpmstate0: local:9301/vm-9301-disk-2.raw,size=8704,version=v2.0\n" in text
    assert "\n#scsi1: local:9300/vm-9300-disk-3.qcow2,backup=0,size=1G\n" in text
    assert "local:9300/" not in text.replace("#scsi1: local:9300/", "")


# -- what qm create adds ---------------------------------------------------------------------------


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> VmConfigService:
    caps = QemuCapabilities((7, 2), {"pc": "pc-i440fx-7.2"}, frozenset(), "7.2.22")
    monkeypatch.setattr("respaldo.services.qmconfig.capabilities.query", lambda qemu: caps)
    return VmConfigService(Node(tmp_path, "n"))


def test_create_adds_meta_and_proxmoxs_default_boot_order(service: VmConfigService) -> None:
    config = service.create(100, {"memory": 64, "net0": "virtio", "ide2": "none,media=cdrom"})
    assert re.fullmatch(r"creation-qemu=7\.2\.22,ctime=\d+", config.get("meta") or "")
    assert config.get("boot") == "order=ide2;net0"
    assert config.get("machine") is None  # not Windows: no pinning
    assert config.get("scsihw") is None  # Proxmox's default (lsi) applies at start


@pytest.mark.parametrize(
    ("machine", "pinned"),
    [
        (None, "pc-i440fx-7.2"),
        ("q35", "pc-q35-7.2"),
        ("q35,viommu=intel", "pc-q35-7.2,viommu=intel"),
    ],
)
def test_create_pins_a_windows_guests_machine(
    service: VmConfigService, machine: str | None, pinned: str
) -> None:
    """qemu-server's check_and_pin_machine_string: Windows gets this QEMU's version."""
    options: dict[str, object] = {"ostype": "win11"}
    if machine:
        options["machine"] = machine
    assert service.create(100, options).get("machine") == pinned
