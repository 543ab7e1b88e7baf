#!/usr/bin/env python3
"""Extract Jira projects into PostgreSQL through the jetl Python binding,
printing progress as it goes.

    JETL_DB=postgresql://… JETL_JIRA_URL=https://x.atlassian.net \\
    JETL_JIRA_USER=me@x.com JETL_JIRA_TOKEN=… \\
    examples/python/extract.py ABC [DEF…] [--full]

with jetl installed (pip install . from the checkout), or with
PYTHONPATH=build/bindings/python and the interpreter the build was made for.
Connection settings come from the environment (as for the jetl command);
without JETL_QUEUE the rows are transformed in-process before it returns.
Exit codes as the jetl command: 0 done, 1 failed, 2 usage, 3 cancelled (Ctrl-C).
"""
from __future__ import annotations

import os
import sys
from typing import List

import jetl


def show(p: jetl.Progress) -> bool:
    total = "/%d" % p.total if p.total else ""
    where = p.project_key or "*"
    print("[%6.2fs] %-4s %-10s %d%s %s" % (p.elapsed, where, p.phase_name, p.done, total, p.message),
          flush=True)
    return False   # True would cancel


def main(argv: List[str]) -> int:
    keys = [a for a in argv if not a.startswith("-")]
    full = "--full" in argv
    if not keys or any(a not in ("--full",) for a in argv if a.startswith("-")):
        print((__doc__ or "").strip(), file=sys.stderr)
        return 2
    try:
        with jetl.open(db=os.environ.get("JETL_DB"), queue=os.environ.get("JETL_QUEUE") or None) as client:
            client.migrate()
            for key in keys:
                r = client.extract_project(key, full=full, progress=show)
                job = client.job(r.job_id)
                print("%s: %d issues, %d histories, %d raw rows, %d requests in %.2fs (job %d %s)"
                      % (key, r.issues, r.histories, r.raw_rows, r.requests, r.seconds,
                         r.job_id, job.status), flush=True)
    except jetl.CancelledError as e:
        print("jetl: %s" % e, file=sys.stderr)
        return 3
    except jetl.Error as e:
        print("jetl: %s" % e, file=sys.stderr)   # message (JETL_E…)
        return 1
    except KeyboardInterrupt:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
