"""`jetl --version` and `jetl version`: the command's version and the version
of the library it runs with (no servers needed)."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import JETL, ROOT


def project_version():
    with open(os.path.join(ROOT, "meson.build")) as f:
        return re.search(r"^\s*version:\s*'([^']+)'", f.read(), re.M).group(1)


def run(*args, env=None):
    return subprocess.run([JETL, *args], capture_output=True, text=True, env=env, timeout=30)


class Version(unittest.TestCase):
    def test_version_option_and_command_print_both_versions(self):
        v = project_version()
        p = run("--version")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0], "jetl " + v)
        self.assertRegex(lines[1], r"^libjetl %s \(schema version [1-9][0-9]*\)$" % re.escape(v))
        self.assertEqual(len(lines), 2, p.stdout)
        self.assertEqual(run("version").stdout, p.stdout)
        # Global options before it do not change the answer.
        self.assertEqual(run("-q", "--version").stdout, p.stdout)

    def test_version_is_listed_and_has_help(self):
        self.assertIn("--version", run("--help").stdout)
        self.assertRegex(run("--help").stdout, r"\n  version +")
        p = run("version", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("usage: jetl version", p.stdout)
        self.assertEqual(run("version", "--bogus").returncode, 2)

    def test_library_version_is_the_one_loaded_at_run_time(self):
        # A library that answers 9.9.9 is put in front of libjetl: the second
        # line must follow it, the first (the command's own) must not.
        cc = shutil.which("cc")
        if not cc:
            self.skipTest("no C compiler")
        d = tempfile.mkdtemp(prefix="jetl-e2e-version-")
        try:
            src, so = os.path.join(d, "v.c"), os.path.join(d, "libv.so")
            with open(src, "w") as f:
                f.write('const char *jetl_version(void) { return "9.9.9"; }\n')
            subprocess.run([cc, "-shared", "-fPIC", "-o", so, src], check=True)
            # Under ASan (scripts/test runs this suite on a sanitized build too) the
            # runtime must come first in the link order; the preload puts libv ahead.
            asan = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                          "verify_asan_link_order=0"]))
            env = dict(os.environ, LD_PRELOAD=so, ASAN_OPTIONS=asan)
            lines = run("--version", env=env).stdout.splitlines()
            self.assertEqual(lines[0], "jetl " + project_version())
            self.assertTrue(lines[1].startswith("libjetl 9.9.9 "), lines)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
