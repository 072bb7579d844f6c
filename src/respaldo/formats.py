"""Sizes and durations for people: the one place that formats them.

Log lines and mails follow Proxmox's vzdump (pve-manager ``PVE/VZDump.pm`` and
``PVE/VZDump/QemuServer.pm``): binary units (``1.5 GiB``), a job's time as ``HH:MM:SS``.
"""

from __future__ import annotations

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(size: float, decimals: int = 1) -> str:
    """Bytes in binary units: ``512`` -> ``512 B``, ``1536`` -> ``1.5 KiB`` (with
    ``decimals=2``: ``1320702444`` -> ``1.23 GiB``). Up to PiB; a byte count stays whole."""
    value = float(size)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{value:.0f} B" if unit == "B" else f"{value:.{decimals}f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def vzdump_size(size: int) -> str:
    """pve-manager ``PVE/VZDump.pm`` ``format_size``: whole ``KB`` and ``MB``, then ``GB``
    and ``TB`` with two decimals (``727392112`` -> ``693MB``), as "archive file size"."""
    kib = size / 1024
    if kib < 1024:
        return f"{int(kib)}KB"
    mib = kib / 1024
    if mib < 1024:
        return f"{int(mib)}MB"
    gib = mib / 1024
    if gib < 1024:
        return f"{gib:.2f}GB"
    return f"{gib / 1024:.2f}TB"


def clock_duration(seconds: float) -> str:
    """``HH:MM:SS``, cut to the second, as vzdump's "Finished Backup of VM 100 (00:00:12)"."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def hms_duration(seconds: float) -> str:
    """``H:MM:SS``, rounded to the second: ``5.2`` -> ``0:00:05``, ``3725`` -> ``1:02:05``
    (the TIME column of the status mail)."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def short_duration(seconds: float) -> str:
    """``1m 5s`` or ``7s``, cut to the second (progress lines: "in 1m 5s, ETA 7s")."""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"
