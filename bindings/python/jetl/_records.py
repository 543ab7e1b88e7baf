"""Results, progress events, jobs and fields: frozen dataclasses built
from what the C layer returns (value semantics, hashable, ``repr`` that
shows every field, ``dataclasses.asdict`` for JSON)."""

from __future__ import annotations

import dataclasses
import datetime
import functools
from typing import Any, Dict, FrozenSet, Mapping, Optional, Type, TypeVar, cast

from ._enums import JobStatus, Phase

_R = TypeVar("_R")


@functools.lru_cache(maxsize=None)
def _names(cls: Any) -> FrozenSet[str]:
    return frozenset(f.name for f in dataclasses.fields(cls))


def _build(cls: Type[_R], values: Mapping[str, Any]) -> _R:
    """cls(**values) keeping only cls's fields: a newer C layer may return
    more keys than this binding knows."""
    names = _names(cast(Any, cls))
    return cls(**{k: v for k, v in values.items() if k in names})


@dataclasses.dataclass(frozen=True)
class Progress:
    """One progress event of an extraction or a worker. Built for the
    callback; it stays valid after it (it copies everything)."""

    phase: Phase
    phase_name: str           #: jetl.phase_name(phase), e.g. "dev_status"
    done: int                 #: items done in this phase
    total: int                #: items expected in this phase; 0 = unknown
    job_id: int               #: 0 when the call runs outside a job
    project_key: Optional[str]  #: None for job-wide events
    step: int                 #: 1-based step of the job
    total_steps: int
    message: str              #: short human text
    elapsed: float            #: seconds since the call started


def _progress(**fields: Any) -> Progress:
    # The C trampoline calls this for each event (jetl_py_setup).
    fields["phase"] = Phase(fields["phase"])
    return _build(Progress, fields)


@dataclasses.dataclass(frozen=True)
class ExtractResult:
    """What ``extract_project`` did."""

    job_id: int
    issues: int                #: issues fetched
    histories: int             #: change histories fetched
    changelogs_completed: int  #: issues whose capped changelog was completed
    dev_status_fetched: int    #: issues whose dev status was fetched
    deleted: int               #: issues found gone from Jira and marked
    raw_rows: int              #: raw rows written
    transformed: int           #: raw rows transformed before the call returned
    requests: int              #: HTTP requests to Jira (retries included)
    retries: int               #: requests retried
    rate_limited: int          #: 429 answers received
    seconds: float             #: wall time of the call


@dataclasses.dataclass(frozen=True)
class TransformResult:
    """What ``transform_batch`` wrote for one raw row."""

    raw_id: int
    work_items: int
    changelog_items: int
    dev_status: int
    warnings: int
    seconds: float


def _time(value: Any) -> Optional[datetime.datetime]:
    # The C struct carries Unix seconds, 0 when unset.
    if not value:
        return None
    return datetime.datetime.fromtimestamp(float(value), tz=datetime.timezone.utc)


@dataclasses.dataclass(frozen=True)
class Job:
    """A job's ``etl_job_queue`` row. Times are aware UTC datetimes, None
    when unset; the totals grow as the run goes (0 from a libjetl that does
    not report them)."""

    id: int
    job_type: str
    status: JobStatus
    step: int
    total_steps: int
    step_name: str
    items_done: int
    items_total: int
    message: str
    error: str
    created_at: Optional[datetime.datetime]
    started_at: Optional[datetime.datetime]
    updated_at: Optional[datetime.datetime]
    finished_at: Optional[datetime.datetime]
    raw_pending: int       #: raw rows of the job not yet completed
    raw_failed: int        #: raw rows of the job that failed
    issues: int = 0        #: issues fetched
    histories: int = 0     #: change histories fetched
    changelog_items: int = 0
    dev_status: int = 0
    work_items: int = 0
    raw_rows: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    deleted: int = 0
    not_stored: int = 0      #: issues that could not be stored, still missing (``jetl errors``)
    future_dated: int = 0    #: issues whose ``updated`` was later than Jira's clock
    deleted_refused: int = 0  #: deletions a census was refused (more than half a project)
    projects_done: int = 0   #: projects whose extraction ended (step/total_steps are the five steps)
    projects_total: int = 0  #: the job's projects; 0 until discovered
    detail: str = ""         #: the phase's own text ("SVA: issues 50/100")

    @property
    def ended(self) -> bool:
        """True unless the job is queued or running."""
        return self.status.ended


def _job(values: Dict[str, Any]) -> Job:
    values = dict(values)
    values["status"] = JobStatus(values.get("status") or "")
    for key in ("created_at", "started_at", "updated_at", "finished_at"):
        values[key] = _time(values.get(key))
    for key in ("job_type", "step_name", "message", "error", "detail"):
        values[key] = values.get(key) or ""
    return _build(Job, values)


@dataclasses.dataclass(frozen=True)
class Field:
    """A synced Jira field and its slot (1..20 for a mapped custom field, 0 otherwise)."""

    id: str
    name: str
    type: str
    custom: bool
    slot: int
