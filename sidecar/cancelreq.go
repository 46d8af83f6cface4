package sidecar

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// cancelRequest is a connection's handler of a cancelled statement (ctxwatch.Handler): it sends PostgreSQL a
// cancel request and puts a deadline of cancelWait on the socket, as pgconn's CancelRequestContextWatcherHandler
// does, but it never abandons the cancel request halfway: once the statement has ended, it waits for the server
// to close the cancel request's connection (at most until the deadline) instead of closing it first. PgBouncer
// 1.18 (Debian 12's) exits with "disconnect_client(): bad client state: 0" when a client closes a cancel
// request's connection before PgBouncer is done forwarding it (pgbouncer/pgbouncer#801), and pgconn's handler
// closes it as soon as the cancelled statement returns.
type cancelRequest struct {
	conn *pgconn.PgConn
	done chan struct{}
}

func (h *cancelRequest) HandleCancel(context.Context) {
	deadline := time.Now().Add(cancelWait)
	_ = h.conn.Conn().SetDeadline(deadline)
	h.done = make(chan struct{})
	go func() {
		defer close(h.done)
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		_ = h.conn.CancelRequest(ctx)
		// The server has the request, but it may not have signalled the backend yet: a cancel that arrives late
		// would cancel the connection's next statement (pgconn waits the same).
		time.Sleep(100 * time.Millisecond)
	}()
}

func (h *cancelRequest) HandleUnwatchAfterCancel() {
	<-h.done
	_ = h.conn.Conn().SetDeadline(time.Time{})
}
