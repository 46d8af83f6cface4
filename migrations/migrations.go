// Package migrations holds pgway's bundled tern migration sets and runs them, or a user's directory, against a
// database.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed sets
var sets embed.FS

// VersionTable is where tern records the applied version.
const VersionTable = "public.pgway_schema_version"

// Example is the bundled sample: pgway's version catalog, roles, a private schema with data, and the api_v1
// and api_v2 views over it.
func Example() fs.FS {
	sub, err := fs.Sub(sets, "sets/example")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// Status is where a database stands against a set.
type Status struct {
	Current int32 // applied version (0: none)
	Latest  int32 // highest version in the set
	Names   []string
}

// Runner applies one migration set to one database.
type Runner struct {
	m   *migrate.Migrator
	out io.Writer
}

// New loads the migrations of fsys for conn (creating tern's version table if needed). Progress is written to
// out.
func New(ctx context.Context, conn *pgx.Conn, fsys fs.FS, out io.Writer) (*Runner, error) {
	m, err := migrate.NewMigrator(ctx, conn, VersionTable)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	if err := m.LoadMigrations(fsys); err != nil {
		return nil, fmt.Errorf("migrations: loading: %w", err)
	}
	r := &Runner{m: m, out: out}
	m.OnStart = func(seq int32, name, direction, _ string) {
		fmt.Fprintf(out, "%s %03d %s\n", direction, seq, name)
	}
	return r, nil
}

// Status reports the applied and latest versions.
func (r *Runner) Status(ctx context.Context) (Status, error) {
	cur, err := r.m.GetCurrentVersion(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("migrations: reading version: %w", err)
	}
	s := Status{Current: cur, Latest: int32(len(r.m.Migrations))}
	for _, mg := range r.m.Migrations {
		s.Names = append(s.Names, mg.Name)
	}
	return s, nil
}

// Up applies every pending migration.
func (r *Runner) Up(ctx context.Context) error { return r.To(ctx, int32(len(r.m.Migrations))) }

// Down reverts the last n migrations.
func (r *Runner) Down(ctx context.Context, n int32) error {
	cur, err := r.m.GetCurrentVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrations: reading version: %w", err)
	}
	return r.To(ctx, max(cur-n, 0))
}

// To migrates up or down to version v. Each migration runs in its own transaction: a failing one leaves the
// database at the version before it.
func (r *Runner) To(ctx context.Context, v int32) error {
	if v < 0 || v > int32(len(r.m.Migrations)) {
		return fmt.Errorf("migrations: version %d is outside 0..%d", v, len(r.m.Migrations))
	}
	if err := r.m.MigrateTo(ctx, v); err != nil {
		var pe migrate.MigrationPgError
		if errors.As(err, &pe) {
			return fmt.Errorf("migration %s failed: %w", pe.MigrationName, pe.PgError)
		}
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// Applied is the version of the migrations applied to the database through conn: 0 when none ever were. Unlike
// New it does not create tern's version table.
func Applied(ctx context.Context, conn *pgx.Conn) (int32, error) {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1::text) IS NOT NULL", VersionTable).Scan(&exists); err != nil {
		return 0, fmt.Errorf("migrations: looking for %s: %w", VersionTable, err)
	}
	if !exists {
		return 0, nil
	}
	var v int32
	if err := conn.QueryRow(ctx, "SELECT version FROM "+VersionTable).Scan(&v); err != nil {
		return 0, fmt.Errorf("migrations: reading version: %w", err)
	}
	return v, nil
}
