package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/migrations"
	"github.com/pgway/pgway/versioning"
)

func init() {
	commands["versions"] = command{
		summary: "list, deprecate, promote and create API versions",
		usage: `usage: pgway versions [CONFIG_FILE] [list] [--db-uri URI]
       pgway versions [CONFIG_FILE] deprecate V [--sunset YYYY-MM-DD] [--successor W] [--db-uri URI]
       pgway versions [CONFIG_FILE] promote V [--db-uri URI]
       pgway versions [CONFIG_FILE] new V --from W [--dir DIR] [--db-uri URI]

Manages pgway's version catalog (pgway.api_versions, created by the bundled migrations):
  list       the versions with status, deprecation and sunset dates and successor
  deprecate  marks V deprecated now; responses from it carry Deprecation, Sunset and a successor Link, and
             after the sunset date it answers 410 (the successor defaults to the current version)
  promote    makes V the current version: the one the bare path serves
  new        writes a tern migration into DIR (default: migrations) that recreates W's views and functions as
             the schema api_<V>, with W's grants, and registers V; edit it, then run pgway migrate --dir DIR
deprecate and promote notify running pgway servers to reload (on db-channel, unless db-channel-enabled is off).
The database is db-uri.
` + configHelp,
		run: runVersions,
	}
}

var (
	versionName    = regexp.MustCompile(`^v[0-9]+$`)
	versionActions = []string{"list", "deprecate", "promote", "new"}
)

func runVersions(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fsFlags := flag.NewFlagSet("versions", flag.ContinueOnError)
	sunset := fsFlags.String("sunset", "", "sunset date (YYYY-MM-DD or RFC 3339) for deprecate")
	successor := fsFlags.String("successor", "", "successor version for deprecate (default: the current version)")
	from := fsFlags.String("from", "", "version to copy for new")
	dir := fsFlags.String("dir", "migrations", "migrations directory for new")
	pos, flags, err := parseArgs(fsFlags, nil, args)
	if err != nil {
		return argsError("versions", err, stdout, stderr)
	}
	file, pos := configFile(pos, versionActions...)
	action := "list"
	if len(pos) > 0 {
		action = pos[0]
	}
	need := map[string]int{"list": 1, "deprecate": 2, "promote": 2, "new": 2}
	n, ok := need[action]
	if !ok {
		fmt.Fprintf(stderr, "pgway versions: unknown action %q (list, deprecate, promote, new), and no config file of that name\n", action)
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
	var sunsetAt time.Time
	if *sunset != "" {
		if sunsetAt, err = parseDate(*sunset); err != nil {
			fmt.Fprintf(stderr, "pgway versions: --sunset: %v\n", err)
			return 2
		}
	}
	if action == "new" && !versionName.MatchString(*from) {
		fmt.Fprintln(stderr, "pgway versions new: --from must name the version to copy, like v2")
		return 2
	}
	cfg, err := config.Load(file, getenv, flags)
	if err != nil {
		fmt.Fprintf(stderr, "pgway versions: %v\n", err)
		return 1
	}
	if cfg.DBURI == "" {
		fmt.Fprintln(stderr, "pgway versions: no database: set db-uri (config file, PGRST_DB_URI or --db-uri)")
		return 2
	}
	channel := ""
	if cfg.DBChannelEnabled {
		channel = cfg.DBChannel
	}
	conn, err := pgx.Connect(ctx, cfg.DBURI)
	if err != nil {
		fmt.Fprintf(stderr, "pgway versions: connecting: %v\n", err)
		return 1
	}
	defer conn.Close(context.Background())
	switch action {
	case "list":
		var vs []versioning.Version
		if vs, err = versioning.List(ctx, conn); err == nil {
			err = printVersions(stdout, vs)
		}
	case "deprecate":
		err = versioning.Deprecate(ctx, conn, v, sunsetAt, *successor, channel)
	case "promote":
		err = versioning.Promote(ctx, conn, v, channel)
	case "new":
		var applied int32
		if applied, err = migrations.Applied(ctx, conn); err == nil {
			var path string
			if path, err = versioning.Scaffold(ctx, conn, v, *from, *dir, int(applied)); err == nil {
				fmt.Fprintf(stdout, "wrote %s\n", path)
			}
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

// printVersions writes the catalog as a table, dates in UTC.
func printVersions(out io.Writer, vs []versioning.Version) error {
	orDash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	day := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.DateOnly)
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "VERSION\tSCHEMA\tSTATUS\tDEPRECATED\tSUNSET\tSUCCESSOR")
	for _, v := range vs {
		fmt.Fprintln(w, strings.Join([]string{v.Name, v.Schema, v.Status, day(v.DeprecatedAt), day(v.SunsetAt), orDash(v.Successor)}, "\t"))
	}
	return w.Flush()
}
