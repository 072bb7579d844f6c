"""Helpers for the access tests: an Access on a temporary node with fast settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from respaldo.access import Access, AccessSettings, Argon2Cost
from respaldo.errors import AuthError
from respaldo.node import Node

#: argon2 at its cheapest and a small RSA key: the tests check behaviour, not strength.
FAST = AccessSettings(
    argon2=Argon2Cost(time_cost=1, memory_cost=8, parallelism=1), authkey_bits=1024
)

START = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC


@dataclass
class FakeClock:
    now: float = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakePam:
    """System accounts of a test: name -> password."""

    accounts: dict[str, str] = field(default_factory=dict)

    def authenticate(self, user: str, password: str) -> None:
        if self.accounts.get(user) != password:
            raise AuthError("authentication failure", "Authentication failure")

    def set_password(self, user: str, password: str) -> None:
        self.accounts[user] = password


def make_access(
    tmp_path: Path,
    clock: FakeClock | None = None,
    pam: FakePam | None = None,
    user_cfg: str | None = None,
    settings: AccessSettings = FAST,
) -> Access:
    node = Node(tmp_path / "data", "pve1")
    node.ensure_dirs()
    if user_cfg is not None:
        node.config_dir.mkdir(parents=True, exist_ok=True)
        (node.config_dir / "user.cfg").write_text(user_cfg)
    return Access(
        node, settings, pam=pam or FakePam({"root": "rootpw-123"}), clock=clock or FakeClock()
    )
