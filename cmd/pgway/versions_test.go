package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/migrations"
)

func TestVersionsCommand(t *testing.T) {
	db := pgtest.NewDatabase(t)
	env := map[string]string{"PGRST_DB_URI": db.URL}
	mustRun := func(args ...string) string {
		t.Helper()
		code, out, errOut := pgwayCmd(t, env, args...)
		if code != 0 {
			t.Fatalf("pgway %v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}
	mustRun("migrate", "up")
	out := mustRun("versions", "list")
	if !strings.Contains(out, "v1       api_v1  active") || !strings.Contains(out, "v2       api_v2  current") {
		t.Fatalf("list:\n%s", out)
	}
	mustRun("versions", "deprecate", "v1", "--sunset", "2099-01-01")
	got := scalar(t, db.URL, "SELECT status || ' ' || to_char(sunset_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') || ' ' || successor || ' ' || (deprecated_at IS NOT NULL) FROM pgway.api_versions WHERE name = 'v1'")
	if got != "deprecated 2099-01-01 v2 true" {
		t.Fatalf("after deprecate: %q", got)
	}
	mustRun("versions", "promote", "v1")
	if got := scalar(t, db.URL, "SELECT string_agg(name || '=' || status, ',' ORDER BY name) FROM pgway.api_versions"); got != "v1=current,v2=active" {
		t.Fatalf("after promote: %q", got)
	}
	mustRun("versions", "promote", "v2")

	// versions new writes a migration that applies cleanly after the bundled set.
	dir := t.TempDir()
	err := fs.WalkDir(migrations.Example(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.Example(), p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	out = mustRun("versions", "new", "v3", "--from", "v2", "--dir", dir)
	if !strings.Contains(out, "006_api_v3.sql") {
		t.Fatalf("new: %s", out)
	}
	mustRun("migrate", "up", "--dir", dir)
	got = scalar(t, db.URL, "SELECT (SELECT count(*) FROM api_v3.books)::text || ' ' || (SELECT status FROM pgway.api_versions WHERE name = 'v3') || ' ' || "+
		"api_v3.average_rating(1)::text || ' ' || has_table_privilege('web_anon', 'api_v3.books', 'SELECT')::text")
	if got != "5 active 4.50 true" {
		t.Fatalf("after applying the new version: %q", got)
	}
	mustRun("migrate", "down", "1", "--dir", dir)
	if got := scalar(t, db.URL, "SELECT coalesce(to_regnamespace('api_v3')::text, 'gone')"); got != "gone" {
		t.Fatalf("down: %q", got)
	}

	for _, args := range [][]string{{"versions", "frobnicate"}, {"versions", "deprecate"}, {"versions", "new", "v3"},
		{"versions", "deprecate", "x1"}, {"versions", "deprecate", "v1", "--sunset", "soon"}} {
		if code, _, _ := pgwayCmd(t, env, args...); code != 2 {
			t.Errorf("pgway %v: exit %d, want 2", args, code)
		}
	}
	if code, _, errOut := pgwayCmd(t, env, "versions", "deprecate", "v9"); code != 1 || !strings.Contains(errOut, "no version v9") {
		t.Errorf("deprecate v9: %d %s", code, errOut)
	}
}
