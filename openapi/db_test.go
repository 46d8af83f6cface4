package openapi_test

import (
	"bytes"
	"context"
	_ "embed"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/openapi"
)

//go:embed testdata/fixture.sql
var fixtureSQL string

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestDatabase builds documents from a schema cache loaded from a real PostgreSQL.
func TestDatabase(t *testing.T) {
	db := pgtest.NewDatabase(t, fixtureSQL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	c, err := schemacache.Load(ctx, conn, []string{"api"})
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"3.0", "3.1"} {
		doc, err := openapi.Build(c, openapi.Options{Version: version, Title: "Books"})
		if err != nil {
			t.Fatal(err)
		}
		if err := doc.Validate(ctx); err != nil {
			t.Fatalf("%s: Validate: %v", version, err)
		}
		out, err := openapi.Marshal(doc, "json")
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "db-"+version+".json", out)
		var written bytes.Buffer
		if err := openapi.Write(&written, c, openapi.Options{Version: version, Title: "Books"}, "json"); err != nil {
			t.Fatal(err)
		}
		golden(t, "db-"+version+".json", written.Bytes())
	}
}
