"""Tests of the Python binding against the private PostgreSQL,
RabbitMQ and the Jira simulator. Run by scripts/test-bindings.

Tests of entry points not implemented yet skip only when the C library
answers JETL_ENOTIMPL (the @pipeline decorator); they run once it lands.
"""
import asyncio
import builtins
import dataclasses
import datetime
import gc
import os
import pickle
import pydoc
import re
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import jetl  # noqa: E402
import support  # noqa: E402
from support import (FreshDatabase, Simulator, pipeline, require_db, rss_kib,  # noqa: E402
                     run_cli, ROOT, PYTHON)


class TestLibrary(unittest.TestCase):
    """No server needed."""

    def test_version(self):
        self.assertRegex(jetl.version(), r"^\d+\.\d+\.\d+")
        major, minor, patch = (int(x) for x in re.match(r"(\d+)\.(\d+)\.(\d+)", jetl.version()).groups())
        self.assertEqual(jetl.version_number(), major * 10000 + minor * 100 + patch)
        self.assertGreater(jetl.schema_version(), 0)

    def test_statuses(self):
        self.assertEqual(jetl.Status.OK, 0)
        self.assertEqual(jetl.STATUS_MIN, min(jetl.Status))
        for status in range(jetl.STATUS_MIN, 0):
            name = jetl.status_name(status)
            self.assertTrue(name.startswith("JETL_E"), name)
            member = jetl.Status(status)
            self.assertEqual(member.name, name[5:])
            self.assertEqual(member.text, jetl.strerror(status))
            self.assertTrue(jetl.strerror(status))
            err = jetl._make_error(status, "boom")
            self.assertIsInstance(err, jetl.Error)
            self.assertIs(type(err), jetl.error_class(status))
            if status != jetl.Status.ERROR:   # the unclassified failure is the base class itself
                self.assertIsNot(type(err), jetl.Error, "status %s has no subclass" % name)
            self.assertEqual((err.status, err.message, err.name), (status, "boom", name))
            self.assertIs(type(err.status), jetl.Status)
            self.assertEqual(err.retriable, member.retriable)
            self.assertEqual(type(err).__module__, "jetl")
            # no class shadows a builtin
            self.assertFalse(hasattr(builtins, type(err).__name__), type(err).__name__)
        self.assertEqual(jetl.strerror(-9999), "unknown status")
        # a status a newer library adds: a pseudo-member and the base class, never a crash
        self.assertEqual(jetl.Status(-99), -99)
        self.assertIs(type(jetl._make_error(-99, "x")), jetl.Error)
        self.assertIsInstance(jetl._make_error(jetl.Status.EAUTH, "x"), jetl.AuthError)
        self.assertIsInstance(jetl._make_error(jetl.Status.ECANCELLED, "x"), jetl.CancelledError)
        self.assertIsInstance(jetl._make_error(jetl.Status.EVERSION, "x"), jetl.VersionError)
        self.assertIsInstance(jetl._make_error(jetl.Status.ENOTIMPL, "x"), NotImplementedError)
        self.assertIsInstance(jetl._make_error(jetl.Status.EINVAL, "x"), ValueError)
        self.assertIsInstance(jetl._make_error(jetl.Status.ENOENT, "x"), LookupError)
        self.assertIsInstance(jetl._make_error(jetl.Status.EDBRETRY, "x"), jetl.DatabaseError)
        self.assertTrue(jetl._make_error(jetl.Status.ENETWORK, "x").retriable)
        self.assertTrue(jetl._make_error(jetl.Status.ETIMEOUT, "x").retriable)
        self.assertFalse(jetl._make_error(jetl.Status.EAUTH, "x").retriable)
        e = pickle.loads(pickle.dumps(jetl._make_error(jetl.Status.EAUTH, "401")))
        self.assertEqual((type(e), e.status, e.message), (jetl.AuthError, jetl.Status.EAUTH, "401"))

    def test_public_names(self):
        for name in jetl.__all__:
            self.assertTrue(hasattr(jetl, name), name)
            self.assertFalse(hasattr(builtins, name) and name != "open", name)
        star = {}
        exec("from jetl import *", star)
        self.assertNotIn("TimeoutError", star)
        self.assertIs(star["JiraTimeoutError"], jetl.JiraTimeoutError)

    def test_former_names_warn(self):
        for old, new in (("TimeoutError", jetl.JiraTimeoutError),
                         ("ConnectionError", jetl.DatabaseConnectionError),
                         ("NotImplementedError", jetl.NotImplementedInBuildError),
                         ("IOError", jetl.LocalIOError), ("Context", jetl.Client),
                         ("EAUTH", jetl.Status.EAUTH), ("OK", jetl.Status.OK),
                         ("PHASE_DEV_STATUS", jetl.Phase.DEV_STATUS),
                         ("LOG_DEBUG", jetl.LogLevel.DEBUG), ("AUTH_BEARER", jetl.Auth.BEARER),
                         ("FLAVOR_SERVER", jetl.Flavor.SERVER)):
            with self.assertWarns(DeprecationWarning):
                self.assertIs(getattr(jetl, old), new)
        self.assertNotIn("TimeoutError", vars(jetl))
        with self.assertRaises(AttributeError):
            jetl.NoSuchName

    def test_records_are_frozen_dataclasses(self):
        for cls in (jetl.Progress, jetl.ExtractResult, jetl.TransformResult, jetl.Job, jetl.Field):
            self.assertTrue(dataclasses.is_dataclass(cls), cls)
            self.assertTrue(cls.__dataclass_params__.frozen, cls)
            self.assertTrue(cls.__doc__, cls)
        r = jetl.TransformResult(raw_id=1, work_items=2, changelog_items=3, dev_status=4,
                                 warnings=0, seconds=0.5)
        with self.assertRaises(dataclasses.FrozenInstanceError):
            r.work_items = 5
        self.assertEqual(dataclasses.asdict(r)["work_items"], 2)
        self.assertEqual(r, dataclasses.replace(r))
        self.assertEqual(len({r, dataclasses.replace(r)}), 1)
        self.assertIn("help", pydoc.render_doc(jetl).lower())   # help(jetl) renders
        self.assertIn("JiraTimeoutError", pydoc.render_doc(jetl))
        self.assertIn("aextract_project", pydoc.render_doc(jetl))

    def test_enums(self):
        self.assertEqual([p.value for p in jetl.Phase], list(range(len(jetl.PHASES))))
        for p in jetl.Phase:
            self.assertEqual(jetl.phase_name(p), p.name.lower())
        self.assertEqual(jetl.JobStatus("finished"), "finished")
        self.assertEqual("%s" % jetl.JobStatus.CANCELLED, "cancelled")
        self.assertEqual("{}".format(jetl.JobStatus.CANCELLED), "cancelled")
        self.assertTrue(jetl.JobStatus.FAILED.ended)
        self.assertFalse(jetl.JobStatus.RUNNING.ended)
        self.assertEqual(jetl.JobStatus("paused"), "paused")   # a status a newer schema adds
        self.assertEqual(jetl.LogLevel.DEBUG, 7)
        self.assertEqual(jetl.Auth.BEARER, 1)

    def test_bad_arguments(self):
        with self.assertRaises(TypeError):
            jetl.open(db=42)
        with self.assertRaises(ValueError):
            jetl.open(db="x", jira_auth="kerberos")
        with self.assertRaises(TypeError):
            jetl.open(db="x", log="not callable")


class TestPackageMetadata(unittest.TestCase):
    def test_web_extra_declares_what_jetl_web_imports(self):
        """`pip install .[web]` brings what `import jetl.web` needs (issue 29)."""
        import importlib.metadata
        try:
            requires = importlib.metadata.requires("jetl") or []
        except importlib.metadata.PackageNotFoundError:
            self.skipTest("jetl is not installed here (the build dir): the virtualenv run checks it")
        web = {r.split(";")[0].split(">")[0].split("=")[0].strip().lower()
               for r in requires if 'extra == "web"' in r}
        self.assertEqual(web, {"fastapi", "anyio", "psycopg2", "uvicorn"}, requires)
        self.assertIn("web", importlib.metadata.metadata("jetl").get_all("Provides-Extra") or [])


class TestContext(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = FreshDatabase("ctx")

    @classmethod
    def tearDownClass(cls):
        cls.db.drop()

    def test_open_migrate_close(self):
        ctx = jetl.open(db=self.db.dsn, tenant=3, integration=4)
        self.assertFalse(ctx.closed)
        self.assertEqual((ctx.tenant, ctx.integration), (3, 4))
        ctx.migrate()
        ctx.migrate()   # idempotent
        tables = {r[0] for r in self.db.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
        for t in ("raw_extraction_data", "etl_job_queue", "work_items", "custom_field_mappings",
                  "jira_fields", "changelogs", "dev_status", "sync_state", "projects"):
            self.assertIn(t, tables)
        self.assertEqual(ctx.last_error, "")
        ctx.close()
        ctx.close()     # harmless
        self.assertTrue(ctx.closed)
        with self.assertRaises(jetl.StateError):
            ctx.migrate()
        ctx.worker_stop()   # harmless on a closed context too

    def test_context_manager_and_every_option(self):
        seen = []
        with jetl.open(db=self.db.dsn, tenant=1, integration=1, jira_url="http://127.0.0.1:9",
                       jira_user="u", jira_token="t", jira_auth="basic", jira_flavor="cloud",
                       queue=None, concurrency=2, connect_timeout_ms=1000,
                       request_timeout_ms=5000, max_attempts=2, batch_size=50,
                       log=lambda level, msg: seen.append((level, msg)),
                       log_level=jetl.LogLevel.DEBUG) as ctx:
            ctx.migrate()
        self.assertTrue(ctx.closed)
        for level, msg in seen:
            self.assertIsInstance(level, jetl.LogLevel)
            self.assertIsInstance(msg, str)

    def test_bad_connection_string(self):
        import psycopg2.extensions
        wrong_db = psycopg2.extensions.make_dsn(require_db(), dbname="no_such_db_jetl")
        with self.assertRaises(jetl.DatabaseConnectionError) as cm:
            jetl.open(db="postgresql://jetl:SeCrEt-pw@127.0.0.1:1/nowhere", connect_timeout_ms=2000)
        e = cm.exception
        self.assertIsInstance(e, jetl.Error)
        self.assertIs(e.status, jetl.Status.EDBCONN)
        self.assertIn("refused", e.message.lower())   # libpq's cause, not just "failed"
        self.assertNotIn("SeCrEt-pw", e.message)        # never a secret
        self.assertNotIn("SeCrEt-pw", str(e))
        with self.assertRaises(jetl.DatabaseConnectionError) as cm:
            jetl.open(db=wrong_db)
        self.assertIn("no_such_db_jetl", cm.exception.message)
        with self.assertRaises(jetl.Error) as cm:
            jetl.open(db="this is not a conninfo")
        self.assertTrue(cm.exception.message)

    def test_errors_carry_the_c_message(self):
        with jetl.open(db=self.db.dsn) as ctx:
            ctx.migrate()
            try:
                with self.assertRaises(jetl.InvalidArgumentError) as cm:
                    ctx.field_map("customfield_10016", 99)
            except jetl.NotImplementedInBuildError:
                self.skipTest("jetl_field_map not implemented yet")
            self.assertTrue(cm.exception.message)
            self.assertEqual(ctx.last_error, cm.exception.message)

    def test_open_close_1000_cycles_no_leak(self):
        """RSS must not grow with open/close (valgrind figure: see the README)."""
        for _ in range(50):   # warm up: libpq, OpenSSL and allocator pools
            jetl.open(db=self.db.dsn).close()
        gc.collect()
        before = rss_kib()
        for i in range(1000):
            with jetl.open(db=self.db.dsn) as ctx:
                if i % 100 == 0:
                    ctx.migrate()
        gc.collect()
        growth = rss_kib() - before
        sys.stderr.write("\n  1000 open/close cycles: RSS %+d KiB\n" % growth)
        # A leak of even 1 KiB per cycle would show as ~1 MiB.
        self.assertLess(growth, 768, "RSS grew by %d KiB over 1000 cycles" % growth)

    def test_failed_open_does_not_leak(self):
        for _ in range(20):
            with self.assertRaises(jetl.DatabaseConnectionError):
                jetl.open(db="postgresql://jetl@127.0.0.1:1/x")
        before = rss_kib()
        for _ in range(300):
            with self.assertRaises(jetl.DatabaseConnectionError):
                jetl.open(db="postgresql://jetl@127.0.0.1:1/x")
        gc.collect()
        self.assertLess(rss_kib() - before, 512)


class TestPipeline(unittest.TestCase):
    """A full extraction through the binding, against the simulator."""

    @classmethod
    def setUpClass(cls):
        require_db()
        cls.sim = Simulator()
        cls.dbs = []

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        for db in cls.dbs:
            db.drop()

    def fresh(self, tag):
        db = FreshDatabase(tag)
        self.dbs.append(db)
        return db

    def open(self, db, **kw):
        opts = dict(self.sim.options(), db=db.dsn, queue=None)
        opts.update(kw)
        ctx = jetl.open(**opts)
        self.addCleanup(ctx.close)
        ctx.migrate()
        return ctx

    @pipeline
    def test_extract_project_same_rows_as_c_path(self):
        db_py, db_c = self.fresh("pyx"), self.fresh("cx")
        events = []
        ctx = self.open(db_py)
        r = ctx.extract_project("PYA", full=True, progress=events.append)
        self.assertIsInstance(r, jetl.ExtractResult)
        self.assertEqual(r.issues, self.sim.issues["PYA"])
        self.assertGreater(r.histories, 0)
        self.assertGreater(r.raw_rows, 0)
        self.assertEqual(r.transformed, r.raw_rows)
        self.assertGreater(r.job_id, 0)

        # the callback saw every phase, with consistent events
        seen = {p.phase_name for p in events}
        self.assertEqual(seen, set(jetl.PHASES), "phases seen: %s" % sorted(seen))
        for p in events:
            self.assertIsInstance(p, jetl.Progress)
            self.assertIsInstance(p.phase, jetl.Phase)
            self.assertEqual(p.phase_name, jetl.PHASES[p.phase])
            self.assertGreaterEqual(p.done, 0)
            self.assertTrue(p.total == 0 or p.done <= p.total, p)
            self.assertIsInstance(p.message, str)
            self.assertGreaterEqual(p.elapsed, 0.0)
        self.assertEqual(events[-1].phase_name, "done")

        job = ctx.job(r.job_id)
        self.assertIsInstance(job, jetl.Job)
        self.assertEqual((job.id, job.status), (r.job_id, "finished"))
        self.assertIs(job.status, jetl.JobStatus.FINISHED)
        self.assertTrue(job.ended)
        self.assertIsNotNone(job.finished_at)
        self.assertLessEqual(job.created_at, job.finished_at)
        self.assertEqual(job.finished_at.tzinfo, datetime.timezone.utc)
        self.assertEqual(job.raw_pending, 0)

        # the C path: the jetl command over the same simulator, another database
        env = dict(self.sim.env(), JETL_DB=db_c.dsn)
        for args in (["migrate"], ["extract", "--project", "PYA", "--full", "--progress", "none"]):
            res = run_cli(args, env)
            self.assertEqual(res.returncode, 0, res.stderr)
        py_rows, c_rows = db_py.rows(), db_c.rows()
        self.assertEqual(len(py_rows["work_items"]), self.sim.issues["PYA"])
        for table in py_rows:
            self.assertEqual(py_rows[table], c_rows[table], "%s differs from the C path" % table)

        # transform_batch over a raw row is idempotent
        raw_id = db_py.query("SELECT min(id) FROM raw_extraction_data")[0][0]
        t = ctx.transform_batch(raw_id)
        self.assertIsInstance(t, jetl.TransformResult)
        self.assertEqual(t.raw_id, raw_id)
        self.assertGreater(t.work_items, 0)
        self.assertEqual(db_py.rows(), py_rows)
        with self.assertRaises(jetl.NoEntryError):
            ctx.transform_batch(10 ** 12)

    @pipeline
    def test_extract_job_over_projects(self):
        ctx = self.open(self.fresh("pyjob"))
        phases = set()
        job_id = ctx.extract(["PYA", "PYB"], progress=lambda p: phases.add(p.phase_name), full=True)
        self.assertGreater(job_id, 0)
        job = ctx.job(job_id)
        self.assertEqual(job.status, "finished")
        self.assertIn("done", phases)
        self.assertEqual(ctx.jobs(5)[0], job_id)
        with self.assertRaises(jetl.NoEntryError):
            ctx.job(10 ** 12)

    @pipeline
    def test_cancel_from_callback(self):
        db = self.fresh("pycancel")
        ctx = self.open(db)
        calls = []

        def cb(p):
            calls.append(p)
            return p.phase_name == "issues"    # True cancels

        with self.assertRaises(jetl.CancelledError) as cm:
            ctx.extract_project("PYA", full=True, progress=cb)
        self.assertIs(cm.exception.status, jetl.Status.ECANCELLED)
        self.assertEqual(calls[-1].phase_name, "issues")   # no call after the cancel
        job_id = calls[-1].job_id
        if job_id:
            self.assertEqual(ctx.job(job_id).status, "cancelled")
        # nothing half-written reached the final tables
        self.assertEqual(db.query("SELECT count(*) FROM work_items")[0][0], 0)

    @pipeline
    def test_cancel_asked_on_the_last_event_is_too_late(self):
        """True from the callback on the event that says every row is done cancels
        nothing: the job finished, and the call says so."""
        for queue in (None, support.QUEUE) if support.QUEUE else (None,):
            if queue is None:
                db = self.fresh("pylate")
                ctx, worker = self.open(db), None
            else:
                db = self.fresh("pylateq")
                ctx, ctx2 = self.open(db, queue=queue), self.open(db, queue=queue)
                worker = threading.Thread(target=ctx2.worker_run, kwargs=dict(threads=1))
                worker.start()
            events = []

            def cb(p):
                last = p.total > 0 and p.done == p.total
                events.append((p.phase_name, last))
                return p.phase_name == "done" or (p.phase_name == "transform" and last)

            try:
                job_id = ctx.extract(["PYA"], progress=cb, full=True, wait=True)
            finally:
                if worker:
                    ctx2.worker_stop()
                    worker.join(30)
            self.assertEqual(ctx.job(job_id).status, "finished", queue)
            self.assertIn(("transform", True), events, queue)
            self.assertEqual(db.query("SELECT count(*) FROM work_items")[0][0], self.sim.issues["PYA"])

    @pipeline
    def test_exception_in_callback_surfaces(self):
        ctx = self.open(self.fresh("pyexc"))

        class Boom(Exception):
            pass

        raised = Boom("from the callback")
        calls = []

        def cb(p):
            calls.append(p.phase_name)
            if p.phase_name == "census":
                raise raised

        with self.assertRaises(Boom) as cm:
            ctx.extract_project("PYB", full=True, progress=cb)
        self.assertIs(cm.exception, raised)
        self.assertEqual(calls[-1], "census")
        # the context is still usable, and the callback's references are gone
        ctx.migrate()
        del cm
        self.assertEqual(sys.getrefcount(raised), 2)   # `raised` + getrefcount's argument

    @pipeline
    def test_callback_cannot_call_its_own_client(self):
        """C forbids re-entering a context from its callback: StateError, not a deadlock."""
        ctx = self.open(self.fresh("pyreent"))

        def cb(p):
            ctx.jobs(1)

        with self.assertRaises(jetl.StateError) as cm:
            ctx.extract_project("PYB", full=True, progress=cb)
        self.assertIn("own client", cm.exception.message)
        ctx.migrate()   # still usable

    @pipeline
    def test_aextract_project_leaves_the_loop_free(self):
        db = self.fresh("pyasync")
        self.sim.control("faults", {"latency_ms": 5})
        self.addCleanup(self.sim.control, "faults", {"latency_ms": 0})
        opts = dict(self.sim.options(), db=db.dsn, queue=None)
        loop_thread = []

        async def main():
            loop_thread.append(threading.get_ident())
            events, threads, ticks = [], set(), 0

            def on_progress(p):
                events.append(p)
                threads.add(threading.get_ident())

            async with await jetl.aopen(**opts) as client:
                await asyncio.get_running_loop().run_in_executor(None, client.migrate)
                task = asyncio.ensure_future(
                    client.aextract_project("PYB", full=True, progress=on_progress))
                while not task.done():
                    ticks += 1
                    await asyncio.sleep(0.005)
                r = await task
                job = client.job(r.job_id)
            self.assertTrue(client.closed)
            return r, job, events, threads, ticks

        r, job, events, threads, ticks = asyncio.run(main())
        self.assertEqual(r.issues, self.sim.issues["PYB"])
        self.assertIs(job.status, jetl.JobStatus.FINISHED)
        self.assertGreater(ticks, 5, "the loop did not run during the extraction")
        self.assertEqual(threads, set(loop_thread), "progress ran off the loop's thread")
        self.assertEqual(events[-1].phase, jetl.Phase.DONE)

    @pipeline
    def test_cancelling_the_task_cancels_the_extraction(self):
        db = self.fresh("pyacancel")
        ctx = self.open(db)
        self.sim.control("faults", {"latency_ms": 10})
        self.addCleanup(self.sim.control, "faults", {"latency_ms": 0})

        async def main():
            in_issues, jobs = asyncio.Event(), []

            def on_progress(p):
                if p.job_id:
                    jobs.append(p.job_id)
                if p.phase is jetl.Phase.ISSUES:
                    in_issues.set()

            task = asyncio.ensure_future(ctx.aextract_project("PYA", full=True, progress=on_progress))
            await asyncio.wait_for(in_issues.wait(), 120)
            t0 = time.monotonic()
            task.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await task
            return jobs[-1], time.monotonic() - t0

        job_id, waited = asyncio.run(main())
        sys.stderr.write("\n  task.cancel() -> extraction returned in %.3f s\n" % waited)
        self.assertLess(waited, 10)
        self.assertIs(ctx.job(job_id).status, jetl.JobStatus.CANCELLED)
        self.assertEqual(db.query("SELECT count(*) FROM work_items")[0][0], 0)

    @pipeline
    def test_async_progress_exception_surfaces(self):
        ctx = self.open(self.fresh("pyaexc"))

        class Boom(Exception):
            pass

        def on_progress(p):
            if p.phase is jetl.Phase.CENSUS:
                raise Boom()

        with self.assertRaises(Boom):
            asyncio.run(ctx.aextract_project("PYB", full=True, progress=on_progress))
        ctx.migrate()

    @pipeline
    def test_cancelling_aworker_run_stops_the_worker(self):
        if not support.QUEUE:
            self.skipTest("JETL_QUEUE is not set (no RabbitMQ)")
        ctx = self.open(self.fresh("pyawork"), queue=support.QUEUE)

        async def main():
            task = asyncio.ensure_future(ctx.aworker_run(threads=2))
            await asyncio.sleep(0.5)
            t0 = time.monotonic()
            task.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await task
            return time.monotonic() - t0

        self.assertLess(asyncio.run(main()), 20)
        ctx.migrate()   # the worker returned: the client is free again

    @pipeline
    def test_other_threads_run_during_extraction(self):
        ctx = self.open(self.fresh("pygil"))
        self.sim.control("faults", {"latency_ms": 15})
        self.addCleanup(self.sim.control, "faults", {"latency_ms": 0})
        ticks = [0]
        stop = threading.Event()

        def spin():
            while not stop.is_set():
                ticks[0] += 1

        t = threading.Thread(target=spin)
        t.start()
        try:
            time.sleep(0.05)
            start_ticks, t0 = ticks[0], time.monotonic()
            ctx.extract_project("PYB", full=True)     # no callback: the GIL stays released
            during, elapsed = ticks[0] - start_ticks, time.monotonic() - t0
        finally:
            stop.set()
            t.join()
        self.assertGreater(elapsed, 0.2, "extraction too short to tell")
        # With the GIL held for the whole call the spinner would not move at all.
        self.assertGreater(during, 10000, "%d ticks in %.2fs" % (during, elapsed))

    @pipeline
    def test_worker_stop_from_another_thread(self):
        ctx = self.open(self.fresh("pywork"), queue=support.QUEUE)
        errors = []

        def run():
            try:
                ctx.worker_run(until_idle=False, threads=2)
            except Exception as e:   # reported below
                errors.append(e)

        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.5)
        ctx.worker_stop()
        t.join(20)
        self.assertFalse(t.is_alive(), "worker_run did not return after worker_stop")
        if errors and isinstance(errors[0], jetl.NotImplementedInBuildError):
            raise errors[0]
        self.assertEqual(errors, [])

    @pipeline
    def test_close_from_another_thread_stops_the_worker(self):
        """close() while worker_run runs elsewhere: the worker is stopped, the
        call returns, then the context is freed (no use-after-free)."""
        if not support.QUEUE:
            self.skipTest("JETL_QUEUE is not set (no RabbitMQ)")
        ctx = jetl.open(**dict(self.sim.options(), db=self.fresh("pyclose").dsn, queue=support.QUEUE))
        ctx.migrate()
        errors = []

        def run():
            try:
                ctx.worker_run(threads=1)
            except Exception as e:   # reported below
                errors.append(e)

        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        ctx.close()
        t.join(20)
        self.assertFalse(t.is_alive(), "worker_run did not return after close()")
        self.assertTrue(ctx.closed)
        self.assertLess(time.monotonic() - t0, 20)
        self.assertEqual(errors, [])

    @pipeline
    def test_job_sweep(self):
        ctx = self.open(self.fresh("pysweep"))
        self.assertEqual(ctx.job_sweep(), 0)   # nothing stuck in a fresh database

    @pipeline
    def test_queue_distribute_and_workers(self):
        if not support.QUEUE:
            self.skipTest("JETL_QUEUE is not set (no RabbitMQ)")
        db = self.fresh("pyq")
        ctx = self.open(db, queue=support.QUEUE)
        job_id = ctx.extract(["PYB"], distribute=True, full=True)
        ctx.worker_run(until_idle=True, distribute=True, threads=2)
        self.assertEqual(ctx.job(job_id).status, "finished")
        self.assertEqual(db.query("SELECT count(*) FROM work_items")[0][0], self.sim.issues["PYB"])

    @pipeline
    def test_transform_batch_of_a_raw_row(self):
        """transform_batch alone: a raw row holding the simulator's search answer."""
        import base64
        import json
        import urllib.request
        db = self.fresh("pytransform")
        ctx = self.open(db)
        body = json.dumps({"jql": "project = PYB ORDER BY key", "maxResults": 100,
                           "fields": ["*all"], "expand": "changelog"}).encode()
        auth = base64.b64encode(("%s:%s" % (support.SIM_USER, support.SIM_TOKEN)).encode()).decode()
        req = urllib.request.Request(self.sim.url + "/rest/api/3/search/jql", data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": "Basic " + auth})
        with urllib.request.urlopen(req, timeout=30) as r:
            page = json.load(r)
        issues = page["issues"]
        self.assertEqual(len(issues), self.sim.issues["PYB"])
        raw_id = db.query(
            "INSERT INTO raw_extraction_data (tenant_id, integration_id, type, project_key, raw_data, item_count)"
            " VALUES (1, 1, 'jira_issues_changelogs_dev_status', 'PYB', %s, %s) RETURNING id",
            (json.dumps({"issues": issues}), len(issues)))[0][0]
        ctx.field_map("customfield_10016", 1)
        t = ctx.transform_batch(raw_id)
        self.assertIsInstance(t, jetl.TransformResult)
        self.assertEqual((t.raw_id, t.work_items), (raw_id, len(issues)))
        self.assertGreater(t.changelog_items, 0)
        rows = db.rows()
        self.assertEqual(len(rows["work_items"]), len(issues))
        self.assertEqual(db.query("SELECT status FROM raw_extraction_data WHERE id = %s", (raw_id,)),
                         [("completed",)])
        self.assertEqual(ctx.transform_batch(raw_id).work_items, len(issues))   # idempotent
        self.assertEqual(db.rows(), rows)
        with self.assertRaises(jetl.NoEntryError) as cm:
            ctx.transform_batch(10 ** 12)
        self.assertTrue(cm.exception.message)

    @pipeline
    def test_field_map(self):
        db = self.fresh("pyfmap")
        ctx = self.open(db)
        ctx.field_map("customfield_10016", 1)
        self.assertEqual(db.query("SELECT jira_field_id FROM custom_field_mappings WHERE slot = 1"),
                         [("customfield_10016",)])
        ctx.field_map("customfield_10016", 0)
        self.assertEqual(db.query("SELECT count(*) FROM custom_field_mappings"), [(0,)])
        with self.assertRaises(jetl.InvalidArgumentError):
            ctx.field_map("customfield_10016", 21)

    @pipeline
    def test_fields_sync(self):
        ctx = self.open(self.fresh("pyfields"))
        n = ctx.fields_sync()
        self.assertGreater(n, 0)
        ctx.field_map("customfield_10016", 2)
        fields = ctx.fields()
        self.assertEqual(len(fields), n)
        self.assertIsInstance(fields[0], jetl.Field)
        by_id = {f.id: f for f in fields}
        self.assertEqual(by_id["customfield_10016"].slot, 2)
        self.assertTrue(by_id["customfield_10016"].custom)

    @pipeline
    def test_example_script(self):
        db = self.fresh("pyexample")
        env = dict(self.sim.env(), JETL_DB=db.dsn)
        # The interpreter running the suite, which imports this jetl (the
        # virtualenv's, or PYTHONPATH=<build>/bindings/python's).
        r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "python", "extract.py"), "PYB"],
                           env=env, capture_output=True, text=True, timeout=300)
        if r.returncode != 0 and "JETL_ENOTIMPL" in r.stderr:
            raise jetl.NotImplementedInBuildError(jetl.Status.ENOTIMPL, r.stderr.strip())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("census", r.stdout)
        self.assertRegex(r.stdout, r"%d issues" % self.sim.issues["PYB"])


    @pipeline
    def test_async_example_script(self):
        """examples/python/aextract.py: the loop ticks during the extraction; a
        deadline cancels it and the job ends cancelled."""
        script = os.path.join(ROOT, "examples", "python", "aextract.py")
        db = self.fresh("pyaexample")
        env = dict(self.sim.env(), JETL_DB=db.dsn)
        self.sim.control("faults", {"latency_ms": 10})
        self.addCleanup(self.sim.control, "faults", {"latency_ms": 0})
        r = subprocess.run([sys.executable, script, "PYA", "--full"],
                           env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("tick 1 (the loop is free)", r.stdout)
        self.assertRegex(r.stdout, r"PYA: %d issues" % self.sim.issues["PYA"])
        r = subprocess.run([sys.executable, script, "PYA", "--full", "--timeout", "0.5"],
                           env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"PYA: cancelled after 0.5s, job \d+ cancelled")


if __name__ == "__main__":
    unittest.main()
