package schemacache_test

import (
	"context"
	_ "embed"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/internal/schemacache"
)

var update = flag.Bool("update", false, "rewrite golden files")

//go:embed testdata/fixture.sql
var fixture string

func TestMain(m *testing.M) { pgtest.Main(m) }

func load(t *testing.T, url string, schemas ...string) *schemacache.Cache {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	c, err := schemacache.Load(ctx, conn, schemas)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs; got:\n%s", path, got)
	}
}

func TestLoadGolden(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t, fixture)
	c := load(t, db.URL, "api", "private")
	golden(t, "fixture.golden", c.Dump())
	if c.ServerVersion < 100000 {
		t.Errorf("ServerVersion = %d", c.ServerVersion)
	}
	if c.LoadedAt.IsZero() || c.LoadDuration <= 0 {
		t.Errorf("LoadedAt %v, LoadDuration %v", c.LoadedAt, c.LoadDuration)
	}
	r, ok := c.Relation("api", "books")
	if !ok {
		t.Fatal("api.books missing")
	}
	if col, ok := r.Column("title"); !ok || col.MaxLength != 100 {
		t.Errorf("books.title = %+v", col)
	}
}
