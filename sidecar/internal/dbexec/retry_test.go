package dbexec

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// unsent is an error from before anything reached the server.
type unsent struct{}

func (unsent) Error() string     { return "write failed before sending" }
func (unsent) SafeToRetry() bool { return true }

func TestRetryable(t *testing.T) {
	terminated := &pgconn.PgError{Severity: "FATAL", Code: "57P01"}
	crashed := &pgconn.PgError{Severity: "FATAL", Code: "57P02"}
	cancelledStmt := &pgconn.PgError{Code: "57014"}
	lostPooled := progress{acquired: true, lost: true, reused: true}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name     string
		ctx      context.Context
		err      error
		readOnly bool
		pr       progress
		want     bool
	}{
		{name: "nothing sent", err: unsent{}, want: true},
		{name: "nothing sent, but the response has begun", err: unsent{}, pr: progress{emitted: true}},
		{name: "nothing sent, but the request's context ended", ctx: done, err: unsent{}},
		{name: "read, backend terminated", err: terminated, readOnly: true, pr: progress{acquired: true}, want: true},
		{name: "read, backend terminated after the statements", err: terminated, readOnly: true,
			pr: progress{acquired: true, settled: true}, want: true},
		{name: "read, another backend crashed", err: crashed, readOnly: true, want: true},
		{name: "write, backend terminated before its statements completed", err: terminated,
			pr: progress{acquired: true}, want: true},
		{name: "write, backend terminated at the commit", err: terminated, pr: progress{acquired: true, settled: true}},
		{name: "read, connection lost, from the pool", err: io.ErrUnexpectedEOF, readOnly: true, pr: lostPooled,
			want: true},
		{name: "read, connection lost, opened for it", err: io.ErrUnexpectedEOF, readOnly: true,
			pr: progress{acquired: true, lost: true}},
		{name: "write, connection lost", err: io.ErrUnexpectedEOF, pr: lostPooled},
		{name: "read, statement cancelled", err: cancelledStmt, readOnly: true, pr: progress{acquired: true}},
		{name: "read, no connection could be had", err: errors.New("connection refused"), readOnly: true},
		{name: "read, backend terminated, wrapped", err: ConnError(terminated), readOnly: true, want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			if got := retryable(ctx, tc.err, tc.readOnly, tc.pr); got != tc.want {
				t.Fatalf("retryable = %v, want %v", got, tc.want)
			}
		})
	}
}
