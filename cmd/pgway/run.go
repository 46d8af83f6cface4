package main

import (
	"context"
	"fmt"
	"io"
)

// run dispatches to a subcommand (placeholder; the CLI owner replaces it).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: pgway COMMAND")
		return 2
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "pgway: unknown command %q\n", args[0])
		return 2
	}
	return c.run(ctx, args[1:], getenv, stdout, stderr)
}
