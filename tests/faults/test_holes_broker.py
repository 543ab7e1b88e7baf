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
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import harness  # noqa: E402
from harness import Database, jetl, jetl_env  # noqa: E402

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


if __name__ == "__main__":
    unittest.main()
