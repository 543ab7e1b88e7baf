"""jetl.web.webhook: Jira's webhooks into the same pipeline (docs/webhooks.md).

    POST /jira/webhook/{integration_id}           signed: X-Hub-Signature: sha256=<hex>
    POST /jira/webhook/{integration_id}/{token}   unsigned senders: the path token

A delivery is verified (HMAC-SHA256 of the raw body with the integration's
webhook secret, constant-time), stored in ``webhook_events`` (one row per
``X-Atlassian-Webhook-Identifier``: a replay finds its row and changes
nothing) and answered 202; nothing else happens on the request's path, so it
is answered in a few milliseconds. A processor thread then refreshes the
issues through the usual extraction (raw row -> queue -> transform), narrowed
to their ids, with their complete changelog and dev status:

- an issue's events wait until it, and the site's stream of events, have
  been quiet for QUIET_S (at most MAX_WAIT_S after its first), so a burst
  costs one refresh per issue;
- an event whose change the stored row already holds (its issue's
  ``updated`` is not newer than work_items.updated_at) is done without a
  refresh: a refresh covers every event before it, late or out of order;
- ``X-Atlassian-Webhook-Flow: Secondary`` deliveries (the fallout of bulk
  changes) wait SECONDARY_S and go together;
- deletes mark the issue deleted; a late update of a deleted issue is not
  fetched;
- events stay 'pending' until their refresh is stored and queued, so a
  restart (or a failed refresh, retried with backoff) loses none. One
  processor runs at a time across processes (a PostgreSQL advisory lock).
"""
import datetime
import hashlib
import hmac
import json
import logging
import os
import re
import threading
import time

import anyio
import psycopg2
from fastapi import Path, Request
from fastapi.responses import JSONResponse

import jetl

__all__ = ["install", "MAX_BODY", "Processor"]

log = logging.getLogger("jetl.web.webhook")

MAX_BODY = 1024 * 1024      # an issue with every field and its changelog: far more than the API's 64 KiB
PATH_RE = re.compile(r"/jira/webhook/[0-9]+/[^/?]+")
QUIET_S = 0.3               # an issue's events gather until it and its site are quiet this long ...
MAX_WAIT_S = 3.0            # ... or its first event waited this long
SECONDARY_S = float(os.environ.get("JETL_WEBHOOK_SECONDARY_S") or 10.0)   # Secondary deliveries batched this long
SECRET_TTL_S = 30.0         # a new or removed secret takes effect within this
MAX_ATTEMPTS = 8            # a refresh that keeps failing: its events end 'failed'
BUSY_WAIT_S = 2.0           # a project another run is extracting is tried again after this
INFLIGHT_S = 30.0           # how long later events wait for a refresh's transform
CHUNK = 100                 # ids per narrowed extraction
KEEP_DAYS = 7               # done events (and so replay protection) kept this long
LOCK_ID = 0x6a65746c7768    # pg advisory lock: one processor at a time
ACTIONS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created",
           "comment_updated", "comment_deleted", "worklog_created", "worklog_updated", "worklog_deleted")
DELETED = "jira:issue_deleted"

INSERT_SQL = ("INSERT INTO webhook_events (tenant_id, integration_id, delivery_id, event, issue_id, issue_key,"
              " project_key, secondary, event_at, status) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
              " ON CONFLICT DO NOTHING RETURNING 1 AS new")
CANDIDATES_SQL = ("SELECT tenant_id FROM integrations WHERE id = %s AND active AND webhook_secret IS NOT NULL"
                  " AND tenant_id = ANY(%s) ORDER BY tenant_id")
PENDING_SQL = ("SELECT e.tenant_id, e.integration_id, e.delivery_id, e.event, e.issue_id, e.project_key,"
               " e.secondary, e.attempts,"
               " extract(epoch FROM clock_timestamp() - e.received_at)::float8 AS age,"
               " extract(epoch FROM clock_timestamp() - coalesce(e.processed_at, e.received_at))::float8 AS since_try,"
               " (e.event <> '" + DELETED + "' AND e.event_at IS NOT NULL AND w.deleted_at IS NULL"
               "   AND w.updated_at >= e.event_at) IS TRUE AS covered,"
               " EXISTS (SELECT 1 FROM webhook_events d WHERE d.tenant_id = e.tenant_id"
               "   AND d.integration_id = e.integration_id AND d.issue_id = e.issue_id"
               "   AND d.event = '" + DELETED + "') AS deleted"
               " FROM webhook_events e LEFT JOIN work_items w ON w.tenant_id = e.tenant_id"
               "   AND w.integration_id = e.integration_id AND w.external_id = e.issue_id"
               " WHERE e.status = 'pending' ORDER BY e.received_at LIMIT 20000")
MARK_DELETED_SQL = ("UPDATE work_items SET deleted_at = coalesce(deleted_at, now())"
                    " WHERE tenant_id = %s AND integration_id = %s AND external_id = ANY(%s)")
DONE_SQL = ("UPDATE webhook_events SET status = 'done', job_id = %s, error = %s, processed_at = clock_timestamp(),"
            " attempts = attempts + 1 WHERE tenant_id = %s AND integration_id = %s AND delivery_id = ANY(%s)")
RETRY_SQL = ("UPDATE webhook_events SET attempts = attempts + 1, error = %s, processed_at = clock_timestamp(),"
             " status = CASE WHEN attempts + 1 >= %s THEN 'failed' ELSE 'pending' END"
             " WHERE tenant_id = %s AND integration_id = %s AND delivery_id = ANY(%s)")
BUSY_SQL = ("UPDATE webhook_events SET error = %s WHERE tenant_id = %s AND integration_id = %s"
            " AND delivery_id = ANY(%s)")
OPEN_JOBS_SQL = ("SELECT DISTINCT job_id FROM raw_extraction_data WHERE job_id = ANY(%s)"
                 " AND status IN ('pending', 'processing') AND active")
PURGE_SQL = ("DELETE FROM webhook_events WHERE status <> 'pending'"
             " AND received_at < now() - make_interval(days => %s)")


def signature_ok(secret: bytes, body: bytes, header: str) -> bool:
    """X-Hub-Signature ``sha256=<hex>`` of body under secret, compared in constant time."""
    want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want.encode(), (header or "").strip().lower().encode())


def _when(doc, fields):
    """The issue's ``updated`` after the change (what a stored row is compared
    with), else the delivery's ``timestamp`` (epoch ms)."""
    upd = fields.get("updated")
    if isinstance(upd, str):
        try:
            return datetime.datetime.strptime(upd, "%Y-%m-%dT%H:%M:%S.%f%z")
        except ValueError:
            pass
    ts = doc.get("timestamp")
    if isinstance(ts, (int, float)) and not isinstance(ts, bool):
        return datetime.datetime.fromtimestamp(ts / 1000.0, datetime.timezone.utc)
    return None


def parse_event(body: bytes):
    """(event, issue id, key, project key, event_at) of a delivery, or None
    when the body is not a JSON object. Only issue events with a numeric
    issue id lead to a refresh; the others are stored 'ignored'."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    event = str(doc.get("webhookEvent") or doc.get("eventType") or "")[:100]
    issue = doc.get("issue") if isinstance(doc.get("issue"), dict) else {}
    fields = issue.get("fields") if isinstance(issue.get("fields"), dict) else {}
    iid = issue.get("id")
    iid = str(iid) if isinstance(iid, (str, int)) and str(iid).isdigit() else None
    key = issue.get("key") if isinstance(issue.get("key"), str) else None
    project = fields.get("project") if isinstance(fields.get("project"), dict) else {}
    pkey = project.get("key") if isinstance(project.get("key"), str) else None
    if not pkey and key and "-" in key:
        pkey = key.rsplit("-", 1)[0]
    return event, iid, key, pkey, _when(doc, fields)


class _RedactToken(logging.Filter):
    """uvicorn's access log line without the path token of unsigned webhooks."""

    def filter(self, record):
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "/jira/webhook/" in args[2]:
            record.args = args[:2] + (PATH_RE.sub(lambda m: m.group(0).rsplit("/", 1)[0] + "/***", args[2]),) + args[3:]
        elif isinstance(record.msg, str) and "/jira/webhook/" in record.msg:
            record.msg = PATH_RE.sub(lambda m: m.group(0).rsplit("/", 1)[0] + "/***", record.msg)
        return True


_REDACT = _RedactToken()


class _Secrets:
    """Each integration id's opened webhook secrets, per tenant served, read
    again after SECRET_TTL_S. Integration ids are per tenant: the signature
    (or the path token) says which tenant's integration a delivery is for."""

    def __init__(self, svc):
        self.svc, self.lock, self.cache = svc, threading.Lock(), {}

    def get(self, integration):
        now = time.monotonic()
        with self.lock:
            hit = self.cache.get(integration)
        if hit and hit[0] > now:
            return hit[1]
        tenants = sorted(set(self.svc.tokens.values()))
        rows = self.svc.query(CANDIDATES_SQL, (integration, tenants))
        out = []
        for r in rows:
            try:
                with jetl.open(db=self.svc.db, tenant=r["tenant_id"], integration=integration, queue="") as ctx:
                    secret, path = ctx.webhook_secret(integration)
            except jetl.Error as e:
                log.warning("webhook: integration %d of tenant %d: %s", integration, r["tenant_id"], e.message)
                continue
            out.append((r["tenant_id"], secret.encode(), path))
        with self.lock:
            self.cache[integration] = (now + SECRET_TTL_S, out)
        return out


def verify(candidates, body, signature, token):
    """The tenant whose secret signed body (or whose path token this is), or None."""
    for tenant, secret, path in candidates:
        if token is not None and not hmac.compare_digest(token.encode(), path.encode()):
            continue
        if signature is not None and not signature_ok(secret, body, signature):
            continue
        if token is None and signature is None:
            continue
        return tenant
    return None


class Processor:
    """The thread that turns pending events into refreshes (module doc)."""

    def __init__(self, svc):
        self.svc = svc
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.thread = None
        self.lock = threading.Lock()
        self.refreshes = 0          # narrowed extractions run by this process
        self.last_purge = 0.0
        # issue -> (job, since): refreshed, its raw row perhaps not transformed
        # yet (a queue's worker does it): its later events wait for the row,
        # which may well cover them, instead of costing another refresh
        self.inflight = {}
        self.busy_until = {}        # (tenant, integration, project) -> when to try again

    def start(self):
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.stop.clear()
                self.thread = threading.Thread(target=self._run, name="jetl-webhooks", daemon=True)
                self.thread.start()

    def shutdown(self, timeout=10.0):
        self.stop.set()
        self.wake.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def _run(self):
        while not self.stop.is_set():
            conn = None
            try:
                conn = psycopg2.connect(self.svc.db)
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_ID,))
                    if not cur.fetchone()[0]:
                        self.stop.wait(2.0)     # another process processes; take over when it stops
                        continue
                while not self.stop.is_set():
                    delay = self.round(conn)
                    self.wake.wait(delay)
                    self.wake.clear()
            except psycopg2.Error as e:
                log.warning("webhook processor: database: %s", str(e).strip().splitlines()[0] if str(e) else e)
                self.stop.wait(1.0)
            except Exception:       # the thread must outlive a bug: the events stay pending
                log.exception("webhook processor")
                self.stop.wait(1.0)
            finally:
                if conn is not None:
                    conn.close()

    def _rows(self, conn, sql, args=()):
        with conn.cursor() as cur:
            cur.execute(sql, args)
            if cur.description is None:
                return cur.rowcount
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, r)) for r in cur.fetchall()]

    def round(self, conn):
        """One pass: settle what is covered or deleted, refresh what is ready.
        Returns how long to wait before the next pass."""
        now = time.monotonic()
        if now - self.last_purge > 3600:
            self._rows(conn, PURGE_SQL, (KEEP_DAYS,))
            self.last_purge = now
        pending = self._rows(conn, PENDING_SQL)
        if not pending:
            return 1.0
        groups, covered, stream = {}, {}, {}
        for row in pending:
            site = (row["tenant_id"], row["integration_id"])
            if not row["secondary"]:        # the site's newest Primary event
                stream[site] = min(stream.get(site, 1e9), row["age"])
            if row["covered"]:
                covered.setdefault(site, []).append(row["delivery_id"])
            else:
                groups.setdefault(site + (row["issue_id"],), []).append(row)
        for (t, i), deliveries in covered.items():
            self._rows(conn, DONE_SQL, (None, "covered: the stored issue is as new", t, i, deliveries))
        ready, wait = {}, 1.0
        # Secondary deliveries go together once the oldest has waited its time
        batch = max((r["age"] for r in pending if r["secondary"]), default=0.0) >= SECONDARY_S
        busy = self._busy(conn, {g for g in groups if g in self.inflight})
        for (t, i, issue), rows in groups.items():
            left = 0.05 if (t, i, issue) in busy else self._left(rows, batch, stream.get((t, i), 1e9))
            if left > 0:
                wait = min(wait, left)
                continue
            ready.setdefault((t, i), []).append((issue, rows))
        for (t, i), issues in ready.items():
            self._settle(conn, t, i, issues)
        return max(0.02, min(wait, 1.0)) if not ready else 0.02

    def _busy(self, conn, issues):
        """Which of issues have a refresh whose raw rows are still to be
        transformed (for at most INFLIGHT_S); the others leave inflight."""
        now, jobs = time.monotonic(), {}
        for g in list(self.inflight):
            job, since = self.inflight[g]
            if now - since > INFLIGHT_S:
                del self.inflight[g]
            elif g in issues:
                jobs.setdefault(job, []).append(g)
        if not jobs:
            return set()
        open_jobs = {r["job_id"] for r in self._rows(conn, OPEN_JOBS_SQL, (list(jobs),))}
        busy = set()
        for job, gs in jobs.items():
            if job in open_jobs:
                busy.update(gs)
            else:
                for g in gs:
                    self.inflight.pop(g, None)
        return busy

    @staticmethod
    def _left(rows, batch, site_newest):
        """Seconds until an issue's events are due (0: now); batch: the
        Secondary deliveries are due; site_newest: age of the site's newest
        pending event (a burst on many issues goes once it is over)."""
        newest = min(min(r["age"] for r in rows), site_newest)
        oldest = max(r["age"] for r in rows)
        tries = max(r["attempts"] for r in rows)
        if tries:
            backoff = min(300.0, 2.0 ** tries) - min(r["since_try"] for r in rows)
            if backoff > 0:
                return backoff
        if all(r["secondary"] for r in rows):
            return 0.0 if batch else SECONDARY_S - oldest
        return min(QUIET_S - newest, MAX_WAIT_S - oldest)

    def _settle(self, conn, tenant, integration, issues):
        gone, by_project, ids_of = [], {}, {}
        for issue, rows in issues:
            deliveries = [r["delivery_id"] for r in rows]
            if issue is None or not any(r["event"] in ACTIONS for r in rows):
                self._rows(conn, DONE_SQL, (None, "no issue to refresh", tenant, integration, deliveries))
            elif any(r["deleted"] for r in rows):
                gone.append(issue)
                ids_of[issue] = deliveries
            else:
                project = next((r["project_key"] for r in rows if r["project_key"]), None)
                by_project.setdefault(project, []).append(issue)
                ids_of[issue] = deliveries
        if gone:
            self._rows(conn, MARK_DELETED_SQL, (tenant, integration, gone))
            self._rows(conn, DONE_SQL, (None, "deleted", tenant, integration,
                                        [d for g in gone for d in ids_of[g]]))
        for project, ids in by_project.items():
            for k in range(0, len(ids), CHUNK):
                self._refresh(conn, tenant, integration, project, ids[k:k + CHUNK], ids_of)

    def _refresh(self, conn, tenant, integration, project, ids, ids_of):
        deliveries = [d for x in ids for d in ids_of[x]]
        if self.busy_until.get((tenant, integration, project), 0) > time.monotonic():
            return
        jql = "id in (%s)" % ", ".join(ids)
        try:
            if not project:
                raise ValueError("the delivery names no project")
            with self.svc.ctx(tenant, integration) as ctx:
                job = ctx.extract([project], full=True, jql=jql)
        except getattr(jetl, "BusyError", ()) as e:
            # another run extracts the project now (one at a time per project):
            # not a failure, try again shortly (its rows may well cover these)
            log.info("webhook: %s is being extracted (%s): the refresh waits", project, e.message)
            self._rows(conn, BUSY_SQL, (e.message[:500], tenant, integration, deliveries))
            self.busy_until[(tenant, integration, project)] = time.monotonic() + BUSY_WAIT_S
            return
        except (jetl.Error, ValueError) as e:
            msg = (e.message if isinstance(e, jetl.Error) else str(e))[:500]
            log.warning("webhook: refreshing %d issue(s) of %s (integration %d of tenant %d) failed: %s",
                        len(ids), project, integration, tenant, msg)
            self._rows(conn, RETRY_SQL, (msg, MAX_ATTEMPTS, tenant, integration, deliveries))
            return
        self.refreshes += 1
        self._rows(conn, DONE_SQL, (job, None, tenant, integration, deliveries))
        for x in ids:
            self.inflight[(tenant, integration, x)] = (job, time.monotonic())


def install(r, svc, blocking):
    """Add the webhook endpoints to router r (jetl.web's), served by svc."""
    secrets = _Secrets(svc)
    proc = Processor(svc)
    svc.webhooks = proc
    logging.getLogger("uvicorn.access").addFilter(_REDACT)

    async def receive(request, integration_id, token):
        t0 = time.monotonic()
        if integration_id <= 0:
            return JSONResponse({"detail": "integration_id must be positive"}, status_code=400)
        body = await request.body()
        signature = request.headers.get("x-hub-signature")
        candidates = await blocking(secrets.get, integration_id)
        tenant = verify(candidates, body, signature, token)
        if tenant is None:
            log.warning("webhook for integration %d refused: %s (from %s)", integration_id,
                        "no webhook secret" if not candidates else "bad signature" if signature is not None
                        else "bad path token" if token is not None else "unsigned",
                        request.client.host if request.client else "?")
            return JSONResponse({"detail": "signature or path token does not match"}, status_code=401)
        parsed = parse_event(body)
        if parsed is None:
            return JSONResponse({"detail": "the body is not a JSON object"}, status_code=400)
        event, issue, key, project, when = parsed
        delivery = request.headers.get("x-atlassian-webhook-identifier") or (
            "sha256:" + hashlib.sha256(body).hexdigest())
        secondary = request.headers.get("x-atlassian-webhook-flow", "").lower() == "secondary"
        status = "pending" if issue and event in ACTIONS else "ignored"
        row = await blocking(svc.query, INSERT_SQL, (tenant, integration_id, delivery[:200], event, issue, key,
                                                     project, secondary, when, status), True)
        if row:
            proc.start()
            proc.wake.set()
        return JSONResponse({"accepted": bool(row), "duplicate": not row, "event": event,
                             "ms": round((time.monotonic() - t0) * 1000, 1)}, status_code=202)

    @r.post("/jira/webhook/{integration_id}", status_code=202,
            summary="A Jira webhook delivery, signed (X-Hub-Signature: sha256=…)")
    async def webhook(request: Request, integration_id: int = Path(...)):
        return await receive(request, integration_id, None)

    @r.post("/jira/webhook/{integration_id}/{token}", status_code=202,
            summary="A Jira webhook delivery from a sender that cannot sign: the path token instead")
    async def webhook_token(request: Request, integration_id: int = Path(...), token: str = Path(...)):
        return await receive(request, integration_id, token)

    r.add_event_handler("startup", proc.start)
    r.add_event_handler("shutdown", proc.shutdown)
    return proc
