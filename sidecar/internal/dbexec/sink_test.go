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

// TestSinkRows: a read rendered row by row hands the sink each row with the total (-1 when not counted); a
// counted empty result is one call with a nil row; the result counts the rows.
func TestSinkRows(t *testing.T) {
	e := newEnv(t, 1)
	for _, tc := range []struct {
		name, query, prefer string
		rows                int
		total, resTotal     int64
	}{
		{name: "counted", query: "select=id&order=id&limit=5", prefer: "count=exact", rows: 5, total: 20, resTotal: 20},
		{name: "not counted", query: "select=id&order=id&limit=5", rows: 5, total: -1, resTotal: -1},
		{name: "counted, empty", query: "select=id&id=gt.100", prefer: "count=exact", rows: 0, total: 0, resTotal: 0},
		{name: "not counted, empty", query: "select=id&id=gt.100", rows: 0, total: -1, resTotal: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, tx := e.build(t, request.Input{Method: "GET", Path: "/items", Query: tc.query, Prefer: tc.prefer}, plan.Rules{})
			if st.Rows == nil {
				t.Fatal("not rendered row by row")
			}
			s, res := e.mustRun(t, tx, st)
			if res.PageTotal != int64(tc.rows) || res.Total != tc.resTotal {
				t.Errorf("page_total %d, total %d; want %d, %d", res.PageTotal, res.Total, tc.rows, tc.resTotal)
			}
			calls := tc.rows
			if tc.rows == 0 && tc.prefer != "" {
				calls = 1 // the count arrives in a row without data
			}
			if len(s.rows) != calls || len(s.bodies) != 0 {
				t.Fatalf("%d Row calls and %d Body calls, want %d and 0", len(s.rows), len(s.bodies), calls)
			}
			for i, r := range s.rows {
				if r.total != tc.total {
					t.Errorf("row %d: total %d, want %d", i, r.total, tc.total)
				}
				switch {
				case tc.rows == 0 && r.row != nil:
					t.Errorf("the empty result's row is %q, want nil", *r.row)
				case tc.rows > 0 && (r.row == nil || *r.row != `{"id":`+itoa(i+1)+`}`):
					t.Errorf("row %d: %v", i, r.row)
				}
			}
		})
	}
}

// TestSinkBody: a one-row statement hands its body once; a text plan one line at a time.
func TestSinkBody(t *testing.T) {
	e := newEnv(t, 1)
	st, tx := e.build(t, request.Input{Method: "GET", Path: "/items", Query: "select=id&id=eq.3",
		Accept: "application/vnd.pgrst.object+json"}, plan.Rules{})
	if s, res := e.mustRun(t, tx, st); s.body(t) != `{"id":3}` || res.PageTotal != 1 {
		t.Errorf("object: %q, page_total %d", s.bodies, res.PageTotal)
	}

	st, tx = e.build(t, request.Input{Method: "GET", Path: "/items", Query: "select=id&id=eq.3",
		Accept: "application/vnd.pgrst.plan+text"}, plan.Rules{PlanEnabled: true})
	if !st.Explain {
		t.Fatal("not a plan")
	}
	s, _ := e.mustRun(t, tx, st)
	if len(s.bodies) < 2 || !strings.Contains(strings.Join(s.bodies, "\n"), "Scan on items") {
		t.Errorf("plan lines %q", s.bodies)
	}
	// A plan is not prepared: its text is a one-off.
	for _, sql := range preparedNames(t, e) {
		if strings.HasPrefix(sql, "EXPLAIN") {
			t.Errorf("the plan was prepared: %s", sql)
		}
	}
}

// TestWriteResult: a write's result carries the affected rows, an inserted row's key for Location and, for an
// upsert, how many rows were inserted rather than updated.
func TestWriteResult(t *testing.T) {
	e := newEnv(t, 1)
	post := func(body, prefer, query string) request.Input {
		return request.Input{Method: "POST", Path: "/notes", Query: query, ContentType: "application/json", Prefer: prefer, Body: []byte(body)}
	}
	st, tx := e.build(t, post(`{"id":5,"body":"five"}`, "return=headers-only", ""), plan.Rules{})
	s, res := e.mustRun(t, tx, st)
	if string(res.Location) != `[["id", "5"]]` || res.PageTotal != 1 || res.Inserted != -1 || s.body(t) != "" {
		t.Errorf("headers-only: location %s, page_total %d, inserted %d, body %q", res.Location, res.PageTotal, res.Inserted, s.bodies)
	}
	st, tx = e.build(t, post(`[{"id":5,"body":"five again"},{"id":6,"body":"six"},{"id":7,"body":"seven"}]`,
		"resolution=merge-duplicates", ""), plan.Rules{})
	if _, res = e.mustRun(t, tx, st); res.PageTotal != 3 || res.Inserted != 2 || res.Location != nil {
		t.Errorf("upsert: page_total %d, inserted %d, location %s; want 3, 2, none", res.PageTotal, res.Inserted, res.Location)
	}
	if string(res.GUC.Headers) != `[{"X-Notes": "inserted"}]` {
		t.Errorf("response headers %q, want the trigger's (read after the statement)", res.GUC.Headers)
	}
}

// failingSink fails on the first row.
type failingSink struct{ sink }

var errSink = errors.New("client went away")

func (f *failingSink) Row(int64, []byte) error { return errSink }

// TestSinkError: an error of the sink ends the run with that error, is not retried, and leaves the connection
// usable: the rest of the pipeline is drained and the transaction ended.
func TestSinkError(t *testing.T) {
	e := newEnv(t, 1)
	st, tx := e.build(t, request.Input{Method: "GET", Path: "/items", Query: "select=id"}, plan.Rules{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := &failingSink{}
	var res Result
	if err := e.exec.Run(ctx, tx, st, s, &res); !errors.Is(err, errSink) || s.resets != 0 {
		t.Fatalf("Run: %v after %d resets, want the sink's error, not retried", err, s.resets)
	}
	pid := e.pid(t)
	if _, res := e.mustRun(t, tx, st); res.PageTotal != 20 {
		t.Errorf("the next request read %d rows", res.PageTotal)
	}
	if e.pid(t) != pid {
		t.Error("the connection was replaced after a sink error")
	}
}

// TestSinkErrorPreparesNothingUnknown: after a sink error the statements the server went on to prepare in the
// same pipeline (here the response GUCs' query) are known to the cache: every pgway statement prepared on
// the connection is in it, and none is prepared twice.
func TestSinkErrorPreparesNothingUnknown(t *testing.T) {
	e := newEnv(t, 1)
	st, tx := e.build(t, request.Input{Method: "GET", Path: "/items", Query: "select=id"}, plan.Rules{})
	tx.Response = &GUCResponse{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 3 {
		var res Result
		if err := e.exec.Run(ctx, tx, st, &failingSink{}, &res); !errors.Is(err, errSink) {
			t.Fatalf("Run: %v, want the sink's error", err)
		}
	}
	e.mustRun(t, tx, st)
	onServer := preparedNames(t, e)
	e.onConn(t, func(pc *pgconn.PgConn) {
		sc, _ := stmtsOf(pc)
		if len(onServer) != len(sc.stmts) || len(sc.stmts) != 3 {
			t.Errorf("%d statements prepared on the connection, %d in its cache, want 3 (settings, main, GUCs): %v",
				len(onServer), len(sc.stmts), onServer)
		}
	})
}
