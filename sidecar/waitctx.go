package sidecar

import (
	"context"
	"sync"
	"time"
)

// waitCtx is a request's dbexec.Waiter: the context of its waits for a pool connection, done when a wait's time is
// up (context.DeadlineExceeded) or when the request's context is done (its error). It belongs to a request state
// and is reused with it, so that a wait costs no allocation: its timer is re-armed for each wait, and its channel
// replaced only after a wait timed out. The waits of one request run one at a time.
type waitCtx struct {
	req   context.Context // the request's
	timer *time.Timer     // ends the wait at deadline

	mu       sync.Mutex
	done     chan struct{}
	err      error // set when done is closed
	deadline time.Time
}

// init ties w to the request context req, for the life of its request state.
func (w *waitCtx) init(req context.Context) {
	w.req = req
	w.done = make(chan struct{})
	w.timer = time.AfterFunc(time.Hour, w.expire)
	w.timer.Stop()
	context.AfterFunc(req, w.abort)
}

// Wait begins a wait of at most timeout.
func (w *waitCtx) Wait(timeout time.Duration) context.Context {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil && w.req.Err() != nil { // the request has ended, and abort (in its own goroutine) not run yet
		w.err = w.req.Err()
		close(w.done)
	}
	if w.err != nil {
		if w.req.Err() != nil {
			return w // the request is over: so is the wait
		}
		w.done, w.err = make(chan struct{}), nil // the last wait timed out
	}
	w.deadline = time.Now().Add(timeout)
	w.timer.Reset(timeout)
	return w
}

// Waited ends the wait.
func (w *waitCtx) Waited() { w.timer.Stop() }

// expire ends a wait whose time is up (the timer of an earlier wait that fires late finds a later deadline).
func (w *waitCtx) expire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil && !time.Now().Before(w.deadline) {
		w.err = context.DeadlineExceeded
		close(w.done)
	}
}

// abort ends the wait when the request's context is done.
func (w *waitCtx) abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = w.req.Err()
		close(w.done)
	}
}

func (w *waitCtx) Deadline() (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.deadline, true
}

func (w *waitCtx) Done() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done
}

func (w *waitCtx) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *waitCtx) Value(key any) any { return w.req.Value(key) }
