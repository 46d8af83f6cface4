package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The one server of this test binary, started on first use by NewDatabase and stopped by Main.
var (
	mainCalled atomic.Bool
	srvOnce    sync.Once
	srv        *Server
	srvErr     error
	srvMu      sync.Mutex // guards stopping srv against starting it
	stopped    bool

	fixtureMu sync.Mutex // serialises fixtures in this process: roles are cluster-wide and CREATE ROLE races
	seq       atomic.Int64
	runID     = randomHex(3)
)

// Main runs the tests of a package that uses NewDatabase, then stops the throwaway server if one was started:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// The server is started lazily, so tests that never call NewDatabase cost nothing. With PGWAY_TEST_DATABASE_URL
// set to a superuser URL, that server is used instead and left running.
func Main(m *testing.M) {
	mainCalled.Store(true)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		stopServer()
		fmt.Fprintf(os.Stderr, "pgtest: %v: stopped the test PostgreSQL\n", s)
		os.Exit(1)
	}()
	code := m.Run()
	if err := stopServer(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
	}
	os.Exit(code)
}

// server returns the shared server, starting it on first use.
func server() (*Server, error) {
	srvOnce.Do(func() {
		if u := os.Getenv(EnvDatabaseURL); u != "" {
			srv, srvErr = Existing(u)
			return
		}
		if !mainCalled.Load() {
			srvErr = errors.New("pgtest: add `func TestMain(m *testing.M) { pgtest.Main(m) }` to the package's tests " +
				"so the throwaway PostgreSQL is stopped after them")
			return
		}
		srvMu.Lock()
		defer srvMu.Unlock()
		if stopped {
			srvErr = errors.New("pgtest: server already stopped")
			return
		}
		srv, srvErr = StartServer(context.Background(), ServerOptions{})
		if srvErr != nil {
			srvErr = fmt.Errorf("pgtest: starting PostgreSQL: %w", srvErr)
		}
	})
	return srv, srvErr
}

func stopServer() error {
	srvMu.Lock()
	defer srvMu.Unlock()
	stopped = true
	if srv == nil {
		return nil
	}
	return srv.Stop()
}

// DB is a fresh database created for one test and dropped when it ends.
type DB struct {
	URL  string // superuser connection URL of this database
	Name string // database name

	srv *Server
}

// NewDatabase creates a uniquely named database, runs each fixture in it as superuser (a multi-statement
// script, in order) and drops it, terminating its connections, when t ends. It is safe for parallel tests.
// Roles are cluster-wide, so fixtures must create them idempotently.
func NewDatabase(t testing.TB, fixtureSQL ...string) *DB {
	t.Helper()
	s, err := server()
	if err != nil {
		t.Fatal(err)
	}
	name := dbName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := adminExec(ctx, s, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	db := &DB{URL: s.URL(name), Name: name, srv: s}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := adminExec(ctx, s, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: dropping database %s: %v", name, err)
		}
	})
	for i, sql := range fixtureSQL {
		if err := runFixture(ctx, db.URL, sql); err != nil {
			t.Fatalf("pgtest: fixture %d of %d: %v", i+1, len(fixtureSQL), err)
		}
	}
	return db
}

// URLAs returns the URL of the same database for another login role; an empty password is left out.
func (db *DB) URLAs(role, password string) string {
	return db.srv.URLAs(db.Name, role, password)
}

// Exec runs sql (one or more statements, no parameters) in the database as superuser and fails t on error.
func (db *DB) Exec(t testing.TB, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := execURL(ctx, db.URL, sql); err != nil {
		t.Fatalf("pgtest: exec in %s: %v", db.Name, err)
	}
}

// runFixture runs one fixture script. Scripts run one at a time per process, and one that fails only because
// another process created the same role or grant concurrently is retried: a script without explicit
// transaction control runs in one implicit transaction, so a failed try leaves nothing behind.
func runFixture(ctx context.Context, url, sql string) error {
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = execURL(ctx, url, sql); err == nil || !isConcurrencyError(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
	}
	return err
}

// isConcurrencyError reports errors caused by concurrent catalog changes in other databases of the cluster.
func isConcurrencyError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "23505", "42710", "40001", "40P01": // unique_violation (pg_authid), duplicate_object, serialization, deadlock
		return true
	case "XX000":
		return strings.Contains(pe.Message, "tuple concurrently updated")
	}
	return false
}

func adminExec(ctx context.Context, s *Server, sql string) error {
	return execURL(ctx, s.URL("postgres"), sql)
}

// execURL connects, runs sql with the simple protocol (so several statements are allowed) and disconnects.
func execURL(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return describe(err, sql)
	}
	return nil
}

// describe adds the failing line of sql to a PostgreSQL error that carries a position.
func describe(err error, sql string) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Position <= 0 || int(pe.Position) > len(sql)+1 {
		return err
	}
	// Position counts characters from 1.
	runes := []rune(sql)
	pos := int(pe.Position) - 1
	if pos > len(runes) {
		return err
	}
	before := string(runes[:pos])
	line := strings.Count(before, "\n") + 1
	start := strings.LastIndexByte(before, '\n') + 1
	rest := sql[start:]
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		rest = rest[:i]
	}
	return fmt.Errorf("%w\nat line %d: %s", err, line, rest)
}

var nonIdent = regexp.MustCompile(`[^a-z0-9]+`)

// dbName makes a unique, readable database name from a test name: pgtest_<test>_<run id>_<n>.
func dbName(test string) string {
	s := strings.Trim(nonIdent.ReplaceAllString(strings.ToLower(test), "_"), "_")
	suffix := fmt.Sprintf("_%s_%d", runID, seq.Add(1))
	const max = 63 - len("pgtest_")
	if len(s)+len(suffix) > max {
		s = s[:max-len(suffix)]
	}
	return "pgtest_" + s + suffix
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
