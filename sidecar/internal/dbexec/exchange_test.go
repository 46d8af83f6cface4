package dbexec

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// seenSQL is a main statement reporting what it runs under: the role, the request GUCs and the settings.
const seenSQL = `json_build_object(
  'user', current_user, 'search_path', current_setting('search_path'),
  'claims', current_setting('request.jwt.claims'), 'method', current_setting('request.method'),
  'path', current_setting('request.path'), 'headers', current_setting('request.headers'),
  'cookies', current_setting('request.cookies'), 'read_only', current_setting('transaction_read_only'),
  'timezone', current_setting('timezone'), 'app', current_setting('app.settings.k', true),
  'statement_timeout', current_setting('statement_timeout'), 'work_mem', current_setting('work_mem'))`

// TestSettingsInOneRoundTrip: the settings statement and the main statement are sent in one write and run in
// one transaction: the main statement sees the role, the request GUCs and every setting (all set with
// set_config(…, true), local to the transaction), in their order of precedence; none of them outlives it.
func TestSettingsInOneRoundTrip(t *testing.T) {
	e := newEnv(t, 1)
	e.exec.AppSettings = [][2]string{{"k", "v"}}
	e.exec.StatementTimeout = "30000"
	tx := Tx{
		Role: anon, Claims: `{"role":"pgway_dbexec_anon","sub":"ann"}`, SearchPath: `"api", "public"`,
		Method: "GET", Path: "/items", Headers: `{"accept":"*/*"}`, Cookies: `{"c":"1"}`, ReadOnly: true,
		Timezone: "Asia/Tokyo", RoleSettings: [][2]string{{"statement_timeout", "5s"}, {"work_mem", "8MB"}},
	}
	e.mustRun(t, tx, oneRow("1")) // the connection is opened and the statements prepared
	before := e.writes.Load()
	s, _ := e.mustRun(t, tx, oneRow(seenSQL))
	if n := e.writes.Load() - before; n != 1 {
		t.Errorf("%d writes for one request, want 1 (one round trip)", n)
	}
	var seen map[string]any
	if err := json.Unmarshal([]byte(s.body(t)), &seen); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"user": anon, "search_path": `"api", "public"`, "claims": `{"role":"pgway_dbexec_anon","sub":"ann"}`,
		"method": "GET", "path": "/items", "headers": `{"accept":"*/*"}`, "cookies": `{"c":"1"}`,
		"read_only": "on", "timezone": "Asia/Tokyo", "app": "v",
		// The role's setting overrides db-statement-timeout, set before it.
		"statement_timeout": "5s", "work_mem": "8MB",
	}
	for k, v := range want {
		if seen[k] != v {
			t.Errorf("%s = %#v, want %#v", k, seen[k], v)
		}
	}
	// The settings were local to the transaction: the connection is back to the session's own.
	e.onConn(t, func(pc *pgconn.PgConn) {
		got := connQuery(t, pc, "SELECT concat_ws('|', current_user = session_user, current_setting('request.method', true), "+
			"current_setting('transaction_read_only'), current_setting('work_mem'))")
		if got[0] != "t||off|4MB" {
			t.Errorf("after the request the connection has %q, want its own settings back", got[0])
		}
	})

	// Without a time zone, app.settings, role settings or timeout, the settings statement is a constant one.
	e.exec.AppSettings, e.exec.StatementTimeout = nil, ""
	plain := readTx()
	s, _ = e.mustRun(t, plain, oneRow("json_build_object('user', current_user, 'ro', current_setting('transaction_read_only'), 'claims', current_setting('request.jwt.claims'))"))
	if got := s.body(t); got != `{"user" : "pgway_dbexec_anon", "ro" : "on", "claims" : "{}"}` {
		t.Errorf("plain read sees %s", got)
	}
}

// TestReadOnlyRefusesWrites: a read's transaction is read-only.
func TestReadOnlyRefusesWrites(t *testing.T) {
	e := newEnv(t, 1)
	st := sqlgen.Statements{Main: sqlgen.Statement{SQL: "WITH i AS (INSERT INTO api.notes VALUES (1, 'x') RETURNING 1) " +
		"SELECT NULL::bigint AS total, (SELECT count(*) FROM i) AS page_total, 'x' AS body"}}
	_, _, err := e.run(t, readTx(), st)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "25006" {
		t.Fatalf("a write in a read-only transaction: %v, want 25006", err)
	}
	if _, _, err := e.run(t, writeTx(), st); err != nil {
		t.Fatalf("the same write in a read-write transaction: %v", err)
	}
}

// TestResponseGUCs: response.headers and response.status are read back whoever set them (the pre-request
// function, the main statement, the main statement's own columns), in the same round trip, and also when the
// closing check rolls the transaction back.
func TestResponseGUCs(t *testing.T) {
	e := newEnv(t, 1)
	setStatus := "set_config('response.status', '202', true)"

	t.Run("pre-request and main statement, read after them", func(t *testing.T) {
		e.exec.PreRequest = `"api"."pre"`
		defer func() { e.exec.PreRequest = "" }()
		tx := readTx()
		tx.Response = &GUCResponse{}
		e.mustRun(t, tx, oneRow("1"))
		before := e.writes.Load()
		s, res := e.mustRun(t, tx, oneRow(setStatus))
		if n := e.writes.Load() - before; n != 1 {
			t.Errorf("%d writes, want 1", n)
		}
		if s.body(t) != "202" || string(res.GUC.Headers) != `[{"X-Pre": "GET"}]` || string(res.GUC.Status) != "202" {
			t.Errorf("body %q, GUCs %s %s", s.bodies, res.GUC.Headers, res.GUC.Status)
		}
	})

	t.Run("a plain read does not ask", func(t *testing.T) {
		_, res := e.mustRun(t, readTx(), oneRow(setStatus))
		if res.GUC.Status != nil {
			t.Errorf("status %s read without Tx.Response", res.GUC.Status)
		}
	})

	t.Run("the main statement's own columns", func(t *testing.T) {
		st := sqlgen.Statements{GUCColumns: true, Main: sqlgen.Statement{SQL: "SELECT NULL::bigint AS total, 1::bigint AS page_total, " +
			"'x' AS body, " + sqlgen.ResponseGUCColumns + " FROM (SELECT " + setStatus + ", " +
			`set_config('response.headers', '[{"X-Main": "1"}]', true)) s`}}
		_, res := e.mustRun(t, writeTx(), st)
		if string(res.GUC.Headers) != `[{"X-Main": "1"}]` || string(res.GUC.Status) != "202" {
			t.Errorf("GUCs %s %s", res.GUC.Headers, res.GUC.Status)
		}
	})

	t.Run("kept when the check rolls back", func(t *testing.T) {
		st := sqlgen.Statements{
			Main: sqlgen.Statement{SQL: "WITH i AS (INSERT INTO api.notes VALUES (7, 'rolled back') RETURNING 1) " +
				"SELECT NULL::bigint AS total, (SELECT count(*) FROM i) AS page_total, " + setStatus + " AS body"},
			Check: "DO $pgway$ BEGIN RAISE SQLSTATE '" + sqlgen.RollbackCode + "'; END $pgway$",
		}
		tx := writeTx()
		tx.Response = &GUCResponse{}
		s, res := e.mustRun(t, tx, st)
		if s.body(t) != "202" || res.PageTotal != 1 || string(res.GUC.Status) != "202" {
			t.Errorf("body %q, page_total %d, status %s", s.bodies, res.PageTotal, res.GUC.Status)
		}
		if n := e.adminQuery(t, "SELECT count(*)::text FROM api.notes WHERE id = 7"); n != "0" {
			t.Errorf("%s rows after the rollback", n)
		}
	})
}

// TestClosingCheck: the check runs after the main statement in the same transaction; RollbackCode rolls back
// a request that succeeded (Run reports no error), any other error rolls back and is reported.
func TestClosingCheck(t *testing.T) {
	e := newEnv(t, 1)
	body := func(n int) string {
		return `[{"id":` + itoa(n) + `,"body":"a"},{"id":` + itoa(n+1) + `,"body":"b"}]`
	}
	post := func(prefer, accept string, id int) request.Input {
		return request.Input{Method: "POST", Path: "/notes", ContentType: "application/json", Prefer: prefer,
			Accept: accept, Body: []byte(body(id))}
	}
	count := func() string { return e.adminQuery(t, "SELECT count(*)::text FROM api.notes") }

	st, tx := e.build(t, post("tx=rollback", "", 1), plan.Rules{TxEnd: "commit-allow-override"})
	if st.Check == "" {
		t.Fatal("tx=rollback builds no check")
	}
	if _, res := e.mustRun(t, tx, st); res.PageTotal != 2 {
		t.Errorf("page_total %d, want 2", res.PageTotal)
	}
	if n := count(); n != "0" {
		t.Errorf("%s notes after tx=rollback", n)
	}

	st, tx = e.build(t, post("return=representation", "application/vnd.pgrst.object+json", 10), plan.Rules{})
	_, _, err := e.run(t, tx, st)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "PGRST" || !strings.Contains(pe.Message, "PGRST116") {
		t.Fatalf("two rows for the object media type: %v, want the check's PGRST116", err)
	}
	if n := count(); n != "0" {
		t.Errorf("%s notes after a failed check", n)
	}

	st, tx = e.build(t, post("", "", 20), plan.Rules{})
	if st.Check != "" {
		t.Fatalf("a plain insert has a check: %s", st.Check)
	}
	e.mustRun(t, tx, st)
	if n := count(); n != "2" {
		t.Errorf("%s notes after a committed insert, want 2", n)
	}
}

// preparedNames are the pgway statements prepared on the pool's connection, by name, with their text.
func preparedNames(t *testing.T, e *env) map[string]string {
	t.Helper()
	out := map[string]string{}
	e.onConn(t, func(pc *pgconn.PgConn) {
		for _, row := range connQuery(t, pc, `SELECT name || E'\t' || statement FROM pg_prepared_statements WHERE name LIKE 'pgway\_%'`) {
			name, sql, _ := strings.Cut(row, "\t")
			out[name] = sql
		}
	})
	return out
}

// TestPreparedStatements: statements are prepared once per connection and reused; past maxPrepared, and when
// the schema generation changes, they are deallocated (in the same round trip); NoPrepare prepares nothing.
func TestPreparedStatements(t *testing.T) {
	e := newEnv(t, 1)
	tx := readTx()
	tx.Generation = 1
	main := oneRow("'one'")
	e.mustRun(t, tx, main)
	first := preparedNames(t, e)
	if len(first) != 2 {
		t.Fatalf("prepared after one request: %v, want the settings and the main statement", first)
	}
	e.mustRun(t, tx, main)
	e.mustRun(t, tx, main)
	if again := preparedNames(t, e); len(again) != 2 {
		t.Fatalf("prepared after three identical requests: %v, want the same two", again)
	}
	for _, sql := range first {
		if sql != main.Main.SQL && !strings.HasPrefix(sql, "SELECT set_config('search_path'") {
			t.Errorf("unexpected prepared statement %q", sql)
		}
	}

	// A new schema generation drops them: a reload may change what the same text returns.
	tx.Generation = 2
	before := e.writes.Load()
	s, _ := e.mustRun(t, tx, main)
	if n := e.writes.Load() - before; n != 1 {
		t.Errorf("%d writes with DEALLOCATE ALL, want 1", n)
	}
	if s.body(t) != "one" {
		t.Errorf("body %q after the new generation", s.bodies)
	}
	second := preparedNames(t, e)
	if len(second) != 2 {
		t.Fatalf("prepared after the new generation: %v", second)
	}
	for name := range first {
		if _, ok := second[name]; ok {
			t.Errorf("%s survived the new generation", name)
		}
	}

	// Up to maxPrepared statements are kept; the request that would pass it deallocates them all first.
	for i := len(second); i < maxPrepared; i++ {
		e.mustRun(t, tx, oneRow("'distinct "+itoa(i)+"'"))
	}
	if n := len(preparedNames(t, e)); n != maxPrepared {
		t.Fatalf("%d statements prepared, want maxPrepared (%d)", n, maxPrepared)
	}
	s, _ = e.mustRun(t, tx, oneRow("'past the limit'"))
	if s.body(t) != "past the limit" {
		t.Errorf("body %q", s.bodies)
	}
	if after := preparedNames(t, e); len(after) != 2 {
		t.Errorf("%d statements after passing maxPrepared, want 2 (settings, main)", len(after))
	}
	e.onConn(t, func(pc *pgconn.PgConn) {
		sc, _ := stmtsOf(pc)
		if len(sc.stmts) != 2 {
			t.Errorf("the connection's cache holds %d statements, want 2", len(sc.stmts))
		}
	})

	// db-prepared-statements = false: nothing is prepared (a transaction-pooling proxy may switch connections).
	np := newEnv(t, 1)
	np.exec.NoPrepare = true
	for range 3 {
		if s, _ := np.mustRun(t, tx, main); s.body(t) != "one" {
			t.Errorf("body %q without prepared statements", s.bodies)
		}
	}
	np.onConn(t, func(pc *pgconn.PgConn) {
		if got := connQuery(t, pc, "SELECT count(*)::text FROM pg_prepared_statements"); got[0] != "0" {
			t.Errorf("%s statements prepared with NoPrepare", got[0])
		}
	})
}

// TestEstimateAndCounts: Prefer: count=planned adds the planner's estimate (EXPLAIN) to the same round trip;
// count=exact reads the total from the main statement.
func TestEstimateAndCounts(t *testing.T) {
	e := newEnv(t, 1)
	get := func(prefer string) request.Input {
		return request.Input{Method: "GET", Path: "/items", Query: "select=id&id=lte.15&limit=5", Prefer: prefer}
	}
	st, tx := e.build(t, get("count=planned"), plan.Rules{})
	if st.Estimate == nil {
		t.Fatal("count=planned builds no estimate")
	}
	e.mustRun(t, tx, st)
	before := e.writes.Load()
	s, res := e.mustRun(t, tx, st)
	if n := e.writes.Load() - before; n != 1 {
		t.Errorf("%d writes with the estimate, want 1", n)
	}
	// The planner's estimate of id <= 15 over 20 analyzed rows.
	if res.Estimate < 10 || res.Estimate > 20 || res.PageTotal != 5 || res.Total != -1 || len(s.rows) != 5 {
		t.Errorf("estimate %d, page %d, total %d, %d rows; want ~15, 5, -1, 5", res.Estimate, res.PageTotal, res.Total, len(s.rows))
	}
	st, tx = e.build(t, get("count=exact"), plan.Rules{})
	if _, res = e.mustRun(t, tx, st); res.Total != 15 || res.PageTotal != 5 || res.Estimate != -1 {
		t.Errorf("count=exact: total %d, page %d, estimate %d", res.Total, res.PageTotal, res.Estimate)
	}
}
