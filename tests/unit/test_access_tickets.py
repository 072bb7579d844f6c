"""Tickets and CSRF prevention tokens in Proxmox's formats."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from respaldo.access.tickets import (
    AUTHKEY_LIFETIME,
    TICKET_LIFETIME,
    assemble_csrf_token,
    assemble_rsa_ticket,
    verify_csrf_token,
)

from .accesskit import FakeClock, make_access

TICKET = re.compile(r"PVE:([^:]+):([0-9A-F]{8})::([A-Za-z0-9+/=]+)")


def test_ticket_format_and_signature(tmp_path: Path) -> None:
    clock = FakeClock()
    access = make_access(tmp_path, clock)
    ticket = access.authkeys.assemble_ticket("joe@pve")
    match = TICKET.fullmatch(ticket)
    assert match, ticket
    assert match.group(1) == "joe@pve"
    assert int(match.group(2), 16) == int(clock.now)
    # The signature is RSA PKCS#1 v1.5 with SHA-256 over "PVE:<userid>:<time>", checked here
    # with the public key file alone, as another Proxmox-compatible verifier would.
    pem = access.files.authkey_pub.read_bytes()
    public = serialization.load_pem_public_key(pem)
    assert isinstance(public, rsa.RSAPublicKey)
    plain = ticket.partition("::")[0].encode()
    public.verify(base64.b64decode(match.group(3)), plain, padding.PKCS1v15(), hashes.SHA256())


def test_colons_in_data_are_escaped(tmp_path: Path) -> None:
    access = make_access(tmp_path)
    key = access.authkeys.private_key()
    ticket = assemble_rsa_ticket(key, "PVE", "!tfa!{a:b}", 0x12345678)
    assert ticket.startswith("PVE:!tfa!{a%3Ab}:12345678::")


def test_ticket_verifies_until_two_hours(tmp_path: Path) -> None:
    clock = FakeClock()
    access = make_access(tmp_path, clock)
    ticket = access.authkeys.assemble_ticket("joe@pve")
    found = access.authkeys.verify_ticket(ticket)
    assert found is not None and (found.data, found.age) == ("joe@pve", 0)
    clock.advance(TICKET_LIFETIME - 1)
    assert access.authkeys.verify_ticket(ticket) is not None
    clock.advance(1)
    assert access.authkeys.verify_ticket(ticket) is None


def test_forged_or_altered_tickets_fail(tmp_path: Path) -> None:
    access = make_access(tmp_path)
    ticket = access.authkeys.assemble_ticket("joe@pve")
    plain, _, signature = ticket.partition("::")
    assert access.authkeys.verify_ticket(ticket.replace("joe@pve", "root@pam")) is None
    # a later time under the old signature
    later = re.sub(r":([0-9A-F]{8})$", lambda m: f":{int(m.group(1), 16) + 1:08X}", plain)
    assert access.authkeys.verify_ticket(f"{later}::{signature}") is None
    # signed by another key
    other = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert access.authkeys.verify_ticket(assemble_rsa_ticket(other, "PVE", "joe@pve", 0)) is None
    for broken in ("", "PVE:joe@pve", f"{plain}::", f"{plain}::!!!", f"PVEVNC:{ticket[4:]}"):
        assert access.authkeys.verify_ticket(broken) is None


def test_ticket_from_a_clock_ahead_is_accepted_within_five_minutes(tmp_path: Path) -> None:
    clock = FakeClock()
    access = make_access(tmp_path, clock)
    access.authkeys.private_key()  # the key exists before the tickets below were made
    clock.advance(600)
    key = access.authkeys.private_key()
    now = int(clock.now)
    assert access.authkeys.verify_ticket(assemble_rsa_ticket(key, "PVE", "a@pve", now + 299))
    assert (
        access.authkeys.verify_ticket(assemble_rsa_ticket(key, "PVE", "a@pve", now + 300)) is None
    )


def test_key_rotation_keeps_old_tickets_valid(tmp_path: Path) -> None:
    clock = FakeClock()
    access = make_access(tmp_path, clock)
    access.authkeys.private_key()  # made now
    clock.advance(AUTHKEY_LIFETIME - 600)
    old_ticket = access.authkeys.assemble_ticket("joe@pve")
    old_pub = access.files.authkey_pub.read_bytes()
    clock.advance(600)  # the key is 24 h old: the next signature replaces it
    new_ticket = access.authkeys.assemble_ticket("joe@pve")
    assert access.files.authkey_pub.read_bytes() != old_pub
    assert access.files.authkey_pub_old.read_bytes() == old_pub
    assert access.authkeys.verify_ticket(new_ticket) is not None
    assert access.authkeys.verify_ticket(old_ticket) is not None  # through authkey.pub.old
    clock.advance(TICKET_LIFETIME)
    assert access.authkeys.verify_ticket(old_ticket) is None


def test_ticket_older_than_its_key_is_refused(tmp_path: Path) -> None:
    clock = FakeClock()
    access = make_access(tmp_path, clock)
    key = access.authkeys.private_key()
    # A ticket dated 10 minutes before the key was made cannot have come from it.
    ticket = assemble_rsa_ticket(key, "PVE", "joe@pve", int(clock.now) - 600)
    assert access.authkeys.verify_ticket(ticket) is None


def test_key_files_and_modes(tmp_path: Path) -> None:
    access = make_access(tmp_path)
    access.authkeys.assemble_ticket("joe@pve")
    files = access.files
    assert files.authkey_key.read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert files.authkey_pub.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert os.stat(files.priv_dir).st_mode & 0o777 == 0o700
    assert os.stat(files.authkey_key).st_mode & 0o777 == 0o600


def test_csrf_token_format_and_lifetime() -> None:
    token = assemble_csrf_token("secret", "joe@pve", 0x66000000)
    assert re.fullmatch(r"66000000:[A-Za-z0-9+/]{43}", token)
    assert verify_csrf_token("secret", "joe@pve", token, 0x66000000 + TICKET_LIFETIME - 1)
    assert not verify_csrf_token("secret", "joe@pve", token, 0x66000000 + TICKET_LIFETIME)
    assert not verify_csrf_token("secret", "joe@pve", token, 0x66000000 - 300)
    assert verify_csrf_token("secret", "joe@pve", token, 0x66000000 - 299)
    assert not verify_csrf_token("secret", "max@pve", token, 0x66000000)
    assert not verify_csrf_token("other", "joe@pve", token, 0x66000000)
    assert not verify_csrf_token(
        "secret", "joe@pve", token.replace("66000000", "66000001"), 0x66000001
    )


@pytest.mark.parametrize("content", [b"abc\n", b"-----BEGIN RSA PRIVATE KEY-----\nxyz\n"])
def test_csrf_secret_derives_from_www_key(tmp_path: Path, content: bytes) -> None:
    access = make_access(tmp_path)
    access.files.write_private(access.files.www_key, content.decode())
    # base64 HMAC-SHA256 with an empty key over the file, unpadded (Digest::SHA's form)
    expected = (
        base64.b64encode(hmac.new(b"", content, hashlib.sha256).digest()).decode().rstrip("=")
    )
    assert access.csrf.secret() == expected


def test_csrf_secret_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    access = make_access(tmp_path)
    token = access.csrf.assemble("joe@pve")
    assert os.stat(access.files.www_key).st_mode & 0o777 == 0o600
    again = make_access(tmp_path)  # another process reads the same secret
    assert again.csrf.verify("joe@pve", token)
