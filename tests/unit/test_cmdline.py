"""The QEMU command line a VM config turns into (no process started)."""

from __future__ import annotations

import json
from pathlib import Path

from respaldo.config.vmconfig import VmConfig
from respaldo.qemu.cmdline import (
    QEMU_MALLOC_TUNABLES,
    ResolvedDrive,
    RuntimePaths,
    build_argv,
    qemu_environment,
)

PATHS = RuntimePaths(
    Path("/r/100.pid"),
    Path("/r/100.qmp"),
    Path("/r/100.qmp-job"),
    Path("/r/100.qga"),
    Path("/l/100.serial.log"),
)

CONFIG = """\
name: web
memory: 1024
cores: 2
sockets: 2
agent: 1
boot: order=virtio1;scsi0
scsi0: local:100/vm-100-disk-0.qcow2,size=4G
virtio1: local:100/vm-100-disk-1.raw,size=1G
sata2: local:100/vm-100-disk-2.qcow2,size=1G
ide2: none,media=cdrom
net0: e1000=BC:24:11:00:00:01,bridge=vmbr0
smbios1: uuid=3b2e1f0a-9c4d-4e8f-8a1b-2c3d4e5f6a7b
vmgenid: 9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d
args: -kernel /boot/vmlinuz -append "console=ttyS0 quiet"
"""


def _argv(kvm: bool = False, paused: bool = False) -> list[str]:
    config = VmConfig.parse(100, CONFIG)
    drives = []
    for d in config.drives():
        path = None if d.volume == "none" else Path(f"/img/{d.key}")
        drives.append(ResolvedDrive(d, path, "raw" if d.key == "virtio1" else "qcow2"))
    return build_argv("qemu-system-x86_64", config, drives, PATHS, kvm=kvm, paused=paused)


def _values(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_machine_cpu_memory_and_accelerator() -> None:
    argv = _argv()
    assert _values(argv, "-accel") == ["tcg"]
    assert _values(argv, "-m") == ["1024"]
    assert _values(argv, "-smp") == ["4,sockets=2,cores=2"]
    assert "-daemonize" in argv and "-S" not in argv
    assert _values(_argv(kvm=True), "-accel") == ["kvm"]
    assert "-S" in _argv(paused=True)


def test_block_nodes_have_stable_names() -> None:
    nodes = [json.loads(v) for v in _values(_argv(), "-blockdev")]
    formats = {n["node-name"]: n for n in nodes if n["driver"] != "file"}
    assert set(formats) == {"drive-scsi0", "drive-virtio1", "drive-sata2"}
    assert formats["drive-virtio1"]["driver"] == "raw"
    assert formats["drive-scsi0"]["file"] == "file-scsi0"
    files = {n["node-name"]: n["filename"] for n in nodes if n["driver"] == "file"}
    assert files["file-scsi0"] == "/img/scsi0"


def test_devices_buses_and_boot_order() -> None:
    devices = _values(_argv(), "-device")
    assert "virtio-scsi-pci,id=scsihw0" in devices
    assert "ahci,id=ahci0" in devices
    assert any(
        d.startswith("scsi-hd,bus=scsihw0.0") and "drive=drive-scsi0" in d and "bootindex=101" in d
        for d in devices
    )
    assert any(
        d.startswith("virtio-blk-pci,id=virtio1,drive=drive-virtio1,bootindex=100") for d in devices
    )
    assert "ide-hd,bus=ahci0.2,id=sata2,drive=drive-sata2" in devices
    assert "ide-cd,bus=ide.1,unit=0,id=ide2" in devices
    assert "e1000,netdev=net0,mac=BC:24:11:00:00:01,id=net0" in devices


def test_agent_identity_and_extra_args() -> None:
    argv = _argv()
    assert "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0" in _values(argv, "-device")
    assert "type=1,uuid=3b2e1f0a-9c4d-4e8f-8a1b-2c3d4e5f6a7b" in _values(argv, "-smbios")
    assert "vmgenid,guid=9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d" in _values(argv, "-device")
    assert argv[-4:] == ["-kernel", "/boot/vmlinuz", "-append", "console=ttyS0 quiet"]


def test_qemu_gets_malloc_thresholds_and_keeps_the_rest_of_the_environment() -> None:
    env = qemu_environment({"PATH": "/usr/bin", "LANG": "C.UTF-8"})
    assert env["PATH"] == "/usr/bin"
    assert env["LANG"] == "C.UTF-8"
    assert env["GLIBC_TUNABLES"] == QEMU_MALLOC_TUNABLES
    assert "glibc.malloc.mmap_threshold=" in QEMU_MALLOC_TUNABLES


def test_an_administrators_own_glibc_tunables_come_last_and_so_win() -> None:
    own = "glibc.malloc.trim_threshold=0"
    env = qemu_environment({"GLIBC_TUNABLES": own})
    assert env["GLIBC_TUNABLES"] == f"{QEMU_MALLOC_TUNABLES}:{own}"
