"""End-to-end: the jetl command against the real PostgreSQL, the real
RabbitMQ and the Jira simulator (issue 5's "done when")."""
import json
import os
import re
import signal
import shutil
import subprocess
import time
import unittest

import harness
from harness import (Database, Simulator, Vhost, jetl, jetl_env, make_dataset, start_worker, JETL)
from dataset import parse_ts  # sim/, on the path through harness


def stop_worker(p, test):
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    test.assertEqual(p.returncode, 0, "worker: " + out + err)


def summary_issues(stdout):
    m = re.search(r"job \d+ \w+: (\d+) issues", stdout)
    return int(m.group(1)) if m else None


class Pipeline(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = make_dataset("AAA:320,BBB:180", seed=11, fixtures=True)
        cls.sim = Simulator(cls.data, "--latency-ms", "2")
        # The reference: everything in-process.
        cls.ref = Database()
        env = jetl_env(cls.ref, cls.sim)
        jetl(env, "migrate")
        cls.ref_run = jetl(env, "extract", "--project", "AAA", "--project", "BBB", "--project", "EE",
                           "--progress", "none")
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
        jetl(env, "migrate")
        return db, env, url

    def test_reference_run_is_complete(self):
        n = self.ref.scalar("SELECT count(*) FROM work_items")
        self.assertEqual(n, 320 + 180 + self.ref.scalar("SELECT count(*) FROM work_items WHERE project_key='EE'"))
        self.assertEqual(self.ref.scalar("SELECT status FROM etl_job_queue"), "finished")
        self.assertEqual(self.ref.scalar("SELECT count(*) FROM raw_extraction_data WHERE status <> 'completed'"), 0)
        # Issues with more histories than the embedded cap got all of them.
        self.assertGreater(self.ref.scalar(
            "SELECT max(c) FROM (SELECT count(DISTINCT history_id) c FROM changelogs GROUP BY work_item_external_id) t"), 100)

    def test_queue_with_two_workers_equals_in_process(self):
        db, env, url = self.fresh(queue=True)
        workers = [start_worker(env, "--queue", url) for _ in range(2)]
        try:
            jetl(env, "extract", "--queue", url, "--wait", "--progress", "none",
                 "--project", "AAA", "--project", "BBB", "--project", "EE")
        finally:
            for w in workers:
                stop_worker(w, self)
        self.assertEqual(db.fingerprint(), self.ref_fp)
        self.assertEqual(db.scalar("SELECT status FROM etl_job_queue"), "finished")

    def test_distribute_spreads_projects_over_workers(self):
        db, env, url = self.fresh(queue=True)
        workers = [start_worker(env, "--queue", url, "--distribute") for _ in range(2)]
        try:
            jetl(env, "extract", "--queue", url, "--distribute", "--wait", "--progress", "none",
                 "--project", "AAA", "--project", "BBB", "--project", "EE")
        finally:
            for w in workers:
                stop_worker(w, self)
        self.assertEqual(db.fingerprint(), self.ref_fp)
        self.assertEqual(db.query("SELECT status, step, total_steps, message, projects_done, projects_total"
                                  " FROM etl_job_queue")[0],
                         ("finished", 5, 5, "Issues extraction completed successfully", 3, 3))

    def test_distribute_without_dev_status_reaches_the_workers(self):
        # --no-dev-status is the job's choice: the workers that extract its
        # projects must not fetch dev status either.
        db, env, url = self.fresh(queue=True)
        workers = [start_worker(env, "--queue", url, "--distribute")]
        self.sim.control("reset-stats", {})
        try:
            jetl(env, "extract", "--queue", url, "--distribute", "--wait", "--progress", "none",
                 "--no-dev-status", "--project", "AAA", "--project", "EE")
        finally:
            for w in workers:
                stop_worker(w, self)
        dev = sum(sum(v.values()) for k, v in self.sim.control("stats").get("requests", {}).items() if "dev-status" in k)
        self.assertEqual(dev, 0, "a worker fetched dev status for a --no-dev-status job")
        self.assertEqual(db.scalar("SELECT status FROM etl_job_queue"), "finished")
        # the same tables as the same job run in one process
        ref, ref_env, _ = self.fresh()
        jetl(ref_env, "extract", "--progress", "none", "--no-dev-status", "--project", "AAA", "--project", "EE")
        self.assertGreater(ref.scalar("SELECT count(*) FROM work_items"), 0)
        self.assertEqual(db.fingerprint(), ref.fingerprint())

    def test_cancel_leaves_a_cancelled_job_and_consistent_tables(self):
        db, env, _ = self.fresh()
        slow = Simulator(self.data, "--latency-ms", "60")
        self.cleanups.append(slow.stop)
        env["JETL_JIRA_URL"] = slow.url
        p = subprocess.Popen([JETL, "extract", "--project", "AAA", "--progress", "json"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Wait for the first stored batch, then interrupt.
        for line in p.stdout:
            if json.loads(line).get("phase") in ("store", "changelogs", "dev_status"):
                break
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=120)
        self.assertEqual(p.returncode, 3)
        self.assertEqual(db.scalar("SELECT status FROM etl_job_queue"), "cancelled")
        self.assertEqual(db.scalar("SELECT count(*) FROM raw_extraction_data WHERE status IN ('processing', 'failed')"), 0)
        done = db.scalar("SELECT coalesce(sum(item_count), 0) FROM raw_extraction_data WHERE status = 'completed'")
        self.assertEqual(db.scalar("SELECT count(*) FROM work_items"), done)
        self.assertLess(done, 320)
        self.assertIsNone(db.scalar("SELECT max(watermark) FROM sync_state"), "a cancelled run moved the watermark")

    def test_killed_worker_loses_nothing(self):
        db, env, url = self.fresh(queue=True)
        jetl(env, "extract", "--queue", url, "--progress", "none", "--project", "AAA", "--project", "BBB",
             "--project", "EE")
        total = db.scalar("SELECT count(*) FROM raw_extraction_data")
        w = start_worker(env, "--queue", url)
        deadline = time.time() + 60
        while db.scalar("SELECT count(*) FROM raw_extraction_data WHERE status = 'completed'") < 2:
            self.assertLess(time.time(), deadline, "the worker made no progress")
            time.sleep(0.02)
        w.kill()  # SIGKILL, probably inside a transaction
        w.wait()
        self.assertLess(db.scalar("SELECT count(*) FROM raw_extraction_data WHERE status = 'completed'"), total)
        w2 = start_worker(env, "--queue", url, "--until-idle")
        out, err = w2.communicate(timeout=300)
        self.assertEqual(w2.returncode, 0, out + err)
        self.assertEqual(db.scalar("SELECT count(*) FROM raw_extraction_data WHERE status <> 'completed'"), 0)
        self.assertEqual(db.fingerprint(), self.ref_fp)
        self.assertEqual(db.scalar("SELECT status FROM etl_job_queue"), "finished")

    def test_poison_row_is_dead_lettered_while_the_rest_finish(self):
        db, env, url = self.fresh(queue=True)
        jetl(env, "extract", "--queue", url, "--progress", "none", "--project", "BBB")
        bad = db.scalar("SELECT min(id) FROM raw_extraction_data")
        # A row that cannot be read as a whole (a bad issue alone would be
        # left out and recorded in issue_errors, the row completed).
        db.query("UPDATE raw_extraction_data SET raw_data = '{\"issues\": [{\"id\": \"999\", \"key\": \"BBB-999\","
                 " \"fields\": {}}], \"changelogs\": [\"not an object\"]}' WHERE id = %s", (bad,))
        w = start_worker(env, "--queue", url, "--until-idle")
        out, err = w.communicate(timeout=300)
        self.assertEqual(w.returncode, 0, out + err)
        status, error, attempts = db.query("SELECT status, error, attempts FROM raw_extraction_data WHERE id = %s", (bad,))[0]
        self.assertEqual(status, "failed")
        self.assertIn("changelogs", error)
        self.assertGreaterEqual(attempts, 1)
        self.assertEqual(db.scalar("SELECT count(*) FROM raw_extraction_data WHERE id <> %s AND status <> 'completed'", (bad,)), 0)
        job_status, job_error = db.query("SELECT status, error FROM etl_job_queue")[0]
        self.assertEqual(job_status, "failed")
        self.assertIn("1 raw row", job_error)
        self.assertEqual(dead_letters(url, harness.queue_names(db)[0] + ".dead"), 1)


def dead_letters(url, queue):
    import pika
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        q = conn.channel().queue_declare(queue, passive=True)
        return q.method.message_count
    finally:
        conn.close()


class Incremental(unittest.TestCase):
    """A second run fetches only what changed, in a non-UTC user time zone."""

    def test_second_run_fetches_only_changes_and_marks_deletions(self):
        data = make_dataset("INC:300", seed=5, tz="America/Los_Angeles")
        sim = Simulator(data, "--user-tz", "America/Los_Angeles")
        db = Database()
        try:
            env = jetl_env(db, sim)
            jetl(env, "migrate")
            first = jetl(env, "extract", "--project", "INC", "--progress", "none")
            self.assertEqual(summary_issues(first.stdout), 300, first.stdout)
            histories = db.scalar("SELECT count(DISTINCT history_id) FROM changelogs")
            keys = ["INC-%d" % i for i in (3, 50, 120, 299)]
            sim.control("touch", {"keys": keys, "minutes_ago": 0})
            sim.control("delete", {"keys": ["INC-7", "INC-8"]})
            second = jetl(env, "extract", "--project", "INC", "--progress", "none")
            # Only the touched issues (the overlap may re-read a few more
            # updated in the last minutes before the watermark: none here).
            self.assertEqual(summary_issues(second.stdout), len(keys), second.stdout)
            self.assertEqual(db.scalar("SELECT count(DISTINCT history_id) FROM changelogs"), histories + len(keys))
            self.assertEqual(sorted(r[0] for r in db.query("SELECT key FROM work_items WHERE deleted_at IS NOT NULL")),
                             ["INC-7", "INC-8"])
            self.assertEqual(db.scalar("SELECT count(*) FROM work_items"), 300)
            third = jetl(env, "extract", "--project", "INC", "--progress", "none")
            self.assertLessEqual(summary_issues(third.stdout), len(keys), third.stdout)
            full = jetl(env, "extract", "--project", "INC", "--full", "--progress", "none")
            self.assertEqual(summary_issues(full.stdout), 298, full.stdout)
        finally:
            sim.stop()
            db.drop()
            shutil.rmtree(data, ignore_errors=True)


class CreatedMidRun(unittest.TestCase):
    """Server lists the id census before the search pages: an issue created
    in between is read by the pages and stored (transformed in-process while
    the later pages come) without being in the census. It must stay live;
    an issue really deleted is still marked."""

    def test_issue_created_after_the_census_is_not_marked_deleted(self):
        data = make_dataset("SRV:600", seed=7, flavor="server")
        # The first issue of the pages (created ASC): its page is stored and
        # transformed while the five after it are read (20 ms each), long
        # before the run marks deletions.
        with open(os.path.join(data, "issues", "SRV.jsonl"), encoding="utf-8") as f:
            recs = [json.loads(line) for line in f]
        new = min(recs, key=lambda r: (parse_ts(r["created"]), r["key"]))["key"]
        gone = "SRV-300" if new != "SRV-300" else "SRV-301"
        sim = Simulator(data, "--latency-ms", "20")
        db = Database()
        try:
            env = jetl_env(db, sim)
            jetl(env, "migrate")
            sim.control("hold", {"keys": [new]})
            first = jetl(env, "extract", "--project", "SRV", "--progress", "none")
            self.assertEqual(summary_issues(first.stdout), 599, first.stdout)
            sim.control("delete", {"keys": [gone]})
            self.assertEqual(sim.control("release", {"after_listing": True})["armed"], [new])
            second = jetl(env, "extract", "--project", "SRV", "--full", "--progress", "none")
            self.assertEqual(summary_issues(second.stdout), 599, second.stdout)
            self.assertEqual(db.scalar("SELECT count(*) FROM work_items WHERE key = %s AND deleted_at IS NULL",
                                       (new,)), 1, second.stdout)
            self.assertEqual([r[0] for r in db.query("SELECT key FROM work_items WHERE deleted_at IS NOT NULL")],
                             [gone])
            self.assertEqual(db.scalar("SELECT count(*) FROM work_items"), 600)
        finally:
            sim.stop()
            db.drop()
            shutil.rmtree(data, ignore_errors=True)


class Command(unittest.TestCase):
    def test_help_usage_and_secrets(self):
        env = dict(os.environ)
        self.assertEqual(subprocess.run([JETL, "--help"], capture_output=True).returncode, 0)
        for cmd in ("migrate", "extract", "worker", "transform", "status", "fields"):
            p = subprocess.run([JETL, cmd, "--help"], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, cmd)
            self.assertIn("usage: jetl " + cmd, p.stdout)
        p = subprocess.run([JETL, "extract", "--bogus"], capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 2)
        p = subprocess.run([JETL, "extract", "--jira-token", "hunter2"], capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 2)
        self.assertNotIn("hunter2", p.stderr)
        self.assertIn("never taken from the command line", p.stderr)
        p = subprocess.run([JETL, "--db", "host=127.0.0.1 port=1 password=pw-secret connect_timeout=2", "migrate"],
                           capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertNotIn("pw-secret", p.stderr)

    def test_bad_token_fails_fast_with_the_cause(self):
        data = make_dataset("TOK:5", seed=2)
        sim = Simulator(data)
        db = Database()
        try:
            env = jetl_env(db, sim)
            env["JETL_JIRA_TOKEN"] = "wrong-token-value"
            jetl(env, "migrate")
            t0 = time.time()
            p = jetl(env, "extract", "--project", "TOK", "--progress", "none", check=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn("401", p.stderr)
            self.assertNotIn("wrong-token-value", p.stderr + p.stdout)
            self.assertLess(time.time() - t0, 10)
            self.assertEqual(db.scalar("SELECT status FROM etl_job_queue"), "failed")
        finally:
            sim.stop()
            db.drop()
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
