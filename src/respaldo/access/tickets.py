"""Authentication tickets and CSRF prevention tokens, in Proxmox VE's formats.

Ticket (``pve-common/src/PVE/Ticket.pm``, ``PVE/AccessControl.pm``)::

    PVE:<data>:<time>::<signature>

``<data>`` is the userid with every ``:`` percent-encoded, ``<time>`` the creation time as 8
upper-case hex digits, and ``<signature>`` the base64 RSA signature (PKCS#1 v1.5, SHA-256) of
``PVE:<data>:<time>``. A ticket is valid from 5 minutes before its time (clock skew between
nodes) to 2 hours after it. The key pair is made at first use and replaced after 24 hours;
tickets signed with the previous key stay valid with ``authkey.pub.old`` until they expire, and
no ticket is older than the key that signed it (plus the 5 minutes).

CSRF prevention token::

    <time>:<base64 HMAC-SHA256 of "<time>:<username>">

keyed with the base64 HMAC-SHA256 (empty key) of the contents of ``priv/pve-www.key``; base64
without padding, as Perl's Digest::SHA writes it. Valid from 5 minutes before to 2 hours after
its time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from respaldo.access.store import AccessFiles
from respaldo.config.keyvalue import atomic_write_text
from respaldo.errors import ConfigError
from respaldo.locks import file_lock

TICKET_LIFETIME = 2 * 3600  # seconds
CLOCK_SKEW = 5 * 60  # seconds a ticket or CSRF token may come from the future
AUTHKEY_LIFETIME = 24 * 3600  # seconds before the signing key is replaced

Clock = Callable[[], float]


def ticket_age_range(now: int, key_mtime: int, rotated: bool) -> tuple[int, int] | None:
    """(exclusive minimum, exclusive maximum) age in seconds of a ticket the key of that mtime
    may have signed; None if it can have signed no valid ticket. ``rotated`` is for the
    previous key, which signed nothing since it was replaced."""
    key_age = max(now - key_mtime, 0)
    low, high = -CLOCK_SKEW, TICKET_LIFETIME
    if rotated:
        low = key_age - CLOCK_SKEW
    else:
        if key_age > AUTHKEY_LIFETIME:  # should have been replaced: trust it no further
            low = key_age - AUTHKEY_LIFETIME
        if key_age < TICKET_LIFETIME:
            high = key_age + CLOCK_SKEW
    if low > TICKET_LIFETIME:
        return None
    return low, high


def _sign(key: rsa.RSAPrivateKey, text: str) -> str:
    signature = key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def _signature_ok(key: rsa.RSAPublicKey, text: str, signature_b64: str) -> bool:
    try:
        signature = base64.b64decode(signature_b64)
        key.verify(signature, text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def assemble_rsa_ticket(
    key: rsa.RSAPrivateKey, prefix: str, data: str | None, now: int, secret_data: str | None = None
) -> str:
    """``<prefix>:[<data>:]<time>::<signature>``; ``secret_data`` is signed but not included."""
    plain = f"{prefix}:"
    if data is not None:
        plain += data.replace(":", "%3A") + ":"
    plain += f"{now:08X}"
    signed = plain if secret_data is None else f"{plain}:{secret_data}"
    return f"{plain}::{_sign(key, signed)}"


@dataclass(frozen=True)
class TicketData:
    data: str | None  # the userid, for PVE tickets
    age: int  # seconds since the ticket was made (negative: made on a clock ahead)


def verify_rsa_ticket(
    key: rsa.RSAPublicKey,
    prefix: str,
    ticket: str,
    now: int,
    age_range: tuple[int, int],
    secret_data: str | None = None,
) -> TicketData | None:
    """The data of a ticket signed by ``key`` whose age lies strictly inside ``age_range``."""
    match = re.fullmatch(rf"({re.escape(prefix)}:\S+)::([^:\s]+)", ticket)
    if not match:
        return None
    plain, signature = match.groups()
    signed = plain if secret_data is None else f"{plain}:{secret_data}"
    if not _signature_ok(key, signed, signature):
        return None
    inner = re.fullmatch(rf"{re.escape(prefix)}:(?:(\S+):)?([A-Z0-9]{{8}})", plain)
    if not inner:
        return None
    age = now - int(inner.group(2), 16)
    if not age_range[0] < age < age_range[1]:
        return None
    data = urllib.parse.unquote(inner.group(1)) if inner.group(1) is not None else None
    return TicketData(data, age)


@dataclass(frozen=True)
class _Loaded:
    mtime_ns: int
    key: rsa.RSAPublicKey | rsa.RSAPrivateKey


class AuthKeys:
    """The RSA key pair that signs tickets (``priv/authkey.key``, ``authkey.pub``), made at
    first use and replaced when it is 24 hours old, and the previous public key."""

    def __init__(self, files: AccessFiles, clock: Clock, bits: int = 2048) -> None:
        self.files = files
        self.clock = clock
        self.bits = bits
        self._cache: dict[Path, _Loaded] = {}

    def _load(self, path: Path) -> tuple[rsa.RSAPublicKey | rsa.RSAPrivateKey, int] | None:
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        cached = self._cache.get(path)
        if cached is None or cached.mtime_ns != st.st_mtime_ns:
            pem = path.read_bytes()
            try:
                if path == self.files.authkey_key:
                    key: rsa.RSAPublicKey | rsa.RSAPrivateKey = serialization.load_pem_private_key(
                        pem, password=None
                    )  # type: ignore[assignment]
                else:
                    key = serialization.load_pem_public_key(pem)  # type: ignore[assignment]
            except ValueError as err:
                raise ConfigError(path, 0, f"not an RSA key in PEM form: {err}") from err
            cached = _Loaded(st.st_mtime_ns, key)
            self._cache[path] = cached
        return cached.key, cached.mtime_ns // 1_000_000_000

    def public_key(self, old: bool = False) -> tuple[rsa.RSAPublicKey, int] | None:
        """(key, mtime in seconds) of the current or previous public key, None if missing."""
        loaded = self._load(self.files.authkey_pub_old if old else self.files.authkey_pub)
        if loaded is None or not isinstance(loaded[0], rsa.RSAPublicKey):
            return None
        return loaded[0], loaded[1]

    def private_key(self) -> rsa.RSAPrivateKey:
        """The signing key, made or replaced first if it is missing or too old."""
        loaded = self._load(self.files.authkey_key)
        if loaded is None or not self._current():
            with file_lock(self.files.node.lock_dir / "authkey.lock", "auth key"):
                if not self._current():  # another process may have replaced it meanwhile
                    self._rotate()
            loaded = self._load(self.files.authkey_key)
        if loaded is None or not isinstance(loaded[0], rsa.RSAPrivateKey):
            raise ConfigError(self.files.authkey_key, 0, "no RSA private key")
        return loaded[0]

    def _current(self) -> bool:
        """Whether the key pair exists and is young enough to sign."""
        pub = self.public_key()
        if pub is None or not self.files.authkey_key.exists():
            return False
        now = int(self.clock())
        mtime = pub[1]
        if now - mtime >= AUTHKEY_LIFETIME:
            return False
        if mtime > now + CLOCK_SKEW:  # made on a clock that ran ahead
            old = self.public_key(old=True)
            return old is not None and 0 <= mtime - old[1] < TICKET_LIFETIME
        return True

    def _rotate(self) -> None:
        old = self.public_key()
        new = rsa.generate_private_key(public_exponent=65537, key_size=self.bits)
        if old is not None:
            atomic_write_text(self.files.authkey_pub_old, _public_pem(old[0]))
        atomic_write_text(self.files.authkey_pub, _public_pem(new.public_key()))
        private_pem = new.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode("ascii")
        self.files.write_private(self.files.authkey_key, private_pem)
        now = self.clock()  # key ages count on the clock that judges tickets
        stamped = [self.files.authkey_pub, self.files.authkey_key]
        if old is not None:
            stamped.append(self.files.authkey_pub_old)  # when it stopped signing
        for path in stamped:
            os.utime(path, (now, now))

    def assemble_ticket(self, data: str) -> str:
        """A ``PVE:`` ticket for ``data`` (a userid), made now."""
        return assemble_rsa_ticket(self.private_key(), "PVE", data, int(self.clock()))

    def verify_ticket(self, ticket: str) -> TicketData | None:
        """The data of a valid ``PVE:`` ticket (current key first, then the previous one)."""
        now = int(self.clock())
        for old in (False, True):
            pub = self.public_key(old)
            if pub is None:
                continue
            age_range = ticket_age_range(now, pub[1], rotated=old)
            if age_range is None:
                continue
            found = verify_rsa_ticket(pub[0], "PVE", ticket, now, age_range)
            if found is not None:
                return found
        return None


def _public_pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


# -- CSRF prevention tokens ---------------------------------------------------------------------


def _hmac_b64(key: bytes, message: bytes) -> str:
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii").rstrip("=")


def assemble_csrf_token(secret: str, username: str, now: int) -> str:
    stamp = f"{now:08X}"
    signature = _hmac_b64(secret.encode("ascii"), f"{stamp}:{username}".encode())
    return f"{stamp}:{signature}"


def verify_csrf_token(secret: str, username: str, token: str, now: int) -> bool:
    match = re.fullmatch(r"([A-Z0-9]{8}):(\S+)", token)
    if not match:
        return False
    stamp, signature = match.groups()
    expected = _hmac_b64(secret.encode("ascii"), f"{stamp}:{username}".encode())
    age = now - int(stamp, 16)
    return hmac.compare_digest(expected, signature) and -CLOCK_SKEW < age < TICKET_LIFETIME


class CsrfSecret:
    """The key of CSRF prevention tokens, derived from ``priv/pve-www.key`` (made at first use:
    64 random bytes, hex)."""

    def __init__(self, files: AccessFiles, clock: Clock) -> None:
        self.files = files
        self.clock = clock
        self._secret: str | None = None

    def secret(self) -> str:
        if self._secret is None:
            self._secret = _hmac_b64(b"", self._read() or self._create())
        return self._secret

    def _read(self) -> bytes | None:
        try:
            return self.files.www_key.read_bytes()
        except FileNotFoundError:
            return None

    def _create(self) -> bytes:
        with file_lock(self.files.node.lock_dir / "authkey.lock", "auth key"):
            raw = self._read()  # another process may have made it meanwhile
            if raw is None:
                raw = (secrets.token_hex(64) + "\n").encode("ascii")
                self.files.write_private(self.files.www_key, raw.decode("ascii"))
            return raw

    def assemble(self, username: str) -> str:
        return assemble_csrf_token(self.secret(), username, int(self.clock()))

    def verify(self, username: str, token: str) -> bool:
        return verify_csrf_token(self.secret(), username, token, int(self.clock()))
