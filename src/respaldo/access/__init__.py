"""Users, realms, login tickets, API tokens, roles, ACLs and permissions, as Proxmox VE has them.

The facade is :class:`~respaldo.access.control.Access` (login, request authentication,
permission checks); the services behind ``pveum`` and ``/access/...`` are in
:mod:`~respaldo.access.users`, :mod:`~respaldo.access.tokens`, :mod:`~respaldo.access.groups`,
:mod:`~respaldo.access.roles` and :mod:`~respaldo.access.acl`; the route checks that are more
than one privilege on one path in :mod:`~respaldo.access.checks`.
"""

from respaldo.access.control import (
    Access,
    AccessSettings,
    AuthMethod,
    LoginResult,
    Principal,
)
from respaldo.access.secrets import Argon2Cost

__all__ = ["Access", "AccessSettings", "Argon2Cost", "AuthMethod", "LoginResult", "Principal"]
