"""TLS to the broker and to PostgreSQL (issue 16), end to end.

A pair of its own (tests/faults/pair.py) started with JETL_SERVICES_TLS=1:
scripts/services makes a CA, a server certificate for localhost/127.0.0.1
and a client certificate with the openssl command, gives PostgreSQL
ssl = on and RabbitMQ a TLS listener beside the plain one. The checkout's
default pair is never touched (adding a listener needs a broker restart).
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
from pair import PrivatePair, free_port  # noqa: E402

from harness import BUILD, ROOT, Database, Simulator, Vhost, jetl, jetl_env, make_dataset, start_worker  # noqa: E402

SECRET = "hunter2-broker-secret"
ISSUES = 240


def stop_worker(p, test):
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    test.assertEqual(p.returncode, 0, "worker: " + out + err)


class TLS(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.saved_env = dict(os.environ)
        cls.default_db = os.environ.get("JETL_DB")   # the default pair: ssl off
        cls.pair = PrivatePair()
        if not cls.pair.keep:
            taken = {int(v) for k, v in cls.pair.vars.items() if k.endswith("PORT")}
            cls.pair.vars["JETL_RABBIT_TLS_PORT"] = str(free_port(taken))
        cls.pair.vars["JETL_SERVICES_TLS"] = "1"
        try:
            cls.pair.start()
        except Exception:
            cls.pair.stop()
            os.environ.clear()
            os.environ.update(cls.saved_env)
            raise
        cls.ca = os.environ["JETL_TLS_CA"]
        cls.tls_port = int(cls.pair.vars.get("JETL_RABBIT_TLS_PORT") or
                           os.environ["JETL_QUEUE_TLS"].split("@localhost:")[1].split("/")[0])
        cls.tmp = tempfile.mkdtemp(prefix="jetl-tls-")
        # A CA and a client certificate the broker has never heard of.
        cls.other_ca = os.path.join(cls.tmp, "other-ca.pem")
        cls.other_key = os.path.join(cls.tmp, "other.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", cls.other_key,
                        "-out", cls.other_ca, "-days", "2", "-subj", "/CN=not the broker's CA"],
                       check=True, capture_output=True)
        cls.data = make_dataset("TLS:%d" % ISSUES, seed=16)
        cls.sim = Simulator(cls.data)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.sim.stop()
            shutil.rmtree(cls.data, ignore_errors=True)
            shutil.rmtree(cls.tmp, ignore_errors=True)
        finally:
            cls.pair.stop()
            os.environ.clear()
            os.environ.update(cls.saved_env)

    def setUp(self):
        self.db = Database()
        self.addCleanup(self.db.drop)
        self.vh = Vhost()
        self.addCleanup(self.vh.drop)

    def amqps(self, host="localhost", password="jetl", **params):
        """The vhost's URL on the TLS listener, with RabbitMQ's URI parameters."""
        q = "&".join("%s=%s" % kv for kv in params.items())
        return "amqps://jetl:%s@%s:%d/%s%s" % (password, host, self.tls_port, self.vh.name, "?" + q if q else "")

    def tls_dsn(self, sslmode="verify-full", ca=None):
        return "postgresql://jetl:jetl@localhost:%s/%s?sslmode=%s&sslrootcert=%s" % (
            os.environ["JETL_PG_PORT"], self.db.name, sslmode, ca or self.ca)

    def queue_error(self, url):
        """Run a worker that has nothing to do against url; its error output."""
        env = jetl_env(self.db)
        jetl(env, "migrate")
        p = jetl(env, "worker", "--until-idle", "--progress", "none", "--queue", url, check=False, timeout=120)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertNotIn(SECRET, p.stdout + p.stderr)
        return p.stderr

    def backend_ssl(self, appname="jetl"):
        """Whether the connections of the jetl processes to this database use TLS."""
        return {r[0] for r in self.db.query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)"
            " WHERE a.datname = current_database() AND a.application_name = %s", (appname,))}

    def wait_backend(self, worker, appname="jetl"):
        deadline = time.time() + 60
        while not self.backend_ssl(appname):
            if worker.poll() is not None:
                self.fail("worker ended: " + "".join(worker.communicate()))
            self.assertLess(time.time(), deadline, "the worker never connected")
            time.sleep(0.1)
        return self.backend_ssl(appname)

    def test_extraction_through_amqps_with_verification(self):
        """extract --wait and one worker over amqps (CA checked, client
        certificate given), a second worker over plain amqp on the same
        broker, PostgreSQL over TLS with sslmode=verify-full."""
        env = jetl_env(self.db, self.sim)
        env["JETL_DB"] = self.tls_dsn()
        jetl(env, "migrate")
        url = self.amqps(cacertfile=self.ca, certfile=os.environ["JETL_TLS_CLIENT_CERT"],
                         keyfile=os.environ["JETL_TLS_CLIENT_KEY"])
        tls_worker = start_worker(env, "--queue", url)
        plain_worker = start_worker(env, "--queue", self.vh.url)
        try:
            self.assertEqual(self.wait_backend(tls_worker), {True}, "jetl's PostgreSQL connections are TLS")
            p = jetl(env, "extract", "--queue", self.amqps(cacertfile=self.ca), "--wait", "--progress", "none",
                     "--project", "TLS")
        finally:
            stop_worker(tls_worker, self)
            stop_worker(plain_worker, self)
        self.assertEqual(self.db.scalar("SELECT count(*) FROM work_items"), ISSUES, p.stdout + p.stderr)
        self.assertEqual(self.db.scalar("SELECT status FROM etl_job_queue"), "finished")
        self.assertEqual(self.db.scalar("SELECT count(*) FROM raw_extraction_data WHERE status <> 'completed'"), 0)
        self.assertGreater(self.db.scalar("SELECT count(*) FROM changelogs"), 0)

    def test_wrong_ca_is_not_trusted(self):
        err = self.queue_error(self.amqps(password=SECRET, cacertfile=self.other_ca))
        self.assertIn("TLS: certificate not trusted", err)
        self.assertIn("cacertfile", err)

    def test_no_ca_means_the_system_store_which_does_not_know_a_private_ca(self):
        err = self.queue_error(self.amqps(password=SECRET))
        self.assertIn("certificate not trusted", err)
        self.assertIn("system's CA certificates", err)

    def test_hostname_mismatch(self):
        # 127.1 reaches 127.0.0.1 but is neither of the certificate's names
        err = self.queue_error(self.amqps(host="127.1", password=SECRET, cacertfile=self.ca))
        self.assertIn("hostname mismatch", err)
        self.assertIn("DNS:localhost", err)

    def test_ip_address_matches_the_certificate_ip_entry(self):
        env = jetl_env(self.db)
        jetl(env, "migrate")
        jetl(env, "worker", "--until-idle", "--progress", "none", "--queue",
             self.amqps(host="127.0.0.1", cacertfile=self.ca), timeout=120)

    def test_ca_file_unreadable(self):
        err = self.queue_error(self.amqps(password=SECRET, cacertfile=os.path.join(self.tmp, "missing.pem")))
        self.assertIn("cannot read the CA file (cacertfile)", err)
        self.assertIn("No such file or directory", err)
        notpem = os.path.join(self.tmp, "not-a-cert.pem")
        with open(notpem, "w") as f:
            f.write("not a certificate\n")
        err = self.queue_error(self.amqps(password=SECRET, cacertfile=notpem))
        self.assertIn("holds no usable PEM certificate", err)

    def test_client_certificate_of_another_ca_is_refused_by_the_broker(self):
        err = self.queue_error(self.amqps(password=SECRET, cacertfile=self.ca, certfile=self.other_ca,
                                          keyfile=self.other_key))
        self.assertIn("TLS: the broker closed the connection", err)

    def test_tls_url_on_the_plain_port(self):
        url = self.vh.url.replace("amqp://", "amqps://") + "?cacertfile=" + self.ca
        err = self.queue_error(url.replace("jetl:jetl@", "jetl:%s@" % SECRET))
        self.assertIn("TLS handshake failed", err)

    def test_misspelt_parameter_is_refused(self):
        err = self.queue_error(self.amqps(password=SECRET, cacert=self.ca))
        self.assertIn("unknown URL parameter cacert", err)

    def test_queue_layer_over_tls(self):
        """The Criterion suite of the queue over amqps (publish, consume,
        reconnect on a new SSL socket, client certificate, refusals), which
        skips on the default pair, run against this pair's TLS listener."""
        exe = os.path.join(BUILD, "tests", "itest_queue_tls")
        if not os.path.exists(exe):
            self.skipTest("built without -Dtests")
        env = dict(os.environ, JETL_SOURCE_ROOT=ROOT)
        p = subprocess.run([exe, "--verbose=0"], env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("Tested: 4 | Passing: 4 | Failing: 0 | Crashing: 0", p.stdout + p.stderr)

    def test_postgresql_sslmode_passes_through_to_libpq(self):
        """sslmode in the conninfo reaches libpq unchanged: disable gives a
        plain connection, require a TLS one, verify-full checks the CA, and
        require against a server without TLS fails as libpq says."""
        jetl(jetl_env(self.db), "migrate")
        for mode, want in (("disable", {False}), ("require", {True})):
            env = jetl_env(self.db)
            env["JETL_DB"] = self.tls_dsn(sslmode=mode)
            w = start_worker(env, "--queue", self.vh.url)
            try:
                self.assertEqual(self.wait_backend(w), want, mode)
            finally:
                stop_worker(w, self)
        env = jetl_env(self.db)
        env["JETL_DB"] = self.tls_dsn(sslmode="verify-full", ca=self.other_ca)
        p = jetl(env, "migrate", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("certificate verify failed", p.stderr)
        if self.default_db:   # the checkout's default pair runs without TLS
            env["JETL_DB"] = self.default_db + "?sslmode=require"
            p = jetl(env, "migrate", check=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn("server does not support SSL, but SSL was required", p.stderr)


if __name__ == "__main__":
    unittest.main()
