#!/usr/bin/python3
"""jetl example service: a small FastAPI app around the jetl.web router,
served by uvicorn.

    /api/v1/etl/...      the router (see jetl.web): trigger, jobs, cancel,
                         events, integrations, field mappings, healthz, ui/
    /                    redirects to the page (/api/v1/etl/ui/)
    /docs, /openapi.json the API's page (Swagger UI from this machine: apidocs.py)
                         and its OpenAPI document
    /healthz, /favicon.ico

Configuration (environment): JETL_DB (required), JETL_QUEUE (AMQP URL; unset
or empty = transform in-process), JETL_JIRA_URL, JETL_JIRA_USER,
JETL_JIRA_TOKEN, JETL_JIRA_AUTH, JETL_SERVICE_TOKENS (JSON {"token":
tenant_id}) or JETL_SERVICE_TOKENS_FILE / --tokens-file.

Run with /usr/bin/python3 and PYTHONPATH=<build>/bindings/python. See README.md.
"""
import argparse
import json
import logging
import os
import sys
import threading
import time

import anyio
import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse

import jetl
import jetl.web

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apidocs  # noqa: E402

PREFIX = "/api/v1/etl"
# A request's head (request line and headers) must arrive within this many
# seconds of the connection, or of the first byte of a next request on a
# kept-alive one; at most this many connections are open at once.
HEADER_TIMEOUT = 5.0
MAX_CONNECTIONS = 500


def log(msg):
    print("%s service: %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


class BodyCap:
    """ASGI middleware: the 64 KiB cap on every path (the router checks its
    own routes too), before routing and before any token is looked at."""

    def __init__(self, app, limit=jetl.web.MAX_BODY):
        self.app, self.limit = app, limit

    def cap(self, scope):
        # Jira's webhook deliveries carry the whole issue (jetl/web/webhook.py)
        return jetl.web.webhook.MAX_BODY if "/jira/webhook/" in scope.get("path", "") else self.limit

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            h = [(k.lower(), v) for k, v in scope["headers"]]
            lengths = {v.strip() for k, v in h if k == b"content-length"}
            code = msg = None
            if any(k == b"transfer-encoding" for k, _ in h):
                code, msg = 411, "send a Content-Length (chunked bodies are not accepted)"
            # no Content-Length: no body (RFC 9112 6.3), as a plain `curl -X POST` sends
            elif lengths:
                n = lengths.pop()
                if lengths or not n.isdigit() or len(n) > 18:
                    code, msg = 400, "bad Content-Length"
                elif int(n) > self.cap(scope):
                    code, msg = 413, "request body over %d bytes" % self.cap(scope)
            if code:
                resp = JSONResponse({"detail": msg}, status_code=code, headers={"Connection": "close"})
                return await resp(scope, receive, send)
        return await self.app(scope, receive, send)


def make_app(db=None, tokens=None, queue=None, quiet=False):
    app = FastAPI(title="jetl service", version=jetl.version(), docs_url=None, redoc_url=None,
                  description="Jira issues, changelogs and dev status into PostgreSQL (jetl.web)")
    apidocs.install(app, app.title)
    jetl.web.install_error_handlers(app)
    r = jetl.web.router(db=db, tokens=tokens, queue=queue)
    app.include_router(r, prefix=PREFIX)
    app.state.jetl = r.jetl
    icon = os.path.join(jetl.web.STATIC, "favicon.svg")

    @app.get("/", include_in_schema=False)
    async def root():
        return RedirectResponse(PREFIX + "/ui/")

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        await anyio.to_thread.run_sync(r.jetl.query, "SELECT 1 AS ok", ())
        return {"status": "ok"}

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon():
        return FileResponse(icon, media_type="image/svg+xml")

    app.add_middleware(BodyCap)
    return app


def seed_integrations(db, tenants):
    """The demo's Jira ($JETL_JIRA_URL) as an integration of each tenant that
    has none, its token kept as a reference to the environment variable."""
    url = os.environ.get("JETL_JIRA_URL")
    if not url:
        raise SystemExit("service: --seed-integration needs JETL_JIRA_URL")
    for t in tenants:
        with jetl.open(db=db, tenant=t, queue="") as ctx:
            if ctx.integrations():
                continue
            auth = os.environ.get("JETL_JIRA_AUTH") or "basic"
            i = ctx.integration_add("Jira at " + url, url, "env:JETL_JIRA_TOKEN", auth=auth,
                                    user=os.environ.get("JETL_JIRA_USER", "") if auth == "basic" else "")
            log("tenant %d: integration %d for %s" % (t, i, url))


class _NoTraceback(logging.Filter):
    """uvicorn logs a malformed request (a bad Content-Length, a broken
    request line) with the parser's traceback: one line is enough."""

    def filter(self, record):
        record.exc_info = record.exc_text = None
        return True


class _AccessLogWithoutQuery(logging.Filter):
    """The access log line without its query string. The event stream takes
    its bearer token as ?access_token= (a browser's EventSource cannot send
    headers), and uvicorn would write it to the log, so to the journal of
    the systemd unit. The path stays; "?..." says that a query was there."""

    def filter(self, record):
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = args[:2] + (args[2].split("?", 1)[0] + "?...",) + args[3:]
        return True


class _GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request's head and a
    bound on open connections. uvicorn has neither: a client that sends half
    a request and waits holds its connection (and a file descriptor) for
    ever, and 1,100 such clients were all still open after 60 s (issue 25).

    The deadline runs from the connection's start, and again from the first
    byte of each next request on a kept-alive connection (idle time between
    requests is uvicorn's keep-alive timeout); when it passes before the
    head is complete, the answer is 408 and the connection is closed. At the
    bound, a new connection takes the place of the one that has waited
    longest for its head (408), so that a flood of half-sent requests never
    locks out a client that sends whole ones (/healthz stays quick); only
    when every open connection has a request in progress is the new one
    refused (503)."""
    header_timeout = HEADER_TIMEOUT
    max_connections = MAX_CONNECTIONS
    _waiting = {}      # per server: connections waiting for a head, oldest first
    _timer = None

    def connection_made(self, transport):
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            oldest = next(iter(self._waiting), None)
            if oldest is None:
                self._close(b"503 Service Unavailable")
                return
            oldest._close(b"408 Request Timeout")
        self._arm()

    def data_received(self, data):
        super().data_received(data)
        # h11 stays IDLE on our side of a request until its head is whole.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._arm()
        else:
            self._disarm()

    def on_response_complete(self):
        super().on_response_complete()
        # the next request's head is timed from its first byte (data_received)
        self._disarm()

    def connection_lost(self, exc):
        self._disarm()
        super().connection_lost(exc)

    def _arm(self):
        if self._timer is None:
            self._timer = self.loop.call_later(self.header_timeout, self._late)
            self._waiting[self] = None

    def _disarm(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._waiting.pop(self, None)

    def _late(self):
        self._timer = None
        if self.conn.their_state is h11.IDLE:
            self._close(b"408 Request Timeout")
        else:
            self._waiting.pop(self, None)

    def _close(self, status):
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            self.transport.close()


class _Server(uvicorn.Server):
    """SIGTERM/SIGINT also end the open event streams (uvicorn waits for every
    connection before the app's shutdown handlers run) and make the running
    extractions' progress callbacks cancel them."""
    svc = None

    def handle_exit(self, sig, frame):
        if self.svc is not None:
            self.svc.stopping.set()
        super().handle_exit(sig, frame)


def main(argv=None):
    ap = argparse.ArgumentParser(description="jetl example service (FastAPI + uvicorn)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080, help="0 = any free port")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--tokens-file", default=os.environ.get("JETL_SERVICE_TOKENS_FILE"),
                    help="JSON {token: tenant_id} (else JETL_SERVICE_TOKENS)")
    ap.add_argument("--migrate", action="store_true", help="create/upgrade the schema at start")
    ap.add_argument("--workers", type=int, default=0,
                    help="with a queue: also run N in-process transform consumer threads")
    ap.add_argument("--seed-integration", action="store_true",
                    help="give every token's tenant without an integration one for $JETL_JIRA_URL "
                         "(token by reference: env:JETL_JIRA_TOKEN)")
    ap.add_argument("--quiet", action="store_true", help="do not log requests")
    ap.add_argument("--header-timeout", type=float, default=HEADER_TIMEOUT,
                    help="seconds a request's head may take to arrive (default %(default)s)")
    ap.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS,
                    help="open connections at most (default %(default)s)")
    args = ap.parse_args(argv)

    if args.tokens_file:
        with open(args.tokens_file) as f:
            tokens = json.load(f)
    else:
        tokens = jetl.web.tokens_from_env()
    if not tokens:
        raise SystemExit("service: no tokens: set JETL_SERVICE_TOKENS or --tokens-file")
    db = os.environ.get("JETL_DB")
    if not db:
        raise SystemExit("service: JETL_DB is not set")
    queue = os.environ.get("JETL_QUEUE") or ""
    if args.migrate:
        with jetl.open(db=db, queue="") as ctx:
            ctx.migrate()
    if args.seed_integration:
        seed_integrations(db, sorted(set(tokens.values())))
    try:
        app = make_app(db=db, tokens=tokens, queue=queue)
    except ValueError as e:
        raise SystemExit("service: %s" % e)
    # libjetl's lines ("Starting issues extraction for integration 1 …") on stderr
    jlog = logging.StreamHandler(sys.stderr)
    jlog.setFormatter(logging.Formatter("%(asctime)s jetl %(levelname)s: %(message)s", "%H:%M:%S"))
    logging.getLogger("jetl").addHandler(jlog)
    logging.getLogger("jetl").setLevel(logging.WARNING if args.quiet else logging.INFO)
    workers = []
    if args.workers > 0 and queue:
        wctx = jetl.open(db=db, queue=queue, log=jetl.web.log_to_logging)
        t = threading.Thread(target=wctx.worker_run, kwargs={"threads": args.workers}, daemon=True)
        t.start()
        workers.append((t, wctx))

        @app.on_event("shutdown")
        def stop_workers():
            for t, c in workers:
                c.worker_stop()
            for t, c in workers:
                t.join(10)

    protocol = type("GuardedH11", (_GuardedH11,), {"header_timeout": args.header_timeout,
                                                  "max_connections": max(1, args.max_connections),
                                                  "_waiting": {}})
    config = uvicorn.Config(app, host=args.host, port=args.port, access_log=not args.quiet,
                            log_level="warning" if args.quiet else "info", timeout_keep_alive=60,
                            http=protocol)
    server = _Server(config)
    logging.getLogger("uvicorn.error").addFilter(_NoTraceback())
    logging.getLogger("uvicorn.access").addFilter(_AccessLogWithoutQuery())
    server.svc = app.state.jetl

    if args.port_file:
        def write_port():
            while not server.started:
                time.sleep(0.05)
            port = server.servers[0].sockets[0].getsockname()[1]
            with open(args.port_file + ".tmp", "w") as f:
                f.write("%d\n" % port)
            os.rename(args.port_file + ".tmp", args.port_file)
            log("listening on http://%s:%d (%s)" % (args.host, port, "queue" if queue else "in-process transform"))
        threading.Thread(target=write_port, daemon=True).start()
    server.run()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
