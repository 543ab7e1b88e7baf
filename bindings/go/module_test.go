package jetl_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// goEnv keeps the go tool off the network: nothing may be fetched.
func goEnv(extra ...string) []string {
	return append(append(os.Environ(), "GOPROXY=off", "GOSUMDB=off", "GOTOOLCHAIN=local",
		"GOWORK=off", "GOFLAGS=-mod=mod"), extra...)
}

const consumerMain = `package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	jetl "github.com/jetl-project/jetl/bindings/go"
)

func main() {
	client, err := jetl.Open(jetl.Options{})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	defer client.Close()
	if err := client.Migrate(); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	half := make(chan struct{})
	go func() { <-half; cancel() }() // another goroutine cancels, as a caller would
	var once sync.Once
	res, err := client.ExtractProjectContext(ctx, os.Args[1], jetl.ExtractOptions{Full: true,
		Progress: func(p jetl.Progress) bool {
			if p.Phase == jetl.PhaseDevStatus && p.Done > 0 {
				once.Do(func() { close(half) })
				select { // hold this event until the cancel lands: no timing in the test
				case <-ctx.Done():
				case <-time.After(20 * time.Second):
				}
			}
			return false
		}})
	fmt.Printf("job=%d canceled=%v cancelled=%v err=%v\n", res.JobID,
		errors.Is(err, context.Canceled), errors.Is(err, jetl.ErrCancelled), err)
}
`

// A module outside the repository requires the package through a replace
// (as a checkout would), builds and cancels an extraction half-way.
func TestExternalModuleCancel(t *testing.T) {
	s := startSim(t)
	db := freshDB(t)
	pkg, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mod := "module example.com/consumer\n\ngo 1.19\n\nrequire github.com/jetl-project/jetl/bindings/go v0.0.0\n\n" +
		"replace github.com/jetl-project/jetl/bindings/go => " + pkg + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(consumerMain), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", "consumer", ".")
	build.Dir, build.Env = dir, goEnv()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build in a module outside the repository: %v\n%s", err, out)
	}
	run := exec.Command(filepath.Join(dir, "consumer"), "GOA")
	run.Env = append(os.Environ(), "JETL_DB="+db, "JETL_QUEUE=", "JETL_JIRA_URL="+s.url,
		"JETL_JIRA_USER="+simUser, "JETL_JIRA_TOKEN="+simToken)
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("consumer: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`job=(\d+) canceled=true cancelled=true`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("want a cancel wrapping context.Canceled, got:\n%s", out)
	}
	if st := psql(t, db, "SELECT status FROM etl_job_queue WHERE id = "+m[1]); st != "cancelled" {
		t.Fatalf("job %s is %q, want cancelled (%s)", m[1], st, strings.TrimSpace(string(out)))
	}
}
