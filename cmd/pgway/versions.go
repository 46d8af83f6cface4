package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
)

func init() {
	commands["versions"] = command{
		summary: "list, deprecate, promote and create API versions",
		usage: `usage: pgway versions [list] [--db-uri URI]
       pgway versions deprecate V [--sunset YYYY-MM-DD] [--successor W] [--db-uri URI]
       pgway versions promote V [--db-uri URI]
       pgway versions new V --from W [--dir DIR] [--db-uri URI]

Manages pgway's version catalog (pgway.api_versions, created by the bundled migrations):
  list       the versions with status, deprecation and sunset dates and successor
  deprecate  marks V deprecated now; responses from it carry Deprecation, Sunset and a successor Link, and
             after the sunset date it answers 410 (the successor defaults to the current version)
  promote    makes V the current version: the one the bare path serves
  new        writes a tern migration into DIR (default: migrations) that recreates W's views and functions as
             the schema api_<V>, with W's grants, and registers V; edit it, then run pgway migrate --dir DIR
deprecate and promote notify running pgway servers to reload. The database defaults to PGRST_DB_URI.`,
		run: runVersions,
	}
}

var versionName = regexp.MustCompile(`^v[0-9]+$`)

func runVersions(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fsFlags := flag.NewFlagSet("versions", flag.ContinueOnError)
	fsFlags.SetOutput(stderr)
	dbURI := fsFlags.String("db-uri", getenv("PGRST_DB_URI"), "PostgreSQL connection URI")
	sunset := fsFlags.String("sunset", "", "sunset date (YYYY-MM-DD or RFC 3339) for deprecate")
	successor := fsFlags.String("successor", "", "successor version for deprecate (default: the current version)")
	from := fsFlags.String("from", "", "version to copy for new")
	dir := fsFlags.String("dir", "migrations", "migrations directory for new")
	pos, err := parseInterspersed(fsFlags, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	action := "list"
	if len(pos) > 0 {
		action = pos[0]
	}
	need := map[string]int{"list": 1, "deprecate": 2, "promote": 2, "new": 2}
	n, ok := need[action]
	if !ok {
		fmt.Fprintf(stderr, "pgway versions: unknown action %q (list, deprecate, promote, new)\n", action)
		return 2
	}
	if len(pos) > n || (n == 2 && len(pos) < 2) {
		fmt.Fprintf(stderr, "pgway versions %s: expected %d argument(s)\n", action, n-1)
		return 2
	}
	var v string
	if n == 2 {
		if v = pos[1]; !versionName.MatchString(v) {
			fmt.Fprintf(stderr, "pgway versions %s: %q is not a version name like v3\n", action, v)
			return 2
		}
	}
	var sunsetAt *time.Time
	if *sunset != "" {
		t, err := parseDate(*sunset)
		if err != nil {
			fmt.Fprintf(stderr, "pgway versions: --sunset: %v\n", err)
			return 2
		}
		sunsetAt = &t
	}
	if action == "new" && !versionName.MatchString(*from) {
		fmt.Fprintln(stderr, "pgway versions new: --from must name the version to copy, like v2")
		return 2
	}
	if *dbURI == "" {
		fmt.Fprintln(stderr, "pgway versions: no database: pass --db-uri or set PGRST_DB_URI")
		return 2
	}
	conn, err := pgx.Connect(ctx, *dbURI)
	if err != nil {
		fmt.Fprintf(stderr, "pgway versions: connecting: %v\n", err)
		return 1
	}
	defer conn.Close(context.Background())
	switch action {
	case "list":
		err = listVersions(ctx, conn, stdout)
	case "deprecate":
		err = deprecateVersion(ctx, conn, v, sunsetAt, *successor)
	case "promote":
		err = promoteVersion(ctx, conn, v)
	case "new":
		var path string
		if path, err = newVersion(ctx, conn, v, *from, *dir); err == nil {
			fmt.Fprintf(stdout, "wrote %s\n", path)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "pgway versions %s: %v\n", action, err)
		return 1
	}
	if action == "deprecate" || action == "promote" {
		fmt.Fprintf(stdout, "%s: %s\n", v, action+"d")
	}
	return 0
}

func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not YYYY-MM-DD or RFC 3339", s)
	}
	return t, nil
}

func listVersions(ctx context.Context, conn *pgx.Conn, out io.Writer) error {
	rows, err := conn.Query(ctx, `SELECT name, schema_name, status, coalesce(to_char(deprecated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), '-'),
		coalesce(to_char(sunset_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), '-'), coalesce(successor, '-')
		FROM pgway.api_versions ORDER BY length(name), name`)
	if err != nil {
		return fmt.Errorf("reading pgway.api_versions (run pgway migrate first): %w", err)
	}
	defer rows.Close()
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "VERSION\tSCHEMA\tSTATUS\tDEPRECATED\tSUNSET\tSUCCESSOR")
	for rows.Next() {
		var f [6]string
		if err := rows.Scan(&f[0], &f[1], &f[2], &f[3], &f[4], &f[5]); err != nil {
			return err
		}
		fmt.Fprintln(w, strings.Join(f[:], "\t"))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return w.Flush()
}

// inTx runs fn in a transaction that ends with NOTIFY pgrst, 'reload schema' (delivered on commit).
func inTx(ctx context.Context, conn *pgx.Conn, fn func(pgx.Tx) error) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	if err := fn(tx); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "NOTIFY pgrst, 'reload schema'"); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func deprecateVersion(ctx context.Context, conn *pgx.Conn, v string, sunset *time.Time, successor string) error {
	return inTx(ctx, conn, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE pgway.api_versions SET status = 'deprecated', deprecated_at = coalesce(deprecated_at, now()),
			sunset_at = coalesce($2, sunset_at),
			successor = coalesce(nullif($3, ''), successor, (SELECT name FROM pgway.api_versions WHERE status = 'current' AND name <> $1))
			WHERE name = $1`, v, sunset, successor)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("no version %s in pgway.api_versions", v)
		}
		return nil
	})
}

func promoteVersion(ctx context.Context, conn *pgx.Conn, v string) error {
	return inTx(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE pgway.api_versions SET status = 'active' WHERE status = 'current' AND name <> $1`, v); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE pgway.api_versions SET status = 'current', deprecated_at = NULL, sunset_at = NULL WHERE name = $1`, v)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("no version %s in pgway.api_versions", v)
		}
		return nil
	})
}

// newVersion writes the next-numbered tern migration in dir that recreates from's schema as v's.
func newVersion(ctx context.Context, conn *pgx.Conn, v, from, dir string) (string, error) {
	var fromSchema string
	err := conn.QueryRow(ctx, `SELECT coalesce((SELECT schema_name FROM pgway.api_versions WHERE name = $1), 'api_' || $1)`, from).Scan(&fromSchema)
	if err != nil {
		// No catalog: the naming convention.
		fromSchema = "api_" + from
	}
	newSchema := "api_" + v
	q := pgx.Identifier{newSchema}.Sanitize()
	var up strings.Builder
	fmt.Fprintf(&up, "-- %s: a copy of %s (%s) to edit. Generated by pgway versions new.\nCREATE SCHEMA %s;\n\n", v, from, fromSchema, q)

	rows, err := conn.Query(ctx, `SELECT c.relname, pg_get_viewdef(c.oid, true), obj_description(c.oid, 'pg_class')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind = 'v' ORDER BY c.oid`, fromSchema)
	if err != nil {
		return "", err
	}
	views := 0
	for rows.Next() {
		var name, def string
		var comment *string
		if err := rows.Scan(&name, &def, &comment); err != nil {
			rows.Close()
			return "", err
		}
		views++
		fmt.Fprintf(&up, "CREATE VIEW %s.%s AS\n%s\n\n", q, pgx.Identifier{name}.Sanitize(), strings.TrimSpace(def))
		if comment != nil {
			fmt.Fprintf(&up, "COMMENT ON VIEW %s.%s IS %s;\n\n", q, pgx.Identifier{name}.Sanitize(), quoteLiteral(*comment))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	if views == 0 {
		return "", fmt.Errorf("schema %s has no views to copy", fromSchema)
	}
	fns, err := conn.Query(ctx, `SELECT pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = $1 AND p.prokind = 'f' ORDER BY p.oid`, fromSchema)
	if err != nil {
		return "", err
	}
	for fns.Next() {
		var def string
		if err := fns.Scan(&def); err != nil {
			fns.Close()
			return "", err
		}
		head, body, _ := strings.Cut(def, "\n")
		head = strings.Replace(head, "FUNCTION "+pgx.Identifier{fromSchema}.Sanitize()+".", "FUNCTION "+q+".", 1)
		head = strings.Replace(head, "FUNCTION "+fromSchema+".", "FUNCTION "+q+".", 1)
		fmt.Fprintf(&up, "%s\n%s;\n\n", head, strings.TrimRight(body, "\n"))
	}
	fns.Close()

	// Grants: the same roles get the same privileges on the new schema.
	grants, err := conn.Query(ctx, `SELECT grantee, string_agg(DISTINCT privilege_type, ', ' ORDER BY privilege_type)
		FROM information_schema.role_table_grants WHERE table_schema = $1 AND grantee <> current_user
		  AND grantee NOT IN (SELECT rolname FROM pg_roles WHERE rolsuper)
		GROUP BY grantee ORDER BY grantee`, fromSchema)
	if err != nil {
		return "", err
	}
	for grants.Next() {
		var role, privs string
		if err := grants.Scan(&role, &privs); err != nil {
			grants.Close()
			return "", err
		}
		r := pgx.Identifier{role}.Sanitize()
		fmt.Fprintf(&up, "GRANT USAGE ON SCHEMA %s TO %s;\nGRANT %s ON ALL TABLES IN SCHEMA %s TO %s;\nGRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA %s TO %s;\n",
			q, r, privs, q, r, q, r)
	}
	grants.Close()
	fmt.Fprintf(&up, "\nINSERT INTO pgway.api_versions (name, schema_name, status) VALUES (%s, %s, 'active');\n",
		quoteLiteral(v), quoteLiteral(newSchema))
	fmt.Fprintf(&up, "\n---- create above / drop below ----\n\nDELETE FROM pgway.api_versions WHERE name = %s;\nDROP SCHEMA %s CASCADE;\n",
		quoteLiteral(v), q)

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	next, err := nextMigrationNumber(dir, ctx, conn)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("%03d_api_%s.sql", next, v))
	if err := os.WriteFile(path, []byte(up.String()), 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// nextMigrationNumber is one past the highest NNN_ file in dir, or past the database's applied version when
// dir is empty (the bundled set was applied).
func nextMigrationNumber(dir string, ctx context.Context, conn *pgx.Conn) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	highest := 0
	for _, e := range entries {
		var n int
		if _, err := fmt.Sscanf(e.Name(), "%d_", &n); err == nil && n > highest {
			highest = n
		}
	}
	if highest == 0 {
		var v int32
		if err := conn.QueryRow(ctx, "SELECT version FROM public.pgway_schema_version").Scan(&v); err == nil {
			highest = int(v)
		}
	}
	return highest + 1, nil
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
