"""The one rooted error tree of respaldo.

Every failure the user can meet is a ``RespaldoError``. Each layer has its own subclass, and
each error keeps the data it is about as attributes, so that the CLI and the API can map it to
an exit code or an HTTP status in one place each. The cause is always kept
(``raise X(...) from err``).
"""

from __future__ import annotations

from pathlib import Path


class RespaldoError(Exception):
    """Root of every error respaldo raises on purpose."""

    #: HTTP status the REST API answers with; the CLI exits with 2 for user errors, 1 otherwise.
    http_status = 500
    user_error = False


class InputError(RespaldoError):
    """Bad input from the user: names the value, why it is wrong and what would be valid."""

    http_status = 400
    user_error = True

    def __init__(self, name: str, value: object, reason: str) -> None:
        super().__init__(f"invalid value for {name} {value!r}: {reason}")
        self.name = name
        self.value = value
        self.reason = reason


class NotFoundError(RespaldoError):
    http_status = 404
    user_error = True


class ConflictError(RespaldoError):
    """The operation is refused in the current state (exists already, running, locked...)."""

    http_status = 409
    user_error = True


# -- config -----------------------------------------------------------------------------------


class ConfigError(RespaldoError):
    """A configuration file that cannot be parsed; names the file, the line and the reason."""

    def __init__(self, path: Path | str, line: int, reason: str) -> None:
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"{where}: {reason}")
        self.path = Path(path)
        self.line = line
        self.reason = reason


# -- storage ----------------------------------------------------------------------------------


class StorageError(RespaldoError):
    pass


class NoSuchStorage(NotFoundError):
    def __init__(self, storage: str, known: list[str]) -> None:
        valid = ", ".join(sorted(known)) or "none configured"
        super().__init__(f"storage '{storage}' does not exist (configured storages: {valid})")
        self.storage = storage


class NoSuchVolume(NotFoundError):
    def __init__(self, volid: str) -> None:
        super().__init__(f"volume '{volid}' does not exist")
        self.volid = volid


# -- qemu and VMs -----------------------------------------------------------------------------


class CommandError(RespaldoError):
    """An external program failed; carries its argv, exit code and stderr."""

    def __init__(self, argv: list[str], returncode: int, stderr: str) -> None:
        detail = stderr.strip() or "no error output"
        super().__init__(f"{argv[0]} failed (exit code {returncode}): {detail}")
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr


class QemuError(RespaldoError):
    pass


class QmpError(QemuError):
    pass


class NoSuchVM(NotFoundError):
    def __init__(self, vmid: int) -> None:
        super().__init__(f"VM {vmid} does not exist (no configuration file)")
        self.vmid = vmid


class VMExists(ConflictError):
    def __init__(self, vmid: int) -> None:
        super().__init__(f"VM {vmid} already exists")
        self.vmid = vmid


class VMLocked(ConflictError):
    def __init__(self, vmid: int, lock: str) -> None:
        super().__init__(f"VM {vmid} is locked ({lock})")
        self.vmid = vmid
        self.lock = lock


class VMStateError(ConflictError):
    """The VM is in a state that does not allow the operation (e.g. running)."""


class UnsupportedConfig(RespaldoError):
    """A VM config holds keys respaldo cannot apply when QEMU starts; ``problems`` maps each
    key to why. Nothing was started."""

    http_status = 400
    user_error = True

    def __init__(self, vmid: int, problems: dict[str, str]) -> None:
        listed = "; ".join(f"{key}: {reason}" for key, reason in problems.items())
        super().__init__(f"VM {vmid} cannot start as its configuration says - {listed}")
        self.vmid = vmid
        self.problems = problems


class LockTimeout(ConflictError):
    def __init__(self, what: str, seconds: float) -> None:
        super().__init__(f"can't lock {what}: timeout after {seconds:g} seconds")
        self.what = what
        self.seconds = seconds


# -- resources, archive, tasks ---------------------------------------------------------------------


class OutOfMemory(RespaldoError):
    """The process ran out of memory (the machine's, or a limit such as ``ulimit -v``).

    The faces turn a ``MemoryError`` that reaches them into this (see :func:`out_of_memory`),
    so the user reads a message, not a traceback; code that knows what it was doing raises
    its own error instead.
    """

    def __init__(self, what: str = "out of memory") -> None:
        super().__init__(f"{what} (the machine's memory, or the process's limit such as ulimit -v)")


#: What Python's ``threading`` raises when the memory for a new thread's stack is not there.
_THREAD_START_FAILED = "can't start new thread"


def out_of_memory(err: BaseException) -> OutOfMemory | None:
    """The ``OutOfMemory`` a ``MemoryError``, or a thread that could not start (its stack
    is memory too), stands for; None for any other exception."""
    if isinstance(err, MemoryError):
        return OutOfMemory()
    if isinstance(err, RuntimeError) and str(err) == _THREAD_START_FAILED:
        return OutOfMemory("cannot start a thread")
    return None


class ArchiveError(RespaldoError):
    """A VMA archive that cannot be read or written; carries the byte offset when known."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        where = f" at byte offset {offset}" if offset is not None else ""
        super().__init__(f"{message}{where}")
        self.offset = offset


class TaskError(RespaldoError):
    pass


class BadUpid(InputError):
    """A text that is not a UPID (``pve-common`` ``PVE/UPID.pm`` decode's pattern)."""

    def __init__(self, upid: str) -> None:
        super().__init__("upid", upid, "unable to parse worker upid")
        self.upid = upid


class NoSuchTask(InputError):
    """A well-formed UPID without a task log on this node (Proxmox answers 400, not 404)."""

    def __init__(self, upid: str) -> None:
        super().__init__("upid", upid, "no such task")
        self.upid = upid


class TaskStopped(TaskError):
    """The task was asked to stop (through the API or a signal) and ended, undoing its work."""

    def __init__(self, reason: str = "received interrupt") -> None:
        super().__init__(reason)
        self.reason = reason


# -- access: users, login, permissions --------------------------------------------------------


class AuthError(RespaldoError):
    """Authentication failed (HTTP 401): bad credentials, a bad ticket, token or CSRF token.

    ``str(err)`` is what the client may be told (``authentication failure`` for a failed login,
    as Proxmox answers, so that nobody learns which users exist); ``reason`` is the detail for
    the log. ``delay`` is how many seconds the server should wait before it answers (Proxmox
    delays every unauthorized reply by 3 s).
    """

    http_status = 401
    user_error = True

    def __init__(self, message: str, reason: str | None = None, delay: float = 0.0) -> None:
        super().__init__(message)
        self.reason = reason or message
        self.delay = delay


class PermissionDenied(RespaldoError):
    """The caller lacks a privilege (HTTP 403): ``Permission check failed (<path>, <priv>)``."""

    http_status = 403
    user_error = True

    def __init__(self, what: str | None = None) -> None:
        super().__init__(f"Permission check failed ({what})" if what else "Permission check failed")
        self.what = what


class NotRoot(RespaldoError):
    """A command that acts as ``root@pam`` (``qm``, ``pvesm``, ``vzdump``, ``pveum``..., as
    Proxmox's CLIs do) was run by a system user who is neither root nor the owner of the
    node's data dir (Proxmox: ``please run as root``)."""

    http_status = 403
    user_error = True

    def __init__(self, command: str, uid: int, home: object = None) -> None:
        whose = f" nor the owner of the node's data dir {home}" if home is not None else ""
        super().__init__(
            f"please run as root: '{command}' acts as root@pam, and uid {uid} is not root"
            f"{whose} (other users work through the API, with their own login and permissions)"
        )
        self.command = command
        self.uid = uid
