"""The example service under a slowloris (issue 25, item 8): many clients that
send half a request and wait. uvicorn has no deadline for a request's head,
so before server.py's guard every such connection stayed open for ever (the
process's descriptor limit was the only bound). Now a head must arrive within
--header-timeout seconds (408, closed), at most --max-connections are open,
and at the bound the connection waiting longest for its head gives way to a
new one, so /healthz stays quick through the flood.

    JETL_BUILD_ROOT=build /usr/bin/python3 -m unittest discover -s examples/service -p 'test_connections.py'

Prints the figures (open connections, /healthz times) for the closing note.
"""
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("JETL_BUILD_ROOT", os.path.join(ROOT, "build"))
PYPATH = os.path.join(BUILD, "bindings", "python")
PY = "/usr/bin/python3"
TOKEN = "slow-loris-test-token-77"
HALF_OPEN = 1100            # as many as the issue held
HEADER_TIMEOUT = 3
MAX_CONNECTIONS = 400


def admin(sql):
    c = psycopg2.connect(os.environ["JETL_DB"])
    try:
        c.autocommit = True
        c.cursor().execute(sql)
    finally:
        c.close()


def start_service(db, tmp, *args):
    """server.py on a free port; returns (process, port, log path)."""
    port_file = os.path.join(tmp, "port")
    log_path = os.path.join(tmp, "service.log")
    env = dict(os.environ, JETL_DB=db, JETL_QUEUE="", PYTHONPATH=PYPATH,
               JETL_SERVICE_TOKENS=json.dumps({TOKEN: 1}))
    with open(log_path, "w") as log:
        proc = subprocess.Popen([PY, os.path.join(HERE, "server.py"), "--port", "0", "--port-file", port_file,
                                 "--migrate", *args], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not os.path.exists(port_file):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            with open(log_path) as f:
                raise RuntimeError("the service did not start: " + f.read()[-2000:])
        time.sleep(0.05)
    with open(port_file) as f:
        return proc, int(f.read()), log_path


def healthz_ms(port, timeout=5.0):
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        out = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
    if not out.startswith(b"HTTP/1.1 200"):
        raise AssertionError("/healthz answered %r" % out[:80])
    return (time.monotonic() - t0) * 1000


def still_open(socks):
    """How many of the sockets the server has not closed (no EOF, no reset)."""
    n = 0
    for s in socks:
        s.setblocking(False)
        try:
            data = s.recv(4096)
            if data and not data.startswith(b"HTTP/1.1 408"):
                raise AssertionError("a half-sent request was answered %r" % data[:60])
            if data:      # the 408; then EOF
                continue
        except BlockingIOError:
            n += 1
        except ConnectionResetError:
            pass
    return n


class Slowloris(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.environ.get("JETL_DB"):
            raise unittest.SkipTest("JETL_DB is not set: run through scripts/test")
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < HALF_OPEN + 200:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, HALF_OPEN + 400), hard))
        cls.tmp = tempfile.mkdtemp(prefix="jetl-slowloris-")
        cls.dbname = "jetl_slow_" + uuid.uuid4().hex[:10]
        admin("CREATE DATABASE " + cls.dbname)
        cls.db = os.environ["JETL_DB"].rsplit("/", 1)[0] + "/" + cls.dbname
        cls.proc, cls.port, cls.log = start_service(cls.db, cls.tmp, "--header-timeout", str(HEADER_TIMEOUT),
                                                    "--max-connections", str(MAX_CONNECTIONS), "--quiet")

    @classmethod
    def tearDownClass(cls):
        cls.proc.kill()
        cls.proc.wait()
        admin("DROP DATABASE IF EXISTS %s WITH (FORCE)" % cls.dbname)
        subprocess.run(["rm", "-rf", cls.tmp])

    def test_half_sent_requests_are_closed_and_healthz_stays_quick(self):
        quiet = [healthz_ms(self.port) for _ in range(5)]
        socks = []
        try:
            t0 = time.monotonic()
            for i in range(HALF_OPEN):
                s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                s.sendall(b"GET /api/v1/etl/jobs HTTP/1.1\r\nHost: x\r\nX-Slow-%d: " % i)
                socks.append(s)
            opened = time.monotonic() - t0
            t_last = time.monotonic()
            held = [healthz_ms(self.port) for _ in range(20)]
            open_now = still_open(socks)
            # past the deadline: every half-sent request is answered 408 and closed
            time.sleep(max(0.0, HEADER_TIMEOUT + 1.5 - (time.monotonic() - t_last)))
            open_later = still_open(socks)
            after = [healthz_ms(self.port) for _ in range(5)]
        finally:
            for s in socks:
                s.close()
        sys.stderr.write(
            "\n  slowloris: %d half-sent requests (opened in %.1f s), %d of them open at once (bound %d), %d open %.1f s later"
            " (header timeout %d s); /healthz median %.1f ms, max %.1f ms while they were held (%.1f ms"
            " before, %.1f ms after)\n" % (HALF_OPEN, opened, open_now, MAX_CONNECTIONS, open_later,
                                           time.monotonic() - t0, HEADER_TIMEOUT, statistics.median(held),
                                           max(held), statistics.median(quiet), statistics.median(after)))
        self.assertLessEqual(open_now, MAX_CONNECTIONS)
        self.assertEqual(open_later, 0)
        self.assertLess(statistics.median(held), 100)
        self.assertLess(sorted(held)[-2], 250, held)   # a loaded 2-core machine may stall once

    def test_a_slow_but_complete_request_is_served(self):
        # A head sent in pieces within the deadline is a request like any other.
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            for part in (b"GET /healthz HTTP/1.1\r\n", b"Host: x\r\n", b"Connection: close\r\n", b"\r\n"):
                s.sendall(part)
                time.sleep(HEADER_TIMEOUT / 5)
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200"))


if __name__ == "__main__":
    unittest.main()
