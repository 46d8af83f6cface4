package schemacache_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/internal/schemacache"
)

// TestLoadOnTwoConnections: the columns read on a second connection make the same cache as one connection,
// and the same as bigSchema's (views over views, functions, computed relationships) on one.
func TestLoadOnTwoConnections(t *testing.T) {
	db := pgtest.NewDatabase(t, fixture, bigSchema(30))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var conns []schemacache.Querier
	for range 2 {
		conn, err := pgx.Connect(ctx, db.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		conns = append(conns, conn)
	}
	for _, schemas := range [][]string{{"api", "big"}, {"big"}} {
		one, err := schemacache.Load(ctx, conns[0], schemas)
		if err != nil {
			t.Fatal(err)
		}
		two, err := schemacache.LoadOn(ctx, conns, schemas)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := one.JSON()
		b, _ := two.JSON()
		if !bytes.Equal(a, b) || len(one.Relations) < 90 {
			t.Errorf("%v: %d relations on one connection, %d on two; same JSON: %v", schemas, len(one.Relations),
				len(two.Relations), bytes.Equal(a, b))
		}
	}
}
