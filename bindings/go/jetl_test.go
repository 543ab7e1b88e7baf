package jetl_test

// Tests of the Go binding against the private PostgreSQL, RabbitMQ and the
// Jira simulator; run by scripts/test-bindings. Entry points the library
// does not implement yet skip only on JETL_ENOTIMPL, so they start running
// when the pipeline lands. No third-party modules: SQL goes through psql.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jetl "github.com/jetl-project/jetl/bindings/go"
)

const simUser, simToken = "bot@example.com", "sim-token"

var root = func() string {
	if r := os.Getenv("JETL_SOURCE_ROOT"); r != "" {
		return r
	}
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..")
}()

func dbURL(t testing.TB) string {
	db := os.Getenv("JETL_DB")
	if db == "" {
		t.Skip("JETL_DB is not set: run through scripts/test-bindings")
	}
	return db
}

// skipIfNotImplemented skips only for JETL_ENOTIMPL; any other error fails.
func must(t testing.TB, err error, what string) {
	t.Helper()
	if err == nil {
		return
	}
	if jetl.IsNotImplemented(err) {
		t.Skipf("not implemented in this build yet: %v", err)
	}
	t.Fatalf("%s: %v", what, err)
}

func psql(t testing.TB, conn, sql string) string {
	t.Helper()
	out, err := exec.Command("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-d", conn, "-c", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("psql %q: %v: %s", sql, err, out)
	}
	return strings.TrimSpace(string(out))
}

var dbSeq int

// freshDB creates an empty database owned by JETL_DB's user (dropped at the
// end of the test) through JETL_PG_ADMIN; without it JETL_DB is shared.
func freshDB(t testing.TB) string {
	base := dbURL(t)
	admin := os.Getenv("JETL_PG_ADMIN")
	if admin == "" {
		return base
	}
	dbSeq++
	name := fmt.Sprintf("jetl_go_%d_%d", os.Getpid(), dbSeq)
	user := psql(t, base, "SELECT current_user")
	psql(t, admin, fmt.Sprintf(`CREATE DATABASE "%s" OWNER "%s"`, name, user))
	t.Cleanup(func() { psql(t, admin, fmt.Sprintf(`DROP DATABASE IF EXISTS "%s" WITH (FORCE)`, name)) })
	// base is a URI (scripts/services): swap its path; a conninfo gets dbname=.
	if strings.Contains(base, "://") {
		re := regexp.MustCompile(`^([a-z]+://[^/]*)/[^?]*`)
		if re.MatchString(base) {
			return re.ReplaceAllString(base, "${1}/"+name)
		}
		return base + "/" + name
	}
	return base + " dbname=" + name
}

func open(t testing.TB, o jetl.Options) *jetl.Client {
	t.Helper()
	client, err := jetl.Open(o)
	must(t, err, "Open")
	t.Cleanup(func() { client.Close() })
	must(t, client.Migrate(), "Migrate")
	return client
}

func TestVersionAndStatuses(t *testing.T) {
	if !regexp.MustCompile(`^\d+\.\d+\.\d+`).MatchString(jetl.Version()) {
		t.Fatalf("version %q", jetl.Version())
	}
	if jetl.VersionNumber() <= 0 || jetl.SchemaVersion() <= 0 {
		t.Fatalf("version number %d, schema %d", jetl.VersionNumber(), jetl.SchemaVersion())
	}
	for s := jetl.StatusMin; s < 0; s++ {
		if !strings.HasPrefix(jetl.StatusName(s), "JETL_E") || jetl.StatusText(s) == "" {
			t.Fatalf("status %d: %q %q", s, jetl.StatusName(s), jetl.StatusText(s))
		}
	}
	err := error(&jetl.Error{Status: jetl.ECANCELLED, Message: "stopped"})
	if !errors.Is(err, jetl.ErrCancelled) || errors.Is(err, jetl.ErrAuth) {
		t.Fatal("errors.Is does not match on status")
	}
	var je *jetl.Error
	if !errors.As(fmt.Errorf("wrapped: %w", err), &je) || je.Message != "stopped" {
		t.Fatal("errors.As through a wrap")
	}
	if !(&jetl.Error{Status: jetl.ENETWORK}).Retriable() || (&jetl.Error{Status: jetl.EAUTH}).Retriable() {
		t.Fatal("Retriable")
	}
	if jetl.PhaseName(jetl.PhaseDevStatus) != "dev_status" {
		t.Fatal(jetl.PhaseName(jetl.PhaseDevStatus))
	}
}

func TestOpenMigrateClose(t *testing.T) {
	db := freshDB(t)
	client, err := jetl.Open(jetl.Options{DB: db, Tenant: 3, Integration: 4, Concurrency: 2, BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	if client.Tenant() != 3 || client.Integration() != 4 {
		t.Fatalf("tenant %d integration %d", client.Tenant(), client.Integration())
	}
	for i := 0; i < 2; i++ { // idempotent
		if err := client.Migrate(); err != nil {
			t.Fatal(err)
		}
	}
	n := psql(t, db, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('work_items','changelogs','dev_status','etl_job_queue','raw_extraction_data')")
	if n != "5" {
		t.Fatalf("%s of 5 tables", n)
	}
	client.Close()
	client.Close() // harmless
	client.WorkerStop()
	if err := client.Migrate(); !errors.Is(err, jetl.ErrClosed) {
		t.Fatalf("Migrate after Close: %v", err)
	}
}

func TestBadConnectionString(t *testing.T) {
	_, err := jetl.Open(jetl.Options{DB: "postgresql://jetl:SeCrEt-pw@127.0.0.1:1/nowhere", ConnectTimeout: 2 * time.Second})
	var je *jetl.Error
	if !errors.As(err, &je) {
		t.Fatalf("want *jetl.Error, got %v", err)
	}
	if je.Status != jetl.EDBCONN || !errors.Is(err, jetl.ErrDatabaseConnection) {
		t.Fatalf("status %d", je.Status)
	}
	if !strings.Contains(strings.ToLower(je.Message), "refused") {
		t.Fatalf("message lacks the cause: %q", je.Message)
	}
	if strings.Contains(err.Error(), "SeCrEt-pw") {
		t.Fatalf("message holds the password: %q", err.Error())
	}
}

func rssKiB(t testing.TB) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc")
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(s.Text())[1])
			return n
		}
	}
	return 0
}

func TestOpenCloseCyclesNoLeak(t *testing.T) {
	db := freshDB(t)
	cycle := func() {
		client, err := jetl.Open(jetl.Options{DB: db})
		if err != nil {
			t.Fatal(err)
		}
		client.Close()
	}
	for i := 0; i < 50; i++ {
		cycle()
	}
	runtime.GC()
	before := rssKiB(t)
	// 300 here (each open is a PostgreSQL log-in, ~60 ms); the Python suite runs 1000.
	const cycles = 300
	for i := 0; i < cycles; i++ {
		cycle()
	}
	runtime.GC()
	growth := rssKiB(t) - before
	t.Logf("%d open/close cycles: RSS %+d KiB", cycles, growth)
	if growth > 1024 {
		t.Fatalf("RSS grew by %d KiB", growth)
	}
}

// ---------------------------------------------------------------- pipeline

type simulator struct {
	url    string
	issues map[string]int
}

var (
	simOnce sync.Once
	sim     *simulator
	simErr  error
	simProc *exec.Cmd
)

func startSim(t testing.TB) *simulator {
	simOnce.Do(func() {
		dir, err := os.MkdirTemp("", "jetl-gosim-")
		if err != nil {
			simErr = err
			return
		}
		data, portFile := filepath.Join(dir, "data"), filepath.Join(dir, "port")
		projects := map[string]int{"GOA": 120, "GOB": 40}
		gen := exec.Command("/usr/bin/python3", filepath.Join(root, "sim", "gen.py"), "--out", data,
			"--projects", "GOA:120,GOB:40", "--seed", "11", "--long-every", "10")
		if out, err := gen.CombinedOutput(); err != nil {
			simErr = fmt.Errorf("gen.py: %v: %s", err, out)
			return
		}
		simProc = exec.Command("/usr/bin/python3", filepath.Join(root, "sim", "jirasim.py"), "--data", data,
			"--port", "0", "--port-file", portFile, "--user", simUser, "--token", simToken, "--quiet")
		if err := simProc.Start(); err != nil {
			simErr = err
			return
		}
		for i := 0; i < 600; i++ {
			if b, err := os.ReadFile(portFile); err == nil {
				sim = &simulator{url: "http://127.0.0.1:" + strings.TrimSpace(string(b)), issues: projects}
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		simErr = errors.New("the simulator did not start")
	})
	if simErr != nil {
		t.Fatal(simErr)
	}
	return sim
}

// queueURL is JETL_QUEUE (a private vhost), taken out of the environment:
// the library falls back to it when no queue is given, and the tests choose
// in-process by default and the queue where they ask for it.
var queueURL string

func TestMain(m *testing.M) {
	queueURL = os.Getenv("JETL_QUEUE")
	os.Unsetenv("JETL_QUEUE") // with cgo this reaches the C environment too
	code := m.Run()
	if simProc != nil && simProc.Process != nil {
		simProc.Process.Kill()
		simProc.Wait()
	}
	os.Exit(code)
}

func simOptions(s *simulator, db string) jetl.Options {
	return jetl.Options{DB: db, Tenant: 1, Integration: 1, JiraURL: s.url, JiraUser: simUser, JiraToken: simToken}
}

// digest is a fingerprint of what the transform wrote (minus run times and raw ids).
func digest(t testing.TB, db string) string {
	var parts []string
	for _, q := range []string{
		"SELECT count(*) || ':' || coalesce(md5(string_agg((to_jsonb(t) - 'synced_at' - 'raw_id')::text, ',' ORDER BY external_id)), '') FROM work_items t",
		"SELECT count(*) || ':' || coalesce(md5(string_agg(to_jsonb(t)::text, ',' ORDER BY history_id, item_index)), '') FROM changelogs t",
		"SELECT count(*) || ':' || coalesce(md5(string_agg((to_jsonb(t) - 'synced_at')::text, ',' ORDER BY work_item_external_id)), '') FROM dev_status t",
	} {
		parts = append(parts, psql(t, db, q))
	}
	return strings.Join(parts, " ")
}

func TestExtractProjectSameRowsAsCPath(t *testing.T) {
	s := startSim(t)
	db := freshDB(t)
	client := open(t, simOptions(s, db))
	phases := map[string]bool{}
	var last jetl.Progress
	res, err := client.ExtractProject("GOA", jetl.ExtractOptions{Full: true, Progress: func(p jetl.Progress) bool {
		phases[p.PhaseName] = true
		if p.Total != 0 && p.Done > p.Total {
			t.Errorf("done %d > total %d in %s", p.Done, p.Total, p.PhaseName)
		}
		last = p
		return false
	}})
	must(t, err, "ExtractProject")
	if res.Issues != int64(s.issues["GOA"]) || res.RawRows == 0 || res.JobID == 0 {
		t.Fatalf("result %+v", res)
	}
	for ph := jetl.PhaseDiscover; ph <= jetl.PhaseDone; ph++ {
		if !phases[jetl.PhaseName(ph)] {
			t.Errorf("phase %s never reported (saw %v)", jetl.PhaseName(ph), phases)
		}
	}
	if last.PhaseName != "done" {
		t.Errorf("last event in phase %s", last.PhaseName)
	}
	job, err := client.Job(res.JobID)
	must(t, err, "Job")
	if job.Status != jetl.JobFinished || job.ID != res.JobID {
		t.Fatalf("job %+v", job)
	}
	if _, err := client.Job(1 << 50); !errors.Is(err, jetl.ErrNoEntry) || errors.Is(err, jetl.ErrNotFound) {
		t.Fatalf("Job(missing): %v", err)
	}

	// The C path: the jetl command of the same build, another database.
	cli := filepath.Join(os.Getenv("JETL_BUILD_DIR"), "tools", "jetl")
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("no jetl command at %s (set JETL_BUILD_DIR; configure with -Dcli=true)", cli)
	}
	dbC := freshDB(t)
	for _, args := range [][]string{{"migrate"}, {"extract", "--project", "GOA", "--full", "--progress", "none"}} {
		cmd := exec.Command(cli, args...)
		cmd.Env = append(os.Environ(), "JETL_DB="+dbC, "JETL_QUEUE=", "JETL_JIRA_URL="+s.url,
			"JETL_JIRA_USER="+simUser, "JETL_JIRA_TOKEN="+simToken)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("jetl %v: %v: %s", args, err, out)
		}
	}
	if g, c := digest(t, db), digest(t, dbC); g != c {
		t.Fatalf("rows differ from the C path:\n go %s\n  C %s", g, c)
	}
	if !strings.HasPrefix(digest(t, db), strconv.Itoa(s.issues["GOA"])+":") {
		t.Fatalf("work_items: %s", digest(t, db))
	}
}

func TestExtractJobAndTransform(t *testing.T) {
	s := startSim(t)
	db := freshDB(t)
	client := open(t, simOptions(s, db))
	id, err := client.Extract([]string{"GOA", "GOB"}, jetl.ExtractOptions{Full: true})
	must(t, err, "Extract")
	job, err := client.Job(id)
	must(t, err, "Job")
	if job.Status != jetl.JobFinished {
		t.Fatalf("job %+v", job)
	}
	rawID, _ := strconv.ParseInt(psql(t, db, "SELECT min(id) FROM raw_extraction_data"), 10, 64)
	before := digest(t, db)
	tr, err := client.TransformBatch(rawID)
	must(t, err, "TransformBatch")
	if tr.RawID != rawID || tr.WorkItems == 0 {
		t.Fatalf("transform %+v", tr)
	}
	if after := digest(t, db); after != before {
		t.Fatalf("transform is not idempotent: %s vs %s", before, after)
	}
}

func TestCancelFromCallback(t *testing.T) {
	s := startSim(t)
	db := freshDB(t)
	client := open(t, simOptions(s, db))
	var after int
	cancelled := false
	_, err := client.ExtractProject("GOA", jetl.ExtractOptions{Full: true, Progress: func(p jetl.Progress) bool {
		if cancelled {
			after++
		}
		cancelled = cancelled || p.PhaseName == "issues"
		return cancelled
	}})
	if jetl.IsNotImplemented(err) {
		t.Skip(err)
	}
	if !errors.Is(err, jetl.ErrCancelled) {
		t.Fatalf("want ErrCancelled, got %v", err)
	}
	if after != 0 {
		t.Fatalf("%d callbacks after the cancel", after)
	}
	if n := psql(t, db, "SELECT count(*) FROM work_items"); n != "0" {
		t.Fatalf("%s work items after a cancel", n)
	}
}

func TestPanicInCallbackSurfaces(t *testing.T) {
	s := startSim(t)
	client := open(t, simOptions(s, freshDB(t)))
	type boom struct{ msg string }
	var got interface{}
	var err error
	func() {
		defer func() { got = recover() }()
		_, err = client.ExtractProject("GOB", jetl.ExtractOptions{Full: true, Progress: func(p jetl.Progress) bool {
			if p.PhaseName == "census" {
				panic(boom{"from the callback"})
			}
			return false
		}})
	}()
	if got == nil && jetl.IsNotImplemented(err) {
		t.Skip(err)
	}
	if b, ok := got.(boom); !ok || b.msg != "from the callback" {
		t.Fatalf("want the callback's panic, got %v (err %v)", got, err)
	}
	must(t, client.Migrate(), "Migrate after the panic") // the context still works
}

func TestWorkerStopFromAnotherGoroutine(t *testing.T) {
	s := startSim(t)
	o := simOptions(s, freshDB(t))
	o.Queue = queueURL
	client := open(t, o)
	done := make(chan error, 1)
	go func() { done <- client.WorkerRun(jetl.WorkerOptions{Threads: 2}) }()
	time.Sleep(500 * time.Millisecond)
	client.WorkerStop()
	select {
	case err := <-done:
		must(t, err, "WorkerRun")
	case <-time.After(20 * time.Second):
		t.Fatal("WorkerRun did not return after WorkerStop")
	}
}

func TestConcurrentContexts(t *testing.T) {
	db := freshDB(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				client, err := jetl.Open(jetl.Options{DB: db})
				if err != nil {
					errs <- err
					return
				}
				if err := client.Migrate(); err != nil {
					errs <- err
				}
				client.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestExample(t *testing.T) {
	s := startSim(t)
	db := freshDB(t)
	cmd := exec.Command("go", "run", ".", "GOB")
	cmd.Dir = filepath.Join(root, "examples", "go")
	cmd.Env = append(os.Environ(), "JETL_DB="+db, "JETL_QUEUE=", "JETL_JIRA_URL="+s.url,
		"JETL_JIRA_USER="+simUser, "JETL_JIRA_TOKEN="+simToken)
	out, err := cmd.CombinedOutput()
	if err != nil && strings.Contains(string(out), "JETL_ENOTIMPL") {
		t.Skipf("not implemented yet: %s", out)
	}
	if err != nil {
		t.Fatalf("examples/go: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "census") || !strings.Contains(string(out), fmt.Sprintf("%d issues", s.issues["GOB"])) {
		t.Fatalf("unexpected output:\n%s", out)
	}
}

func TestFieldMap(t *testing.T) {
	db := freshDB(t)
	// No implicit integration: without a row, the site is named by its URL.
	client := open(t, jetl.Options{DB: db, JiraURL: "http://127.0.0.1:9"})
	must(t, client.FieldMap("customfield_10016", 1), "FieldMap")
	if got := psql(t, db, "SELECT jira_field_id FROM custom_field_mappings WHERE slot = 1"); got != "customfield_10016" {
		t.Fatalf("slot 1 holds %q", got)
	}
	err := client.FieldMap("customfield_10016", 21)
	var je *jetl.Error
	if !errors.As(err, &je) || je.Status != jetl.EINVAL || je.Message == "" || client.LastError() != je.Message {
		t.Fatalf("slot 21: %v (last error %q)", err, client.LastError())
	}
	must(t, client.FieldMap("customfield_10016", 0), "FieldMap unmap")
}

func TestQueueDistributeAndWorkers(t *testing.T) {
	if queueURL == "" {
		t.Skip("JETL_QUEUE is not set (no RabbitMQ)")
	}
	s := startSim(t)
	db := freshDB(t)
	o := simOptions(s, db)
	o.Queue = queueURL
	client := open(t, o)
	id, err := client.Extract([]string{"GOB"}, jetl.ExtractOptions{Full: true, Distribute: true})
	must(t, err, "Extract")
	must(t, client.WorkerRun(jetl.WorkerOptions{UntilIdle: true, Distribute: true, Threads: 2}), "WorkerRun")
	job, err := client.Job(id)
	must(t, err, "Job")
	if job.Status != jetl.JobFinished {
		t.Fatalf("job %+v", job)
	}
	if n := psql(t, db, "SELECT count(*) FROM work_items"); n != strconv.Itoa(s.issues["GOB"]) {
		t.Fatalf("%s work items", n)
	}
}
