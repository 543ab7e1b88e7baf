// Command extract runs an extraction through the jetl Go binding and
// prints progress as it goes.
//
//	JETL_DB=postgresql://… JETL_JIRA_URL=https://x.atlassian.net \
//	JETL_JIRA_USER=me@x.com JETL_JIRA_TOKEN=… \
//	PKG_CONFIG_PATH=build/meson-uninstalled go run ./examples/go ABC [DEF…]
//
// Connection settings come from the environment (as for the jetl command);
// without JETL_QUEUE the rows are transformed in-process before it returns.
// Ctrl-C cancels through the progress callback. Exit codes as the jetl
// command: 0 done, 1 failed, 2 usage, 3 cancelled.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"

	jetl "github.com/jetl-project/jetl/bindings/go"
)

func main() {
	full := flag.Bool("full", false, "ignore the sync watermark")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: extract [-full] PROJECT_KEY...")
		os.Exit(2)
	}

	var interrupted atomic.Bool
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() { <-sig; interrupted.Store(true) }()

	ctx, err := jetl.Open(jetl.Options{
		DB: os.Getenv("JETL_DB"), Queue: os.Getenv("JETL_QUEUE"),
		JiraURL: os.Getenv("JETL_JIRA_URL"), JiraUser: os.Getenv("JETL_JIRA_USER"),
		JiraToken: os.Getenv("JETL_JIRA_TOKEN"),
	})
	if err != nil {
		fail(err)
	}
	defer ctx.Close()
	if err := ctx.Migrate(); err != nil {
		fail(err)
	}
	show := func(p jetl.Progress) bool {
		total := ""
		if p.Total > 0 {
			total = fmt.Sprintf("/%d", p.Total)
		}
		key := p.ProjectKey
		if key == "" {
			key = "*"
		}
		fmt.Printf("[%6.2fs] %-4s %-10s %d%s %s\n", p.Elapsed.Seconds(), key, p.PhaseName, p.Done, total, p.Message)
		return interrupted.Load() // true cancels
	}
	for _, key := range flag.Args() {
		res, err := ctx.ExtractProject(key, jetl.ExtractOptions{Full: *full, Progress: show})
		if err != nil {
			ctx.Close()
			fail(err)
		}
		job, err := ctx.Job(res.JobID)
		if err != nil {
			ctx.Close()
			fail(err)
		}
		fmt.Printf("%s: %d issues, %d histories, %d raw rows, %d requests in %.2fs (job %d %s)\n",
			key, res.Issues, res.Histories, res.RawRows, res.Requests, res.Duration.Seconds(), res.JobID, job.Status)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err) // "jetl: <message> (JETL_E…)"
	if errors.Is(err, jetl.ErrCancelled) {
		os.Exit(3)
	}
	os.Exit(1)
}
