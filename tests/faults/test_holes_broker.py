"""Fault cases of issue 25 that need no server restarts: a dead Jira URL
(item 6) and one RabbitMQ shared by two databases (item 4).

They run on the checkout's pair (the e2e harness: a database and a RabbitMQ
vhost of their own per test), not on the private pair of test_faults.py:
nothing here stops a server. That module points os.environ at its own pair
and leaves it there once the pair is gone, so the environment this module was
imported with (discovery imports every module before any runs) is put back
first.

Each case prints one line with its figures, for the closing note.
"""
import os
import shutil
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import harness  # noqa: E402
from harness import JETL, Database, Simulator, Vhost, jetl, jetl_env, make_dataset, queue_names  # noqa: E402

ENV_AT_IMPORT = dict(os.environ)


def setUpModule():
    os.environ.clear()
    os.environ.update(ENV_AT_IMPORT)


def say(line):
    print("\n  holes-broker: " + line, file=sys.stderr, flush=True)


class DeadJiraUrl(unittest.TestCase):
    """Item 6: nothing listens at the Jira URL. The run fails at once with
    the cause and one failed job; before, six tries and ~60 s of backoff."""

    def test_refused_first_request_fails_fast(self):
        db = Database()
        try:
            env = jetl_env(db)
            # Port 9 (discard) on loopback: nothing listens, the kernel refuses.
            env.update(JETL_JIRA_URL="http://127.0.0.1:9/", JETL_JIRA_USER=harness.USER,
                       JETL_JIRA_TOKEN=harness.TOKEN)
            jetl(env, "migrate")
            t0 = time.monotonic()
            p = jetl(env, "extract", "DEAD", "--progress", "none", check=False, timeout=120)
            secs = time.monotonic() - t0
            self.assertNotEqual(p.returncode, 0, p.stderr)
            self.assertIn("Connection refused", p.stderr)
            self.assertIn("not retried", p.stderr)
            jobs = db.query("SELECT status, error FROM etl_job_queue")
            say("dead URL: %.2f s, exit %d, %d job row(s) %s" % (
                secs, p.returncode, len(jobs), [s for s, _ in jobs]))
            self.assertLess(secs, 2.0, p.stderr)
            self.assertEqual(len(jobs), 1, jobs)
            self.assertEqual(jobs[0][0], "failed")
            self.assertIn("Connection refused", jobs[0][1])
        finally:
            db.drop()



def worker(env, *args):
    """A worker that logs its warnings (not -q): the passed-on messages."""
    return subprocess.Popen([JETL, "worker", "--progress", "none", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def amqp(url):
    import pika
    return pika.BlockingConnection(pika.URLParameters(url))


def depth(url, queue):
    """Messages ready in queue; 0 while nobody declared it yet."""
    import pika
    conn = amqp(url)
    try:
        return conn.channel().queue_declare(queue, passive=True).method.message_count
    except pika.exceptions.ChannelClosedByBroker as e:
        if e.reply_code == 404:
            return 0
        raise
    finally:
        if conn.is_open:
            conn.close()


def move_all(url, src, dst):
    """Every message of src into dst (as a restored copy of a database, or
    a hand that moved them, would leave them): returns how many."""
    conn = amqp(url)
    n = 0
    try:
        ch = conn.channel()
        while True:
            method, props, body = ch.basic_get(src)
            if method is None:
                return n
            ch.basic_publish("", dst, body, props)
            ch.basic_ack(method.delivery_tag)
            n += 1
    finally:
        conn.close()


def purge(url, queue):
    conn = amqp(url)
    try:
        conn.channel().queue_purge(queue)
    finally:
        conn.close()


ISSUES = 250   # 3 raw rows per project


class SharedBroker(unittest.TestCase):
    """Item 4: one RabbitMQ (one vhost), two databases A and B. Before, both
    used the queue jetl.transform and a message said nothing of its
    database: A's worker took B's messages and transformed A's rows of the
    same raw ids, B's job hung `running` and `extract --wait` never
    returned."""

    @classmethod
    def setUpClass(cls):
        cls.data = make_dataset("SHA:%d,SHB:%d" % (ISSUES, ISSUES), seed=25)
        cls.sim = Simulator(cls.data)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        shutil.rmtree(cls.data, ignore_errors=True)

    def setUp(self):
        self.vhost = Vhost()
        self.a, self.b = Database(), Database()
        self.env_a = jetl_env(self.a, self.sim, queue=self.vhost.url)
        self.env_b = jetl_env(self.b, self.sim, queue=self.vhost.url)
        jetl(self.env_a, "migrate")
        jetl(self.env_b, "migrate")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.communicate()
        self.a.drop()
        self.b.drop()
        self.vhost.drop()

    def attempts(self, db):
        return db.query("SELECT id, status, attempts FROM raw_extraction_data ORDER BY id")

    def test_two_databases_share_a_broker_without_taking_each_others_messages(self):
        jetl(self.env_a, "extract", "SHA", "--progress", "none")
        wa = worker(self.env_a, "--until-idle", "--idle-ms", "1500")
        out, err = wa.communicate(timeout=120)
        self.assertEqual(wa.returncode, 0, err)
        rows_a = self.attempts(self.a)
        self.assertTrue(rows_a and all(s == "completed" and n == 1 for _, s, n in rows_a), rows_a)
        # A's worker stays on; B extracts and waits, with a worker of its own.
        wa = worker(self.env_a)
        self.procs.append(wa)
        wb = worker(self.env_b)
        self.procs.append(wb)
        t0 = time.monotonic()
        p = jetl(self.env_b, "extract", "SHB", "--wait", "--wait-timeout", "90", "--progress", "none",
                 check=False, timeout=150)
        secs = time.monotonic() - t0
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.b.scalar("SELECT status FROM etl_job_queue"), "finished")
        self.assertEqual(self.b.scalar("SELECT count(*) FROM work_items"), ISSUES)
        # A's rows were not touched again: one attempt each, still.
        self.assertEqual(self.attempts(self.a), rows_a)
        qa, qb = queue_names(self.a)[0], queue_names(self.b)[0]
        self.assertNotEqual(qa, qb)
        say("shared broker: B's extract --wait %.1f s, exit %d, B job finished with %d issues, A's %d raw rows "
            "transformed once each (queues %s, %s)" % (secs, p.returncode, ISSUES, len(rows_a), qa, qb))

    def test_a_message_of_another_deployment_is_passed_to_its_queue(self):
        jetl(self.env_a, "extract", "SHA", "--progress", "none")
        jetl(self.env_b, "extract", "SHB", "--progress", "none")
        qa, qb = queue_names(self.a)[0], queue_names(self.b)[0]
        moved = move_all(self.vhost.url, qb, qa)
        self.assertEqual(moved, 3)
        wa = worker(self.env_a, "--until-idle", "--idle-ms", "1500")
        out, err = wa.communicate(timeout=120)
        self.assertEqual(wa.returncode, 0, err)
        passed = [line for line in err.splitlines() if "not acted on, passed to its queue " + qb in line]
        self.assertEqual(len(passed), moved, err)
        # A transformed its own rows once; B's rows wait, their messages on B's queue.
        self.assertTrue(all(s == "completed" and n == 1 for _, s, n in self.attempts(self.a)))
        self.assertEqual(self.b.scalar("SELECT count(*) FROM raw_extraction_data WHERE status = 'pending'"), 3)
        self.assertEqual(depth(self.vhost.url, qb), 3)
        wb = worker(self.env_b, "--until-idle", "--idle-ms", "1500")
        out, err = wb.communicate(timeout=120)
        self.assertEqual(wb.returncode, 0, err)
        self.assertEqual(self.b.scalar("SELECT count(*) FROM work_items"), ISSUES)
        self.assertEqual(self.b.scalar("SELECT status FROM etl_job_queue"), "finished")
        say("foreign messages: %d of B's messages put on A's queue, A's worker passed %d on and acted on "
            "none; B's worker then stored %d issues" % (moved, len(passed), ISSUES))

    def test_wait_republishes_lost_messages(self):
        """The messages are lost (purged: as a worker of an older jetl on a
        shared queue would have taken them): the waiting extraction sees no
        progress, publishes the pending rows again and returns."""
        env = dict(self.env_b, JETL_REQUEUE_SECONDS="2")
        qb = queue_names(self.b)[0]
        t0 = time.monotonic()
        ext = subprocess.Popen([JETL, "extract", "SHB", "--wait", "--wait-timeout", "90", "--progress", "none"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(ext)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and depth(self.vhost.url, qb) < 3:
            time.sleep(0.1)
        self.assertEqual(depth(self.vhost.url, qb), 3)
        purge(self.vhost.url, qb)
        wb = worker(env)
        self.procs.append(wb)
        out, err = ext.communicate(timeout=120)
        secs = time.monotonic() - t0
        self.assertEqual(ext.returncode, 0, err)
        self.assertIn("published again to " + qb, err)
        self.assertEqual(self.b.scalar("SELECT status FROM etl_job_queue"), "finished")
        self.assertEqual(self.b.scalar("SELECT count(*) FROM work_items"), ISSUES)
        say("lost messages: 3 purged, extract --wait re-published them and returned in %.1f s, exit %d"
            % (secs, ext.returncode))

    def test_wait_deadline_without_workers(self):
        t0 = time.monotonic()
        p = jetl(self.env_b, "extract", "SHB", "--wait-timeout", "3", "--progress", "none", check=False,
                 timeout=120)
        secs = time.monotonic() - t0
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("wait deadline", p.stderr)
        status, error = self.b.query("SELECT status, error FROM etl_job_queue")[0]
        self.assertEqual(status, "failed")
        self.assertIn("3 of 3 raw row(s) still pending", error)
        # The rows are whole and their messages queued: a worker still stores them.
        wb = worker(self.env_b, "--until-idle", "--idle-ms", "1500")
        wb.communicate(timeout=120)
        self.assertEqual(self.b.scalar("SELECT count(*) FROM work_items"), ISSUES)
        say("no worker: extract --wait-timeout 3 returned in %.1f s, exit %d, job %s: %s"
            % (secs, p.returncode, status, error[:90]))


if __name__ == "__main__":
    unittest.main()
