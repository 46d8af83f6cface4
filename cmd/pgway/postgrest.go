package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar"
)

// postgrestCLI is PostgREST's command line (its CLI.hs): `postgrest [FILENAME]` serves, and the options
// --dump-config, --dump-schema, --ready, --example, --version and --help. pgway also takes --key=value
// configuration flags here.
func postgrestCLI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pgway", flag.ContinueOnError)
	dumpConfig := fs.Bool("dump-config", false, "")
	dumpSchema := fs.Bool("dump-schema", false, "")
	ready := fs.Bool("ready", false, "")
	example := fs.Bool("example", false, "")
	exampleShort := fs.Bool("e", false, "")
	showVersion := fs.Bool("version", false, "")
	versionShort := fs.Bool("v", false, "")
	pos, flags, err := parseArgs(fs, nil, args)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "pgway: %v\n", err)
		usage(stderr)
		return 2
	}
	switch {
	case *showVersion || *versionShort:
		fmt.Fprintf(stdout, "pgway %s\n", version)
		return 0
	case *example || *exampleShort:
		fmt.Fprint(stdout, config.Example())
		return 0
	}
	modes := 0
	for _, m := range []bool{*dumpConfig, *dumpSchema, *ready} {
		if m {
			modes++
		}
	}
	if modes > 1 {
		fmt.Fprintln(stderr, "pgway: --dump-config, --dump-schema and --ready exclude each other")
		return 2
	}
	if len(pos) > 1 {
		fmt.Fprintf(stderr, "pgway: unexpected argument %q\n", pos[1])
		usage(stderr)
		return 2
	}
	file := ""
	if len(pos) == 1 {
		file = pos[0]
		if _, err := os.Stat(file); err != nil && !strings.ContainsAny(file, "/.") {
			fmt.Fprintf(stderr, "pgway: unknown command %q (and no config file of that name)\n", file)
			usage(stderr)
			return 2
		}
	}
	cfg, err := loadConfig(file, getenv, flags)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	switch {
	case *dumpConfig:
		return runDumpConfig(ctx, cfg, stdout, stderr)
	case *dumpSchema:
		return runDumpSchema(ctx, cfg, stdout, stderr)
	case *ready:
		return runReady(ctx, cfg, stdout, stderr)
	}
	return serveWith(ctx, cfg, stderr)
}

// loadConfig reads the configuration of file, the environment and flags; the environment's names come from
// the process (os.Environ) for PGRST_APP_SETTINGS_*, their values from getenv.
func loadConfig(file string, getenv func(string) string, flags map[string]string) (config.Config, error) {
	return config.LoadFrom(config.Source{File: file, Getenv: getenv, Flags: flags, Environ: func() []string {
		var out []string
		for _, kv := range os.Environ() {
			k, _, _ := strings.Cut(kv, "=")
			if v := getenv(k); v != "" || kv == k+"=" {
				out = append(out, k+"="+v)
			}
		}
		return out
	}})
}

// serveWith serves the API with cfg until ctx is done, logging to stderr in log-format at log-level
// (sidecar.NewLogger); the warnings of the configuration are logged first, whatever log-level.
func serveWith(ctx context.Context, cfg config.Config, stderr io.Writer) int {
	logger := sidecar.NewLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	warn := sidecar.NewLogger(stderr, cfg.LogFormat, "warn")
	logger.Log(ctx, sidecar.LevelNotice, "starting pgway", "version", version)
	for _, w := range cfg.Warnings {
		warn.Warn("configuration: " + w)
	}
	if err := sidecar.Run(ctx, cfg, logger); err != nil {
		logger.Error("server stopped", "err", err)
		return 1
	}
	return 0
}

// inDatabase applies the in-database configuration (db-config) to cfg, as PostgREST's --dump-config and
// --dump-schema do; a database that cannot be read is reported on stderr and the rest of the configuration
// kept, as PostgREST does.
func inDatabase(ctx context.Context, cfg *config.Config, conn *pgx.Conn, stderr io.Writer) {
	if !cfg.DBConfig {
		return
	}
	preConfig := ""
	if cfg.DBPreConfig != "" {
		parts := strings.Split(cfg.DBPreConfig, ".")
		for i, p := range parts {
			parts[i] = pgx.Identifier{p}.Sanitize()
		}
		preConfig = strings.Join(parts, ".")
	}
	pairs, err := schemacache.LoadDBSettings(ctx, conn, preConfig, config.Keys())
	if err != nil {
		fmt.Fprintf(stderr, "pgway: in-database configuration not read: %v\n", err)
		return
	}
	if ignored, err := config.ApplyDatabase(cfg, pairs); err != nil {
		fmt.Fprintf(stderr, "pgway: %v\n", err)
	} else if len(ignored) > 0 {
		fmt.Fprintf(stderr, "pgway: in-database settings ignored (unknown, or fixed while running): %s\n", strings.Join(ignored, ", "))
	}
}

// connect opens one connection to db-uri, as the server's would be (application_name).
func connect(ctx context.Context, cfg config.Config) (*pgx.Conn, error) {
	pc, err := pgx.ParseConfig(cfg.DBURI)
	if err != nil {
		return nil, fmt.Errorf("db-uri: %w", err)
	}
	schemacache.ApplicationName(pc.RuntimeParams, "pgway")
	return pgx.ConnectConfig(ctx, pc)
}

// runDumpConfig prints the configuration as PostgREST's --dump-config: every key = value, sorted.
func runDumpConfig(ctx context.Context, cfg config.Config, stdout, stderr io.Writer) int {
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stderr, "pgway: warning: %s\n", w)
	}
	if cfg.DBConfig {
		cctx, cancel := context.WithTimeout(ctx, cfg.DBPoolAcquisitionTimeout)
		conn, err := connect(cctx, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "pgway: in-database configuration not read: %v\n", err)
		} else {
			inDatabase(cctx, &cfg, conn, stderr)
			conn.Close(context.Background())
		}
		cancel()
	}
	fmt.Fprint(stdout, config.Dump(cfg))
	return 0
}

// runDumpSchema prints the schema cache of db-schemas (after the in-database configuration) as JSON.
func runDumpSchema(ctx context.Context, cfg config.Config, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	conn, err := connect(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "pgway --dump-schema: connecting: %v\n", err)
		return 1
	}
	defer conn.Close(context.Background())
	inDatabase(ctx, &cfg, conn, stderr)
	c, err := schemacache.Load(ctx, conn, cfg.DBSchemas)
	if err != nil {
		fmt.Fprintf(stderr, "pgway --dump-schema: %v\n", err)
		return 1
	}
	out, err := dumpSchema(c)
	if err != nil {
		fmt.Fprintf(stderr, "pgway --dump-schema: %v\n", err)
		return 1
	}
	stdout.Write(out)
	fmt.Fprintln(stdout)
	return 0
}

// specialHost reports warp's host preferences, which are no address to connect to (PostgREST's
// isSpecialHostName).
func specialHost(h string) bool {
	switch h {
	case "*", "*4", "!4", "*6", "!6":
		return true
	}
	return false
}

// runReady is PostgREST's --ready (Client.hs): GET /ready of the admin server; 2xx prints "OK: URL" and exits
// 0; anything else prints "ERROR: ..." on stderr and exits 1. pgway also reaches an admin server on
// admin-server-unix-socket.
func runReady(ctx context.Context, cfg config.Config, stdout, stderr io.Writer) int {
	fail := func(msg string) int {
		fmt.Fprintln(stderr, "ERROR: "+msg)
		return 1
	}
	client := &http.Client{Timeout: 10 * time.Second}
	var url string
	switch {
	case cfg.AdminServerUnixSocket != "":
		sock := cfg.AdminServerUnixSocket
		client.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}
		url = "http://localhost/ready"
	case cfg.AdminServerPort == 0:
		return fail("Admin server is not running. Please check admin-server-port config.")
	default:
		host := cfg.AdminServerHost
		if host == "" {
			host = cfg.ServerHost
		}
		if specialHost(host) {
			return fail("The `--ready` flag cannot be used when server-host is configured as \"" + host + "\". " +
				"Please update your server-host config to \"localhost\".")
		}
		url = "http://" + net.JoinHostPort(host, strconv.Itoa(cfg.AdminServerPort)) + "/ready"
	}
	shown := url
	if cfg.AdminServerUnixSocket != "" {
		shown = "unix:" + cfg.AdminServerUnixSocket + ":/ready"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fail("invalid url - " + shown)
	}
	res, err := client.Do(req)
	if err != nil {
		return fail("connection refused to " + shown)
	}
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode >= 300 {
		return fail(shown)
	}
	fmt.Fprintln(stdout, "OK: "+shown)
	return 0
}
