package pgtest_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const rolesFixture = `
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgtest_reader') THEN
    CREATE ROLE pgtest_reader LOGIN;
  END IF;
END $$;
`

func query(t *testing.T, url, sql string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func TestFixtureIsVisible(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t, rolesFixture,
		`CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'one'), (2, 'two');`,
		`GRANT SELECT ON items TO pgtest_reader;`)
	if got := query(t, db.URL, `SELECT string_agg(name, ',' ORDER BY id) FROM items`); got != "one,two" {
		t.Fatalf("items = %q, want one,two", got)
	}
	if got := query(t, db.URL, `SELECT current_database()`); got != db.Name {
		t.Fatalf("current_database() = %q, want %q", got, db.Name)
	}
	db.Exec(t, `INSERT INTO items VALUES (3, 'three')`)
	// Another login role reaches the same database.
	reader := db.URLAs("pgtest_reader", "")
	if got := query(t, reader, `SELECT current_user || ':' || count(*) FROM items`); got != "pgtest_reader:3" {
		t.Fatalf("as reader = %q, want pgtest_reader:3", got)
	}
	if u := db.URLAs("pgtest_reader", "s3cr:t"); !strings.Contains(u, "pgtest_reader:s3cr%3At@") {
		t.Fatalf("URLAs with password = %q", u)
	}
}

func TestDatabasesAreIsolated(t *testing.T) {
	t.Parallel()
	a := pgtest.NewDatabase(t, `CREATE TABLE only_in_a (x int)`)
	b := pgtest.NewDatabase(t)
	if a.Name == b.Name || a.URL == b.URL {
		t.Fatalf("databases share a name: %q, %q", a.Name, b.Name)
	}
	if got := query(t, b.URL, `SELECT coalesce(to_regclass('only_in_a')::text, 'absent')`); got != "absent" {
		t.Fatalf("table from a visible in b: %q", got)
	}
}

func TestParallelFixturesCreatingRoles(t *testing.T) {
	for i := range 8 {
		t.Run(string(rune('a'+i)), func(t *testing.T) {
			t.Parallel()
			db := pgtest.NewDatabase(t, rolesFixture, `CREATE SCHEMA api; GRANT USAGE ON SCHEMA api TO pgtest_reader;`)
			if got := query(t, db.URL, `SELECT has_schema_privilege('pgtest_reader', 'api', 'USAGE')::text`); got != "true" {
				t.Fatalf("usage = %s", got)
			}
		})
	}
}

func TestDropOnCleanup(t *testing.T) {
	var name, adminURL string
	t.Run("inner", func(t *testing.T) {
		db := pgtest.NewDatabase(t)
		name = db.Name
		adminURL = strings.Replace(db.URL, "/"+db.Name, "/postgres", 1)
		// An open connection must not block the drop.
		conn, err := pgx.Connect(context.Background(), db.URL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
	})
	if got := query(t, adminURL, `SELECT count(*)::text FROM pg_database WHERE datname = '`+name+`'`); got != "0" {
		t.Fatalf("database %s still exists after cleanup", name)
	}
}

func TestFixtureErrorNamesLine(t *testing.T) {
	ft := &fakeT{TB: t}
	func() {
		defer func() { recover() }()
		pgtest.NewDatabase(ft, "SELECT 1;\nSELEC 2;")
	}()
	if !strings.Contains(ft.msg, "fixture 1 of 1") || !strings.Contains(ft.msg, "line 2: SELEC 2;") {
		t.Fatalf("error message = %q", ft.msg)
	}
}

// fakeT records Fatal messages instead of failing the test; cleanups go to the real test.
type fakeT struct {
	testing.TB
	msg string
}

func (f *fakeT) Fatal(args ...any) { f.msg = fmt.Sprint(args...); panic("fatal") }
func (f *fakeT) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic("fatal")
}
func (f *fakeT) Helper() {}

func TestUsesEnvURL(t *testing.T) {
	env := os.Getenv(pgtest.EnvDatabaseURL)
	if env == "" {
		t.Skip(pgtest.EnvDatabaseURL + " not set")
	}
	srv, err := pgtest.Existing(env)
	if err != nil {
		t.Fatal(err)
	}
	db := pgtest.NewDatabase(t)
	if want := srv.URL(db.Name); db.URL != want {
		t.Fatalf("db.URL = %s, want %s (on the server from %s)", db.URL, want, pgtest.EnvDatabaseURL)
	}
}
