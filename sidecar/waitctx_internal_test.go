package sidecar

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestWaitCtx: a wait ends when its time is up or when the request's context ends; the context is reused for the
// request's next waits (and by the next request), a timed-out one with a new channel.
func TestWaitCtx(t *testing.T) {
	req, cancel := context.WithCancelCause(context.Background())
	var w waitCtx
	w.init(req)

	ctx := w.Wait(20 * time.Millisecond)
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > 20*time.Millisecond {
		t.Fatalf("deadline %v %v", d, ok)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the wait did not time out")
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("err %v", ctx.Err())
	}
	w.Waited()

	// The next wait starts afresh and ends early without error.
	ctx = w.Wait(time.Hour)
	if ctx.Err() != nil {
		t.Fatalf("a new wait is over: %v", ctx.Err())
	}
	w.Waited()
	// A short wait that ends in time is not ended later by its timer, nor is the next one.
	w.Wait(time.Millisecond)
	w.Waited()
	ctx = w.Wait(time.Hour)
	time.Sleep(20 * time.Millisecond)
	if ctx.Err() != nil {
		t.Fatalf("the wait ended by an earlier timer: %v", ctx.Err())
	}

	// The request's context ends the wait.
	cancel(errShutdown)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the wait did not end with the request")
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("err %v", ctx.Err())
	}
	w.Waited()
	if ctx := w.Wait(time.Hour); ctx.Err() == nil {
		t.Fatal("a wait of an ended request is not over")
	}
}
