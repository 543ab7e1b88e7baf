#!/usr/bin/python3
"""jetl example service: the seed system's HTTP surface over the
jetl Python binding, plus a page that triggers an extraction and shows its
progress live.

    POST /api/v1/etl/jira/extract/issues-changelogs-dev-status/{integration_id}
         ?tenant_id=N&project_keys=A&project_keys=B&incremental=true
    GET  /api/v1/etl/jobs/{job_id}
    GET  /api/v1/etl/jobs/{job_id}/events      (text/event-stream)
    GET  /                                     (the page; static/)

Configuration (environment):
    JETL_DB                    PostgreSQL conninfo (required)
    JETL_QUEUE                 AMQP URL; unset or empty = transform in-process
    JETL_JIRA_URL, JETL_JIRA_USER, JETL_JIRA_TOKEN, JETL_JIRA_AUTH (basic|bearer)
    JETL_SERVICE_TOKENS        JSON {"bearer-token": tenant_id, ...}
    JETL_SERVICE_TOKENS_FILE   or a file holding that JSON (--tokens-file)

Run with /usr/bin/python3 and PYTHONPATH=<build>/bindings/python. See README.md.
"""
import argparse
import datetime
import decimal
import hmac
import json
import mimetypes
import os
import re
import select
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import psycopg2.pool

import jetl

HERE = os.path.dirname(os.path.abspath(__file__))
STATIC = os.path.join(HERE, "static")
CHANNEL = "jetl_progress"
TERMINAL = ("finished", "failed", "cancelled")
JOB_TYPE = "jira_issues_changelogs_dev_status"
KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
EXTRACT_RE = re.compile(r"^/api/v1/etl/jira/extract/issues-changelogs-dev-status/(\d{1,9})/?$")
JOB_RE = re.compile(r"^/api/v1/etl/jobs/(\d{1,18})/?$")
EVENTS_RE = re.compile(r"^/api/v1/etl/jobs/(\d{1,18})/events/?$")
KEEPALIVE_S = 15.0     # an SSE comment this often keeps proxies from closing the stream
START_TIMEOUT_S = 60.0  # how long a POST waits for the library to create the job
# No endpoint reads a request body (everything is in the path and the query),
# so a small cap costs nothing: a body is read (and dropped) only up to this,
# before the token is looked at, so nobody can make the service buffer more.
MAX_BODY = 64 * 1024
LENGTH_RE = re.compile(r"^[0-9]{1,18}$")
SOCKET_TIMEOUT_S = 60.0  # a client that stops sending (or reading) mid-request is dropped
LINGER_BYTES, LINGER_S = 1 << 20, 2.0  # after refusing a body: discard this much of it, at most


def log(msg):
    print("%s service: %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def _json_default(v):
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    raise TypeError("not JSON serializable: %r" % type(v))


def dumps(obj):
    return json.dumps(obj, default=_json_default, separators=(",", ":"))


def parse_bool(s):
    v = s.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise ValueError(s)


def load_tokens(path):
    """{token: tenant_id} from the file (if given) or JETL_SERVICE_TOKENS."""
    if path:
        with open(path) as f:
            raw = json.load(f)
    else:
        text = os.environ.get("JETL_SERVICE_TOKENS", "")
        if not text:
            raise SystemExit("service: no tokens: set JETL_SERVICE_TOKENS or --tokens-file")
        raw = json.loads(text)
    if not isinstance(raw, dict) or not raw:
        raise SystemExit("service: tokens must be a non-empty JSON object {token: tenant_id}")
    tokens = {}
    for tok, tenant in raw.items():
        if not isinstance(tok, str) or len(tok) < 8:
            raise SystemExit("service: every token must be a string of 8 characters or more")
        if isinstance(tenant, bool) or not isinstance(tenant, int) or tenant <= 0:
            raise SystemExit("service: a token's tenant must be a positive integer")
        tokens[tok.encode()] = tenant
    return tokens


class Service:
    """State shared by the request handlers: config, a connection pool, the
    extraction threads, and the stop flag."""

    def __init__(self, args, tokens):
        self.db = os.environ.get("JETL_DB") or ""
        if not self.db:
            raise SystemExit("service: JETL_DB is not set")
        self.queue = os.environ.get("JETL_QUEUE") or ""
        self.jira = dict(jira_url=os.environ.get("JETL_JIRA_URL") or None,
                         jira_user=os.environ.get("JETL_JIRA_USER") or None,
                         jira_token=os.environ.get("JETL_JIRA_TOKEN") or None)
        if os.environ.get("JETL_JIRA_AUTH"):
            self.jira["jira_auth"] = os.environ["JETL_JIRA_AUTH"]
        self.tokens = tokens
        self.args = args
        self.stopping = threading.Event()
        self.pool = psycopg2.pool.ThreadedConnectionPool(0, 32, self.db)
        self.lock = threading.Lock()
        self.extractions = {}        # thread -> job id (or None before it exists)
        self.workers = []            # (thread, ctx) of in-process queue workers

    # -- auth
    def tenant_for(self, token):
        """Tenant of a bearer token, or None. Compares every token in constant time."""
        if not token:
            return None
        tok = token.encode()
        found = None
        for known, tenant in self.tokens.items():
            if hmac.compare_digest(known, tok):
                found = tenant
        return found

    # -- database
    def query_one(self, sql, args):
        conn = self.pool.getconn()
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql, args)
                row = cur.fetchone()
                if row is None:
                    return None
                return dict(zip([d[0] for d in cur.description], row))
        except psycopg2.Error:
            self.pool.putconn(conn, close=True)
            conn = None
            raise
        finally:
            if conn is not None:
                self.pool.putconn(conn)

    JOB_SQL = ("SELECT j.id, j.tenant_id, j.integration_id, j.job_type, j.status, j.params,"
               " j.step, j.total_steps, j.step_name, j.items_done, j.items_total, j.message,"
               " j.error, j.created_at, j.started_at, j.updated_at, j.finished_at,"
               " (SELECT count(*) FROM raw_extraction_data r WHERE r.job_id = j.id AND r.active"
               "   AND r.status IN ('pending', 'processing')) AS raw_pending,"
               " (SELECT count(*) FROM raw_extraction_data r WHERE r.job_id = j.id AND r.active"
               "   AND r.status = 'failed') AS raw_failed"
               " FROM etl_job_queue j WHERE j.id = %s AND j.tenant_id = %s")

    def job_row(self, job_id, tenant, cur=None):
        """The job row of that tenant as a dict, or None (another tenant's job is None too)."""
        if cur is not None:
            cur.execute(self.JOB_SQL, (job_id, tenant))
            row = cur.fetchone()
            return dict(zip([d[0] for d in cur.description], row)) if row else None
        return self.query_one(self.JOB_SQL, (job_id, tenant))

    # -- extraction
    def start_extraction(self, tenant, integration, keys, incremental):
        """Start the job in a thread; return (job_id, None) once the job row
        exists, or (None, jetl.Error/Exception) when it failed before that."""
        ready = threading.Event()
        box = {"job_id": None, "error": None}

        def progress(p):
            if box["job_id"] is None and p.job_id:
                box["job_id"] = p.job_id
                with self.lock:
                    self.extractions[threading.current_thread()] = p.job_id
                ready.set()
            return self.stopping.is_set()   # True cancels: the service is shutting down

        def run():
            try:
                with jetl.open(db=self.db, tenant=tenant, integration=integration,
                               queue=self.queue, **self.jira) as ctx:
                    job = ctx.extract(keys, full=not incremental, progress=progress)
                    if box["job_id"] is None:
                        box["job_id"] = job
                    log("job %d (tenant %d, integration %d) extraction returned"
                        % (job, tenant, integration))
            except jetl.Error as e:
                box["error"] = e
                log("extraction (tenant %d, integration %d, job %s) failed: %s"
                    % (tenant, integration, box["job_id"], e))
            except Exception as e:    # never let a thread die silently
                box["error"] = e
                log("extraction (tenant %d, integration %d) crashed: %r" % (tenant, integration, e))
            finally:
                ready.set()
                with self.lock:
                    self.extractions.pop(threading.current_thread(), None)

        t = threading.Thread(target=run, name="extract-t%d-i%d" % (tenant, integration), daemon=True)
        with self.lock:
            self.extractions[t] = None
        t.start()
        ready.wait(START_TIMEOUT_S)
        if box["job_id"] is not None:
            return box["job_id"], None
        return None, box["error"] or TimeoutError("the job was not created within %ds" % START_TIMEOUT_S)

    def start_workers(self, n):
        """In-process queue consumers (only meaningful with a queue)."""
        ctx = jetl.open(db=self.db, queue=self.queue, **self.jira)

        def run():
            try:
                ctx.worker_run(threads=n)
            except jetl.Error as e:
                log("worker stopped: %s" % e)

        t = threading.Thread(target=run, name="worker", daemon=True)
        t.start()
        self.workers.append((t, ctx))

    def shutdown(self, timeout=15.0):
        self.stopping.set()
        deadline = time.monotonic() + timeout
        with self.lock:
            threads = list(self.extractions)
        for t in threads:    # their progress callbacks now return True: the calls cancel
            t.join(max(0.1, deadline - time.monotonic()))
        for t, ctx in self.workers:
            ctx.worker_stop()
        for t, ctx in self.workers:
            t.join(max(0.1, deadline - time.monotonic()))
            if not t.is_alive():
                ctx.close()
        self.pool.closeall()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "jetl-service/1"
    timeout = SOCKET_TIMEOUT_S
    svc = None     # set by main()
    responded = False   # a status line went out for the current request
    linger = False      # an unread body may follow: drain a little before closing

    # -- plumbing
    def log_message(self, fmt, *args):
        pass   # requests are logged by log_request below, without the query string

    def log_request(self, code="-", size="-"):
        if not self.svc.args.quiet:
            # the query may hold access_token; a request line too bad to parse has no path
            path = urllib.parse.urlsplit(getattr(self, "path", "") or "").path
            log("%s %s %s" % (self.command or "-", path or "-", code))

    def send_response(self, code, message=None):
        self.responded = True
        super().send_response(code, message)

    def send_json(self, code, obj, extra_headers=()):
        body = (dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if self.close_connection:
            self.send_header("Connection", "close")
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, code, message, **extra):
        headers = [("WWW-Authenticate", 'Bearer realm="jetl"')] if code == 401 else []
        self.send_json(code, dict({"success": False, "message": message}, **extra), headers)

    def send_error(self, code, message=None, explain=None):
        """http.server's own refusals (a bad request line, 501 for an unknown
        method, 431 for headers too large) in the same JSON as ours."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.0"   # an unparsable line still gets a status line
        self.error(code, message or self.responses.get(code, ("error",))[0])

    def refuse_body(self, code, message):
        """Answer code and close: whatever body follows is never read as a request."""
        self.close_connection = True
        self.linger = True
        self.error(code, message)
        return False

    def read_body(self, required):
        """Read and drop the request body, before the token is checked and
        before routing, bounded by MAX_BODY. required: the method carries a
        body (POST, PUT), so its length must be given. False once an error was
        sent (the connection then closes)."""
        if self.headers.get_all("Transfer-Encoding"):
            return self.refuse_body(411, "send a Content-Length (chunked bodies are not accepted)")
        lengths = {v.strip() for v in self.headers.get_all("Content-Length") or ()}
        if not lengths:
            if required:
                return self.refuse_body(411, "Content-Length required (0 for an empty body)")
            return True
        n = lengths.pop()
        if lengths or not LENGTH_RE.match(n):
            return self.refuse_body(400, "bad Content-Length")
        n = int(n)
        if n > MAX_BODY:
            return self.refuse_body(413, "request body over %d bytes" % MAX_BODY)
        if n and len(self.rfile.read(n)) < n:
            self.close_connection = True   # the client went away mid-body: nothing to answer
            return False
        return True

    def finish(self):
        super().finish()     # flushes the answer
        if self.linger:
            # Closing with unread bytes in the socket makes the kernel send a
            # reset, which can destroy our answer before the client reads it:
            # stop sending, then discard a bounded amount of what is in flight.
            try:
                self.connection.shutdown(socket.SHUT_WR)
                self.connection.settimeout(LINGER_S)
                deadline, left = time.monotonic() + LINGER_S, LINGER_BYTES
                while left > 0 and time.monotonic() < deadline:
                    chunk = self.connection.recv(min(left, 65536))
                    if not chunk:
                        break
                    left -= len(chunk)
            except OSError:
                pass

    def authenticate(self, query, allow_query_token=False):
        """Tenant of the request's bearer token, or None (401 already sent)."""
        token = None
        auth = self.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            token = auth[7:].strip()
        elif allow_query_token and query.get("access_token"):
            token = query["access_token"][-1]
        tenant = self.svc.tenant_for(token)
        if tenant is None:
            self.error(401, "missing or invalid bearer token")
        return tenant

    # -- routes
    def do_GET(self):
        self.route("GET")

    def do_HEAD(self):
        self.route("HEAD")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method):
        self.responded = self.linger = False
        if not self.read_body(required=method in ("POST", "PUT")):
            return
        try:
            self.dispatch(method)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True   # the client went away
        except Exception as e:
            # one line in the log, a JSON 500 to the client, never a traceback
            log("internal error on %s %s: %s" % (method, urllib.parse.urlsplit(self.path).path,
                                                 type(e).__name__))
            self.close_connection = True
            if not self.responded:
                self.error(500, "internal error")

    def dispatch(self, method):
        u = urllib.parse.urlsplit(self.path)
        path = u.path
        try:
            query = urllib.parse.parse_qs(u.query, keep_blank_values=True, strict_parsing=False)
        except ValueError:
            return self.error(400, "bad query string")
        try:
            m = EXTRACT_RE.match(path)
            if m:
                if method != "POST":
                    return self.error(405, "use POST", )
                return self.extract(int(m.group(1)), query)
            m = JOB_RE.match(path)
            if m:
                if method not in ("GET", "HEAD"):
                    return self.error(405, "use GET")
                return self.job(int(m.group(1)), query)
            m = EVENTS_RE.match(path)
            if m:
                if method != "GET":
                    return self.error(405, "use GET")
                return self.events(int(m.group(1)), query)
            if method in ("GET", "HEAD"):
                return self.static(path)
            return self.error(404, "no such endpoint")
        except psycopg2.Error as e:
            log("database error on %s %s: %s" % (method, path, (str(e).strip().splitlines() or ["?"])[0]))
            self.close_connection = True
            if not self.responded:
                self.error(503, "database unavailable")

    def extract(self, integration, query):
        tenant = self.authenticate(query)
        if tenant is None:
            return
        if query.get("tenant_id"):
            try:
                asked = int(query["tenant_id"][-1])
            except ValueError:
                return self.error(400, "tenant_id must be an integer")
            if asked != tenant:
                return self.error(403, "tenant_id is not this token's tenant")
        if integration <= 0:
            return self.error(400, "integration_id must be positive")
        keys = []
        for v in query.get("project_keys", []):
            for k in v.split(","):       # project_keys=A&project_keys=B, or A,B
                k = k.strip()
                if not k:
                    continue
                if not KEY_RE.match(k):
                    return self.error(400, "bad project key: %r" % k[:70])
                if k.upper() not in keys:
                    keys.append(k.upper())
        try:
            incremental = parse_bool(query["incremental"][-1]) if query.get("incremental") else True
        except ValueError:
            return self.error(400, "incremental must be true or false")
        if self.svc.stopping.is_set():
            return self.error(503, "shutting down")
        job_id, err = self.svc.start_extraction(tenant, integration, keys, incremental)
        if job_id is None:
            code = 502 if isinstance(err, (jetl.AuthError, jetl.ForbiddenError, jetl.NetworkError,
                                           jetl.TimeoutError, jetl.HTTPError, jetl.RateLimitError,
                                           jetl.ProtocolError)) else 500
            if isinstance(err, jetl.DatabaseConnectionError):
                code = 503
            msg = err.message if isinstance(err, jetl.Error) else str(err)
            return self.error(code, "extraction did not start: %s" % msg,
                              integration_id=integration, project_keys=keys)
        what = ", ".join(keys) if keys else "every visible project"
        self.send_json(200, {
            "success": True,
            "message": "%s extraction of %s started (job %d)%s" % (
                "incremental" if incremental else "full", what, job_id,
                "; transform through the queue" if self.svc.queue else ""),
            "integration_id": integration,
            "incremental": incremental,
            "project_keys": keys,
            "job_id": job_id,
        })

    def job(self, job_id, query):
        tenant = self.authenticate(query)
        if tenant is None:
            return
        row = self.svc.job_row(job_id, tenant)
        if row is None:
            return self.error(404, "no such job")
        self.send_json(200, row)

    def events(self, job_id, query):
        tenant = self.authenticate(query, allow_query_token=True)
        if tenant is None:
            return
        conn = psycopg2.connect(self.svc.db)   # LISTEN holds its own connection
        try:
            conn.autocommit = True
            cur = conn.cursor()
            cur.execute("LISTEN " + CHANNEL)      # before reading the row: no event is lost
            row = self.svc.job_row(job_id, tenant, cur)
            if row is None:
                return self.error(404, "no such job")
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Accel-Buffering", "no")
            self.send_header("Connection", "close")   # the body ends when the stream does
            self.end_headers()
            self.close_connection = True
            try:
                self.stream(conn, cur, job_id, tenant, row)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                pass   # the client went away
        finally:
            conn.close()

    def sse(self, event, data, seq=None):
        out = "event: %s\n" % event
        if seq is not None:
            out += "id: %d\n" % seq
        out += "data: %s\n\n" % dumps(data)
        self.wfile.write(out.encode())
        self.wfile.flush()

    def stream(self, conn, cur, job_id, tenant, row):
        seq = 0
        self.wfile.write(b"retry: 3000\n\n")
        self.sse("progress", dict(row, source="row"), seq)
        status = row["status"]
        last_write = last_check = time.monotonic()
        while status not in TERMINAL and not self.svc.stopping.is_set():
            ready = select.select([conn], [], [], 1.0)[0]
            now = time.monotonic()
            if ready:
                conn.poll()
                while conn.notifies:
                    n = conn.notifies.pop(0)
                    try:
                        p = json.loads(n.payload)
                    except ValueError:
                        continue
                    if p.get("job_id") != job_id or p.get("tenant_id") != tenant:
                        continue
                    seq += 1
                    p["source"] = "notify"
                    self.sse("progress", p, seq)
                    last_write = now
                    status = p.get("status") or status
            elif now - last_check >= 5.0:
                # belt and braces: a job whose process died sends nothing more
                last_check = now
                fresh = self.svc.job_row(job_id, tenant, cur)
                if fresh and fresh["status"] != status:
                    seq += 1
                    self.sse("progress", dict(fresh, source="row"), seq)
                    status = fresh["status"]
                    last_write = now
            if status not in TERMINAL and now - last_write >= KEEPALIVE_S:
                self.wfile.write(b": keepalive\n\n")
                self.wfile.flush()
                last_write = now
        final = self.svc.job_row(job_id, tenant, cur) or {"id": job_id, "status": status}
        if self.svc.stopping.is_set() and final["status"] not in TERMINAL:
            self.sse("end", dict(final, reason="server shutting down"), seq + 1)
        else:
            self.sse("end", final, seq + 1)

    def static(self, path):
        if path in ("/", "/index.html"):
            name = "index.html"
        elif path.startswith("/static/"):
            name = path[len("/static/"):]
        else:
            return self.error(404, "not found")
        # serve only plain files that are directly in static/ (no traversal)
        if not re.match(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$", name) or name not in os.listdir(STATIC):
            return self.error(404, "not found")
        with open(os.path.join(STATIC, name), "rb") as f:
            body = f.read()
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype.endswith("javascript"):
            ctype += "; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy",
                         "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # what escaped a handler (a connection torn down mid-read, say): one line, no traceback
        log("request from %s failed: %s" % (client_address[0], sys.exc_info()[0].__name__))


def main(argv=None):
    ap = argparse.ArgumentParser(description="jetl example HTTP service")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080, help="0 = any free port")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--tokens-file", default=os.environ.get("JETL_SERVICE_TOKENS_FILE"),
                    help="JSON {token: tenant_id} (else JETL_SERVICE_TOKENS)")
    ap.add_argument("--migrate", action="store_true", help="create/upgrade the schema at start")
    ap.add_argument("--workers", type=int, default=0,
                    help="with a queue: also run N in-process transform consumer threads")
    ap.add_argument("--quiet", action="store_true", help="do not log requests")
    args = ap.parse_args(argv)

    tokens = load_tokens(args.tokens_file)
    svc = Service(args, tokens)
    Handler.svc = svc
    if args.migrate:
        with jetl.open(db=svc.db, queue="") as ctx:
            ctx.migrate()
    if args.workers > 0:
        if not svc.queue:
            log("--workers ignored: no JETL_QUEUE (transforms run in-process)")
        else:
            svc.start_workers(args.workers)

    httpd = Server((args.host, args.port), Handler)
    port = httpd.server_address[1]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="http")
    t.start()
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    log("listening on http://%s:%d (%s, %d token(s))" % (
        args.host, port, "queue" if svc.queue else "in-process transform", len(tokens)))
    while not stop.wait(1.0):
        pass
    log("stopping")
    svc.stopping.set()   # event streams end, extraction callbacks start cancelling
    httpd.shutdown()     # no new requests
    svc.shutdown()       # cancel running extractions, stop workers, end event streams
    t.join(5)
    httpd.server_close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
