package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/pgway/pgway/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestOpenAPICommand(t *testing.T) {
	fixture, err := os.ReadFile("../../openapi/testdata/fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	db := pgtest.NewDatabase(t, string(fixture))
	env := map[string]string{"PGRST_DB_SCHEMAS": "api"}
	openapiCmd := func(args ...string) (*openapi3.T, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"openapi", "--db-uri", db.URL}, args...),
			func(k string) string { return env[k] }, &stdout, &stderr)
		if code != 0 {
			t.Fatalf("pgway openapi %v: exit %d: %s", args, code, stderr.String())
		}
		doc, err := openapi3.NewLoader().LoadFromData(stdout.Bytes())
		if err != nil {
			t.Fatalf("loading the output: %v", err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		return doc, stdout.String()
	}

	doc, _ := openapiCmd()
	if doc.OpenAPI != "3.0.3" || doc.Paths.Find("/rpc/search_books") == nil || doc.Paths.Find("/books").Delete == nil {
		t.Errorf("without --role everything should be described (openapi %s)", doc.OpenAPI)
	}

	doc, out := openapiCmd("--role", "openapi_anon", "--version", "3.1", "--format", "yaml")
	if doc.OpenAPI != "3.1.0" || !strings.HasPrefix(out, "components:") {
		t.Errorf("want a 3.1 YAML document, got openapi %q:\n%.200s", doc.OpenAPI, out)
	}
	books := doc.Paths.Find("/books")
	if books == nil || books.Get == nil || books.Post == nil || books.Patch != nil || books.Delete != nil {
		t.Errorf("openapi_anon may select and insert (some columns of) books, nothing else: %+v", books)
	}
	if doc.Paths.Find("/book_titles") != nil || doc.Paths.Find("/rpc/search_books") != nil {
		t.Error("objects openapi_anon has no privilege on are described")
	}
	if doc.Paths.Find("/rpc/add") == nil {
		t.Error("/rpc/add (granted) is missing")
	}

	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"openapi", "--version", "2.0", "--db-uri", db.URL},
		func(k string) string { return env[k] }, &bytes.Buffer{}, &stderr); code != 1 {
		t.Errorf("--version 2.0: exit %d, want 1 (%s)", code, stderr.String())
	}
	if code := run(context.Background(), []string{"openapi"}, func(string) string { return "" },
		&bytes.Buffer{}, &stderr); code != 2 {
		t.Errorf("no database: exit %d, want 2", code)
	}
}

// TestOpenAPIConfigFile: pgway openapi CONFIG_FILE takes db-uri, db-schemas, openapi-version and
// openapi-server-proxy-uri from the file, as pgway serve does; the environment and flags override it.
func TestOpenAPIConfigFile(t *testing.T) {
	fixture, err := os.ReadFile("../../openapi/testdata/fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	db := pgtest.NewDatabase(t, string(fixture), `CREATE SCHEMA other; CREATE TABLE other.gadgets (id int PRIMARY KEY);`)
	file := filepath.Join(t.TempDir(), "pgway.conf")
	conf := "db-uri = \"" + db.URL + "\"\ndb-schemas = \"api, other\"\nopenapi-version = \"3.1\"\n" +
		"openapi-server-proxy-uri = \"https://api.example.com/v1\"\n"
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	describe := func(env map[string]string, args ...string) *openapi3.T {
		t.Helper()
		code, out, errOut := pgwayCmd(t, env, append([]string{"openapi"}, args...)...)
		if code != 0 {
			t.Fatalf("pgway openapi %v: exit %d: %s", args, code, errOut)
		}
		doc, err := openapi3.NewLoader().LoadFromData([]byte(out))
		if err != nil {
			t.Fatalf("loading the output: %v", err)
		}
		return doc
	}

	doc := describe(nil, file)
	if doc.Paths.Find("/books") == nil || doc.Paths.Find("/gadgets") != nil {
		t.Error("the first schema of the file's db-schemas (api) should be described")
	}
	if doc.OpenAPI != "3.1.0" || len(doc.Servers) == 0 || doc.Servers[0].URL != "https://api.example.com/v1" {
		t.Errorf("openapi-version and openapi-server-proxy-uri from the file: %s %v", doc.OpenAPI, doc.Servers)
	}
	// --schema picks another exposed schema.
	if doc := describe(nil, file, "--schema", "other"); doc.Paths.Find("/gadgets") == nil || doc.Paths.Find("/books") != nil {
		t.Error("--schema other")
	}
	// The environment overrides the file, and flags the environment.
	env := map[string]string{"PGRST_DB_SCHEMAS": "other", "PGRST_OPENAPI_VERSION": "3.0"}
	if doc := describe(env, file); doc.Paths.Find("/gadgets") == nil || doc.OpenAPI != "3.0.3" {
		t.Errorf("PGRST_* over the file: openapi %s", doc.OpenAPI)
	}
	if doc := describe(env, file, "--db-schemas", "api", "--version=3.1"); doc.Paths.Find("/books") == nil || doc.OpenAPI != "3.1.0" {
		t.Errorf("flags over PGRST_*: openapi %s", doc.OpenAPI)
	}
	if doc := describe(env, "--openapi-version", "3.1", "--db-uri", db.URL); doc.Paths.Find("/gadgets") == nil || doc.OpenAPI != "3.1.0" {
		t.Errorf("without a file: openapi %s", doc.OpenAPI)
	}

	bad := filepath.Join(t.TempDir(), "bad.conf")
	if err := os.WriteFile(bad, []byte("db-schemas = \"api\"\ndb-pool = \"many\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		code   int
		errOut string
	}{
		{[]string{"openapi", bad}, 1, `config: db-pool: "many" is not an integer`},
		{[]string{"openapi", filepath.Join(t.TempDir(), "missing.conf")}, 1, "config: reading"},
		{[]string{"openapi", file, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"openapi", "--role"}, 2, "flag -role needs a value"},
	} {
		if code, _, errOut := pgwayCmd(t, nil, tc.args...); code != tc.code || !strings.Contains(errOut, tc.errOut) {
			t.Errorf("pgway %v: exit %d %q, want %d %q", tc.args, code, errOut, tc.code, tc.errOut)
		}
	}
}
