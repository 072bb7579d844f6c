"""The limits a backup checks before it writes anything (pve-manager ``PVE/VZDump.pm``
``exec_backup_task``).

- With retention but ``remove`` off (``--remove 0 --prune-backups keep-last=2``), the
  retention is a limit: the sum of its ``keep-*`` values is the most unprotected backups a
  guest may have, and a backup that would pass it is refused.
- A backup to be marked ``protected`` is refused when the guest has as many protected backups
  as the storage's ``max-protected-backups`` allows (-1: no limit).
"""

from __future__ import annotations

from respaldo.config.prune import KEEP_RULES, PruneOptions
from respaldo.errors import ConflictError
from respaldo.storage.backupstore import BackupStore


class BackupLimit(ConflictError):
    """A backup is refused by a limit of the storage or the job's options."""


def backup_limit(retention: PruneOptions | None) -> int:
    """The most backups ``retention`` keeps of one guest (Proxmox adds the ``keep-*``
    values); 0 means no limit (no retention, or ``keep-all``)."""
    if retention is None or retention.is_keep_all():
        return 0
    return sum(retention.count(rule) for rule in KEEP_RULES)


def check_backup_limits(
    store: BackupStore,
    vmid: int,
    *,
    retention: PruneOptions | None,
    remove: bool,
    protected: bool,
    max_protected: int,
    storage: str | None,
) -> None:
    """Refuse (BackupLimit, with Proxmox's message) a backup of ``vmid`` that would pass the
    limit of ``retention`` when it is not applied (``remove`` off), or, for a backup to be
    protected, the storage's ``max_protected`` (-1: none). Only qemu backups of the guest
    count; protected ones count against the protected limit only."""
    limit = backup_limit(retention)
    if not ((limit and not remove) or protected):
        return
    backups = [info for info in store.list(vmid) if info.subtype == "qemu"]
    unprotected = sum(1 for info in backups if not info.protected)
    if protected:
        if max_protected > -1 and len(backups) - unprotected >= max_protected:
            raise BackupLimit(
                f"The number of protected backups per guest is limited to {max_protected} "
                f"on storage '{storage}'"
            )
    elif unprotected >= limit:
        raise BackupLimit(
            f"There is a max backup limit of {limit} enforced by the target storage or the "
            "vzdump parameters. Either increase the limit or delete old backups."
        )
