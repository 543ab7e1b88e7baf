"""open(), Client and the asyncio face of the long calls."""

from __future__ import annotations

import asyncio
import functools
import threading
from typing import (Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, TypeVar,
                    Union)

from . import jetl_c as _swig
from ._enums import Auth, Flavor, LogLevel, Status
from ._errors import Error, StateError, make_error
from . import _integration
from ._args import _callback, _flag, _int, _keys, _opt_int, _opt_str, _str
from ._records import ExtractResult, Field, Job, Progress, TransformResult, _build, _job, _progress

_c: Any = _swig
_c.py_setup(make_error, _progress)

_T = TypeVar("_T")

ProgressCallback = Callable[[Progress], Optional[bool]]
"""``progress(event)``: a true result cancels the call (None goes on)."""

LogCallback = Callable[[LogLevel, str], object]
"""``log(level, message)``: may be called from libjetl's worker threads."""

_AUTH = {"basic": Auth.BASIC, "bearer": Auth.BEARER}
_FLAVOR = {"auto": Flavor.AUTO, "cloud": Flavor.CLOUD, "server": Flavor.SERVER}
_STRINGS = ("db", "jira_url", "jira_user", "jira_token", "queue")


def _enum(value: Union[str, int], table: Mapping[str, int], what: str) -> int:
    if isinstance(value, str):
        try:
            return table[value]
        except KeyError:
            raise ValueError("%s must be one of %s" % (what, ", ".join(table))) from None
    return _int(value, what)


def open(db: Optional[str] = None, *, tenant: Optional[int] = None,
         integration: Optional[int] = None, jira_url: Optional[str] = None,
         jira_user: Optional[str] = None, jira_token: Optional[str] = None,
         jira_auth: Union[Auth, str, None] = None,
         jira_flavor: Union[Flavor, str, None] = None, queue: Optional[str] = None,
         concurrency: Optional[int] = None, connect_timeout_ms: Optional[int] = None,
         request_timeout_ms: Optional[int] = None, max_attempts: Optional[int] = None,
         batch_size: Optional[int] = None, log: Optional[LogCallback] = None,
         log_level: Union[LogLevel, int, None] = None) -> Client:
    """Open a client (every ``jetl_options`` field is a keyword argument).

    Strings left as None come from the environment as in C (JETL_DB,
    JETL_JIRA_URL, …, JETL_QUEUE; no queue means in-process; ``queue=""``
    forces in-process even when JETL_QUEUE is set). ``jira_auth`` is an
    :class:`Auth` or ``"basic"``/``"bearer"``, ``jira_flavor`` a
    :class:`Flavor` or ``"auto"``/``"cloud"``/``"server"``. ``log`` is a
    callable ``log(level, message)``; it may be called from worker threads.
    Raises DatabaseConnectionError (with libpq's reason) when PostgreSQL
    cannot be reached. It blocks while it connects: from asyncio code, use
    ``await jetl.aopen(...)``.
    """
    d: Dict[str, Any] = _c.py_options_defaults()
    for name, value in (("tenant", tenant), ("integration", integration),
                        ("concurrency", concurrency),
                        ("connect_timeout_ms", connect_timeout_ms),
                        ("request_timeout_ms", request_timeout_ms),
                        ("max_attempts", max_attempts), ("batch_size", batch_size),
                        ("log_level", log_level)):
        if value is not None:
            d[name] = _int(value, name)
    if jira_auth is not None:
        d["jira_auth"] = _enum(jira_auth, _AUTH, "jira_auth")
    if jira_flavor is not None:
        d["jira_flavor"] = _enum(jira_flavor, _FLAVOR, "jira_flavor")
    for name, text in zip(_STRINGS, (db, jira_url, jira_user, jira_token, queue)):
        if text is not None and not isinstance(text, str):
            raise TypeError("%s must be a str or None" % name)
    if log is not None and not callable(log):
        raise TypeError("log must be callable")
    c_log: Optional[Callable[[int, str], None]] = None
    if log is not None:
        user_log = log

        def c_log_level(level: int, message: str) -> None:
            user_log(LogLevel(level), message)
        c_log = c_log_level
    handle = _c.py_open(db, d["tenant"], d["integration"], jira_url, jira_user,
                        jira_token, d["jira_auth"], d["jira_flavor"], queue,
                        d["concurrency"], d["connect_timeout_ms"],
                        d["request_timeout_ms"], d["max_attempts"],
                        d["batch_size"], c_log, d["log_level"])
    return Client(handle, c_log)


async def aopen(db: Optional[str] = None, **options: Any) -> Client:
    """:func:`open` on a thread of the event loop's default executor, so the
    connection to PostgreSQL does not block the loop. Same arguments."""
    loop = asyncio.get_running_loop()
    fut = loop.run_in_executor(None, functools.partial(open, db, **options))
    try:
        return await asyncio.shield(fut)
    except asyncio.CancelledError:
        # The open goes on in its thread: close what it opens.
        def close_late(f: "asyncio.Future[Client]") -> None:
            if not f.cancelled() and f.exception() is None:
                f.result().close()
        fut.add_done_callback(close_late)
        raise


class _Cancel:
    """How an async call reaches the C cancel path from the event loop: the
    progress wrapper running on the executor thread returns True once
    ``event`` is set, and hands each event to the user's callback on the
    loop. The user callback's exception or true result cancels too."""

    def __init__(self, loop: asyncio.AbstractEventLoop, user: Optional[ProgressCallback]):
        self.loop = loop
        self.user = user
        self.event = threading.Event()
        self.error: Optional[BaseException] = None

    def _deliver(self, p: Progress) -> None:
        if self.user is None or self.event.is_set():
            return
        try:
            if self.user(p):
                self.event.set()
        except Exception as e:   # re-raised from the await
            self.error = e
            self.event.set()

    def __call__(self, p: Progress) -> bool:
        if self.user is not None and not self.event.is_set():
            try:
                self.loop.call_soon_threadsafe(self._deliver, p)
            except RuntimeError:   # the loop is closed: nobody is waiting
                return True
        return self.event.is_set()


class Client:
    """An open jetl client over one C context (``jetl_ctx``). Use it as a
    context manager, or call :meth:`close`.

    One call at a time: as in Go, calls from several threads take turns (a
    lock around every C call), and a call made from the client's own
    progress callback raises :class:`StateError` instead of re-entering C.
    :meth:`worker_stop` is the exception: any thread may call it while
    another runs :meth:`worker_run`. :meth:`close` stops a running worker,
    then waits for the call in progress.
    """

    def __init__(self, handle: Any, log: Optional[Callable[[int, str], None]] = None) -> None:
        self._h: Any = handle
        self._log = log           # the C context borrows it until close()
        self._lock = threading.Lock()
        self._owner: Optional[int] = None   # thread inside a C call

    # -- life
    def close(self) -> None:
        """Close the client; harmless when already closed. Stops a running
        worker first, then waits for the call in progress."""
        h = self._h
        if h is None:
            return
        if self._owner == threading.get_ident():
            raise StateError(Status.ESTATE, "close() from the client's own progress callback")
        # worker_run clears a stop that comes before it starts: repeat it.
        while not self._lock.acquire(timeout=0.05):
            _c.worker_stop(h)
        try:
            h, self._h = self._h, None
            if h is not None:
                _c.close(h)
            self._log = None
        finally:
            self._lock.release()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    def __del__(self) -> None:
        if getattr(self, "_h", None) is not None:
            self.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._h is None

    def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        """fn(handle, *args) under the lock: one C call at a time."""
        if self._owner == threading.get_ident():
            raise StateError(Status.ESTATE, "a progress callback cannot call its own client")
        with self._lock:
            h = self._h
            if h is None:
                raise StateError(Status.ESTATE, "client is closed")
            self._owner = threading.get_ident()
            try:
                return fn(h, *args)
            finally:
                self._owner = None

    # -- getters
    @property
    def tenant(self) -> int:
        """The tenant id the client works for."""
        return int(self._call(_c.tenant_id))

    @property
    def integration(self) -> int:
        """The integration id the client works for."""
        return int(self._call(_c.integration_id))

    @property
    def last_error(self) -> str:
        """Message of the last failure on this client ("" when none)."""
        return str(self._call(_c.last_error))

    # -- operations
    def migrate(self) -> None:
        """Create or upgrade the schema; idempotent."""
        self._call(_c.migrate)

    def extract_project(self, key: str, full: bool = False, jql: Optional[str] = None,
                        progress: Optional[ProgressCallback] = None,
                        dev_status: bool = True) -> ExtractResult:
        """Extract one project: issues, complete changelogs, dev status.

        ``full`` ignores the watermark; ``jql`` narrows the query;
        ``progress`` is called on this thread for each event and cancels the
        call (:class:`CancelledError`) by returning True; an exception it
        raises cancels the call and is re-raised from it. Blocks: from
        asyncio code use :meth:`aextract_project`.
        """
        opts = {"full": _flag(full, "full"), "jql": _opt_str(jql, "jql"),
                "dev_status": _flag(dev_status, "dev_status"),
                "progress": _callback(progress, "progress")}
        return _build(ExtractResult, self._call(_c.extract_project, _str(key, "key"), opts))

    def extract(self, keys: Union[str, Iterable[str]] = (),
                progress: Optional[ProgressCallback] = None, wait: bool = False,
                distribute: bool = False, full: bool = False, jql: Optional[str] = None,
                dev_status: bool = True, wait_seconds: Optional[int] = None) -> int:
        """A job over several projects (every visible one when ``keys`` is
        empty); returns its id. ``wait`` returns once every raw row is
        transformed; ``wait_seconds`` (implies ``wait``) gives up after that
        many seconds: :class:`JiraTimeoutError`, the job failed, its rows
        still queued. ``distribute`` publishes the projects to the workers."""
        keylist = _keys(keys)
        seconds = _opt_int(wait_seconds, "wait_seconds")
        opts = {"full": _flag(full, "full"), "jql": _opt_str(jql, "jql"),
                "dev_status": _flag(dev_status, "dev_status"),
                "wait": _flag(wait, "wait") or bool(seconds),
                "distribute": _flag(distribute, "distribute"),
                "progress": _callback(progress, "progress")}
        if seconds:
            opts["wait_seconds"] = seconds
        return int(self._call(_c.extract, keylist, opts))

    def transform_batch(self, raw_id: int) -> TransformResult:
        """Transform one raw row."""
        return _build(TransformResult, self._call(_c.transform_batch, _int(raw_id, "raw_id")))

    def worker_run(self, until_idle: bool = False, threads: int = 1, distribute: bool = False,
                   progress: Optional[ProgressCallback] = None, idle_ms: Optional[int] = None,
                   prefetch: Optional[int] = None, max_deliveries: Optional[int] = None) -> None:
        """Consume queue messages until :meth:`worker_stop` or :meth:`close`
        (or idle, if asked). From asyncio code use :meth:`aworker_run`."""
        opts = {"until_idle": _flag(until_idle, "until_idle"), "threads": _int(threads, "threads"),
                "distribute": _flag(distribute, "distribute"),
                "progress": _callback(progress, "progress"),
                "idle_ms": _opt_int(idle_ms, "idle_ms"), "prefetch": _opt_int(prefetch, "prefetch"),
                "max_deliveries": _opt_int(max_deliveries, "max_deliveries")}
        self._call(_c.worker_run, opts)

    def worker_stop(self) -> None:
        """Ask :meth:`worker_run` to return; safe from any thread (no lock)."""
        h = self._h
        if h is not None:
            _c.worker_stop(h)

    def job(self, job_id: int) -> Job:
        """Status, progress and totals of a job (:class:`NoEntryError` if none)."""
        return _job(self._call(_c.job_get, _int(job_id, "job_id")))

    def job_cancel(self, job_id: int) -> None:
        """Cancel a queued or running job: whichever process runs it stops at
        its next batch. Use another client than the one running the job."""
        self._call(_c.job_cancel, _int(job_id, "job_id"))

    def jobs(self, limit: int = 20) -> List[int]:
        """Ids of the most recent jobs of this tenant/integration, newest first."""
        return [int(i) for i in self._call(_c.job_list, _int(limit, "limit"))]

    def job_sweep(self) -> int:
        """End the jobs whose process stopped and recover what they left
        behind; returns how many jobs it ended."""
        return int(self._call(_c.job_sweep))

    def fields_sync(self) -> int:
        """Read Jira's field list into jira_fields; returns the number of fields."""
        return int(self._call(_c.fields_sync))

    def fields(self) -> List[Field]:
        """The synced Jira fields with their slots."""
        return [_build(Field, f) for f in self._call(_c.fields_list)]

    def field_map(self, field_id: str, slot: int) -> None:
        """Put a custom field in slot 1..20 (0 unmaps it)."""
        self._call(_c.field_map, _str(field_id, "field_id"), _int(slot, "slot"))

    # -- integrations (jetl/integration.h): the client's tenant only
    def integration_add(self, name: str, base_url: str, secret: Optional[str] = None,
                        **fields: Any) -> int:
        """Add a Jira site; returns its id. ``secret`` is the token (sealed with
        JETL_SECRET_KEY before it is stored) or an ``env:NAME``/``file:/path``
        reference. Other fields: id, flavor, auth, user, active, projects, jql,
        concurrency, dev_status (as :class:`Integration`)."""
        d = _integration.fields(name=_str(name, "name"), base_url=_str(base_url, "base_url"),
                                **fields)
        return int(self._call(_c.py_integration_add, d, _opt_str(secret, "secret")))

    def integration_update(self, id: int, secret: Optional[str] = None, **fields: Any) -> None:
        """Change the given fields (and the secret when given) of an integration."""
        self._call(_c.py_integration_update, _int(id, "id"), _integration.fields(**fields),
                   _opt_str(secret, "secret"))

    def integration_get(self, id: int = 0) -> "_integration.Integration":
        """One integration of this tenant (0: the client's); :class:`NoEntryError`
        ("integration 7 of tenant 3 not found") for an unknown one or another
        tenant's."""
        return _integration.integration(self._call(_c.py_integration_get, _int(id, "id")))

    def integrations(self) -> List["_integration.Integration"]:
        """Every integration of this tenant, by id."""
        return [_integration.integration(d) for d in self._call(_c.py_integration_list)]

    def integration_set_secret(self, id: int, secret: Optional[str]) -> None:
        """Replace the secret (None removes it)."""
        self._call(_c.py_integration_set_secret, _int(id, "id"), _opt_str(secret, "secret"))

    def webhook_secret(self, id: int = 0, new: bool = False) -> Tuple[str, str]:
        """(secret, path token) of integration ``id``'s webhook secret (0: the
        client's): the stored one, or with ``new`` a fresh one generated,
        sealed and stored in its place (jetl/webhook.h). :class:`NoEntryError`
        when the integration has none (or does not exist)."""
        secret, path = self._call(_c.py_webhook_secret, _int(id, "id"),
                                  1 if _flag(new, "new") else 0)
        return secret, path

    def webhook_secret_remove(self, id: int = 0) -> None:
        """Remove the webhook secret: every delivery is refused from then on."""
        self._call(_c.py_webhook_secret_remove, _int(id, "id"))

    def integration_remove(self, id: int) -> None:
        """Remove an integration (its data stays)."""
        self._call(_c.py_integration_remove, _int(id, "id"))

    def integration_test(self, id: int = 0) -> "_integration.IntegrationTest":
        """serverInfo + myself, once each: the flavor, version, user and time
        zone, or the failure class. Raises only when the lookup fails."""
        return _integration.integration_test(self._call(_c.py_integration_test, _int(id, "id")))

    def secret_rotate(self, old_key: str) -> int:
        """Re-seal every tenant's secrets from old_key to the current
        JETL_SECRET_KEY, in one transaction; returns how many."""
        return int(self._call(_c.py_secret_rotate, _str(old_key, "old_key")))

    def projects_sync(self) -> int:
        """Read the integration's projects, issue types and statuses from Jira."""
        return int(self._call(_c.py_projects_sync))

    def projects(self) -> List["_integration.Project"]:
        """The stored projects of the client's integration."""
        return [_integration.project(d) for d in self._call(_c.py_projects_list)]

    def projects_select(self, keys: Iterable[str]) -> None:
        """The projects an extraction without keys takes (empty: every active one)."""
        self._call(_c.py_projects_select, _keys(keys))

    # -- asyncio
    async def _run_cancellable(self, fn: Callable[[Optional[ProgressCallback]], _T],
                               progress: Optional[ProgressCallback],
                               stop: Optional[Callable[[], None]] = None) -> _T:
        """Run fn(progress_wrapper) on the loop's default executor. If the
        awaiting task is cancelled, the C call is cancelled (through the
        progress callback, or ``stop``), waited for, and the task's
        CancelledError goes on."""
        loop = asyncio.get_running_loop()
        # Checked here: the wrapper below is callable whatever the user gave.
        cancel = _Cancel(loop, _callback(progress, "progress"))
        fut = loop.run_in_executor(None, fn, cancel)
        try:
            result = await asyncio.shield(fut)
        except Error:
            # The C call was cancelled because the callback raised: its
            # exception is the one to see (as with the blocking calls).
            if cancel.error is not None:
                raise cancel.error from None
            raise
        except asyncio.CancelledError:
            cancel.event.set()
            while not fut.done():
                if stop is not None:
                    stop()
                try:
                    await asyncio.wait({fut}, timeout=0.05)
                except asyncio.CancelledError:
                    pass   # cancelled again: still wait for the thread
            if not fut.cancelled():
                fut.exception()   # retrieved: the task's cancel is what counts
            raise
        if cancel.error is not None:
            raise cancel.error
        return result

    async def aextract_project(self, key: str, full: bool = False, jql: Optional[str] = None,
                               progress: Optional[ProgressCallback] = None,
                               dev_status: bool = True) -> ExtractResult:
        """:meth:`extract_project` without blocking the event loop: it runs on
        the loop's default executor. ``progress`` is called on the event
        loop's thread (it may touch asyncio objects); a true result or an
        exception cancels the extraction at its next progress event.
        Cancelling the awaiting task cancels the extraction the same way
        (the job ends ``cancelled``) and raises asyncio.CancelledError once
        the C call has returned."""
        return await self._run_cancellable(
            lambda cb: self.extract_project(key, full=full, jql=jql, progress=cb,
                                            dev_status=dev_status),
            progress)

    async def aextract(self, keys: Union[str, Iterable[str]] = (),
                       progress: Optional[ProgressCallback] = None, wait: bool = False,
                       distribute: bool = False, full: bool = False,
                       jql: Optional[str] = None, dev_status: bool = True,
                       wait_seconds: Optional[int] = None) -> int:
        """:meth:`extract` without blocking the event loop; cancellation and
        ``progress`` as in :meth:`aextract_project`."""
        keylist = _keys(keys)
        seconds = _opt_int(wait_seconds, "wait_seconds")
        return await self._run_cancellable(
            lambda cb: self.extract(keylist, progress=cb, wait=wait, distribute=distribute,
                                    full=full, jql=jql, dev_status=dev_status, wait_seconds=seconds),
            progress)

    async def aworker_run(self, until_idle: bool = False, threads: int = 1,
                          distribute: bool = False,
                          progress: Optional[ProgressCallback] = None,
                          idle_ms: Optional[int] = None, prefetch: Optional[int] = None,
                          max_deliveries: Optional[int] = None) -> None:
        """:meth:`worker_run` without blocking the event loop. Cancelling the
        awaiting task stops the worker (:meth:`worker_stop`; the messages in
        hand are finished first) and raises asyncio.CancelledError."""
        await self._run_cancellable(
            lambda cb: self.worker_run(until_idle=until_idle, threads=threads,
                                       distribute=distribute, progress=cb, idle_ms=idle_ms,
                                       prefetch=prefetch, max_deliveries=max_deliveries),
            progress, stop=self.worker_stop)
