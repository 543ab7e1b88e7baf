"""Fault cases of issue 25 on the front ends: the Python binding called with
wrong argument types (it crashed the interpreter), and bearer tokens in the
web service's access log.

They need the checkout's private PostgreSQL (JETL_DB, a database of their
own each) but never restart it, so they do not use the fault suite's own pair.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import harness  # noqa: E402
from harness import BUILD, PY, ROOT, Database  # noqa: E402

WRONG_TYPES = os.path.join(ROOT, "bindings", "python", "tests", "wrong_types.py")


def python_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(BUILD, "bindings", "python")
    env.pop("JETL_QUEUE", None)
    return env


class TestWrongTypes(unittest.TestCase):
    def test_every_function_and_method_rejects_wrong_types_without_crashing(self):
        if not os.path.isfile(os.path.join(BUILD, "bindings", "python", "jetl", "__init__.py")):
            raise AssertionError("%s has no Python binding (configure with -Dpython=enabled)" % BUILD)
        db = Database()
        try:
            p = subprocess.run([PY, WRONG_TYPES, db.dsn], env=python_env(), capture_output=True,
                               text=True, timeout=600)
        finally:
            db.drop()
        calls = [line for line in p.stderr.splitlines() if line.startswith("call ")]
        if p.returncode < 0:
            self.fail("the interpreter died of %s on %s" % (
                signal.Signals(-p.returncode).name, calls[-1] if calls else "(no call yet)"))
        sys.stderr.write("\n  " + (p.stdout.splitlines() or ["(no summary)"])[0] + "\n")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr[-3000:])
        # The three crashing calls are among them.
        for v in ("123", "b'K5'", "['K5']"):
            self.assertIn("call Client.extract_project(key=%s)" % v, calls)


class TestTokenNotInAccessLog(unittest.TestCase):
    """The event stream's ?access_token= (EventSource sends no headers) was
    written to uvicorn's access log, so to the journal of the shipped systemd
    unit (which runs examples/service/server.py with its access log on)."""

    SECRET = "SECRET-bearer-token-5f1e9a"

    def test_the_query_string_stays_out_of_the_access_log(self):
        db = Database()
        tmp = tempfile.mkdtemp(prefix="jetl-tokenlog-")
        port_file, log_path = os.path.join(tmp, "port"), os.path.join(tmp, "service.log")
        env = dict(python_env(), JETL_DB=db.dsn, JETL_QUEUE="", JETL_SERVICE_TOKENS=json.dumps({self.SECRET: 1}))
        log = open(log_path, "w")
        proc = subprocess.Popen([PY, os.path.join(ROOT, "examples", "service", "server.py"), "--port", "0",
                                 "--port-file", port_file, "--migrate"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while not os.path.exists(port_file):
                self.assertIsNone(proc.poll(), "the service exited")
                self.assertLess(time.monotonic(), deadline, "the service did not start")
                time.sleep(0.05)
            with open(port_file) as f:
                port = int(f.read())
            for path in ("/api/v1/etl/jobs/54/events?access_token=" + self.SECRET,
                         "/api/v1/etl/jobs?limit=5&access_token=" + self.SECRET):
                with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
                    answer = s.recv(4096)
                # taken on the event stream (no such job), refused elsewhere
                self.assertRegex(answer, rb"^HTTP/1.1 (404|401)")
            time.sleep(0.3)
        finally:
            proc.terminate()
            proc.wait(30)
            log.close()
            db.drop()
        with open(log_path) as f:
            text = f.read()
        subprocess.run(["rm", "-rf", tmp])
        # the requests were logged, without their query
        self.assertIn('"GET /api/v1/etl/jobs/54/events?... HTTP/1.1" 404', text)
        self.assertIn('"GET /api/v1/etl/jobs?... HTTP/1.1" 401', text)
        self.assertNotIn(self.SECRET, text)
        self.assertNotIn("access_token", text)


if __name__ == "__main__":
    unittest.main()
