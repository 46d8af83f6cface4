package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/openapi"
)

func init() {
	commands["openapi"] = command{
		summary: "print the OpenAPI description of a schema",
		usage: `usage: pgway openapi [CONFIG_FILE] [--schema S] [--role R] [--format json|yaml] [--version 3.0|3.1] [--key=value ...]

Prints the OpenAPI document pgway serves at / for schema S (default: the first of db-schemas).
With --role, only what role R may use is described (openapi-mode follow-privileges); without it, everything.
It reads db-uri, db-schemas, openapi-version (--version 3.0|3.1) and openapi-server-proxy-uri (--server-url).
` + configHelp + `

` + diffUsage,
		run: runOpenAPI,
	}
}

// openapiAliases are the configuration flags pgway openapi has always had under shorter names.
var openapiAliases = map[string]string{"version": "openapi-version", "server-url": "openapi-server-proxy-uri"}

func runOpenAPI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "diff" {
		return runDiff(ctx, args[1:], getenv, stdout, stderr)
	}
	fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
	schema := fs.String("schema", "", "schema to describe (default: the first exposed schema)")
	role := fs.String("role", "", "describe only what this role may use")
	format := fs.String("format", "json", "output format: json or yaml")
	pos, flags, err := parseArgs(fs, openapiAliases, args)
	if err != nil {
		return argsError("openapi", err, stdout, stderr)
	}
	if len(pos) > 1 {
		fmt.Fprintf(stderr, "pgway openapi: unexpected argument %q\n", pos[1])
		return 2
	}
	file := ""
	if len(pos) == 1 {
		file = pos[0]
	}
	cfg, err := config.Load(file, getenv, flags)
	if err != nil {
		fmt.Fprintf(stderr, "pgway openapi: %v\n", err)
		return 1
	}
	if cfg.DBURI == "" {
		fmt.Fprintln(stderr, "pgway openapi: no database: set db-uri (config file, PGRST_DB_URI or --db-uri)")
		return 2
	}
	schemas := cfg.DBSchemas
	if *schema != "" && !slices.Contains(schemas, *schema) {
		schemas = []string{*schema}
	}
	opts := openapi.Options{Schema: *schema, Version: cfg.OpenAPIVersion, ServerURL: cfg.OpenAPIServerProxyURI,
		BatchMaxOperations: cfg.BatchMaxOperations}
	c, err := loadForDoc(ctx, cfg.DBURI, schemas, *role, &opts)
	if err == nil {
		// Written as it is made, through a buffer: the document of a large schema is never held whole.
		out := bufio.NewWriterSize(stdout, 256<<10)
		if err = openapi.Write(out, c, opts, *format); err == nil {
			err = out.Flush()
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "pgway openapi: %v\n", err)
		return 1
	}
	return 0
}

// describe loads the schema cache of schemas and builds the document, limited to role's privileges if set.
func describe(ctx context.Context, uri string, schemas []string, role string, opts openapi.Options) (*openapi3.T, error) {
	c, err := loadForDoc(ctx, uri, schemas, role, &opts)
	if err != nil {
		return nil, err
	}
	return openapi.Build(c, opts)
}

// loadForDoc loads the schema cache of schemas and, with role, limits opts to role's privileges.
func loadForDoc(ctx context.Context, uri string, schemas []string, role string, opts *openapi.Options) (*schemacache.Cache, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var conns [2]*pgx.Conn
	var errs [2]error
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conns[i], errs[i] = pgx.Connect(ctx, uri)
		}()
	}
	wg.Wait()
	for _, c := range conns {
		if c != nil {
			defer c.Close(context.Background())
		}
	}
	if errs[0] != nil {
		return nil, fmt.Errorf("connecting: %w", errs[0])
	}
	conn := conns[0]
	qs := []schemacache.Querier{conn}
	if errs[1] == nil {
		qs = append(qs, conns[1]) // the columns are read on it, in parallel
	}
	c, err := schemacache.LoadOn(ctx, qs, schemas)
	if err != nil {
		return nil, fmt.Errorf("loading the schema cache: %w", err)
	}
	if role != "" {
		privs, err := schemacache.LoadPrivileges(ctx, conn, role, schemas)
		if err != nil {
			return nil, err
		}
		opts.Allowed = privs.Allows
	}
	return c, nil
}
