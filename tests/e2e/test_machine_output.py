"""Output for machines (issue 32): `--progress json` ends with one object
holding the job's totals, every time in JSON output is RFC 3339 UTC with a
`Z`, and off a terminal the default progress is a plain line every few
seconds instead of silence until the end."""
import json
import re
import signal
import subprocess
import unittest

from harness import JETL, Database, Simulator, jetl, jetl_env, make_dataset

ISSUES = 120
RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
TIME_KEYS = ("created_at", "started_at", "updated_at", "finished_at")


class MachineOutput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = make_dataset("MOA:%d" % ISSUES, seed=9)
        cls.sim = Simulator(cls.data, "--latency-ms", "15")

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        self.db = Database()
        self.addCleanup(self.db.drop)
        self.env = jetl_env(self.db, self.sim)
        jetl(self.env, "migrate")

    def test_progress_json_ends_with_the_job_and_its_totals(self):
        p = jetl(self.env, "extract", "MOA", "--progress", "json")
        objs = [json.loads(line) for line in p.stdout.splitlines()]
        final = objs[-1]
        self.assertTrue(final.get("final"), final)
        self.assertEqual([o for o in objs if o.get("final")], [final])   # one, the last
        self.assertNotIn("final", objs[0])
        totals = self.db.query("SELECT totals FROM etl_job_queue")[0][0]
        self.assertEqual(final["status"], "finished")
        self.assertEqual(final["job_id"], self.db.scalar("SELECT id FROM etl_job_queue"))
        self.assertEqual(final["issues"], ISSUES)
        for key, n in totals.items():
            self.assertEqual(final["totals"][key], n, key)
        for k in TIME_KEYS:
            self.assertRegex(final[k], RFC3339_Z, k)
        status = json.loads(jetl(self.env, "status", "--json").stdout)
        for k in TIME_KEYS:
            self.assertRegex(status["jobs"][0][k], RFC3339_Z, k)

    def test_off_a_terminal_progress_comes_as_lines(self):
        env = dict(self.env, JETL_PROGRESS_SECONDS="0.2")
        p = subprocess.run([JETL, "extract", "MOA"], env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = [l for l in p.stderr.splitlines() if " info: progress: " in l]
        self.assertGreaterEqual(len(lines), 2, p.stderr)
        self.assertNotIn("\r", p.stderr)
        # the project's line once its issues are all in, whenever it falls
        self.assertTrue(any("%d/%d issues" % (ISSUES, ISSUES) in l for l in lines), lines)
        self.assertTrue(p.stdout.startswith("job "), p.stdout)   # the summary as before
        quiet = subprocess.run([JETL, "extract", "MOA", "--progress", "none"], env=env,
                               capture_output=True, text=True, timeout=300)
        self.assertNotIn("progress: ", quiet.stderr)
        # --log-format json: every line on stderr stays a JSON object
        p = subprocess.run([JETL, "--log-format", "json", "extract", "MOA", "--full"], env=env,
                           capture_output=True, text=True, timeout=300)
        events = [json.loads(l) for l in p.stderr.splitlines()]
        self.assertTrue(any(e["message"].startswith("progress: ") for e in events), p.stderr)

    def test_ctrl_c_is_said_once_and_exits_3(self):
        p = subprocess.Popen([JETL, "extract", "MOA", "--progress", "json", "--concurrency", "1"], env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        p.stdout.readline()          # the first progress event: it runs
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 3, err)
        self.assertEqual([l for l in err.splitlines() if "cancel" in l], ["jetl: extract: cancelled"], err)
        final = json.loads(out.splitlines()[-1])
        self.assertEqual((final.get("final"), final["status"]), (True, "cancelled"))


if __name__ == "__main__":
    unittest.main()
