"""Free text inside Proxmox's line-based files, encoded as pve-common encodes it.

pve-common's ``PVE::ParseUtils::encode_text`` (exported by ``PVE::Tools``) percent-encodes the
UTF-8 bytes of control characters, of anything above ``~`` and of ``%`` and ``:``; every other
printable ASCII character stays as it is. ``decode_text`` undoes any ``%XX`` and reads the bytes
as UTF-8 (a malformed sequence becomes U+FFFD, as Perl's ``Encode::decode`` does).

Proxmox encodes this way a VM's description (the comment lines of ``qemu-server/<vmid>.conf``,
one encoded line per description line) and the comments and names of ``user.cfg`` and
``jobs.cfg``.
"""

from __future__ import annotations

import re
import urllib.parse

_UNSAFE = re.compile(rb"[^\x20-\x24\x26-\x39\x3b-\x7e]")


def encode_text(text: str) -> str:
    """``Web server: prod`` -> ``Web server%3A prod``; ``café`` -> ``caf%C3%A9``."""
    raw = _UNSAFE.sub(lambda m: b"%%%02X" % m.group(0)[0], text.encode("utf-8"))
    return raw.decode("ascii")


def decode_text(text: str) -> str:
    """``Web server%3A prod`` -> ``Web server: prod``; text without ``%XX`` stays as it is."""
    return urllib.parse.unquote(text, encoding="utf-8", errors="replace")
