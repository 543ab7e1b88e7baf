"""jetl.web.metrics: GET /metrics of the service, in the Prometheus text
format, with Debian's python3-prometheus-client (a collector that reads the
database at each scrape: nothing is counted in the service's memory, so every
replica of the service and a restart report the same figures).

The figures are the bearer token's tenant's (a scraper authenticates like any
client: ``authorization: {credentials_file: …}`` in Prometheus' scrape
config), labelled by tenant and integration:

- the job totals summed over all the tenant's jobs (``etl_job_queue.totals``:
  ``jetl_issues_total``, ``jetl_histories_total``, ``jetl_changelog_items_total``,
  ``jetl_dev_status_total``, ``jetl_requests_total``, ``jetl_retries_total``,
  ``jetl_rate_limited_total`` (429s), ... one counter per key, so a counter
  added to the totals later is exported without a change here);
- ``jetl_jobs{status}``, ``jetl_raw_rows_by_status{status}`` (pending counts those being
  processed: the messages in flight), ``jetl_job_duration_seconds`` (histogram
  of the finished jobs), ``jetl_last_success_timestamp_seconds`` and, per
  project, ``jetl_project_last_success_timestamp_seconds`` (when its watermark
  last moved, i.e. its last successful run).

``jetl worker --metrics-listen`` serves the same names for its tenant and
integration (docs/deploy.md, 'Monitoring').
"""
import re

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response

try:
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
except ImportError:   # /metrics says so (501); the rest of the router works without it
    CollectorRegistry = None

# The job durations' buckets in seconds (as the worker's: tools/jetl/metrics.c).
BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 14400)

HELP = {
    "issues": "Issues fetched from Jira",
    "histories": "Change histories fetched",
    "changelog_items": "Changelog rows stored",
    "dev_status": "dev_status rows written",
    "work_items": "work_items rows written",
    "raw_rows": "Raw rows written",
    "requests": "HTTP requests to Jira, retries included",
    "retries": "HTTP requests to Jira retried",
    "rate_limited": "429 answers from Jira",
    "deleted": "Issues found gone from Jira and marked",
}
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")

TOTALS_SQL = ("SELECT j.integration_id, t.key, sum(t.value::numeric)::bigint"
              " FROM etl_job_queue j, jsonb_each_text(j.totals) t"
              " WHERE j.tenant_id = %s AND t.value ~ '^[0-9]+$' GROUP BY 1, 2 ORDER BY 1, 2")
STATUS_SQL = ("SELECT integration_id, status, count(*) FROM etl_job_queue WHERE tenant_id = %s"
              " GROUP BY 1, 2 ORDER BY 1, 2")
RAW_SQL = ("SELECT integration_id, CASE WHEN status = 'processing' THEN 'pending' ELSE status END,"
           " count(*) FROM raw_extraction_data WHERE tenant_id = %s AND active GROUP BY 1, 2 ORDER BY 1, 2")
# (the columns are named: Service.query() gives each row as a dict)
DURATION_SQL = ("SELECT integration_id, " + ", ".join(
    "count(*) FILTER (WHERE d <= %d) AS le_%d" % (b, b) for b in BUCKETS) +
    ", count(*) AS n, coalesce(sum(d), 0) AS total, max(extract(epoch FROM finished_at)) AS last_end"
    " FROM (SELECT integration_id, finished_at, greatest(0, extract(epoch FROM finished_at"
    " - coalesce(started_at, created_at))) AS d FROM etl_job_queue"
    " WHERE tenant_id = %s AND status = 'finished' AND finished_at IS NOT NULL) f GROUP BY 1 ORDER BY 1")
PROJECT_SQL = ("SELECT integration_id, project_key, extract(epoch FROM updated_at) FROM sync_state"
               " WHERE tenant_id = %s AND watermark IS NOT NULL ORDER BY 1, 2")

LABELS = ["tenant", "integration"]


class JobCollector:
    """prometheus_client collector of one tenant's figures; svc.query is the
    router's database access (blocking)."""

    def __init__(self, svc, tenant):
        self.svc, self.tenant = svc, tenant

    def rows(self, sql):
        return [tuple(r.values()) for r in self.svc.query(sql, (self.tenant,))]

    def collect(self):
        t = str(self.tenant)
        totals = {}
        for integration, key, value in self.rows(TOTALS_SQL):
            if NAME_RE.match(key):
                totals.setdefault(key, []).append(([t, str(integration)], value))
        for key in sorted(set(totals) | set(HELP)):
            c = CounterMetricFamily("jetl_" + key, HELP.get(key, "Job totals: " + key), labels=LABELS)
            for labels, value in totals.get(key, []):
                c.add_metric(labels, value)
            yield c
        jobs = GaugeMetricFamily("jetl_jobs", "Jobs by status", labels=LABELS + ["status"])
        integrations = set()
        for integration, status, n in self.rows(STATUS_SQL):
            jobs.add_metric([t, str(integration), status], n)
            integrations.add(integration)
        yield jobs
        raw = GaugeMetricFamily("jetl_raw_rows_by_status", "Raw rows by status (pending: waiting or being"
                                " transformed)", labels=LABELS + ["status"])
        counts = {(i, st): n for i, st, n in self.rows(RAW_SQL)}
        for integration in sorted(integrations | {i for i, _ in counts}):
            for status in ("completed", "failed", "pending"):   # 0 too: an alert on failed needs the series
                raw.add_metric([t, str(integration), status], counts.get((integration, status), 0))
        yield raw
        yield from self.durations(t)
        proj = GaugeMetricFamily("jetl_project_last_success_timestamp_seconds",
                                 "When the project's watermark last moved (its last successful run)",
                                 labels=LABELS + ["project"])
        for integration, key, at in self.rows(PROJECT_SQL):
            proj.add_metric([t, str(integration), key], float(at))
        yield proj

    def durations(self, t):
        h = HistogramMetricFamily("jetl_job_duration_seconds", "Duration of the finished jobs",
                                  labels=LABELS)
        last = GaugeMetricFamily("jetl_last_success_timestamp_seconds", "End of the last finished job",
                                 labels=LABELS)
        for row in self.rows(DURATION_SQL):
            integration, counts = str(row[0]), row[1:1 + len(BUCKETS)]
            count, total, end = row[1 + len(BUCKETS):]
            buckets = [(str(b), n) for b, n in zip(BUCKETS, counts)] + [("+Inf", count)]
            h.add_metric([t, integration], buckets, float(total))
            last.add_metric([t, integration], float(end))
        yield h
        yield last


def router(svc, tenant_dep, blocking):
    """GET /metrics (included by jetl.web.router(), beside the API): the
    token's tenant's figures. tenant_dep: the router's bearer-token
    dependency; blocking: how it runs a blocking call (503 when the database
    is away)."""
    r = APIRouter()

    def render(tenant):
        registry = CollectorRegistry(auto_describe=False)
        registry.register(JobCollector(svc, tenant))
        return generate_latest(registry)

    @r.get("/metrics", summary="Prometheus metrics of the token's tenant",
           response_class=Response)
    async def metrics(tenant: int = Depends(tenant_dep)):
        if CollectorRegistry is None:
            raise HTTPException(501, "metrics need python3-prometheus-client")
        return Response(await blocking(render, tenant), media_type=CONTENT_TYPE_LATEST)

    return r
