package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/migrations"
)

func init() {
	commands["migrate"] = command{
		summary: "apply tern migrations (the bundled sample, or --dir DIR)",
		usage: `usage: pgway migrate [CONFIG_FILE] [up | down N | to N | status] [--dir DIR] [--db-uri URI]

Runs tern migrations (NNN_name.sql files, "---- create above / drop below ----" between up and down) against
the database: every pending one (up, the default), the last N (down N), up or down to version N (to N), or
prints the applied and latest versions (status). Without --dir the set bundled in pgway is used: pgway's
version catalog, roles, a private "library" schema with data, and the api_v1 and api_v2 views over it.
Each migration runs in its own transaction; on failure the database stays at the previous version and the
exit status is 1. The database is db-uri, connected to as a role that may create what the migrations create.
` + configHelp,
		run: runMigrate,
	}
}

var migrateActions = []string{"up", "down", "to", "status"}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fsFlags := flag.NewFlagSet("migrate", flag.ContinueOnError)
	dir := fsFlags.String("dir", "", "directory of tern migrations (default: the bundled set)")
	pos, flags, err := parseArgs(fsFlags, nil, args)
	if err != nil {
		return argsError("migrate", err, stdout, stderr)
	}
	file, pos := configFile(pos, migrateActions...)
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
		fmt.Fprintf(stderr, "pgway migrate: unknown action %q (up, down N, to N, status), and no config file of that name\n", action)
		return 2
	}
	cfg, err := config.Load(file, getenv, flags)
	if err != nil {
		fmt.Fprintf(stderr, "pgway migrate: %v\n", err)
		return 1
	}
	if cfg.DBURI == "" {
		fmt.Fprintln(stderr, "pgway migrate: no database: set db-uri (config file, PGRST_DB_URI or --db-uri)")
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
	conn, err := pgx.Connect(ctx, cfg.DBURI)
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
