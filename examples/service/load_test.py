#!/usr/bin/python3
"""A bounded local load test of the example service (uvicorn + jetl.web):

  GET job     50 concurrent clients, keep-alive, REQUESTS each (default 40)
  trigger     50 concurrent clients at once, 5 per project set over 10 sets:
              10 jobs start, the 40 others get 409 naming the running job
              (what a burst of clicks looks like)
  SSE delay   pg_notify on the jetl_progress channel -> the event read by an
              HTTP client of the stream, 100 samples

    eval "$(scripts/services start)"
    JETL_BUILD_ROOT=build /usr/bin/python3 examples/service/load_test.py [--requests 40]

It makes its own database and simulator (as test_service.py does), prints the
latencies (p50/p95/p99/max, ms) and removes them. About 30-60 s.
"""
import argparse
import concurrent.futures
import functools
import http.client
import multiprocessing
import json
import os
import statistics
import subprocess
import sys
import threading
import time

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_service as ts  # noqa: E402
from process import SimProcess  # noqa: E402

CLIENTS = 50


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def summary(name, ms):
    return "%-28s n=%-5d p50 %7.1f  p95 %7.1f  p99 %7.1f  max %7.1f ms" % (
        name, len(ms), statistics.median(ms), pct(ms, 95), pct(ms, 99), max(ms))


def conn(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=120)


def request(c, method, path, body=None):
    headers = {"Authorization": "Bearer " + ts.TOKEN_A}
    if method == "POST":
        headers["Content-Length"] = "0"
    t0 = time.perf_counter()
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    return (time.perf_counter() - t0) * 1000.0, r.status, data


PROCS = 10   # the 50 clients run as 10 processes of 5 threads: one Python process's
             # GIL would otherwise add its own queueing to every latency measured


def _proc_clients(fn, first, n, start_at):
    out, errs = [], []
    lock = threading.Lock()

    def worker(i):
        try:
            time.sleep(max(0.0, start_at - time.time()))
            res = fn(i)
            with lock:
                out.extend(res)
        except Exception as e:   # reported, never hidden
            with lock:
                errs.append(repr(e))

    threads = [threading.Thread(target=worker, args=(first + k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return out, errs


def run_clients(n, fn):
    start_at = time.time() + 1.0   # every client starts at once
    per = n // PROCS
    with concurrent.futures.ProcessPoolExecutor(PROCS, mp_context=multiprocessing.get_context("fork")) as ex:
        futs = [ex.submit(_proc_clients, fn, p * per, per, start_at) for p in range(PROCS)]
        out, errs = [], []
        for f in futs:
            o, e = f.result(600)
            out.extend(o)
            errs.extend(e)
    if errs:
        raise SystemExit("load test: %d client(s) failed: %s" % (len(errs), errs[0]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=40, help="GET job requests per client")
    args = ap.parse_args()
    if not os.environ.get("JETL_DB"):
        raise SystemExit("load test: JETL_DB is not set (eval \"$(scripts/services start)\")")
    env = ts.Env()
    proc = None
    try:
        # ten small projects for the trigger burst
        data = ts.gen(env.tmp, "many", ",".join("L%02d:30" % i for i in range(10)))
        many = SimProcess(data, user=ts.SIM_USER, token=ts.SIM_TOKEN)
        env.sims.append(many)
        import jetl
        with jetl.open(db=env.db, tenant=1, queue="") as c:
            i_many = c.integration_add("many", many.url, "env:SVC_SIM_TOKEN", user=ts.SIM_USER)
        port_file = os.path.join(env.tmp, "svc.port")
        proc = subprocess.Popen(
            [ts.PY, os.path.join(HERE, "server.py"), "--port", "0", "--port-file", port_file, "--quiet"],
            env=dict(os.environ, JETL_DB=env.db, JETL_QUEUE="", PYTHONPATH=ts.PYPATH,
                     JETL_SERVICE_TOKENS=json.dumps({ts.TOKEN_A: 1})),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not os.path.exists(port_file):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("load test: the service did not start")
            time.sleep(0.05)
        port = int(open(port_file).read())

        # a finished job to read
        c = conn(port)
        _, st, body = request(c, "POST", ts.extract_path(env.i_quick, project_keys="SVA"))
        assert st == 200, body
        job_id = json.loads(body)["job_id"]
        while json.loads(request(c, "GET", "%s/jobs/%d" % (ts.PREFIX, job_id))[2])["status"] != "finished":
            time.sleep(0.2)

        t0 = time.monotonic()
        get_ms = run_clients(CLIENTS, functools.partial(
            get_path, port, "%s/jobs/%d" % (ts.PREFIX, job_id), args.requests))
        get_rate = len(get_ms) / (time.monotonic() - t0 - 1.0)
        health_ms = run_clients(CLIENTS, functools.partial(get_path, port, "/healthz", args.requests))
        trig = run_clients(CLIENTS, functools.partial(trigger, port, i_many))
        started = [ms for ms, st, _ in trig if st == 200]
        conflict = [ms for ms, st, _ in trig if st == 409]
        jobs = {j for _, _, j in trig}
        # each set started at least once (again if its job already ended); a
        # 409 names a job that was started
        assert len(started) >= 10, len(started)
        assert {j for _, st, j in trig if st == 409} <= {j for _, st, j in trig if st == 200}
        # wait for the ten to end before the SSE probe
        deadline = time.monotonic() + 120
        for j in jobs:
            while json.loads(request(c, "GET", "%s/jobs/%d" % (ts.PREFIX, j))[2])["status"] not in ts_terminal():
                if time.monotonic() > deadline:
                    raise SystemExit("load test: job %d did not end" % j)
                time.sleep(0.2)

        sse_ms = sse_probe(env, port)
        print("load test (50 concurrent clients; %s)" % time.strftime("%Y-%m-%d %H:%M:%S"))
        print(summary("GET job", get_ms) + "  (%.0f req/s)" % get_rate)
        print(summary("GET /healthz (SELECT 1)", health_ms))
        print(summary("trigger, all", [ms for ms, _, _ in trig]))
        print(summary("trigger, started (200)", started))
        print(summary("trigger, running (409)", conflict))
        print(summary("SSE: NOTIFY -> client", sse_ms))
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            proc.wait(30)
        env.close()


def get_path(port, path, n, i):
    cc, res = conn(port), []
    for _ in range(n):
        ms, st, _ = request(cc, "GET", path)
        assert st == 200, st
        res.append(ms)
    cc.close()
    return res


def trigger(port, integration, i):
    ms, st, body = request(conn(port), "POST",
                           ts.extract_path(integration, project_keys="L%02d" % (i % 10), incremental="false"))
    assert st in (200, 409), (st, body)
    return [(ms, st, json.loads(body).get("job_id"))]


def ts_terminal():
    return ("finished", "failed", "cancelled")


def sse_probe(env, port, samples=100):
    """A running job row, its stream open, pg_notify from another connection
    carrying the send time: the delay until the client reads the event."""
    (job_id,), = env.query("INSERT INTO etl_job_queue (tenant_id, integration_id, job_type, status)"
                           " VALUES (1, %s, 'probe', 'running') RETURNING id", (env.i_quick,))
    s = conn(port)
    s.request("GET", "%s/jobs/%d/events" % (ts.PREFIX, job_id),
              headers={"Authorization": "Bearer " + ts.TOKEN_A})
    r = s.getresponse()
    got, ready = [], threading.Event()

    def reader():
        data = []
        for raw in r:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("data:"):
                data.append(line[5:].strip())
            elif not line and data:
                ev = json.loads("".join(data))
                data = []
                if ev.get("source") == "row":
                    ready.set()
                elif "sent" in ev:
                    got.append((time.time() - ev["sent"]) * 1000.0)
                if ev.get("status") == "cancelled":
                    return

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    ready.wait(10)
    time.sleep(0.3)
    pg = psycopg2.connect(env.db)
    pg.autocommit = True
    cur = pg.cursor()
    for k in range(samples):
        cur.execute("SELECT pg_notify('jetl_progress', json_build_object('job_id', %s, 'tenant_id', 1,"
                    " 'status', 'running', 'step_name', 'census', 'message', 'probe', 'sent', %s)::text)",
                    (job_id, time.time()))
        time.sleep(0.02)
    time.sleep(0.5)
    cur.execute("UPDATE etl_job_queue SET status = 'cancelled' WHERE id = %s", (job_id,))
    cur.execute("SELECT pg_notify('jetl_progress', json_build_object('job_id', %s, 'tenant_id', 1,"
                " 'status', 'cancelled')::text)", (job_id,))
    t.join(10)
    pg.close()
    s.close()
    if len(got) < samples * 0.95:
        raise SystemExit("load test: only %d of %d probe events arrived" % (len(got), samples))
    return got


if __name__ == "__main__":
    main()
