package dbexec

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

const pidBody = "pg_backend_pid()"

// terminate ends backend pid from the superuser connection and waits until it is gone.
func (e *env) terminate(t *testing.T, pid string) {
	t.Helper()
	if ok := e.adminQuery(t, "SELECT pg_terminate_backend($1::int)::text", pid); ok != "true" {
		t.Fatalf("pg_terminate_backend(%s) = %s", pid, ok)
	}
	for i := 0; ; i++ {
		if n := e.adminQuery(t, "SELECT count(*)::text FROM pg_stat_activity WHERE pid = $1::int", pid); n == "0" {
			return
		}
		if i > 200 {
			t.Fatalf("backend %s still there", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRetryAfterDeadConnection: a pooled connection whose backend was terminated while idle is found dead by
// the next request's exchange, which runs again (the sink reset) on a fresh connection and succeeds.
func TestRetryAfterDeadConnection(t *testing.T) {
	e := newEnv(t, 1)
	s, _ := e.mustRun(t, readTx(), oneRow(pidBody))
	pid := s.body(t)
	e.terminate(t, pid)

	s, res := e.mustRun(t, readTx(), oneRow(pidBody))
	if got := s.body(t); got == pid {
		t.Fatalf("the read ran on the terminated backend %s", pid)
	}
	if s.resets != 1 || res.PageTotal != 1 {
		t.Errorf("%d resets, page_total %d; want 1 reset (one failed attempt) and the second attempt's result", s.resets, res.PageTotal)
	}

	// A write on a connection that died while idle is retried too: nothing of it reached PostgreSQL.
	s, _ = e.mustRun(t, writeTx(), oneRow(pidBody))
	e.terminate(t, s.body(t))
	ins := sqlgen.Statements{Main: sqlgen.Statement{SQL: "WITH i AS (INSERT INTO api.notes VALUES (nextval('api.attempts'), 'idle') RETURNING 1) " +
		"SELECT NULL::bigint AS total, (SELECT count(*) FROM i) AS page_total, 'x' AS body"}}
	if _, res, err := e.run(t, writeTx(), ins); err != nil || res.PageTotal != 1 {
		t.Fatalf("write after an idle termination: %v, page_total %d", err, res.PageTotal)
	}
	if n := e.adminQuery(t, "SELECT count(*)::text FROM api.notes WHERE body = 'idle'"); n != "1" {
		t.Errorf("%s rows written, want 1", n)
	}
}

// TestWriteRetries: a write whose backend ends in the middle of its statement (before anything could commit)
// runs again; one whose backend ends at the commit — every statement done, the outcome unknown to the client —
// is not run again, and its error is reported.
func TestWriteRetries(t *testing.T) {
	e := newEnv(t, 1)
	attempts := func() string { return e.adminQuery(t, "SELECT last_value::text FROM api.attempts") }

	pid := strconv.Itoa(int(e.pid(t)))
	mid := sqlgen.Statements{Main: sqlgen.Statement{
		SQL: "WITH i AS (INSERT INTO api.notes SELECT 100, 'mid' WHERE nextval('api.attempts') > 0 AND api.die($1) RETURNING 1) " +
			"SELECT NULL::bigint AS total, (SELECT count(*) FROM i) AS page_total, 'x' AS body",
		Args: []any{pid},
	}}
	s, res := e.mustRun(t, writeTx(), mid)
	if s.resets != 1 || res.PageTotal != 1 || attempts() != "2" {
		t.Errorf("%d resets, page_total %d, %s attempts; want the second attempt's insert", s.resets, res.PageTotal, attempts())
	}
	if n := e.adminQuery(t, "SELECT count(*)::text FROM api.notes WHERE body = 'mid'"); n != "1" {
		t.Errorf("%s notes, want 1", n)
	}

	atCommit := sqlgen.Statements{Main: sqlgen.Statement{
		SQL: "WITH i AS (INSERT INTO api.notes VALUES (nextval('api.attempts'), 'die at commit') RETURNING 1) " +
			"SELECT NULL::bigint AS total, (SELECT count(*) FROM i) AS page_total, 'x' AS body",
	}}
	s, _, err := e.run(t, writeTx(), atCommit)
	if !sessionEnded(err) {
		t.Fatalf("a write whose backend ended at the commit: %v, want 57P01", err)
	}
	if s.resets != 0 || attempts() != "3" {
		t.Errorf("%d resets, %s attempts: the write ran again", s.resets, attempts())
	}
	if n := e.adminQuery(t, "SELECT count(*)::text FROM api.notes WHERE body = 'die at commit'"); n != "0" {
		t.Errorf("%s notes committed by a backend that died before its commit", n)
	}
	// The pool recovers: the next request gets a fresh connection.
	e.mustRun(t, readTx(), oneRow("1"))
}

// TestStreamedRowsNotRetried: once the sink has emitted output, a lost connection is reported, not retried;
// before that the rows received are dropped (Reset) and the read runs again.
func TestStreamedRowsNotRetried(t *testing.T) {
	e := newEnv(t, 1)
	// Five rows; the backend named by $1 ends itself at the third.
	rows := func(pid uint32) sqlgen.Statements {
		return sqlgen.Statements{Rows: &sqlgen.Framing{}, Main: sqlgen.Statement{
			SQL: "SELECT NULL::bigint AS total, x::text AS row FROM generate_series(1, 5) x " +
				"WHERE x < 3 OR api.die($1)", // no ORDER BY: rows 1 and 2 are sent before the third ends the backend
			Args: []any{strconv.Itoa(int(pid))},
		}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	s := &sink{}
	var res Result
	if err := e.exec.Run(ctx, readTx(), rows(e.pid(t)), s, &res); err != nil {
		t.Fatalf("not emitted: %v, want a retry on a fresh connection", err)
	}
	if s.resets != 1 || len(s.rows) != 5 || res.PageTotal != 5 {
		t.Errorf("%d resets, %d rows, page_total %d; want 1, 5, 5", s.resets, len(s.rows), res.PageTotal)
	}

	s = &sink{emitAfter: 1}
	err := e.exec.Run(ctx, readTx(), rows(e.pid(t)), s, &res)
	if !sessionEnded(err) || s.resets != 0 {
		t.Fatalf("emitted: %v after %d resets, want the backend's 57P01 and no retry", err, s.resets)
	}
	if len(s.rows) != 2 {
		t.Errorf("%d rows reached the sink before the error, want 2", len(s.rows))
	}
}

// TestCancel: a cancelled context sends PostgreSQL a cancel request: the statement ends with 57014 at once,
// and the connection goes back to the pool in working order.
func TestCancel(t *testing.T) {
	e := newEnv(t, 1)
	s, _ := e.mustRun(t, readTx(), oneRow(pidBody))
	pid := s.body(t)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	var res Result
	err := e.exec.Run(ctx, readTx(), oneRow("pg_sleep(30)"), &sink{}, &res)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" {
		t.Fatalf("cancelled: %v, want PostgreSQL's 57014", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the cancelled statement took %v", d)
	}
	if n := e.adminQuery(t, "SELECT count(*)::text FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(30)%' AND state = 'active' AND pid <> pg_backend_pid()"); n != "0" {
		t.Errorf("%s statements still sleeping", n)
	}
	s, _ = e.mustRun(t, readTx(), oneRow(pidBody))
	if s.body(t) != pid || s.resets != 0 {
		t.Errorf("after the cancel the request ran on backend %s (%d resets), want the same connection %s", s.bodies, s.resets, pid)
	}

	// A context already ended never reaches PostgreSQL.
	var r Result
	err = e.exec.Run(ctx, readTx(), oneRow("1"), &sink{}, &r)
	if a := apierr.As(err, false); a.Code != "PGRST001" || a.Status != http.StatusServiceUnavailable {
		t.Errorf("an ended context: %v", err)
	}
}

// TestAcquireTimeout: a request that cannot get a connection within AcquireTimeout is PostgREST's 504
// PGRST003; one whose own deadline passes while it waits is the same 504.
func TestAcquireTimeout(t *testing.T) {
	e := newEnv(t, 1)
	e.exec.AcquireTimeout = 100 * time.Millisecond
	ctx := context.Background()
	held, err := e.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	var res Result
	err = e.exec.Run(ctx, readTx(), oneRow("1"), &sink{}, &res)
	if a := apierr.As(err, false); a.Code != "PGRST003" || a.Status != http.StatusGatewayTimeout {
		t.Errorf("pool exhausted: %v", err)
	}
	e.exec.AcquireTimeout = 5 * time.Second
	dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	err = e.exec.Run(dctx, readTx(), oneRow("1"), &sink{}, &res)
	if a := apierr.As(err, false); a.Code != "PGRST003" || a.Status != http.StatusGatewayTimeout {
		t.Errorf("request deadline while waiting: %v", err)
	}
}
