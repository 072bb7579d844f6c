"""Where the access layer keeps its files, and how it reads and changes them.

Under the node's config dir (the paths Proxmox uses under ``/etc/pve``)::

    config/user.cfg             users, tokens, groups, pools, roles, ACLs
    config/authkey.pub          public half of the ticket signing key (authkey.pub.old: the
                                previous one, kept one ticket lifetime after a rotation)
    config/priv/                mode 0700; every file in it mode 0600
      shadow.cfg                password hashes of the ``pve`` realm (argon2id)
      token.cfg                 API token secrets, hashed
      authkey.key               private half of the ticket signing key
      pve-www.key               the secret behind CSRF prevention tokens

Every write is atomic (a temporary file, fsync, rename) and every change of user.cfg,
shadow.cfg and token.cfg happens under one file lock (``run/lock/access.lock``), so that the
API server, the CLI and workers never lose each other's changes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from respaldo.access.usercfg import UserConfig, format_user_cfg, parse_user_cfg
from respaldo.config.keyvalue import atomic_write_text
from respaldo.errors import ConfigError
from respaldo.locks import file_lock
from respaldo.node import Node

PRIV_DIR_MODE = 0o700
PRIV_FILE_MODE = 0o600


@dataclass(frozen=True)
class _Stamp:
    mtime_ns: int
    size: int
    inode: int


def _stamp(path: Path) -> _Stamp | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return _Stamp(st.st_mtime_ns, st.st_size, st.st_ino)


class AccessFiles:
    """The files of the access layer of one node; reads of user.cfg are cached until the file
    changes (compared by mtime, size and inode, which an atomic rename always changes)."""

    def __init__(self, node: Node, lock_timeout: float = 10.0) -> None:
        self.node = node
        self.lock_timeout = lock_timeout
        config = node.config_dir
        self.user_cfg = config / "user.cfg"
        self.authkey_pub = config / "authkey.pub"
        self.authkey_pub_old = config / "authkey.pub.old"
        self.priv_dir = config / "priv"
        self.shadow_cfg = self.priv_dir / "shadow.cfg"
        self.token_cfg = self.priv_dir / "token.cfg"
        self.authkey_key = self.priv_dir / "authkey.key"
        self.www_key = self.priv_dir / "pve-www.key"
        self._cached: tuple[_Stamp | None, UserConfig] | None = None

    # -- user.cfg -----------------------------------------------------------------------------

    def read(self) -> UserConfig:
        """The current user.cfg (a fresh one with only root@pam if there is none yet).

        The object returned is shared with later reads until the file changes: do not change
        it; change the config through :meth:`edit`.
        """
        stamp = _stamp(self.user_cfg)
        if self._cached is not None and self._cached[0] == stamp and stamp is not None:
            return self._cached[1]
        cfg = self._load()
        self._cached = (stamp, cfg)
        return cfg

    def _load(self) -> UserConfig:
        try:
            text = self.user_cfg.read_text(encoding="utf-8", errors="surrogateescape")
        except FileNotFoundError:
            return UserConfig()
        except OSError as err:
            raise ConfigError(self.user_cfg, 0, f"cannot read: {err.strerror}") from err
        return parse_user_cfg(text)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the lock under which user.cfg and the secrets in priv/ change."""
        with file_lock(self.node.lock_dir / "access.lock", "access config", self.lock_timeout):
            yield

    @contextmanager
    def edit(self) -> Iterator[UserConfig]:
        """Change user.cfg: under the lock, yield a freshly read config and write it back when
        the block ends without an error (nothing is written if it raises)."""
        with self.locked():
            cfg = self._load()
            yield cfg
            self.write(cfg)

    def write(self, cfg: UserConfig) -> None:
        """Write user.cfg atomically; the caller holds :meth:`locked`."""
        atomic_write_text(self.user_cfg, format_user_cfg(cfg))
        self._cached = None

    # -- priv/ --------------------------------------------------------------------------------

    def ensure_priv_dir(self) -> Path:
        """Create priv/ (mode 0700), and take away any access of others it may have got."""
        self.priv_dir.mkdir(mode=PRIV_DIR_MODE, parents=True, exist_ok=True)
        if self.priv_dir.stat().st_mode & 0o777 != PRIV_DIR_MODE:
            os.chmod(self.priv_dir, PRIV_DIR_MODE)
        return self.priv_dir

    def write_private(self, path: Path, text: str) -> None:
        """Write a secret file atomically with mode 0600 (the temporary file already has it,
        so the secret is never readable by others, not even for a moment)."""
        self.ensure_priv_dir()
        atomic_write_text(path, text)
        if path.stat().st_mode & 0o777 != PRIV_FILE_MODE:
            os.chmod(path, PRIV_FILE_MODE)

    def read_private(self, path: Path) -> str | None:
        """A secret file's text, None if it does not exist."""
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as err:
            raise ConfigError(path, 0, f"cannot read: {err.strerror}") from err
