"""GET /issue-errors: the issues a transform could not store and that are
still missing (the ``issue_errors`` table, docs/design.md), newest first,
for the tenant of the token. The page lists them in a section of its own.

Query: ``integration_id`` (default: every integration of the tenant),
``project_key``, ``limit`` (1..1000, default 100). Answer::

    {"total": 1, "issue_errors": [{"integration_id": 1, "external_id": "100003",
      "key": "WM-4", "project_key": "WM", "raw_id": 5, "job_id": 2,
      "error": "issue 100003 (WM-4): field 'issuetype': …", "created_at": "…"}]}

`jetl errors --retry` (or the next incremental extraction) reads them again.
"""
from typing import Optional

from fastapi import Depends, Query

# The project of a record is its raw row's; one record per issue (a new
# failure replaces the older one).
SQL = ("SELECT e.integration_id, e.external_id, e.key, r.project_key, e.raw_id, r.job_id, e.error,"
       " e.created_at, count(*) OVER () AS total"
       " FROM issue_errors e LEFT JOIN raw_extraction_data r ON r.id = e.raw_id"
       " WHERE e.tenant_id = %s AND (%s::int IS NULL OR e.integration_id = %s::int)"
       " AND (%s::text IS NULL OR r.project_key = %s::text)"
       " ORDER BY e.created_at DESC, e.external_id LIMIT %s")


def add_routes(r, svc, tenant_dep, blocking, respond):
    """Add the endpoint to router r (jetl.web.router's helpers: the service,
    the token's tenant, the thread hop, the JSON response class)."""

    @r.get("/issue-errors", summary="Issues that could not be stored, newest first")
    async def issue_errors(tenant: int = Depends(tenant_dep), integration_id: Optional[int] = Query(None, ge=1),
                           project_key: Optional[str] = Query(None, min_length=1, max_length=64),
                           limit: int = Query(100, ge=1, le=1000)):
        rows = await blocking(svc.query, SQL, (tenant, integration_id, integration_id, project_key,
                                               project_key, limit))
        total = rows[0]["total"] if rows else 0
        for row in rows:
            del row["total"]
        return respond({"total": total, "issue_errors": rows})
