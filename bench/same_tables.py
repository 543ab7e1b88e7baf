#!/usr/bin/python3
"""Two builds of jetl, the same generated extraction: are the final tables
the same? A change that is meant to store the same values in another way
(the transform keeping overflow custom fields as Jira's text) is checked
here on a whole dataset, by PostgreSQL's own equality: jsonb compares as
values, so spacing, key order and number spelling (1E2, 100.0) do not count,
a different value does. bench.py's fingerprint() hashes the tables' text and
would count them.

  bench/same_tables.py OLD_BUILD NEW_BUILD [--issues N]

Each build extracts project TR (N generated issues, bench/.data) from the
simulator into a fresh database, rows transformed in process; the old
tables are copied next to the new ones and compared with EXCEPT ALL both
ways, every column but when and from which raw row a row was written.
Exits 1 when they differ. Needs the services (JETL_PG_ADMIN, scripts/services).
"""
import argparse
import io
import os
import sys

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

TABLES = {"work_items": "external_id", "changelogs": "history_id, item_index", "dev_status": "work_item_external_id"}
VOLATILE = {"raw_id", "synced_at"}


def extract_with(build, sim, tag):
    bench.JETL = os.path.join(os.path.abspath(build), "tools", "jetl")
    db = bench.Database(tag)
    bench.jetl_migrate(db)
    r = bench.run_timed([bench.JETL, "-q", "extract", "--project", "TR", "--full", "--progress", "none"],
                        env=bench.env_for(db, sim))
    bench.log("%s: %s rows (work_items, changelogs, dev_status) in %.1f s" % (build, db.counts(), r["wall"]))
    return db


def columns(cur, table):
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
                (table,))
    return [c for (c,) in cur.fetchall() if c not in VOLATILE]


def compare(old, new):
    """Rows of each table that only one side has (0 everywhere = the same)."""
    diff = {}
    with psycopg2.connect(old.dsn) as co, psycopg2.connect(new.dsn) as cn:
        o, n = co.cursor(), cn.cursor()
        for t in TABLES:
            cols = ", ".join(columns(n, t))
            buf = io.StringIO()
            o.copy_expert("COPY (SELECT %s FROM %s) TO STDOUT" % (cols, t), buf)
            buf.seek(0)
            n.execute("CREATE TEMP TABLE old_%s AS SELECT %s FROM %s WITH NO DATA" % (t, cols, t))
            n.copy_expert("COPY old_%s FROM STDIN" % t, buf)
            n.execute("SELECT (SELECT count(*) FROM %s), (SELECT count(*) FROM (SELECT %s FROM %s EXCEPT ALL"
                      " SELECT %s FROM old_%s) a), (SELECT count(*) FROM (SELECT %s FROM old_%s EXCEPT ALL"
                      " SELECT %s FROM %s) b)" % (t, cols, t, cols, t, cols, t, cols, t))
            rows, only_new, only_old = n.fetchone()
            diff[t] = only_new + only_old
            extra = ""
            if t == "work_items":
                # What the change is about: same jsonb, other text.
                n.execute("SELECT count(*) FILTER (WHERE w.custom_fields_overflow::text <> x.custom_fields_overflow::text),"
                          " count(*) FILTER (WHERE w.custom_fields_overflow <> x.custom_fields_overflow)"
                          " FROM work_items w JOIN old_work_items x USING (tenant_id, integration_id, external_id)")
                other_text, other_value = n.fetchone()
                extra = "; overflow: %d of other text, %d of other value" % (other_text, other_value)
            print("%-11s %6d rows: %d only in the new tables, %d only in the old%s"
                  % (t, rows, only_new, only_old, extra))
    return diff


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--issues", type=int, default=2000)
    a = ap.parse_args()
    d = bench.dataset("cloud-tr-%d" % a.issues, "TR:%d" % a.issues)
    sim = bench.Simulator(d)
    old = new = None
    try:
        old = extract_with(a.old, sim, "same_old")
        new = extract_with(a.new, sim, "same_new")
        diff = compare(old, new)
    finally:
        sim.stop()
        for db in (old, new):
            if db:
                db.drop()
    same = not any(diff.values())
    print("final tables: %s" % ("the same" if same else "DIFFERENT"))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
