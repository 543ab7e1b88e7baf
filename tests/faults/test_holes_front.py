"""Fault cases of issue 25 on the front ends: the Python binding called with
wrong argument types (it crashed the interpreter), and bearer tokens in the
web service's access log.

They need the checkout's private PostgreSQL (JETL_DB, a database of their
own each) but never restart it, so they do not use the fault suite's own pair.
"""
import os
import signal
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import harness  # noqa: E402
from harness import BUILD, PY, ROOT, Database  # noqa: E402

WRONG_TYPES = os.path.join(ROOT, "bindings", "python", "tests", "wrong_types.py")


def python_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(BUILD, "bindings", "python")
    env.pop("JETL_QUEUE", None)
    return env


class TestWrongTypes(unittest.TestCase):
    def test_every_function_and_method_rejects_wrong_types_without_crashing(self):
        if not os.path.isfile(os.path.join(BUILD, "bindings", "python", "jetl", "__init__.py")):
            raise AssertionError("%s has no Python binding (configure with -Dpython=enabled)" % BUILD)
        db = Database()
        try:
            p = subprocess.run([PY, WRONG_TYPES, db.dsn], env=python_env(), capture_output=True,
                               text=True, timeout=600)
        finally:
            db.drop()
        calls = [line for line in p.stderr.splitlines() if line.startswith("call ")]
        if p.returncode < 0:
            self.fail("the interpreter died of %s on %s" % (
                signal.Signals(-p.returncode).name, calls[-1] if calls else "(no call yet)"))
        sys.stderr.write("\n  " + (p.stdout.splitlines() or ["(no summary)"])[0] + "\n")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr[-3000:])
        # The three crashing calls are among them.
        for v in ("123", "b'K5'", "['K5']"):
            self.assertIn("call Client.extract_project(key=%s)" % v, calls)


if __name__ == "__main__":
    unittest.main()
