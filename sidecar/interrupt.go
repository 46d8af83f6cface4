package sidecar

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// interrupter is a request's dbexec.Interrupter: once the request's context is done (client gone,
// server-request-timeout, shutdown), it has the connection of the exchange running, if any, cancel it in
// PostgreSQL. It belongs to a request state, tied to its context once, and is reused with it, so that an exchange
// costs nothing to watch.
type interrupter struct {
	req context.Context

	mu    sync.Mutex
	ended bool             // the request's context is done
	h     ctxwatch.Handler // the running exchange's connection's (nil: none)
	fired bool             // h was told to cancel
}

// init ties i to the request context req, for the life of its request state.
func (i *interrupter) init(req context.Context) {
	i.req = req
	context.AfterFunc(req, i.fire)
}

// Begin registers an exchange about to run on the connection h cancels.
func (i *interrupter) Begin(h ctxwatch.Handler) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.ended || i.req.Err() != nil { // (fire runs in its own goroutine, maybe not yet)
		return false
	}
	i.h, i.fired = h, false
	return true
}

// End unregisters the exchange; if it was interrupted, it waits for its connection to be done cancelling it.
func (i *interrupter) End() {
	i.mu.Lock()
	h, fired := i.h, i.fired
	i.h = nil
	i.mu.Unlock()
	if fired {
		h.HandleUnwatchAfterCancel()
	}
}

// fire interrupts the running exchange, once the request's context is done.
func (i *interrupter) fire() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.ended = true
	if i.h != nil && !i.fired {
		i.fired = true
		i.h.HandleCancel(i.req)
	}
}
