package main

import (
	"context"
	"fmt"
	"io"
)

func init() {
	commands["help"] = command{
		summary: "show commands, or one command's usage",
		usage:   "usage: pgway help [COMMAND]",
		run: func(_ context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) int {
			if len(args) == 0 {
				usage(stdout)
				return 0
			}
			c, ok := commands[args[0]]
			if !ok {
				fmt.Fprintf(stderr, "pgway: unknown command %q\n", args[0])
				usage(stderr)
				return 2
			}
			fmt.Fprintln(stdout, c.usage)
			return 0
		},
	}
}
