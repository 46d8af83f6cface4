package dbexec

import (
	"context"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fixtureSQL is the database the executor's tests run against: a table to read, one to write, a role to
// impersonate, and functions that end their own backend on demand.
const fixtureSQL = `
DO $$ BEGIN CREATE ROLE pgway_dbexec_anon NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE SCHEMA api;
GRANT USAGE ON SCHEMA api TO pgway_dbexec_anon;
CREATE TABLE api.items (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO api.items SELECT g, 'item ' || g FROM generate_series(1, 20) g;
ANALYZE api.items;
CREATE TABLE api.notes (id int PRIMARY KEY, body text NOT NULL);
GRANT SELECT ON api.items TO pgway_dbexec_anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON api.notes TO pgway_dbexec_anon;
-- attempts counts how often a statement ran: a sequence is not rolled back with its transaction.
CREATE SEQUENCE api.attempts;
GRANT USAGE ON SEQUENCE api.attempts TO pgway_dbexec_anon;
-- die ends the calling backend when it is the one named (a connection lost in the middle of a statement);
-- SECURITY DEFINER, so that the superuser signals its own backend whatever role the request runs as.
CREATE FUNCTION api.die(pid int) RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  IF pid = pg_backend_pid() THEN
    PERFORM pg_terminate_backend(pg_backend_pid());
    PERFORM pg_sleep(5);
  END IF;
  RETURN true;
END $$;
GRANT EXECUTE ON FUNCTION api.die(int) TO pgway_dbexec_anon;
-- A note whose body is 'die at commit' ends its backend when the transaction commits (a deferred trigger).
CREATE FUNCTION api.die_at_commit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  IF NEW.body = 'die at commit' THEN
    PERFORM pg_terminate_backend(pg_backend_pid());
    PERFORM pg_sleep(5);
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER notes_die AFTER INSERT ON api.notes DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION api.die_at_commit();
-- A note whose body is 'slow' takes 30 s to insert.
CREATE FUNCTION api.notes_slow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF NEW.body = 'slow' THEN PERFORM pg_sleep(30); END IF; RETURN NEW; END $$;
CREATE TRIGGER notes_slow BEFORE INSERT ON api.notes FOR EACH ROW EXECUTE FUNCTION api.notes_slow();
-- Every insert into notes leaves a response header when the statement ends (read after the main statement).
CREATE FUNCTION api.notes_header() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM set_config('response.headers', '[{"X-Notes": "inserted"}]', true); RETURN NULL; END $$;
CREATE TRIGGER notes_header AFTER INSERT ON api.notes FOR EACH STATEMENT EXECUTE FUNCTION api.notes_header();
-- pre is a db-pre-request function: it leaves a response header and status.
CREATE FUNCTION api.pre() RETURNS void LANGUAGE sql AS $$
  SELECT set_config('response.headers', '[{"X-Pre": "' || current_setting('request.method') || '"}]', true);
  SELECT set_config('response.status', '203', true);
$$;
GRANT EXECUTE ON FUNCTION api.pre() TO pgway_dbexec_anon;
`

const anon = "pgway_dbexec_anon"

// env is one test's database, a pool on it (maxConns connections, counted writes) and an executor over it.
type env struct {
	db    *pgtest.DB
	pool  *pgxpool.Pool
	exec  *Executor
	admin *pgx.Conn
	// writes counts the Write calls on every connection of the pool: one per round trip the client starts.
	writes atomic.Int64
	cache  *schemacache.Cache
}

func newEnv(t *testing.T, maxConns int32) *env {
	t.Helper()
	e := &env{db: pgtest.NewDatabase(t, fixtureSQL)}
	cfg, err := pgxpool.ParseConfig(e.db.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = maxConns
	// As the server configures its pool: untyped text parameters, and a cancel request for a cancelled context.
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	cfg.ConnConfig.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 5 * time.Second}
	}
	// No liveness ping on acquire: a dead pooled connection reaches the exchange, whose retries are tested.
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	dial := cfg.ConnConfig.DialFunc
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: c, writes: &e.writes}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if e.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.pool.Close)
	if e.admin, err = pgx.Connect(ctx, e.db.URL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.admin.Close(context.Background()) })
	e.exec = &Executor{Pool: e.pool, AcquireTimeout: 5 * time.Second}
	return e
}

// countingConn counts the writes on a connection.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// adminQuery runs sql on the superuser connection (outside the pool) and returns the first column of its
// first row as text.
func (e *env) adminQuery(t *testing.T, sql string, args ...any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out *string
	if err := e.admin.QueryRow(ctx, sql, args...).Scan(&out); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if out == nil {
		return "<null>"
	}
	return *out
}

// onConn runs f on the pool's connection (the pool has one): what a request's transaction left behind on it.
func (e *env) onConn(t *testing.T, f func(pc *pgconn.PgConn)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := e.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	f(c.Conn().PgConn())
}

// connQuery runs sql with the simple protocol on pc (no prepared statement of its own) and returns the rows'
// first columns.
func connQuery(t *testing.T, pc *pgconn.PgConn, sql string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := pc.Exec(ctx, sql).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var out []string
	for _, r := range res {
		for _, row := range r.Rows {
			out = append(out, string(row[0]))
		}
	}
	return out
}

// pid is the backend process id of the pool's (single) connection.
func (e *env) pid(t *testing.T) uint32 {
	var pid uint32
	e.onConn(t, func(pc *pgconn.PgConn) { pid = pc.PID() })
	return pid
}

// loadCache loads the schema cache of api (once per env).
func (e *env) loadCache(t *testing.T) *schemacache.Cache {
	t.Helper()
	if e.cache == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := schemacache.Load(ctx, e.admin, []string{"api"})
		if err != nil {
			t.Fatal(err)
		}
		e.cache = c
	}
	return e.cache
}

// build plans a request as the server does and returns its statements and the transaction it runs in.
func (e *env) build(t *testing.T, in request.Input, rules plan.Rules) (sqlgen.Statements, Tx) {
	t.Helper()
	req, err := request.Parse(in)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if rules.TxEnd == "" {
		rules.TxEnd = "commit"
	}
	a, err := plan.New(req, e.loadCache(t), "api", &rules)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	tx := Tx{Role: anon, SearchPath: `"api"`, Method: req.Method, Path: in.Path, ReadOnly: a.ReadOnly}
	if a.Kind != plan.KindRead {
		tx.Response = &GUCResponse{}
	}
	return sqlgen.For(a), tx
}

// oneRow is a one-row main statement with the given body expression.
func oneRow(body string, args ...any) sqlgen.Statements {
	return sqlgen.Statements{Main: sqlgen.Statement{
		SQL:  "SELECT NULL::bigint AS total, 1::bigint AS page_total, (" + body + ")::text AS body",
		Args: args,
	}}
}

// sink records what a run hands it.
type sink struct {
	bodies []string
	rows   []sinkRow
	resets int
	// emitAfter makes Emitted true once this many rows arrived (0: never).
	emitAfter int
}

type sinkRow struct {
	total int64
	row   *string
}

func (s *sink) Body(b []byte) error {
	s.bodies = append(s.bodies, string(b))
	return nil
}

func (s *sink) Row(total int64, row []byte) error {
	r := sinkRow{total: total}
	if row != nil {
		v := string(row)
		r.row = &v
	}
	s.rows = append(s.rows, r)
	return nil
}

func (s *sink) Reset() {
	s.resets++
	s.bodies, s.rows = nil, nil
}

func (s *sink) Emitted() bool { return s.emitAfter > 0 && len(s.rows) >= s.emitAfter }

func (s *sink) body(t *testing.T) string {
	t.Helper()
	if len(s.bodies) != 1 {
		t.Fatalf("%d bodies, want 1: %q", len(s.bodies), s.bodies)
	}
	return s.bodies[0]
}

// run runs st under tx with a fresh sink and a 30 s deadline.
func (e *env) run(t *testing.T, tx Tx, st sqlgen.Statements) (*sink, Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := &sink{}
	var res Result
	err := e.exec.Run(ctx, tx, st, s, &res)
	return s, res, err
}

// mustRun is run that fails the test on error.
func (e *env) mustRun(t *testing.T, tx Tx, st sqlgen.Statements) (*sink, Result) {
	t.Helper()
	s, res, err := e.run(t, tx, st)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, st.Main.SQL)
	}
	return s, res
}

func itoa(n int) string { return strconv.Itoa(n) }

// readTx is a read-only request's transaction as the anonymous role.
func readTx() Tx {
	return Tx{Role: anon, SearchPath: `"api"`, Method: "GET", Path: "/items", ReadOnly: true}
}

// writeTx is a read-write request's transaction as the anonymous role.
func writeTx() Tx { return Tx{Role: anon, SearchPath: `"api"`, Method: "POST", Path: "/notes"} }
