"""Standard parameters shared by many methods, as pve-common's ``get_standard_option``
(``pve-vmid``, ``pve-node``, ``pve-storage-id``) and qemu-server's ``skiplock``."""

from __future__ import annotations

import respaldo.config.formats  # noqa: F401  (registers the basic formats)
from respaldo.config.schema import boolean, integer, string

VMID = integer(
    "vmid",
    "The (unique) ID of the VM.",
    format="pve-vmid",
    minimum=100,
    maximum=999_999_999,
    optional=False,
)
NODE = string("node", "The cluster node name.", format="pve-node", optional=False)
STORAGE = string("storage", "The storage identifier.", format="pve-storage-id", optional=False)
SKIPLOCK = boolean(
    "skiplock", "Ignore locks - only root is allowed to use this option.", root_only=True
)
