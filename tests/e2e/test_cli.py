"""The jetl command's manners (issue 16): argument forms, one line per
error, exit codes, -q, help, the end-of-run summary and `status` against a
known dataset, `status --json` as one document, log lines, the warning
tally, the configuration file, and the installed binary without
LD_LIBRARY_PATH."""
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

from harness import (BUILD, JETL, ROOT, Database, Simulator, TOKEN, USER, Vhost, jetl, jetl_env,
                     make_dataset)

TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def run(*args, env=None, timeout=120):
    return subprocess.run([JETL, *args], capture_output=True, text=True, env=env, timeout=timeout)


def no_db_env():
    """An environment in which nothing may reach a database: usage errors
    must be found before any connection."""
    env = dict(os.environ)
    env["JETL_DB"] = "host=127.0.0.1 port=1 connect_timeout=1"
    env.pop("JETL_CONFIG", None)
    return env


class Arguments(unittest.TestCase):
    """No servers: these are all refused or answered before a connection."""

    def one_error(self, p, code=2):
        self.assertEqual(p.returncode, code, p.stdout + p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertEqual(p.stdout, "")
        return lines[0]

    def test_bad_job_id_is_named_in_both_forms(self):
        want = "jetl: --job: 'abc' is not a job id (a positive integer)"
        self.assertEqual(self.one_error(run("status", "--job", "abc", env=no_db_env())), want)
        self.assertEqual(self.one_error(run("status", "--job=abc", env=no_db_env())), want)
        self.assertEqual(self.one_error(run("status", "--job=0", env=no_db_env())),
                         "jetl: --job: '0' is not a job id (a positive integer)")

    def test_global_options_before_and_after_the_command(self):
        for args in (["--tenant", "x", "status"], ["status", "--tenant", "x"], ["status", "--tenant=x"],
                     ["--tenant=x", "status", "--json"]):
            line = self.one_error(run(*args, env=no_db_env()))
            self.assertEqual(line, "jetl: --tenant: 'x' is not a tenant id (a positive integer)", args)
        line = self.one_error(run("status", "--log-format", "yaml", env=no_db_env()))
        self.assertEqual(line, "jetl: --log-format: 'yaml' is not text or json")
        # A global flag after the command is taken: -q and --db=… reach the command.
        p = run("migrate", "-q", "--db=host=127.0.0.1 port=1 connect_timeout=1", env=no_db_env())
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("port 1", p.stderr)

    def test_unknown_missing_and_extra(self):
        self.assertEqual(self.one_error(run("status", "--bogus", env=no_db_env())),
                         "jetl: unknown option '--bogus' for status (see jetl help status)")
        self.assertEqual(self.one_error(run("status", "--job", env=no_db_env())),
                         "jetl: --job needs a value (see jetl help status)")
        self.assertEqual(self.one_error(run("status", "--json=yes", env=no_db_env())),
                         "jetl: --json takes no value (see jetl help status)")
        self.assertEqual(self.one_error(run("migrate", "now", env=no_db_env())),
                         "jetl: migrate takes no operand 'now' (see jetl help migrate)")
        self.assertEqual(self.one_error(run("frobnicate", env=no_db_env())),
                         "jetl: unknown command 'frobnicate' (see jetl --help)")
        self.assertEqual(self.one_error(run("--bogus", "status", env=no_db_env())),
                         "jetl: unknown option '--bogus' (see jetl --help)")
        self.assertIn("--threads: 'many' is not", self.one_error(run("worker", "--threads=many", env=no_db_env())))
        self.assertIn("--progress: 'fancy' is not", self.one_error(run("extract", "--progress", "fancy",
                                                                       env=no_db_env())))
        self.assertIn("--raw-id: '-1' is not", self.one_error(run("transform", "--raw-id=-1", env=no_db_env())))
        self.assertIn("--map: 'x' is not FIELD_ID=SLOT", self.one_error(run("fields", "--map", "x",
                                                                            env=no_db_env())))
        p = run(env=no_db_env())
        self.assertEqual(p.returncode, 2)
        self.assertIn("no command given", p.stderr)

    def test_token_never_from_the_command_line(self):
        for args in (["extract", "--jira-token", "hunter2"], ["extract", "--jira-token=hunter2"]):
            line = self.one_error(run(*args, env=no_db_env()))
            self.assertIn("never taken from the command line", line)
            self.assertNotIn("hunter2", line)

    def test_help_command(self):
        top = run("help")
        self.assertEqual(top.returncode, 0)
        self.assertEqual(top.stdout, run("--help").stdout)
        for m in re.finditer(r"\n  ([a-z]+) {2,}", top.stdout.split("commands:", 1)[1]):
            cmd = m.group(1)
            a, b = run("help", cmd), run(cmd, "--help")
            self.assertEqual(a.returncode, 0, cmd)
            self.assertEqual(a.stdout, b.stdout, cmd)
            self.assertTrue(a.stdout.startswith("usage: jetl " + cmd), a.stdout)
            self.assertEqual(run(cmd, "-h").stdout, a.stdout)
        self.assertEqual(run("help", "nope").returncode, 2)
        self.assertEqual(run("help", "nope").stderr, "jetl: help: no command 'nope' (see jetl --help)\n")
        self.assertEqual(run("help", "status", "extra").returncode, 2)

    def test_cancel_arguments(self):
        self.assertEqual(self.one_error(run("cancel", env=no_db_env())),
                         "jetl: cancel: which job? (jetl cancel JOB)")
        self.assertEqual(self.one_error(run("cancel", "x", env=no_db_env())),
                         "jetl: cancel: 'x' is not a job id (a positive integer)")


class ConfigFile(unittest.TestCase):
    """A bad file stops every command with one FILE:LINE line and exit 2."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="jetl-e2e-conf-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def conf(self, text, name="jetl.conf"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def refused(self, text, want, via="flag"):
        path = self.conf(text)
        env = no_db_env()
        if via == "env":
            env["JETL_CONFIG"] = path
            p = run("status", env=env)
        else:
            p = run("status", "--config", path, env=env)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stderr, "jetl: %s:%s\n" % (path, want))

    def test_bad_lines_name_file_and_line(self):
        self.refused("# c\n\ndb = x\njira_tokn = y\n", "4: unknown key 'jira_tokn'")
        self.refused("db = x\nno equals sign here\n", "2: expected 'key = value', got 'no equals sign here'")
        self.refused("tenant = 1\ntenant = 2\n", "2: tenant is set again (first on line 1)", via="env")
        self.refused("concurrency = 500\n", "1: concurrency must be a whole number in 1..64, not '500'")
        self.refused("jira_auth = magic\n", "1: jira_auth must be one of basic|bearer, not 'magic'")
        self.refused("jira_token = s3cret\n", "1: jira_token is not accepted in a configuration file: put the "
                     "token in a file of its own (mode 0600) and name it with jira_token_file")
        self.refused("jira_token_file = %s/missing\n" % self.dir,
                     "1: jira_token_file: cannot read %s/missing: No such file or directory" % self.dir)

    def test_missing_file_given_explicitly(self):
        p = run("status", "--config=%s/none.conf" % self.dir, env=no_db_env())
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr, "jetl: %s/none.conf: cannot read the configuration: No such file or "
                         "directory\n" % self.dir)

    def test_help_and_version_do_not_read_it(self):
        path = self.conf("garbage\n")
        self.assertEqual(run("--config", path, "--version").returncode, 0)
        self.assertEqual(run("--config", path, "help", "status").returncode, 0)


class Installed(unittest.TestCase):
    def test_installed_binary_runs_with_a_clean_environment(self):
        meson = shutil.which("meson")
        if not meson:
            self.skipTest("no meson")
        dest = tempfile.mkdtemp(prefix="jetl-e2e-install-")
        try:
            # What was built and tested, not a rebuild of a tree that moved since.
            inst = subprocess.run([meson, "install", "-C", BUILD, "--no-rebuild", "--destdir", dest, "--quiet"],
                                  capture_output=True, text=True, timeout=300)
            self.assertEqual(inst.returncode, 0, inst.stdout + inst.stderr)
            found = [os.path.join(d, "jetl") for d, _, files in os.walk(dest) if "jetl" in files
                     and os.path.basename(d) == "bin"]
            self.assertEqual(len(found), 1, found)
            # Moved elsewhere, as a prefix copied to another machine would be.
            moved = os.path.join(dest, "moved")
            prefix = os.path.dirname(os.path.dirname(found[0]))
            shutil.move(prefix, moved)
            exe = os.path.join(moved, "bin", "jetl")
            p = subprocess.run(["env", "-i", exe, "--version"], capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertRegex(p.stdout, r"^jetl \S+\nlibjetl \S+ \(schema version \d+\)\n$")
            ldd = subprocess.run(["env", "-i", "ldd", exe], capture_output=True, text=True).stdout
            lib = [line for line in ldd.splitlines() if "libjetl" in line]
            self.assertEqual(len(lib), 1, ldd)
            self.assertIn(moved, lib[0])
        finally:
            shutil.rmtree(dest, ignore_errors=True)


class WithServers(unittest.TestCase):
    """Against PostgreSQL and the simulator: AAA:40 and BBB:25 (seed 3)."""

    @classmethod
    def setUpClass(cls):
        cls.data = make_dataset("AAA:40,BBB:25", seed=3)
        cls.sim = Simulator(cls.data)
        cls.db = Database()
        cls.env = jetl_env(cls.db, cls.sim)
        jetl(cls.env, "migrate")
        cls.run1 = jetl(cls.env, "extract", "AAA", "--project=BBB", "--progress", "none")
        cls.job = int(re.match(r"job (\d+) finished: ", cls.run1.stdout).group(1))

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        cls.db.drop()
        shutil.rmtree(cls.data, ignore_errors=True)

    def test_summary_counts_match_the_tables(self):
        out = self.run1.stdout
        first = out.splitlines()[0]
        issues = self.db.scalar("SELECT count(*) FROM work_items")
        self.assertEqual(issues, 65)
        m = re.match(r"job \d+ finished: (\d+) issues, ", first)
        self.assertEqual(int(m.group(1)), 65, out)
        m = re.search(r"(\d+) raw rows, (\d+) requests \((\d+) retried, (\d+) 429s\) in [\d.]+ s$", first)
        self.assertIsNotNone(m, first)
        self.assertEqual(int(m.group(1)), self.db.scalar(
            "SELECT count(*) FROM raw_extraction_data WHERE job_id = %s", (self.job,)))
        self.assertGreater(int(m.group(2)), 0)
        self.assertEqual(int(m.group(4)), 0)
        self.assertRegex(out, r"\n  AAA: 40 issues, ")
        self.assertRegex(out, r"\n  BBB: 25 issues, ")
        self.assertIn("\n  2/2 projects extracted\n", out)
        # Per project, the job's totals as they grew while it ran: they add up to the job's.
        per = re.findall(r"\n  ([A-Z]+): (\d+) issues, (\d+) deleted, (\d+) raw rows, (\d+) requests "
                         r"\((\d+) retried, (\d+) 429s\) in [\d.]+ s", out)
        self.assertEqual({p[0]: int(p[1]) for p in per}, {"AAA": 40, "BBB": 25}, out)
        total = re.search(r"(\d+) raw rows, (\d+) requests \((\d+) retried, (\d+) 429s\)", first)
        for col, idx in ((3, 1), (4, 2), (5, 3), (6, 4)):
            self.assertEqual(sum(int(p[col]) for p in per), int(total.group(idx)), out)
        m = re.search(r"(\d+) changelog items, (\d+) dev-status rows, (\d+) deleted", first)
        self.assertIsNotNone(m, first)
        self.assertEqual(int(m.group(1)), self.db.scalar("SELECT count(*) FROM changelogs"))
        self.assertEqual(int(m.group(2)), self.db.scalar("SELECT count(*) FROM dev_status"))
        self.assertEqual(int(m.group(3)), 0)
        # status tells the same totals.
        st = jetl(self.env, "status", "--job", str(self.job)).stdout
        self.assertIn("    stored: " + first.split(": ", 1)[1].rsplit(" in ", 1)[0], st)

    def test_status_text_and_one_json_document(self):
        p = jetl(self.env, "status", "--job", str(self.job))
        self.assertRegex(p.stdout, r"^job %d  finished " % self.job)
        p = jetl(self.env, "status", "--job=%d" % self.job, "--json")
        job = json.loads(p.stdout)          # one document, whatever its layout
        self.assertIsInstance(job, dict)
        for field in ("id", "tenant_id", "integration_id", "job_type", "status", "step", "total_steps",
                      "step_name", "items_done", "items_total", "message", "error", "created_at",
                      "started_at", "updated_at", "finished_at", "raw_pending", "raw_failed"):
            self.assertIn(field, job)
        self.assertEqual(job["id"], self.job)
        self.assertEqual(job["status"], "finished")
        for t in ("created_at", "started_at", "finished_at"):
            self.assertRegex(job[t], "^" + TS + "$")
            when = datetime.datetime.fromisoformat(job[t].replace("Z", "+00:00"))
            self.assertEqual(when.utcoffset(), datetime.timedelta(0))
        self.assertEqual(job["issues"], 65)
        self.assertEqual(job["changelog_items"], self.db.scalar("SELECT count(*) FROM changelogs"))
        self.assertEqual(job["dev_status"], self.db.scalar("SELECT count(*) FROM dev_status"))
        self.assertEqual(job["raw_rows"], self.db.scalar(
            "SELECT count(*) FROM raw_extraction_data WHERE job_id = %s", (self.job,)))
        doc = json.loads(jetl(self.env, "status", "--json").stdout)
        self.assertEqual(sorted(doc), ["jobs"])
        self.assertIn(self.job, [j["id"] for j in doc["jobs"]])
        # No jobs yet is an empty list, still one document.
        empty = Database()
        try:
            env = jetl_env(empty, self.sim)
            jetl(env, "migrate")
            self.assertEqual(json.loads(jetl(env, "status", "--json").stdout), {"jobs": []})
        finally:
            empty.drop()

    def test_db_given_after_the_command(self):
        env = dict(self.env)
        dsn = env.pop("JETL_DB")
        p = jetl(env, "status", "--db", dsn, "--job", str(self.job))
        self.assertIn("finished", p.stdout)
        p = jetl(env, "status", "--job=%d" % self.job, "--db=" + dsn, "--json")
        self.assertEqual(json.loads(p.stdout)["id"], self.job)
        p = run("status", "--job", "999999", env=self.env)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)

    def test_quiet_prints_errors_only(self):
        p = jetl(self.env, "-q", "extract", "AAA", "--full")
        self.assertEqual(p.stdout, "")
        self.assertEqual(p.stderr, "")
        p = jetl(self.env, "migrate", "--quiet")
        self.assertEqual(p.stdout + p.stderr, "")
        bad = dict(self.env, JETL_JIRA_TOKEN="wrong-token-value")
        p = jetl(bad, "-q", "extract", "BBB", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)

    def test_bad_token_error_said_once(self):
        bad = dict(self.env, JETL_JIRA_TOKEN="wrong-token-value")
        for args in (["extract", "AAA"], ["extract", "AAA", "BBB"]):
            p = jetl(bad, *args, "--progress", "none", check=False)
            self.assertEqual(p.returncode, 1, p.stderr)
            lines = [line for line in p.stderr.splitlines() if "401" in line]
            self.assertEqual(len(lines), 1, p.stderr)
            self.assertRegex(lines[0], "^" + TS + " error: jira: HTTP 401 ")
            self.assertNotIn("wrong-token-value", p.stdout + p.stderr)
            self.assertRegex(p.stdout, r"^job \d+ failed: ")

    def test_log_lines_text_and_json(self):
        p = jetl(self.env, "extract", "AAA", "--full", "--progress", "none")
        self.assertTrue(p.stderr, "the dataset makes warnings")
        for line in p.stderr.splitlines():
            self.assertRegex(line, "^" + TS + " (error|warning|info|debug): ")
        p = jetl(self.env, "--log-format=json", "extract", "AAA", "--full", "--progress", "none")
        for line in p.stderr.splitlines():
            o = json.loads(line)
            self.assertEqual(sorted(set(o) - {"repeated"}), ["level", "message", "time"])
            self.assertRegex(o["time"], "^" + TS + "$")
            self.assertIn(o["level"], ("error", "warning", "info", "debug"))

    def test_until_idle_leaves_when_its_idle_time_is_up(self):
        # Before, the wait polled in 200 ms steps and the calling thread
        # looked at its threads every 100 ms: --idle-ms 250 ended 400-500 ms
        # after the start. Measured between the worker's own log lines, so
        # the process start-up does not count.
        vh = Vhost()
        try:
            gaps = []
            for _ in range(3):
                p = jetl(self.env, "-v", "--log-format=json", "worker", "--queue", vh.url, "--until-idle",
                         "--idle-ms", "250", "--progress", "none")
                at = {}
                for line in p.stderr.splitlines():
                    o = json.loads(line)
                    for k in ("started", "stopped"):
                        if o["message"].startswith("worker: " + k):
                            at[k] = datetime.datetime.strptime(o["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
                self.assertEqual(sorted(at), ["started", "stopped"], p.stderr)
                gaps.append((at["stopped"] - at["started"]).total_seconds())
            self.assertGreaterEqual(min(gaps), 0.25, gaps)
            self.assertLess(min(gaps), 0.34, gaps)
        finally:
            vh.drop()

    def test_exit_code_3_when_cancelled(self):
        p = subprocess.Popen([JETL, "extract", "AAA", "BBB", "--full", "--progress", "json"], env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        p.stdout.readline()          # the first progress event: it runs
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 3, err)
        self.assertIn("jetl: extract: cancelled", err)

    def test_cancel_a_finished_job_fails(self):
        p = run("cancel", str(self.job), env=self.env)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        p = run("cancel", "999999", env=self.env)
        self.assertEqual(p.returncode, 1, p.stderr)


class Cancel(unittest.TestCase):
    """jetl cancel JOB from another process stops a running extraction: it
    exits 3 and the job ends cancelled."""

    def test_cancel_a_running_extraction(self):
        data = make_dataset("SLO:400", seed=8)
        sim = Simulator(data, "--latency-ms", "40")
        db = Database()
        try:
            env = jetl_env(db, sim)
            jetl(env, "migrate")
            p = subprocess.Popen([JETL, "extract", "SLO", "--progress", "json", "--concurrency", "1"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                job = json.loads(p.stdout.readline())["job_id"]
                c = run("cancel", str(job), env=env)
                self.assertEqual((c.returncode, c.stdout), (0, "job %d cancelled\n" % job), c.stderr)
                out, err = p.communicate(timeout=120)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.communicate()
            self.assertEqual(p.returncode, 3, err)
            self.assertIn("jetl: extract: cancelled", err)
            self.assertEqual(json.loads(run("status", "--job", str(job), "--json", env=env).stdout)["status"],
                             "cancelled")
            self.assertEqual(run("cancel", str(job), env=env).returncode, 0)   # again: not an error
        finally:
            sim.stop()
            db.drop()
            shutil.rmtree(data, ignore_errors=True)


class Warnings(unittest.TestCase):
    """About 3 issues in 100 of the generated data hold a NUL byte: each makes
    the same warning. Five are shown, the rest counted in one line at the end."""

    def test_repeated_warnings_are_tallied(self):
        data = make_dataset("NUL:600", seed=5)
        sim = Simulator(data)
        db = Database()
        try:
            env = jetl_env(db, sim)
            jetl(env, "migrate")
            p = jetl(env, "--log-format", "json", "extract", "NUL", "--progress", "none")
            events = [json.loads(line) for line in p.stderr.splitlines()]
            nul = [e for e in events if "\\u0000 removed" in e["message"]]
            shown = [e for e in nul if "more like this" not in e["message"]]
            tally = [e for e in nul if "more like this" in e["message"]]
            self.assertEqual(len(shown), 5, p.stderr)
            self.assertEqual(len(tally), 1, p.stderr)
            self.assertEqual(events[-1], tally[0])
            m = re.match(r"… and ([\d,]+) more like this: transform: issue \d+ \(NUL-\d+\)", tally[0]["message"])
            self.assertIsNotNone(m, tally[0])
            self.assertEqual(int(m.group(1).replace(",", "")), tally[0]["repeated"])
            # Every warned issue counted: shown + tallied = the issues holding a NUL.
            with open(os.path.join(data, "issues", "NUL.jsonl"), encoding="utf-8") as f:
                with_nul = sum(1 for line in f if "\\u0000" in line)
            self.assertGreater(with_nul, 6)
            self.assertEqual(5 + tally[0]["repeated"], with_nul)
            # A long run (a worker) tells its count every period, not only at
            # the end: with a tiny period every repeat is told at once, and
            # the tallies add up to the same count.
            p = jetl(dict(env, JETL_LOG_TALLY_SECONDS="0.000001"), "--log-format", "json", "extract", "NUL",
                     "--full", "--progress", "none")
            events = [json.loads(line) for line in p.stderr.splitlines()]
            tallies = [e for e in events if "more like this" in e["message"]]
            self.assertGreater(len(tallies), 1, p.stderr)
            self.assertEqual(sum(e["repeated"] for e in tallies), with_nul - 5)
            # Text form: the same tally, after every other line.
            p = jetl(env, "extract", "NUL", "--full", "--progress", "none")
            lines = p.stderr.splitlines()
            self.assertEqual(sum("\\u0000 removed" in line and "more like" not in line for line in lines), 5)
            self.assertRegex(lines[-1], "^" + TS + r" warning: … and [\d,]+ more like this: ")
        finally:
            sim.stop()
            db.drop()
            shutil.rmtree(data, ignore_errors=True)


class ConfigPrecedence(unittest.TestCase):
    """file < environment < flags, and the token by file only."""

    def test_precedence(self):
        data = make_dataset("CFG:12", seed=4)
        sim = Simulator(data)
        db = Database()
        d = tempfile.mkdtemp(prefix="jetl-e2e-conf-")
        try:
            token = os.path.join(d, "token")
            with open(token, "w") as f:
                f.write(TOKEN + "\n")
            conf = os.path.join(d, "jetl.conf")
            with open(conf, "w") as f:
                f.write("# everything from the file\n"
                        "db = %s\njira_url = %s\njira_user = %s\njira_token_file = %s\n"
                        "log_format = json\n" % (db.dsn, sim.url, USER, token))
            env = {k: v for k, v in os.environ.items() if not k.startswith("JETL_")}
            # The file alone is enough.
            p = jetl(env, "--config", conf, "migrate")
            p = jetl(env, "extract", "CFG", "--config=" + conf, "--progress", "none")
            self.assertRegex(p.stdout, r"^job \d+ finished: 12 issues")
            for line in p.stderr.splitlines():   # log_format = json from the file
                json.loads(line)
            # JETL_CONFIG names it too.
            p = jetl(dict(env, JETL_CONFIG=conf), "status", "--json")
            self.assertEqual(len(json.loads(p.stdout)["jobs"]), 1)
            # The environment beats the file: a database that is not there.
            bad = "host=127.0.0.1 port=1 connect_timeout=1"
            p = jetl(dict(env, JETL_DB=bad), "--config", conf, "status", check=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn("port 1", p.stderr)
            # A flag beats both.
            p = jetl(dict(env, JETL_DB=bad), "--config", conf, "status", "--db", db.dsn)
            self.assertIn("finished", p.stdout)
            # The flag beats the file's log_format; the env token beats the file's.
            p = jetl(dict(env, JETL_JIRA_TOKEN="wrong-token-value"), "--config", conf, "extract", "CFG",
                     "--log-format", "text", "--progress", "none", check=False)
            self.assertEqual(p.returncode, 1)
            self.assertRegex(p.stderr, "^" + TS + " error: jira: HTTP 401")
            # A tenant from the file is used: another tenant sees no job.
            with open(conf, "a") as f:
                f.write("tenant = 7\n")
            p = jetl(env, "--config", conf, "status", "--json")
            self.assertEqual(json.loads(p.stdout), {"jobs": []})
            p = jetl(env, "--config", conf, "status", "--json", "--tenant", "1")
            self.assertEqual(len(json.loads(p.stdout)["jobs"]), 2)
        finally:
            sim.stop()
            db.drop()
            shutil.rmtree(d, ignore_errors=True)
            shutil.rmtree(data, ignore_errors=True)


class Worker(unittest.TestCase):
    """The worker logs what it takes, with times, on every line."""

    def test_worker_says_what_it_does(self):
        data = make_dataset("WRK:30", seed=6)
        sim = Simulator(data)
        db = Database()
        vh = Vhost()
        try:
            env = jetl_env(db, sim, vh.url)
            jetl(env, "migrate")
            w = subprocess.Popen([JETL, "worker", "--progress", "none"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                p = jetl(env, "extract", "WRK", "--wait", "--progress", "none")
                job = int(re.match(r"job (\d+) finished", p.stdout).group(1))
            finally:
                w.send_signal(signal.SIGTERM)
                out, err = w.communicate(timeout=60)
            self.assertEqual(w.returncode, 0, err)
            lines = err.splitlines()
            for line in lines:
                self.assertRegex(line, "^" + TS + " (error|warning|info|debug): ")
            self.assertRegex(lines[0], r" info: worker: started \(tenant 1, integration 1, 1 thread\)")
            raw = db.scalar("SELECT count(*) FROM raw_extraction_data WHERE job_id = %s", (job,))
            took = [line for line in lines if re.search(
                r" info: worker: job %d: WRK raw row \d+ transformed: \d+ work items, \d+ changelog items, "
                r"\d+ dev status rows in \d+\.\d\d s$" % job, line)]
            self.assertEqual(len(took), raw, err)
            self.assertRegex(lines[-1], r" info: worker: stopped \(done\)$")
            # -q: errors only.
            w = subprocess.Popen([JETL, "-q", "worker", "--until-idle", "--idle-ms", "300"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            out, err = w.communicate(timeout=60)
            self.assertEqual((w.returncode, out, err), (0, "", ""))
        finally:
            sim.stop()
            db.drop()
            vh.drop()
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
