package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/openapi"
)

var update = flag.Bool("update", false, "rewrite golden files")

func col(name, typ, base string, cat byte, nullable bool) *schemacache.Column {
	return &schemacache.Column{Name: name, Type: typ, BaseType: base, TypeCategory: cat, Nullable: nullable}
}

// fixture is a synthetic cache with a column of every type the builder maps.
func fixture() *schemacache.Cache {
	id := col("id", "bigint", "bigint", 'N', false)
	id.HasDefault, id.Default = true, "nextval('books_id_seq'::regclass)"
	title := col("title", "character varying(200)", "character varying", 'S', false)
	title.MaxLength, title.Comment = 200, "The title"
	mood := col("mood", "public.mood", "public.mood", 'E', true)
	mood.EnumValues = []string{"happy", "sad"}
	tags := col("tags", "text[]", "text[]", 'A', true)
	tags.ElemType = "text"
	search := col("search", "tsvector", "tsvector", 'U', true)
	search.Generated, search.HasDefault = true, true
	published := col("published", "boolean", "boolean", 'B', false)
	published.HasDefault, published.Default = true, "false"
	books := &schemacache.Relation{Schema: "api", Name: "books", Kind: schemacache.KindTable,
		Comment: "Books\nEvery book we sell.", PrimaryKey: []string{"id"},
		Insertable: true, Updatable: true, Deletable: true,
		ForeignKeys: []*schemacache.ForeignKey{{Name: "books_author_id_fkey", Columns: []string{"author_id"},
			Ref: schemacache.QName{Schema: "api", Name: "authors"}, RefColumns: []string{"id"}}},
		Columns: []*schemacache.Column{
			id, title,
			col("author_id", "integer", "integer", 'N', false),
			col("pages", "smallint", "smallint", 'N', true),
			col("price", "numeric(10,2)", "numeric", 'N', true),
			col("weight", "real", "real", 'N', true),
			col("rating", "double precision", "double precision", 'N', true),
			published,
			col("summary", "text", "text", 'S', true),
			col("isbn", "character(13)", "character", 'S', true),
			col("uuid", "uuid", "uuid", 'U', false),
			col("released", "date", "date", 'D', true),
			col("created_at", "timestamp with time zone", "timestamp with time zone", 'D', true),
			col("updated_at", "timestamp without time zone", "timestamp without time zone", 'D', true),
			col("opens", "time without time zone", "time without time zone", 'D', true),
			col("loan", "interval", "interval", 'T', true),
			col("meta", "jsonb", "jsonb", 'U', true),
			col("raw", "json", "json", 'U', false),
			col("cover", "bytea", "bytea", 'U', true),
			tags, mood, search,
			col("shelf", "public.shelf", "public.shelf", 'C', true),
			col("isbn13", "public.isbn", "text", 'S', true), // a domain over text
			col("author", "api.authors", "api.authors", 'C', true),
			col("select", "text", "text", 'S', true), // reserved: no filter parameter
		},
	}
	books.Columns[0].Comment = "Identifier"
	ids := col("ids", "integer[]", "integer[]", 'A', false)
	ids.ElemType = "integer"
	authors := &schemacache.Relation{Schema: "api", Name: "authors", Kind: schemacache.KindTable,
		PrimaryKey: []string{"id"}, Insertable: true, Updatable: true, Deletable: true,
		Columns: []*schemacache.Column{col("id", "integer", "integer", 'N', false), col("name", "text", "text", 'S', false), ids}}
	view := &schemacache.Relation{Schema: "api", Name: "book stats", Kind: schemacache.KindView,
		Columns: []*schemacache.Column{col("n", "bigint", "bigint", 'N', true)}}
	hidden := &schemacache.Relation{Schema: "private", Name: "secrets", Kind: schemacache.KindTable,
		Columns: []*schemacache.Column{col("s", "text", "text", 'S', true)}}
	q := func(r *schemacache.Relation) schemacache.QName {
		return schemacache.QName{Schema: r.Schema, Name: r.Name}
	}
	booksQ := q(books)
	return &schemacache.Cache{
		Schemas: []string{"api", "private"},
		Relations: map[schemacache.QName]*schemacache.Relation{
			booksQ: books, q(authors): authors, q(view): view, q(hidden): hidden,
		},
		Routines: map[schemacache.QName][]*schemacache.Routine{
			{Schema: "api", Name: "search_books"}: {{Schema: "api", Name: "search_books", Comment: "Full-text search",
				Params:     []schemacache.RoutineParam{{Name: "query", Type: "text"}, {Name: "max", Type: "integer", HasDefault: true}},
				Volatility: 's', ReturnType: "api.books", ReturnsSet: true, ReturnsRelation: &booksQ}},
			{Schema: "api", Name: "add"}: {
				{Schema: "api", Name: "add", Volatility: 'i', ReturnType: "integer", ReturnsScalar: true,
					Params: []schemacache.RoutineParam{{Name: "a", Type: "integer"}, {Name: "b", Type: "integer"}}},
				{Schema: "api", Name: "add", Volatility: 'i', ReturnType: "numeric", ReturnsScalar: true,
					Params: []schemacache.RoutineParam{{Name: "a", Type: "numeric"}, {Name: "b", Type: "numeric"}}},
			},
			{Schema: "api", Name: "sum_all"}: {{Schema: "api", Name: "sum_all", Volatility: 'i', ReturnType: "bigint",
				ReturnsScalar: true, Variadic: true,
				Params: []schemacache.RoutineParam{{Name: "vals", Type: "integer[]", Variadic: true}}}},
			{Schema: "api", Name: "reset"}: {{Schema: "api", Name: "reset", Volatility: 'v', ReturnType: "void"}},
			{Schema: "api", Name: "ingest"}: {{Schema: "api", Name: "ingest", Volatility: 'v', ReturnType: "json",
				ReturnsScalar: true, Params: []schemacache.RoutineParam{{Type: "json"}}}},
			{Schema: "api", Name: "stats"}: {{Schema: "api", Name: "stats", Volatility: 's', ReturnType: "record",
				ReturnsSet: true, Params: []schemacache.RoutineParam{{Name: "since", Type: "date", HasDefault: true}}}},
		},
	}
}

func build(t *testing.T, opts openapi.Options) *openapi3.T {
	t.Helper()
	doc, err := openapi.Build(fixture(), opts)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return doc
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run go test -update and review the diff", path)
	}
}

func TestBuildValidates(t *testing.T) {
	for _, tc := range []struct{ version, openapi string }{{"3.0", "3.0.3"}, {"3.1", "3.1.0"}} {
		t.Run(tc.version, func(t *testing.T) {
			opts := openapi.Options{Version: tc.version, ServerURL: "https://api.books.test/v1", Title: "Books"}
			doc := build(t, opts)
			ctx := context.Background()
			if err := doc.Validate(ctx); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			for _, format := range []string{"json", "yaml"} {
				out, err := openapi.Marshal(doc, format)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, "books-"+tc.version+"."+format, out)
				// Write streams the same document Build describes.
				var written bytes.Buffer
				if err := openapi.Write(&written, fixture(), opts, format); err != nil {
					t.Fatal(err)
				}
				golden(t, "books-"+tc.version+"."+format, written.Bytes())
				loaded, err := openapi3.NewLoader().LoadFromData(out)
				if err != nil {
					t.Fatalf("loading %s: %v", format, err)
				}
				if loaded.OpenAPI != tc.openapi {
					t.Errorf("openapi = %q, want %q", loaded.OpenAPI, tc.openapi)
				}
				if err := loaded.Validate(ctx); err != nil {
					t.Fatalf("Validate after reloading %s: %v", format, err)
				}
			}
		})
	}
}

// TestJSONSchemaShape checks the 3.1 document uses JSON Schema 2020-12 forms and the 3.0 one OpenAPI 3.0 forms.
func TestJSONSchemaShape(t *testing.T) {
	for _, version := range []string{"3.0", "3.1"} {
		out, err := openapi.Marshal(build(t, openapi.Options{Version: version}), "json")
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatal(err)
		}
		var nullable, typeArrays int
		walk(v, func(m map[string]any) {
			if _, ok := m["nullable"]; ok {
				nullable++
			}
			if ts, ok := m["type"].([]any); ok {
				typeArrays++
				if len(ts) != 2 || ts[1] != "null" {
					t.Errorf("%s: type %v, want [T, null]", version, ts)
				}
			}
			if _, ok := m["example"]; ok && version == "3.1" {
				t.Errorf("3.1: example is deprecated, use examples")
			}
		})
		if version == "3.0" && (nullable == 0 || typeArrays != 0) {
			t.Errorf("3.0: %d nullable, %d type arrays; want some nullable and no type arrays", nullable, typeArrays)
		}
		if version == "3.1" && (nullable != 0 || typeArrays == 0) {
			t.Errorf("3.1: %d nullable, %d type arrays; want no nullable and some type arrays", nullable, typeArrays)
		}
	}
}

func walk(v any, f func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		f(x)
		for _, c := range x {
			walk(c, f)
		}
	case []any:
		for _, c := range x {
			walk(c, f)
		}
	}
}

func TestRequired(t *testing.T) {
	doc := build(t, openapi.Options{})
	s := doc.Components.Schemas
	for _, tc := range []struct {
		schema string
		want   []string
	}{
		{"books", nil}, // select may narrow any read
		{"books_insert", []string{"title", "author_id", "uuid", "raw"}},
		{"books_update", nil},
		{"authors_insert", []string{"id", "name", "ids"}},
	} {
		got := s[tc.schema].Value.Required
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s required = %v, want %v", tc.schema, got, tc.want)
		}
	}
	if _, ok := s["books_insert"].Value.Properties["search"]; ok {
		t.Error("books_insert has the generated column search")
	}
	if !s["books"].Value.Properties["search"].Value.ReadOnly {
		t.Error("books.search is not readOnly")
	}
	if _, ok := s["book_stats_insert"]; ok {
		t.Error("a non-insertable view has an insert schema")
	}
}

func TestTypes(t *testing.T) {
	for _, version := range []string{"3.0", "3.1"} {
		props := build(t, openapi.Options{Version: version}).Components.Schemas["books"].Value.Properties
		for _, tc := range []struct{ col, typ, format string }{
			{"id", "integer", "int64"}, {"author_id", "integer", "int32"}, {"pages", "integer", "int32"},
			{"price", "number", ""}, {"weight", "number", "float"}, {"rating", "number", "double"},
			{"published", "boolean", ""}, {"title", "string", ""}, {"uuid", "string", "uuid"},
			{"released", "string", "date"}, {"created_at", "string", "date-time"}, {"updated_at", "string", ""}, {"opens", "string", ""},
			{"loan", "string", ""}, {"cover", "string", ""}, {"tags", "array", ""}, {"mood", "string", ""},
			{"shelf", "object", ""}, {"isbn13", "string", ""},
		} {
			s := props[tc.col].Value
			if s.Type == nil || (*s.Type)[0] != tc.typ || s.Format != tc.format {
				t.Errorf("%s %s: type %v format %q, want %s %q", version, tc.col, s.Type, s.Format, tc.typ, tc.format)
			}
		}
		if props["meta"].Value.Type != nil || props["raw"].Value.Type != nil {
			t.Errorf("%s: json/jsonb columns are typed", version)
		}
		if m := props["title"].Value.MaxLength; m == nil || *m != 200 {
			t.Errorf("%s: title maxLength = %v", version, m)
		}
		if e := props["mood"].Value.Enum; len(e) != 3 || e[2] != nil {
			t.Errorf("%s: mood enum = %v, want happy, sad, null", version, e)
		}
	}
}

func TestOperationIDs(t *testing.T) {
	doc := build(t, openapi.Options{})
	var got []string
	for _, path := range doc.Paths.InMatchingOrder() {
		for _, op := range doc.Paths.Value(path).Operations() {
			got = append(got, op.OperationID)
		}
	}
	slices.Sort(got)
	want := []string{"deleteAuthors", "deleteBooks", "getAuthors", "getBookStats", "getBooks", "getOpenApi",
		"headAuthors", "headBookStats", "headBooks", "patchAuthors", "patchBooks", "postAuthors", "postBooks",
		"putAuthors", "putBooks", "rpcAdd", "rpcAddGet", "rpcIngest", "rpcReset", "rpcSearchBooks", "rpcSearchBooksGet",
		"rpcStats", "rpcStatsGet", "rpcSumAll", "rpcSumAllGet"}
	if !slices.Equal(got, want) {
		t.Errorf("operationIds\n got %v\nwant %v", got, want)
	}
}

func TestAllowed(t *testing.T) {
	doc := build(t, openapi.Options{Allowed: func(q schemacache.QName, priv string) bool {
		return q.Name == "books" && priv == openapi.PrivSelect
	}})
	if doc.Paths.Find("/authors") != nil || doc.Paths.Find("/rpc/add") != nil {
		t.Error("unprivileged relation or function described")
	}
	books := doc.Paths.Find("/books")
	if books == nil || books.Get == nil || books.Post != nil || books.Patch != nil || books.Delete != nil {
		t.Errorf("/books should have only GET/HEAD: %+v", books)
	}
	private := build(t, openapi.Options{Schema: "private"})
	if private.Paths.Find("/secrets") == nil || private.Paths.Find("/books") != nil {
		t.Error("schema private not described alone")
	}
	if p := private.Components.Parameters["acceptProfile"]; p == nil || !p.Value.Required {
		t.Error("Accept-Profile should be required for a non-default schema")
	}
	if _, err := openapi.Build(fixture(), openapi.Options{Schema: "nope"}); err == nil {
		t.Error("unexposed schema accepted")
	}
	if _, err := openapi.Build(fixture(), openapi.Options{Version: "2.0"}); err == nil {
		t.Error("version 2.0 accepted")
	}
}

func TestFilterPattern(t *testing.T) {
	re := regexp.MustCompile(openapi.FilterPattern)
	for _, v := range []string{"eq.5", "not.eq.5", "in.(1,2)", "like(any).{a*,b*}", "is.null", "fts(english).cat",
		"wfts.cat dog", "cs.{1,2}", "neq.3", "imatch(all).{a,b}", "isdistinct.3", "gte.2020-01-01", "eq."} {
		if !re.MatchString(v) {
			t.Errorf("%q does not match", v)
		}
	}
	for _, v := range []string{"5", "equals.5", "eq", "in(any).x", "neq(any).{1}", "not.5"} {
		if re.MatchString(v) {
			t.Errorf("%q matches", v)
		}
	}
}
