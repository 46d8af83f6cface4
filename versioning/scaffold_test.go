package versioning_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pgway/pgway/versioning"
)

func TestReadSource(t *testing.T) {
	ctx := context.Background()
	db := bundled(t)
	src, err := versioning.ReadSource(ctx, connect(t, db.URL), "v2")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(src.Views, func(v versioning.View) bool { return v.Name == "books" })
	if src.Schema != "api_v2" || len(src.Views) != 3 || src.Views[0].Name != "authors" || i < 0 ||
		src.Views[i].Comment != "Books (v2)" || !strings.Contains(src.Views[i].Definition, "FROM library.books") {
		t.Fatalf("views of api_v2: %+v", src.Views)
	}
	if len(src.Functions) != 1 || !strings.HasPrefix(src.Functions[0], "CREATE OR REPLACE FUNCTION api_v2.average_rating(book_id integer)") {
		t.Fatalf("functions of api_v2: %q", src.Functions)
	}
	var grants []string
	for _, g := range src.Grants {
		grants = append(grants, g.Role+":"+strings.Join(g.Privileges, "+"))
	}
	if got := strings.Join(grants, " "); !strings.Contains(got, "web_anon:SELECT") || !strings.Contains(got, "web_user:DELETE+INSERT+") {
		t.Fatalf("grants of api_v2: %s", got)
	}
	// A version missing from the catalog is the schema of its conventional name.
	if src, err := versioning.ReadSource(ctx, connect(t, db.URL), "v7"); err != nil || src.Schema != "api_v7" || len(src.Views) != 0 {
		t.Fatalf("v7: %+v %v", src, err)
	}
}

// TestScaffold: the migration it writes recreates the version, with its data visible to the same roles, and
// its down part removes it; numbering follows the directory, else the applied version.
func TestScaffold(t *testing.T) {
	ctx := context.Background()
	db := bundled(t)
	conn := connect(t, db.URL)
	dir := t.TempDir()
	path, err := versioning.Scaffold(ctx, conn, "v3", "v2", dir, 5)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "006_api_v3.sql" {
		t.Fatalf("path %s", path)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	up, down, ok := strings.Cut(string(text), "---- create above / drop below ----")
	if !ok {
		t.Fatalf("no tern separator:\n%s", text)
	}
	db.Exec(t, up)
	var got string
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM api_v3.books)::text || ' ' || api_v3.average_rating(1)::text || ' ' ||
		has_table_privilege('web_anon', 'api_v3.books', 'SELECT')::text || ' ' || has_table_privilege('web_anon', 'api_v3.books', 'INSERT')::text || ' ' ||
		obj_description('api_v3.books'::regclass, 'pg_class') || ' ' || (SELECT status FROM pgway.api_versions WHERE name = 'v3')`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "5 4.50 true false Books (v2) active" {
		t.Fatalf("after the up part: %q", got)
	}
	db.Exec(t, down)
	if err := conn.QueryRow(ctx, `SELECT coalesce(to_regnamespace('api_v3')::text, 'gone') || ' ' ||
		(SELECT count(*) FROM pgway.api_versions WHERE name = 'v3')`).Scan(&got); err != nil || got != "gone 0" {
		t.Fatalf("after the down part: %q %v", got, err)
	}

	for name, body := range map[string]string{"001_a.sql": "", "007_b.sql": "", "notes.txt": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if path, err := versioning.Scaffold(ctx, conn, "v4", "v1", dir, 5); err != nil || filepath.Base(path) != "008_api_v4.sql" {
		t.Fatalf("after 007: %s %v", path, err)
	}
	if path, err := versioning.Scaffold(ctx, conn, "v4", "v1", filepath.Join(t.TempDir(), "new"), 0); err != nil || filepath.Base(path) != "001_api_v4.sql" {
		t.Fatalf("a new directory, nothing applied: %s %v", path, err)
	}
	if _, err := versioning.Scaffold(ctx, conn, "v4", "v7", dir, 5); err == nil || !strings.Contains(err.Error(), "api_v7 has no views") {
		t.Fatalf("from a version without views: %v", err)
	}
}

// TestMigrationQuoting: names and comments that need quoting are quoted.
func TestMigrationQuoting(t *testing.T) {
	src := versioning.Source{Version: "v1", Schema: "Api V1",
		Views:     []versioning.View{{Name: "My View", Definition: " SELECT 1 AS one;\n", Comment: "it's"}},
		Functions: []string{"CREATE OR REPLACE FUNCTION \"Api V1\".f()\n RETURNS integer\n LANGUAGE sql\nAS $function$SELECT 1$function$\n"},
		Grants:    []versioning.Grant{{Role: "Web Anon", Privileges: []string{"INSERT", "SELECT"}}},
	}
	got := src.Migration("v2")
	for _, want := range []string{
		"-- v2: a copy of v1 (Api V1) to edit.",
		"CREATE SCHEMA \"api_v2\";",
		"CREATE VIEW \"api_v2\".\"My View\" AS\nSELECT 1 AS one;",
		"COMMENT ON VIEW \"api_v2\".\"My View\" IS 'it''s';",
		"CREATE OR REPLACE FUNCTION \"api_v2\".f()\n RETURNS integer",
		"GRANT INSERT, SELECT ON ALL TABLES IN SCHEMA \"api_v2\" TO \"Web Anon\";",
		"VALUES ('v2', 'api_v2', 'active');",
		"DELETE FROM pgway.api_versions WHERE name = 'v2';\nDROP SCHEMA \"api_v2\" CASCADE;",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("migration lacks %q:\n%s", want, got)
		}
	}
}
