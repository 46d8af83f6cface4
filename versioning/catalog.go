package versioning

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Querier runs the version catalog's queries; *pgx.Conn, *pgxpool.Pool, *pgxpool.Conn and pgx.Tx satisfy it.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// DB is a Querier that also begins transactions, for the functions that change the catalog.
type DB interface {
	Querier
	Begin(ctx context.Context) (pgx.Tx, error)
}

// ErrNoCatalog is List's error when pgway.api_versions does not exist or the user may not read it.
var ErrNoCatalog = errors.New("no pgway.api_versions to read (run pgway migrate first)")

// catalogReadableSQL tells whether pgway.api_versions exists and the current user may read it.
const catalogReadableSQL = `SELECT EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'pgway' AND c.relname = 'api_versions'
    AND has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT'))`

// versionsSQL reads the catalog, v2 before v10.
const versionsSQL = `SELECT name, schema_name, status, deprecated_at, sunset_at, coalesce(successor, '')
FROM pgway.api_versions ORDER BY length(name), name`

// Load reads the version catalog from pgway.api_versions (created by the bundled migrations). A database
// without it, or whose table the user may not read, has an empty catalog.
func Load(ctx context.Context, q Querier) (*Catalog, error) {
	vs, err := List(ctx, q)
	if errors.Is(err, ErrNoCatalog) {
		return New(nil), nil
	}
	if err != nil {
		return nil, err
	}
	return New(vs), nil
}

// List reads the versions of pgway.api_versions in version order (v2 before v10); ErrNoCatalog when there is no
// table to read.
func List(ctx context.Context, q Querier) ([]Version, error) {
	var readable bool
	if err := q.QueryRow(ctx, catalogReadableSQL).Scan(&readable); err != nil {
		return nil, fmt.Errorf("looking for pgway.api_versions: %w", err)
	}
	if !readable {
		return nil, ErrNoCatalog
	}
	rows, err := q.Query(ctx, versionsSQL)
	if err != nil {
		return nil, fmt.Errorf("reading pgway.api_versions: %w", err)
	}
	var vs []Version
	var v Version
	var dep, sun *time.Time
	_, err = pgx.ForEachRow(rows, []any{&v.Name, &v.Schema, &v.Status, &dep, &sun, &v.Successor}, func() error {
		v.DeprecatedAt, v.SunsetAt = time.Time{}, time.Time{}
		if dep != nil {
			v.DeprecatedAt = *dep
		}
		if sun != nil {
			v.SunsetAt = *sun
		}
		vs = append(vs, v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading pgway.api_versions: %w", err)
	}
	return vs, nil
}

const deprecateSQL = `UPDATE pgway.api_versions SET status = 'deprecated', deprecated_at = coalesce(deprecated_at, now()),
  sunset_at = coalesce($2, sunset_at),
  successor = coalesce(nullif($3, ''), successor, (SELECT name FROM pgway.api_versions WHERE status = 'current' AND name <> $1))
WHERE name = $1`

// Deprecate marks version name deprecated from now (an earlier deprecation date stays), with sunset as its
// sunset date (zero: unchanged) and successor as what it points clients to ("": unchanged, or else the
// current version). Then it notifies channel (PostgREST's db-channel; "" for none) so running servers reload.
func Deprecate(ctx context.Context, db DB, name string, sunset time.Time, successor, channel string) error {
	var sunsetArg *time.Time
	if !sunset.IsZero() {
		sunsetArg = &sunset
	}
	return change(ctx, db, channel, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, deprecateSQL, name, sunsetArg, successor)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("no version %s in pgway.api_versions", name)
		}
		return nil
	})
}

// Promote makes version name the current one (the version the bare path serves), clearing its deprecation
// and sunset dates; the previous current version becomes active. Then it notifies channel ("" for none).
func Promote(ctx context.Context, db DB, name, channel string) error {
	return change(ctx, db, channel, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE pgway.api_versions SET status = 'active' WHERE status = 'current' AND name <> $1`, name); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE pgway.api_versions SET status = 'current', deprecated_at = NULL, sunset_at = NULL WHERE name = $1`, name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("no version %s in pgway.api_versions", name)
		}
		return nil
	})
}

// change runs fn in a transaction that ends with pg_notify(channel, 'reload schema'), delivered on commit.
func change(ctx context.Context, db DB, channel string, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if channel == "" {
			return nil
		}
		_, err := tx.Exec(ctx, "SELECT pg_notify($1, 'reload schema')", channel)
		return err
	})
}
