"""The VM as Proxmox defines it, with real QEMU, swtpm and OVMF: every drive kind backed up and
restored into a new VMID, the hardware keys applied at start, the others refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from respaldo.archive.compress import open_reader
from respaldo.archive.vma import parse_qmdump_map, read_header
from respaldo.qemu.qmp import Qmp
from tests.integration.backup_helpers import archives, write_patterns
from tests.integration.conftest import Cli

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(300)]

IMAGES = Path("storage/local/images")
OVMF_DIR = Path("/usr/share/OVMF")


@pytest.fixture
def node(cli: Cli) -> Iterator[Cli]:
    """The CLI on a fresh node; any swtpm a test leaves (QEMU never connected) is ended."""
    try:
        yield cli
    finally:
        for pidfile in (cli.home / "run" / "qemu").glob("*.swtpm.pid"):
            try:
                pid = int(pidfile.read_text())
                if b"swtpm" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                pass


def _config(cli: Cli, vmid: int) -> dict[str, str]:
    data: dict[str, str] = json.loads(
        cli.run("qm", "config", str(vmid), "--output-format", "json").stdout
    )
    return data


def _volume(cli: Cli, value: str) -> Path:
    return cli.home / IMAGES / value.split(",", maxsplit=1)[0].partition(":")[2]


def _identical(a: Path, b: Path) -> None:
    proc = subprocess.run(
        ["qemu-img", "compare", "-U", str(a), str(b)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, f"{a} vs {b}: {proc.stdout}{proc.stderr}"


def _archive_devices(archive: Path) -> tuple[list[str], dict[str, str]]:
    """The device names of an archive and its map lines (disk key -> device)."""
    with open_reader(archive) as stream:
        header = read_header(stream)
    maps = {m.disk_key: m.devname for m in parse_qmdump_map(header.config_text())}
    return [d.name for d in header.devices], maps


def _drive_lines_name_only(config: dict[str, str], vmid: int) -> None:
    """Every drive of ``vmid`` is a volume of ``vmid`` (or an empty CD-ROM)."""
    for key, value in config.items():
        if (
            key.startswith(("ide", "sata", "scsi", "virtio", "efidisk", "tpmstate"))
            and key[-1].isdigit()
        ):
            volume = value.split(",", maxsplit=1)[0]
            assert volume == "none" or volume.startswith(f"local:{vmid}/"), (key, value)


def test_the_issue_example_efi_vars_and_tpm_state_are_backed_up_and_restored(node: Cli) -> None:
    """Issue 10, example 1: a config appended by hand with an EFI disk and a TPM state."""
    cli = node
    cli.run("qm", "create", "9300", "--memory", "128", "--scsi0", "local:1")
    cli.run("pvesm", "alloc", "local", "9300", "vm-9300-disk-1.raw", "1M")
    cli.run("pvesm", "alloc", "local", "9300", "vm-9300-disk-2.raw", "4M")
    conf = cli.home / "config" / "qemu-server" / "9300.conf"
    conf.write_text(
        conf.read_text()
        + "bios: ovmf\n"
        + "efidisk0: local:9300/vm-9300-disk-1.raw,efitype=4m,pre-enrolled-keys=1,size=1M\n"
        + "tpmstate0: local:9300/vm-9300-disk-2.raw,size=4M,version=v2.0\n"
    )
    write_patterns(cli.home / IMAGES / "9300/vm-9300-disk-0.raw", "raw", ["write -P 0x5a 1M 64K"])
    out = cli.run("vzdump", "9300", "--storage", "local", "--compress", "zstd", timeout=180)
    log = out.stdout + out.stderr
    for key, volume in (
        ("scsi0", "local:9300/vm-9300-disk-0.raw"),
        ("efidisk0", "local:9300/vm-9300-disk-1.raw"),
        ("tpmstate0", "local:9300/vm-9300-disk-2.raw"),
    ):
        assert f"include disk '{key}' '{volume}'" in log
    [archive] = archives(cli)
    devices, maps = _archive_devices(archive)
    # PVE/VZDump/QemuServer.pm: sorted by key, the TPM state as drive-tpmstate0-backup
    assert devices == ["drive-efidisk0", "drive-scsi0", "drive-tpmstate0-backup"]
    assert maps == {
        "efidisk0": "drive-efidisk0",
        "scsi0": "drive-scsi0",
        "tpmstate0": "drive-tpmstate0-backup",
    }

    cli.run("qmrestore", f"local:backup/{archive.name}", "9301", timeout=120)
    old, new = _config(cli, 9300), _config(cli, 9301)
    _drive_lines_name_only(new, 9301)
    assert new["efidisk0"].endswith(",efitype=4m,pre-enrolled-keys=1,size=528K")
    assert new["tpmstate0"].endswith(",version=v2.0")
    for key in ("scsi0", "efidisk0", "tpmstate0"):
        _identical(_volume(cli, old[key]), _volume(cli, new[key]))


def _every_drive_kind_vm(cli: Cli) -> None:
    """VM 500: a disk on each bus (qcow2 and raw), an empty CD-ROM, OVMF on q35 with an EFI
    disk from the template with keys enrolled, a TPM 2.0, Proxmox's GUI defaults."""
    cli.run(
        "qm",
        "create",
        "500",
        "--name",
        "uefi",
        "--memory",
        "256",
        "--bios",
        "ovmf",
        "--machine",
        "q35",
        "--cpu",
        "x86-64-v2-AES",
        "--scsihw",
        "virtio-scsi-single",
        "--ostype",
        "l26",
        "--efidisk0",
        "local:1,efitype=4m,pre-enrolled-keys=1",
        "--tpmstate0",
        "local:1,version=v2.0",
        "--scsi0",
        "local:0.0625,format=qcow2,iothread=1,discard=on,ssd=1",
        "--virtio0",
        "local:0.0625",
        "--sata0",
        "local:0.0625",
        "--ide0",
        "local:0.0625",
        "--ide2",
        "none,media=cdrom",
        "--net0",
        "virtio,bridge=vmbr0",
    )
    config = _config(cli, 500)
    for key, fmt, pattern in (
        ("scsi0", "qcow2", 0x11),
        ("virtio0", "raw", 0x22),
        ("sata0", "raw", 0x33),
        ("ide0", "raw", 0x44),
    ):
        write_patterns(_volume(cli, config[key]), fmt, [f"write -P {pattern} 4M 1M"])


def test_every_drive_kind_into_a_new_vmid_byte_identical_and_it_starts(node: Cli) -> None:
    cli = node
    _every_drive_kind_vm(cli)
    source = _config(cli, 500)
    # the EFI disk is a copy of Debian's template with keys enrolled, sized as Proxmox sizes it
    assert source["efidisk0"] == (
        "local:500/vm-500-disk-4.raw,efitype=4m,pre-enrolled-keys=1,size=528K"
    )
    efivars = _volume(cli, source["efidisk0"])
    assert efivars.read_bytes() == (OVMF_DIR / "OVMF_VARS_4M.ms.fd").read_bytes()
    # allocated in Proxmox's drive order: ide, scsi, virtio, sata, efidisk0, tpmstate0
    assert source["tpmstate0"] == "local:500/vm-500-disk-5.raw,size=4M,version=v2.0"
    assert source["boot"] == "order=ide0;ide2;net0"  # qemu-server's default boot devices
    # a first start sets the TPM up (swtpm_setup); stopped again, the VM is backed up
    cli.run("qm", "start", "500")
    cli.run("qm", "stop", "500")
    tpm = _volume(cli, source["tpmstate0"])
    assert tpm.read_bytes()[:4] != b"\0\0\0\0"  # swtpm wrote its state

    out = cli.run("vzdump", "500", "--compress", "zstd", timeout=240)
    assert "exclude disk 'ide2' 'none' (CD-ROM)" in out.stdout + out.stderr
    [archive] = archives(cli)
    devices, _ = _archive_devices(archive)
    assert devices == [
        "drive-efidisk0",
        "drive-ide0",
        "drive-sata0",
        "drive-scsi0",
        "drive-tpmstate0-backup",
        "drive-virtio0",
    ]

    cli.run("qmrestore", str(archive), "510", timeout=180)
    restored = _config(cli, 510)
    _drive_lines_name_only(restored, 510)
    for key in ("efidisk0", "tpmstate0", "scsi0", "virtio0", "sata0", "ide0"):
        _identical(_volume(cli, source[key]), _volume(cli, restored[key]))
    assert restored["ide2"] == "none,media=cdrom"
    for key in ("bios", "machine", "cpu", "scsihw"):
        assert restored[key] == source[key]

    cli.run("qm", "start", "510")
    qmp_path = cli.home / "run" / "qemu" / "510.qmp"
    with Qmp(qmp_path, timeout=10) as qmp:
        [tpm_info] = qmp.execute("query-tpm")
        assert tpm_info["model"] == "tpm-tis" and tpm_info["options"]["type"] == "emulator"
        nodes = {n["node-name"]: n for n in qmp.execute("query-named-block-nodes", {"flat": True})}
        assert qmp.execute("query-status")["status"] == "running"
    assert nodes["pflash0"]["file"] == str(OVMF_DIR / "OVMF_CODE_4M.secboot.fd")
    assert nodes["pflash0"]["ro"] is True
    assert nodes["file-efidisk0"]["file"] == str(_volume(cli, restored["efidisk0"]))
    pid = int((cli.home / "run" / "qemu" / "510.pid").read_text())
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    machine = argv[argv.index(b"-machine") + 1].decode()
    assert machine == "type=pc-q35-7.2,pflash0=pflash0,pflash1=drive-efidisk0"
    cpu = argv[argv.index(b"-cpu") + 1].decode()
    assert cpu == "qemu64,+aes,+pni,+popcnt,+sse4.1,+sse4.2,+ssse3"
    swtpm_pid = int((cli.home / "run" / "qemu" / "510.swtpm.pid").read_text())
    state = str(_volume(cli, restored["tpmstate0"])).encode()
    assert state in Path(f"/proc/{swtpm_pid}/cmdline").read_bytes()
    cli.run("qm", "stop", "510")
    assert (
        not Path(f"/proc/{swtpm_pid}").exists()
        or b"swtpm" not in Path(f"/proc/{swtpm_pid}/cmdline").read_bytes()
    )


def test_a_running_vm_with_a_tpm_is_backed_up_live(node: Cli) -> None:
    """Snapshot mode: the TPM state, which swtpm holds, is attached read-only for the backup
    and removed from QEMU afterwards."""
    cli = node
    _every_drive_kind_vm(cli)
    started = cli.run("qm", "start", "500").stdout
    # the GUI's iothread=1 runs in QEMU's main loop: QEMU 7.2 aborts when a backup's NBD
    # client of a disk in an I/O thread disconnects
    assert "WARN: scsi0: iothread=1 is not applied" in started
    cli.run("vzdump", "500", "--mode", "snapshot", timeout=240)
    [archive] = archives(cli)
    devices, _ = _archive_devices(archive)
    assert "drive-tpmstate0-backup" in devices and "drive-efidisk0" in devices
    with Qmp(cli.home / "run" / "qemu" / "500.qmp", timeout=10) as qmp:
        names = [n["node-name"] for n in qmp.execute("query-named-block-nodes", {"flat": True})]
        assert qmp.execute("query-tpm")  # the VM's TPM is still there
    assert "drive-tpmstate0-backup" not in names
    assert not any(name.startswith("fleece-") for name in names)
    assert "status: running" in cli.run("qm", "status", "500").stdout
    cli.run("qm", "stop", "500")


def test_an_efi_disk_of_a_seabios_vm_is_left_out_and_commented_on_restore(node: Cli) -> None:
    """qemu-server's get_backup_volumes: 'efidisk but no OVMF BIOS'; the restored config
    names no volume of the other VM."""
    cli = node
    cli.run("qm", "create", "600", "--memory", "64", "--virtio0", "local:0.0625")
    cli.run("qm", "set", "600", "--efidisk0", "local:1")
    out = cli.run("vzdump", "600", timeout=120)
    assert "exclude disk 'efidisk0' 'local:600/vm-600-disk-1.raw' (efidisk but no OVMF BIOS)" in (
        out.stdout + out.stderr
    )
    [archive] = archives(cli)
    cli.run("qmrestore", str(archive), "601", timeout=120)
    config = _config(cli, 601)
    assert "efidisk0" not in config
    assert "efidisk0: local:600/vm-600-disk-1.raw" in config["description"]


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ("hostpci0: 0000:01:00.0", "hostpci0: PCI passthrough is not supported"),
        ("numa: 1", "numa: NUMA topologies are not supported"),
        ("cpu: host", "invalid value for cpu 'host': the 'host' CPU model needs KVM"),
        ("vga: qxl", "vga: SPICE and VirGL displays are not supported"),
        ("machine: pc-q35-9.2+pve1", "invalid value for machine 'pc-q35-9.2+pve1'"),
        ("hugepages: 2", "hugepages: hugepages are not supported"),
        ("colour: red", "colour: unknown to respaldo"),
    ],
)
def test_keys_respaldo_cannot_apply_are_refused_at_start_naming_them(
    node: Cli, line: str, named: str
) -> None:
    cli = node
    cli.run("qm", "create", "700", "--memory", "64")
    conf = cli.home / "config" / "qemu-server" / "700.conf"
    conf.write_text(conf.read_text() + line + "\n")
    stderr = cli.fails("qm", "start", "700")
    assert named in stderr
    assert "status: stopped" in cli.run("qm", "status", "700").stdout


def test_hardware_options_of_the_gui_are_accepted_by_qm_create(node: Cli) -> None:
    """Issue 10, example 2: --cpu host, --scsihw virtio-scsi-single, --bios ovmf and
    --machine q35 are taken (a config holding them is valid); under TCG, 'host' is refused at
    start, naming the key."""
    cli = node
    cli.run(
        "qm",
        "create",
        "800",
        "--memory",
        "64",
        "--cpu",
        "host",
        "--scsihw",
        "virtio-scsi-single",
        "--bios",
        "ovmf",
        "--machine",
        "q35",
    )
    config = _config(cli, 800)
    assert (config["cpu"], config["scsihw"], config["bios"], config["machine"]) == (
        "host",
        "virtio-scsi-single",
        "ovmf",
        "q35",
    )
    assert "invalid value for cpu 'host': the 'host' CPU model needs KVM" in cli.fails(
        "qm", "start", "800"
    )


@pytest.mark.parametrize(
    "lines",
    [
        # a Windows guest on q35 with an Intel vIOMMU: pinned machine, Hyper-V flags off (TCG)
        "ostype: win10\nmachine: q35,viommu=intel\nide2: none,media=cdrom\n",
        # every SCSI controller but virtio's, disk properties that reach the devices
        "scsihw: megasas\n"
        "scsi0: local:0.0625,ssd=1,wwn=0x5000c500a1b2c3d4,vendor=ACME,product=Disk,"
        "serial=AB%2C12,cache=writeback,discard=on,rerror=report,werror=enospc\n",
        "scsihw: pvscsi\nscsi0: local:0.0625\n",
        "scsihw: lsi53c810\nscsi0: local:0.0625\nide0: local:0.0625,model=Fast%20Disk\n"
        "sata3: local:0.0625,cache=directsync\n",
        # devices and the clock
        "watchdog: ib700,action=poweroff\nrng0: source=/dev/urandom\nvga: vmware,memory=32\n"
        "keyboard: de\nreboot: 0\ntablet: 0\nballoon: 0\nacpi: 0\nstartdate: 2006-06-17\n"
        "smbios1: base64=1,manufacturer=QWNtZSwgSW5jLg==\nallow-ksm: 0\nagent: 1,type=isa\n"
        "cores: 2\nsockets: 2\nvcpus: 3\ncpu: Opteron_G5,flags=+pdpe1gb\n",
    ],
)
def test_qemu_starts_with_the_hardware_keys_applied(node: Cli, lines: str) -> None:
    cli = node
    cli.run("qm", "create", "900", "--memory", "64")
    for line in lines.splitlines():
        key, _, value = line.partition(": ")
        cli.run("qm", "set", "900", f"--{key}", value)
    cli.run("qm", "start", "900")
    with Qmp(cli.home / "run" / "qemu" / "900.qmp", timeout=10) as qmp:
        assert qmp.execute("query-status")["status"] == "running"
    cli.run("qm", "stop", "900")
