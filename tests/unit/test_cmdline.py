"""The QEMU command line a VM config turns into (no process started).

Expected values are qemu-server's: its ``src/test/cfg2cmd/*.conf.cmd`` files show what
``config_to_command`` gives for a config; respaldo gives the same values where upstream QEMU
takes them (no ``+pve`` machine revisions, user-mode networking, auto-assigned PCI slots).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from respaldo.config.vmconfig import VmConfig
from respaldo.errors import InputError
from respaldo.qemu.cmdline import (
    QEMU_MALLOC_TUNABLES,
    HostFacts,
    ResolvedDrive,
    RuntimePaths,
    build_argv,
    qemu_environment,
    smbios_argument,
)
from respaldo.qemu.firmware import OvmfImages

PATHS = RuntimePaths(
    Path("/r/100.pid"),
    Path("/r/100.qmp"),
    Path("/r/100.qmp-job"),
    Path("/r/100.qga"),
    Path("/l/100.serial.log"),
    Path("/r/100.swtpm"),
    Path("/r/100.swtpm.pid"),
    Path("/l/100-swtpm.log"),
    Path("/r/100-ovmf.fd"),
)
MACHINES = {
    "pc": "pc-i440fx-7.2",
    "pc-i440fx-7.2": "pc-i440fx-7.2",
    "pc-i440fx-5.1": "pc-i440fx-5.1",
    "q35": "pc-q35-7.2",
    "pc-q35-7.2": "pc-q35-7.2",
    "pc-q35-5.1": "pc-q35-5.1",
}
MODELS = frozenset({"kvm64", "qemu64", "max", "Icelake-Server", "EPYC", "Opteron_G5"})


class VarsTemplate(OvmfImages):
    @property
    def vars_size(self) -> int:
        return 540672


OVMF = VarsTemplate(Path("/fw/OVMF_CODE_4M.secboot.fd"), Path("/fw/OVMF_VARS_4M.ms.fd"))

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
scsihw: virtio-scsi-pci
args: -kernel /boot/vmlinuz -append "console=ttyS0 quiet"
"""


def _argv(
    text: str = CONFIG, kvm: bool = False, paused: bool = False, ovmf: OvmfImages | None = None
) -> list[str]:
    config = VmConfig.parse(100, text)
    drives = []
    for d in config.drives():
        path = None if d.volume == "none" else Path(f"/img/{d.key}")
        fmt = "qcow2" if d.volume.endswith(".qcow2") else "raw"
        drives.append(ResolvedDrive(d, path, fmt))
    host = HostFacts(MACHINES, MODELS, ovmf, "vmx")
    return build_argv(
        "qemu-system-x86_64", config, drives, PATHS, kvm=kvm, host=host, paused=paused
    )


def _values(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def _one(argv: list[str], flag: str) -> str:
    [value] = _values(argv, flag)
    return value


def test_machine_cpu_memory_and_accelerator() -> None:
    argv = _argv()
    assert _values(argv, "-accel") == ["tcg"]
    assert _one(argv, "-m") == "1024"
    assert _one(argv, "-smp") == "4,sockets=2,cores=2,maxcpus=4"
    assert _one(argv, "-machine") == "type=pc-i440fx-7.2"
    assert _one(argv, "-cpu") == "qemu64"  # TCG: Proxmox's default for kvm: 0
    assert "-daemonize" in argv and "-S" not in argv
    assert _values(_argv(kvm=True), "-accel") == ["kvm"]
    assert _one(_argv(kvm=True), "-cpu") == "kvm64,enforce,+kvm_pv_eoi,+kvm_pv_unhalt,+lahf_lm,+sep"
    assert "-S" in _argv(paused=True)
    assert "-S" in _argv(CONFIG + "freeze: 1\n")


def test_block_nodes_have_stable_names_and_proxmox_defaults() -> None:
    nodes = [json.loads(v) for v in _values(_argv(), "-blockdev")]
    formats = {n["node-name"]: n for n in nodes if n["driver"] != "file"}
    assert set(formats) == {"drive-scsi0", "drive-virtio1", "drive-sata2"}
    assert formats["drive-virtio1"]["driver"] == "raw"
    assert formats["drive-scsi0"]["file"] == "file-scsi0"
    # qemu-server's defaults: no discard unless discard=on, zero writes detected
    assert formats["drive-scsi0"]["discard"] == "ignore"
    assert formats["drive-scsi0"]["detect-zeroes"] == "on"
    files = {n["node-name"]: n["filename"] for n in nodes if n["driver"] == "file"}
    assert files["file-scsi0"] == "/img/scsi0"


def test_devices_buses_and_boot_order() -> None:
    devices = _values(_argv(), "-device")
    assert "virtio-scsi-pci,id=scsihw0" in devices
    assert "ahci,id=ahci0,multifunction=on" in devices
    assert (
        "scsi-hd,bus=scsihw0.0,channel=0,scsi-id=0,lun=0,drive=drive-scsi0,id=scsi0,"
        "bootindex=101,write-cache=on"
    ) in devices
    assert "virtio-blk-pci,drive=drive-virtio1,id=virtio1,bootindex=100,write-cache=on" in devices
    assert "ide-hd,bus=ahci0.2,drive=drive-sata2,id=sata2,write-cache=on" in devices
    assert "ide-cd,bus=ide.1,unit=0,id=ide2" in devices
    assert "e1000,mac=BC:24:11:00:00:01,netdev=net0,id=net0" in devices
    # and as Proxmox adds them: USB tablet, standard VGA, the balloon device
    assert "usb-tablet,id=tablet,bus=uhci.0,port=1" in devices
    assert "VGA,id=vga" in devices
    assert "virtio-balloon-pci,id=balloon0,free-page-reporting=on" in devices


@pytest.mark.parametrize(
    ("scsihw", "devices"),
    [
        # scsihw-lsi.conf: 7 disks per controller, the unit as scsi-id
        (
            "lsi",
            [
                "lsi,id=scsihw0",
                "scsi-hd,bus=scsihw0.0,scsi-id=0,drive=drive-scsi0,id=scsi0,write-cache=on",
                "lsi,id=scsihw1",
                "scsi-hd,bus=scsihw1.0,scsi-id=2,drive=drive-scsi9,id=scsi9,write-cache=on",
            ],
        ),
        # scsihw-virtio-scsi-single.conf: one controller per disk, the index as LUN
        (
            "virtio-scsi-single",
            [
                "virtio-scsi-pci,id=virtioscsi0",
                "scsi-hd,bus=virtioscsi0.0,channel=0,scsi-id=0,lun=0,drive=drive-scsi0,id=scsi0,"
                "write-cache=on",
                "virtio-scsi-pci,id=virtioscsi9",
                "scsi-hd,bus=virtioscsi9.0,channel=0,scsi-id=0,lun=9,drive=drive-scsi9,id=scsi9,"
                "write-cache=on",
            ],
        ),
    ],
)
def test_scsi_controllers_as_proxmox(scsihw: str, devices: list[str]) -> None:
    text = (
        f"scsihw: {scsihw}\nscsi0: local:100/vm-100-disk-0.raw\n"
        "scsi9: local:100/vm-100-disk-1.raw\n"
    )
    got = [d for d in _values(_argv(text), "-device") if d.startswith(("scsi", "lsi", "virtio-s"))]
    assert got == devices


def test_a_config_without_scsihw_gets_proxmoxs_default_lsi() -> None:
    devices = _values(_argv("scsi0: local:100/vm-100-disk-0.raw\n"), "-device")
    assert "lsi,id=scsihw0" in devices


def test_drive_options_reach_the_devices() -> None:
    text = (
        "scsihw: virtio-scsi-single\n"
        "scsi0: local:100/vm-100-disk-0.raw,cache=writethrough,discard=on,ssd=1,"
        "serial=ab%2Ccd,iothread=1,queues=4\n"
        "virtio1: local:100/vm-100-disk-1.raw,iothread=1,ro=1\n"
    )
    argv = _argv(text)
    devices = _values(argv, "-device")
    # iothread=1 is not applied (see respaldo.qemu.support.notices)
    assert "virtio-scsi-pci,id=virtioscsi0,num_queues=4" in devices
    assert (
        "scsi-hd,bus=virtioscsi0.0,channel=0,scsi-id=0,lun=0,drive=drive-scsi0,id=scsi0,"
        "rotation_rate=1,serial=ab,,cd,write-cache=off"
    ) in devices
    assert "virtio-blk-pci,drive=drive-virtio1,id=virtio1,write-cache=on" in devices
    assert not any(o.startswith("iothread") for o in _values(argv, "-object"))
    nodes = {n["node-name"]: n for n in map(json.loads, _values(argv, "-blockdev"))}
    assert nodes["drive-scsi0"]["discard"] == "unmap"
    assert nodes["drive-scsi0"]["detect-zeroes"] == "unmap"
    assert nodes["drive-virtio1"]["read-only"] is True


def test_ide_on_q35_uses_one_unit_per_port() -> None:
    """q35-ide.conf: ide1 and ide3 move up by two ports."""
    text = "machine: q35\n" + "".join(f"ide{n}: local:100/vm-100-disk-{n}.raw\n" for n in range(4))
    devices = [d for d in _values(_argv(text), "-device") if d.startswith("ide-hd")]
    assert [d.split(",")[1] for d in devices] == [
        "bus=ide.0",
        "bus=ide.2",
        "bus=ide.1",
        "bus=ide.3",
    ]


def test_agent_identity_and_extra_args() -> None:
    argv = _argv()
    assert "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0" in _values(argv, "-device")
    assert "type=1,uuid=3b2e1f0a-9c4d-4e8f-8a1b-2c3d4e5f6a7b" in _values(argv, "-smbios")
    assert "vmgenid,guid=9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d" in _values(argv, "-device")
    assert argv[-4:] == ["-kernel", "/boot/vmlinuz", "-append", "console=ttyS0 quiet"]
    isa = _values(_argv("agent: 1,type=isa\n"), "-device")
    assert "isa-serial,chardev=qga0" in isa


def test_smbios1_base64_fields_are_decoded_and_commas_doubled() -> None:
    # "Acme, Inc." and "Server"
    value = (
        "base64=1,manufacturer=QWNtZSwgSW5jLg==,product=U2VydmVy,"
        "uuid=7b10d7af-b932-4c66-b2c3-3996152ec465"
    )
    assert smbios_argument(value) == (
        "type=1,manufacturer=Acme,, Inc.,product=Server,uuid=7b10d7af-b932-4c66-b2c3-3996152ec465"
    )


def test_efi_secboot_and_tpm_on_q35() -> None:
    """efi-secboot-and-tpm-q35.conf: OVMF code read-only as pflash0, the EFI disk as pflash1
    (raw: sized to the variables template), the TPM through swtpm's socket."""
    text = (
        "bios: ovmf\nmachine: q35\n"
        "efidisk0: local:100/vm-100-disk-0.raw,efitype=4m,pre-enrolled-keys=1,size=528K\n"
        "tpmstate0: local:100/vm-100-disk-1.raw,size=4M,version=v2.0\n"
    )
    argv = _argv(text, ovmf=OVMF)
    nodes = {n["node-name"]: n for n in map(json.loads, _values(argv, "-blockdev"))}
    assert nodes["pflash0"] == {
        "driver": "raw",
        "file": {"driver": "file", "filename": "/fw/OVMF_CODE_4M.secboot.fd"},
        "node-name": "pflash0",
        "read-only": True,
    }
    assert nodes["drive-efidisk0"]["size"] == 540672
    assert nodes["file-efidisk0"]["filename"] == "/img/efidisk0"
    assert nodes["drive-efidisk0"]["cache"] == {"direct": False, "no-flush": False}
    assert _one(argv, "-machine") == "type=pc-q35-7.2,pflash0=pflash0,pflash1=drive-efidisk0"
    assert "socket,id=tpmchar,path=/r/100.swtpm" in _values(argv, "-chardev")
    assert _one(argv, "-tpmdev") == "emulator,id=tpmdev,chardev=tpmchar"
    assert "tpm-tis,tpmdev=tpmdev" in _values(argv, "-device")
    assert "ich9-usb-ehci1,id=ehci" in _values(argv, "-device")
    assert "usb-tablet,id=tablet,bus=ehci.0,port=1" in _values(argv, "-device")
    # neither drive is a device on a disk bus
    assert not any("efidisk0" in d or "tpmstate0" in d for d in _values(argv, "-device"))


def test_ovmf_without_efidisk_runs_on_a_copy_of_the_template() -> None:
    """efi-ovmf-without-efidisk.conf: a temporary vars file as pflash1."""
    argv = _argv("bios: ovmf\n", ovmf=OVMF)
    nodes = {n["node-name"]: n for n in map(json.loads, _values(argv, "-blockdev"))}
    assert nodes["file-efidisk0"]["filename"] == "/r/100-ovmf.fd"
    assert _one(argv, "-machine") == "type=pc-i440fx-7.2,pflash0=pflash0,pflash1=drive-efidisk0"


def test_a_tpm_state_must_be_raw() -> None:
    with pytest.raises(InputError, match=r"tpmstate0.*raw"):
        _argv("tpmstate0: local:100/vm-100-disk-1.qcow2,version=v2.0\n")


@pytest.mark.parametrize(
    ("config", "cpu"),
    [
        # os-solaris.conf
        ("ostype: solaris\n", "kvm64,enforce,+kvm_pv_eoi,+kvm_pv_unhalt,+lahf_lm,+sep,-x2apic"),
        # cputype-icelake-client-deprecation.conf
        (
            "cpu: Icelake-Client\nostype: l26\n",
            "Icelake-Server,enforce,+kvm_pv_eoi,+kvm_pv_unhalt,vendor=GenuineIntel",
        ),
        # q35-viommu-intel-guest-phys-bits.conf
        ("cpu: host,guest-phys-bits=39\n", "host,+kvm_pv_eoi,+kvm_pv_unhalt,guest-phys-bits=39"),
        # i440fx-win10-hostpci.conf (the machine pinned to 5.1)
        (
            "ostype: win10\n",
            "kvm64,enforce,hv_ipi,hv_relaxed,hv_reset,hv_runtime,hv_spinlocks=0x1fff,hv_stimer,"
            "hv_synic,hv_time,hv_vapic,hv_vpindex,+kvm_pv_eoi,+kvm_pv_unhalt,+lahf_lm,+sep",
        ),
        (
            "cpu: x86-64-v2-AES\n",
            "qemu64,+aes,enforce,+kvm_pv_eoi,+kvm_pv_unhalt,+pni,+popcnt,+sse4.1,+sse4.2,+ssse3",
        ),
        (
            "cpu: kvm64,flags=+nested-virt;-pcid\n",
            "kvm64,enforce,+kvm_pv_eoi,+kvm_pv_unhalt,+lahf_lm,-pcid,+sep,+vmx",
        ),
        (
            "cpu: EPYC,hidden=1,level=30\n",
            "EPYC,level=30,enforce,kvm=off,+kvm_pv_eoi,+kvm_pv_unhalt,vendor=AuthenticAMD",
        ),
        (
            "cpu: Opteron_G5,phys-bits=host\n",
            "Opteron_G5,enforce,+kvm_pv_eoi,+kvm_pv_unhalt,-rdtscp,vendor=AuthenticAMD,host-phys-bits=true",
        ),
    ],
)
def test_cpu_under_kvm_as_proxmox(config: str, cpu: str) -> None:
    assert _one(_argv(config, kvm=True), "-cpu") == cpu


def test_cpu_under_tcg() -> None:
    """Without KVM: no enforce and no paravirtual flags; the built-in models' flags stay."""
    assert _one(_argv("cpu: x86-64-v2-AES\n"), "-cpu") == (
        "qemu64,+aes,+pni,+popcnt,+sse4.1,+sse4.2,+ssse3"
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("cpu: host\n", "the 'host' CPU model needs KVM"),
        ("cpu: SapphireRapids\n", "this QEMU has no CPU model 'SapphireRapids'"),
        ("cpu: custom-mine\n", "custom CPU models"),
        ("machine: pc-q35-9.2+pve1\n", "this QEMU does not have it"),
        ("machine: pc-i440fx-7.2.pxe\n", ".pxe"),
        ("machine: pc,viommu=intel\n", "needs a q35 machine"),
        ("machine: q35,viommu=virtio,aw-bits=48\n", "has no aw-bits"),
    ],
)
def test_what_this_qemu_cannot_run_is_refused_naming_the_key(config: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        _argv(config)
    assert info.value.name.startswith(config.split(":", maxsplit=1)[0])


@pytest.mark.parametrize(
    ("config", "machine", "globals_", "rtc"),
    [
        ("machine: q35\n", "type=pc-q35-7.2", [], None),
        ("machine: pc-q35-7.2+pve0\n", "type=pc-q35-7.2", [], None),
        # Windows guests: pinned to 5.1, HPET off, PIT ticks discarded, local time with slew
        (
            "ostype: win10\n",
            "type=pc-i440fx-5.1,hpet=off",
            ["kvm-pit.lost_tick_policy=discard"],
            "driftfix=slew,base=localtime",
        ),
        (
            "ostype: win10\nmeta: creation-qemu=9.2.0,ctime=1\n",
            "type=pc-i440fx-7.2,hpet=off",
            ["kvm-pit.lost_tick_policy=discard"],
            "driftfix=slew,base=localtime",
        ),
        (
            "machine: q35,enable-s3=0,enable-s4=0\n",
            "type=pc-q35-7.2",
            ["ICH9-LPC.disable_s3=1", "ICH9-LPC.disable_s4=1"],
            None,
        ),
        (
            "acpi: 0\nlocaltime: 1\nstartdate: 2006-06-17\n",
            "type=pc-i440fx-7.2,acpi=off",
            [],
            "base=2006-06-17",
        ),
        ("machine: q35,viommu=intel\n", "type=pc-q35-7.2,kernel-irqchip=split", [], None),
    ],
)
def test_machine_and_clock(config: str, machine: str, globals_: list[str], rtc: str | None) -> None:
    argv = _argv(config)
    assert _one(argv, "-machine") == machine
    assert _values(argv, "-global") == globals_
    assert _values(argv, "-rtc") == ([rtc] if rtc else [])


def test_legacy_boot_order() -> None:
    """bootorder-legacy.conf: ``boot: ndca`` with ``bootdisk: virtio1``: net0 100, the CD-ROM
    200, and the boot disk counted among the disks in Proxmox's drive order (302)."""
    text = (
        "boot: ndca\nbootdisk: virtio1\nide2: none,media=cdrom\n"
        "net0: virtio=A2:C0:43:77:08:A0,bridge=vmbr0\n"
        "scsi4: local:8006/vm-8006-disk-0.qcow2,discard=on,size=104858K\n"
        "virtio0: local:8006/vm-8006-disk-0.qcow2,discard=on,iothread=1,size=104858K\n"
        "virtio1: local:8006/vm-8006-disk-0.qcow2,discard=on,iothread=1,size=104858K\n"
    )
    devices = _values(_argv(text), "-device")
    assert "ide-cd,bus=ide.1,unit=0,id=ide2,bootindex=200" in devices
    assert ("virtio-blk-pci,drive=drive-virtio1,id=virtio1,bootindex=302,write-cache=on") in devices
    assert "virtio-net-pci,mac=A2:C0:43:77:08:A0,netdev=net0,id=net0,bootindex=100" in devices


def test_other_devices() -> None:
    text = (
        "vga: vmware,memory=32\nwatchdog: ib700,action=poweroff\nrng0: source=/dev/urandom\n"
        "balloon: 0\ntablet: 0\nreboot: 0\nkeyboard: de\nallow-ksm: 0\n"
        "net0: virtio=BC:24:11:00:00:01,queues=4\n"
    )
    argv = _argv(text)
    devices = _values(argv, "-device")
    assert "vmware-svga,id=vga,vgamem_mb=32" in devices
    assert "ib700" in devices and _one(argv, "-watchdog-action") == "poweroff"
    assert "rng-random,filename=/dev/urandom,id=rng0" in _values(argv, "-object")
    assert "virtio-rng-pci,rng=rng0,max-bytes=1024,period=1000" in devices
    assert not any(d.startswith(("virtio-balloon", "usb-tablet")) for d in devices)
    assert "-no-reboot" in argv and _one(argv, "-k") == "de"
    assert _one(argv, "-machine") == "type=pc-i440fx-7.2,mem-merge=off"
    assert (
        "virtio-net-pci,mac=BC:24:11:00:00:01,netdev=net0,id=net0,vectors=10,mq=on,bootindex=300"
        in devices
    )
    serial = _values(_argv("vga: serial0\n"), "-device")
    assert not any(d.startswith(("VGA", "usb-tablet")) for d in serial)


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
