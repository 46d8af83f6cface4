package dbexec

import (
	"testing"

	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
)

func TestParseLSN(t *testing.T) {
	for in, want := range map[string]LSN{"0/0": 0, "16/B374D848": 0x16_B374D848, "0/16B3748": 0x16B3748, "FFFFFFFF/FFFFFFFF": ^LSN(0)} {
		got, ok := ParseLSN(in)
		if !ok || got != want {
			t.Errorf("ParseLSN(%q) = %v, %v", in, got, ok)
		}
		if back, _ := ParseLSN(got.String()); back != got {
			t.Errorf("%q: String %q reads back as %v", in, got.String(), back)
		}
	}
	for _, bad := range []string{"", "0", "/1", "1/", "g/1", "1/2/3", "123456789/0", " 0/1"} {
		if _, ok := ParseLSN(bad); ok {
			t.Errorf("ParseLSN(%q) accepted", bad)
		}
	}
	if got := commitLSN([]byte("1/2018")); got != 1<<32|0x2000 {
		t.Errorf("an insert position just past a page header is the page boundary: %v", got)
	}
	if got := commitLSN([]byte("1/2028")); got != 1<<32|0x2028 {
		t.Errorf("commitLSN(1/2028) = %v", got)
	}
}

// TestCommitLSN: a write's commit position is read in the same round trip, after its commit (past every WAL
// record the write made), for the pipelined and the streamed (COPY) paths; a failed or rolled-back write and a
// read report none.
func TestCommitLSN(t *testing.T) {
	e := newEnv(t, 1)
	current := func() LSN {
		l, ok := ParseLSN(e.adminQuery(t, "SELECT pg_current_wal_insert_lsn()::text"))
		if !ok {
			t.Fatal("no LSN")
		}
		return l
	}
	st, tx := e.build(t, request.Input{Method: "POST", Path: "/notes", ContentType: "application/json",
		Body: []byte(`{"id": 1, "body": "a"}`)}, plan.Rules{})
	var lsn LSN
	tx.CommitLSN = &lsn
	e.mustRun(t, tx, st) // prepares
	before, writes := current(), e.writes.Load()
	st, tx = e.build(t, request.Input{Method: "POST", Path: "/notes", ContentType: "application/json",
		Body: []byte(`{"id": 2, "body": "b"}`)}, plan.Rules{})
	tx.CommitLSN = &lsn
	e.mustRun(t, tx, st)
	if w := e.writes.Load() - writes; w != 1 {
		t.Errorf("%d round trips for a write and its commit position, want 1", w)
	}
	after := current()
	if lsn <= before || lsn > after {
		t.Errorf("commit LSN %v not in (%v, %v]", lsn, before, after)
	}
	// The commit record is replayed once a replica has reached the position: the xact's own WAL ends before.
	if got := e.adminQuery(t, "SELECT (pg_current_wal_insert_lsn() >= $1::pg_lsn)::text", lsn.String()); got != "true" {
		t.Errorf("commit LSN past the WAL's end: %s", got)
	}

	// An explicit transaction (an isolation level): the position is read after its COMMIT and Sync.
	before = current()
	st, tx = e.build(t, request.Input{Method: "POST", Path: "/notes", ContentType: "application/json",
		Body: []byte(`{"id": 3, "body": "c"}`)}, plan.Rules{})
	tx.Isolation, tx.CommitLSN = IsolationRepeatableRead, &lsn
	e.mustRun(t, tx, st)
	if after := current(); lsn <= before || lsn > after {
		t.Errorf("explicit transaction's commit LSN %v not in (%v, %v]", lsn, before, after)
	}
	e.idle(t)

	before = current()
	var streamedLSN LSN
	st, tx = e.build(t, request.Input{Method: "POST", Path: "/notes", ContentType: "application/json", Body: notesBody(20, 3)},
		plan.Rules{StreamBodyBytes: 1})
	if st.StreamBody == nil {
		t.Fatal("the write is not streamed")
	}
	tx.CommitLSN = &streamedLSN
	e.mustRun(t, tx, st)
	if after := current(); streamedLSN <= before || streamedLSN > after {
		t.Errorf("streamed write's commit LSN %v not in (%v, %v]", streamedLSN, before, after)
	}

	// A write that fails, and one rolled back on request, commit nothing: no position.
	lsn = 1
	st, tx = e.build(t, request.Input{Method: "POST", Path: "/notes", ContentType: "application/json",
		Body: []byte(`{"id": 2, "body": "duplicate"}`)}, plan.Rules{})
	tx.CommitLSN = &lsn
	if _, _, err := e.run(t, tx, st); err == nil {
		t.Fatal("duplicate key accepted")
	}
	if lsn != 1 {
		t.Errorf("a failed write reported a commit position %v", lsn)
	}
	e.idle(t)
}
