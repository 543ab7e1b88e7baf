"""Issue 25, items 3, 10 and 13 (first half): overlapping extractions, a
distributed project whose worker is SIGKILLed, and a database error that
never clears.

- overlap: two `jetl extract` of one project at once (and a run of a set that
  overlaps a running one, and of every project) must not both run: the
  database decides (etl_project_claims), the second exits 4 (JETL_EBUSY)
  naming the running job, and Jira sees one run's requests.
- distributed kill: `extract --distribute --queue --wait` with a
  `worker --distribute` SIGKILLed while it extracts a project; another worker
  must redo the project (its claim's lease runs out and the sweep publishes it
  again): every issue stored, no raw row pending, `--wait` returns 0.
- a database error that never clears (a 1 ms statement_timeout set on the
  database mid-run; a trigger refusing every write with SQLSTATE 57014): the
  transform gives up after $JETL_DB_RETRY_SECONDS with the cause in the job's
  `error` and `jetl extract` exits non-zero (it retried forever, the job
  `running` with no error); a worker marks the row failed with the cause.

These cases restart no server, so they use the checkout's default pair
(scripts/services), each with a database and vhost of its own. Each prints
its figures (for the issue's closing note).

    eval "$(scripts/services env)"
    JETL_BUILD_ROOT=$PWD/build python3 -m unittest tests.faults.test_holes_concurrency
"""
import os
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import psycopg2  # noqa: E402

from harness import JETL, Database, Simulator, Vhost, admin, jetl, jetl_env, make_dataset, start_worker  # noqa: E402

# The default pair's variables as they were when the suite was imported:
# another module of this directory (test_faults.py) points os.environ at a
# private pair of its own for its run and stops that pair at its end.
DEFAULT_ENV = {k: v for k, v in os.environ.items() if k.startswith("JETL_")}

LEASE = 2           # JETL_LEASE_SECONDS of the kill case: the claim of a dead worker runs out fast
EXIT_BUSY = 4       # docs/cli.md, Exit codes
DATA = None


def setUpModule():
    global DATA
    for k in [k for k in os.environ if k.startswith("JETL_")]:
        if k not in DEFAULT_ENV:
            del os.environ[k]
    os.environ.update(DEFAULT_ENV)
    DATA = make_dataset("HA:300,HB:60", seed=25)


def tearDownModule():
    import shutil
    if DATA:
        shutil.rmtree(DATA, ignore_errors=True)


def say(line):
    sys.stderr.write("\nholes-concurrency: %s\n" % line)


class Base(unittest.TestCase):
    LATENCY_MS = 20

    def setUp(self):
        self.procs = []
        self.sim = Simulator(DATA, "--latency-ms", str(self.LATENCY_MS))
        self.addCleanup(self.sim.stop)
        self.db = Database()
        self.addCleanup(self.db.drop)

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.communicate()

    def env(self, queue=None):
        env = jetl_env(self.db, self.sim, queue)
        jetl(env, "migrate")
        return env

    def popen(self, env, *args):
        p = subprocess.Popen([JETL, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def scalar(self, sql):
        return self.db.scalar(sql)

    def wait_for(self, sql, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.scalar(sql):
                    return
            except psycopg2.Error:
                pass
            time.sleep(0.05)
        self.fail("timed out waiting for " + what)

    def requests(self):
        return sum(self.sim.control("stats").get("by_status", {}).values())


class Overlap(Base):
    """Item 3: one running extraction per (tenant, integration, project)."""

    def test_second_extract_of_a_running_project_is_busy(self):
        env = self.env()
        first = self.popen(env, "extract", "--project", "HA", "--progress", "none")
        self.wait_for("SELECT count(*) FROM raw_extraction_data", 60, "the first run's first batch")
        job = self.scalar("SELECT min(id) FROM etl_job_queue")
        # slow Jira down so the first run is surely still going during the attempts
        normal = self.sim.control("faults")
        self.sim.control("faults", {"latency_ms": 250})
        outcomes = {}
        for name, args in (("same project", ["--project", "HA"]),
                           ("overlapping set", ["--project", "HB", "--project", "ha"]),
                           ("every project", [])):
            t0 = time.monotonic()
            r = jetl(env, "extract", *args, "--progress", "none", check=False, timeout=120)
            ms = (time.monotonic() - t0) * 1000
            outcomes[name] = (r.returncode, ms)
            self.assertEqual(r.returncode, EXIT_BUSY, "%s: %s%s" % (name, r.stdout, r.stderr))
            self.assertIn("job %d" % job, r.stderr, name)
            self.assertIn("HA", r.stderr, name)
        self.sim.control("faults", normal)
        out, err = first.communicate(timeout=180)
        self.assertEqual(first.returncode, 0, out + err)
        # nothing of the refused runs reached the tables: one job, one run's raw
        # rows. The run without keys makes its job row before discovery (the
        # trigger answers at once) and that row ends failed with the cause.
        self.assertEqual(self.scalar("SELECT count(*) FROM etl_job_queue WHERE status <> 'failed'"), 1)
        self.assertEqual(self.scalar("SELECT count(*) FROM etl_job_queue WHERE status = 'failed'"
                                     " AND error NOT LIKE '%%being extracted by job " + str(job) + "%%'"), 0)
        self.assertEqual(self.scalar("SELECT sum(item_count) FROM raw_extraction_data"), 300)
        self.assertEqual(self.scalar("SELECT count(*) FROM work_items"), 300)
        # once the job ended the project is free again
        r = jetl(env, "extract", "--project", "HA", "--progress", "none", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        say("overlap: while job %d extracts HA: %s; then 1 job and 300 raw issues for 300"
            % (job, ", ".join("%s exit %d in %.0f ms" % (k, v[0], v[1]) for k, v in outcomes.items())))

    def test_two_started_together_one_wins(self):
        env = self.env()
        self.sim.control("reset-stats", {})
        t0 = time.monotonic()
        ps = [self.popen(env, "extract", "--project", "HA", "--progress", "none") for _ in range(2)]
        ends = [None, None]
        while None in ends and time.monotonic() - t0 < 180:
            for k, p in enumerate(ps):
                if ends[k] is None and p.poll() is not None:
                    ends[k] = time.monotonic() - t0
            time.sleep(0.005)
        codes = []
        for p in ps:
            out, err = p.communicate(timeout=60)
            codes.append(p.returncode)
            if p.returncode not in (0, EXIT_BUSY):
                self.fail("extract exited %d: %s" % (p.returncode, out + err))
        raw = self.scalar("SELECT coalesce(sum(item_count), 0) FROM raw_extraction_data")
        jobs = self.scalar("SELECT count(*) FROM etl_job_queue")
        busy_ms = min(e for c, e in zip(codes, ends) if c == EXIT_BUSY) * 1000 if EXIT_BUSY in codes else -1
        say("two concurrent extracts of HA: exits %s, %d job(s), %d issues in raw rows for 300, %d Jira requests;"
            " the busy one exited after %.0f ms" % (sorted(codes), jobs, raw, self.requests(), busy_ms))
        self.assertEqual(sorted(codes), [0, EXIT_BUSY])
        self.assertEqual(jobs, 1)
        self.assertEqual(raw, 300)
        self.assertEqual(self.scalar("SELECT count(*) FROM work_items"), 300)

    def test_crashed_holder_claim_expires_with_its_lease(self):
        env = self.env()
        env["JETL_LEASE_SECONDS"] = str(LEASE)
        first = self.popen(env, "extract", "--project", "HA", "--progress", "none")
        self.wait_for("SELECT count(*) FROM raw_extraction_data", 60, "the first run's first batch")
        first.kill()
        first.wait()
        r = jetl(env, "extract", "--project", "HA", "--progress", "none", check=False)
        self.assertEqual(r.returncode, EXIT_BUSY, "a live lease still holds the project: " + r.stderr)
        time.sleep(LEASE + 1)
        r = jetl(env, "extract", "--project", "HA", "--progress", "none", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.scalar("SELECT count(*) FROM work_items"), 300)


class DistributedKill(Base):
    """Item 10: a distributed project outlives the worker that took it."""

    LATENCY_MS = 30

    def test_worker_sigkilled_mid_project(self):
        vh = Vhost()
        self.addCleanup(vh.drop)
        env = self.env(vh.url)
        env["JETL_LEASE_SECONDS"] = str(LEASE)
        t0 = time.monotonic()
        # HB twice (case aside): one project, one message, one step
        ext = self.popen(env, "extract", "--project", "HA", "--project", "HB", "--project", "hb", "--distribute",
                         "--queue", vh.url, "--wait", "--progress", "none")
        w1 = start_worker(env, "--queue", vh.url, "--distribute", "--threads", "1")
        self.procs.append(w1)
        # killed once its project has stored a few batches, well before its end
        self.wait_for("SELECT count(*) >= 2 FROM raw_extraction_data WHERE project_key = 'HA'", 120,
                      "HA's first batches")
        w1.send_signal(signal.SIGKILL)
        w1.wait()
        stored = self.scalar("SELECT count(*) FROM work_items")
        killed_at = time.monotonic() - t0
        time.sleep(LEASE + 0.5)     # the new worker's first sweep then finds the lease run out
        w2 = start_worker(env, "--queue", vh.url, "--distribute")
        self.procs.append(w2)
        try:
            out, err = ext.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            ext.kill()
            out, err = ext.communicate()
            self.fail("extract --wait did not return within 120 s of the kill (%d issues stored, job %s)" % (
                self.scalar("SELECT count(*) FROM work_items"), self.scalar("SELECT status FROM etl_job_queue")))
        w2.send_signal(signal.SIGTERM)
        w2.communicate(timeout=60)
        issues = self.scalar("SELECT count(*) FROM work_items")
        pending = self.scalar("SELECT count(*) FROM raw_extraction_data WHERE status <> 'completed'")
        status = self.scalar("SELECT status FROM etl_job_queue")
        say("distributed kill: worker SIGKILLed %.1f s in with %d issues stored; after another worker: %d of 360"
            " issues, %d raw rows not completed, job %s, --wait exit %d after %.1f s"
            % (killed_at, stored, issues, pending, status, ext.returncode, time.monotonic() - t0))
        self.assertEqual(ext.returncode, 0, out + err)
        self.assertEqual(issues, 360)
        self.assertEqual(pending, 0)
        self.assertEqual(status, "finished")
        # each project counted once; the job's five steps at their end
        self.assertEqual(self.scalar("SELECT projects_done::text || '/' || projects_total || ' ' || step || '/' ||"
                                     " total_steps FROM etl_job_queue"), "2/2 5/5")



class DatabaseErrorThatNeverClears(Base):
    """Item 13a: a database failure that keeps coming back is given up."""

    RETRY = 2       # JETL_DB_RETRY_SECONDS of these cases

    def test_statement_timeout_set_mid_run_fails_the_job(self):
        env = self.env()
        env["JETL_DB_RETRY_SECONDS"] = str(self.RETRY)
        self.sim.control("faults", {"latency_ms": 100})
        t0 = time.monotonic()
        p = self.popen(env, "extract", "--project", "HB", "--progress", "none")
        self.wait_for("SELECT count(*) FROM etl_job_queue", 60, "the job")
        # every session opened from now on (the transform's) times out at once
        admin("ALTER DATABASE %s SET statement_timeout = '1ms'" % self.db.name)
        self.addCleanup(admin, "ALTER DATABASE %s RESET statement_timeout" % self.db.name)
        try:
            out, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            admin("ALTER DATABASE %s RESET statement_timeout" % self.db.name)
            self.fail("extract still running 60 s after the database refused everything (job %s, error %r)" % (
                self.scalar("SELECT status FROM etl_job_queue"), self.scalar("SELECT error FROM etl_job_queue")))
        secs = time.monotonic() - t0
        admin("ALTER DATABASE %s RESET statement_timeout" % self.db.name)
        status, error = self.db.query("SELECT status, error FROM etl_job_queue")[0]
        say("statement_timeout 1 ms mid-run: extract exit %d after %.1f s, job %s, error %r"
            % (p.returncode, secs, status, error))
        self.assertEqual(p.returncode, 1, out + err)
        self.assertEqual(status, "failed")
        self.assertIn("statement timeout", error)
        self.assertIn("gave up", error)

    def refuse_writes(self):
        self.db.query("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
                      " $$BEGIN RAISE EXCEPTION 'refused by the test' USING ERRCODE = '57014'; END$$;"
                      " CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON work_items"
                      " FOR EACH ROW EXECUTE FUNCTION refuse()")

    def test_worker_marks_the_row_failed_with_the_cause(self):
        vh = Vhost()
        self.addCleanup(vh.drop)
        env = self.env(vh.url)
        env["JETL_DB_RETRY_SECONDS"] = str(self.RETRY)
        self.refuse_writes()
        r = jetl(env, "extract", "--project", "HB", "--queue", vh.url, "--progress", "none", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        t0 = time.monotonic()
        w = start_worker(env, "--queue", vh.url, "--until-idle", "--idle-ms", "500")
        self.procs.append(w)
        try:
            w.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.fail("the worker still retried the row after 60 s (job %s, raw row %s)" % (
                self.scalar("SELECT status FROM etl_job_queue"),
                self.scalar("SELECT status FROM raw_extraction_data")))
        status, error = self.db.query("SELECT status, error FROM etl_job_queue")[0]
        raw_status, raw_error = self.db.query("SELECT status, error FROM raw_extraction_data")[0]
        say("a write refused with 57014 for ever, worker: gave up after %.1f s, raw row %s (%r), job %s (%r)"
            % (time.monotonic() - t0, raw_status, raw_error, status, error))
        self.assertEqual(raw_status, "failed")
        self.assertIn("refused by the test", raw_error)
        self.assertIn("gave up", raw_error)
        self.assertEqual(status, "failed")
        self.assertIn("1 raw row(s) failed", error)


if __name__ == "__main__":
    unittest.main()
