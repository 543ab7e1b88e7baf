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
            for table in ("issue_links", "issue_versions", "issue_components", "accounts"):
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


if __name__ == "__main__":
    unittest.main()
