"""The exception tree: one :class:`Error` subclass per negative C status.

Names follow the concept (bindings/README.md has the C, Go and Python names
side by side) and never shadow a builtin: the timeout of a Jira request is
``JiraTimeoutError``, not ``TimeoutError``; a few also derive from the
builtin they refine (``InvalidArgumentError`` is a ``ValueError``), so
generic handlers keep working.
"""

from __future__ import annotations

import builtins
from typing import Any, Dict, Tuple, Type

from . import jetl_c as _swig
from ._enums import Status

_c: Any = _swig


class Error(Exception):
    """A jetl call failed.

    ``status`` is the C status (a :class:`jetl.Status`), ``message`` the C
    library's one-line message (it names the cause and never a secret),
    ``retriable`` whether the same call may succeed later (network, timeout,
    rate limit, transient database failure). ``str(e)`` is
    ``"<message> (JETL_E…)"``.
    """

    status: Status
    message: str

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = Status(status)
        self.message = message

    @property
    def name(self) -> str:
        """The C name of the status (``"JETL_EAUTH"``)."""
        return str(_c.status_name(int(self.status)))

    @property
    def retriable(self) -> bool:
        """Whether the same call may succeed later."""
        return bool(_c.status_is_retriable(int(self.status)))

    def __str__(self) -> str:
        return "%s (%s)" % (self.message, self.name)

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (int(self.status), self.message))


class InvalidArgumentError(Error, ValueError):
    """``EINVAL``: an invalid argument (NULL, a bad value)."""


class VersionError(Error):
    """``EVERSION``: a struct version unknown to this library."""


class NoMemoryError(Error, MemoryError):
    """``ENOMEM``: out of memory."""


class NotImplementedInBuildError(Error, builtins.NotImplementedError):
    """``ENOTIMPL``: not implemented in this build of libjetl."""


class DatabaseError(Error):
    """``EDB``: a PostgreSQL statement failed."""


class DatabaseConnectionError(Error):
    """``EDBCONN``: cannot connect to PostgreSQL (libpq's reason in the message)."""


class DatabaseRetryError(DatabaseError):
    """``EDBRETRY``: a transient PostgreSQL failure (cancel, timeout, deadlock, resources)."""


class SchemaError(Error):
    """``ESCHEMA``: the schema is missing or newer than this library (run migrate())."""


class QueueError(Error):
    """``EQUEUE``: a message queue (RabbitMQ) failure."""


class NetworkError(Error):
    """``ENETWORK``: cannot reach Jira (DNS, connect, reset)."""


class JiraTimeoutError(Error):
    """``ETIMEOUT``: a Jira request timed out (retriable), or
    ``extract(wait_seconds=N)`` passed its deadline."""


class AuthError(Error):
    """``EAUTH``: Jira answered 401: bad credentials."""


class ForbiddenError(Error):
    """``EFORBIDDEN``: Jira answered 403: a permission is missing."""


class NotFoundError(Error):
    """``ENOTFOUND``: Jira answered 404 (a missing job or row is NoEntryError)."""


class GoneError(Error):
    """``EGONE``: Jira answered 410: the endpoint was removed."""


class RateLimitError(Error):
    """``ERATELIMIT``: still rate limited after every retry."""


class HTTPError(Error):
    """``EHTTP``: another HTTP failure (4xx, 5xx after retries)."""


class ProtocolError(Error):
    """``EPROTOCOL``: Jira's answer is malformed (bad JSON, HTML, a loop)."""


class DataError(Error):
    """``EDATA``: stored data cannot be transformed."""


class CancelledError(Error):
    """``ECANCELLED``: the call was cancelled (progress callback, worker_stop,
    job_cancel). Not :class:`asyncio.CancelledError`: an awaiting task that
    is cancelled raises that one."""


class StateError(Error):
    """``ESTATE``: the call is not valid now (closed client, re-entered from
    its own progress callback, a job that already ended)."""


class NoEntryError(Error, LookupError):
    """``ENOENT``: no such job, raw row, field or project."""


class ConfigError(Error):
    """``ECONFIG``: the configuration is incomplete (e.g. no Jira URL)."""


class LocalIOError(Error):
    """``EIO``: a local I/O failure (file, pipe)."""


class BusyError(Error):
    """``EBUSY``: another running job is extracting one of the projects;
    the message names it and ``job_id`` is its id (0 when unknown)."""

    @property
    def job_id(self) -> int:
        """The running job's id, read from the message ("… job 12 …")."""
        import re
        m = re.search(r"\bjob (\d+)", self.message)
        return int(m.group(1)) if m else 0


ERRORS: Dict[Status, Type[Error]] = {
    Status.EINVAL: InvalidArgumentError,
    Status.EVERSION: VersionError,
    Status.ENOMEM: NoMemoryError,
    Status.ENOTIMPL: NotImplementedInBuildError,
    Status.EDBCONN: DatabaseConnectionError,
    Status.EDB: DatabaseError,
    Status.ESCHEMA: SchemaError,
    Status.EQUEUE: QueueError,
    Status.ENETWORK: NetworkError,
    Status.ETIMEOUT: JiraTimeoutError,
    Status.EAUTH: AuthError,
    Status.EFORBIDDEN: ForbiddenError,
    Status.ENOTFOUND: NotFoundError,
    Status.EGONE: GoneError,
    Status.ERATELIMIT: RateLimitError,
    Status.EHTTP: HTTPError,
    Status.EPROTOCOL: ProtocolError,
    Status.EDATA: DataError,
    Status.ECANCELLED: CancelledError,
    Status.ESTATE: StateError,
    Status.ENOENT: NoEntryError,
    Status.ECONFIG: ConfigError,
    Status.EIO: LocalIOError,
    Status.EDBRETRY: DatabaseRetryError,
    Status.EBUSY: BusyError,
}


def error_class(status: int) -> Type[Error]:
    """The :class:`Error` subclass raised for a status (``Error`` itself for
    ``ERROR`` and for a status this binding does not know)."""
    return ERRORS.get(Status(status), Error)


def make_error(status: int, message: str) -> Error:
    """Called by the C layer for every negative status."""
    return error_class(status)(status, message)
