"""Statuses, phases, job statuses and the option enums, with the C
library's names for them (one name per concept: bindings/README.md)."""

from __future__ import annotations

import enum
from typing import Any, Tuple, Type, TypeVar

from . import jetl_c as _swig
from ._args import _int

# The SWIG module is untyped; every value taken from it is converted below.
_c: Any = _swig

_E = TypeVar("_E", bound="_CEnum")


class _CEnum(enum.IntEnum):
    """An IntEnum over a C enum that newer libjetl versions may extend: an
    unknown value becomes a pseudo-member (named after its number) instead
    of a ValueError, so a newer library never breaks an older binding."""

    @classmethod
    def _missing_(cls: Type[_E], value: object) -> _E | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        member = int.__new__(cls, value)
        member._name_ = "%s_%d" % (cls.__name__.upper(), value)
        member._value_ = value
        return member


class Status(_CEnum):
    """A status of the C library (``enum jetl_status``): ``OK`` or a negative
    value, never renumbered. Members keep the C names without the ``JETL_``
    prefix (``JETL_EAUTH`` is ``Status.EAUTH``, Go's ``jetl.EAUTH``); every
    negative one is raised as its own :class:`jetl.Error` subclass."""

    OK = _c.JETL_OK
    ERROR = _c.JETL_ERROR            #: unclassified failure
    EINVAL = _c.JETL_EINVAL          #: invalid argument
    EVERSION = _c.JETL_EVERSION      #: struct version unknown to the library
    ENOMEM = _c.JETL_ENOMEM          #: out of memory
    ENOTIMPL = _c.JETL_ENOTIMPL      #: not implemented in this build
    EDBCONN = _c.JETL_EDBCONN        #: cannot connect to PostgreSQL
    EDB = _c.JETL_EDB                #: PostgreSQL statement failed
    ESCHEMA = _c.JETL_ESCHEMA        #: schema missing or newer than the library
    EQUEUE = _c.JETL_EQUEUE          #: message queue failure
    ENETWORK = _c.JETL_ENETWORK      #: cannot reach Jira
    ETIMEOUT = _c.JETL_ETIMEOUT      #: a Jira request timed out
    EAUTH = _c.JETL_EAUTH            #: Jira answered 401
    EFORBIDDEN = _c.JETL_EFORBIDDEN  #: Jira answered 403
    ENOTFOUND = _c.JETL_ENOTFOUND    #: Jira answered 404
    EGONE = _c.JETL_EGONE            #: Jira answered 410
    ERATELIMIT = _c.JETL_ERATELIMIT  #: still rate limited after every retry
    EHTTP = _c.JETL_EHTTP            #: other HTTP failure
    EPROTOCOL = _c.JETL_EPROTOCOL    #: Jira's answer is malformed
    EDATA = _c.JETL_EDATA            #: stored data cannot be transformed
    ECANCELLED = _c.JETL_ECANCELLED  #: cancelled (callback, worker_stop, job_cancel)
    ESTATE = _c.JETL_ESTATE          #: call not valid in the current state
    ENOENT = _c.JETL_ENOENT          #: no such job, raw row, field or project
    ECONFIG = _c.JETL_ECONFIG        #: configuration incomplete
    EIO = _c.JETL_EIO                #: local I/O failure (file, pipe)
    EDBRETRY = _c.JETL_EDBRETRY      #: transient PostgreSQL failure: retry
    EBUSY = _c.JETL_EBUSY            #: a project is being extracted by another running job

    @property
    def text(self) -> str:
        """The C library's static one-line message (``jetl_strerror``)."""
        return str(_c.strerror(int(self)))

    @property
    def retriable(self) -> bool:
        """Whether a call that failed with this status may succeed later."""
        return bool(_c.status_is_retriable(int(self)))


class Phase(_CEnum):
    """A phase of a job (``enum jetl_phase``), in the order they usually run.
    :func:`jetl.phase_name` (and ``Progress.phase_name``) give the C
    library's lower-case name (``"dev_status"``)."""

    DISCOVER = _c.JETL_PHASE_DISCOVER      #: fields, projects, time zone
    CENSUS = _c.JETL_PHASE_CENSUS          #: ids (+ updated) of every issue
    ISSUES = _c.JETL_PHASE_ISSUES          #: issue bodies
    CHANGELOGS = _c.JETL_PHASE_CHANGELOGS  #: completing capped changelogs
    DEV_STATUS = _c.JETL_PHASE_DEV_STATUS  #: dev-status summary/detail
    STORE = _c.JETL_PHASE_STORE            #: raw rows written
    QUEUE = _c.JETL_PHASE_QUEUE            #: transform messages published
    TRANSFORM = _c.JETL_PHASE_TRANSFORM    #: raw rows transformed
    DONE = _c.JETL_PHASE_DONE


class Auth(_CEnum):
    """Jira authentication scheme (``jetl.open(jira_auth=…)``)."""

    BASIC = _c.JETL_AUTH_BASIC    #: user/email and API token or password
    BEARER = _c.JETL_AUTH_BEARER  #: personal access token or OAuth token


class Flavor(_CEnum):
    """Jira deployment flavor (``jetl.open(jira_flavor=…)``)."""

    AUTO = _c.JETL_FLAVOR_AUTO      #: ask Jira's serverInfo
    CLOUD = _c.JETL_FLAVOR_CLOUD
    SERVER = _c.JETL_FLAVOR_SERVER  #: Server and Data Center


class LogLevel(_CEnum):
    """Log level, in syslog's order (``jetl.open(log_level=…)``)."""

    ERROR = _c.JETL_LOG_ERROR
    WARNING = _c.JETL_LOG_WARNING
    INFO = _c.JETL_LOG_INFO
    DEBUG = _c.JETL_LOG_DEBUG


class JobStatus(str, enum.Enum):
    """The status of a job's ``etl_job_queue`` row. A ``str`` (the column's
    text, as in C's ``jetl_job.status``), so ``job.status == "finished"``
    holds too; ``str()`` and ``format()`` give the bare value."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def ended(self) -> bool:
        """True unless the job is queued or running."""
        return self not in (JobStatus.QUEUED, JobStatus.RUNNING)

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

    @classmethod
    def _missing_(cls, value: object) -> JobStatus | None:
        # A status a newer schema adds: a pseudo-member rather than an error.
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        return member


STATUS_MIN: Status = Status(_c.status_min)
"""The lowest status this library can return."""

PHASES: Tuple[str, ...] = tuple(str(_c.phase_name(int(p))) for p in Phase)
"""The phases' lower-case names, indexed by :class:`Phase`."""


def version() -> str:
    """Version string of the C library (``"0.1.0"``)."""
    return str(_c.version())


def version_number() -> int:
    """Version of the C library as major * 10000 + minor * 100 + patch."""
    return int(_c.version_number())


def schema_version() -> int:
    """Schema version the library writes (the number of its migrations)."""
    return int(_c.schema_version())


def strerror(status: int) -> str:
    """Static one-line English message for a status (``jetl_strerror``)."""
    return str(_c.strerror(_int(status, "status")))


def status_name(status: int) -> str:
    """Symbolic C name of a status (``"JETL_EAUTH"``)."""
    return str(_c.status_name(_int(status, "status")))


def phase_name(phase: int) -> str:
    """Lower-case name of a phase (``"census"``)."""
    return str(_c.phase_name(_int(phase, "phase")))
