"""The installed Debian packages at work (scripts/check-deb runs this once
they are installed): the packaged /usr/bin/jetl migrates a fresh database on
the private PostgreSQL, a packaged worker and `jetl extract --queue … --wait`
move a simulated Jira project through the private RabbitMQ, and the packaged
Python module imports from outside the tree and drives the same library.

Nothing here comes from the build tree but the simulator and the harness.
"""
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import harness  # noqa: E402
from harness import Database, Simulator, Vhost, jetl_env, make_dataset  # noqa: E402

harness.JETL = "/usr/bin/jetl"   # jetl() and start_worker() run the packaged command
ISSUES = 120


class Packaged(unittest.TestCase):
    def test_command_is_the_packaged_one(self):
        out = subprocess.run(["ldd", "/usr/bin/jetl"], capture_output=True, text=True, check=True).stdout
        lib = [l.split()[2] for l in out.splitlines() if "libjetl" in l][0]
        self.assertTrue(lib.startswith("/lib/") or lib.startswith("/usr/lib/"), lib)
        rpath = subprocess.run(["readelf", "-d", "/usr/bin/jetl"], capture_output=True, text=True).stdout
        self.assertNotIn("RUNPATH", rpath)

    def test_extraction_through_the_queue(self):
        data = make_dataset("PKG:%d" % ISSUES, seed=3)
        db, vhost = Database(), Vhost()
        sim = Simulator(data)
        try:
            env = jetl_env(db, sim)
            harness.jetl(env, "migrate")
            w = harness.start_worker(env, "--queue", vhost.url)
            try:
                run = harness.jetl(env, "extract", "--queue", vhost.url, "--wait", "--progress", "none",
                                   "--project", "PKG")
            finally:
                w.send_signal(signal.SIGTERM)
                out, err = w.communicate(timeout=60)
            self.assertEqual(w.returncode, 0, out + err)
            self.assertEqual(db.scalar("SELECT count(*) FROM work_items"), ISSUES, run.stdout)
            self.assertGreater(db.scalar("SELECT count(*) FROM changelogs"), 0)
            self.assertEqual(db.scalar("SELECT status FROM etl_job_queue"), "finished")
            print("packaged jetl: %d issues, %d changelog items, job finished" % (
                ISSUES, db.scalar("SELECT count(*) FROM changelogs")))
        finally:
            sim.stop()
            db.drop()
            vhost.drop()

    def test_python_module_from_outside_the_tree(self):
        db = Database()
        try:
            code = ("import jetl, sys; print(jetl.__file__); print(jetl.version()); "
                    "c = jetl.open(db=sys.argv[1]); c.migrate(); print(jetl.schema_version())")
            env = {"PATH": "/usr/bin:/bin"}
            p = subprocess.run(["/usr/bin/python3", "-c", code, db.dsn], cwd="/", env=env,
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertTrue(p.stdout.startswith("/usr/lib/python3/dist-packages/jetl/"), p.stdout)
            self.assertGreater(db.scalar("SELECT count(*) FROM information_schema.tables"
                                         " WHERE table_name = 'work_items'"), 0)
            p = subprocess.run(["/usr/bin/python3", "-c", "import jetl.web"], cwd="/", env=env,
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
        finally:
            db.drop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
