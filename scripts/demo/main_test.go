package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgway/pgway/internal/pgtest"
)

// TestSetupFallback runs the demo's setup with a pgway that has no migrate command: the roles and the fallback
// schema must load, and the example requests must name its tables.
func TestSetupFallback(t *testing.T) {
	if _, err := pgtest.FindBinDir(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	srv, err := pgtest.StartServer(ctx, pgtest.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })

	fake := filepath.Join(t.TempDir(), "pgway")
	script := "#!/bin/sh\necho \"pgway: unknown command \\\"$1\\\"\" >&2\nexit 2\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := setup(ctx, srv, fake, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	got, err := exampleRequests(ctx, srv.URL(dbName), "http://localhost:3000")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"curl 'http://localhost:3000/todos?limit=2&order=id.desc'",
		"curl 'http://localhost:3000/todos?limit=2' -H 'Accept-Profile: api_v1'",
		"curl 'http://localhost:3000/' -H 'Accept: application/openapi+json'",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("examples:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// authenticator can become web_anon and read both versions.
	as := srv.URLAs(dbName, "authenticator", "")
	if err := execSQL(ctx, as, "SET ROLE web_anon; SELECT title FROM api_v2.todos; SELECT task FROM api_v1.todos;"); err != nil {
		t.Fatalf("reading as web_anon: %v", err)
	}
	if err := execSQL(ctx, as, "SET ROLE web_anon; INSERT INTO api_v2.todos (title) VALUES ('x')"); err == nil {
		t.Fatal("web_anon may insert; want read-only")
	}
	if err := execSQL(ctx, as, "SET ROLE web_user; INSERT INTO api_v2.todos (title) VALUES ('x')"); err != nil {
		t.Fatalf("web_user insert: %v", err)
	}
}

// TestSetupMigrateFails reports a failing migrate command instead of falling back.
func TestSetupMigrateFails(t *testing.T) {
	if _, err := pgtest.FindBinDir(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	srv, err := pgtest.StartServer(ctx, pgtest.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	fake := filepath.Join(t.TempDir(), "pgway")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'migration 3 failed' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	err = setup(ctx, srv, fake, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "migration 3 failed") {
		t.Fatalf("setup error = %v, want the migrate output", err)
	}
}
