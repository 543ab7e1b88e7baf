"""End-to-end: what each issue carries (links, fix/affects versions,
components, accounts) stored once each, equal to the simulator's ground
truth (sim/parts.py truth), counted in the job's totals and shown by
`jetl status` (issue 28, first part)."""
import glob
import json
import os
import shutil
import unittest

from harness import Database, Simulator, jetl, jetl_env, make_dataset
import parts  # sim/, on the path through harness


def records(data, keys):
    out = []
    for k in keys:
        with open(os.path.join(data, "issues", k + ".jsonl"), encoding="utf-8") as f:
            out.extend(json.loads(line) for line in f if line.strip())
    return out


class IssueParts(unittest.TestCase):
    def test_counts_equal_the_simulators_truth(self):
        data = make_dataset("PRT:230", seed=3, fixtures=True)
        sim = Simulator(data)
        db = Database()
        try:
            env = jetl_env(db, sim)
            jetl(env, "migrate")
            jetl(env, "extract", "--project", "PRT", "--project", "EE", "--progress", "none")
            truth = parts.truth(records(data, ["PRT", "EE"]))
            self.assertGreater(truth["issue_links"], 80)
            self.assertGreater(truth["issue_versions"], 100)
            for table, n in truth.items():
                self.assertEqual(db.scalar("SELECT count(*) FROM " + table), n, table)
            # Both sides of every generated link, each pointing at the other.
            self.assertEqual(db.scalar(
                "SELECT count(*) FROM issue_links a JOIN issue_links b ON a.link_id = b.link_id"
                " AND a.work_item_external_id = b.other_issue_id AND b.work_item_external_id = a.other_issue_id"
                " AND a.direction <> b.direction WHERE a.other_issue_key LIKE 'PRT-%'"),
                db.scalar("SELECT count(*) FROM issue_links WHERE other_issue_key LIKE 'PRT-%'"))
            totals = db.scalar("SELECT totals FROM etl_job_queue")
            self.assertGreater(truth["worklogs"], 1005 + 20 * 20)
            self.assertGreater(truth["comments"], 130 + 17 * 25)
            for table in ("issue_links", "issue_versions", "issue_components", "accounts", "comments", "worklogs"):
                self.assertEqual(totals.get(table), truth[table], table)
            out = jetl(env, "status", "--job", "1").stdout
            self.assertIn("issue_links %d" % truth["issue_links"], out)
            self.assertEqual(json.loads(jetl(env, "status", "--job", "1", "--json").stdout)["totals"]["accounts"],
                             truth["accounts"])
            # A rerun over the same issues changes no row and adds none.
            before = db.scalar("SELECT max(synced_at) FROM issue_links")
            jetl(env, "extract", "--project", "PRT", "--full", "--progress", "none")
            self.assertEqual(db.scalar("SELECT count(*) FROM issue_links"), truth["issue_links"])
            self.assertEqual(db.scalar("SELECT max(synced_at) FROM issue_links"), before)
        finally:
            sim.stop()
            db.drop()
            shutil.rmtree(data, ignore_errors=True)

    def test_incremental_run_picks_up_edited_and_deleted_items(self):
        data = make_dataset("INC:60", seed=4)
        sim = Simulator(data)
        db = Database()
        try:
            env = jetl_env(db, sim)
            jetl(env, "migrate")
            jetl(env, "extract", "--project", "INC", "--progress", "none")
            recs = {r["key"]: r for r in records(data, ["INC"])}

            def ids(key, kind):
                return [x["id"] for x in recs[key][kind]]

            def count(table, key):
                return db.scalar("SELECT count(*) FROM %s t JOIN work_items w ON w.external_id ="
                                 " t.work_item_external_id WHERE w.key = %%s" % table, (key,))
            # INC-22: 1,005 worklogs (past a page); INC-26: 130 comments;
            # INC-44: worklogs past the embedded page; a small issue with
            # its comments embedded only.
            small = next(k for k, r in sorted(recs.items()) if 1 <= len(r["comments"]) <= 3)
            self.assertEqual(count("worklogs", "INC-22"), 1005)
            self.assertEqual(count("comments", "INC-26"), 130)
            w22, c26, w44, cs = ids("INC-22", "worklogs"), ids("INC-26", "comments"), \
                ids("INC-44", "worklogs"), ids(small, "comments")
            sim.control("items", {"key": "INC-22", "kind": "worklogs", "delete": w22[:3] + w22[-1:],
                                  "edit": {w22[500]: "more work"}})
            sim.control("items", {"key": "INC-26", "kind": "comments", "delete": c26[5:7],
                                  "edit": {c26[120]: "edited 已编辑"}})
            sim.control("items", {"key": "INC-44", "kind": "worklogs", "delete": w44[-2:]})
            sim.control("items", {"key": small, "kind": "comments", "delete": cs[:1],
                                  "edit": {cs[-1]: "fixed typo"} if len(cs) > 1 else {}})
            before_w = db.scalar("SELECT count(*) FROM worklogs")
            before_c = db.scalar("SELECT count(*) FROM comments")
            second = jetl(env, "extract", "--project", "INC", "--progress", "none")
            self.assertRegex(second.stdout, r": 4 issues")
            self.assertEqual(count("worklogs", "INC-22"), 1001)
            self.assertEqual(count("comments", "INC-26"), 128)
            self.assertEqual(count("worklogs", "INC-44"), len(w44) - 2)
            self.assertEqual(count("comments", small), len(cs) - 1)
            self.assertEqual(db.scalar("SELECT count(*) FROM worklogs"), before_w - 6)
            self.assertEqual(db.scalar("SELECT count(*) FROM comments"), before_c - 3)
            self.assertEqual(db.scalar("SELECT comment FROM worklogs WHERE worklog_id = %s", (w22[500],)),
                             "more work")
            self.assertEqual(db.scalar("SELECT body FROM comments WHERE comment_id = %s", (c26[120],)),
                             "edited 已编辑")
            self.assertEqual(db.scalar("SELECT body_raw->>'type' FROM comments WHERE comment_id = %s",
                                       (c26[120],)), "doc")
            self.assertEqual(db.scalar("SELECT count(*) FROM worklogs WHERE worklog_id = ANY(%s)",
                                       (w22[:3] + w22[-1:] + w44[-2:],)), 0)
        finally:
            sim.stop()
            db.drop()
            shutil.rmtree(data, ignore_errors=True)

    def test_types_choose_what_is_fetched(self):
        data = make_dataset("TYP:50", seed=6)
        sim = Simulator(data)
        db = Database()
        try:
            env = jetl_env(db, sim)
            jetl(env, "migrate")
            bad = jetl(env, "extract", "--project", "TYP", "--types", "comments,sprints", check=False)
            self.assertNotEqual(bad.returncode, 0)
            self.assertIn("unknown data type 'sprints'", bad.stderr)
            self.assertEqual(db.scalar("SELECT count(*) FROM etl_job_queue"), 0)
            truth = parts.truth(records(data, ["TYP"]))
            sim.control("reset-stats", {})
            jetl(env, "extract", "--project", "TYP", "--types", "issues", "--progress", "none")
            stats = json.dumps(sim.control("stats"))
            self.assertNotIn("/comment", stats)
            self.assertNotIn("/worklog", stats)
            # the cut pages as embedded: fewer than all, links all the same
            self.assertLess(db.scalar("SELECT count(*) FROM worklogs"), truth["worklogs"])
            self.assertLess(db.scalar("SELECT count(*) FROM comments"), truth["comments"])
            self.assertEqual(db.scalar("SELECT count(*) FROM issue_links"), truth["issue_links"])
            jetl(env, "extract", "--project", "TYP", "--full", "--types", "worklogs", "--progress", "none")
            self.assertEqual(db.scalar("SELECT count(*) FROM worklogs"), truth["worklogs"])
            self.assertLess(db.scalar("SELECT count(*) FROM comments"), truth["comments"])
            jetl(env, "extract", "--project", "TYP", "--full", "--progress", "none")
            self.assertEqual(db.scalar("SELECT count(*) FROM comments"), truth["comments"])
        finally:
            sim.stop()
            db.drop()
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
