"""Integrations through the Python binding: add/get/list/update/remove in
one tenant, NoEntryError for an unknown or another tenant's integration
(what a service turns into 404), the secret never read back, a client that
takes its connection from the row, connection tests, discovery and key
rotation."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import jetl  # noqa: E402
from support import SIM_TOKEN, SIM_USER, FreshDatabase, Simulator, require_db  # noqa: E402

KEY_A = "11" * 32
KEY_B = "22" * 32


class TestIntegrations(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_db()
        cls.db = FreshDatabase("pyint")
        cls.sim = Simulator(projects="PIA:9,PIB:4")
        cls.saved = {k: os.environ.get(k) for k in ("JETL_SECRET_KEY", "JETL_JIRA_URL", "JETL_JIRA_TOKEN")}
        os.environ.pop("JETL_JIRA_URL", None)
        os.environ.pop("JETL_JIRA_TOKEN", None)
        os.environ["JETL_SECRET_KEY"] = KEY_A
        with jetl.open(cls.db.dsn, queue="") as c:
            c.migrate()

    @classmethod
    def tearDownClass(cls):
        for k, v in cls.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        cls.sim.stop()
        cls.db.drop()

    def client(self, tenant, integration=1):
        return jetl.open(self.db.dsn, tenant=tenant, integration=integration, queue="")

    def test_crud_and_tenant_scope(self):
        with self.client(21) as c:
            iid = c.integration_add("py site", self.sim.url, SIM_TOKEN, user=SIM_USER,
                                    flavor="cloud", projects=["PIA"])
            got = c.integration_get(iid)
            self.assertIsInstance(got, jetl.Integration)
            self.assertEqual((got.tenant_id, got.id, got.name, got.flavor), (21, iid, "py site", "cloud"))
            self.assertEqual(got.secret_kind, "encrypted")
            self.assertEqual(got.projects, "PIA")
            self.assertNotIn(SIM_TOKEN, repr(got))
            self.assertEqual([i.id for i in c.integrations()], [iid])
            c.integration_update(iid, name="renamed", active=False)
            self.assertEqual(c.integration_get(iid).name, "renamed")
            self.assertFalse(c.integration_get(iid).active)
            with self.assertRaises(jetl.NoEntryError) as e:
                c.integration_get(iid + 1000)
            self.assertIn("integration %d of tenant 21 not found" % (iid + 1000), str(e.exception))
        with self.client(22) as other:
            with self.assertRaises(jetl.NoEntryError):
                other.integration_get(iid)
            self.assertEqual(other.integrations(), [])
        stored = self.db.query("SELECT secret FROM integrations WHERE id = %s", (iid,))[0][0]
        self.assertTrue(stored.startswith("enc:v1:"))
        self.assertNotIn(SIM_TOKEN, stored)
        with self.client(21) as c:
            c.integration_remove(iid)
            with self.assertRaises(jetl.NoEntryError):
                c.integration_remove(iid)

    def test_client_from_row_test_and_projects(self):
        with self.client(23) as admin:
            iid = admin.integration_add("sim", self.sim.url, SIM_TOKEN, user=SIM_USER)
            bad = admin.integration_add("bad", self.sim.url, "wrong-token", user=SIM_USER)
            r = admin.integration_test(iid)
            self.assertTrue(r.ok, r.message)
            self.assertEqual(r.failure, "")
            self.assertTrue(r.time_zone)
            r = admin.integration_test(bad)
            self.assertFalse(r.ok)
            self.assertEqual((r.failure, r.http_status), ("auth", 401))
            with self.assertRaises(jetl.NoEntryError):
                admin.integration_test(99999)
        with self.client(23, iid) as c:
            self.assertEqual(c.projects_sync(), 2)
            self.assertEqual(sorted(p.key for p in c.projects()), ["PIA", "PIB"])
            c.projects_select(["PIB"])
            self.assertEqual([p.key for p in c.projects() if p.selected], ["PIB"])
            c.extract(dev_status=False)
            n = self.db.query("SELECT count(*) FROM work_items WHERE tenant_id = 23 AND integration_id = %s",
                              (iid,))[0][0]
            self.assertEqual(n, 4)
        with self.client(24, iid) as stranger:
            with self.assertRaises(jetl.NoEntryError):
                stranger.extract_project("PIA")
        self.assertEqual(self.db.query("SELECT count(*) FROM etl_job_queue WHERE tenant_id = 24")[0][0], 0)

    def test_rotation(self):
        with self.client(25) as c:
            iid = c.integration_add("rot", self.sim.url, SIM_TOKEN, user=SIM_USER)
            os.environ["JETL_SECRET_KEY"] = KEY_B
            try:
                self.assertEqual(c.integration_test(iid).failure, "secret")
                self.assertGreaterEqual(c.secret_rotate(KEY_A), 1)
                self.assertTrue(c.integration_test(iid).ok)
                with self.assertRaises(jetl.ConfigError):
                    c.secret_rotate("not a key")
            finally:
                # back under KEY_A for the other tests
                os.environ["JETL_SECRET_KEY"] = KEY_A
                c.secret_rotate(KEY_B)


if __name__ == "__main__":
    unittest.main()
