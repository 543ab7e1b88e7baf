"""Run sim/jirasim.py from Python tests and benchmarks.

One copy of the start / wait-for-port / control / stop steps that the e2e
harness, the bindings' tests, the example service's tests and bench/ all need.
Standard library only.
"""
import json
import os
import subprocess
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"


class SimProcess:
    """The simulator serving `data` on a free loopback port (.url, .port).

    extra: more jirasim.py options (latency, faults, flavor…), stringified.
    user/token: basic auth the simulator will demand (None: no auth).
    """

    def __init__(self, data, *extra, user=None, token=None, start_timeout=60):
        fd, self.port_file = tempfile.mkstemp(prefix="jetl-sim-port-")
        os.close(fd)
        os.unlink(self.port_file)  # jirasim writes it atomically once listening
        auth = ["--user", user, "--token", token] if user else []
        self.proc = subprocess.Popen(
            [PY, os.path.join(HERE, "jirasim.py"), "--data", data, "--port", "0",
             "--port-file", self.port_file, "--quiet", *auth, *[str(x) for x in extra]],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + start_timeout
        port = ""
        while not port:
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    port = f.read().strip()
            if port:
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the Jira simulator did not start")
            time.sleep(0.05)
        self.port = int(port)
        self.url = "http://127.0.0.1:%d" % self.port

    def control(self, path, body=None, timeout=60):
        """GET (body None) or POST JSON to /__sim/<path>; the decoded answer."""
        req = urllib.request.Request(self.url + "/__sim/" + path, method="POST" if body is not None else "GET",
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"{}")

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
