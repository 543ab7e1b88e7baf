"""jetl.web's raw-data endpoints: what the extraction stored before the
transform (raw_extraction_data), as the CLI shows it (`jetl status --job`,
`jetl transform --raw-id`), for the page and for scripts.

    GET  /raw?job_id=&status=&type=&limit=&before_id=   newest first, no raw data
    GET  /raw/{raw_id}?data=false                       one row, its size, its issue errors
    POST /raw/{raw_id}/retry                            transform a failed row again

Every row is the token's tenant's: another tenant's id is a 404, like an
unknown one. A retry runs the transform in the service's process (as
`jetl transform --raw-id` does), whatever queue the service uses, and
answers with the row after it: 200 when it is now completed, 422 with the
cause when it failed again, 409 when the row is not failed (a pending row
belongs to a worker; a completed one has nothing to retry).
"""
from typing import Optional

from fastapi import Depends, Path, Query

import jetl

RAW_STATUSES = ("pending", "processing", "completed", "failed")
RAW_COLS = ("r.id, r.tenant_id, r.integration_id, r.job_id, r.type, r.project_key, r.status, r.item_count,"
            " r.error, r.attempts, r.created_at, r.processed_at, r.active")
LIST_SQL = ("SELECT " + RAW_COLS + " FROM raw_extraction_data r WHERE r.tenant_id = %s"
            " AND (%s::bigint IS NULL OR r.job_id = %s::bigint)"
            " AND (%s::text IS NULL OR r.status = %s::text)"
            " AND (%s::text IS NULL OR r.type = %s::text)"
            " AND (%s::bigint IS NULL OR r.id < %s::bigint)"
            " ORDER BY r.id DESC LIMIT %s")
COUNT_SQL = ("SELECT r.status, count(*) AS n FROM raw_extraction_data r WHERE r.tenant_id = %s"
             " AND (%s::bigint IS NULL OR r.job_id = %s::bigint)"
             " AND (%s::text IS NULL OR r.type = %s::text) GROUP BY r.status")
# octet_length reads the whole value: only for one row
ONE_SQL = ("SELECT " + RAW_COLS + ", octet_length(r.raw_data::text) AS bytes"
           " FROM raw_extraction_data r WHERE r.tenant_id = %s AND r.id = %s")
DATA_SQL = "SELECT r.raw_data::text AS raw_data FROM raw_extraction_data r WHERE r.tenant_id = %s AND r.id = %s"
ERRORS_SQL = ("SELECT external_id, key, position, error, created_at FROM issue_errors"
              " WHERE tenant_id = %s AND integration_id = %s AND raw_id = %s ORDER BY position LIMIT 200")


def install(r, svc, tenant_dep, blocking, err):
    """Add the raw-data endpoints to the router r (jetl.web.router calls it)."""

    async def one(tenant, raw_id):
        row = await blocking(svc.query, ONE_SQL, (tenant, raw_id), True)
        if row is None:
            raise err(404, "raw row %d not found" % raw_id)
        return row

    @r.get("/raw", summary="Raw rows (what the extraction stored), newest first, without their data")
    async def raw_list(tenant: int = Depends(tenant_dep), job_id: Optional[int] = Query(None, ge=1),
                       status: Optional[str] = Query(None), type: Optional[str] = Query(None, max_length=64),
                       limit: int = Query(50, ge=1, le=500), before_id: Optional[int] = Query(None, ge=1)):
        if status is not None and status not in RAW_STATUSES:
            raise err(400, "status must be one of %s" % ", ".join(RAW_STATUSES))
        rows = await blocking(svc.query, LIST_SQL, (tenant, job_id, job_id, status, status, type, type,
                                                    before_id, before_id, limit))
        counts = await blocking(svc.query, COUNT_SQL, (tenant, job_id, job_id, type, type))
        return {"raw": rows, "counts": {c["status"]: c["n"] for c in counts},
                "next_before_id": rows[-1]["id"] if len(rows) == limit else None}

    @r.get("/raw/{raw_id}", summary="One raw row: its state, size and issue errors (its data with ?data=true)")
    async def raw_show(raw_id: int = Path(..., ge=1), tenant: int = Depends(tenant_dep),
                       data: bool = Query(False)):
        row = await one(tenant, raw_id)
        row["issue_errors"] = await blocking(svc.query, ERRORS_SQL, (tenant, row["integration_id"], raw_id))
        if data:
            row["raw_data"] = (await blocking(svc.query, DATA_SQL, (tenant, raw_id), True))["raw_data"]
        return row

    @r.post("/raw/{raw_id}/retry", summary="Transform a failed raw row again")
    async def raw_retry(raw_id: int = Path(..., ge=1), tenant: int = Depends(tenant_dep)):
        row = await one(tenant, raw_id)
        if row["status"] != "failed":
            raise err(409, "raw row %d is %s: only a failed row is retried" % (raw_id, row["status"]))

        def run():
            with svc.ctx(tenant, row["integration_id"]) as ctx:
                return ctx.transform_batch(raw_id)
        try:
            res = await blocking(run)
        except jetl.DataError as e:
            after = await one(tenant, raw_id)
            raise err(422, "raw row %d failed again: %s" % (raw_id, (after.get("error") or e.message)[:500]))
        after = await one(tenant, raw_id)
        after["result"] = {"work_items": res.work_items, "changelog_items": res.changelog_items,
                           "dev_status": res.dev_status, "seconds": round(res.seconds, 3)}
        return after
