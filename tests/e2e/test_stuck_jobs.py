"""Stuck jobs (issue 12 item 5): a SIGKILLed `jetl extract` or a PostgreSQL
restart while it waits must not leave a job `running` or a raw row
`pending` forever, and the rerun must not download again what was stored."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness
from harness import (ROOT, Database, Simulator, Vhost, jetl, jetl_env, make_dataset, start_worker, JETL)

# Short leases, so that a killed process is found out within seconds.
LEASE = "3"
ISSUES = 900


def stats_requests(sim, pattern):
    req = sim.control("stats").get("requests", {})
    return sum(n for k, v in req.items() if pattern in k for n in v.values())


def summary_issues(stdout):
    m = re.search(r"job \d+ \w+: (\d+) issues", stdout)
    return int(m.group(1)) if m else None


def kill_halfway(env, args, db, at_least):
    """Start `jetl extract` with args and SIGKILL it once at_least issues are
    stored in raw rows. Returns the issues stored when it died."""
    p = subprocess.Popen([JETL, "extract", "--progress", "none", *args], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    try:
        while db.scalar("SELECT coalesce(sum(item_count), 0) FROM raw_extraction_data") < at_least:
            if p.poll() is not None:
                raise AssertionError("extract ended before it was killed: " + p.stdout.read() + p.stderr.read())
            if time.time() > deadline:
                raise AssertionError("extract stored too little in 120 s")
            time.sleep(0.02)
    finally:
        p.kill()
        p.communicate()
    return db.scalar("SELECT coalesce(sum(item_count), 0) FROM raw_extraction_data")


class KilledExtract(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = make_dataset("KIL:%d" % ISSUES, seed=21)
        cls.sim = Simulator(cls.data, "--latency-ms", "15")
        cls.ref = Database()
        env = jetl_env(cls.ref, cls.sim)
        jetl(env, "migrate")
        jetl(env, "extract", "--project", "KIL", "--progress", "none")
        cls.ref_fp = cls.ref.fingerprint()

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        cls.ref.drop()
        shutil.rmtree(cls.data, ignore_errors=True)

    def setUp(self):
        self.cleanups = []

    def tearDown(self):
        for f in reversed(self.cleanups):
            f()

    def fresh(self, queue=False):
        db = Database()
        self.cleanups.append(db.drop)
        url = None
        if queue:
            vh = Vhost()
            self.cleanups.append(vh.drop)
            url = vh.url
        env = jetl_env(db, self.sim, url)
        env["JETL_LEASE_SECONDS"] = LEASE
        jetl(env, "migrate")
        return db, env, url

    def assert_swept(self, db, job_id):
        status, error = db.query("SELECT status, error FROM etl_job_queue WHERE id = %s", (job_id,))[0]
        self.assertEqual(status, "failed")
        self.assertIn("process running the job stopped", error)
        self.assertEqual(db.scalar("SELECT count(*) FROM raw_extraction_data WHERE job_id = %s"
                                   " AND status <> 'completed'", (job_id,)), 0, "a raw row stayed pending")

    def test_killed_in_process_extract_is_swept_and_resumed(self):
        db, env, _ = self.fresh()
        stored = kill_halfway(env, ["--project", "KIL"], db, ISSUES // 2)
        self.assertLess(stored, ISSUES)
        job1 = db.scalar("SELECT id FROM etl_job_queue")
        self.assertEqual(db.scalar("SELECT status FROM etl_job_queue"), "running")
        self.assertIsNotNone(db.scalar("SELECT lease_until FROM etl_job_queue"))
        time.sleep(float(LEASE) + 1)
        self.sim.control("reset-stats", {})
        rerun = jetl(env, "extract", "--project", "KIL", "--progress", "none")
        fetched = summary_issues(rerun.stdout)
        bodies = stats_requests(self.sim, "issue/bulkfetch")
        total = self.sim.control("stats")["total"]
        print("\n[stuck jobs] killed at %d of %d issues stored; rerun fetched %d issues in %d bulk fetches, "
              "%d requests in all" % (stored, ISSUES, fetched, bodies, total))
        self.assert_swept(db, job1)
        self.assertEqual(db.scalar("SELECT status FROM etl_job_queue WHERE id <> %s", (job1,)), "finished")
        # Not one issue stored before the kill is read again; only the
        # batches in flight when it died (not stored) are.
        self.assertEqual(fetched, ISSUES - stored, rerun.stdout)
        self.assertLessEqual(bodies, (ISSUES - stored + 99) // 100 + 1)
        self.assertEqual(db.fingerprint(), self.ref_fp)
        # The next run is incremental from the resumed run's watermark.
        again = jetl(env, "extract", "--project", "KIL", "--progress", "none")
        self.assertEqual(summary_issues(again.stdout), 0, again.stdout)

    def test_killed_queue_extract_rows_are_requeued_by_a_worker(self):
        db, env, url = self.fresh(queue=True)
        kill_halfway(env, ["--project", "KIL", "--queue", url], db, ISSUES // 3)
        job1 = db.scalar("SELECT id FROM etl_job_queue")
        pending = db.scalar("SELECT count(*) FROM raw_extraction_data WHERE status = 'pending'")
        self.assertGreater(pending, 0)
        # The messages are lost too (as when a process dies between storing
        # a row and publishing it): only the sweep can bring the rows back.
        purge(url, harness.queue_names(db)[0])
        time.sleep(float(LEASE) + 1)
        w = start_worker(env, "--queue", url, "--until-idle", "--idle-ms", "3000")
        out, err = w.communicate(timeout=300)
        self.assertEqual(w.returncode, 0, out + err)
        self.assert_swept(db, job1)
        self.assertIn("%d raw row(s)" % pending, db.scalar("SELECT detail FROM etl_job_queue WHERE id = %s", (job1,)))
        worker = start_worker(env, "--queue", url)
        try:
            jetl(env, "extract", "--project", "KIL", "--queue", url, "--wait", "--progress", "none")
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.communicate(timeout=60)
        self.assertEqual(db.scalar("SELECT status FROM etl_job_queue WHERE id <> %s", (job1,)), "finished")
        self.assertEqual(db.fingerprint(), self.ref_fp)

    def test_live_job_is_not_swept(self):
        db, env, _ = self.fresh()
        slow = Simulator(self.data, "--latency-ms", "60")
        self.cleanups.append(slow.stop)
        env1 = dict(env, JETL_JIRA_URL=slow.url)
        p = subprocess.Popen([JETL, "extract", "--project", "KIL", "--progress", "none"], env=env1,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # Longer than the lease: the heartbeat keeps it.
            time.sleep(float(LEASE) * 2 + 1)
            self.assertIsNone(p.poll())
            w = start_worker(env, "--until-idle", "--idle-ms", "200")
            w.communicate(timeout=60)
            self.assertEqual(db.scalar("SELECT status FROM etl_job_queue"), "running")
        finally:
            p.send_signal(signal.SIGINT)
            p.communicate(timeout=120)


class KilledServerExtract(unittest.TestCase):
    """The same resume on Server/DC, where bodies come with the search pages:
    the census carries `updated` and the rest is read by id."""

    def test_killed_server_extract_resumes_without_refetching(self):
        n = 600
        data = make_dataset("SRV:%d" % n, seed=8, flavor="server")
        sim = Simulator(data, "--latency-ms", "15")
        ref, db = Database(), Database()
        try:
            env = jetl_env(ref, sim)
            jetl(env, "migrate")
            jetl(env, "extract", "--project", "SRV", "--progress", "none")
            env = jetl_env(db, sim)
            env["JETL_LEASE_SECONDS"] = LEASE
            jetl(env, "migrate")
            stored = kill_halfway(env, ["--project", "SRV"], db, n // 2)
            time.sleep(float(LEASE) + 1)
            sim.control("reset-stats", {})
            rerun = jetl(env, "extract", "--project", "SRV", "--progress", "none")
            print("\n[stuck jobs, server] killed at %d of %d issues stored; rerun fetched %s issues, %d requests"
                  % (stored, n, summary_issues(rerun.stdout), sim.control("stats")["total"]))
            self.assertEqual(summary_issues(rerun.stdout), n - stored, rerun.stdout)
            self.assertEqual(db.fingerprint(), ref.fingerprint())
        finally:
            sim.stop()
            ref.drop()
            db.drop()
            shutil.rmtree(data, ignore_errors=True)


def purge(url, queue):
    import pika
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        conn.channel().queue_purge(queue)
    finally:
        conn.close()


class PrivatePostgres:
    """A PostgreSQL of this test's own (scripts/services with another state
    folder and port), so that restarting it cuts nobody else."""

    def __init__(self):
        import random
        import socket
        self.dir = tempfile.mkdtemp(prefix="jetl-pg-")
        os.chmod(self.dir, 0o755)
        port = None
        for _ in range(200):
            p = random.randrange(20000, 30000)
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    continue
            port = p
            break
        self.env = dict(os.environ, JETL_SERVICES_DIR=self.dir, JETL_PG_PORT=str(port))
        out = self.services("start", "pg")
        self.dsn = None
        for line in out.splitlines():
            if line.startswith("export JETL_DB="):
                self.dsn = line.split("=", 1)[1].strip("'")
        if not self.dsn:
            raise RuntimeError("scripts/services start pg gave no JETL_DB: " + out)

    def services(self, *args):
        p = subprocess.run([os.path.join(ROOT, "scripts", "services"), *args], env=self.env,
                           capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise RuntimeError("scripts/services %s: %s" % (" ".join(args), p.stderr[-2000:]))
        return p.stdout

    def restart(self):
        self.services("stop", "pg")
        self.services("start", "pg")

    def drop(self):
        try:
            self.services("stop", "pg")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class PostgresRestart(unittest.TestCase):
    def test_extract_waiting_for_workers_survives_a_postgres_restart(self):
        data = make_dataset("RST:300", seed=4)
        sim = Simulator(data)
        pg = PrivatePostgres()
        vh = Vhost()
        try:
            db = Database.__new__(Database)
            db.name, db.dsn = "jetl", pg.dsn
            env = jetl_env(db, sim, vh.url)
            env["JETL_LEASE_SECONDS"] = LEASE
            jetl(env, "migrate")
            p = subprocess.Popen([JETL, "extract", "--project", "RST", "--queue", vh.url, "--wait",
                                  "--progress", "none"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            # No worker yet: once every row is stored the extract only waits.
            deadline = time.time() + 120
            while db.scalar("SELECT coalesce(sum(step), 0) FROM etl_job_queue") < 1:
                self.assertIsNone(p.poll(), "extract ended early")
                self.assertLess(time.time(), deadline)
                time.sleep(0.05)
            pg.restart()
            w = start_worker(env, "--queue", vh.url)
            try:
                out, err = p.communicate(timeout=300)
            finally:
                w.send_signal(signal.SIGTERM)
                w.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, out + err)
            self.assertEqual(db.scalar("SELECT status FROM etl_job_queue"), "finished")
            self.assertEqual(db.scalar("SELECT count(*) FROM work_items"), 300)
        finally:
            vh.drop()
            pg.drop()
            sim.stop()
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
