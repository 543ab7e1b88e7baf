#!/usr/bin/python3
"""jirasim: a Jira Cloud / Server REST simulator serving a dataset directory.

HTTP plumbing, auth, fault injection, stats and the /__sim/ control endpoints live
here; the Jira endpoints themselves are in jira_api.py.  See README.md.
"""
import argparse
import base64
import codecs
import gzip
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import control            # noqa: E402
from dataset import Dataset      # noqa: E402
from faults import Faults        # noqa: E402
from jira_api import JiraApi, ApiError, Request  # noqa: E402
from webhooks import Webhooks    # noqa: E402

JSON_CT = 'application/json;charset=UTF-8'

# What a reverse proxy, a gateway or an SSO login page puts where JSON was expected.
HTML_502 = ('<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body>\n'
            '<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center>\n'
            '</body></html>\n')
HTML_200 = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<title>Log in with Atlassian account</title></head>\n<body>\n'
            '<div id="root">Please log in to continue.</div>\n'
            '<script>window.location.replace("/login?continue=%2F")</script>\n</body></html>\n')


def encode_bad_bytes(err):
    """Encoding error handler 'badbytes': a lone surrogate left in a text by
    /__sim/corrupt is sent the way Jira has been seen sending broken text.
    U+DC80..U+DCFF become the raw byte 0x80..0xFF (invalid UTF-8, as
    Python's surrogateescape does); any other surrogate becomes the JSON
    escape itself, e.g. \\ud83d with no low surrogate after it (half an
    emoji).  Only ever inside a JSON string, where both are what they claim."""
    out = b''
    for ch in err.object[err.start:err.end]:
        c = ord(ch)
        out += bytes([c - 0xDC00]) if 0xDC80 <= c <= 0xDCFF else ('\\u%04x' % c).encode()
    return out, err.end


codecs.register_error('badbytes', encode_bad_bytes)


def cut_in_string(body):
    """A prefix of a JSON body that ends inside a string literal: not JSON, although
    the answer is complete as far as HTTP goes (Content-Length matches what is sent)."""
    mid, opening, in_str, esc = len(body) // 2, None, False, False
    for i, c in enumerate(body):
        if in_str:
            if esc:
                esc = False
            elif c == 0x5c:        # backslash
                esc = True
            elif c == 0x22:
                in_str = False
        elif c == 0x22:
            in_str = True
            opening = i            # the last string opened so far
            if i >= mid:
                break
    if opening is None:            # no string at all (a bare number, say)
        return body[:len(body) // 2] or b'{'
    end = opening + 1
    while end < len(body) and end < opening + 4 and body[end] not in (0x22, 0x5c):
        end += 1                   # keep a few characters of the string
    return body[:end]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = {}
            self.by_status = {}
            self.total = 0
            self.items = 0
            self.first = self.last = None   # monotonic times of the first and last answer

    def add(self, pattern, status, items=0):
        status = str(status)
        with self.lock:
            d = self.requests.setdefault(pattern, {})
            d[status] = d.get(status, 0) + 1
            self.by_status[status] = self.by_status.get(status, 0) + 1
            self.total += 1
            self.items += items
            self.last = time.monotonic()
            if self.first is None:
                self.first = self.last

    def snapshot(self):
        with self.lock:
            return {"requests": json.loads(json.dumps(self.requests)), "total": self.total,
                    "by_status": dict(self.by_status), "items_served": self.items,
                    "span_s": round(self.last - self.first, 3) if self.first is not None else 0}


class Trace:
    """--trace FILE: one JSON line per Jira request answered, for finding where a
    client's time goes: arrival (headers read), when the handler's answer was
    ready, when the latency sleep ended, when the last byte was written (monotonic
    seconds), the items charged, and the thread's CPU seconds spent on it
    (handler, JSON, gzip: the simulator's own work, not the sleep)."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, 'w', buffering=1 << 16) if path else None

    def add(self, **rec):
        if self.f is None:
            return
        line = json.dumps(rec, separators=(',', ':')) + '\n'
        with self.lock:
            self.f.write(line)

    def flush(self):
        if self.f is not None:
            with self.lock:
                self.f.flush()

    def close(self):
        if self.f is not None:
            with self.lock:
                self.f.close()
                self.f = None


class Sim:
    """Everything a request handler needs, shared by all threads."""

    def __init__(self, args):
        self.dataset = Dataset(args.data)
        meta = self.dataset.meta
        self.flavor = args.flavor or meta.get('flavor', 'cloud')
        self.user_tz = args.user_tz or meta.get('timeZone') or 'Asia/Shanghai'
        self.user, self.token, self.bearer = args.user, args.token, args.bearer
        if args.token_file:
            # the token off the command line, so `ps` shows no secret
            with open(args.token_file) as f:
                self.token = f.read().strip()
        self.embedded_cap = args.embedded_cap
        self.server_max_results = max(1, args.server_max_results)
        self.seed = args.seed
        self.no_dev_permission = args.no_dev_permission
        self.quiet = args.quiet
        self.faults = Faults(seed=args.seed, latency_ms=args.latency_ms,
                             per_item_ms=args.per_item_ms, rate=args.rate, burst=args.burst,
                             fail_503=args.fail_503, reset=args.reset, truncate=args.truncate,
                             html=args.html, html_ok=args.html_ok, bad_json=args.bad_json,
                             fail_429=args.fail_429)
        self.stats = Stats()
        self.trace = Trace(args.trace)
        self.work_in_latency = args.work_in_latency
        self.port = 0
        self.host = args.host
        self.api = JiraApi(self)
        self.webhooks = Webhooks(self, seed=args.seed)

    def base_url(self):
        return 'http://%s:%d' % (self.host, self.port)

    def auth_ok(self, header):
        if self.bearer:
            return header == 'Bearer ' + self.bearer
        if self.user is not None or self.token is not None:
            want = base64.b64encode(('%s:%s' % (self.user or '', self.token or '')).encode())
            if not header or not header.lower().startswith('basic '):
                return False
            return header[6:].strip().encode() == want
        return True


class Handler(BaseHTTPRequestHandler):
    # Headers and body are separate writes: without TCP_NODELAY, Nagle holds
    # the body until the client's delayed ACK (~40 ms), which real Jira's
    # front ends do not do and which would dominate every latency figure.
    disable_nagle_algorithm = True
    protocol_version = 'HTTP/1.1'
    server_version = 'jirasim'
    sim = None  # set by serve()

    def log_message(self, fmt, *args):
        if not self.sim.quiet:
            sys.stderr.write('%s %s\n' % (self.address_string(), fmt % args))

    def do_GET(self):
        self.dispatch('GET')

    def do_POST(self):
        self.dispatch('POST')

    def do_PUT(self):
        self.dispatch('PUT')

    def do_DELETE(self):
        self.dispatch('DELETE')

    # -- plumbing -----------------------------------------------------------
    def read_body(self):
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n > 0 else b''

    @staticmethod
    def json_body(obj, bad_json=False):
        # 'badbytes': what /__sim/corrupt plants in a text goes out as real
        # Jira sometimes sends it (see encode_bad_bytes).
        body = json.dumps(obj, ensure_ascii=False, separators=(',', ':')).encode('utf-8', 'badbytes')
        return cut_in_string(body) if bad_json else body

    def send_json(self, status, obj, headers=None, truncate=False, bad_json=False):
        self.send_body(status, self.json_body(obj, bad_json), JSON_CT, headers, truncate)

    def send_html(self, status, html):
        self.send_body(status, html.encode('utf-8'), 'text/html; charset=utf-8',
                       {'Server': 'nginx'})

    def encode(self, body, headers):
        """The body as it goes on the wire (gzip when asked) and its headers."""
        if 'gzip' in (self.headers.get('Accept-Encoding') or '').lower():
            body = gzip.compress(body, compresslevel=5)
            headers = dict(headers or {}, **{'Content-Encoding': 'gzip', 'Vary': 'Accept-Encoding'})
        return body, headers

    def send_body(self, status, body, ctype, headers=None, truncate=False, encoded=False):
        if status == 204:
            body = b''   # No Content (a webhook removed)
        if not encoded:
            body, headers = self.encode(body, headers)
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command == 'HEAD':
            return
        if truncate:
            # Content-Length promised the whole body; send half and hang up
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.wfile.write(body)

    def reset_connection(self):
        # SO_LINGER 0 makes close() send RST: the client sees "connection reset by peer"
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack('ii', 1, 0))
            self.connection.close()
        except OSError:
            pass

    def dispatch(self, method):
        t_arrive, cpu0 = time.monotonic(), time.thread_time()
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        raw = self.read_body()
        if path.startswith('/__sim/'):
            return self.control(method, path, query, raw)
        sim = self.sim
        try:
            fn, match, pattern = sim.api.route(method, path)
        except ApiError as e:
            sim.stats.add('%s %s' % (method, path), e.status)
            return self.send_json(e.status, e.body)
        name = '%s %s' % (method, pattern.replace('(2|3|latest)', '{ver}')
                          .replace('(latest|1\\.0)', '{ver}').replace('([^/]+)', '{idOrKey}'))
        limited = sim.faults.take_token()
        if limited is not None:
            sim.stats.add(name, 429)
            sim.trace.add(ep=name, st=429, a=round(t_arrive, 6), e=round(time.monotonic(), 6))
            return self.send_json(429, {"errorMessages": ["Rate limit exceeded."], "errors": {}},
                                  limited)
        fate = sim.faults.draw()
        if fate == 'reset':
            sim.stats.add(name, 'reset')
            return self.reset_connection()
        if fate.startswith('503'):
            sim.faults.delay(0)
            sim.stats.add(name, 503)
            hdr = {'Retry-After': '1'} if fate == '503-retry' else {}
            return self.send_json(503, {"errorMessages": ["Service Unavailable"], "errors": {}},
                                  hdr)
        if fate == '429':
            # not the bucket: another client of the site spent the quota; Retry-After only
            sim.faults.delay(0)
            sim.stats.add(name, 429)
            return self.send_json(429, {"errorMessages": ["Rate limit exceeded."], "errors": {}},
                                  {'Retry-After': '1'})
        if fate.startswith('html'):
            # a proxy's error page, or a login page answered 200 in Jira's place
            sim.faults.delay(0)
            status = 200 if fate == 'html-200' else 502
            sim.stats.add(name, 'html' if status == 200 else 502)
            return self.send_html(status, HTML_200 if status == 200 else HTML_502)
        if not sim.auth_ok(self.headers.get('Authorization')):
            sim.stats.add(name, 401)
            return self.send_json(401, {"errorMessages": [
                "You are not authenticated. Authentication required to perform this operation."],
                "errors": {}})
        if sim.faults.spring('forbidden'):
            # authenticated, but not allowed: what a locked or CAPTCHA-held account,
            # or a user without Browse users, gets
            sim.stats.add(name, 403)
            return self.send_json(403, {"errorMessages": [
                "You do not have permission to perform this operation."], "errors": {}})
        try:
            body = json.loads(raw) if raw and method in ('POST', 'PUT') else {}
        except ValueError:
            sim.stats.add(name, 400)
            return self.send_json(400, {"errorMessages": ["Invalid request payload. Refer to "
                                                          "the REST API documentation and try "
                                                          "again."], "errors": {}})
        headers = sim.faults.budget_headers()
        try:
            status, obj, items = fn(Request(method, path, query, body, match))
        except ApiError as e:
            status, obj, items = e.status, e.body, 0
            headers = dict(headers, **(e.headers or {}))
        label = {'truncate': 'truncated', 'bad-json': 'badjson'}.get(fate, status)
        if sim.work_in_latency:
            # the answer made (JSON, gzip) before the wait, which then only
            # tops it up to L + items*p from arrival: a server's response time
            # includes its work (sim/README.md, 'Latency')
            body, headers = self.encode(self.json_body(obj, fate == 'bad-json'), headers)
            t_ready, cpu1 = time.monotonic(), time.thread_time()
            sim.faults.delay(items, since=t_arrive)
            t_slept, cpu2 = time.monotonic(), time.thread_time()
            sim.stats.add(name, label, items)
            self.send_body(status, body, JSON_CT, headers, truncate=(fate == 'truncate'), encoded=True)
        else:
            t_ready, cpu1 = time.monotonic(), time.thread_time()
            sim.faults.delay(items)
            t_slept, cpu2 = time.monotonic(), time.thread_time()
            sim.stats.add(name, label, items)
            self.send_json(status, obj, headers, truncate=(fate == 'truncate'),
                           bad_json=(fate == 'bad-json'))
        if sim.trace.f is not None:
            t_sent = time.monotonic()
            sim.trace.add(ep=name, st=label, it=items, a=round(t_arrive, 6), r=round(t_ready, 6),
                          s=round(t_slept, 6), e=round(t_sent, 6),
                          cpu=round(cpu1 - cpu0 + time.thread_time() - cpu2, 6))

    def control(self, method, path, query, raw):
        self.sim.trace.flush()   # so that a client reading the trace after any /__sim/ call sees it all
        try:
            body = json.loads(raw) if raw else {}
            status, obj = control.handle(self.sim, method, path, body)
        except ValueError as e:
            status, obj = 400, {"error": str(e)}
        self.send_json(status, obj)


def serve(args):
    sim = Sim(args)
    sim.api.start_catalogue()
    handler = type('BoundHandler', (Handler,), {'sim': sim})
    httpd = ThreadingHTTPServer((args.host, args.port), handler)
    httpd.daemon_threads = True
    sim.port = httpd.server_address[1]
    if args.port_file:
        tmp = args.port_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write('%d\n' % sim.port)
        os.replace(tmp, args.port_file)   # readers never see a half-written file
    print('listening on http://%s:%d' % (args.host, sim.port), flush=True)
    return sim, httpd


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Jira REST simulator')
    p.add_argument('--data', required=True, help='dataset directory')
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--port-file')
    p.add_argument('--flavor', choices=['cloud', 'server'])
    p.add_argument('--user')
    p.add_argument('--token')
    p.add_argument('--bearer')
    p.add_argument('--token-file', help='read --token from this file')
    p.add_argument('--user-tz')
    p.add_argument('--latency-ms', type=float, default=0)
    p.add_argument('--per-item-ms', type=float, default=0)
    p.add_argument('--rate', type=float, default=0)
    p.add_argument('--burst', type=int, default=0)
    p.add_argument('--fail-503', type=float, default=0.0)
    p.add_argument('--fail-429', type=float, default=0.0,
                   help='share answered 429 Retry-After: 1 whatever the client\'s rate')
    p.add_argument('--reset', type=float, default=0.0)
    p.add_argument('--truncate', type=float, default=0.0)
    p.add_argument('--html', type=float, default=0.0,
                   help='share of answers replaced by an HTML page (502 or 200)')
    p.add_argument('--html-ok', type=float, default=0.5,
                   help='part of the HTML answers sent as 200 rather than 502')
    p.add_argument('--bad-json', type=float, default=0.0,
                   help='share of answers whose JSON body is cut inside a string')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--embedded-cap', type=int, default=40)
    p.add_argument('--server-max-results', type=int, default=100,
                   help='Server/DC search page cap (jira.search.views.default.max)')
    p.add_argument('--no-dev-permission', action='store_true')
    p.add_argument('--quiet', action='store_true')
    p.add_argument('--work-in-latency', action='store_true',
                   help='an answer leaves at arrival + latency + items x per-item, its own work included')
    p.add_argument('--trace', help='write one JSON line per Jira request answered (times, items, CPU)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    sim, httpd = serve(args)
    if not args.quiet:
        sys.stderr.write('loaded %d issues in %.1fs (%s)\n' % (
            len(sim.dataset.by_id), time.time() - t0, sim.flavor))

    def stop(signum, frame):
        # shutdown() waits for serve_forever, so it must run on another thread
        threading.Thread(target=httpd.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    httpd.serve_forever(poll_interval=0.2)
    httpd.server_close()
    sim.trace.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
