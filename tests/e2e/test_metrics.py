"""Prometheus metrics (issue 32): `jetl worker --metrics-listen` and the
service's GET /metrics (jetl.web.metrics), scraped over HTTP during and
after an extraction through RabbitMQ, checked against the job's totals
(etl_job_queue.totals) and parsed by prometheus_client's own parser."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from harness import (BUILD, JETL, PY, ROOT, Database, Simulator, Vhost, jetl, jetl_env, make_dataset,
                     start_worker)

ISSUES = 150
SVC_TOKEN = "metrics-test-token-0123"
KEYS = ("issues", "histories", "changelog_items", "dev_status", "work_items", "raw_rows",
        "requests", "retries", "rate_limited", "deleted")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(url, token=None):
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token} if token else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.headers.get("Content-Type"), r.read().decode()


def samples(text):
    """{(name, frozenset(labels)): value}, through prometheus_client's parser."""
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(sm, name, **labels):
    want = set(labels.items())
    found = [v for (n, ls), v in sm.items() if n == name and want <= set(ls)]
    return found[0] if found else None


class Metrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = make_dataset("MET:%d" % ISSUES, seed=21)

    def start_service(self, db, tmp):
        port_file = os.path.join(tmp, "svc.port")
        env = dict(os.environ, JETL_DB=db.dsn, JETL_QUEUE="",
                   PYTHONPATH=os.path.join(BUILD, "bindings", "python"),
                   JETL_SERVICE_TOKENS=json.dumps({SVC_TOKEN: 1}))
        proc = subprocess.Popen([PY, os.path.join(ROOT, "examples", "service", "server.py"), "--port", "0",
                                 "--port-file", port_file], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (proc.kill(), proc.wait()))
        deadline = time.monotonic() + 30
        port = ""
        while not port:
            self.assertIsNone(proc.poll(), "the service did not start")
            self.assertLess(time.monotonic(), deadline, "the service did not start")
            time.sleep(0.05)
            if os.path.exists(port_file):
                with open(port_file) as f:
                    port = f.read().strip()
        return "http://127.0.0.1:%s/api/v1/etl/metrics" % port

    def test_worker_and_service_report_the_job_totals(self):
        db, vhost, sim = Database(), Vhost(), Simulator(self.data)
        self.addCleanup(db.drop)
        self.addCleanup(vhost.drop)
        self.addCleanup(sim.stop)
        tmp = tempfile.mkdtemp(prefix="jetl-metrics-")
        env = jetl_env(db, sim)
        jetl(env, "migrate")
        worker_url = "http://127.0.0.1:%d/metrics" % free_port()
        w = start_worker(env, "--queue", vhost.url, "--metrics-listen", worker_url[7:-8])
        self.addCleanup(lambda: w.poll() is None and (w.kill(), w.communicate()))
        # The service needs the Python binding; a build without it (the
        # sanitized one) checks the worker's listener alone.
        has_py = os.path.isdir(os.path.join(BUILD, "bindings", "python", "jetl"))
        svc_url = self.start_service(db, tmp) if has_py else None

        run = subprocess.Popen([JETL, "extract", "--queue", vhost.url, "--wait", "--progress", "none",
                                "--project", "MET"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        during, last = [], 0
        while run.poll() is None or not during:     # scraped during the run (at least once)
            try:
                ctype, text = scrape(worker_url)
            except OSError:                         # the listener is not up yet
                time.sleep(0.05)
                continue
            sm = samples(text)
            issues = value(sm, "jetl_issues_total")
            self.assertGreaterEqual(issues, last, "a counter went down")
            last = issues
            during.append(sm)
            time.sleep(0.1)
        out, err = run.communicate(timeout=300)
        self.assertEqual(run.returncode, 0, out + err)

        totals, = db.query("SELECT totals FROM etl_job_queue")[0]
        self.assertEqual(totals["issues"], ISSUES)
        self.assertIn("text/plain", ctype)
        _, text = scrape(worker_url)
        wm = samples(text)
        svc = samples(scrape(svc_url, SVC_TOKEN)[1]) if svc_url else None
        pairs = ((wm, "worker"), (svc, "service")) if svc else ((wm, "worker"),)
        lb = {"tenant": "1", "integration": "1"}
        for key in KEYS:
            self.assertEqual(value(wm, "jetl_%s_total" % key, **lb), totals.get(key, 0), "worker: " + key)
            if svc:
                self.assertEqual(value(svc, "jetl_%s_total" % key, **lb), totals.get(key, 0), "service: " + key)
        for key, n in (totals.items() if svc else ()):   # every key of the totals, later ones too
            self.assertEqual(value(svc, "jetl_%s_total" % key, **lb), n, "service: " + key)
        for sm, who in pairs:
            self.assertEqual(value(sm, "jetl_jobs", status="finished", **lb), 1, who)
            self.assertEqual(value(sm, "jetl_job_duration_seconds_count", **lb), 1, who)
            self.assertEqual(value(sm, "jetl_raw_rows_by_status", status="pending", **lb), 0, who)
            self.assertEqual(value(sm, "jetl_raw_rows_by_status", status="completed", **lb),
                             totals["raw_rows"], who)
        self.assertEqual(value(wm, "jetl_up", **lb), 1)
        end = db.scalar("SELECT extract(epoch FROM finished_at)::float8 FROM etl_job_queue")
        self.assertAlmostEqual(value(wm, "jetl_last_success_timestamp_seconds", **lb), end, places=2)
        if svc:
            self.assertAlmostEqual(value(svc, "jetl_last_success_timestamp_seconds", **lb), end, places=2)
            self.assertIsNotNone(value(svc, "jetl_project_last_success_timestamp_seconds", project="MET"))
        print("\nmetrics: %d scrapes of the worker during the run; after it, worker and service: "
              "issues %d, histories %d, changelog items %d, requests %d" % (
                  len(during), totals["issues"], totals["histories"], totals["changelog_items"],
                  totals["requests"]))

        if svc_url:
            with self.assertRaises(urllib.error.HTTPError) as e:   # the service's needs a token
                scrape(svc_url)
            self.assertEqual(e.exception.code, 401)
            e.exception.close()
        w.send_signal(signal.SIGTERM)           # the listener thread ends with the worker
        out, err = w.communicate(timeout=60)
        self.assertEqual(w.returncode, 0, out + err)

    def test_bad_address_is_a_usage_error(self):
        p = subprocess.run([JETL, "worker", "--metrics-listen", "nonsense"], capture_output=True, text=True,
                           env=dict(os.environ, JETL_DB="host=127.0.0.1 port=1 connect_timeout=1"))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("HOST:PORT", p.stderr)


if __name__ == "__main__":
    unittest.main()
