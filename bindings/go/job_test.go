package jetl_test

import (
	"errors"
	"fmt"
	"strconv"
	"testing"

	jetl "github.com/jetl-project/jetl/bindings/go"
)

// The job calls: totals of a finished job, the job list, cancel of a
// running job from a second client (the job stops with ErrCancelled), and
// the sweep of a job whose process is gone.
func TestJobTotalsListCancelSweep(t *testing.T) {
	s := startSim(t)
	db := freshDB(t)
	client := open(t, simOptions(s, db))
	res, err := client.ExtractProject("GOA", jetl.ExtractOptions{Full: true})
	must(t, err, "ExtractProject")
	job, err := client.Job(res.JobID)
	must(t, err, "Job")
	n := int64(s.issues["GOA"])
	if job.Issues != n || job.WorkItems != n || job.RawRows != res.RawRows || job.Requests == 0 ||
		job.Requests != res.Requests || job.ChangelogItems == 0 {
		t.Fatalf("totals of job %d (%d issues): %+v (result %+v)", res.JobID, n, job, res)
	}
	if got := psql(t, db, "SELECT count(*) FROM changelogs"); got != strconv.FormatInt(job.ChangelogItems, 10) {
		t.Fatalf("job says %d changelog items, the table holds %s", job.ChangelogItems, got)
	}
	ids, err := client.Jobs(5)
	must(t, err, "Jobs")
	if len(ids) != 1 || ids[0] != res.JobID {
		t.Fatalf("Jobs: %v, want [%d]", ids, res.JobID)
	}
	if err := client.JobCancel(res.JobID); !errors.Is(err, jetl.ErrState) {
		t.Fatalf("JobCancel(finished): %v, want ErrState", err)
	}
	if err := client.JobCancel(1 << 50); !errors.Is(err, jetl.ErrNoEntry) {
		t.Fatalf("JobCancel(missing): %v, want ErrNoEntry", err)
	}

	// Cancel from another client while the job runs: the run stops at its
	// next progress event and the row says cancelled.
	other := open(t, simOptions(s, db))
	var running int64
	_, err = client.ExtractProject("GOB", jetl.ExtractOptions{Full: true, Progress: func(p jetl.Progress) bool {
		if running == 0 && p.PhaseName == "issues" {
			running = p.JobID
			must(t, other.JobCancel(running), "JobCancel(running)")
			must(t, other.JobCancel(running), "JobCancel(cancelled) again")
		}
		return false
	}})
	if !errors.Is(err, jetl.ErrCancelled) {
		t.Fatalf("extract after JobCancel: %v, want ErrCancelled", err)
	}
	if j, err := client.Job(running); err != nil || j.Status != jetl.JobCancelled {
		t.Fatalf("cancelled job: %+v, %v", j, err)
	}
	ids, err = client.Jobs(0)
	must(t, err, "Jobs")
	if len(ids) != 2 || ids[0] != running {
		t.Fatalf("Jobs after a second run: %v (newest should be %d)", ids, running)
	}

	// A job left running by a process that is gone (lease ran out).
	psql(t, db, fmt.Sprintf("UPDATE etl_job_queue SET status = 'running', finished_at = NULL,"+
		" lease_until = now() - interval '1 minute' WHERE id = %d", res.JobID))
	swept, err := client.JobSweep()
	must(t, err, "JobSweep")
	if j, _ := client.Job(res.JobID); swept != 1 || j.Status != jetl.JobFailed {
		t.Fatalf("sweep ended %d job(s); job now %q", swept, j.Status)
	}
}
