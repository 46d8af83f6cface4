package dbexec

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// notesBody is a JSON array of n notes from id first.
func notesBody(first, n int) []byte {
	var b strings.Builder
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"id":` + itoa(first+i) + `,"body":"note ` + itoa(first+i) + `"}`)
	}
	b.WriteString("]")
	return []byte(b.String())
}

// streamed is a POST of body to /notes planned with a stream threshold of one byte: its body goes by COPY.
func (e *env) streamed(t *testing.T, body []byte, prefer, accept string) (Tx, func() (*sink, Result, error)) {
	t.Helper()
	in := request.Input{Method: "POST", Path: "/notes", ContentType: "application/json", Prefer: prefer, Accept: accept, Body: body}
	st, tx := e.build(t, in, plan.Rules{StreamBodyBytes: 1, TxEnd: "commit-allow-override"})
	if st.StreamBody == nil {
		t.Fatal("the write is not streamed")
	}
	return tx, func() (*sink, Result, error) { return e.run(t, tx, st) }
}

// idle checks that the pool's connection is out of any transaction and its temporary body table (if any) is
// empty.
func (e *env) idle(t *testing.T) {
	t.Helper()
	e.onConn(t, func(pc *pgconn.PgConn) {
		if s := pc.TxStatus(); s != 'I' {
			t.Errorf("the connection is left in transaction status %c", s)
		}
		if connQuery(t, pc, "SELECT to_regclass('pg_temp.pgway_body') IS NULL")[0] == "t" {
			return // created in a transaction that rolled back
		}
		if got := connQuery(t, pc, "SELECT count(*)::text FROM pg_temp.pgway_body"); got[0] != "0" {
			t.Errorf("%s bodies left in the temporary table", got[0])
		}
	})
}

// TestCopyPath: a large write body is copied into a temporary table and written from there, as the
// impersonated role, in one transaction with its settings, the response GUCs (a trigger's) and the check.
func TestCopyPath(t *testing.T) {
	e := newEnv(t, 1)
	count := func() string { return e.adminQuery(t, "SELECT count(*)::text FROM api.notes") }

	_, run := e.streamed(t, notesBody(1, 500), "return=representation", "")
	s, res, err := run()
	if err != nil {
		t.Fatalf("streamed insert: %v", err)
	}
	if res.PageTotal != 500 || count() != "500" {
		t.Errorf("page_total %d, %s rows; want 500", res.PageTotal, count())
	}
	if b := s.body(t); !strings.HasPrefix(b, `[{"id":1,"body":"note 1"}`) || strings.Count(b, `"id"`) != 500 {
		t.Errorf("representation %.80s…", b)
	}
	if string(res.GUC.Headers) != `[{"X-Notes": "inserted"}]` {
		t.Errorf("response headers %q, want the trigger's", res.GUC.Headers)
	}
	e.idle(t)

	t.Run("tx=rollback", func(t *testing.T) {
		_, run := e.streamed(t, notesBody(1000, 3), "tx=rollback", "")
		if _, res, err := run(); err != nil || res.PageTotal != 3 {
			t.Fatalf("rolled back on request: %v, page_total %d; want no error, 3", err, res.PageTotal)
		}
		if n := count(); n != "500" {
			t.Errorf("%s rows after a rollback, want 500", n)
		}
		e.idle(t)
	})

	t.Run("failed check", func(t *testing.T) {
		_, run := e.streamed(t, notesBody(2000, 2), "", "application/vnd.pgrst.object+json")
		_, _, err := run()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || !strings.Contains(pe.Message, "PGRST116") {
			t.Fatalf("two rows for the object media type: %v, want PGRST116", err)
		}
		if n := count(); n != "500" {
			t.Errorf("%s rows after the failed check, want 500", n)
		}
		e.idle(t)
	})

	t.Run("failed statement", func(t *testing.T) {
		_, run := e.streamed(t, notesBody(499, 2), "", "")
		_, _, err := run()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23505" {
			t.Fatalf("a duplicate key: %v, want 23505", err)
		}
		if n := count(); n != "500" {
			t.Errorf("%s rows after the failed insert, want 500", n)
		}
		e.idle(t)
	})

	t.Run("pre-request", func(t *testing.T) {
		e.exec.PreRequest = `"api"."pre"`
		defer func() { e.exec.PreRequest = "" }()
		_, run := e.streamed(t, notesBody(3000, 2), "tx=rollback", "")
		_, res, err := run()
		if err != nil {
			t.Fatal(err)
		}
		// The pre-request ran first (its status is left), then the trigger (its header replaced the pre-request's).
		if string(res.GUC.Status) != "203" || string(res.GUC.Headers) != `[{"X-Notes": "inserted"}]` {
			t.Errorf("response status %q, headers %q", res.GUC.Status, res.GUC.Headers)
		}
	})
}

// TestCopyCancel: a streamed write whose context is cancelled is cancelled in PostgreSQL (57014), rolled back,
// and its connection goes back to the pool idle.
func TestCopyCancel(t *testing.T) {
	e := newEnv(t, 1)
	in := request.Input{Method: "POST", Path: "/notes", ContentType: "application/json",
		Body: []byte(`[{"id":1,"body":"fast"},{"id":2,"body":"slow"}]`)}
	st, tx := e.build(t, in, plan.Rules{StreamBodyBytes: 1})
	pid := e.pid(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	var res Result
	err := e.exec.Run(ctx, tx, st, &sink{}, &res)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" {
		t.Fatalf("cancelled streamed write: %v, want 57014", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the cancelled write took %v", d)
	}
	if n := e.adminQuery(t, "SELECT count(*)::text FROM api.notes"); n != "0" {
		t.Errorf("%s rows after the cancel", n)
	}
	e.idle(t)
	if e.pid(t) != pid {
		t.Error("the connection was replaced")
	}
}
