package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/migrations"
)

func init() {
	commands["migrate"] = command{
		summary: "apply tern migrations (the bundled sample, or --dir DIR)",
		usage: `usage: pgway migrate [up | down N | to N | status] [--dir DIR] [--db-uri URI]

Runs tern migrations (NNN_name.sql files, "---- create above / drop below ----" between up and down) against
the database: every pending one (up, the default), the last N (down N), up or down to version N (to N), or
prints the applied and latest versions (status). Without --dir the set bundled in pgway is used: pgway's
version catalog, roles, a private "library" schema with data, and the api_v1 and api_v2 views over it.
Each migration runs in its own transaction; on failure the database stays at the previous version and the
exit status is 1. The database defaults to PGRST_DB_URI.`,
		run: runMigrate,
	}
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fsFlags := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fsFlags.SetOutput(stderr)
	dir := fsFlags.String("dir", "", "directory of tern migrations (default: the bundled set)")
	dbURI := fsFlags.String("db-uri", getenv("PGRST_DB_URI"), "PostgreSQL connection URI")
	pos, err := parseInterspersed(fsFlags, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	action, n := "up", int64(0)
	if len(pos) > 0 {
		action = pos[0]
	}
	switch action {
	case "up", "status":
		if len(pos) > 1 {
			fmt.Fprintf(stderr, "pgway migrate %s: unexpected argument %q\n", action, pos[1])
			return 2
		}
	case "down", "to":
		if len(pos) != 2 {
			fmt.Fprintf(stderr, "pgway migrate %s: needs a number\n", action)
			return 2
		}
		if n, err = strconv.ParseInt(pos[1], 10, 32); err != nil || n < 0 {
			fmt.Fprintf(stderr, "pgway migrate %s: %q is not a version number\n", action, pos[1])
			return 2
		}
	default:
		fmt.Fprintf(stderr, "pgway migrate: unknown action %q (up, down N, to N, status)\n", action)
		return 2
	}
	if *dbURI == "" {
		fmt.Fprintln(stderr, "pgway migrate: no database: pass --db-uri or set PGRST_DB_URI")
		return 2
	}
	var set fs.FS = migrations.Example()
	if *dir != "" {
		if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
			fmt.Fprintf(stderr, "pgway migrate: %s is not a directory\n", *dir)
			return 2
		}
		set = os.DirFS(*dir)
	}
	conn, err := pgx.Connect(ctx, *dbURI)
	if err != nil {
		fmt.Fprintf(stderr, "pgway migrate: connecting: %v\n", err)
		return 1
	}
	defer conn.Close(context.Background())
	r, err := migrations.New(ctx, conn, set, stdout)
	if err == nil {
		switch action {
		case "up":
			err = r.Up(ctx)
		case "down":
			err = r.Down(ctx, int32(n))
		case "to":
			err = r.To(ctx, int32(n))
		}
	}
	if err == nil {
		var st migrations.Status
		if st, err = r.Status(ctx); err == nil {
			fmt.Fprintf(stdout, "version %d of %d\n", st.Current, st.Latest)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "pgway migrate: %v\n", err)
		return 1
	}
	return 0
}

// parseInterspersed parses flags that may come before, between or after the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
