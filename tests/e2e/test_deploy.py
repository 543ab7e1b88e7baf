"""Deployment as docs/deploy.md describes it (issue 16): workers started by
the systemd unit's own command line (contrib/systemd/jetl-worker@.service,
as meson configured it, with %i expanded), one configuration file each, as
separate processes on one broker and one database; an extraction from a
third configuration; the schema migrated while they run.

Runs on the checkout's default pair with a database and a vhost of its own.
"""
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import BUILD, JETL, ROOT, TOKEN, USER, Database, Simulator, Vhost, jetl, make_dataset

UNIT = os.path.join(BUILD, "contrib", "jetl-worker@.service")
ISSUES = {"DPA": 420, "DPB": 260}


def unit_command(instance, confdir):
    """ExecStart of the worker unit, as systemd would run it for
    jetl-worker@instance, with /etc/jetl moved to confdir and the installed
    jetl replaced by the build's."""
    with open(UNIT) as f:
        line = next(l for l in f if l.startswith("ExecStart="))
    argv = shlex.split(line[len("ExecStart="):].replace("%i", instance).replace("/etc/jetl/", confdir + "/"))
    assert os.path.basename(argv[0]) == "jetl", argv
    return [JETL] + argv[1:]


class Deploy(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="jetl-deploy-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.db = Database()
        self.addCleanup(self.db.drop)
        self.vh = Vhost()
        self.addCleanup(self.vh.drop)
        self.data = make_dataset(",".join("%s:%d" % kv for kv in ISSUES.items()), seed=31)
        self.addCleanup(shutil.rmtree, self.data, True)
        self.sim = Simulator(self.data)
        self.addCleanup(self.sim.stop)

    def write(self, name, text, mode=0o600):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def clean_env(self, **extra):
        """The environment of a unit: none of the test's JETL_* variables,
        so that every setting comes from the configuration file."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("JETL_")}
        env.update(extra)
        return env

    def test_two_workers_from_their_own_configuration_files(self):
        # The broker password by reference (passwordfile), not in the files.
        m = re.match(r"amqp://([^:]+):([^@]+)@(.*)$", self.vh.url)
        pwfile = self.write("mq-password", m.group(2) + "\n")
        queue = "amqp://%s@%s?passwordfile=%s" % (m.group(1), m.group(3), pwfile)
        for name, fmt in (("site-a", "json"), ("site-b", "text")):
            self.write(name + ".conf", "# jetl-worker@%s\ndb = %s\nqueue = %s\nlog_level = info\nlog_format = %s\n"
                       % (name, self.db.dsn, queue, fmt), 0o640)
        token = self.write("jira-token", TOKEN + "\n")
        extract_conf = self.write("extract.conf", "db = %s\nqueue = %s\njira_url = %s\njira_user = %s\n"
                                  "jira_token_file = %s\nbatch_size = 50\n"
                                  % (self.db.dsn, queue, self.sim.url, USER, token), 0o640)

        # Two migrations at once (two machines upgrading together): the
        # advisory lock serialises them, each version is applied once.
        migs = [subprocess.Popen([JETL, "--config", extract_conf, "migrate"], env=self.clean_env(),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        for p in migs:
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, out + err)
        self.assertEqual(self.db.query("SELECT count(*), max(version) FROM schema_migrations")[0][0],
                         self.db.query("SELECT count(*), max(version) FROM schema_migrations")[0][1])

        # Each worker a process of its own, by the unit's command line; they
        # differ in their file (log format) and environment (lease length).
        workers = {}
        for name, extra in (("site-a", {"JETL_LEASE_SECONDS": "20"}), ("site-b", {})):
            cmd = unit_command(name, self.tmp)
            self.assertIn("--config", cmd)
            workers[name] = subprocess.Popen(cmd, env=self.clean_env(**extra), stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, text=True)
        logs = {}
        try:
            # Both consume before anything is published, so the broker
            # spreads the raw rows over them.
            deadline = time.time() + 60
            while self.db.scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                 " AND application_name = 'jetl'") < 2:
                for name, w in workers.items():
                    if w.poll() is not None:
                        self.fail(name + " ended: " + "".join(w.communicate()))
                self.assertLess(time.time(), deadline, "the workers never connected")
                time.sleep(0.1)
            time.sleep(1)
            p = jetl(self.clean_env(), "--config", extract_conf, "extract", "--wait", "--progress", "none",
                     "--project", "DPA", "--project", "DPB")
            # Upgrading with workers running: migrate is a no-op at the
            # current version and does not disturb them.
            jetl(self.clean_env(), "--config", extract_conf, "migrate")
        finally:
            for name, w in workers.items():
                w.send_signal(signal.SIGTERM)
                out, err = w.communicate(timeout=120)
                logs[name] = err
                self.assertEqual(w.returncode, 0, "%s: %s%s" % (name, out, err))

        self.assertEqual(self.db.scalar("SELECT count(*) FROM work_items"), sum(ISSUES.values()), p.stdout + p.stderr)
        for key, n in ISSUES.items():
            self.assertEqual(self.db.scalar("SELECT count(*) FROM work_items WHERE project_key = %s", (key,)), n)
        self.assertEqual(self.db.scalar("SELECT status FROM etl_job_queue"), "finished")
        self.assertEqual(self.db.scalar("SELECT count(*) FROM raw_extraction_data WHERE status <> 'completed'"), 0)
        rows = self.db.scalar("SELECT count(*) FROM raw_extraction_data")

        # Who transformed what: site-a logs JSON lines, site-b text lines.
        done = {}
        for name, text in logs.items():
            lines = [l for l in text.splitlines() if "transformed" in l]
            if name == "site-a":
                self.assertTrue(all(json.loads(l) for l in lines), text[-2000:])
            else:
                self.assertTrue(all(not l.startswith("{") for l in lines), text[-2000:])
            done[name] = len(lines)
        self.assertEqual(sum(done.values()), rows, logs)
        self.assertGreater(done["site-a"], 0, "site-a took no raw row")
        self.assertGreater(done["site-b"], 0, "site-b took no raw row")

    @unittest.skipUnless(shutil.which("systemd-analyze"), "no systemd-analyze")
    def test_units_verify(self):
        """systemd-analyze verify finds nothing to say about the units (the
        programs they start pointed at this build's)."""
        units = os.path.join(self.tmp, "units")
        os.mkdir(units)
        for src, dst in (("jetl-worker@.service", "jetl-worker@acme.service"),
                         ("jetl-service.service", "jetl-service.service")):
            with open(os.path.join(BUILD, "contrib", src)) as f:
                text = f.read()
            text = re.sub(r"(ExecStart=)\S+/jetl ", r"\g<1>%s " % JETL, text)
            text = re.sub(r"\S+/share/jetl/service/server.py",
                          os.path.join(ROOT, "examples", "service", "server.py"), text)
            with open(os.path.join(units, dst), "w") as f:
                f.write(text)
        p = subprocess.run(["systemd-analyze", "verify", "--man=no", "jetl-worker@acme.service",
                            "jetl-service.service"], cwd=units, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.strip(), "", p.stderr)


if __name__ == "__main__":
    unittest.main()
