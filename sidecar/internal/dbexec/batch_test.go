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

// batchOp plans one request of a batch as the server does.
func (e *env) batchOp(t *testing.T, method, path, query, body string) BatchOp {
	t.Helper()
	in := request.Input{Method: method, Path: path, Query: query}
	if body != "" {
		in.Body, in.ContentType = []byte(body), "application/json"
	}
	st, tx := e.build(t, in, plan.Rules{})
	tx.Response = &GUCResponse{}
	return BatchOp{Tx: tx, St: st, Sink: &sink{}, Res: &Result{}}
}

// runBatch runs the rounds given (each round's operations), returning the stats and the writes on the wire.
func (e *env) runBatch(t *testing.T, b Batch, rounds ...[]BatchOp) (BatchStats, int64, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k := 0
	before := e.writes.Load()
	stats, err := e.exec.RunBatch(ctx, b, func() ([]BatchOp, bool, error) {
		k++
		return rounds[k-1], k == len(rounds), nil
	})
	return stats, e.writes.Load() - before, err
}

func (e *env) notes(t *testing.T) string {
	t.Helper()
	return e.adminQuery(t, `SELECT coalesce(string_agg(id || ':' || body, ',' ORDER BY id), '') FROM api.notes`)
}

// TestBatchRoundTrips: a batch's operations without references share one pipeline (one write, one Sync, the
// implicit transaction); each further round trip (operations that need earlier results) is one more write,
// within one explicit transaction; a failure is named by its operation and leaves nothing behind.
func TestBatchRoundTrips(t *testing.T) {
	e := newEnv(t, 1)
	e.exec.PreRequest = `"api"."pre"`
	// Warm up: the connection is opened and the statements prepared.
	if _, _, err := e.runBatch(t, Batch{}, []BatchOp{e.batchOp(t, "GET", "/items", "id=eq.1", "")}); err != nil {
		t.Fatal(err)
	}
	ins := func(id, body string) BatchOp {
		return e.batchOp(t, "POST", "/notes", "", `{"id": `+id+`, "body": "`+body+`"}`)
	}

	// Ten inserts and a read: one round trip.
	var ops []BatchOp
	for i := 1; i <= 10; i++ {
		ops = append(ops, ins(itoa(i), "n"+itoa(i)))
	}
	read := e.batchOp(t, "GET", "/notes", "select=id&order=id.desc&limit=1", "")
	ops = append(ops, read)
	stats, writes, err := e.runBatch(t, Batch{}, ops)
	if err != nil {
		t.Fatal(err)
	}
	if stats.RoundTrips != 1 || writes != 1 {
		t.Errorf("%d round trips, %d writes for a batch without references, want 1 and 1", stats.RoundTrips, writes)
	}
	if got := read.Sink.(*sink).rows; len(got) != 1 || *got[0].row != `{"id":10}` {
		t.Errorf("the read saw %v", got)
	}
	// Each operation ran its own pre-request with its own request GUCs, and answered its own response GUCs.
	// (The insert's trigger replaces the pre-request's header, as in a request sent alone; the status stays.)
	if h, s := string(ops[0].Res.GUC.Headers), string(ops[0].Res.GUC.Status); h != `[{"X-Notes": "inserted"}]` || s != "203" {
		t.Errorf("operation 0's response.headers: %s, status %s", h, s)
	}
	if h := string(read.Res.GUC.Headers); h != `[{"X-Pre": "GET"}]` {
		t.Errorf("the read's response.headers: %s", h)
	}
	if got := e.notes(t); !strings.HasPrefix(got, "1:n1,2:n2") || !strings.HasSuffix(got, "10:n10") {
		t.Fatalf("notes: %s", got)
	}

	// Three rounds (as if the second and third operations referred to earlier results): three writes, one
	// explicit transaction.
	stats, writes, err = e.runBatch(t, Batch{Explicit: true}, []BatchOp{ins("11", "a")}, []BatchOp{ins("12", "b")},
		[]BatchOp{ins("13", "c"), ins("14", "d")})
	if err != nil {
		t.Fatal(err)
	}
	if stats.RoundTrips != 3 || writes != 3 {
		t.Errorf("%d round trips, %d writes for three rounds, want 3 and 3", stats.RoundTrips, writes)
	}
	if got := e.notes(t); !strings.HasSuffix(got, "11:a,12:b,13:c,14:d") {
		t.Errorf("notes: %s", got)
	}
	before := e.notes(t)

	// A failure in the second round (its second operation: a duplicate key): everything is rolled back, the
	// operation named, one more round trip for the ROLLBACK.
	stats, writes, err = e.runBatch(t, Batch{Explicit: true}, []BatchOp{ins("20", "x")}, []BatchOp{ins("21", "y"), ins("1", "dup")},
		[]BatchOp{ins("22", "z")})
	var be *BatchError
	var pe *pgconn.PgError
	if !errors.As(err, &be) || be.Op != 2 || !errors.As(err, &pe) || pe.Code != "23505" {
		t.Fatalf("err %v, want operation 2's 23505", err)
	}
	if stats.RoundTrips != 3 || writes != 3 {
		t.Errorf("%d round trips, %d writes, want 3 and 3 (two rounds and the rollback)", stats.RoundTrips, writes)
	}
	if got := e.notes(t); got != before {
		t.Errorf("notes changed: %s", got)
	}

	// In one round, the implicit transaction: the Sync rolls it back, no ROLLBACK needed.
	stats, writes, err = e.runBatch(t, Batch{}, []BatchOp{ins("30", "x"), ins("31", "y"), ins("2", "dup"), ins("32", "z")})
	if !errors.As(err, &be) || be.Op != 2 {
		t.Fatalf("err %v, want operation 2's", err)
	}
	if stats.RoundTrips != 1 || writes != 1 {
		t.Errorf("%d round trips, %d writes, want 1 and 1", stats.RoundTrips, writes)
	}
	if got := e.notes(t); got != before {
		t.Errorf("notes changed: %s", got)
	}

	// A statement that fails to prepare (a table the role cannot see is found at Parse) names its operation.
	bad := ins("40", "x")
	bad.St.Main.SQL = "SELECT 1 FROM api.no_such_table"
	_, _, err = e.runBatch(t, Batch{Explicit: true}, []BatchOp{ins("41", "x")}, []BatchOp{ins("42", "y"), bad})
	if !errors.As(err, &be) || be.Op != 2 {
		t.Fatalf("err %v, want operation 2's", err)
	}

	// Rollback on request: every operation answers, nothing stays.
	st, tx := e.build(t, request.Input{Method: "POST", Path: "/notes", Query: "select=id", Prefer: "return=representation",
		Body: []byte(`{"id": 50, "body": "x"}`), ContentType: "application/json"}, plan.Rules{})
	r1 := BatchOp{Tx: tx, St: st, Sink: &sink{}, Res: &Result{}}
	stats, writes, err = e.runBatch(t, Batch{Explicit: true, Rollback: true}, []BatchOp{r1})
	if err != nil {
		t.Fatal(err)
	}
	if b := r1.Sink.(*sink).body(t); !strings.Contains(b, `"id":50`) {
		t.Errorf("rolled-back insert answered %s", b)
	}
	if stats.RoundTrips != 1 || writes != 1 {
		t.Errorf("%d round trips, %d writes, want 1 and 1", stats.RoundTrips, writes)
	}
	if got := e.notes(t); got != before {
		t.Errorf("notes changed: %s", got)
	}

	// The commit held back for a last check: an empty last round is the COMMIT alone.
	stats, writes, err = e.runBatch(t, Batch{Explicit: true}, []BatchOp{ins("60", "held")}, nil)
	if err != nil || stats.RoundTrips != 2 || writes != 2 || !strings.HasSuffix(e.notes(t), "60:held") {
		t.Errorf("held commit: %v, %d round trips, %d writes, notes %s", err, stats.RoundTrips, writes, e.notes(t))
	}
	// The connection is clean after all that.
	e.onConn(t, func(pc *pgconn.PgConn) {
		if pc.TxStatus() != 'I' {
			t.Errorf("connection left in transaction status %c", pc.TxStatus())
		}
	})
}
