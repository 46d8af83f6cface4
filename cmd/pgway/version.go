package main

import (
	"context"
	"fmt"
	"io"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func init() {
	commands["version"] = command{
		summary: "print the pgway version",
		usage:   "usage: pgway version",
		run: func(_ context.Context, _ []string, _ func(string) string, stdout, _ io.Writer) int {
			fmt.Fprintf(stdout, "pgway %s\n", version)
			return 0
		},
	}
}
