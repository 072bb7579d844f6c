"""The server's certificate: a configured one when present, else a self-signed one made at the
first start, as Proxmox's ``pveproxy`` (``/etc/pve/local/pveproxy-ssl.pem`` when an admin put
one there, else ``pve-ssl.pem``).

Files under the node's ``config/local/``: ``pveproxy-ssl.pem`` + ``pveproxy-ssl.key`` (yours),
or ``pve-ssl.pem`` + ``pve-ssl.key`` (generated with ``cryptography``: RSA 2048, SHA-256, ten
years, the node name and ``localhost`` as names). The key files are readable by the owner only.
TLS 1.2 and newer, forward-secret AEAD ciphers only (:data:`CIPHERS`).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from respaldo.errors import ConfigError
from respaldo.node import Node

CUSTOM = ("pveproxy-ssl.pem", "pveproxy-ssl.key")
GENERATED = ("pve-ssl.pem", "pve-ssl.key")
VALID_DAYS = 3650


def certificate_files(node: Node) -> tuple[Path, Path]:
    """The certificate and key the server uses; generates the self-signed pair if needed."""
    folder = node.config_dir / "local"
    custom = (folder / CUSTOM[0], folder / CUSTOM[1])
    if custom[0].exists() and custom[1].exists():
        return custom
    cert, key = folder / GENERATED[0], folder / GENERATED[1]
    if not (cert.exists() and key.exists()):
        generate_self_signed(cert, key, node.name)
    return cert, key


def generate_self_signed(cert_path: Path, key_path: Path, name: str) -> None:
    """Write a new self-signed certificate for ``name`` (and localhost) and its key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "respaldo"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    names: list[x509.GeneralName] = [
        x509.DNSName(name),
        x509.DNSName("localhost"),
        x509.DNSName(socket.getfqdn()),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    _write(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
        0o600,
    )
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


#: TLS 1.2 ciphers: forward secrecy and AEAD only, Mozilla's "intermediate" list, which is
#: pveproxy's default (TLS 1.3 suites are OpenSSL's, all of them modern).
CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "DHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384",
    )
)


def server_context(node: Node) -> ssl.SSLContext:
    """A TLS server context with the node's certificate: TLS 1.2 and newer, the ciphers of
    :data:`CIPHERS` in the server's order, no compression, no renegotiation (pve-http-server
    ``AnyEvent.pm``'s TLS options)."""
    cert, key = certificate_files(node)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(CIPHERS)
    context.options |= (
        ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION | ssl.OP_CIPHER_SERVER_PREFERENCE
    )
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as err:
        raise ConfigError(cert, 0, f"cannot load the certificate and key {key}: {err}") from err
    return context
