"""End-to-end (issue 14): two tenants, each with an integration (the same id,
5, in both) pointing at its own simulator that serves different issues under
the same ids and keys, extracted at the same time through RabbitMQ by two
workers that take each connection from its row. Every row lands under its
own tenant; an unknown integration and the other tenant's are refused with
nothing written; the secrets are nowhere in a pg_dump, the logs, the job and
raw rows or `ps` during the run; a key rotation keeps both usable; and
`jetl integration test` tells 401, 403, DNS, refused and TLS apart."""
import glob
import json
import re
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import (Database, Vhost, JETL, PY, ROOT, jetl, jetl_env, make_dataset,  # noqa: F401
                     start_worker)

sys.path.insert(0, os.path.join(ROOT, "sim"))
from process import SimProcess  # noqa: E402

USER = "it@example.com"
TOKENS = {1: "tenant-one-token-9f2c4e", 2: "tenant-two-token-5a7d1b"}
PROJECTS = "ITA:70,ITB:30"
IID = 5


def sealed_key():
    return os.urandom(32).hex()


def dataset_summaries(data):
    """{issue id: summary} of a generated dataset."""
    out = {}
    for path in glob.glob(os.path.join(data, "issues", "*.jsonl")):
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                out[rec["id"]] = rec["issue"]["fields"]["summary"]
    return out


class TLSServer:
    """A self-signed HTTPS endpoint on loopback (a cert openssl made now)."""

    def __init__(self, tmp):
        self.cert, self.key = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key,
                        "-out", self.cert, "-days", "1", "-subj", "/CN=localhost"],
                       check=True, capture_output=True)

        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                body = b'{"deploymentType":"Server","version":"9.0.0"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Integrations(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="jetl-e2e-int-")
        cls.data, cls.sims, cls.token_files = {}, {}, {}
        for t, seed in ((1, 3), (2, 4)):
            cls.data[t] = make_dataset(PROJECTS, seed=seed)
            path = os.path.join(cls.tmp, "token%d" % t)
            with open(path, "w") as f:
                f.write(TOKENS[t] + "\n")
            cls.token_files[t] = path
            # the token from a file: the simulator's argv holds no secret either
            cls.sims[t] = SimProcess(cls.data[t], "--user", USER, "--token-file", path, "--latency-ms", "1")
        cls.db = Database()
        cls.vhost = Vhost()
        cls.key = sealed_key()
        cls.env = jetl_env(cls.db)          # no JETL_JIRA_*: connections come from the rows
        for k in ("JETL_JIRA_URL", "JETL_JIRA_USER", "JETL_JIRA_TOKEN", "JETL_SECRET_KEY_FILE"):
            cls.env.pop(k, None)
        cls.env["JETL_SECRET_KEY"] = cls.key
        cls.env["JETL_JIRA_BACKOFF_MS"] = "20"
        jetl(cls.env, "migrate")
        for t in (1, 2):
            jetl(cls.env, "--tenant", str(t), "integration", "add", "--id", str(IID), "--name", "site %d" % t,
                 "--url", cls.sims[t].url, "--user", USER, "--secret-file", cls.token_files[t])

    @classmethod
    def tearDownClass(cls):
        for s in cls.sims.values():
            s.stop()
        cls.db.drop()
        cls.vhost.drop()
        subprocess.run(["rm", "-rf", cls.tmp] + list(cls.data.values()))

    def count(self, sql, args=None):
        return self.db.scalar(sql, args)

    def assert_no_secret(self, text, where):
        for tok in TOKENS.values():
            self.assertNotIn(tok, text, "a token in %s" % where)
        self.assertNotIn(self.key, text, "the key in %s" % where)

    def test_1_two_tenants_at_once_through_two_workers(self):
        env = dict(self.env, JETL_QUEUE=self.vhost.url)
        workers = [start_worker(env, "--distribute") for _ in range(2)]
        extracts, ps_seen = [], []
        try:
            for t in (1, 2):
                extracts.append(subprocess.Popen(
                    [JETL, "--tenant", str(t), "--integration", str(IID), "extract", "--distribute", "--wait",
                     "--progress", "none"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            while any(p.poll() is None for p in extracts):
                ps_seen.append(subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout)
                time.sleep(0.1)
            logs = []
            for p in extracts:
                out, err = p.communicate(timeout=600)
                logs.append(out + err)
                self.assertEqual(p.returncode, 0, out + err)
        finally:
            for w in workers:
                w.send_signal(signal.SIGTERM)
            for w in workers:
                out, err = w.communicate(timeout=120)
                logs.append(out + err)
        self.assertGreater(len(ps_seen), 0)
        for snap in ps_seen:
            self.assert_no_secret(snap, "ps output")
        for text in logs:
            self.assert_no_secret(text, "the logs")

        # every row under its own tenant and integration, with its own site's data
        for t in (1, 2):
            want = dataset_summaries(self.data[t])
            rows = self.db.query("SELECT external_id, summary FROM work_items WHERE tenant_id = %s", (t,))
            self.assertEqual(len(rows), 100)
            self.assertEqual({r[0]: r[1] for r in rows}, want, "tenant %d holds another site's issues" % t)
            self.assertEqual(self.count("SELECT count(*) FROM work_items WHERE tenant_id = %s AND integration_id <> %s",
                                        (t, IID)), 0)
            self.assertEqual(self.count("SELECT count(*) FROM projects WHERE tenant_id = %s AND integration_id = %s",
                                        (t, IID)), 2)
            self.assertGreater(self.count("SELECT count(*) FROM statuses WHERE tenant_id = %s", (t,)), 0)
        same_ids = self.count("SELECT count(*) FROM work_items a JOIN work_items b USING (external_id, key)"
                              " WHERE a.tenant_id = 1 AND b.tenant_id = 2")
        differ = self.count("SELECT count(*) FROM work_items a JOIN work_items b USING (external_id)"
                            " WHERE a.tenant_id = 1 AND b.tenant_id = 2 AND a.summary <> b.summary")
        self.assertEqual(same_ids, 100, "the two sites should share ids and keys")
        self.assertGreater(differ, 50, "the two sites should hold different issues")
        self.assertEqual(self.count("SELECT count(*) FROM work_items WHERE tenant_id NOT IN (1, 2)"), 0)

        # the secret is nowhere at rest: job rows, raw rows, the whole dump
        jobs = "\n".join(r[0] for r in self.db.query("SELECT t::text FROM etl_job_queue t"))
        self.assert_no_secret(jobs, "job rows")
        raw = "\n".join(r[0] for r in self.db.query("SELECT t::text FROM raw_extraction_data t"))
        self.assert_no_secret(raw, "raw rows")
        dump = subprocess.run(["pg_dump", "--no-owner", self.db.dsn], capture_output=True, text=True, check=True).stdout
        self.assertIn("enc:v1:", dump)
        self.assert_no_secret(dump, "pg_dump")

    def test_2_unknown_and_other_tenants_integration_refused(self):
        before = [self.count("SELECT count(*) FROM %s" % t) for t in ("etl_job_queue", "raw_extraction_data")]
        p = jetl(self.env, "--tenant", "1", "--integration", "77", "extract", "--project", "ITA",
                 "--progress", "none", check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("integration 77 of tenant 1 not found", p.stderr)
        # tenant 3 has no integration 5: tenant 1's and 2's are not its own
        p = jetl(self.env, "--tenant", "3", "--integration", str(IID), "extract", "--progress", "none", check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("integration %d of tenant 3 not found" % IID, p.stderr)
        p = jetl(self.env, "--tenant", "3", "integration", "show", str(IID), check=False)
        self.assertEqual(p.returncode, 1)
        after = [self.count("SELECT count(*) FROM %s" % t) for t in ("etl_job_queue", "raw_extraction_data")]
        self.assertEqual(before, after)
        self.assertEqual(self.count("SELECT count(*) FROM work_items WHERE tenant_id = 3 OR integration_id = 77"), 0)

    def test_2b_integration_json_times_are_rfc3339_utc(self):
        # one time format in every JSON output (status --json, --progress json, the log)
        rfc3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        shown = json.loads(jetl(self.env, "--tenant", "1", "integration", "show", str(IID), "--json").stdout)
        listed = [json.loads(line) for line in
                  jetl(self.env, "--tenant", "1", "integration", "list", "--json").stdout.splitlines() if line]
        for rec in [shown] + listed:
            for k in ("created_at", "updated_at"):
                self.assertRegex(rec[k], rfc3339, (k, rec))

    def test_3_key_rotation_keeps_every_integration_usable(self):
        old = os.path.join(self.tmp, "old.key")
        with open(old, "w") as f:
            f.write(self.key + "\n")
        new_key = sealed_key()
        env = dict(self.env, JETL_SECRET_KEY=new_key)
        p = jetl(env, "--tenant", "1", "integration", "test", str(IID), check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("failed (secret)", p.stdout)
        p = jetl(env, "integration", "rotate-key", "--old-key-file", old)
        self.assertIn("2 secrets re-sealed", p.stdout)
        for t in (1, 2):
            p = jetl(env, "--tenant", str(t), "integration", "test", str(IID))
            self.assertIn("ok: Jira Cloud", p.stdout)
        p = jetl(env, "--tenant", "2", "--integration", str(IID), "extract", "--project", "ITB", "--progress", "none")
        p = jetl(self.env, "--tenant", "1", "integration", "test", str(IID), check=False)
        self.assertEqual(p.returncode, 1, "the old key should no longer open the secrets")
        # back to the class key for the other tests
        newf = os.path.join(self.tmp, "new.key")
        with open(newf, "w") as f:
            f.write(new_key)
        jetl(self.env, "integration", "rotate-key", "--old-key-file", newf)

    def test_4_integration_test_tells_failures_apart(self):
        tls = TLSServer(self.tmp)
        try:
            bad = os.path.join(self.tmp, "bad-token")
            with open(bad, "w") as f:
                f.write("not-the-token")
            cases = [("auth", self.sims[1].url, bad), ("forbidden", self.sims[1].url, self.token_files[1]),
                     ("unreachable", "http://127.0.0.1:1", self.token_files[1]),
                     ("dns", "https://jira.invalid", self.token_files[1]),
                     ("tls", tls.url, self.token_files[1]),
                     ("ok", self.sims[2].url, self.token_files[2])]
            ids = {}
            for name, url, secret in cases:
                p = jetl(self.env, "--tenant", "9", "integration", "add", "--name", name, "--url", url,
                         "--user", USER, "--secret-file", secret)
                ids[name] = int(p.stdout.split()[1])
            results = {}
            for name, _, _ in cases:
                if name == "forbidden":
                    self.sims[1].control("faults", {"forbidden": 1})
                p = jetl(self.env, "--tenant", "9", "integration", "test", str(ids[name]), "--json", check=False)
                results[name] = (p.returncode, json.loads(p.stdout))
                self.assert_no_secret(p.stdout + p.stderr, "integration test output")
            print("\n[integration test] " + "; ".join("%s: %s %s" % (n, r[1]["failure"] or "ok", r[1]["http_status"])
                                                    for n, r in results.items()))
            for name in ("auth", "forbidden", "unreachable", "dns", "tls"):
                rc, r = results[name]
                self.assertEqual(rc, 1, r)
                self.assertEqual(r["failure"], name, r)
            self.assertEqual(results["auth"][1]["http_status"], 401)
            self.assertEqual(results["forbidden"][1]["http_status"], 403)
            self.assertIn("certificate", results["tls"][1]["message"].lower())
            self.assertEqual(results["ok"][0], 0)
            self.assertTrue(results["ok"][1]["ok"])
            self.assertEqual(len({r[1]["failure"] for r in results.values()}), len(cases))
        finally:
            tls.stop()

    def test_5_distributed_job_with_keys_stores_the_catalogue(self):
        env = dict(self.env, JETL_QUEUE=self.vhost.url)
        jetl(self.env, "--tenant", "4", "integration", "add", "--id", str(IID), "--name", "distributed",
             "--url", self.sims[1].url, "--user", USER, "--secret-file", self.token_files[1])
        # no worker: the messages wait in the vhost, the catalogue is stored by this process
        jetl(env, "--tenant", "4", "--integration", str(IID), "extract", "--distribute", "--project", "ITA",
             "--progress", "none")
        self.assertEqual(self.count("SELECT count(*) FROM projects WHERE tenant_id = 4 AND integration_id = %s",
                                    (IID,)), 2)
        self.assertGreater(self.count("SELECT count(*) FROM issue_types WHERE tenant_id = 4"), 0)

    def test_6_running_worker_follows_an_updated_integration(self):
        # A worker runs for days; `integration update` (a new URL, a new
        # secret) in another process must reach its next job, not wait for
        # a restart: the worker reads the row at the start of every job.
        vh = Vhost()
        self.addCleanup(vh.drop)
        env = dict(self.env, JETL_QUEUE=vh.url)
        t = "6"
        jetl(self.env, "--tenant", t, "integration", "add", "--id", str(IID), "--name", "moves",
             "--url", self.sims[1].url, "--user", USER, "--secret-file", self.token_files[1])
        worker = start_worker(env, "--distribute")
        run = ("--tenant", t, "--integration", str(IID), "extract", "--distribute", "--wait", "--full",
               "--project", "ITA", "--progress", "none")
        try:
            jetl(env, *run)
            rows = dict(self.db.query("SELECT external_id, summary FROM work_items WHERE tenant_id = %s", (int(t),)))
            want = dataset_summaries(self.data[1])
            self.assertEqual(rows, {k: want[k] for k in rows})
            self.assertEqual(len(rows), 70)
            jetl(self.env, "--tenant", t, "integration", "update", str(IID), "--url", self.sims[2].url,
                 "--secret-file", self.token_files[2])
            for s in self.sims.values():
                s.control("reset-stats", {})
            jetl(env, *run)
            old, new = (self.sims[n].control("stats") for n in (1, 2))
            self.assertEqual(old["total"], 0, "after the update the worker still asked the old site: %s"
                             % old["requests"])
            self.assertGreater(sum(new["requests"].get(k, {}).get("200", 0) for k in new["requests"]
                                   if "bulkfetch" in k or "search" in k), 0, new["requests"])
        finally:
            worker.send_signal(signal.SIGTERM)
            out, err = worker.communicate(timeout=120)
        self.assert_no_secret(out + err, "the worker's log")


class NoImplicitIntegration(unittest.TestCase):
    """Issue 25, item 7: a failed `integration add` uses up no id and leaves no
    row; without a registered integration a command that writes under one
    says so (exit 1) unless the Jira is given by its URL, and a job records
    which of the two it used."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="jetl-e2e-noint-")
        cls.token = os.path.join(cls.tmp, "token")
        with open(cls.token, "w") as f:
            f.write("a-token\n")
        cls.db = Database()
        cls.env = jetl_env(cls.db)
        for k in ("JETL_JIRA_URL", "JETL_JIRA_USER", "JETL_JIRA_TOKEN", "JETL_SECRET_KEY",
                  "JETL_SECRET_KEY_FILE", "JETL_INTEGRATION", "JETL_TENANT"):
            cls.env.pop(k, None)
        jetl(cls.env, "migrate")

    @classmethod
    def tearDownClass(cls):
        cls.db.drop()
        subprocess.run(["rm", "-rf", cls.tmp])

    def add(self, env, name):
        return jetl(env, "integration", "add", "--name", name, "--url", "http://127.0.0.1:9",
                    "--secret-file", self.token, check=False)

    def test_1_nothing_written_under_an_unregistered_integration(self):
        p = jetl(self.env, "fields", "--map", "customfield_10016=3", check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("integration 1 of tenant 1 not found", p.stderr)
        self.assertIn("jetl integration add", p.stderr)
        p = jetl(self.env, "projects", "--select", "K5", check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("integration 1 of tenant 1 not found", p.stderr)
        p = jetl(self.env, "extract", "--project", "K5", "--progress", "none", check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("integration 1 of tenant 1 not found", p.stderr)
        for t in ("custom_field_mappings", "projects", "etl_job_queue", "raw_extraction_data"):
            self.assertEqual(self.db.scalar("SELECT count(*) FROM %s" % t), 0, t)
        # Given by its URL, the Jira needs no row, and the job says where it came from.
        data = make_dataset("NI:3", seed=5)
        sim = SimProcess(data, "--user", USER, "--token-file", self.token)
        try:
            env = dict(self.env, JETL_JIRA_URL=sim.url, JETL_JIRA_USER=USER, JETL_JIRA_TOKEN="a-token")
            jetl(env, "fields", "--map", "customfield_10016=3")
            jetl(env, "extract", "--project", "NI", "--progress", "none")
        finally:
            sim.stop()
            subprocess.run(["rm", "-rf", data])
        self.assertEqual(self.db.scalar("SELECT params->>'connection' FROM etl_job_queue"), "jira_url")
        self.assertEqual(self.db.scalar("SELECT count(*) FROM work_items WHERE project_key = 'NI'"), 3)

    def test_2_a_failed_add_uses_up_no_id(self):
        p = self.add(self.env, "no key yet")            # no JETL_SECRET_KEY: the secret cannot be sealed
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("no secret key", p.stderr)
        self.assertEqual(self.db.scalar("SELECT count(*) FROM integrations"), 0)
        env = dict(self.env, JETL_SECRET_KEY=sealed_key())
        p = self.add(env, "first")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("integration 1 of tenant 1 added", p.stdout + p.stderr)
        # A removed integration's id is not given again (its data stays).
        jetl(env, "integration", "remove", "1")
        p = self.add(env, "second")
        self.assertIn("integration 2 of tenant 1 added", p.stdout + p.stderr)
        jetl(env, "fields", "--map", "customfield_10016=3", "--integration", "2")


if __name__ == "__main__":
    unittest.main()
