package jetl

/*
#include <jetl.h>
*/
import "C"

import "time"

// Job is a job's etl_job_queue row. Times are the zero time.Time when unset.
// The totals (Issues … Deleted) grow as the run goes: the extracting process
// adds to them after each stored batch and the worker after each transformed
// raw row, so a running job shows them too.
type Job struct {
	ID         int64
	JobType    string
	Status     JobStatus
	Step       int
	TotalSteps int
	StepName   string
	ItemsDone  int64
	ItemsTotal int64
	Message    string
	Error      string
	CreatedAt  time.Time
	StartedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt time.Time
	RawPending int64 // raw rows of the job not yet completed
	RawFailed  int64 // raw rows of the job that failed

	Issues         int64 // issues fetched
	Histories      int64 // change histories fetched
	ChangelogItems int64 // changelog rows of the job's issues now stored
	DevStatus      int64 // dev_status rows written
	WorkItems      int64 // work_items rows written
	RawRows        int64 // raw rows written
	Requests       int64 // HTTP requests to Jira, retries included
	Retries        int64 // requests retried
	RateLimited    int64 // 429 answers received
	Deleted        int64 // issues found gone from Jira and marked

	ProjectsDone  int    // projects whose extraction ended (Step/TotalSteps are the five steps)
	ProjectsTotal int    // the job's projects; 0 until discovered
	Detail        string // the phase's own text ("SVA: issues 50/100")
}

// Job reads a job's status, progress and totals; ErrNoEntry when the
// client's tenant/integration has no such job.
func (c *Client) Job(id int64) (Job, error) {
	var j C.jetl_job
	j.version = C.JETL_JOB_VERSION
	if err := c.call(func(p *C.jetl_ctx) C.int { return C.jetl_job_get(p, C.int64_t(id), &j) }); err != nil {
		return Job{}, err
	}
	return Job{
		ID: int64(j.id), JobType: C.GoString(&j.job_type[0]), Status: JobStatus(C.GoString(&j.status[0])),
		Step: int(j.step), TotalSteps: int(j.total_steps), StepName: C.GoString(&j.step_name[0]),
		ItemsDone: int64(j.items_done), ItemsTotal: int64(j.items_total),
		Message: C.GoString(&j.message[0]), Error: C.GoString(&j.error[0]),
		CreatedAt: unixTime(j.created_at), StartedAt: unixTime(j.started_at),
		UpdatedAt: unixTime(j.updated_at), FinishedAt: unixTime(j.finished_at),
		RawPending: int64(j.raw_pending), RawFailed: int64(j.raw_failed),
		Issues: int64(j.issues), Histories: int64(j.histories), ChangelogItems: int64(j.changelog_items),
		DevStatus: int64(j.dev_status), WorkItems: int64(j.work_items), RawRows: int64(j.raw_rows),
		Requests: int64(j.requests), Retries: int64(j.retries), RateLimited: int64(j.rate_limited),
		Deleted:      int64(j.deleted),
		ProjectsDone: int(j.projects_done), ProjectsTotal: int(j.projects_total),
		Detail: C.GoString(&j.detail[0]),
	}, nil
}

// JobCancel cancels a queued or running job of the client's
// tenant/integration: its row becomes `cancelled` at once and whichever
// process runs it stops at its next batch (its call returns an
// ErrCancelled). Cancelling a cancelled job is not an error; a finished or
// failed one gives ErrState, an unknown one ErrNoEntry. Call it on another
// Client than the one running the job (a Client runs one call at a time).
func (c *Client) JobCancel(id int64) error {
	return errOf(c.call(func(p *C.jetl_ctx) C.int { return C.jetl_job_cancel(p, C.int64_t(id)) }))
}

// Jobs returns the ids of the client's tenant/integration's most recent
// jobs, newest first, at most limit of them (limit <= 0 means 20).
func (c *Client) Jobs(limit int) ([]int64, error) {
	if limit <= 0 {
		limit = 20
	}
	ids := make([]C.int64_t, limit)
	var n C.size_t
	if err := c.call(func(p *C.jetl_ctx) C.int {
		return C.jetl_job_list(p, &ids[0], C.size_t(limit), &n)
	}); err != nil {
		return nil, err
	}
	out := make([]int64, int(n))
	for i := range out {
		out[i] = int64(ids[i])
	}
	return out, nil
}

// JobSweep ends the running jobs whose process stopped (their lease ran
// out: killed, crashed, cut off) as failed and recovers the raw rows they
// left pending; it returns how many jobs it ended. Extract and WorkerRun
// sweep by themselves; call this from a scheduler or a service's start-up.
func (c *Client) JobSweep() (int64, error) {
	var n C.int64_t
	err := c.call(func(p *C.jetl_ctx) C.int { return C.jetl_job_sweep(p, &n) })
	return int64(n), errOf(err)
}
