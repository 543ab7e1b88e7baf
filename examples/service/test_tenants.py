"""Issue 14 through the example service: one service (server.py under
uvicorn, a queue, no transform threads of its own) serves two tenants, each
with its own bearer token and an integration of the same id (5) sealed with
JETL_SECRET_KEY and pointing at its own Jira simulator; the two sites serve
different issues under the same ids and keys. Both extractions are triggered
at once through the service, two `jetl worker` processes on the test's vhost
transform them, and every row must land under its own tenant with its own
site's data: a service that used one Jira connection for every integration
would store one site's summaries under both tenants and fail. The other
tenant's integration and an unknown one are refused with nothing written, and
neither Jira token is in the service's or the workers' logs, the job rows,
the raw rows, `ps` during the run or a pg_dump of the database.

    eval "$(scripts/services start)"
    JETL_BUILD_ROOT=build /usr/bin/python3 -m unittest discover -s examples/service -p 'test_*.py'

Environment: JETL_DB and JETL_QUEUE (scripts/services), JETL_BUILD_ROOT
(needs -Dpython=enabled; tools/jetl for the workers and the integrations).
"""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

import psycopg2

# the helpers of the service's other tests (that module also puts sim/ on sys.path)
from test_service import BUILD, HERE, PREFIX, PY, PYPATH, ROOT, admin, extract_path, skip_unless_ready
from process import SimProcess  # noqa: E402

JETL = os.path.join(BUILD, "tools", "jetl")
USER = "tenants@example.com"
IID, ONLY_B, UNKNOWN = 5, 6, 77
PROJECTS = "TNA:30,TNB:20"      # the same keys and ids on both sites, other issues
N = 50
KEYS = ["TNA", "TNB"]
TERMINAL = ("finished", "failed", "cancelled")


def dataset(data):
    """{issue id: (key, summary)} and {(issue id, history id)} of a generated site."""
    issues, histories = {}, set()
    for path in glob.glob(os.path.join(data, "issues", "*.jsonl")):
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                issues[rec["id"]] = (rec["key"], rec["issue"]["fields"]["summary"])
                histories.update((rec["id"], h["id"]) for h in rec.get("histories") or ())
    return issues, histories


def summaries_in(value, out):
    """Every fields.summary anywhere in a decoded raw row."""
    if isinstance(value, dict):
        f = value.get("fields")
        if isinstance(f, dict) and isinstance(f.get("summary"), str):
            out.add(f["summary"])
        for v in value.values():
            summaries_in(v, out)
    elif isinstance(value, list):
        for v in value:
            summaries_in(v, out)
    return out


class TwoTenantsOneService(unittest.TestCase):
    def setUp(self):
        skip_unless_ready()
        if not os.environ.get("JETL_QUEUE"):
            raise unittest.SkipTest("JETL_QUEUE is not set")
        if not os.access(JETL, os.X_OK):
            raise unittest.SkipTest("no %s" % JETL)
        self.procs, self.files, self.sims = [], [], {}
        self.dbname = self.vhost = None
        self.tmp = tempfile.mkdtemp(prefix="jetl-tenants-")
        self.addCleanup(self.cleanup)
        # fresh secrets each run: a hit in `ps` or a log cannot be another test's
        self.jira_tokens = {1: "jira-one-" + uuid.uuid4().hex, 2: "jira-two-" + uuid.uuid4().hex}
        self.bearer = {1: "svc-one-" + uuid.uuid4().hex[:16], 2: "svc-two-" + uuid.uuid4().hex[:16]}
        self.key = os.urandom(32).hex()
        self.sites, token_files = {}, {}
        for t, seed in ((1, 3), (2, 4)):
            data = os.path.join(self.tmp, "site%d" % t)
            subprocess.run([PY, os.path.join(ROOT, "sim", "gen.py"), "--out", data, "--projects", PROJECTS,
                            "--seed", str(seed)], check=True, capture_output=True)
            self.sites[t] = dataset(data)
            token_files[t] = os.path.join(self.tmp, "jira-token%d" % t)
            with open(token_files[t], "w") as f:
                f.write(self.jira_tokens[t] + "\n")
            # the token from a file: no argv holds a secret. Some latency keeps
            # both jobs running long enough to overlap.
            self.sims[t] = SimProcess(data, "--user", USER, "--token-file", token_files[t], "--latency-ms", "30")
        self.dbname = "jetl_tenants_" + uuid.uuid4().hex[:10]
        admin("CREATE DATABASE " + self.dbname)
        self.db = os.environ["JETL_DB"].rsplit("/", 1)[0] + "/" + self.dbname
        self.vhost = "jetl-tenants-" + uuid.uuid4().hex[:8]
        out = subprocess.run([os.path.join(ROOT, "scripts", "services"), "vhost", self.vhost],
                             check=True, capture_output=True, text=True).stdout.strip()
        queue = out.splitlines()[-1].split("=", 1)[-1].strip("'\"")

        self.env = dict(os.environ, JETL_DB=self.db, JETL_QUEUE=queue, JETL_SECRET_KEY=self.key,
                        JETL_JIRA_BACKOFF_MS="20")
        for k in ("JETL_JIRA_URL", "JETL_JIRA_USER", "JETL_JIRA_TOKEN", "JETL_JIRA_AUTH", "JETL_SECRET_KEY_FILE"):
            self.env.pop(k, None)   # the integration rows say where each Jira is
        self.jetl("migrate")
        for t in (1, 2):
            self.jetl("--tenant", str(t), "integration", "add", "--id", str(IID), "--name", "site %d" % t,
                      "--url", self.sims[t].url, "--user", USER, "--secret-file", token_files[t])
        self.jetl("--tenant", "2", "integration", "add", "--id", str(ONLY_B), "--name", "only tenant 2's",
                  "--url", self.sims[2].url, "--user", USER, "--secret-file", token_files[2])

        # the service: no transform threads (--workers 0), the queue is the workers'
        port_file = os.path.join(self.tmp, "svc.port")
        self.port = None
        svc = self.spawn("service", [PY, os.path.join(HERE, "server.py"), "--port", "0", "--port-file", port_file],
                         dict(self.env, PYTHONPATH=PYPATH,
                              JETL_SERVICE_TOKENS=json.dumps({self.bearer[1]: 1, self.bearer[2]: 2})))
        self.workers = [self.spawn("worker%d" % i, [JETL, "worker", "--progress", "none"], self.env)
                        for i in (1, 2)]
        deadline = time.monotonic() + 30
        while not os.path.exists(port_file):
            self.assertIsNone(svc.poll(), "the service exited: " + self.log("service"))
            self.assertLess(time.monotonic(), deadline, "the service did not start")
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read())
        for w in self.workers:
            self.assertIsNone(w.poll(), "a worker exited")

    def jetl(self, *args):
        p = subprocess.run([JETL, *args], env=self.env, capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError("jetl %s: %s%s" % (" ".join(args[:4]), p.stdout, p.stderr))
        return p

    def spawn(self, name, argv, env):
        f = open(os.path.join(self.tmp, name + ".log"), "w")
        self.files.append(f)
        p = subprocess.Popen(argv, env=env, stdout=f, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def log(self, name):
        with open(os.path.join(self.tmp, name + ".log"), errors="replace") as f:
            return f.read()

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for f in self.files:
            f.close()
        for s in self.sims.values():
            s.stop()
        if self.dbname:
            admin("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.dbname)
        if self.vhost:
            subprocess.run([os.path.join(ROOT, "scripts", "services"), "vhost", "-d", self.vhost],
                           capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def query(self, sql, args=None):
        c = psycopg2.connect(self.db)
        try:
            c.autocommit = True
            cur = c.cursor()
            cur.execute(sql, args)
            return cur.fetchall()
        finally:
            c.close()

    def call(self, method, path, tenant, timeout=60):
        import httpx
        r = httpx.request(method, "http://127.0.0.1:%d%s" % (self.port, path), timeout=timeout,
                          headers={"Authorization": "Bearer " + self.bearer[tenant]})
        return r.status_code, r.json()

    def written(self):
        return self.query("SELECT (SELECT count(*) FROM etl_job_queue), (SELECT count(*) FROM raw_extraction_data),"
                          " (SELECT count(*) FROM work_items)")[0]

    def assert_no_jira_token(self, text, where):
        for t, tok in self.jira_tokens.items():
            self.assertNotIn(tok, text, "tenant %d's Jira token in %s" % (t, where))
        self.assertNotIn(self.key, text, "JETL_SECRET_KEY in %s" % where)

    def test_two_tenants_one_service_two_workers(self):
        t0 = time.monotonic()
        # -- refused, with nothing written
        for tenant, path, code, detail in (
                (1, extract_path(UNKNOWN, project_keys="TNA", incremental="false"), 404,
                 "integration %d not found" % UNKNOWN),
                (1, extract_path(ONLY_B, project_keys="TNA", incremental="false"), 404,
                 "integration %d not found" % ONLY_B),
                (1, extract_path(IID, tenant_id=2, project_keys="TNA", incremental="false"), 403,
                 "tenant_id is not this token's tenant"),
                (2, extract_path(IID, tenant_id=1, project_keys="TNA", incremental="false"), 403,
                 "tenant_id is not this token's tenant")):
            s, body = self.call("POST", path, tenant)
            self.assertEqual((s, body), (code, {"detail": detail}), path)
        s, body = self.call("GET", "%s/integrations/%d/projects" % (PREFIX, ONLY_B), 1)
        self.assertEqual(s, 404, body)
        self.assertEqual(self.written(), (0, 0, 0))

        # -- both extractions at once, one per tenant, the same integration id
        barrier, answers = threading.Barrier(2), {}

        def trigger(t):
            barrier.wait(10)
            answers[t] = self.call("POST", extract_path(IID, project_keys=KEYS, incremental="false"), t)
        threads = [threading.Thread(target=trigger, args=(t,)) for t in (1, 2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(70)
        jobs = {}
        for t in (1, 2):
            s, body = answers[t]
            self.assertEqual(s, 200, body)
            self.assertEqual(body["integration_id"], IID)
            jobs[t] = body["job_id"]
        self.assertNotEqual(jobs[1], jobs[2])

        # -- until both are finished and every raw row transformed, through the service
        final, ps, deadline = {}, [], time.monotonic() + 70
        while len(final) < 2:
            ps.append(subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout)
            for t in (1, 2):
                if t in final:
                    continue
                s, job = self.call("GET", "%s/jobs/%d" % (PREFIX, jobs[t]), t)
                self.assertEqual(s, 200, job)
                if job["status"] in TERMINAL and job["raw_pending"] == 0:
                    final[t] = job
            for w in self.workers:
                self.assertIsNone(w.poll(), "a worker exited: " + self.log("worker1") + self.log("worker2"))
            self.assertLess(time.monotonic(), deadline, "jobs still running: %s" % final)
            time.sleep(0.2)
        for t in (1, 2):
            job = final[t]
            self.assertEqual((job["status"], job["error"]), ("finished", None), job)
            self.assertEqual((job["tenant_id"], job["integration_id"]), (t, IID))
            self.assertEqual(job["raw_failed"], 0, job)
            self.assertEqual(job["totals"].get("issues"), N, job["totals"])
            # the other tenant's token does not see it
            self.assertEqual(self.call("GET", "%s/jobs/%d" % (PREFIX, jobs[t]), 3 - t)[0], 404)
        # they ran at the same time, not one after the other
        (overlap,), = self.query("SELECT a.started_at < b.finished_at AND b.started_at < a.finished_at"
                                 " FROM etl_job_queue a, etl_job_queue b WHERE a.id = %s AND b.id = %s",
                                 (jobs[1], jobs[2]))[0:1]
        self.assertTrue(overlap, "the two jobs did not overlap")

        # -- every row under its own tenant and integration, with its own site's data
        i1, i2 = self.sites[1][0], self.sites[2][0]
        self.assertEqual({i: k for i, (k, _) in i1.items()}, {i: k for i, (k, _) in i2.items()},
                         "the two sites should share issue ids and keys")
        self.assertGreater(sum(i1[i][1] != i2[i][1] for i in i1), N // 2, "the two sites should differ")
        for t in (1, 2):
            issues, histories = self.sites[t]
            rows = self.query("SELECT external_id, key, summary FROM work_items WHERE tenant_id = %s"
                              " AND integration_id = %s", (t, IID))
            self.assertEqual({i: (k, s) for i, k, s in rows}, issues, "tenant %d holds another site's issues" % t)
            got = set(self.query("SELECT DISTINCT work_item_external_id, history_id FROM changelogs"
                                 " WHERE tenant_id = %s AND integration_id = %s", (t, IID)))
            self.assertEqual(got, histories, "tenant %d's changelogs are not its site's" % t)
            got = {r[0] for r in self.query("SELECT work_item_external_id FROM dev_status"
                                            " WHERE tenant_id = %s AND integration_id = %s", (t, IID))}
            self.assertEqual(got, set(issues))
            self.assertEqual(self.query("SELECT count(*) FROM projects WHERE tenant_id = %s AND integration_id = %s",
                                        (t, IID)), [(len(KEYS),)])
            # its raw rows are its job's and hold its own site's summaries only
            mine = {s for _, s in issues.values()}
            other = {s for _, s in self.sites[3 - t][0].values()} - mine
            seen = set()
            for raw, job_id, integration in self.query(
                    "SELECT raw_data::text, job_id, integration_id FROM raw_extraction_data WHERE tenant_id = %s",
                    (t,)):
                self.assertEqual((job_id, integration), (jobs[t], IID))
                summaries_in(json.loads(raw), seen)
            self.assertEqual(seen & other, set(), "tenant %d's raw rows hold the other site's issues" % t)
            self.assertLessEqual(mine, seen)
        for table in ("work_items", "changelogs", "dev_status", "raw_extraction_data", "etl_job_queue",
                      "projects", "sync_state"):
            self.assertEqual(self.query("SELECT count(*) FROM %s WHERE (tenant_id, integration_id)"
                                        " NOT IN ((1, %d), (2, %d))" % (table, IID, IID)), [(0,)], table)
        self.assertEqual(self.query("SELECT count(*) FROM etl_job_queue"), [(2,)])

        # -- stop everything, then no Jira token in what it left behind
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            self.assertEqual(p.wait(30), 0)
        logs = {n: self.log(n) for n in ("service", "worker1", "worker2")}
        self.assertNotIn("Traceback", logs["service"])
        self.assertIn("POST %s" % PREFIX, logs["service"], "the service logged no request")
        # the workers transformed every raw row (the service has no transform threads)
        done = {int(m) for n in ("worker1", "worker2") for m in re.findall(r"raw row (\d+) transformed", logs[n])}
        self.assertEqual(done, {r[0] for r in self.query("SELECT id FROM raw_extraction_data")})
        for name, text in logs.items():
            self.assert_no_jira_token(text, name + "'s log")
            for tok in self.bearer.values():
                self.assertNotIn(tok, text, "a bearer token in %s's log" % name)
        self.assertTrue(ps)
        for snap in ps:
            self.assert_no_jira_token(snap, "ps output")
        self.assert_no_jira_token("\n".join(r[0] for r in self.query("SELECT t::text FROM etl_job_queue t")),
                                  "the job rows")
        self.assert_no_jira_token("\n".join(r[0] for r in self.query("SELECT t::text FROM raw_extraction_data t")),
                                  "the raw rows")
        dump = subprocess.run(["pg_dump", "--no-owner", self.db], capture_output=True, text=True, check=True).stdout
        self.assertIn("enc:v1:", dump)   # the sealed secrets are in it, sealed
        self.assert_no_jira_token(dump, "pg_dump")
        print("\n[tenants] jobs %s, %d worker log lines, %.1f s" % (
            jobs, sum(len(t.splitlines()) for n, t in logs.items() if n != "service"), time.monotonic() - t0))


if __name__ == "__main__":
    unittest.main()
