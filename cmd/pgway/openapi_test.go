package main

import (
	"bytes"
	"context"
	"os"
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
