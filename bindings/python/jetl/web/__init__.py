"""jetl.web: the ETL service as a FastAPI router, to mount in your own app::

    import fastapi, jetl.web
    app = fastapi.FastAPI()
    app.include_router(jetl.web.router(db="postgresql://…", tokens={"secret-token-1": 1}),
                       prefix="/api/v1/etl")

Endpoints (under the prefix; every answer is JSON but the event stream and
the page, every error is ``{"detail": "…"}`` with its status):

    POST /jira/extract/issues-changelogs-dev-status/{integration_id}
         ?tenant_id=N&project_keys=A&project_keys=B&incremental=true
    GET  /jobs?integration_id=&status=&limit=  the tenant's recent jobs
    GET  /raw?job_id=&status=&type=&limit=     raw rows (no raw data), newest first
    GET  /raw/{raw_id}                         one raw row, its issue errors
    POST /raw/{raw_id}/retry                   transform a failed raw row again
    GET  /jobs/{job_id}                        one job: row, totals, raw rows pending/failed
    POST /jobs/{job_id}/cancel                 stop it at its next batch
    GET  /jobs/{job_id}/events                 text/event-stream, live progress
    GET  /integrations                         what the page offers
    GET  /integrations/{id}/projects           the projects jetl knows of it
    GET  /integrations/{id}/fields             Jira's fields and the 20 slots
    POST /integrations/{id}/fields/sync        read Jira's field list again
    PUT  /integrations/{id}/fields/{field_id}  {"slot": 1..20, or 0 to unmap}
    GET  /issue-errors?integration_id=&project_key=&limit=
                                               issues that could not be stored (issue_errors.py)
    GET  /healthz
    GET  /ui/                                  the page (static files, no build step)

Auth: ``Authorization: Bearer <token>``, one tenant per token (``tokens``);
the event stream also takes ``?access_token=`` for EventSource clients.
Request bodies are capped at 64 KiB, checked before the token (400 for a bad
Content-Length, 411 when chunked, 413 over the cap; none is an empty body).

Threads: every blocking call (libjetl, PostgreSQL) runs in a worker thread,
never on the event loop; each extraction runs in a thread of its own with its
own jetl context. One PostgreSQL connection LISTENs for ``jetl_progress`` and
feeds every open event stream.
"""
import asyncio
import dataclasses
import datetime
import decimal
import hmac
import json
import logging
import os
import re
import select
import threading
import time
from typing import List, Optional, Tuple

import anyio
import psycopg2
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Security
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.security import APIKeyQuery, HTTPBearer

import jetl

from . import metrics as _metrics
from . import webhook
from . import issue_errors as _issue_errors

__all__ = ["router", "Service", "MAX_BODY"]

HERE = os.path.dirname(os.path.abspath(__file__))
STATIC = os.path.join(HERE, "static")
CHANNEL = "jetl_progress"
TERMINAL = ("finished", "failed", "cancelled")
KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
FIELD_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
STATIC_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
MAX_BODY = 64 * 1024        # no endpoint needs more; checked before the token
LENGTH_RE = re.compile(r"^[0-9]{1,18}$")
INT_MAX = 2**31 - 1          # integration ids are PostgreSQL integers
KEEPALIVE_S = 15.0          # an SSE comment this often keeps proxies from closing the stream
RECHECK_S = 5.0             # without news, read the row again (a process that died sends nothing)
START_TIMEOUT_S = 60.0      # how long the trigger waits for the library to create the job
SLOTS = 20
POOL_SIZE = 16              # PostgreSQL connections for reads; more requests wait for one
# Jira's failures (answered 502); the binding's own names, old or new
JIRA_ERRORS = tuple(getattr(jetl, n) for n in (
    "AuthError", "ForbiddenError", "NetworkError", "JiraTimeoutError", "HTTPError", "RateLimitError",
    "ProtocolError", "NotFoundError") if n in getattr(jetl, "__all__", ()) or n in vars(jetl))


def _json_default(v):
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    raise TypeError("not JSON serializable: %r" % type(v))


def dumps(obj):
    return json.dumps(obj, default=_json_default, separators=(",", ":"))


class Conflict(HTTPException):
    """409 that names the job already running."""

    def __init__(self, detail, job_id):
        super().__init__(409, detail, headers={"X-Jetl-Job-Id": str(job_id)})
        self.job_id = job_id


class _Json(JSONResponse):
    def render(self, content):
        return dumps(content).encode()


JOB_SQL = ("SELECT j.id, j.tenant_id, j.integration_id, j.job_type, j.status, j.params,"
           " j.step, j.total_steps, j.step_name, j.items_done, j.items_total, j.message,"
           " j.detail, j.projects_done, j.projects_total,"
           " j.error, j.created_at, j.started_at, j.updated_at, j.finished_at, j.totals,"
           " (SELECT count(*) FROM raw_extraction_data r WHERE r.job_id = j.id AND r.active"
           "   AND r.status IN ('pending', 'processing')) AS raw_pending,"
           " (SELECT count(*) FROM raw_extraction_data r WHERE r.job_id = j.id AND r.active"
           "   AND r.status = 'failed') AS raw_failed,"
           " (SELECT count(*) FROM raw_extraction_data r WHERE r.job_id = j.id AND r.active"
           "   AND r.status = 'completed') AS raw_done,"
           # issues of the job's raw rows that could not be stored, still missing
           " (SELECT count(*) FROM raw_extraction_data r JOIN issue_errors e ON e.tenant_id = r.tenant_id"
           "   AND e.integration_id = r.integration_id AND e.raw_id = r.id WHERE r.job_id = j.id) AS not_stored"
           " FROM etl_job_queue j WHERE j.id = %s AND j.tenant_id = %s")

LIST_SQL = ("SELECT j.id, j.integration_id, j.status, j.params, j.step, j.total_steps, j.step_name,"
            " j.message, j.detail, j.projects_done, j.projects_total, j.error, j.created_at, j.started_at,"
            " j.updated_at, j.finished_at, j.totals"
            " FROM etl_job_queue j WHERE j.tenant_id = %s AND (%s::int IS NULL OR j.integration_id = %s::int)"
            " AND (%s::text IS NULL OR j.status = %s::text)"
            " ORDER BY j.id DESC LIMIT %s")
# A live claim (src/store/claims.c) on a project a trigger without keys
# would extract: the integration's selected projects, else its active ones
KNOWN_BUSY_SQL = ("SELECT c.job_id, c.project_key, coalesce(to_char(j.started_at AT TIME ZONE 'UTC',"
                  " 'YYYY-MM-DD HH24:MI:SS') || ' UTC', 'its creation') AS since"
                  " FROM etl_project_claims c JOIN etl_job_queue j ON j.id = c.job_id"
                  " WHERE c.tenant_id = %s AND c.integration_id = %s AND j.status IN ('queued', 'running')"
                  " AND (j.lease_until IS NULL OR j.lease_until > now())"
                  " AND c.project_key IN (SELECT upper(p.key) FROM projects p WHERE p.tenant_id = %s"
                  "  AND p.integration_id = %s AND p.active AND (p.selected OR NOT EXISTS (SELECT 1 FROM projects q"
                  "  WHERE q.tenant_id = %s AND q.integration_id = %s AND q.active AND q.selected)))"
                  " ORDER BY c.job_id, c.project_key LIMIT 1")
JOB_STATUSES = ("queued", "running", "finished", "failed", "cancelled")
# The seed system's answer to its trigger, word for word
STARTED = "Issues, changelogs, and dev status extraction started"


def _tok_map(tokens):
    out = {}
    for tok, tenant in (tokens or {}).items():
        if not isinstance(tok, str) or len(tok) < 8:
            raise ValueError("every token must be a string of 8 characters or more")
        if isinstance(tenant, bool) or not isinstance(tenant, int) or tenant <= 0:
            raise ValueError("a token's tenant must be a positive integer")
        out[tok.encode()] = tenant
    if not out:
        raise ValueError("no tokens: pass tokens={token: tenant_id}")
    return out


def tokens_from_env():
    """{token: tenant} from $JETL_SERVICE_TOKENS_FILE or $JETL_SERVICE_TOKENS (JSON)."""
    path = os.environ.get("JETL_SERVICE_TOKENS_FILE")
    if path:
        with open(path) as f:
            return json.load(f)
    text = os.environ.get("JETL_SERVICE_TOKENS", "")
    return json.loads(text) if text else {}


class _Pool:
    """PostgreSQL connections for the endpoints' reads: kept open (psycopg2's
    pools close what is over their minimum, so a burst reconnected every
    time), made outside the lock (in parallel), and a request that finds
    them all busy waits its turn (psycopg2's pools refuse it instead)."""

    def __init__(self, db, size):
        self.db, self.size = db, size
        self.idle, self.count = [], 0
        self.cv = threading.Condition()

    def get(self):
        with self.cv:
            while not self.idle and self.count >= self.size:
                self.cv.wait()
            if self.idle:
                return self.idle.pop()
            self.count += 1
        try:
            conn = psycopg2.connect(self.db)
            conn.autocommit = True
            return conn
        except BaseException:
            with self.cv:
                self.count -= 1
                self.cv.notify()
            raise

    def put(self, conn, bad=False):
        with self.cv:
            if bad or conn.closed:
                self.count -= 1
            else:
                self.idle.append(conn)
            self.cv.notify()
        if bad and not conn.closed:
            conn.close()

    def closeall(self):
        with self.cv:
            idle, self.idle = self.idle, []
            self.count -= len(idle)
        for c in idle:
            c.close()


class _Notifier:
    """One LISTEN connection for every event stream: a thread waits on it and
    hands each notification to the streams of its job, on the event loop."""

    def __init__(self, db):
        self.db = db
        self.lock = threading.Lock()
        self.subs = {}           # job_id -> set of (loop, asyncio.Queue)
        self.thread = None
        self.stop = threading.Event()
        self.ready = threading.Event()

    def subscribe(self, job_id, loop):
        q = asyncio.Queue()
        with self.lock:
            self.subs.setdefault(job_id, set()).add((loop, q))
            if self.thread is None or not self.thread.is_alive():
                self.ready.clear()
                self.thread = threading.Thread(target=self._run, name="jetl-web-listen", daemon=True)
                self.thread.start()
        return q

    def unsubscribe(self, job_id, loop, q):
        with self.lock:
            s = self.subs.get(job_id)
            if s:
                s.discard((loop, q))
                if not s:
                    del self.subs[job_id]

    def _run(self):
        while not self.stop.is_set():
            try:
                conn = psycopg2.connect(self.db)
            except psycopg2.Error:
                time.sleep(1.0)
                continue
            try:
                conn.autocommit = True
                conn.cursor().execute("LISTEN " + CHANNEL)
                self.ready.set()
                while not self.stop.is_set():
                    if not select.select([conn], [], [], 0.5)[0]:
                        continue
                    conn.poll()
                    while conn.notifies:
                        self._deliver(conn.notifies.pop(0).payload)
            except (psycopg2.Error, OSError):
                time.sleep(0.5)   # the streams re-read their rows every few seconds meanwhile
            finally:
                self.ready.clear()
                conn.close()

    def _deliver(self, payload):
        try:
            p = json.loads(payload)
        except ValueError:
            return
        with self.lock:
            targets = list(self.subs.get(p.get("job_id"), ()))
        for loop, q in targets:
            try:
                loop.call_soon_threadsafe(q.put_nowait, p)
            except RuntimeError:
                pass   # that loop is closed


class Service:
    """What the router's endpoints share: configuration, a PostgreSQL pool,
    the extraction threads, the LISTEN thread. ``router()`` makes one; it is
    ``r.jetl`` on the router it returns."""

    def __init__(self, db=None, queue=None, tokens=None, jira=None):
        self.db = db or os.environ.get("JETL_DB") or ""
        if not self.db:
            raise ValueError("jetl.web: no database: pass db= or set JETL_DB")
        self.queue = os.environ.get("JETL_QUEUE", "") if queue is None else queue
        # None: each context takes its Jira connection from its integration
        # row (or from $JETL_JIRA_URL & co. when set: they win, as in C)
        self.jira = dict(jira or {})
        self.tokens = _tok_map(tokens if tokens is not None else tokens_from_env())
        self.pool = _Pool(self.db, POOL_SIZE)
        self.notifier = _Notifier(self.db)
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.threads = set()

    # -- auth
    def tenant_for(self, token):
        if not token:
            return None
        tok, found = token.encode(), None
        for known, tenant in self.tokens.items():
            if hmac.compare_digest(known, tok):
                found = tenant
        return found

    # -- database (blocking: call through anyio.to_thread)
    def query(self, sql, args, one=False):
        conn = self.pool.get()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                cols = [d[0] for d in cur.description]
                rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        except psycopg2.Error:
            self.pool.put(conn, bad=True)
            raise
        self.pool.put(conn)
        return (rows[0] if rows else None) if one else rows

    def job_row(self, job_id, tenant):
        return self.query(JOB_SQL, (job_id, tenant), one=True)

    def ctx(self, tenant, integration):
        return jetl.open(db=self.db, tenant=tenant, integration=integration, queue=self.queue,
                         log=log_to_logging, **self.jira)

    # -- extraction
    def start(self, tenant, integration, keys, incremental):
        """Start an extraction thread and wait until its job row exists.
        Returns ("started", job_id), ("running", (job_id, message)) when
        another running job extracts one of the projects (the library
        decides, for any overlap, in any process: jetl.BusyError), or
        ("error", exception)."""
        if not keys:
            # Every project: the library learns them inside the job (the
            # answer does not wait for Jira), so a job already extracting
            # one the integration is known to have answers 409 now, as with
            # keys; one found only by this discovery fails the new job.
            row = self.query(KNOWN_BUSY_SQL, (tenant, integration) * 3, one=True)
            if row:
                return "running", (row["job_id"], "extract: project %s is being extracted by job %d (running since"
                                   " %s)" % (row["project_key"], row["job_id"], row["since"]))
        mine = {"job_id": None, "error": None, "ready": threading.Event()}

        def progress(p):
            if mine["job_id"] is None and p.job_id:
                mine["job_id"] = p.job_id
                mine["ready"].set()
            return self.stopping.is_set()   # True cancels: the service is shutting down

        def run():
            # the seed system's log lines, word for word
            LOG.info("Starting issues extraction for integration %d", integration)
            try:
                with self.ctx(tenant, integration) as ctx:
                    job = ctx.extract(keys, full=not incremental, progress=progress)
                    if mine["job_id"] is None:
                        mine["job_id"] = job
                LOG.info("Issues extraction for integration %d completed (job %s)", integration, mine["job_id"])
            except Exception as e:      # the job row (if any) has the error
                mine["error"] = e
                LOG.log(logging.INFO if isinstance(e, jetl.CancelledError) else logging.ERROR,
                        "Issues extraction for integration %d failed: %s", integration,
                        e.message if isinstance(e, jetl.Error) else e)
            finally:
                mine["ready"].set()
                with self.lock:
                    self.threads.discard(threading.current_thread())

        t = threading.Thread(target=run, name="jetl-extract-t%d-i%d" % (tenant, integration), daemon=True)
        with self.lock:
            self.threads.add(t)
        t.start()
        mine["ready"].wait(START_TIMEOUT_S)
        if mine["job_id"] is not None:
            return "started", mine["job_id"]
        if isinstance(mine["error"], jetl.BusyError):
            return "running", (mine["error"].job_id, mine["error"].message)
        return "error", mine["error"] or TimeoutError("the job was not created within %ds" % START_TIMEOUT_S)

    def cancel(self, tenant, job_id):
        row = self.query("SELECT integration_id, status FROM etl_job_queue WHERE id = %s AND tenant_id = %s",
                         (job_id, tenant), one=True)
        if row is None:
            return None
        with self.ctx(tenant, row["integration_id"]) as ctx:
            ctx.job_cancel(job_id)
        return self.job_row(job_id, tenant)

    def shutdown(self, timeout=15.0):
        self.stopping.set()
        self.notifier.stop.set()
        deadline = time.monotonic() + timeout
        with self.lock:
            threads = list(self.threads)
        for t in threads:   # their progress callbacks now return True: the calls cancel
            t.join(max(0.1, deadline - time.monotonic()))
        self.pool.closeall()


LOG = logging.getLogger("jetl")
_LEVELS = {3: logging.ERROR, 4: logging.WARNING, 6: logging.INFO, 7: logging.DEBUG}


def log_to_logging(level, message):
    """libjetl's log lines ("Starting issues extraction for integration 1 …")
    to the "jetl" logger of Python's logging (any thread)."""
    LOG.log(_LEVELS.get(int(level), logging.INFO), "%s", message)


def _record(obj):
    """A binding record (dict, or an object with fields) as a plain dict."""
    if isinstance(obj, dict):
        return obj
    if hasattr(obj, "_asdict"):
        return obj._asdict()
    if dataclasses.is_dataclass(obj):
        return dataclasses.asdict(obj)
    return {k: getattr(obj, k) for k in ("id", "name", "type", "custom", "slot")}


def _err(code, detail):
    return HTTPException(code, detail, headers={"WWW-Authenticate": 'Bearer realm="jetl"'} if code == 401 else None)


TRIGGER_FIELDS = ("project_keys", "incremental")


def trigger_body(raw: bytes) -> Tuple[List[str], Optional[bool]]:
    """The trigger's optional JSON body: {"project_keys": [...] or "A,B",
    "incremental": bool}, the same as its query parameters. Returns (keys,
    incremental or None). A body jetl would otherwise ignore (not JSON, not
    an object, another field, a wrong type) is a 400 naming the cause, so a
    caller who sent {"projects": [...]} is not given every project."""
    if not raw.strip():
        return [], None
    try:
        doc = json.loads(raw)
    except ValueError:
        raise _err(400, "the body is not JSON: send project_keys and incremental as query parameters "
                        "or as a JSON object")
    if not isinstance(doc, dict):
        raise _err(400, "the body must be a JSON object with project_keys and/or incremental")
    unknown = sorted(k for k in doc if k not in TRIGGER_FIELDS)
    if unknown:
        raise _err(400, "unknown field(s) in the body: %s (known: %s)" % (", ".join(unknown)[:200],
                                                                         ", ".join(TRIGGER_FIELDS)))
    keys = doc.get("project_keys", [])
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise _err(400, "project_keys must be a list of project keys or one comma-separated string")
    inc = doc.get("incremental")
    if inc is not None and not isinstance(inc, bool):
        raise _err(400, "incremental must be true or false")
    return keys, inc


def router(db=None, *, queue=None, tokens=None, jira=None, tags=("etl",)):
    """The APIRouter to include (any prefix). db: PostgreSQL conninfo (else
    $JETL_DB); queue: AMQP URL ("" = transform in-process; None: $JETL_QUEUE);
    tokens: {bearer token: tenant_id} (None: $JETL_SERVICE_TOKENS_FILE or
    $JETL_SERVICE_TOKENS); jira: keyword arguments of jetl.open for the Jira
    connection of every integration (None: each integration's row in the
    integrations table, unless $JETL_JIRA_URL is set, which wins as in C).
    An integration id must be one of the tenant's integrations: 400 outside
    1..2147483647, 404 when the tenant has none of that id (another tenant's
    too: the answer does not say that the id exists), 409 when it is inactive.
    Errors raised by this router are
    ``{"detail": …}``; install :func:`install_error_handlers` on the app for the
    same shape on 405/422 and a JSON 500 without a traceback."""
    svc = Service(db=db, queue=queue, tokens=tokens, jira=jira)

    async def body_cap(request: Request):
        """Before the token and before any body is read."""
        if request.headers.getlist("transfer-encoding"):
            raise _err(411, "send a Content-Length (chunked bodies are not accepted)")
        lengths = {v.strip() for v in request.headers.getlist("content-length")}
        if not lengths:   # no body (RFC 9112 6.3): a plain `curl -X POST`
            return
        n = lengths.pop()
        if lengths or not LENGTH_RE.match(n):
            raise _err(400, "bad Content-Length")
        cap = webhook.MAX_BODY if request.url.path.find("/jira/webhook/") >= 0 else MAX_BODY
        if int(n) > cap:
            raise _err(413, "request body over %d bytes" % cap)

    def auth(request: Request, allow_query=False):
        token = None
        h = request.headers.get("authorization", "")
        if h[:7].lower() == "bearer ":
            token = h[7:].strip()
        elif allow_query:
            token = request.query_params.get("access_token")
        tenant = svc.tenant_for(token)
        if tenant is None:
            raise _err(401, "missing or invalid bearer token")
        return tenant

    # Security(...) only puts the schemes in /openapi.json (auth() decides).
    async def tenant_dep(request: Request, _b=Security(_BEARER)):
        return auth(request)

    async def tenant_sse(request: Request, _b=Security(_BEARER), _q=Security(_QUERY_TOKEN)):
        return auth(request, allow_query=True)

    def check_tenant(tenant, asked):
        if asked is not None and asked != tenant:
            raise _err(403, "tenant_id is not this token's tenant")

    INTEGRATION_SQL = "SELECT active FROM integrations WHERE id = %s AND tenant_id = %s"

    def integration_id_ok(integration):
        # An id the column cannot hold is the caller's mistake (400), not a
        # failed query (503, "database unavailable").
        if integration is not None and not 0 < integration <= INT_MAX:
            raise _err(400, "integration_id must be in 1..%d" % INT_MAX)

    async def check_integration(tenant, integration):
        """The tenant's integration (include/jetl/integration.h): 404 when the
        tenant has none of that id, whether another tenant has one or not."""
        integration_id_ok(integration)
        row = await blocking(svc.query, INTEGRATION_SQL, (integration, tenant), True)
        if row is None:
            raise _err(404, "integration %d not found" % integration)
        if not row["active"]:
            raise _err(409, "integration %d is inactive" % integration)

    async def blocking(fn, *args):
        try:
            return await anyio.to_thread.run_sync(fn, *args)
        except psycopg2.Error:
            raise _err(503, "database unavailable")

    r = APIRouter(dependencies=[Depends(body_cap)], tags=list(tags))
    r.jetl = svc
    # GET /metrics (Prometheus), in a module of its own: jetl/web/metrics.py
    r.include_router(_metrics.router(svc, tenant_dep, blocking))
    webhook.install(r, svc, blocking)     # POST /jira/webhook/{integration_id}: jetl/web/webhook.py

    @r.post("/jira/extract/issues-changelogs-dev-status/{integration_id}",
            summary="Start an extraction of issues, changelogs and dev status")
    async def extract(request: Request, integration_id: int = Path(...), tenant: int = Depends(tenant_dep),
                      tenant_id: Optional[int] = Query(None), project_keys: List[str] = Query([]),
                      incremental: Optional[bool] = Query(None)):
        """The seed system's trigger. project_keys may repeat or hold a
        comma-separated list; none means every project the Jira user sees.
        incremental defaults to true. Both may come in a JSON body instead
        ({"project_keys": [...], "incremental": false}); any other body is a
        400. Answers once the job row exists; 409 (with ``job_id``) when
        another running job of the integration extracts any of the projects
        (the library's JETL_EBUSY: any overlap, from any process)."""
        check_tenant(tenant, tenant_id)
        body_keys, body_inc = trigger_body(await request.body())
        if body_inc is not None and incremental is not None and body_inc != incremental:
            raise _err(400, "incremental is %s in the query and %s in the body" % (
                str(incremental).lower(), str(body_inc).lower()))
        incremental = next((v for v in (incremental, body_inc) if v is not None), True)
        await check_integration(tenant, integration_id)
        keys = []
        for v in list(project_keys) + body_keys:
            for k in str(v).split(","):
                k = k.strip()
                if not k:
                    continue
                if not KEY_RE.match(k):
                    raise _err(400, "bad project key: %r" % k[:70])
                if k.upper() not in keys:
                    keys.append(k.upper())
        if svc.stopping.is_set():
            raise _err(503, "shutting down")
        what, val = await blocking(svc.start, tenant, integration_id, keys, incremental)
        if what == "running":
            job_id, why = val
            raise Conflict("an extraction of %s for integration %d is already running (job %d): %s" % (
                ", ".join(keys) or "every visible project", integration_id, job_id, why), job_id)
        if what == "error":
            if isinstance(val, jetl.NoEntryError):
                raise _err(404, val.message)
            code = 502 if isinstance(val, JIRA_ERRORS) else 500
            if isinstance(val, jetl.DatabaseConnectionError):
                code = 503
            raise _err(code, "extraction did not start: %s" % (val.message if isinstance(val, jetl.Error)
                                                                 else str(val)))
        return {
            "success": True,
            "message": STARTED,
            "detail": "%s extraction of %s started (job %d)%s" % (
                "incremental" if incremental else "full", ", ".join(keys) or "every visible project", val,
                "; transform through the queue" if svc.queue else ""),
            "integration_id": integration_id,
            "incremental": incremental,
            "project_keys": keys,
            "job_id": val,
        }

    @r.get("/jobs", summary="The tenant's recent jobs, newest first")
    async def jobs(tenant: int = Depends(tenant_dep), integration_id: Optional[int] = Query(None),
                   status: Optional[str] = Query(None), limit: int = Query(20, ge=1, le=200)):
        integration_id_ok(integration_id)
        if status is not None and status not in JOB_STATUSES:
            raise _err(400, "status must be one of %s" % ", ".join(JOB_STATUSES))
        rows = await blocking(svc.query, LIST_SQL, (tenant, integration_id, integration_id, status, status, limit))
        return _Json({"jobs": rows})

    @r.get("/jobs/{job_id}", summary="One job: status, progress, totals")
    async def job(job_id: int = Path(..., ge=1), tenant: int = Depends(tenant_dep)):
        row = await blocking(svc.job_row, job_id, tenant)
        if row is None:
            raise _err(404, "job %d not found" % job_id)
        return _Json(row)

    @r.post("/jobs/{job_id}/cancel", summary="Cancel a job: it stops at its next batch")
    async def cancel(job_id: int = Path(..., ge=1), tenant: int = Depends(tenant_dep)):
        try:
            row = await blocking(svc.cancel, tenant, job_id)
        except jetl.StateError as e:
            raise _err(409, e.message)
        except jetl.NoEntryError:
            row = None
        if row is None:
            raise _err(404, "job %d not found" % job_id)
        return _Json(row)

    @r.get("/jobs/{job_id}/events", summary="Live progress (text/event-stream)")
    async def events(request: Request, job_id: int = Path(..., ge=1), tenant: int = Depends(tenant_sse)):
        loop = asyncio.get_running_loop()
        q = svc.notifier.subscribe(job_id, loop)     # before the row: nothing is lost
        try:
            await blocking(svc.notifier.ready.wait, 5.0)
            row = await blocking(svc.job_row, job_id, tenant)
        except BaseException:
            svc.notifier.unsubscribe(job_id, loop, q)
            raise
        if row is None:
            svc.notifier.unsubscribe(job_id, loop, q)
            raise _err(404, "job %d not found" % job_id)

        def sse(event, data, seq):
            return ("event: %s\nid: %d\ndata: %s\n\n" % (event, seq, dumps(data))).encode()

        async def stream():
            seq, status, last = 0, row["status"], time.monotonic()
            try:
                yield b"retry: 3000\n\n"
                yield sse("progress", dict(row, source="row"), seq)
                last_check = time.monotonic()
                while status not in TERMINAL and not svc.stopping.is_set():
                    try:
                        p = await asyncio.wait_for(q.get(), 1.0)
                    except asyncio.TimeoutError:
                        p = None
                    now = time.monotonic()
                    if p is not None:
                        if p.get("tenant_id") != tenant:
                            continue
                        seq += 1
                        p["source"] = "notify"
                        yield sse("progress", p, seq)
                        status, last = p.get("status") or status, now
                    elif now - last_check >= RECHECK_S:
                        last_check = now
                        fresh = await blocking(svc.job_row, job_id, tenant)
                        if fresh and fresh["status"] != status:
                            seq += 1
                            yield sse("progress", dict(fresh, source="row"), seq)
                            status, last = fresh["status"], now
                    if status not in TERMINAL and now - last >= KEEPALIVE_S:
                        yield b": keepalive\n\n"
                        last = now
                final = await blocking(svc.job_row, job_id, tenant) or {"id": job_id, "status": status}
                if svc.stopping.is_set() and final["status"] not in TERMINAL:
                    final = dict(final, reason="server shutting down")
                yield sse("end", final, seq + 1)
            finally:
                svc.notifier.unsubscribe(job_id, loop, q)

        return StreamingResponse(stream(), media_type="text/event-stream; charset=utf-8",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @r.get("/integrations", summary="The tenant's integrations (never their secrets)")
    async def integrations(tenant: int = Depends(tenant_dep)):
        rows = await blocking(svc.query, "SELECT id, name, base_url, active FROM integrations"
                              " WHERE tenant_id = %s ORDER BY id", (tenant,))
        return {"integrations": rows}

    @r.get("/integrations/{integration_id}/projects",
           summary="The integration's projects jetl knows (from its discovery and earlier runs)")
    async def projects(integration_id: int = Path(...), tenant: int = Depends(tenant_dep)):
        await check_integration(tenant, integration_id)
        rows = await blocking(svc.query, "SELECT key, name, active, selected FROM projects"
                              " WHERE tenant_id = %s AND integration_id = %s ORDER BY key",
                              (tenant, integration_id))
        return {"integration_id": integration_id, "projects": rows}

    def fields_of(tenant, integration):
        with svc.ctx(tenant, integration) as ctx:
            fields = [_record(f) for f in ctx.fields()]
        filled = {}
        if any(f["slot"] for f in fields):
            cols = ", ".join("count(custom_field_%02d) AS s%d" % (s, s) for s in range(1, SLOTS + 1))
            row = svc.query("SELECT " + cols + " FROM work_items WHERE tenant_id = %s AND integration_id = %s"
                            " AND deleted_at IS NULL", (tenant, integration), one=True)
            filled = {s: row["s%d" % s] for s in range(1, SLOTS + 1)}
        slots = [{"slot": s, "field": None, "filled": filled.get(s, 0)} for s in range(1, SLOTS + 1)]
        for f in fields:
            if f["slot"]:
                slots[f["slot"] - 1]["field"] = f
        return {"integration_id": integration, "fields": fields, "slots": slots}

    @r.get("/integrations/{integration_id}/fields", summary="Jira's fields and the 20 custom-field slots")
    async def fields(integration_id: int = Path(...), tenant: int = Depends(tenant_dep)):
        await check_integration(tenant, integration_id)
        return await blocking(fields_of, tenant, integration_id)

    @r.post("/integrations/{integration_id}/fields/sync", summary="Read Jira's field list again")
    async def fields_sync(integration_id: int = Path(...), tenant: int = Depends(tenant_dep)):
        await check_integration(tenant, integration_id)

        def run():
            with svc.ctx(tenant, integration_id) as ctx:
                return ctx.fields_sync()
        try:
            n = await blocking(run)
        except JIRA_ERRORS as e:
            raise _err(502, "jira: %s" % e.message)
        return {"integration_id": integration_id, "fields": n}

    @r.put("/integrations/{integration_id}/fields/{field_id}",
           summary='Put a custom field in a slot: {"slot": 1..20}, 0 unmaps it')
    async def field_map(request: Request, integration_id: int = Path(...), field_id: str = Path(...),
                        tenant: int = Depends(tenant_dep)):
        """Takes effect for issues transformed from then on: the next run fills the column."""
        await check_integration(tenant, integration_id)
        if not FIELD_RE.match(field_id):
            raise _err(400, "bad field id")
        try:
            body = json.loads(await request.body() or b"null")
            slot = body["slot"]
            if isinstance(slot, bool) or not isinstance(slot, int):
                raise TypeError
        except (ValueError, TypeError, KeyError):
            raise _err(400, 'the body must be {"slot": N} with N in 0..%d' % SLOTS)

        def run():
            with svc.ctx(tenant, integration_id) as ctx:
                ctx.field_map(field_id, slot)
        try:
            await blocking(run)
        except jetl.InvalidArgumentError as e:
            raise _err(400, e.message)
        return {"integration_id": integration_id, "field_id": field_id, "slot": slot}

    @r.get("/healthz", summary="Liveness: the database answers")
    async def healthz():
        await blocking(svc.query, "SELECT 1 AS ok", ())
        return {"status": "ok", "jetl": jetl.version()}

    @r.get("/ui", include_in_schema=False)
    @r.get("/ui/", include_in_schema=False)
    async def page():
        return _static("index.html")

    @r.get("/ui/{name}", include_in_schema=False)
    async def static(name: str):
        return _static(name)

    _issue_errors.add_routes(r, svc, tenant_dep, blocking, _Json)
    from . import raw
    raw.install(r, svc, tenant_dep, blocking, _err)
    r.add_event_handler("shutdown", svc.shutdown)
    _document_errors(r, (tenant_dep, tenant_sse))
    return r


_BEARER = HTTPBearer(auto_error=False, scheme_name="bearer",
                     description="A token of the service's token list: one tenant per token.")
_QUERY_TOKEN = APIKeyQuery(name="access_token", auto_error=False, scheme_name="access_token",
                           description="The same token, for the event stream only (EventSource sends no headers).")
_ERROR_JSON = {"application/json": {"schema": {
    "type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}}}


def _document_errors(r, auth_deps):
    """Every error status a route can answer, in /openapi.json: what each
    route raises by what it takes (a token, an integration, a job), so a
    route added later is documented without a list to keep up."""
    for route in r.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        codes = {400: "a bad id, key, boolean, query or Content-Length",
                 411: "a chunked body (send a Content-Length; none is an empty body)",
                 413: "a body over %d bytes (checked before the token)" % MAX_BODY,
                 503: "database unavailable, or shutting down"}
        if any(d.call in auth_deps for d in route.dependant.dependencies):
            codes[401] = "no token, or an unknown one"
        if any(q.name == "tenant_id" for q in route.dependant.query_params):
            codes[403] = "a tenant_id that is not the token's tenant"
        if "{integration_id}" in route.path:
            codes[404] = "no integration of that id for the token's tenant"
            codes[409] = "the integration is inactive"
        if "{job_id}" in route.path:
            codes[404] = "no job of that id for the token's tenant"
        if "POST" in route.methods and ("{job_id}" in route.path or "{integration_id}" in route.path):
            codes[409] = "an extraction of those projects is running, the integration is inactive, " \
                         "or the job has ended"
        for code, why in codes.items():
            route.responses.setdefault(code, {"description": why, "content": _ERROR_JSON})


_CSP = "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:"


def _static(name):
    if not STATIC_RE.match(name) or name not in os.listdir(STATIC):
        raise HTTPException(404, "not found")
    return FileResponse(os.path.join(STATIC, name), headers={
        "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", "Content-Security-Policy": _CSP})


def install_error_handlers(app):
    """Errors as {"detail": …} everywhere (409 with the running job's id), a
    JSON 500 without a traceback, and 400 rather than 422 for a bad query."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc):
        body = {"detail": exc.detail}
        if isinstance(exc, Conflict):
            body["job_id"] = exc.job_id
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request, exc):
        errs = exc.errors()
        where = ".".join(str(x) for x in errs[0]["loc"]) if errs else "request"
        msg = errs[0]["msg"] if errs else "invalid"
        return JSONResponse({"detail": "%s: %s" % (where, msg)}, status_code=400)

    @app.exception_handler(Exception)
    async def internal(request, exc):
        return JSONResponse({"detail": "internal error"}, status_code=500)
