// Package jetl moves Jira issues, their complete change history and their
// development status into PostgreSQL. It binds the C library
// libjetl, found with pkg-config:
//
//	ctx, err := jetl.Open(jetl.Options{DB: "postgresql://…", Tenant: 1, Integration: 1,
//		JiraURL: "https://x.atlassian.net", JiraUser: "me@x.com", JiraToken: os.Getenv("JETL_JIRA_TOKEN")})
//	if err != nil { … }
//	defer ctx.Close()
//	res, err := ctx.ExtractProject("ABC", jetl.ExtractOptions{Progress: func(p jetl.Progress) bool {
//		fmt.Println(p.PhaseName, p.Done, p.Total)
//		return false // true cancels
//	}})
//
// Goroutines: a Context is used by one goroutine at a time, like the C
// context it wraps; separate Contexts are independent. WorkerStop is the
// exception: call it from any goroutine while another runs WorkerRun. Close
// stops a running worker and waits for the call in progress.
//
// Errors are *Error values carrying the C status and the C library's
// one-line message; errors.Is(err, jetl.ErrCancelled) and errors.As work.
// The progress callback runs on the goroutine that made the call (on the
// same OS thread); returning true cancels the call (ErrCancelled), and a
// panic in it cancels the call and is re-raised from it.
package jetl

/*
#cgo pkg-config: jetl
#include <stdlib.h>
#include <jetl.h>

void jetl_go_extract_progress(jetl_extract_options *o, uintptr_t handle);
void jetl_go_worker_progress(jetl_worker_options *o, uintptr_t handle);
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Status codes of the C library (jetl_status); never renumbered.
const (
	OK         = int(C.JETL_OK)
	EERROR     = int(C.JETL_ERROR)
	EINVAL     = int(C.JETL_EINVAL)
	EVERSION   = int(C.JETL_EVERSION)
	ENOMEM     = int(C.JETL_ENOMEM)
	ENOTIMPL   = int(C.JETL_ENOTIMPL)
	EDBCONN    = int(C.JETL_EDBCONN)
	EDB        = int(C.JETL_EDB)
	ESCHEMA    = int(C.JETL_ESCHEMA)
	EQUEUE     = int(C.JETL_EQUEUE)
	ENETWORK   = int(C.JETL_ENETWORK)
	ETIMEOUT   = int(C.JETL_ETIMEOUT)
	EAUTH      = int(C.JETL_EAUTH)
	EFORBIDDEN = int(C.JETL_EFORBIDDEN)
	ENOTFOUND  = int(C.JETL_ENOTFOUND)
	EGONE      = int(C.JETL_EGONE)
	ERATELIMIT = int(C.JETL_ERATELIMIT)
	EHTTP      = int(C.JETL_EHTTP)
	EPROTOCOL  = int(C.JETL_EPROTOCOL)
	EDATA      = int(C.JETL_EDATA)
	ECANCELLED = int(C.JETL_ECANCELLED)
	ESTATE     = int(C.JETL_ESTATE)
	ENOENT     = int(C.JETL_ENOENT)
	ECONFIG    = int(C.JETL_ECONFIG)
	EIO        = int(C.JETL_EIO)
	// StatusMin is the lowest status the library can return.
	StatusMin = int(C.JETL_STATUS_MIN)
)

// Phases of a job, in the order they usually run.
const (
	PhaseDiscover   = int(C.JETL_PHASE_DISCOVER)
	PhaseCensus     = int(C.JETL_PHASE_CENSUS)
	PhaseIssues     = int(C.JETL_PHASE_ISSUES)
	PhaseChangelogs = int(C.JETL_PHASE_CHANGELOGS)
	PhaseDevStatus  = int(C.JETL_PHASE_DEV_STATUS)
	PhaseStore      = int(C.JETL_PHASE_STORE)
	PhaseQueue      = int(C.JETL_PHASE_QUEUE)
	PhaseTransform  = int(C.JETL_PHASE_TRANSFORM)
	PhaseDone       = int(C.JETL_PHASE_DONE)
)

// Jira authentication schemes and flavors (Options.JiraAuth, Options.JiraFlavor).
const (
	AuthBasic    = int(C.JETL_AUTH_BASIC)
	AuthBearer   = int(C.JETL_AUTH_BEARER)
	FlavorAuto   = int(C.JETL_FLAVOR_AUTO)
	FlavorCloud  = int(C.JETL_FLAVOR_CLOUD)
	FlavorServer = int(C.JETL_FLAVOR_SERVER)
)

// Log levels (syslog's order).
const (
	LogError   = int(C.JETL_LOG_ERROR)
	LogWarning = int(C.JETL_LOG_WARNING)
	LogInfo    = int(C.JETL_LOG_INFO)
	LogDebug   = int(C.JETL_LOG_DEBUG)
)

// Version is the C library's version string ("0.1.0").
func Version() string { return C.GoString(C.jetl_version()) }

// VersionNumber is major*10000 + minor*100 + patch.
func VersionNumber() int { return int(C.jetl_version_number()) }

// SchemaVersion is the schema version the library writes.
func SchemaVersion() int { return int(C.jetl_schema_version()) }

// StatusText is the static one-line message of a status.
func StatusText(status int) string { return C.GoString(C.jetl_strerror(C.int(status))) }

// StatusName is the symbolic name of a status ("JETL_EAUTH").
func StatusName(status int) string { return C.GoString(C.jetl_status_name(C.int(status))) }

// PhaseName is the lower-case name of a phase ("census").
func PhaseName(phase int) string { return C.GoString(C.jetl_phase_name(C.int(phase))) }

// ------------------------------------------------------------------ errors

// Error is a failed call: the negative C status and the C library's message.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("jetl: %s (%s)", e.Message, StatusName(e.Status))
}

// Is matches another *Error with the same status whose message is empty
// (the Err* sentinels) or equal.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status && (t.Message == "" || t.Message == e.Message)
}

// Retriable reports whether the same call may succeed later.
func (e *Error) Retriable() bool { return C.jetl_status_is_retriable(C.int(e.Status)) != 0 }

// Sentinels for errors.Is.
var (
	ErrInvalid        = &Error{Status: EINVAL}
	ErrVersion        = &Error{Status: EVERSION}
	ErrNotImplemented = &Error{Status: ENOTIMPL}
	ErrDBConnection   = &Error{Status: EDBCONN}
	ErrDB             = &Error{Status: EDB}
	ErrSchema         = &Error{Status: ESCHEMA}
	ErrQueue          = &Error{Status: EQUEUE}
	ErrNetwork        = &Error{Status: ENETWORK}
	ErrTimeout        = &Error{Status: ETIMEOUT}
	ErrAuth           = &Error{Status: EAUTH}
	ErrForbidden      = &Error{Status: EFORBIDDEN}
	ErrRateLimit      = &Error{Status: ERATELIMIT}
	ErrData           = &Error{Status: EDATA}
	ErrCancelled      = &Error{Status: ECANCELLED}
	ErrState          = &Error{Status: ESTATE}
	ErrNotFound       = &Error{Status: ENOENT}
	ErrConfig         = &Error{Status: ECONFIG}
	// ErrClosed is returned by calls on a closed Context.
	ErrClosed = &Error{Status: ESTATE, Message: "context is closed"}
)

func newError(status C.int, msg string) error {
	if msg == "" {
		msg = StatusText(int(status))
	}
	return &Error{Status: int(status), Message: msg}
}

// ----------------------------------------------------------------- options

// Options of Open: every jetl_options field. Zero values mean the library's
// default; empty strings come from the environment as in C (JETL_DB,
// JETL_JIRA_URL, JETL_JIRA_USER, JETL_JIRA_TOKEN, JETL_QUEUE; no queue
// means in-process).
type Options struct {
	DB               string
	Tenant           int // default 1
	Integration      int // default 1
	JiraURL          string
	JiraUser         string
	JiraToken        string // secret: never logged
	JiraAuth         int    // AuthBasic (default; bearer when no user) or AuthBearer
	JiraFlavor       int    // FlavorAuto (default), FlavorCloud, FlavorServer
	Queue            string // amqp://…
	Concurrency      int    // Jira requests in flight; default 8
	ConnectTimeoutMs int    // default 10000
	RequestTimeoutMs int    // default 120000
	MaxAttempts      int    // default 6
	BatchSize        int    // issues per raw row; default 100
	LogLevel         int    // highest level passed on; default LogInfo
}

// Progress is one progress event.
type Progress struct {
	JobID      int64
	ProjectKey string
	Phase      int
	PhaseName  string
	Step       int
	TotalSteps int
	Done       int64
	Total      int64 // 0 = unknown
	Message    string
	Elapsed    float64 // seconds since the call started
}

// ExtractOptions of ExtractProject and Extract.
type ExtractOptions struct {
	Full        bool   // ignore the sync watermark
	JQL         string // extra JQL, ANDed with the project
	Distribute  bool   // Extract: publish one extract message per project for workers
	Wait        bool   // with a queue: return when every raw row is transformed
	NoDevStatus bool   // skip dev status
	Progress    func(Progress) bool
}

// WorkerOptions of WorkerRun. Zero values mean the library's defaults.
type WorkerOptions struct {
	Threads       int // default 1
	UntilIdle     bool
	IdleMs        int // default 2000
	Distribute    bool
	Prefetch      int // default 4
	MaxDeliveries int // default 3
	Progress      func(Progress) bool
}

// Result of ExtractProject.
type Result struct {
	JobID               int64
	Issues              int64
	Histories           int64
	ChangelogsCompleted int64
	DevStatusFetched    int64
	Deleted             int64
	RawRows             int64
	Transformed         int64
	Requests            int64
	Retries             int64
	RateLimited         int64
	Seconds             float64
}

// TransformResult of TransformBatch.
type TransformResult struct {
	RawID          int64
	WorkItems      int64
	ChangelogItems int64
	DevStatus      int64
	Warnings       int64
	Seconds        float64
}

// Job is a job's etl_job_queue row (times in Unix seconds, 0 when unset).
type Job struct {
	ID         int64
	JobType    string
	Status     string // queued|running|finished|failed|cancelled
	Step       int
	TotalSteps int
	StepName   string
	ItemsDone  int64
	ItemsTotal int64
	Message    string
	Error      string
	CreatedAt  float64
	StartedAt  float64
	UpdatedAt  float64
	FinishedAt float64
	RawPending int64
	RawFailed  int64
}

// ----------------------------------------------------------------- context

// Context is an open jetl context.
type Context struct {
	mu  sync.RWMutex // calls hold it shared; Close exclusively
	ptr *C.jetl_ctx
}

// cstr returns a C copy of s, or NULL for "" (meaning: from the environment).
func cstr(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

// Open connects to PostgreSQL and returns a Context. On failure the error
// carries libpq's reason (never the password).
func Open(o Options) (*Context, error) {
	var opts C.jetl_options
	if rc := C.jetl_options_init(&opts, C.JETL_OPTIONS_VERSION); rc != 0 {
		return nil, newError(rc, "")
	}
	strs := []*C.char{cstr(o.DB), cstr(o.JiraURL), cstr(o.JiraUser), cstr(o.JiraToken), cstr(o.Queue)}
	defer func() {
		for _, s := range strs {
			C.free(unsafe.Pointer(s))
		}
	}()
	opts.db, opts.jira_url, opts.jira_user, opts.jira_token, opts.queue_url = strs[0], strs[1], strs[2], strs[3], strs[4]
	setInt := func(dst *C.int, v int) {
		if v != 0 {
			*dst = C.int(v)
		}
	}
	setInt(&opts.tenant_id, o.Tenant)
	setInt(&opts.integration_id, o.Integration)
	setInt(&opts.jira_auth, o.JiraAuth)
	setInt(&opts.jira_flavor, o.JiraFlavor)
	setInt(&opts.concurrency, o.Concurrency)
	setInt(&opts.connect_timeout_ms, o.ConnectTimeoutMs)
	setInt(&opts.request_timeout_ms, o.RequestTimeoutMs)
	setInt(&opts.max_attempts, o.MaxAttempts)
	setInt(&opts.batch_size, o.BatchSize)
	setInt(&opts.log_level, o.LogLevel)

	var ptr *C.jetl_ctx
	var errbuf [512]C.char
	if rc := C.jetl_open_err(&ptr, &opts, &errbuf[0], C.size_t(len(errbuf))); rc != 0 {
		return nil, newError(rc, C.GoString(&errbuf[0]))
	}
	ctx := &Context{ptr: ptr}
	// A forgotten Close must not leak the connection.
	runtime.SetFinalizer(ctx, (*Context).Close)
	return ctx, nil
}

// Close stops a running worker, waits for the call in progress and frees
// the context. Closing twice is harmless.
func (c *Context) Close() error {
	if c == nil {
		return nil
	}
	c.WorkerStop()
	c.mu.Lock()
	ptr := c.ptr
	c.ptr = nil
	c.mu.Unlock()
	if ptr != nil {
		C.jetl_close(ptr)
		runtime.SetFinalizer(c, nil)
	}
	return nil
}

// call runs f on the live context, or returns ErrClosed.
func (c *Context) call(f func(p *C.jetl_ctx) C.int) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return ErrClosed
	}
	if rc := f(c.ptr); rc < 0 {
		return newError(rc, C.GoString(C.jetl_last_error(c.ptr)))
	}
	return nil
}

// LastError is the message of the last failure on this context ("" when none).
func (c *Context) LastError() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return ""
	}
	return C.GoString(C.jetl_last_error(c.ptr))
}

// Tenant and Integration of the context (0 when closed).
func (c *Context) Tenant() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return int(C.jetl_tenant_id(c.ptr))
}

func (c *Context) Integration() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return int(C.jetl_integration_id(c.ptr))
}

// Migrate creates or upgrades the schema; idempotent.
func (c *Context) Migrate() error {
	return c.call(func(p *C.jetl_ctx) C.int { return C.jetl_migrate(p) })
}

// callState carries a Go progress callback through C as a cgo.Handle.
type callState struct {
	fn       func(Progress) bool
	panicked bool
	panicVal interface{}
}

// withProgress registers fn (if any) for one call; the handle is deleted
// and a panic of fn re-raised when the call returns.
func withProgress(fn func(Progress) bool, run func(h C.uintptr_t) error) error {
	if fn == nil {
		return run(0)
	}
	st := &callState{fn: fn}
	h := cgo.NewHandle(st)
	err := run(C.uintptr_t(h))
	h.Delete()
	if st.panicked {
		panic(st.panicVal)
	}
	return err
}

func (o *ExtractOptions) toC(h C.uintptr_t) (C.jetl_extract_options, *C.char) {
	var opts C.jetl_extract_options
	C.jetl_extract_options_init(&opts, C.JETL_EXTRACT_OPTIONS_VERSION)
	opts.full = cbool(o.Full)
	opts.distribute = cbool(o.Distribute)
	opts.wait = cbool(o.Wait)
	opts.dev_status = cbool(!o.NoDevStatus)
	jql := cstr(o.JQL)
	opts.jql = jql
	if h != 0 {
		C.jetl_go_extract_progress(&opts, h)
	}
	return opts, jql
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// ExtractProject extracts one project: issues, complete changelogs, dev status.
func (c *Context) ExtractProject(key string, o ExtractOptions) (Result, error) {
	var res C.jetl_extract_result
	res.version = C.JETL_EXTRACT_RESULT_VERSION
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	err := withProgress(o.Progress, func(h C.uintptr_t) error {
		opts, jql := o.toC(h)
		defer C.free(unsafe.Pointer(jql))
		return c.call(func(p *C.jetl_ctx) C.int { return C.jetl_extract_project(p, ckey, &opts, &res) })
	})
	return Result{
		JobID: int64(res.job_id), Issues: int64(res.issues), Histories: int64(res.histories),
		ChangelogsCompleted: int64(res.changelogs_completed), DevStatusFetched: int64(res.dev_status_fetched),
		Deleted: int64(res.deleted), RawRows: int64(res.raw_rows), Transformed: int64(res.transformed),
		Requests: int64(res.requests), Retries: int64(res.retries), RateLimited: int64(res.rate_limited),
		Seconds: float64(res.seconds),
	}, err
}

// Extract runs a job over several projects (every visible one when keys is
// empty) and returns its id, also on failure when the job was created.
func (c *Context) Extract(keys []string, o ExtractOptions) (int64, error) {
	ckeys := (**C.char)(C.calloc(C.size_t(len(keys)+1), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	arr := unsafe.Slice(ckeys, len(keys)+1)
	for i, k := range keys {
		arr[i] = C.CString(k)
	}
	defer func() {
		for _, s := range arr {
			C.free(unsafe.Pointer(s))
		}
		C.free(unsafe.Pointer(ckeys))
	}()
	var jobID C.int64_t
	err := withProgress(o.Progress, func(h C.uintptr_t) error {
		opts, jql := o.toC(h)
		defer C.free(unsafe.Pointer(jql))
		return c.call(func(p *C.jetl_ctx) C.int {
			return C.jetl_extract(p, ckeys, C.size_t(len(keys)), &opts, &jobID)
		})
	})
	return int64(jobID), err
}

// TransformBatch transforms one raw row into the final tables; idempotent.
func (c *Context) TransformBatch(rawID int64) (TransformResult, error) {
	var res C.jetl_transform_result
	res.version = C.JETL_TRANSFORM_RESULT_VERSION
	err := c.call(func(p *C.jetl_ctx) C.int { return C.jetl_transform_batch(p, C.int64_t(rawID), &res) })
	return TransformResult{RawID: int64(res.raw_id), WorkItems: int64(res.work_items),
		ChangelogItems: int64(res.changelog_items), DevStatus: int64(res.dev_status),
		Warnings: int64(res.warnings), Seconds: float64(res.seconds)}, err
}

// WorkerRun consumes queue messages until WorkerStop (or idle, if asked).
func (c *Context) WorkerRun(o WorkerOptions) error {
	var opts C.jetl_worker_options
	C.jetl_worker_options_init(&opts, C.JETL_WORKER_OPTIONS_VERSION)
	set := func(dst *C.int, v int) {
		if v != 0 {
			*dst = C.int(v)
		}
	}
	set(&opts.threads, o.Threads)
	set(&opts.idle_ms, o.IdleMs)
	set(&opts.prefetch, o.Prefetch)
	set(&opts.max_deliveries, o.MaxDeliveries)
	opts.until_idle = cbool(o.UntilIdle)
	opts.distribute = cbool(o.Distribute)
	return withProgress(o.Progress, func(h C.uintptr_t) error {
		if h != 0 {
			C.jetl_go_worker_progress(&opts, h)
		}
		return c.call(func(p *C.jetl_ctx) C.int { return C.jetl_worker_run(p, &opts) })
	})
}

// WorkerStop asks WorkerRun to return; safe from any goroutine, harmless
// when no worker runs or the context is closed.
func (c *Context) WorkerStop() {
	if c == nil {
		return
	}
	// A pending Close holds (or waits for) the lock and stops the worker itself.
	if !c.mu.TryRLock() {
		return
	}
	defer c.mu.RUnlock()
	if c.ptr != nil {
		C.jetl_worker_stop(c.ptr)
	}
}

// Job reads a job's status and progress.
func (c *Context) Job(id int64) (Job, error) {
	var j C.jetl_job
	j.version = C.JETL_JOB_VERSION
	if err := c.call(func(p *C.jetl_ctx) C.int { return C.jetl_job_get(p, C.int64_t(id), &j) }); err != nil {
		return Job{}, err
	}
	return Job{
		ID: int64(j.id), JobType: C.GoString(&j.job_type[0]), Status: C.GoString(&j.status[0]),
		Step: int(j.step), TotalSteps: int(j.total_steps), StepName: C.GoString(&j.step_name[0]),
		ItemsDone: int64(j.items_done), ItemsTotal: int64(j.items_total),
		Message: C.GoString(&j.message[0]), Error: C.GoString(&j.error[0]),
		CreatedAt: float64(j.created_at), StartedAt: float64(j.started_at),
		UpdatedAt: float64(j.updated_at), FinishedAt: float64(j.finished_at),
		RawPending: int64(j.raw_pending), RawFailed: int64(j.raw_failed),
	}, nil
}

// FieldsSync reads Jira's field list into jira_fields; returns the count.
func (c *Context) FieldsSync() (int64, error) {
	var n C.int64_t
	err := c.call(func(p *C.jetl_ctx) C.int { return C.jetl_fields_sync(p, &n) })
	return int64(n), err
}

// FieldMap puts a custom field in slot 1..20 (0 unmaps it).
func (c *Context) FieldMap(fieldID string, slot int) error {
	cid := C.CString(fieldID)
	defer C.free(unsafe.Pointer(cid))
	return c.call(func(p *C.jetl_ctx) C.int { return C.jetl_field_map(p, cid, C.int(slot)) })
}

// IsNotImplemented reports whether err is the library's JETL_ENOTIMPL.
func IsNotImplemented(err error) bool { return errors.Is(err, ErrNotImplemented) }
