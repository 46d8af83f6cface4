package dbexec

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

func TestParseIsolation(t *testing.T) {
	for in, want := range map[string]Isolation{
		"serializable": IsolationSerializable, "SERIALIZABLE": IsolationSerializable, " serializable ": IsolationSerializable,
		"repeatable read": IsolationRepeatableRead, "Repeatable Read": IsolationRepeatableRead,
		"read committed": IsolationReadCommitted, "read uncommitted": IsolationReadCommitted, "": IsolationReadCommitted,
		"serializable, read committed": IsolationSerializable, "nonsense": IsolationReadCommitted,
	} {
		if got := ParseIsolation(in); got != want {
			t.Errorf("ParseIsolation(%q) = %v, want %v", in, got, want)
		}
	}
}

// isoSQL reports the transaction's isolation level and read-only mode.
const isoSQL = "current_setting('transaction_isolation') || ' ' || current_setting('transaction_read_only')"

// TestIsolationLevel: a transaction with an isolation level is an explicit one, begun with the level and its
// read-only mode before any statement and committed in the same round trip (prepared, and as a batch once
// prepared); a failed one, and one rolled back on request, leave the connection idle and at its own level.
func TestIsolationLevel(t *testing.T) {
	e := newEnv(t, 1)
	e.exec.StatementTimeout = "30000"
	ro := readTx()
	ro.Isolation = IsolationSerializable
	rw := writeTx()
	rw.Isolation = IsolationRepeatableRead
	e.mustRun(t, ro, oneRow(isoSQL)) // the connection is opened and the statements prepared
	pid := e.pid(t)
	for _, tc := range []struct {
		name string
		tx   Tx
		want string
	}{
		{"read-only, serializable", ro, "serializable on"},
		{"again (a batch)", ro, "serializable on"},
		{"read-write, repeatable read", rw, "repeatable read off"},
		{"read committed", func() Tx { tx := writeTx(); tx.Isolation = IsolationReadCommitted; return tx }(), "read committed off"},
		{"the implicit transaction", readTx(), "read committed on"},
	} {
		e.mustRun(t, tc.tx, oneRow(isoSQL))
		before := e.writes.Load()
		s, _ := e.mustRun(t, tc.tx, oneRow(isoSQL))
		if got := s.body(t); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
		if n := e.writes.Load() - before; n != 1 {
			t.Errorf("%s: %d writes, want 1 (one round trip)", tc.name, n)
		}
	}

	// The write commits.
	ins := sqlgen.Statements{Main: sqlgen.Statement{SQL: "WITH i AS (INSERT INTO api.notes VALUES (1, 'kept') RETURNING 1) " +
		"SELECT NULL::bigint AS total, count(*) AS page_total, '' AS body FROM i"}}
	e.mustRun(t, rw, ins)
	if got := e.adminQuery(t, "SELECT string_agg(body, ',') FROM api.notes"); got != "kept" {
		t.Errorf("notes after a committed write: %s", got)
	}

	// A statement that fails: the error, then the connection is idle again (rolled back, not replaced).
	_, _, err := e.run(t, rw, oneRow("1/0"))
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "22012" {
		t.Fatalf("failed statement: %v, want 22012", err)
	}
	// Rolled back on request: no error, nothing written.
	rb := sqlgen.Statements{
		Main: sqlgen.Statement{SQL: "WITH i AS (INSERT INTO api.notes VALUES (2, 'rolled back') RETURNING 1) " +
			"SELECT NULL::bigint AS total, count(*) AS page_total, '' AS body FROM i"},
		Check: "DO $pgway$ BEGIN RAISE SQLSTATE '" + sqlgen.RollbackCode + "'; END $pgway$",
	}
	if _, _, err := e.run(t, rw, rb); err != nil {
		t.Fatalf("rolled back on request: %v", err)
	}
	if got := e.adminQuery(t, "SELECT string_agg(body, ',') FROM api.notes"); got != "kept" {
		t.Errorf("notes after a rollback: %s", got)
	}
	if got := e.pid(t); got != pid {
		t.Errorf("the connection was replaced (backend %d, then %d)", pid, got)
	}
	e.onConn(t, func(pc *pgconn.PgConn) {
		if pc.TxStatus() != 'I' {
			t.Errorf("transaction status %c, want I", pc.TxStatus())
		}
		if got := connQuery(t, pc, "SELECT "+isoSQL); got[0] != "read committed off" {
			t.Errorf("after the requests the connection has %q, want its own level back", got[0])
		}
	})

	// A new schema generation deallocates the prepared statements first, in the same pipeline.
	ro.Generation = 2
	if s, _ := e.mustRun(t, ro, oneRow(isoSQL)); s.body(t) != "serializable on" {
		t.Errorf("after DEALLOCATE ALL: %q", s.body(t))
	}
	// Without prepared statements (db-prepared-statements = false).
	e.exec.NoPrepare = true
	if s, _ := e.mustRun(t, ro, oneRow(isoSQL)); s.body(t) != "serializable on" {
		t.Errorf("unprepared: %q", s.body(t))
	}
	if _, _, err := e.run(t, rw, oneRow("1/0")); err == nil {
		t.Error("unprepared failed statement: no error")
	}
	if got := e.pid(t); got != pid {
		t.Errorf("the connection was replaced after an unprepared failure (backend %d, then %d)", pid, got)
	}
}
