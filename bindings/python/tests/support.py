"""Shared set-up of the binding tests: fresh databases, the Jira simulator, skips.

Environment (scripts/test-bindings sets it): JETL_DB (the private PostgreSQL),
JETL_PG_ADMIN (a superuser conninfo, to create fresh databases), JETL_QUEUE,
JETL_SOURCE_ROOT (the checkout), JETL_BUILD_DIR (the meson build dir).
"""
import functools
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import jetl

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("JETL_SOURCE_ROOT") or os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "sim"))
from process import SimProcess  # noqa: E402
BUILD = os.environ.get("JETL_BUILD_DIR") or os.path.join(ROOT, "build")
PYTHON = "/usr/bin/python3"   # the simulator's interpreter (Debian's, as sim/ expects)
SIM_USER, SIM_TOKEN = "bot@example.com", "sim-token"

_seq = itertools.count(1)

# The library reads JETL_QUEUE when no queue is given; the tests choose:
# in-process by default, this queue (a private vhost) where they ask for it.
QUEUE = os.environ.pop("JETL_QUEUE", "") or None


def require_db():
    db = os.environ.get("JETL_DB")
    if not db:
        raise unittest.SkipTest("JETL_DB is not set: run through scripts/test-bindings")
    return db


def pipeline(test):
    """Run the test; skip it only when the C library answered JETL_ENOTIMPL.

    Entry points that other engineers are still implementing return
    JETL_ENOTIMPL; such tests start running by themselves once they land.
    Any other failure fails the test.
    """
    @functools.wraps(test)
    def run(self, *a, **kw):
        try:
            return test(self, *a, **kw)
        except jetl.NotImplementedInBuildError as e:
            self.skipTest("not implemented in this build yet: %s" % e.message)
    return run


class FreshDatabase:
    """A new empty database for one test class (dropped afterwards).

    Created through JETL_PG_ADMIN (owner: JETL_DB's user); without it, the
    tests share JETL_DB itself, which migrations and upserts tolerate.
    """

    def __init__(self, tag="py"):
        import psycopg2
        import psycopg2.extensions
        self.base = require_db()
        self.name = None
        self.dsn = self.base
        admin = os.environ.get("JETL_PG_ADMIN")
        if not admin:
            return
        user = psycopg2.extensions.parse_dsn(self.base).get("user")
        self.name = "jetl_%s_%d_%d" % (tag, os.getpid(), next(_seq))
        self._admin(admin, 'CREATE DATABASE "%s"%s' % (self.name, ' OWNER "%s"' % user if user else ""))
        self.admin = admin
        self.dsn = psycopg2.extensions.make_dsn(self.base, dbname=self.name)

    @staticmethod
    def _admin(admin, sql):
        import psycopg2
        conn = psycopg2.connect(admin)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def query(self, sql, args=None):
        import psycopg2
        conn = psycopg2.connect(self.dsn)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()

    def drop(self):
        if self.name:
            self._admin(self.admin, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.name)
            self.name = None

    def rows(self):
        """Everything the transform wrote, minus times of the run itself and raw ids."""
        out = {}
        for table, order, drop in (
                ("work_items", "external_id", ("synced_at", "raw_id")),
                ("changelogs", "history_id, item_index", ()),
                ("dev_status", "work_item_external_id", ("synced_at",)),
                ("custom_field_mappings", "slot", ()),
                # projects.updated_at (migration 6) is the time of the run
                ("projects", "external_id", ("updated_at",))):
            expr = "to_jsonb(t)" + "".join(" - '%s'" % c for c in drop)
            out[table] = [r[0] for r in self.query(
                "SELECT %s FROM %s t ORDER BY %s" % (expr, table, order))]
        return out


class Simulator:
    """sim/jirasim.py serving a generated dataset on a free port."""

    def __init__(self, projects="PYA:150,PYB:40", seed=7, extra=()):
        self.dir = tempfile.mkdtemp(prefix="jetl-pysim-")
        data = os.path.join(self.dir, "data")
        subprocess.run([PYTHON, os.path.join(ROOT, "sim", "gen.py"), "--out", data,
                        "--projects", projects, "--seed", str(seed), "--long-every", "10"],
                       check=True, stdout=subprocess.DEVNULL)
        try:
            self.proc = SimProcess(data, *extra, user=SIM_USER, token=SIM_TOKEN)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        self.port = self.proc.port
        self.url = self.proc.url
        self.issues = {}
        for spec in projects.split(","):
            key, n = spec.split(":")
            self.issues[key] = int(n)

    def control(self, path, body=None):
        return self.proc.control(path, body)

    def options(self):
        return dict(jira_url=self.url, jira_user=SIM_USER, jira_token=SIM_TOKEN)

    def env(self):
        return dict(os.environ, JETL_JIRA_URL=self.url, JETL_JIRA_USER=SIM_USER,
                    JETL_JIRA_TOKEN=SIM_TOKEN)

    def stop(self):
        if self.proc:
            self.proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def cli_path():
    p = os.path.join(BUILD, "tools", "jetl")
    return p if os.path.isfile(p) and os.access(p, os.X_OK) else None


def run_cli(args, env, timeout=300):
    """The C path: the jetl command of the same build."""
    exe = cli_path()
    if not exe:
        raise AssertionError("no jetl command in %s (configure with -Dcli=true)" % BUILD)
    r = subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0 and "JETL_ENOTIMPL" in (r.stderr + r.stdout):
        raise jetl.NotImplementedInBuildError(jetl.Status.ENOTIMPL, r.stderr.strip())
    return r


__all__ = ["FreshDatabase", "Simulator", "pipeline", "require_db", "rss_kib", "run_cli",
           "cli_path", "ROOT", "BUILD", "PYTHON", "sys"]
