package jetl_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"

	jetl "github.com/jetl-project/jetl/bindings/go"
)

func ExampleStatus() {
	fmt.Println(jetl.EAUTH, "-", jetl.EAUTH.Text())
	fmt.Println(jetl.ENOTFOUND.Retriable(), jetl.ENETWORK.Retriable())
	// Output:
	// JETL_EAUTH - Jira rejected the credentials (HTTP 401)
	// false true
}

func ExamplePhase() {
	for p := jetl.PhaseDiscover; p <= jetl.PhaseDone; p++ {
		fmt.Print(p, " ")
	}
	fmt.Println()
	// Output:
	// discover census issues changelogs dev_status store queue transform done
}

func ExampleError() {
	var err error = &jetl.Error{Status: jetl.ENOENT, Message: "job 7 does not exist"}
	err = fmt.Errorf("status page: %w", err)
	fmt.Println(errors.Is(err, jetl.ErrNoEntry), errors.Is(err, jetl.ErrNotFound))
	var je *jetl.Error
	if errors.As(err, &je) {
		fmt.Println(je.Status, je.Message)
	}
	// Output:
	// true false
	// JETL_ENOENT job 7 does not exist
}

// Needs PostgreSQL and Jira: compiled, not run.
func ExampleClient_ExtractProjectContext() {
	client, err := jetl.Open(jetl.Options{DB: os.Getenv("JETL_DB")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt) // Ctrl-C cancels
	defer stop()
	res, err := client.ExtractProjectContext(ctx, "ABC", jetl.ExtractOptions{})
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Println("interrupted; job", res.JobID, "is cancelled")
	case err != nil:
		fmt.Println(err)
	default:
		fmt.Println(res.Issues, "issues in", res.Duration)
	}
}

// Needs PostgreSQL and RabbitMQ: compiled, not run.
func ExampleClient_WorkerRunContext() {
	client, err := jetl.Open(jetl.Options{Queue: os.Getenv("JETL_QUEUE")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := client.WorkerRunContext(ctx, jetl.WorkerOptions{Threads: 2}); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Println(err)
	}
}
