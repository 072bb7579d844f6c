"""The drives of a VM: every drive key Proxmox defines and the format of each drive's value.

Keys and formats as qemu-server's ``PVE/QemuServer/Drive.pm`` declares them: ``ide0..3``,
``sata0..5``, ``scsi0..30``, ``virtio0..15`` (disks and CD-ROMs the guest sees on a bus),
``efidisk0`` (the OVMF EFI variables) and ``tpmstate0`` (the state of the emulated TPM). A
drive's value is a property string whose default key is the volume (``file``, alias
``volume``): a volume id, an absolute path, ``none`` (an empty CD-ROM drive), or, when a new
disk is to be allocated, ``<storage>:<size in GiB>``.

:class:`Drive` reads a value leniently (any config file loads); :func:`check_drive` applies the
drive kind's format strictly, as ``qm set`` and ``qm start`` need.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from respaldo.config.propformat import PropertyFormat, property_format
from respaldo.config.propstring import parse_size
from respaldo.config.schema import (
    Param,
    boolean,
    integer,
    number,
    print_property_string,
    register_format,
    string,
)
from respaldo.errors import InputError

#: Drive interfaces and how many keys of each there are (``efidisk0``, ``tpmstate0``: one).
DRIVE_INTERFACES = {
    "ide": 4,
    "sata": 6,
    "scsi": 31,
    "virtio": 16,
    "efidisk": 1,
    "tpmstate": 1,
}
#: The interfaces whose drives the guest sees as disks or CD-ROMs on a bus.
DISK_BUSES = {
    bus: count for bus, count in DRIVE_INTERFACES.items() if bus not in ("efidisk", "tpmstate")
}
DRIVE_KEY = re.compile(r"^(ide|sata|scsi|virtio|efidisk|tpmstate)(\d+)$")
#: The size of a TPM state volume (``TPMSTATE_DISK_SIZE``): whatever size is asked for.
TPMSTATE_SIZE = 4 << 20
#: Proxmox's ``$NEW_DISK_RE``: ``[<storage>:]<size in GiB>`` asks for a new volume.
NEW_DISK = re.compile(r"^(?:([^/:\s]+):)?(\d+(?:\.\d+)?)$")
_CLOUDINIT = re.compile(r"[:/](?:vm-\d+-)?cloudinit(?:\.(?:raw|qcow|qcow2|qed|vmdk|cloop))?$")
_URLENCODED = re.compile(r"[-%a-zA-Z0-9_.!~*'()]*")


#: qemu-server's ``valid_drive_names`` order: how Proxmox walks a VM's drives.
DRIVE_ORDER = ("ide", "scsi", "virtio", "sata", "efidisk", "tpmstate")


def is_drive_key(key: str) -> bool:
    """``scsi0``, ``efidisk0``...: a drive key Proxmox defines (``scsi31`` is not one)."""
    match = DRIVE_KEY.match(key)
    if match is None:
        return False
    digits = match.group(2)
    return (digits == "0" or not digits.startswith("0")) and int(digits) < DRIVE_INTERFACES[
        match.group(1)
    ]


def drive_rank(key: str) -> tuple[int, int]:
    """Sort key of a drive key in :data:`DRIVE_ORDER` (ide0..3, scsi0..30, virtio0..15,
    sata0..5, efidisk0, tpmstate0)."""
    match = DRIVE_KEY.match(key)
    if match is None:
        raise InputError("drive", key, "not a drive key")
    return DRIVE_ORDER.index(match.group(1)), int(match.group(2))


@dataclass
class Drive:
    """A drive: its key, its volume and its other properties as written (text)."""

    key: str
    volume: str  # a volume id, an absolute path, "none", or "<storage>:<GiB>" (to allocate)
    props: dict[str, str]

    @classmethod
    def parse(cls, key: str, value: str) -> Drive:
        """Split a drive value; only its shape is checked (see :func:`check_drive`)."""
        props = _FORMATS["ide"].split(value, key) if value else {}
        volume = props.pop("file", None)
        if not volume:
            raise InputError(
                key, value, "a drive needs a volume (e.g. 'local:100/vm-100-disk-0.raw')"
            )
        return cls(key, volume, props)

    def format(self) -> str:
        """The value as qemu-server's ``print_drive`` writes it: the volume, then the other
        properties sorted by name."""
        return print_property_string({"file": self.volume, **self.props}, "file")

    @property
    def interface(self) -> str:
        """``ide``, ``sata``, ``scsi``, ``virtio``, ``efidisk`` or ``tpmstate``."""
        return DRIVE_KEY.match(self.key).group(1)  # type: ignore[union-attr]

    @property
    def bus(self) -> str:
        return self.interface

    @property
    def index(self) -> int:
        return int(DRIVE_KEY.match(self.key).group(2))  # type: ignore[union-attr]

    @property
    def is_cdrom(self) -> bool:
        return self.props.get("media") == "cdrom"

    @property
    def is_cloudinit(self) -> bool:
        """A cloud-init drive (``vm-100-cloudinit.qcow2``), Proxmox's ``drive_is_cloudinit``."""
        return bool(_CLOUDINIT.search(self.volume))

    @property
    def is_efidisk(self) -> bool:
        return self.interface == "efidisk"

    @property
    def is_tpmstate(self) -> bool:
        return self.interface == "tpmstate"

    @property
    def on_bus(self) -> bool:
        """Whether the guest sees the drive on a disk bus (not the EFI vars, not the TPM)."""
        return self.interface in DISK_BUSES

    @property
    def backup(self) -> bool:
        return self.props.get("backup", "1") not in ("0", "off", "no", "false")

    @property
    def size(self) -> int | None:
        size = self.props.get("size")
        return parse_size(size, f"{self.key} size") if size else None

    @property
    def rank(self) -> tuple[int, int]:
        return drive_rank(self.key)

    @property
    def backup_device(self) -> str:
        """The device name of the drive in a backup: ``drive-<key>``, but
        ``drive-tpmstate0-backup`` for the TPM state (PVE/VZDump/QemuServer.pm: that node
        exists in QEMU only for the backup)."""
        return "drive-tpmstate0-backup" if self.is_tpmstate else f"drive-{self.key}"

    @property
    def new_disk(self) -> tuple[str | None, str] | None:
        """``(storage or None, GiB as written)`` when the volume asks for a new disk."""
        match = NEW_DISK.match(self.volume)
        return (match.group(1), match.group(2)) if match else None


def check_drive(drive: Drive, allocate: bool = False) -> dict[str, object]:
    """The drive's properties, typed, once its kind's format accepts them (InputError naming
    the drive key otherwise). ``allocate``: the volume may be ``<storage>:<GiB>``."""
    text = drive.format()
    props = _FORMATS[drive.interface].parse(text, drive.key)
    volume = str(props["file"])
    if drive.new_disk is not None and not allocate:
        raise InputError(drive.key, text, "a new disk (<storage>:<size>) cannot be given here")
    if drive.is_cdrom:
        if drive.interface == "virtio":
            raise InputError(drive.key, text, "a CD-ROM cannot be a VirtIO drive")
        for refused in ("snapshot", "format"):
            if refused in props:
                raise InputError(drive.key, text, f"a CD-ROM takes no '{refused}'")
    elif volume in ("none", "cdrom"):
        raise InputError(drive.key, text, f"'{volume}' needs media=cdrom")
    for total, parts in (("mbps", ("mbps_rd", "mbps_wr")), ("iops", ("iops_rd", "iops_wr"))):
        if total in props and any(part in props for part in parts):
            raise InputError(drive.key, text, f"'{total}' excludes {' and '.join(parts)}")
    for key in props:
        needed = _REQUIRES.get(key)
        if needed and needed not in props:
            raise InputError(drive.key, text, f"'{key}' requires '{needed}'")
    return props


def _volume(text: str, key: str) -> str:
    """``pve-volume-id-or-qm-path``: a volume id, an absolute path, ``none``, ``cdrom``, or
    ``<storage>:<GiB>`` for a new disk."""
    if text in ("none", "cdrom") or text.startswith("/") or NEW_DISK.match(text):
        return text
    storage, sep, volname = text.partition(":")
    if not sep or not volname or not re.fullmatch(r"[a-z][a-z0-9._-]*[a-z0-9]", storage):
        raise InputError(
            key,
            text,
            "expected a volume id ('local:100/vm-100-disk-0.raw'), an absolute path, 'none', "
            "or '<storage>:<size in GiB>' for a new disk",
        )
    return text


def _urlencoded(text: str, key: str) -> str:
    if not _URLENCODED.fullmatch(text):
        raise InputError(key, text, "expected a URL-encoded string (%XX for other characters)")
    return text


register_format("pve-volume-id-or-qm-path", _volume, "<volume>")
register_format("urlencoded", _urlencoded, "<urlencoded string>")

_FILE = string("file", "The drive's backing volume.", format="pve-volume-id-or-qm-path")
_SIZE = string("size", "Disk size. This is purely informational.", format="disk-size")
_IMAGE_FORMATS = ("raw", "qcow", "qed", "qcow2", "vmdk", "cloop")
_FORMAT = string("format", "The drive's backing file's data format.", enum=_IMAGE_FORMATS)


def _throttle(name: str, kind: str, unit: str, minimum: int | None = None) -> Param:
    make = number if kind == "number" else integer
    return make(name, f"Maximum I/O ({unit}).", minimum=minimum)


_THROTTLES = tuple(
    _throttle(f"{stem}{part}{tail}", kind, unit, minimum)
    for stem, kind, unit in (
        ("bps", "integer", "bytes per second"),
        ("mbps", "number", "megabytes per second"),
        ("iops", "integer", "operations per second"),
    )
    for part in ("", "_rd", "_wr")
    for tail, minimum in (("", None), ("_max", None))
    if not (stem == "bps" and tail == "_max")
) + tuple(
    integer(f"{stem}{part}_max_length", "Maximum length of I/O bursts in seconds.", minimum=1)
    for stem in ("bps", "iops")
    for part in ("", "_rd", "_wr")
)
#: Names of the throttling properties (``mbps``, ``iops_rd_max``, ``bps_max_length``...).
THROTTLE_KEYS = frozenset(p.name for p in _THROTTLES)
_REQUIRES = {
    "mbps_max": "mbps",
    "mbps_rd_max": "mbps_rd",
    "mbps_wr_max": "mbps_wr",
    "iops_max": "iops",
    "iops_rd_max": "iops_rd",
    "iops_wr_max": "iops_wr",
    "bps_max_length": "mbps_max",
    "bps_rd_max_length": "mbps_rd_max",
    "bps_wr_max_length": "mbps_wr_max",
    "iops_max_length": "iops_max",
    "iops_rd_max_length": "iops_rd_max",
    "iops_wr_max_length": "iops_wr_max",
}
_BASE = (
    _FILE,
    string("media", "The drive's media type.", enum=("cdrom", "disk"), default="disk"),
    boolean("snapshot", "Controls qemu's snapshot mode feature."),
    string(
        "cache",
        "The drive's cache mode.",
        enum=("none", "writethrough", "writeback", "unsafe", "directsync"),
    ),
    _FORMAT,
    _SIZE,
    boolean("backup", "Whether the drive should be included when making backups."),
    boolean("replicate", "Whether the drive should considered for replication jobs."),
    string("rerror", "Read error action.", enum=("ignore", "report", "stop")),
    string("werror", "Write error action.", enum=("enospc", "ignore", "report", "stop")),
    string("aio", "AIO type to use.", enum=("native", "threads", "io_uring")),
    string("discard", "Pass discard/trim requests to the storage.", enum=("ignore", "on")),
    boolean("detect_zeroes", "Controls whether to detect and try to optimize writes of zeroes."),
    string(
        "serial",
        "The drive's reported serial number, url-encoded, up to 20 bytes long.",
        format="urlencoded",
        max_length=60,
    ),
    boolean("shared", "Mark this locally-managed volume as available on all nodes."),
    *_THROTTLES,
)
_IOTHREAD = boolean("iothread", "Whether to use iothreads for this drive.")
_SSD = boolean("ssd", "Expose this drive as an SSD, rather than a rotational hard disk.")
_WWN = string(
    "wwn", "The drive's worldwide name, 0x and 16 hex digits.", pattern=r"0x[0-9a-fA-F]{16}"
)
_RO = boolean("ro", "Whether the drive is read-only.")
_MODEL = string(
    "model",
    "The drive's reported model name, url-encoded, up to 40 bytes long.",
    format="urlencoded",
    max_length=120,
)
_SCSI_ONLY = (
    string("product", "The drive's product name.", pattern=r"[A-Za-z0-9\-_\s]{0,16}"),
    integer("queues", "Number of queues.", minimum=2),
    boolean("scsiblock", "Use scsi-block for full passthrough of a host block device."),
    string("vendor", "The drive's vendor name.", pattern=r"[A-Za-z0-9\-_\s]{0,8}"),
)
_EFITYPE = (
    string("efitype", "Size and type of the OVMF EFI vars.", enum=("2m", "4m"), default="2m"),
    boolean("pre-enrolled-keys", "Use an EFI vars template with keys enrolled (efitype=4m)."),
    string(
        "ms-cert",
        "Version of the latest Microsoft UEFI certificates enrolled.",
        enum=("2011", "2023", "2023w", "2023k"),
    ),
)
_TPM_VERSION = string(
    "version", "The TPM interface version.", enum=("v1.2", "v2.0"), default="v1.2"
)
_ALIASES = {
    "volume": "file",
    "bps_rd_length": "bps_rd_max_length",
    "bps_wr_length": "bps_wr_max_length",
    "iops_rd_length": "iops_rd_max_length",
    "iops_wr_length": "iops_wr_max_length",
}
_DROPPED = frozenset({"cyls", "heads", "secs", "trans"})


def _drive_format(name: str, *props: Param) -> PropertyFormat:
    return property_format(name, *props, default_key="file", aliases=_ALIASES, dropped=_DROPPED)


#: Each interface's format, as Drive.pm declares them.
_FORMATS: dict[str, PropertyFormat] = {
    "ide": _drive_format("pve-qm-ide", *_BASE, _MODEL, _SSD, _WWN),
    "sata": _drive_format("pve-qm-sata", *_BASE, _SSD, _WWN),
    "scsi": _drive_format("pve-qm-scsi", *_BASE, _IOTHREAD, *_SCSI_ONLY, _RO, _SSD, _WWN),
    "virtio": _drive_format("pve-qm-virtio", *_BASE, _IOTHREAD, _RO),
    "efidisk": _drive_format("pve-qm-efidisk", _FILE, _FORMAT, _SIZE, *_EFITYPE),
    "tpmstate": _drive_format(
        "pve-qm-tpmstate",
        _FILE,
        string("format", "The drive's data format.", enum=("raw", "qcow2", "vmdk")),
        _SIZE,
        _TPM_VERSION,
    ),
}


def drive_properties(interface: str) -> list[str]:
    """The property names a drive of ``interface`` takes (``file`` first)."""
    return [param.name for param in _FORMATS[interface].properties]
