#!/usr/bin/env python3
"""Extract a Jira project from asyncio code: the event loop stays free (a
ticker keeps printing while C works), progress arrives on the loop, and a
deadline cancels the extraction through the C cancel path.

    JETL_DB=postgresql://… JETL_JIRA_URL=… JETL_JIRA_USER=… JETL_JIRA_TOKEN=… \\
    examples/python/aextract.py ABC [--timeout SECONDS] [--full]

Exit codes: 0 done, 1 failed, 2 usage, 3 cancelled (the deadline passed:
the job ends 'cancelled', and the next run reads those issues again).
"""
from __future__ import annotations

import asyncio
import os
import sys
from typing import List, Optional

import jetl


class Watch:
    """Progress on the loop's thread: counts events, remembers the job."""

    def __init__(self) -> None:
        self.events = 0
        self.job_id = 0
        self.phase: Optional[jetl.Phase] = None

    def __call__(self, p: jetl.Progress) -> None:
        self.events += 1
        self.job_id = p.job_id or self.job_id
        if p.phase is not self.phase:
            self.phase = p.phase
            print("phase %-10s %s" % (p.phase_name, p.message), flush=True)


async def ticker(period: float) -> None:
    n = 0
    while True:
        await asyncio.sleep(period)
        n += 1
        print("tick %d (the loop is free)" % n, flush=True)


async def run(key: str, full: bool, timeout: Optional[float]) -> int:
    watch = Watch()
    async with await jetl.aopen(db=os.environ.get("JETL_DB"),
                                queue=os.environ.get("JETL_QUEUE") or None) as client:
        await asyncio.get_running_loop().run_in_executor(None, client.migrate)
        tick = asyncio.ensure_future(ticker(0.5))
        try:
            r = await asyncio.wait_for(client.aextract_project(key, full=full, progress=watch),
                                       timeout)
        except asyncio.TimeoutError:
            job = await asyncio.get_running_loop().run_in_executor(None, client.job, watch.job_id)
            print("%s: cancelled after %.1fs, job %d %s" % (key, timeout or 0, job.id, job.status),
                  flush=True)
            return 3
        finally:
            tick.cancel()
        print("%s: %d issues, %d raw rows in %.2fs, %d progress events (job %d)"
              % (key, r.issues, r.raw_rows, r.seconds, watch.events, r.job_id), flush=True)
    return 0


def main(argv: List[str]) -> int:
    keys = [a for a in argv if not a.startswith("-")]
    timeout: Optional[float] = None
    if "--timeout" in argv:
        i = argv.index("--timeout")
        try:
            timeout = float(argv[i + 1])
        except (IndexError, ValueError):
            keys = []
        else:
            keys.remove(argv[i + 1])
    if len(keys) != 1:
        print((__doc__ or "").strip(), file=sys.stderr)
        return 2
    try:
        return asyncio.run(run(keys[0], "--full" in argv, timeout))
    except jetl.Error as e:
        print("jetl: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
