package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// run dispatches to a subcommand, or runs PostgREST's command line (postgrest.go), and returns the exit
// status.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	args = dropProgramName(args)
	if len(args) > 0 {
		if c, ok := commands[args[0]]; ok {
			return c.run(ctx, args[1:], getenv, stdout, stderr)
		}
	}
	return postgrestCLI(ctx, args, getenv, stdout, stderr)
}

// dropProgramName removes a first argument naming the program itself, "postgrest" or "pgway" (any
// directory): PostgREST's image documents `docker run IMAGE postgrest /etc/postgrest.conf`, which pgway's
// image, whose entrypoint is pgway, receives as `pgway postgrest /etc/postgrest.conf`. A config file of that
// name (a regular file without execute permission) is kept.
func dropProgramName(args []string) []string {
	if len(args) == 0 {
		return args
	}
	if base := filepath.Base(args[0]); base != "postgrest" && base != "pgway" {
		return args
	}
	if st, err := os.Stat(args[0]); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 == 0 {
		return args
	}
	return args[1:]
}

// usage lists PostgREST's command line and pgway's commands.
func usage(w io.Writer) {
	fmt.Fprint(w, `usage: pgway [FILENAME] [--key=value ...]            serve (as postgrest [FILENAME])
       pgway [-h|--help] [-v|--version] [-e|--example] [--dump-config | --dump-schema | --ready] [FILENAME]
       pgway COMMAND [ARGS]

pgway serves a PostgreSQL database as a PostgREST-compatible REST API. Configuration: FILENAME (PostgREST's
format) < PGRST_* environment < --key=value flags; without FILENAME, the environment alone.

PostgREST's options:
  -h, --help        show this help text
  -v, --version     show the version
  -e, --example     show an example configuration file
  --dump-config     print the loaded configuration (file, environment, in-database settings) and exit
  --dump-schema     print the schema cache as JSON and exit
  --ready           exit 0 when the admin server's /ready answers 2xx, 1 otherwise (container health checks)

commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nrun 'pgway help COMMAND' for details")
}
