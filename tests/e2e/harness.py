"""Shared harness of the end-to-end tests: the real private PostgreSQL and
RabbitMQ (from scripts/services), the Jira simulator, and the jetl command.

Every test gets its own database and RabbitMQ vhost, so suites never see
each other's rows or messages.
"""
import os
import subprocess
import sys
import tempfile
import uuid

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sim"))
from process import SimProcess  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("JETL_BUILD_ROOT", os.path.join(ROOT, "build"))
JETL = os.path.join(BUILD, "tools", "jetl")
PY = "/usr/bin/python3"
USER, TOKEN = "e2e@example.com", "e2e-secret-token"


def admin_dsn():
    dsn = os.environ.get("JETL_DB")
    if not dsn:
        raise RuntimeError("JETL_DB is not set: run through scripts/test")
    return dsn


def admin(sql):
    c = psycopg2.connect(admin_dsn())
    try:
        c.autocommit = True
        c.cursor().execute(sql)
    finally:
        c.close()


class Database:
    """A throwaway database on the private server."""

    def __init__(self):
        self.name = "jetl_e2e_" + uuid.uuid4().hex[:10]
        admin("CREATE DATABASE " + self.name)
        self.dsn = admin_dsn().rsplit("/", 1)[0] + "/" + self.name

    def query(self, sql, args=None):
        c = psycopg2.connect(self.dsn)
        try:
            cur = c.cursor()
            cur.execute(sql, args)
            rows = cur.fetchall() if cur.description else None
            c.commit()
            return rows
        finally:
            c.close()

    def scalar(self, sql, args=None):
        return self.query(sql, args)[0][0]

    def fingerprint(self):
        """A digest of the final tables without the columns that record when
        or from which raw row a value was written."""
        out = {}
        out["work_items"] = self.scalar(
            "SELECT md5(coalesce(string_agg(row_to_json(t)::text, '|' ORDER BY t.external_id), ''))"
            " FROM (SELECT external_id, key, project_key, summary, description, status, status_category,"
            " priority, assignee_name, parent_key, labels, sprints, story_points, created_at, updated_at,"
            " resolved_at, code_changed, custom_fields_overflow, deleted_at IS NOT NULL AS deleted,"
            " custom_field_01, custom_field_02 FROM work_items) t")
        out["changelogs"] = self.scalar(
            "SELECT md5(coalesce(string_agg(row_to_json(t)::text, '|' ORDER BY t.history_id, t.item_index), ''))"
            " FROM (SELECT work_item_external_id, history_id, item_index, author_name, changed_at, field,"
            " field_id, from_value, from_string, to_value, to_string FROM changelogs) t")
        out["dev_status"] = self.scalar(
            "SELECT md5(coalesce(string_agg(row_to_json(t)::text, '|' ORDER BY t.work_item_external_id), ''))"
            " FROM (SELECT work_item_external_id, pr_count, pr_state, commit_count, branch_count,"
            " build_count, providers, source FROM dev_status) t")
        out["counts"] = self.query(
            "SELECT (SELECT count(*) FROM work_items), (SELECT count(*) FROM changelogs),"
            " (SELECT count(*) FROM dev_status)")[0]
        # what the issues carry (issue 28): every comment and worklog read
        # past its page, links, versions, components, accounts
        out["parts"] = self.scalar(
            "SELECT md5(concat_ws('|', (SELECT string_agg(work_item_external_id || ':' || comment_id || ':' ||"
            " coalesce(body, ''), ',' ORDER BY work_item_external_id, comment_id) FROM comments),"
            " (SELECT string_agg(work_item_external_id || ':' || worklog_id || ':' ||"
            " coalesce(time_spent_seconds, 0), ',' ORDER BY work_item_external_id, worklog_id) FROM worklogs),"
            " (SELECT count(*) FROM issue_links), (SELECT count(*) FROM issue_versions),"
            " (SELECT count(*) FROM issue_components), (SELECT count(*) FROM accounts)))")
        return out

    def drop(self):
        admin("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.name)


class Vhost:
    """A private RabbitMQ vhost; .url is the AMQP URL to it."""

    def __init__(self):
        self.name = "jetl-e2e-" + uuid.uuid4().hex[:8]
        out = subprocess.run([os.path.join(ROOT, "scripts", "services"), "vhost", self.name],
                             check=True, capture_output=True, text=True).stdout.strip()
        self.url = out.splitlines()[-1].split("=", 1)[-1].strip("'\"")

    def drop(self):
        subprocess.run([os.path.join(ROOT, "scripts", "services"), "vhost", "-d", self.name],
                       capture_output=True)


def make_dataset(projects, seed=1, flavor="cloud", tz="Asia/Shanghai", fixtures=False):
    d = tempfile.mkdtemp(prefix="jetl-e2e-data-")
    if fixtures:
        subprocess.run([PY, os.path.join(ROOT, "sim", "from_fixtures.py"), "--out", d],
                       check=True, capture_output=True)
    subprocess.run([PY, os.path.join(ROOT, "sim", "gen.py"), "--out", d, "--projects", projects,
                    "--seed", str(seed), "--flavor", flavor, "--user-tz", tz],
                   check=True, capture_output=True)
    return d


class Simulator(SimProcess):
    def __init__(self, data, *extra):
        super().__init__(data, *extra, user=USER, token=TOKEN)


def jetl_env(db, sim=None, queue=None):
    env = dict(os.environ)
    env["JETL_DB"] = db.dsn
    env.pop("JETL_QUEUE", None)
    if queue:
        env["JETL_QUEUE"] = queue
    if sim:
        env.update(JETL_JIRA_URL=sim.url, JETL_JIRA_USER=USER, JETL_JIRA_TOKEN=TOKEN)
    return env


def jetl(env, *args, check=True, timeout=600):
    p = subprocess.run([JETL, *args], env=env, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("jetl %s failed (%d): %s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def start_worker(env, *args):
    return subprocess.Popen([JETL, "-q", "worker", "--progress", "none", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def queue_names(db):
    """The RabbitMQ queues of db's deployment: (transform, extract), named
    after the id jetl migrate keeps in jetl_deployment (docs/deploy.md,
    "Sharing a broker")."""
    short = db.scalar("SELECT left(id::text, 8) FROM jetl_deployment")
    return "jetl.transform." + short, "jetl.extract." + short
