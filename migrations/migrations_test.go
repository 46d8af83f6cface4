package migrations_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestApplied: 0 on a database never migrated (without creating tern's table), then the applied version.
func TestApplied(t *testing.T) {
	db := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if v, err := migrations.Applied(ctx, conn); v != 0 || err != nil {
		t.Fatalf("never migrated: %d %v", v, err)
	}
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1::text) IS NOT NULL", migrations.VersionTable).Scan(&exists); err != nil || exists {
		t.Fatalf("Applied created %s (%v)", migrations.VersionTable, err)
	}
	r, err := migrations.New(ctx, conn, migrations.Example(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := migrations.Applied(ctx, conn); v != 0 || err != nil {
		t.Fatalf("version table, nothing applied: %d %v", v, err)
	}
	if err := r.To(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if v, err := migrations.Applied(ctx, conn); v != 3 || err != nil {
		t.Fatalf("after To(3): %d %v", v, err)
	}
}
