package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/openapi"
)

func init() {
	commands["openapi"] = command{
		summary: "print the OpenAPI description of a schema",
		usage: `usage: pgway openapi [--schema S] [--role R] [--version 3.0|3.1] [--format json|yaml] [--db-uri URI]

Prints the OpenAPI document pgway serves at / for schema S (default: the first of PGRST_DB_SCHEMAS, or public).
With --role, only what role R may use is described (openapi-mode follow-privileges); without it, everything.
Defaults come from PGRST_DB_URI, PGRST_DB_SCHEMAS, PGRST_OPENAPI_VERSION and PGRST_OPENAPI_SERVER_PROXY_URI.

` + diffUsage,
		run: runOpenAPI,
	}
}

func runOpenAPI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "diff" {
		return runDiff(ctx, args[1:], getenv, stdout, stderr)
	}
	fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	schema := fs.String("schema", "", "schema to describe (default: the first exposed schema)")
	role := fs.String("role", "", "describe only what this role may use")
	version := fs.String("version", cmp.Or(getenv("PGRST_OPENAPI_VERSION"), "3.0"), "OpenAPI version: 3.0 or 3.1")
	format := fs.String("format", "json", "output format: json or yaml")
	dbURI := fs.String("db-uri", getenv("PGRST_DB_URI"), "PostgreSQL connection URI")
	serverURL := fs.String("server-url", getenv("PGRST_OPENAPI_SERVER_PROXY_URI"), "servers[0].url of the document")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pgway openapi: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *dbURI == "" {
		fmt.Fprintln(stderr, "pgway openapi: no database: pass --db-uri or set PGRST_DB_URI")
		return 2
	}
	var schemas []string
	for _, s := range strings.Split(cmp.Or(getenv("PGRST_DB_SCHEMAS"), "public"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			schemas = append(schemas, s)
		}
	}
	if *schema != "" && !slices.Contains(schemas, *schema) {
		schemas = []string{*schema}
	}
	doc, err := describeDB(ctx, *dbURI, schemas, *role, openapi.Options{Schema: *schema, Version: *version,
		ServerURL: *serverURL})
	if err == nil {
		var out []byte
		if out, err = openapi.Marshal(doc, *format); err == nil {
			_, err = stdout.Write(out)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "pgway openapi: %v\n", err)
		return 1
	}
	return 0
}

// describeDB loads the schema cache of schemas and builds the document, limited to role's privileges if set.
func describeDB(ctx context.Context, uri string, schemas []string, role string, opts openapi.Options) (*openapi3.T, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close(context.Background())
	c, err := schemacache.Load(ctx, conn, schemas)
	if err != nil {
		return nil, fmt.Errorf("loading the schema cache: %w", err)
	}
	if role != "" {
		allowed, err := privileges(ctx, conn, role, schemas)
		if err != nil {
			return nil, err
		}
		opts.Allowed = func(q schemacache.QName, priv string) bool { return allowed[privKey{q, priv}] }
	}
	return openapi.Build(c, opts)
}

type privKey struct {
	q    schemacache.QName
	priv string
}

// privilegesSQL lists the table and function privileges role holds (directly, through membership or PUBLIC)
// in the exposed schemas; a function name is allowed when any overload is executable.
const privilegesSQL = `
select n.nspname, c.relname, p.priv
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE']) as p(priv)
where n.nspname = any($2) and c.relkind in ('r', 'v', 'm', 'f', 'p')
  and (has_table_privilege($1, c.oid, p.priv)
       or (p.priv <> 'DELETE' and has_any_column_privilege($1, c.oid, p.priv)))
union all
select distinct n.nspname, f.proname, 'EXECUTE'
from pg_proc f
join pg_namespace n on n.oid = f.pronamespace
where n.nspname = any($2) and has_function_privilege($1, f.oid, 'EXECUTE')`

func privileges(ctx context.Context, conn *pgx.Conn, role string, schemas []string) (map[privKey]bool, error) {
	rows, err := conn.Query(ctx, privilegesSQL, role, schemas)
	if err != nil {
		return nil, fmt.Errorf("reading the privileges of role %q: %w", role, err)
	}
	allowed := map[privKey]bool{}
	var k privKey
	_, err = pgx.ForEachRow(rows, []any{&k.q.Schema, &k.q.Name, &k.priv}, func() error {
		allowed[k] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the privileges of role %q: %w", role, err)
	}
	return allowed, nil
}
