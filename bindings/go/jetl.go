// Package jetl moves Jira issues, their complete change history and their
// development status into PostgreSQL. It binds the C library libjetl, found
// with pkg-config, and needs no other module:
//
//	import jetl "github.com/jetl-project/jetl/bindings/go"
//
//	client, err := jetl.Open(jetl.Options{DB: "postgresql://…",
//		JiraURL: "https://x.atlassian.net", JiraUser: "me@x.com", JiraToken: os.Getenv("JETL_JIRA_TOKEN")})
//	if err != nil { … }
//	defer client.Close()
//	res, err := client.ExtractProjectContext(ctx, "ABC", jetl.ExtractOptions{Progress: func(p jetl.Progress) bool {
//		fmt.Println(p.Phase, p.Done, p.Total)
//		return false // true cancels
//	}})
//
// Cancellation: ExtractProjectContext, ExtractContext and WorkerRunContext
// stop when their context is done, and then return an *Error with status
// ECANCELLED that wraps the context's error, so both errors.Is(err,
// context.Canceled) and errors.Is(err, ErrCancelled) hold; the job ends
// "cancelled" and the sync watermark does not move. An extraction notices the
// context at its next progress event (the C library reports after each Jira
// page and batch, and several times a second while it waits for
// transforms), so a stop waits at most for the Jira request in flight. A
// worker is stopped at once with jetl_worker_stop and returns once the
// message in hand is finished. A context that is done before the call starts
// creates no job. The progress callback can still cancel by returning true.
//
// Goroutines: a Client wraps one C context, which one thread may use at a
// time; the Client enforces it with a mutex held around every C call, so
// calls from several goroutines take turns (a call waits for the one in
// progress). WorkerStop is the exception: it may be called from any goroutine
// while another runs WorkerRun. Close stops a running worker and waits for
// the call in progress. A progress callback must not call its own Client (C
// forbids re-entering a context): such a call returns ErrState at once
// rather than deadlocking. Separate Clients are independent.
//
// Errors are *Error values carrying the C status and the C library's
// one-line message; errors.Is(err, jetl.ErrCancelled) and errors.As work, and
// there is one Err* sentinel per C status. The progress callback runs on the
// goroutine that made the call (on the same OS thread); a panic in it cancels
// the call and is re-raised from it.
package jetl

/*
#cgo pkg-config: jetl
#include <stdlib.h>
#include <jetl.h>

void jetl_go_extract_progress(jetl_extract_options *o, uintptr_t handle);
void jetl_go_worker_progress(jetl_worker_options *o, uintptr_t handle);
uint64_t jetl_go_thread(void);
*/
import "C"

import (
	"context"
	"math"
	"runtime"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Version is the C library's version string ("0.1.0").
func Version() string { return C.GoString(C.jetl_version()) }

// VersionNumber is major*10000 + minor*100 + patch.
func VersionNumber() int { return int(C.jetl_version_number()) }

// SchemaVersion is the schema version the library writes.
func SchemaVersion() int { return int(C.jetl_schema_version()) }

// ----------------------------------------------------------------- options

// Options of Open: every jetl_options field. Zero values mean the library's
// default; empty strings come from the environment as in C (JETL_DB,
// JETL_JIRA_URL, JETL_JIRA_USER, JETL_JIRA_TOKEN, JETL_QUEUE; no queue
// means in-process).
type Options struct {
	DB             string
	Tenant         int // default 1
	Integration    int // default 1
	JiraURL        string
	JiraUser       string
	JiraToken      string        // secret: never logged
	JiraAuth       Auth          // AuthBasic (default; bearer when no user) or AuthBearer
	JiraFlavor     Flavor        // FlavorAuto (default), FlavorCloud, FlavorServer
	Queue          string        // amqp://…
	Concurrency    int           // Jira requests in flight; default 8
	ConnectTimeout time.Duration // default 10s; rounded up to milliseconds
	RequestTimeout time.Duration // whole request; default 120s; rounded up to milliseconds
	MaxAttempts    int           // per request, the first included; default 6
	BatchSize      int           // issues per raw row; default 100
	LogLevel       LogLevel      // highest level passed on; default LogInfo
}

// Progress is one progress event.
type Progress struct {
	JobID      int64
	ProjectKey string // "" for job-wide events
	Phase      Phase
	PhaseName  string // Phase.String()
	Step       int
	TotalSteps int
	Done       int64
	Total      int64 // 0 = unknown
	Message    string
	Elapsed    time.Duration // since the call started
}

// ExtractOptions of ExtractProject and Extract.
type ExtractOptions struct {
	Full        bool   // ignore the sync watermark
	JQL         string // extra JQL, ANDed with the project
	Distribute  bool   // Extract: publish one extract message per project for workers
	Wait        bool   // with a queue: return when every raw row is transformed
	WaitSeconds int    // with Wait: give up after this many seconds (0: no limit), the job failed
	NoDevStatus bool   // skip dev status
	// Progress, if set, is called on the calling goroutine; true cancels.
	Progress func(Progress) bool
}

// WorkerOptions of WorkerRun. Zero values mean the library's defaults.
type WorkerOptions struct {
	Threads       int // default 1
	UntilIdle     bool
	IdleTimeout   time.Duration // with UntilIdle: how long the queues stay empty; default 2s
	Distribute    bool          // also consume extract messages
	Prefetch      int           // default 4
	MaxDeliveries int           // default 3
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
	Duration            time.Duration // wall time
}

// TransformResult of TransformBatch.
type TransformResult struct {
	RawID          int64
	WorkItems      int64
	ChangelogItems int64
	DevStatus      int64
	Warnings       int64
	Duration       time.Duration
}

// ------------------------------------------------------------------ client

// Client is an open jetl context: a PostgreSQL connection, the Jira and queue
// settings and a tenant. See the package comment for which goroutine may call
// what.
type Client struct {
	mu     sync.Mutex // held around every C call on ptr except jetl_worker_stop
	stopMu sync.Mutex // guards ptr for WorkerStop, which must not wait for mu
	ptr    *C.jetl_ctx

	tenant, integration int
	closed              atomic.Bool
	closing             chan struct{} // closed by Close: a running worker stops
	closeOnce           sync.Once
	// cbThread is the OS thread running this Client's progress callback
	// (0 when none), to tell a re-entrant call from a concurrent one.
	cbThread atomic.Uint64
}

// Context is the former name of Client.
//
// Deprecated: use Client; the name clashed with context.Context in
// signatures such as ExtractProjectContext(ctx context.Context, …).
type Context = Client

// cstr returns a C copy of s, or NULL for "" (meaning: from the environment).
func cstr(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

// millis converts a positive duration to whole milliseconds, rounding up so
// that a sub-millisecond value does not become 0 (the default).
func millis(d time.Duration) C.int {
	if d <= 0 {
		return C.int(d / time.Millisecond)
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > math.MaxInt32 {
		ms = math.MaxInt32
	}
	return C.int(ms)
}

func seconds(s C.double) time.Duration {
	return time.Duration(math.Round(float64(s) * float64(time.Second)))
}

// unixTime converts Unix seconds (0 = unset) to a time.Time, to the microsecond.
func unixTime(s C.double) time.Time {
	if s == 0 {
		return time.Time{}
	}
	sec := math.Floor(float64(s))
	return time.Unix(int64(sec), int64(math.Round((float64(s)-sec)*1e6))*1000)
}

// Open connects to PostgreSQL and returns a Client. On failure the error
// carries libpq's reason (never the password).
func Open(o Options) (*Client, error) {
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
	setInt(&opts.jira_auth, int(o.JiraAuth))
	setInt(&opts.jira_flavor, int(o.JiraFlavor))
	setInt(&opts.concurrency, o.Concurrency)
	setInt(&opts.connect_timeout_ms, int(millis(o.ConnectTimeout)))
	setInt(&opts.request_timeout_ms, int(millis(o.RequestTimeout)))
	setInt(&opts.max_attempts, o.MaxAttempts)
	setInt(&opts.batch_size, o.BatchSize)
	setInt(&opts.log_level, int(o.LogLevel))

	var ptr *C.jetl_ctx
	var errbuf [512]C.char
	if rc := C.jetl_open_err(&ptr, &opts, &errbuf[0], C.size_t(len(errbuf))); rc != 0 {
		return nil, newError(rc, C.GoString(&errbuf[0]))
	}
	c := &Client{ptr: ptr, closing: make(chan struct{}),
		tenant: int(C.jetl_tenant_id(ptr)), integration: int(C.jetl_integration_id(ptr))}
	// A forgotten Close must not leak the connection.
	runtime.SetFinalizer(c, (*Client).Close)
	return c, nil
}

// Close stops a running worker, waits for the call in progress and frees
// the C context. Closing twice is harmless. Close from the Client's own
// progress callback returns ErrState and closes nothing.
func (c *Client) Close() error {
	if c == nil {
		return nil
	}
	if c.inOwnCallback() {
		return errReentered
	}
	c.closeOnce.Do(func() { close(c.closing) })
	c.WorkerStop()
	c.mu.Lock()
	c.stopMu.Lock()
	ptr := c.ptr
	c.ptr = nil
	c.closed.Store(true)
	c.stopMu.Unlock()
	c.mu.Unlock()
	if ptr != nil {
		C.jetl_close(ptr)
		runtime.SetFinalizer(c, nil)
	}
	return nil
}

var errReentered = &Error{Status: ESTATE,
	Message: "a progress callback called its own Client (a C context is not re-entrant)"}

// inOwnCallback reports whether the calling goroutine is inside this
// Client's progress callback. The callback runs on the thread of the C call,
// which runs nothing else meanwhile, so the thread tells.
func (c *Client) inOwnCallback() bool {
	t := c.cbThread.Load()
	return t != 0 && t == uint64(C.jetl_go_thread())
}

// lock takes mu for one C call; it fails with ErrClosed on a closed Client
// and with ErrState when called from the Client's own progress callback
// (which runs while mu is held: waiting would deadlock).
func (c *Client) lock() error {
	if !c.mu.TryLock() {
		if c.inOwnCallback() {
			return errReentered
		}
		c.mu.Lock()
	}
	if c.ptr == nil {
		c.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// call runs f on the live context with mu held; a negative status becomes
// an *Error with the context's message, read before anyone else can call.
func (c *Client) call(f func(p *C.jetl_ctx) C.int) *Error {
	if err := c.lock(); err != nil {
		return err.(*Error)
	}
	defer c.mu.Unlock()
	if rc := f(c.ptr); rc < 0 {
		return newError(rc, C.GoString(C.jetl_last_error(c.ptr)))
	}
	return nil
}

// errOf keeps a nil *Error from becoming a non-nil error.
func errOf(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}

// LastError is the message of the last failure on this Client ("" when none).
func (c *Client) LastError() string {
	if c.lock() != nil {
		return ""
	}
	defer c.mu.Unlock()
	return C.GoString(C.jetl_last_error(c.ptr))
}

// Tenant of the Client (0 when closed).
func (c *Client) Tenant() int {
	if c.closed.Load() {
		return 0
	}
	return c.tenant
}

// Integration of the Client (0 when closed).
func (c *Client) Integration() int {
	if c.closed.Load() {
		return 0
	}
	return c.integration
}

// Migrate creates or upgrades the schema; idempotent.
func (c *Client) Migrate() error {
	return errOf(c.call(func(p *C.jetl_ctx) C.int { return C.jetl_migrate(p) }))
}

// callState carries a progress callback and a context through C as a
// cgo.Handle for one call.
type callState struct {
	c        *Client
	fn       func(Progress) bool
	ctx      context.Context // nil when the context can never be done
	ctxErr   error           // set when the context cancelled the call
	panicked bool
	panicVal interface{}
}

// errNotStarted is the error of a …Context call whose context was done
// before it began.
func errNotStarted(err error) error {
	return &Error{Status: ECANCELLED, Message: "not started: the context is done", cause: err}
}

// withProgress registers fn and ctx (either may be absent) for one call
// through a cgo.Handle; the handle is deleted, a panic of fn re-raised and
// a cancel by ctx attached to the error when the call returns.
func (c *Client) withProgress(ctx context.Context, fn func(Progress) bool, run func(h C.uintptr_t) *Error) error {
	if ctx.Done() == nil {
		ctx = nil
	}
	if fn == nil && ctx == nil {
		return errOf(run(0))
	}
	st := &callState{c: c, fn: fn, ctx: ctx}
	h := cgo.NewHandle(st)
	e := run(C.uintptr_t(h))
	h.Delete()
	if st.panicked {
		panic(st.panicVal)
	}
	// A cancel asked too late (the work was complete) leaves the call's
	// result alone; only the cancel the context caused wraps its error.
	if e != nil && e.Status == ECANCELLED && st.ctxErr != nil {
		e.cause = st.ctxErr
	}
	return errOf(e)
}

func (o *ExtractOptions) toC(h C.uintptr_t) (C.jetl_extract_options, *C.char) {
	var opts C.jetl_extract_options
	C.jetl_extract_options_init(&opts, C.JETL_EXTRACT_OPTIONS_VERSION)
	opts.full = cbool(o.Full)
	opts.distribute = cbool(o.Distribute)
	opts.wait = cbool(o.Wait)
	opts.wait_seconds = C.int(o.WaitSeconds)
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

func checkContext(ctx context.Context) error {
	if ctx == nil {
		return &Error{Status: EINVAL, Message: "nil context.Context"}
	}
	if err := ctx.Err(); err != nil {
		return errNotStarted(err)
	}
	return nil
}

// ExtractProject extracts one project: issues, complete changelogs, dev
// status. It is ExtractProjectContext with context.Background().
func (c *Client) ExtractProject(key string, o ExtractOptions) (Result, error) {
	return c.ExtractProjectContext(context.Background(), key, o)
}

// ExtractProjectContext extracts one project: issues, complete changelogs,
// dev status. It stops when ctx is done: the error then wraps ctx.Err() and
// is an ErrCancelled, and the job ends cancelled. The Result holds the job id
// and the counts so far also when the call fails after the job was created.
// A context done after the work completed does not undo it: the call
// returns its result.
func (c *Client) ExtractProjectContext(ctx context.Context, key string, o ExtractOptions) (Result, error) {
	if err := checkContext(ctx); err != nil {
		return Result{}, err
	}
	var res C.jetl_extract_result
	res.version = C.JETL_EXTRACT_RESULT_VERSION
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	err := c.withProgress(ctx, o.Progress, func(h C.uintptr_t) *Error {
		opts, jql := o.toC(h)
		defer C.free(unsafe.Pointer(jql))
		return c.call(func(p *C.jetl_ctx) C.int { return C.jetl_extract_project(p, ckey, &opts, &res) })
	})
	return Result{
		JobID: int64(res.job_id), Issues: int64(res.issues), Histories: int64(res.histories),
		ChangelogsCompleted: int64(res.changelogs_completed), DevStatusFetched: int64(res.dev_status_fetched),
		Deleted: int64(res.deleted), RawRows: int64(res.raw_rows), Transformed: int64(res.transformed),
		Requests: int64(res.requests), Retries: int64(res.retries), RateLimited: int64(res.rate_limited),
		Duration: seconds(res.seconds),
	}, err
}

// Extract runs a job over several projects (every visible one when keys is
// empty) and returns its id, also on failure when the job was created. It is
// ExtractContext with context.Background().
func (c *Client) Extract(keys []string, o ExtractOptions) (int64, error) {
	return c.ExtractContext(context.Background(), keys, o)
}

// ExtractContext is Extract that stops when ctx is done, as
// ExtractProjectContext does. With Wait or Distribute it also stops waiting
// for the workers; the job ends cancelled.
func (c *Client) ExtractContext(ctx context.Context, keys []string, o ExtractOptions) (int64, error) {
	if err := checkContext(ctx); err != nil {
		return 0, err
	}
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
	err := c.withProgress(ctx, o.Progress, func(h C.uintptr_t) *Error {
		opts, jql := o.toC(h)
		defer C.free(unsafe.Pointer(jql))
		return c.call(func(p *C.jetl_ctx) C.int {
			return C.jetl_extract(p, ckeys, C.size_t(len(keys)), &opts, &jobID)
		})
	})
	return int64(jobID), err
}

// TransformBatch transforms one raw row into the final tables; idempotent.
func (c *Client) TransformBatch(rawID int64) (TransformResult, error) {
	var res C.jetl_transform_result
	res.version = C.JETL_TRANSFORM_RESULT_VERSION
	err := c.call(func(p *C.jetl_ctx) C.int { return C.jetl_transform_batch(p, C.int64_t(rawID), &res) })
	return TransformResult{RawID: int64(res.raw_id), WorkItems: int64(res.work_items),
		ChangelogItems: int64(res.changelog_items), DevStatus: int64(res.dev_status),
		Warnings: int64(res.warnings), Duration: seconds(res.seconds)}, errOf(err)
}

// WorkerRun consumes queue messages until WorkerStop or Close (or idle, if
// asked); it then returns nil. It is WorkerRunContext with
// context.Background().
func (c *Client) WorkerRun(o WorkerOptions) error {
	return c.WorkerRunContext(context.Background(), o)
}

// WorkerRunContext consumes queue messages until ctx is done, WorkerStop or
// Close (or idle, if asked). When ctx ends it, the message in hand is
// finished first and the error wraps ctx.Err() (and is an ErrCancelled);
// WorkerStop, Close and idleness end it with nil.
func (c *Client) WorkerRunContext(ctx context.Context, o WorkerOptions) error {
	if err := checkContext(ctx); err != nil {
		return err
	}
	var opts C.jetl_worker_options
	C.jetl_worker_options_init(&opts, C.JETL_WORKER_OPTIONS_VERSION)
	set := func(dst *C.int, v int) {
		if v != 0 {
			*dst = C.int(v)
		}
	}
	set(&opts.threads, o.Threads)
	set(&opts.idle_ms, int(millis(o.IdleTimeout)))
	set(&opts.prefetch, o.Prefetch)
	set(&opts.max_deliveries, o.MaxDeliveries)
	opts.until_idle = cbool(o.UntilIdle)
	opts.distribute = cbool(o.Distribute)
	// The worker is stopped by a goroutine (watchStop), not by the progress
	// callback: the callback runs every 100 ms only while threads are alive.
	var ctxErr error
	err := c.withProgress(context.Background(), o.Progress, func(h C.uintptr_t) *Error {
		if h != 0 {
			C.jetl_go_worker_progress(&opts, h)
		}
		return c.call(func(p *C.jetl_ctx) C.int {
			end := c.watchStop(ctx, p)
			rc := C.jetl_worker_run(p, &opts)
			ctxErr = end()
			return rc
		})
	})
	if ctxErr == nil {
		return err
	}
	// A worker stopped by jetl_worker_stop returns JETL_OK; a stop caused
	// by the context is a cancel. A failure of its own stays as it is.
	if err == nil {
		return &Error{Status: ECANCELLED, Message: "worker: stopped: the context is done", cause: ctxErr}
	}
	if e := err.(*Error); e.Status == ECANCELLED {
		e.cause = ctxErr
	}
	return err
}

// watchStop starts a goroutine that stops the worker on p when ctx is done
// or the Client is closing; end waits for it and reports ctx's error if ctx
// stopped the worker. p stays valid meanwhile: the caller holds mu, which
// Close needs before freeing it.
func (c *Client) watchStop(ctx context.Context, p *C.jetl_ctx) (end func() error) {
	done, exited := make(chan struct{}), make(chan struct{})
	var ctxErr error
	go func() {
		defer close(exited)
		select {
		case <-ctx.Done():
			ctxErr = ctx.Err()
		case <-c.closing:
		case <-done:
			return
		}
		// jetl_worker_run clears a stop that arrives before it starts, so
		// repeat the stop until the run returns.
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			C.jetl_worker_stop(p)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() error {
		close(done)
		<-exited
		return ctxErr
	}
}

// WorkerStop asks WorkerRun to return; safe from any goroutine, harmless
// when no worker runs or the Client is closed. It does not take the lock of
// the other calls: jetl_worker_stop is async-signal-safe.
func (c *Client) WorkerStop() {
	if c == nil {
		return
	}
	c.stopMu.Lock()
	defer c.stopMu.Unlock()
	if c.ptr != nil {
		C.jetl_worker_stop(c.ptr)
	}
}

// FieldsSync reads Jira's field list into jira_fields; returns the count.
func (c *Client) FieldsSync() (int64, error) {
	var n C.int64_t
	err := c.call(func(p *C.jetl_ctx) C.int { return C.jetl_fields_sync(p, &n) })
	return int64(n), errOf(err)
}

// FieldMap puts a custom field in slot 1..20 (0 unmaps it).
func (c *Client) FieldMap(fieldID string, slot int) error {
	cid := C.CString(fieldID)
	defer C.free(unsafe.Pointer(cid))
	return errOf(c.call(func(p *C.jetl_ctx) C.int { return C.jetl_field_map(p, cid, C.int(slot)) }))
}
