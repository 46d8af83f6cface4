package sidecar

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// Why a request's context ended (context.Cause), besides context.DeadlineExceeded for server-request-timeout.
var (
	errClientGone = errors.New("the client closed the connection")
	errShutdown   = errors.New("pgway is shutting down")
)

const (
	// watchAfter is how long a request runs before its client's connection is watched: fast requests never are.
	watchAfter = 200 * time.Millisecond
	// watchEvery is how often the watcher looks at the requests in flight.
	watchEvery = 200 * time.Millisecond
	// maxFree bounds the request states kept for reuse.
	maxFree = 1024
)

// inflight tracks the requests being handled, for the one watcher goroutine that cancels a request's context
// when its client goes away, when it outlives server-request-timeout, or at shutdown once the drain period is
// over. fasthttp tells a running handler nothing about its connection, so the watcher polls the socket of each
// request that has run longer than watchAfter. Cancelling the context makes pgconn send PostgreSQL a cancel
// request for the statement running on the request's connection.
//
// A request costs two short critical sections and no goroutine, timer or allocation: contexts that were never
// cancelled are reused, with the timer that bounds waits for a pool connection (waitCtx) and what interrupts an
// exchange in PostgreSQL (interrupter).
type inflight struct {
	mu   sync.Mutex
	live []*reqState
	free []*reqState
	// stopped is the cause every request is cancelled with after the drain period; requests that start
	// afterwards start cancelled.
	stopped error
}

// reqState is one request's context and what the watcher needs to know about it.
type reqState struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	conn   net.Conn
	start  time.Time
	// deadline is start + server-request-timeout (zero: none).
	deadline time.Time
	idx      int // position in inflight.live
	// cancelled is set (under inflight.mu) once cancel was called: the context is not reused.
	cancelled bool
	// wait bounds the request's waits for a pool connection; interrupt stops its exchange in PostgreSQL.
	wait      waitCtx
	interrupt interrupter
}

// begin registers a request that started at start on conn; timeout is server-request-timeout (0: none). The
// returned state's ctx is the request's context until end.
func (in *inflight) begin(conn net.Conn, start time.Time, timeout time.Duration) *reqState {
	in.mu.Lock()
	var st *reqState
	if n := len(in.free); n > 0 {
		st = in.free[n-1]
		in.free[n-1] = nil
		in.free = in.free[:n-1]
	} else {
		st = &reqState{}
		st.ctx, st.cancel = context.WithCancelCause(context.Background())
		st.wait.init(st.ctx)
		st.interrupt.init(st.ctx)
	}
	st.conn, st.start, st.deadline = conn, start, time.Time{}
	if timeout > 0 {
		st.deadline = start.Add(timeout)
	}
	st.idx = len(in.live)
	in.live = append(in.live, st)
	if in.stopped != nil {
		st.cancelled = true
		st.cancel(in.stopped)
	}
	in.mu.Unlock()
	return st
}

// end unregisters a request whose handler is done with its context.
func (in *inflight) end(st *reqState) {
	in.mu.Lock()
	last := len(in.live) - 1
	in.live[st.idx] = in.live[last]
	in.live[st.idx].idx = st.idx
	in.live[last] = nil
	in.live = in.live[:last]
	st.conn = nil
	if !st.cancelled && len(in.free) < maxFree {
		in.free = append(in.free, st)
	} else {
		st.cancel(nil) // releases the context's resources; a no-op when already cancelled
	}
	in.mu.Unlock()
}

// cancelAll cancels every request in flight, and every later one, with cause; it returns how many were running.
func (in *inflight) cancelAll(cause error) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.stopped = cause
	n := 0
	for _, st := range in.live {
		if !st.cancelled {
			st.cancelled = true
			st.cancel(cause)
			n++
		}
	}
	return n
}

// cancelNow cancels one request's context with cause (its client stopped reading a streamed response).
func (in *inflight) cancelNow(st *reqState, cause error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !st.cancelled {
		st.cancelled = true
		st.cancel(cause)
	}
}

// resume undoes cancelAll for a server that serves again.
func (in *inflight) resume() {
	in.mu.Lock()
	in.stopped = nil
	in.mu.Unlock()
}

// count is the number of requests in flight.
func (in *inflight) count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.live)
}

// watch cancels requests past their deadline or whose client has gone, every watchEvery until stop is closed.
func (in *inflight) watch(stop <-chan struct{}) {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		in.scan(time.Now())
	}
}

// scan is one pass of the watcher. It holds the lock throughout, so a request cannot end (and its state be
// reused) between the check and the cancel; the socket poll it may do per long request does not block.
func (in *inflight) scan(now time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, st := range in.live {
		switch {
		case st.cancelled || now.Sub(st.start) < watchAfter:
		case !st.deadline.IsZero() && !now.Before(st.deadline):
			st.cancelled = true
			st.cancel(context.DeadlineExceeded)
		case st.conn != nil && peerGone(st.conn):
			st.cancelled = true
			st.cancel(errClientGone)
		}
	}
}
