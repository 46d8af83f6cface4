package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/openapi"
)

const diffUsage = `usage: pgway openapi diff [CONFIG_FILE] OLD NEW [--db-uri URI]

Compares two API descriptions and lists what changed. OLD and NEW are schema names in the database (e.g.
api_v1 api_v2) or OpenAPI document files (JSON or YAML). Removed paths, operations, parameters and properties,
type changes, newly required fields and narrowed enums are breaking; additions are not. Exit status 1 when
anything breaks, 0 otherwise. The database is db-uri (config file, PGRST_DB_URI or --db-uri).`

// runDiff is pgway openapi diff.
func runDiff(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	pos, flags, err := parseArgs(flag.NewFlagSet("openapi diff", flag.ContinueOnError), nil, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, diffUsage)
			return 0
		}
		fmt.Fprintf(stderr, "pgway openapi diff: %v\n", err)
		return 2
	}
	file := ""
	if len(pos) == 3 {
		file, pos = pos[0], pos[1:]
	}
	if len(pos) != 2 {
		fmt.Fprintln(stderr, diffUsage)
		return 2
	}
	cfg, err := config.Load(file, getenv, flags)
	if err != nil {
		fmt.Fprintf(stderr, "pgway openapi diff: %v\n", err)
		return 1
	}
	var docs [2]*openapi3.T
	for i, src := range pos {
		if docs[i], err = loadDoc(ctx, src, cfg.DBURI, cfg.BatchMaxOperations); err != nil {
			fmt.Fprintf(stderr, "pgway openapi diff: %s: %v\n", src, err)
			return 1
		}
	}
	changes := openapi.Diff(docs[0], docs[1])
	breaking := 0
	for _, c := range changes {
		mark := "          "
		if c.Breaking {
			mark = "BREAKING  "
			breaking++
		}
		fmt.Fprintln(stdout, mark+c.String())
	}
	fmt.Fprintf(stdout, "%d change(s), %d breaking\n", len(changes), breaking)
	if breaking > 0 {
		return 1
	}
	return 0
}

// loadDoc reads src as a document file, or else describes the schema of that name from the database (with
// atomic batches when server-batch-max-operations is set, as pgway openapi and the server describe it).
func loadDoc(ctx context.Context, src, dbURI string, batchMax int) (*openapi3.T, error) {
	if st, err := os.Stat(src); err == nil && !st.IsDir() {
		doc, err := openapi3.NewLoader().LoadFromFile(src)
		if err != nil {
			return nil, fmt.Errorf("loading: %w", err)
		}
		return doc, nil
	}
	if dbURI == "" {
		return nil, errors.New("not a file, and no database to find a schema in: set db-uri (config file, PGRST_DB_URI or --db-uri)")
	}
	return describe(ctx, dbURI, []string{src}, "", openapi.Options{Schema: src, Version: "3.0", BatchMaxOperations: batchMax})
}
