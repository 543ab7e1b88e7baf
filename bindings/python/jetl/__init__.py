"""jetl: Jira issues, changelogs and dev status into PostgreSQL.

The Python face of the C library libjetl::

    import jetl
    with jetl.open(db="postgresql://…", tenant=1, integration=1,
                   jira_url="https://x.atlassian.net", jira_user="me@x.com",
                   jira_token=os.environ["JETL_JIRA_TOKEN"]) as client:
        client.migrate()
        r = client.extract_project("ABC", progress=lambda p: print(p.phase_name, p.done, p.total))
        print(r.issues, r.job_id, client.job(r.job_id).status)

From asyncio code (a FastAPI handler, say), the long calls have awaitable
twins that run on the loop's default executor, so the loop keeps serving::

    async with await jetl.aopen(db=dsn) as client:
        r = await client.aextract_project("ABC", progress=on_progress)

Cancelling the awaiting task (``task.cancel()``, ``asyncio.timeout``)
cancels the extraction in C at its next progress event: the job ends
``cancelled`` and the task sees ``asyncio.CancelledError`` once C returned.

Threads: a :class:`Client` wraps one C context, which one thread uses at a
time; the client takes turns (a lock around each C call), and
``worker_stop()`` may be called from any thread while another runs
``worker_run()``. Every long call releases the GIL. The progress callback
of a blocking call runs on the thread that made the call; returning True
cancels it (:class:`CancelledError`), an exception it raises cancels it and
is re-raised from it.

Failures raise a :class:`Error` subclass, one per C status, with
``.status`` (a :class:`Status`), ``.message`` (the C library's one-line
message) and ``.retriable``. Statuses, phases and job statuses are enums
(:class:`Status`, :class:`Phase`, :class:`JobStatus`); results, progress
events, jobs and fields are frozen dataclasses. bindings/README.md lists
each concept's C, Go and Python names side by side.
"""

from __future__ import annotations

import warnings as _warnings
from typing import Any as _Any, Dict as _Dict, Tuple as _Tuple

from ._client import Client, LogCallback, ProgressCallback, aopen, open
from ._enums import (PHASES, STATUS_MIN, Auth, Flavor, JobStatus, LogLevel, Phase, Status,
                     phase_name, schema_version, status_name, strerror, version,
                     version_number)
from ._errors import (AuthError, BusyError, CancelledError, ConfigError, DatabaseConnectionError,
                      DatabaseError, DatabaseRetryError, DataError, Error, ForbiddenError,
                      GoneError, HTTPError, InvalidArgumentError, JiraTimeoutError,
                      LocalIOError, NetworkError, NoEntryError, NoMemoryError,
                      NotFoundError, NotImplementedInBuildError, ProtocolError,
                      QueueError, RateLimitError, SchemaError, StateError, VersionError,
                      error_class, make_error as _make_error)
from ._records import ExtractResult, Field, Job, Progress, TransformResult
from ._integration import Integration, IntegrationTest, Project

__all__ = [
    # functions
    "open", "aopen", "version", "version_number", "schema_version", "strerror",
    "status_name", "phase_name", "error_class",
    # types
    "Client", "Progress", "ExtractResult", "TransformResult", "Job", "Field",
    "ProgressCallback", "LogCallback",
    "Integration", "IntegrationTest", "Project",
    # enums and constants
    "Status", "Phase", "JobStatus", "Auth", "Flavor", "LogLevel", "PHASES", "STATUS_MIN",
    # errors
    "Error", "InvalidArgumentError", "VersionError", "NoMemoryError",
    "NotImplementedInBuildError", "DatabaseConnectionError", "DatabaseError",
    "DatabaseRetryError", "SchemaError", "QueueError", "NetworkError", "JiraTimeoutError",
    "AuthError", "ForbiddenError", "NotFoundError", "GoneError", "RateLimitError",
    "HTTPError", "ProtocolError", "DataError", "CancelledError", "StateError",
    "NoEntryError", "ConfigError", "LocalIOError", "BusyError",
]

# Public classes say they are jetl's (tracebacks, repr, help()), not the
# private module's that defines them.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = __name__
del _name, _obj

# ------------------------------------------------------------ former names
# Names of earlier versions, still answered (with a DeprecationWarning) but
# kept out of the module's namespace and of __all__, so that neither
# ``from jetl import *`` nor jetl's own code sees a builtin shadowed.
_RENAMED: _Dict[str, _Tuple[str, _Any]] = {
    "TimeoutError": ("JiraTimeoutError", JiraTimeoutError),
    "ConnectionError": ("DatabaseConnectionError", DatabaseConnectionError),
    "NotImplementedError": ("NotImplementedInBuildError", NotImplementedInBuildError),
    "IOError": ("LocalIOError", LocalIOError),
    "Context": ("Client", Client),
}
_m: _Any
for _m in Status:
    _RENAMED[_m.name] = ("Status." + _m.name, _m)
for _m in Phase:
    _RENAMED["PHASE_" + _m.name] = ("Phase." + _m.name, _m)
for _m in Auth:
    _RENAMED["AUTH_" + _m.name] = ("Auth." + _m.name, _m)
for _m in Flavor:
    _RENAMED["FLAVOR_" + _m.name] = ("Flavor." + _m.name, _m)
for _m in LogLevel:
    _RENAMED["LOG_" + _m.name] = ("LogLevel." + _m.name, _m)
del _m


def __getattr__(name: str) -> _Any:
    try:
        new, value = _RENAMED[name]
    except KeyError:
        raise AttributeError("module 'jetl' has no attribute %r" % name) from None
    _warnings.warn("jetl.%s is deprecated: use jetl.%s" % (name, new),
                   DeprecationWarning, stacklevel=2)
    return value
