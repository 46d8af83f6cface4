package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/sidecar"
)

func init() {
	commands["serve"] = command{
		summary: "serve the database as a PostgREST-compatible API",
		usage: "usage: pgway serve [CONFIG_FILE] [--key=value | --key value ...]\n\n" +
			"Configuration: CONFIG_FILE (PostgREST format) < PGRST_* environment < flags.\n" +
			"Keys: " + strings.Join(config.Keys(), ", ") + ", app.settings.*",
		run: serve,
	}
}

// parseFlags splits serve's arguments into an optional config file and --key=value / --key value flags.
func parseFlags(args []string) (file string, flags map[string]string, err error) {
	flags = map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			if file != "" {
				return "", nil, fmt.Errorf("unexpected argument %q", a)
			}
			file = a
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok {
			if i+1 >= len(args) {
				return "", nil, fmt.Errorf("flag --%s needs a value", k)
			}
			i++
			v = args[i]
		}
		flags[k] = v
	}
	return file, flags, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, _, stderr io.Writer) int {
	file, flags, err := parseFlags(args)
	if err != nil {
		fmt.Fprintf(stderr, "pgway serve: %v\n", err)
		return 2
	}
	cfg, err := config.Load(file, getenv, flags)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel(cfg.LogLevel)}))
	if err := sidecar.Run(ctx, cfg, logger); err != nil {
		logger.Error("server stopped", "err", err)
		return 1
	}
	return 0
}

// logLevel maps PostgREST's log-level to slog: crit logs only the most severe, debug everything.
func logLevel(s string) slog.Level {
	switch s {
	case "crit":
		return slog.LevelError + 4
	case "warn":
		return slog.LevelWarn
	case "info":
		return slog.LevelInfo
	case "debug":
		return slog.LevelDebug
	}
	return slog.LevelError
}
