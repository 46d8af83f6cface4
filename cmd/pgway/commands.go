package main

import (
	"context"
	"io"
)

// command runs one subcommand: args exclude the subcommand name; env is the process environment as KEY=VALUE
// pairs looked up with getenv. It returns the process exit status.
type command struct {
	summary string // one line for `pgway --help`
	usage   string // full text for `pgway help NAME`
	run     func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int
}

// commands is the registry of subcommands; each subcommand's file adds itself in an init function.
var commands = map[string]command{}
