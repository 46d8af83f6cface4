package validate_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/openapi"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
	"github.com/pgway/pgway/sidecar/internal/validate"
)

//go:embed testdata/nested.sql
var nestedSQL string

// nestedCases are insert bodies with nested writes and PostgreSQL's verdict on them.
var nestedCases = []struct {
	table string
	s     sample
}{
	{"authors", ok(`{"name":"a","books":[{"title":"t"},{"title":"u"}]}`)},
	{"authors", ok(`{"name":"a","books":null}`)},
	{"authors", ok(`{"name":"a","books":[]}`)},
	{"authors", ok(`[{"name":"a","books":[{"title":"t","tags":[{"name":"deep"}]}]}]`)},
	{"authors", bad(`{"name":"a","books":[{"title":"t","pages":"x"}]}`)},
	{"authors", bad(`{"name":"a","books":[{"title":"t","pages":1.5}]}`)},
	{"authors", bad(`{"name":"a","books":[{"pages":1}]}`)},
	{"authors", bad(`{"name":"a","books":[{"title":"t","tags":[{"id":1}]}]}`)},
	{"authors", bad(`{"name":"0123456789x","books":[]}`)},
	{"books", ok(`{"title":"t","authors":{"name":"a"}}`)},
	{"books", ok(`{"title":"t","author_id":100}`)},
	{"books", ok(`[{"title":"t","author_id":null,"authors":{"name":"a"}},{"title":"u","author_id":100,"authors":null}]`)},
	{"books", ok(`{"title":"t","author_id":100,"tags":[{"name":"x"},{"name":"y"}]}`)},
	{"books", bad(`{"title":"t","authors":{"name":"0123456789x"}}`)},
	{"books", bad(`{"title":"t","authors":{}}`)},
	{"books", bad(`{"title":"t","author_id":100,"tags":[{"id":"x","name":"n"}]}`)},
	// Without the related row, the foreign key is required: the document cannot say "one or the other".
	{"books", bad(`{"title":"t"}`, docLax)},
}

// TestNestedAgree checks that the OpenAPI document's insert schemas, the validator and PostgreSQL (pgway's own
// statement for the request, in a rolled-back transaction) agree on bodies with nested writes.
func TestNestedAgree(t *testing.T) {
	db := pgtest.NewDatabase(t, nestedSQL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	cache, err := schemacache.Load(ctx, conn, []string{"api"})
	if err != nil {
		t.Fatal(err)
	}
	set := validate.Compile(cache)
	docs := map[string]*openapi3.T{}
	for _, v := range []string{"3.0", "3.1"} {
		doc, err := openapi.Build(cache, openapi.Options{Version: v})
		if err != nil {
			t.Fatal(err)
		}
		docs[v] = doc
	}
	for _, tc := range nestedCases {
		body := tc.s.v
		got := map[string]error{
			"PostgreSQL": pgNestedInsert(ctx, t, conn, cache, tc.table, body),
			"validator":  validateInsert(set.Relation("api", tc.table), body),
		}
		for v, doc := range docs {
			got["document "+v] = documentVerdict(doc, tc.table+"_insert", body, v == "3.1")
			if body[0] == '[' {
				got["document "+v] = documentArrayVerdict(doc, tc.table+"_insert", body, v == "3.1")
			}
		}
		wantDoc, wantVal := tc.s.want()
		check(t, tc.table+" body "+body, tc.s, got, map[string]bool{"PostgreSQL": tc.s.ok, "validator": wantVal,
			"document 3.0": wantDoc, "document 3.1": wantDoc})
	}
}

// pgNestedInsert runs pgway's statement for POST /table with body, rolled back.
func pgNestedInsert(ctx context.Context, t *testing.T, conn *pgx.Conn, cache *schemacache.Cache, table, body string) error {
	req, err := request.Parse(request.Input{Method: "POST", Path: "/" + table, Body: []byte(body), ContentType: "application/json"})
	if err != nil {
		return err
	}
	rel, _ := cache.Relation("api", table)
	m, err := plan.ForMutate(req, cache, rel, false, plan.Limits{MaxEmbedDepth: 8, MaxEmbeds: 32})
	if err != nil {
		t.Fatalf("%s %s: planning fails: %v", table, body, err)
	}
	st := sqlgen.ForMutate(m).Main
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	vals := make([][]byte, len(st.Args))
	for i, a := range st.Args {
		switch v := a.(type) {
		case string:
			vals[i] = []byte(v)
		case []byte:
			vals[i] = v
		default:
			vals[i] = []byte(fmt.Sprint(v))
		}
	}
	_, err = conn.PgConn().ExecParams(ctx, st.SQL, vals, nil, nil, nil).Close()
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s %s", pe.Code, pe.Message)
	}
	return err
}

// validateInsert runs the validator's checks of a plain JSON insert, as the server does.
func validateInsert(rel *validate.Relation, body string) error {
	var p validate.Problems
	var keys []string
	var v any
	_ = json.Unmarshal([]byte(body), &v)
	switch t := v.(type) {
	case map[string]any:
		for k := range t {
			keys = append(keys, k)
		}
	case []any:
		for k := range t[0].(map[string]any) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	rel.InsertBody([]byte(body), keys, &p)
	rel.Required(keys, &p)
	return p.Err()
}

// documentArrayVerdict validates each row of an array body against the insert schema.
func documentArrayVerdict(doc *openapi3.T, key, body string, v31 bool) error {
	var rows []json.RawMessage
	if err := json.Unmarshal([]byte(body), &rows); err != nil {
		return err
	}
	for _, r := range rows {
		if err := documentVerdict(doc, key, string(r), v31); err != nil {
			return err
		}
	}
	return nil
}
