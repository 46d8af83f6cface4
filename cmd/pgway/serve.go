package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/pgway/pgway/internal/config"
)

func init() {
	commands["serve"] = command{
		summary: "serve the database as a PostgREST-compatible API (as pgway [FILENAME])",
		usage: "usage: pgway serve [CONFIG_FILE] [--key=value | --key value ...]\n\n" +
			"Configuration: CONFIG_FILE (PostgREST format) < PGRST_* environment < flags.\n" +
			"Keys: " + strings.Join(config.Keys(), ", ") + ", app.settings.*",
		run: serve,
	}
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	pos, flags, err := parseArgs(flag.NewFlagSet("serve", flag.ContinueOnError), nil, args)
	if err != nil {
		return argsError("serve", err, stdout, stderr)
	}
	if len(pos) > 1 {
		fmt.Fprintf(stderr, "pgway serve: unexpected argument %q\n", pos[1])
		return 2
	}
	file := ""
	if len(pos) == 1 {
		file = pos[0]
	}
	cfg, err := loadConfig(file, getenv, flags)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return serveWith(ctx, cfg, stderr)
}
