"""jetl: Jira issues, changelogs and dev status into PostgreSQL.

The Python face of the C library::

    import jetl
    with jetl.open(db="postgresql://…", tenant=1, integration=1,
                   jira_url="https://x.atlassian.net", jira_user="me@x.com",
                   jira_token=os.environ["JETL_JIRA_TOKEN"]) as ctx:
        ctx.migrate()
        r = ctx.extract_project("ABC", progress=lambda p: print(p.phase_name, p.done, p.total))
        print(r.issues, r.job_id, ctx.job(r.job_id).status)

Threads: a Context is used by one thread at a time (as the C context is);
``worker_stop()`` is the exception and may be called from any thread while
another runs ``worker_run()``. Every long call releases the GIL, so other
Python threads keep running during an extraction. The progress callback
runs on the thread that made the call; returning True cancels the call
(``CancelledError``), and an exception it raises cancels the call and is
re-raised from it. Failures raise a ``jetl.Error`` subclass with ``.status``
(the negative C status) and ``.message`` (the C library's one-line message).
"""

import builtins as _builtins
import threading as _threading

from . import jetl_c as _c

__all__ = [
    "open", "Context", "Progress", "ExtractResult", "TransformResult", "Job",
    "Error", "version", "version_number", "schema_version", "strerror",
    "status_name", "phase_name",
]

# ----------------------------------------------------------------- constants
# Status codes and enums, re-exported without the JETL_ prefix (OK, EAUTH, …).
for _name in dir(_c):
    if _name.startswith("JETL_"):
        globals()[_name[5:]] = getattr(_c, _name)
del _name
STATUS_MIN = _c.status_min   # the lowest status this library can return

PHASES = tuple(_c.phase_name(i) for i in range(_c.JETL_PHASE_DONE + 1))


def version():
    """Version string of the C library ("0.1.0")."""
    return _c.version()


def version_number():
    """Version as major * 10000 + minor * 100 + patch."""
    return _c.version_number()


def schema_version():
    """Schema version the library writes (number of its migrations)."""
    return _c.schema_version()


def strerror(status):
    """Static one-line English message for a status."""
    return _c.strerror(status)


def status_name(status):
    """Symbolic name of a status ("JETL_EAUTH")."""
    return _c.status_name(status)


def phase_name(phase):
    """Lower-case name of a phase ("census")."""
    return _c.phase_name(phase)


# -------------------------------------------------------------------- errors
class Error(Exception):
    """A jetl call failed. ``status`` is the negative C status, ``message`` the C message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def name(self):
        return _c.status_name(self.status)

    @property
    def retriable(self):
        """Whether the same call may succeed later (network, timeout, rate limit…)."""
        return bool(_c.status_is_retriable(self.status))

    def __str__(self):
        return "%s (%s)" % (self.message, self.name)

    def __reduce__(self):
        return (type(self), (self.status, self.message))


class InvalidArgumentError(Error, ValueError): pass        # noqa: E701
class VersionError(Error): pass                            # noqa: E701
class NoMemoryError(Error, MemoryError): pass              # noqa: E701
class NotImplementedError(Error, _builtins.NotImplementedError): pass  # noqa: E701
class DatabaseConnectionError(Error): pass                 # noqa: E701
ConnectionError = DatabaseConnectionError   # the name the first drafts used
class DatabaseError(Error): pass                           # noqa: E701
class DatabaseRetryError(DatabaseError): pass              # noqa: E701  (transient: cancel, timeout, deadlock)
class SchemaError(Error): pass                             # noqa: E701
class QueueError(Error): pass                              # noqa: E701
class NetworkError(Error): pass                            # noqa: E701
class TimeoutError(Error): pass                            # noqa: E701
class AuthError(Error): pass                               # noqa: E701
class ForbiddenError(Error): pass                          # noqa: E701
class NotFoundError(Error): pass                           # noqa: E701
class GoneError(Error): pass                               # noqa: E701
class RateLimitError(Error): pass                          # noqa: E701
class HTTPError(Error): pass                               # noqa: E701
class ProtocolError(Error): pass                           # noqa: E701
class DataError(Error): pass                               # noqa: E701
class CancelledError(Error): pass                          # noqa: E701
class StateError(Error): pass                              # noqa: E701
class NoEntryError(Error, LookupError): pass               # noqa: E701
class ConfigError(Error): pass                             # noqa: E701
class IOError(Error): pass                                 # noqa: E701

_ERRORS = {
    _c.JETL_EINVAL: InvalidArgumentError,
    _c.JETL_EVERSION: VersionError,
    _c.JETL_ENOMEM: NoMemoryError,
    _c.JETL_ENOTIMPL: NotImplementedError,
    _c.JETL_EDBCONN: DatabaseConnectionError,
    _c.JETL_EDB: DatabaseError,
    _c.JETL_ESCHEMA: SchemaError,
    _c.JETL_EQUEUE: QueueError,
    _c.JETL_ENETWORK: NetworkError,
    _c.JETL_ETIMEOUT: TimeoutError,
    _c.JETL_EAUTH: AuthError,
    _c.JETL_EFORBIDDEN: ForbiddenError,
    _c.JETL_ENOTFOUND: NotFoundError,
    _c.JETL_EGONE: GoneError,
    _c.JETL_ERATELIMIT: RateLimitError,
    _c.JETL_EHTTP: HTTPError,
    _c.JETL_EPROTOCOL: ProtocolError,
    _c.JETL_EDATA: DataError,
    _c.JETL_ECANCELLED: CancelledError,
    _c.JETL_ESTATE: StateError,
    _c.JETL_ENOENT: NoEntryError,
    _c.JETL_ECONFIG: ConfigError,
    _c.JETL_EIO: IOError,
    _c.JETL_EDBRETRY: DatabaseRetryError,
}

__all__ += sorted({cls.__name__ for cls in _ERRORS.values()} | {"ConnectionError"})


def _make_error(status, message):
    """Called by the C layer for every negative status."""
    return _ERRORS.get(status, Error)(status, message)


# ------------------------------------------------------------------ records
class _Record:
    """Attribute access over the fields the C layer returns; compares by value."""
    __slots__ = ()

    def __init__(self, **fields):
        for name in self.__slots__:
            object.__setattr__(self, name, fields.get(name))

    def _asdict(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __getitem__(self, name):
        if name not in self.__slots__:
            raise KeyError(name)
        return getattr(self, name)

    def __eq__(self, other):
        return type(self) is type(other) and self._asdict() == other._asdict()

    __hash__ = None

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__,
                           ", ".join("%s=%r" % kv for kv in self._asdict().items()))


class Progress(_Record):
    """One progress event; built by the C trampoline, valid after the callback."""
    __slots__ = ("phase", "phase_name", "done", "total", "job_id", "project_key",
                 "step", "total_steps", "message", "elapsed")


class ExtractResult(_Record):
    __slots__ = ("job_id", "issues", "histories", "changelogs_completed",
                 "dev_status_fetched", "deleted", "raw_rows", "transformed",
                 "requests", "retries", "rate_limited", "seconds")


class TransformResult(_Record):
    __slots__ = ("raw_id", "work_items", "changelog_items", "dev_status",
                 "warnings", "seconds")


class Job(_Record):
    """A job's etl_job_queue row (times are Unix seconds, 0 when unset)."""
    __slots__ = ("id", "job_type", "status", "step", "total_steps", "step_name",
                 "items_done", "items_total", "message", "error", "created_at",
                 "started_at", "updated_at", "finished_at", "raw_pending",
                 "raw_failed", "issues", "histories", "changelog_items",
                 "dev_status", "work_items", "raw_rows", "requests", "retries",
                 "rate_limited", "deleted")


_c.py_setup(_make_error, Progress)

# ------------------------------------------------------------------ context
_AUTH = {"basic": _c.JETL_AUTH_BASIC, "bearer": _c.JETL_AUTH_BEARER}
_FLAVOR = {"auto": _c.JETL_FLAVOR_AUTO, "cloud": _c.JETL_FLAVOR_CLOUD,
           "server": _c.JETL_FLAVOR_SERVER}
_STRINGS = ("db", "jira_url", "jira_user", "jira_token", "queue")


def _enum(value, table, what):
    if isinstance(value, str):
        try:
            return table[value]
        except KeyError:
            raise ValueError("%s must be one of %s" % (what, ", ".join(table))) from None
    return int(value)


def open(db=None, *, tenant=None, integration=None, jira_url=None, jira_user=None,
         jira_token=None, jira_auth=None, jira_flavor=None, queue=None,
         concurrency=None, connect_timeout_ms=None, request_timeout_ms=None,
         max_attempts=None, batch_size=None, log=None, log_level=None):
    """Open a context (every jetl_options field is a keyword argument).

    Strings left as None come from the environment as in C (JETL_DB,
    JETL_JIRA_URL, …, JETL_QUEUE; no queue means in-process; ``queue=""``
    forces in-process even when JETL_QUEUE is set). ``jira_auth``
    is "basic"/"bearer" (or the JETL_AUTH_* value), ``jira_flavor``
    "auto"/"cloud"/"server". ``log`` is a callable ``log(level, message)``;
    it may be called from worker threads. Raises DatabaseConnectionError
    (with libpq's reason) when PostgreSQL cannot be reached.
    """
    d = _c.py_options_defaults()
    for name, value in (("tenant", tenant), ("integration", integration),
                        ("concurrency", concurrency),
                        ("connect_timeout_ms", connect_timeout_ms),
                        ("request_timeout_ms", request_timeout_ms),
                        ("max_attempts", max_attempts), ("batch_size", batch_size),
                        ("log_level", log_level)):
        if value is not None:
            d[name] = int(value)
    if jira_auth is not None:
        d["jira_auth"] = _enum(jira_auth, _AUTH, "jira_auth")
    if jira_flavor is not None:
        d["jira_flavor"] = _enum(jira_flavor, _FLAVOR, "jira_flavor")
    for name, value in zip(_STRINGS, (db, jira_url, jira_user, jira_token, queue)):
        if value is not None and not isinstance(value, str):
            raise TypeError("%s must be a str or None" % name)
    if log is not None and not callable(log):
        raise TypeError("log must be callable")
    handle = _c.py_open(db, d["tenant"], d["integration"], jira_url, jira_user,
                        jira_token, d["jira_auth"], d["jira_flavor"], queue,
                        d["concurrency"], d["connect_timeout_ms"],
                        d["request_timeout_ms"], d["max_attempts"],
                        d["batch_size"], log, d["log_level"])
    return Context(handle, log)


class Context:
    """An open jetl context. Use as a context manager, or call close()."""

    def __init__(self, handle, log=None):
        self._h = handle
        self._log = log          # the C context borrows it until close()
        self._close_lock = _threading.Lock()

    # -- life
    def close(self):
        """Close the context; harmless when already closed."""
        with self._close_lock:
            h, self._h = self._h, None
        if h is not None:
            _c.close(h)
        self._log = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_h", None) is not None:
            self.close()

    @property
    def closed(self):
        return self._h is None

    def _handle(self):
        h = self._h
        if h is None:
            raise StateError(_c.JETL_ESTATE, "context is closed")
        return h

    # -- getters
    @property
    def tenant(self):
        return _c.tenant_id(self._handle())

    @property
    def integration(self):
        return _c.integration_id(self._handle())

    @property
    def last_error(self):
        """Message of the last failure on this context ("" when none)."""
        return _c.last_error(self._handle())

    # -- operations
    def migrate(self):
        """Create or upgrade the schema; idempotent."""
        _c.migrate(self._handle())

    def extract_project(self, key, full=False, jql=None, progress=None, dev_status=True):
        """Extract one project; returns an ExtractResult (counts and job_id)."""
        opts = {"full": bool(full), "jql": jql, "dev_status": bool(dev_status),
                "progress": progress}
        return ExtractResult(**_c.extract_project(self._handle(), key, opts))

    def extract(self, keys=(), progress=None, wait=False, distribute=False,
                full=False, jql=None, dev_status=True):
        """A job over several projects (every visible one when keys is empty); returns its id."""
        if isinstance(keys, str):
            keys = [keys]
        opts = {"full": bool(full), "jql": jql, "dev_status": bool(dev_status),
                "wait": bool(wait), "distribute": bool(distribute), "progress": progress}
        return _c.extract(self._handle(), list(keys), opts)

    def transform_batch(self, raw_id):
        """Transform one raw row; returns a TransformResult."""
        return TransformResult(**_c.transform_batch(self._handle(), int(raw_id)))

    def worker_run(self, until_idle=False, threads=1, distribute=False, progress=None,
                   idle_ms=None, prefetch=None, max_deliveries=None):
        """Consume queue messages until worker_stop() (or idle, if asked)."""
        opts = {"until_idle": bool(until_idle), "threads": int(threads),
                "distribute": bool(distribute), "progress": progress,
                "idle_ms": idle_ms, "prefetch": prefetch,
                "max_deliveries": max_deliveries}
        _c.worker_run(self._handle(), opts)

    def worker_stop(self):
        """Ask worker_run() to return; safe from any thread."""
        h = self._h
        if h is not None:
            _c.worker_stop(h)

    def job(self, job_id):
        """Status and progress of a job, as a Job."""
        return Job(**_c.job_get(self._handle(), int(job_id)))

    def fields_sync(self):
        """Read Jira's field list into jira_fields; returns the number of fields."""
        return _c.fields_sync(self._handle())

    def job_cancel(self, job_id):
        """Cancel a queued or running job: whichever process runs it stops at its next batch."""
        _c.job_cancel(self._handle(), int(job_id))

    def jobs(self, limit=20):
        """Ids of the most recent jobs of this tenant/integration, newest first."""
        return _c.job_list(self._handle(), int(limit))

    def fields(self):
        """The synced Jira fields with their slots: a list of dicts (id, name, type, custom, slot)."""
        return _c.fields_list(self._handle())

    def field_map(self, field_id, slot):
        """Put a custom field in slot 1..20 (0 unmaps it)."""
        _c.field_map(self._handle(), field_id, int(slot))
