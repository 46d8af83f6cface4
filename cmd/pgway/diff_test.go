package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgway/pgway/internal/pgtest"
)

func TestOpenAPIDiff(t *testing.T) {
	db := pgtest.NewDatabase(t, `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE mood2 AS ENUM ('sad', 'ok');
CREATE SCHEMA old_api;
CREATE SCHEMA new_api;
CREATE SCHEMA same_api;
CREATE TABLE old_api.things (id int PRIMARY KEY, name text, size int, kind mood, note varchar(20));
CREATE TABLE old_api.gone (id int PRIMARY KEY);
CREATE TABLE same_api.things (id int PRIMARY KEY, name text, size int, kind mood, note varchar(20));
CREATE TABLE same_api.gone (id int PRIMARY KEY);
-- name removed, size became text, kind lost a value, note newly required, extra added, a new table
CREATE TABLE new_api.things (id int PRIMARY KEY, size text, kind mood2, note varchar(20) NOT NULL, extra int);
CREATE TABLE new_api.fresh (id int PRIMARY KEY);
`)
	env := map[string]string{"PGRST_DB_URI": db.URL}
	code, out, errOut := pgwayCmd(t, env, "openapi", "diff", "old_api", "new_api")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"BREAKING  paths./gone: path removed",
		"BREAKING  components.schemas.things.properties.name: property removed",
		"BREAKING  components.schemas.things.properties.size: type changed from integer to string",
		"BREAKING  components.schemas.things.properties.kind: enum narrowed: happy removed",
		"newly required",
		"          paths./fresh: path added",
		"properties.extra: property added",
		"paths./things.get.parameters.query:name: parameter removed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = pgwayCmd(t, env, "openapi", "diff", "old_api", "same_api")
	if code != 0 || !strings.Contains(out, "0 change(s), 0 breaking") {
		t.Fatalf("identical schemas: exit %d\n%s", code, out)
	}
	// Files work too: the document of one schema against itself is unchanged.
	code, doc, _ := pgwayCmd(t, env, "openapi", "--schema", "old_api")
	if code != 0 {
		t.Fatal("pgway openapi failed")
	}
	f := filepath.Join(t.TempDir(), "old.json")
	if err := os.WriteFile(f, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := pgwayCmd(t, env, "openapi", "diff", f, "old_api"); code != 0 {
		t.Fatalf("file vs schema: exit %d\n%s%s", code, out, errOut)
	}
}
