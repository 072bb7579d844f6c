"""Secrets kept in ``priv/``: password hashes of the ``pve`` realm and API token secrets.

``priv/shadow.cfg`` has Proxmox's layout, one ``<user name>:<hash>:`` a line (the user name
without ``@pve``; ``PVE/Auth/PVE.pm``), but the hash is argon2id (argon2-cffi's encoded form,
``$argon2id$v=19$m=...``) rather than crypt(3). Its cost is configurable so that tests stay
fast; a hash made with other costs still verifies and is renewed at the next good login.

``priv/token.cfg`` has Proxmox's layout, ``<tokenid> <secret>`` a line
(``PVE/TokenConfig.pm``), but respaldo writes ``sha256:<hex digest>`` instead of the secret.
A token secret is a random UUID (122 random bits), so a fast digest cannot be brute-forced and
keeps the check of every API request cheap; a slow password hash would add nothing. A line
copied from a Proxmox file (the secret in clear) still verifies, and is hashed at the next
write.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from respaldo.access.ids import is_tokenid
from respaldo.access.store import AccessFiles


@dataclass(frozen=True)
class Argon2Cost:
    """argon2id cost: passes, memory in KiB, lanes (argon2-cffi's RFC 9106 low-memory profile
    by default)."""

    time_cost: int = 3
    memory_cost: int = 65536
    parallelism: int = 4

    def hasher(self) -> argon2.PasswordHasher:
        return argon2.PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_cost,
            parallelism=self.parallelism,
            type=argon2.Type.ID,
        )


def _parse_shadow(text: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in text.splitlines():
        match = re.fullmatch(r"\s*([^\s:]+):(\S+?):\s*", line)
        if match:
            entries[match.group(1)] = match.group(2)
    return entries


def _format_shadow(entries: dict[str, str]) -> str:
    return "".join(f"{name}:{entries[name]}:\n" for name in sorted(entries))


class ShadowFile:
    """Password hashes of ``pve`` realm users (``priv/shadow.cfg``)."""

    def __init__(self, files: AccessFiles, cost: Argon2Cost) -> None:
        self.files = files
        self.hasher = cost.hasher()

    def _entries(self) -> dict[str, str]:
        return _parse_shadow(self.files.read_private(self.files.shadow_cfg) or "")

    def has_password(self, name: str) -> bool:
        return name in self._entries()

    def verify(self, name: str, password: str) -> bool:
        """Whether ``password`` is that of user ``name``; a hash of older cost is renewed."""
        stored = self._entries().get(name)
        if stored is None:
            return False
        try:
            self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        if self.hasher.check_needs_rehash(stored):
            with self.files.locked():
                self.set_password(name, password)
        return True

    def set_password(self, name: str, password: str) -> None:
        """Store the hash of a new password; the caller holds the access lock."""
        entries = self._entries()
        entries[name] = self.hasher.hash(password)
        self.files.write_private(self.files.shadow_cfg, _format_shadow(entries))

    def remove(self, name: str) -> None:
        """Forget a user's password; the caller holds the access lock."""
        entries = self._entries()
        if entries.pop(name, None) is not None:
            self.files.write_private(self.files.shadow_cfg, _format_shadow(entries))


_HASHED = "sha256:"


def _digest(secret: str) -> str:
    return _HASHED + hashlib.sha256(secret.encode("utf-8")).hexdigest()


class TokenSecrets:
    """Secrets of API tokens (``priv/token.cfg``), stored as SHA-256 digests."""

    def __init__(self, files: AccessFiles) -> None:
        self.files = files

    def _entries(self) -> dict[str, str]:
        entries: dict[str, str] = {}
        for line in (self.files.read_private(self.files.token_cfg) or "").splitlines():
            parts = line.split()
            if len(parts) == 2 and is_tokenid(parts[0]):
                entries[parts[0]] = parts[1]
        return entries

    def _write(self, entries: dict[str, str]) -> None:
        lines = []
        for tokenid in sorted(entries):
            value = entries[tokenid]
            stored = value if value.startswith(_HASHED) else _digest(value)
            lines.append(f"{tokenid} {stored}\n")
        self.files.write_private(self.files.token_cfg, "".join(lines))

    def generate(self, tokenid: str) -> str:
        """A new secret for ``tokenid`` (a UUID, returned once and stored only as its digest);
        the caller holds the access lock."""
        secret = str(uuid.uuid4())
        entries = self._entries()
        entries[tokenid] = _digest(secret)
        self._write(entries)
        return secret

    def remove(self, tokenid: str) -> None:
        """Forget a token's secret; the caller holds the access lock."""
        entries = self._entries()
        if entries.pop(tokenid, None) is not None:
            self._write(entries)

    def remove_user(self, userid: str) -> None:
        """Forget the secrets of all tokens of a user; the caller holds the access lock."""
        entries = self._entries()
        kept = {tokenid: value for tokenid, value in entries.items() if not _owned(tokenid, userid)}
        if kept != entries:
            self._write(kept)

    def verify(self, tokenid: str, secret: str) -> bool:
        stored = self._entries().get(tokenid)
        if stored is None:
            return False
        expected = stored if stored.startswith(_HASHED) else _digest(stored)
        return hmac.compare_digest(expected, _digest(secret))


def _owned(tokenid: str, userid: str) -> bool:
    return tokenid.startswith(userid + "!")
