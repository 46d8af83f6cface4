package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/pgtest"
)

// pgwayCmd runs `pgway args...` in process and returns the exit status and output.
func pgwayCmd(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// scalar runs a one-value query as superuser.
func scalar(t *testing.T, url, sql string) string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v *string
	if err := conn.QueryRow(context.Background(), sql).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if v == nil {
		return "<null>"
	}
	return *v
}

func TestMigrateBundled(t *testing.T) {
	db := pgtest.NewDatabase(t)
	env := map[string]string{"PGRST_DB_URI": db.URL}
	steps := []struct {
		args     []string
		wantOut  string
		checkSQL string
		want     string
	}{
		{args: []string{"migrate", "status"}, wantOut: "version 0 of 5"},
		{args: []string{"migrate", "up"}, wantOut: "up 005 005_api_v2.sql",
			checkSQL: "SELECT string_agg(title || '/' || year, ',' ORDER BY id) FROM api_v1.books WHERE id <= 2",
			want:     "A Wizard of Earthsea/1968,The Dispossessed/1974"},
		{args: []string{"migrate"}, wantOut: "version 5 of 5",
			checkSQL: "SELECT string_agg(name || '=' || status, ',' ORDER BY name) FROM pgway.api_versions",
			want:     "v1=active,v2=current"},
		{args: []string{"migrate", "down", "1"}, wantOut: "down 005 005_api_v2.sql",
			checkSQL: "SELECT coalesce(to_regnamespace('api_v2')::text, 'gone') || ' ' || (SELECT status FROM pgway.api_versions WHERE name = 'v1')",
			want:     "gone current"},
		{args: []string{"migrate", "to", "0", "--db-uri", db.URL}, wantOut: "version 0 of 5",
			checkSQL: "SELECT coalesce(to_regnamespace('library')::text, 'gone')", want: "gone"},
		{args: []string{"migrate", "up"}, wantOut: "version 5 of 5"},
	}
	for _, s := range steps {
		code, out, errOut := pgwayCmd(t, env, s.args...)
		if code != 0 {
			t.Fatalf("pgway %v: exit %d\n%s%s", s.args, code, out, errOut)
		}
		if !strings.Contains(out, s.wantOut) {
			t.Fatalf("pgway %v: output %q lacks %q", s.args, out, s.wantOut)
		}
		if s.checkSQL != "" {
			if got := scalar(t, db.URL, s.checkSQL); got != s.want {
				t.Fatalf("after pgway %v: %s = %q, want %q", s.args, s.checkSQL, got, s.want)
			}
		}
	}
}

// TestMigrateAuthenticatorPassword: docker-compose sets the authenticator's password through the migration
// connection's options, never through a file.
func TestMigrateAuthenticatorPassword(t *testing.T) {
	db := pgtest.NewDatabase(t)
	uri := db.URL + "?options=-c%20pgway.authenticator_password%3Dsecret-for-test"
	if strings.Contains(db.URL, "?") {
		uri = db.URL + "&options=-c%20pgway.authenticator_password%3Dsecret-for-test"
	}
	if code, out, errOut := pgwayCmd(t, nil, "migrate", "up", "--db-uri", uri); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if got := scalar(t, db.URL, "SELECT (rolpassword IS NOT NULL)::text FROM pg_authid WHERE rolname = 'authenticator'"); got != "true" {
		t.Fatalf("authenticator password set: %s", got)
	}
	// Leave the cluster-wide role as the other tests expect it.
	db.Exec(t, "ALTER ROLE authenticator PASSWORD NULL")
}

func TestMigrateFailureLeavesNothing(t *testing.T) {
	db := pgtest.NewDatabase(t)
	dir := t.TempDir()
	files := map[string]string{
		"001_ok.sql":  "CREATE TABLE good (id int);\n---- create above / drop below ----\nDROP TABLE good;\n",
		"002_bad.sql": "CREATE TABLE half (id int);\nINSERT INTO good VALUES (1);\nSELECT no_such_column FROM good;\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := pgwayCmd(t, nil, "migrate", "up", "--dir", dir, "--db-uri", db.URL)
	if code != 1 || !strings.Contains(errOut, "002_bad.sql") {
		t.Fatalf("exit %d, stderr %q (out %q), want 1 naming 002_bad.sql", code, errOut, out)
	}
	got := scalar(t, db.URL, "SELECT (SELECT version::text FROM public.pgway_schema_version) || ' ' || "+
		"coalesce(to_regclass('public.half')::text, 'no-half') || ' ' || (SELECT count(*) FROM good)::text")
	if got != "1 no-half 0" {
		t.Fatalf("after the failure: %q, want version 1, no table half, nothing inserted", got)
	}
}

func TestMigrateUsage(t *testing.T) {
	for _, args := range [][]string{{"migrate", "sideways"}, {"migrate", "down"}, {"migrate", "to", "x"}, {"migrate", "up", "--dir", "/nonexistent"}} {
		if code, _, _ := pgwayCmd(t, map[string]string{"PGRST_DB_URI": "postgres://x"}, args...); code != 2 {
			t.Errorf("pgway %v: exit %d, want 2", args, code)
		}
	}
}
