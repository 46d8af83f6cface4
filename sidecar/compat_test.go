package sidecar_test

import (
	"strings"
	"testing"

	"github.com/pgway/pgway/internal/config"
)

// TestPagesNeverShadowRelations: pgway's own pages live under /pgway; /docs, /openapi.json and /openapi.yaml
// are aliases only while the schema has no relation of that name.
func TestPagesNeverShadowRelations(t *testing.T) {
	ts := start(t, nil, fixture(t), `
CREATE TABLE api.docs (id int PRIMARY KEY, title text);
INSERT INTO api.docs VALUES (1, 'a table called docs');
CREATE TABLE api."openapi.json" (id int PRIMARY KEY);
GRANT SELECT ON api.docs, api."openapi.json" TO web_anon;`)
	runCases(t, ts, []readCase{
		{name: "the table docs", path: "/docs", status: 200, body: `[{"id":1,"title":"a table called docs"}]`},
		{name: "the table docs with a filter", path: "/docs?id=eq.1&select=title", status: 200, body: `[{"title":"a table called docs"}]`},
		{name: "the table openapi.json", path: "/openapi.json", status: 200, body: `[]`},
		{name: "the docs page under /pgway", path: "/pgway/docs", status: 200, contains: []string{"swagger-ui"}},
		{name: "the document under /pgway", path: "/pgway/openapi.json", status: 200, contains: []string{`"openapi": "3.0.3"`, `"/docs"`}},
		{name: "the YAML alias has no table", path: "/openapi.yaml", status: 200, contains: []string{"openapi: 3.0.3"}},
		{name: "the table in another schema leaves the alias", path: "/docs", headers: []string{"Accept-Profile: other"},
			status: 200, contains: []string{"swagger-ui"}},
		{name: "a relation called pgway is still reachable", path: "/pgway", status: 404, contains: []string{`"code":"PGRST205"`}},
	})
}

// TestEmbedCompatibility: cases PostgREST answers that pgway got wrong (issue #15 item 6).
func TestEmbedCompatibility(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBAggregatesEnabled = true }, fixture(t), embedFixture(t))
	runCases(t, ts, []readCase{
		{name: "aggregate in a to-one embed that has its own embed", path: "/books?select=title,authors!author_id(id.count(),author_bios(bio))&id=eq.1",
			status: 200, body: `[{"title":"Earthsea","authors":{"count":1,"author_bios":{"bio":"Wrote Earthsea"}}}]`},
		{name: "aggregate in a to-one embed that has a spread", path: "/books?select=authors!author_id(id.sum(),...author_bios(bio))&id=eq.3",
			status: 200, body: `[{"authors":{"sum":2,"bio":"Wrote Discworld"}}]`},
		// PostgREST names the subqueries <table>_<key>_<depth>; PostgreSQL's error has no detail or hint.
		{name: "two embeds under one key", path: "/books?select=authors!author_id(name),authors!co_author_id(name)", status: 400,
			body: `{"code":"42712","details":null,"hint":null,"message":"table name \"books_authors_1\" specified more than once"}`},
		{name: "two aliased embeds under one key", path: "/books?select=x:authors!author_id(name),x:authors!co_author_id(name)", status: 400,
			body: `{"code":"42712","details":null,"hint":null,"message":"table name \"books_x_1\" specified more than once"}`},
		{name: "two spreads of one relation", path: "/books?select=...authors!author_id(name),...authors!co_author_id(id)", status: 400,
			body: `{"code":"42712","details":null,"hint":null,"message":"table name \"books_authors_1\" specified more than once"}`},
		{name: "two empty embeds of one relation", path: "/books?select=title,authors!author_id!inner(),authors!co_author_id!inner()", status: 400,
			body: `{"code":"42712","details":null,"hint":null,"message":"table name \"books_authors_1\" specified more than once"}`},
		{name: "an embed and a spread of one relation", path: "/books?select=authors!author_id(name),...authors!co_author_id(id)", status: 400,
			body: `{"code":"42712","details":null,"hint":null,"message":"table name \"books_authors_1\" specified more than once"}`},
		{name: "two embeds under one key, nested", path: "/reviews?select=books(authors!author_id(name),authors!co_author_id(name))", status: 400,
			body: `{"code":"42712","details":null,"hint":null,"message":"table name \"books_authors_2\" specified more than once"}`},
		// An unknown column of an embedded table is qualified by PostgREST's alias of it, <table>_<depth> (a
		// many-to-many target keeps its name), as PostgreSQL reports it.
		{name: "unknown column of an embed", path: "/books?select=title,reviews(nope)", status: 400,
			body: `{"code":"42703","details":null,"hint":null,"message":"column reviews_1.nope does not exist"}`},
		{name: "unknown column of a nested embed", path: "/reviews?select=books(authors!author_id(nope))", status: 400,
			body: `{"code":"42703","details":null,"hint":null,"message":"column authors_2.nope does not exist"}`},
		{name: "unknown aggregate column of an embed", path: "/books?select=title,reviews(nope.sum())", status: 400,
			body: `{"code":"42703","details":null,"hint":null,"message":"column reviews_1.nope does not exist"}`},
		{name: "unknown column in an embed's filter", path: "/books?select=title,reviews(stars)&reviews.nope=eq.1", status: 400,
			body: `{"code":"42703","details":null,"hint":null,"message":"column reviews_1.nope does not exist"}`},
		{name: "unknown column in an embed's order", path: "/books?select=title,reviews(stars)&reviews.order=nope", status: 400,
			body: `{"code":"42703","details":null,"hint":null,"message":"column reviews_1.nope does not exist"}`},
		{name: "unknown column of a many-to-many embed", path: "/books?select=title,tags(nope)", status: 400,
			body: `{"code":"42703","details":null,"hint":null,"message":"column tags.nope does not exist"}`},
		{name: "unknown column of the top level", path: "/books?select=nope", status: 400,
			body: `{"code":"42703","details":null,"hint":null,"message":"column books.nope does not exist"}`},
		{name: "distinct aliases are fine", path: "/books?select=a:authors!author_id(name),c:authors!co_author_id(name)&id=eq.3",
			status: 200, body: `[{"a":{"name":"Terry"},"c":{"name":"Neil"}}]`},
	})
	if res := ts.get("/books?select=authors!author_id(name),authors!co_author_id(name)"); strings.Count(res.Body, `"authors"`) > 0 && res.Status == 200 {
		t.Errorf("a duplicated key in a response: %s", res.Body)
	}
}

// TestUnnamedParameters: functions with unnamed parameters are exposed as PostgREST exposes them: a single
// unnamed json, jsonb, text, xml or bytea parameter takes the whole body (also sent as {"": value}, as generated
// clients do); other unnamed parameters make an overload uncallable, never ambiguous with the named ones.
func TestUnnamedParameters(t *testing.T) {
	ts := start(t, nil, fixture(t), `
CREATE FUNCTION api.echo_json(json) RETURNS json LANGUAGE sql AS $$ SELECT $1 $$;
CREATE FUNCTION api.echo_text(text) RETURNS text LANGUAGE sql AS $$ SELECT $1 $$;
CREATE FUNCTION api.pair(int, int) RETURNS int LANGUAGE sql AS $$ SELECT $1 + $2 $$;
CREATE FUNCTION api.pair(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$;
CREATE FUNCTION api.only_unnamed(int, int) RETURNS int LANGUAGE sql AS $$ SELECT $1 * $2 $$;
CREATE FUNCTION api.unnamed_int(int) RETURNS int LANGUAGE sql AS $$ SELECT $1 $$;
CREATE FUNCTION api.dflt() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION api.dflt(int DEFAULT 42) RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;
CREATE FUNCTION api.dflt(text DEFAULT 'x') RETURNS text LANGUAGE sql AS $$ SELECT 'foo' $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO web_anon;`)
	json := []string{jsonCT}
	runWrites(t, ts, []writeCase{
		{name: "raw JSON body", method: "POST", path: "/rpc/echo_json", headers: json, reqBody: `{"x":1}`, status: 200, body: `{"x":1}`},
		{name: `{"": object}`, method: "POST", path: "/rpc/echo_json", headers: json, reqBody: `{"": {"x":1}}`, status: 200, body: `{"x":1}`},
		{name: `{"": number}`, method: "POST", path: "/rpc/echo_json", headers: json, reqBody: `{"": 5}`, status: 200, body: `5`},
		{name: "raw text body", method: "POST", path: "/rpc/echo_text", headers: []string{"Content-Type: text/plain"}, reqBody: `hello`,
			status: 200, body: `"hello"`},
		{name: `{"": string} to a text parameter`, method: "POST", path: "/rpc/echo_text", headers: json, reqBody: `{"": "hello"}`,
			status: 200, body: `"hello"`},
		{name: "the named overload", method: "POST", path: "/rpc/pair", headers: json, reqBody: `{"a": 2}`, status: 200, body: `2`},
		{name: "unnamed int parameters cannot be given", method: "POST", path: "/rpc/pair", headers: json, reqBody: `{"": 2}`,
			status: 404, contains: []string{`"code":"PGRST202"`}},
		{name: "a function of unnamed parameters only", method: "POST", path: "/rpc/only_unnamed", headers: json, reqBody: `{}`,
			status: 404, contains: []string{`"code":"PGRST202"`}},
		// PostgREST's schema cache leaves out a function whose parameters are all unnamed unless it has a single
		// one of a raw body's type: not found, and the argument names quoted as sent (here one empty name).
		{name: "a single unnamed int parameter", method: "POST", path: "/rpc/unnamed_int", headers: json, reqBody: `{"": 1}`, status: 404,
			body: `{"code":"PGRST202","hint":null,"message":"Could not find the function api.unnamed_int() in the schema cache",` +
				`"details":"Searched for the function api.unnamed_int with parameter  or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache."}`},
		{name: "a single unnamed int parameter, no arguments", method: "POST", path: "/rpc/unnamed_int", headers: json, reqBody: `{}`, status: 404,
			body: `{"code":"PGRST202","hint":null,"message":"Could not find the function api.unnamed_int without parameters in the schema cache",` +
				`"details":"Searched for the function api.unnamed_int without parameters or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache."}`},
		{name: "unnamed defaults: only the callable overloads are candidates", method: "POST", path: "/rpc/dflt", headers: json, reqBody: `{}`, status: 300,
			body: `{"code":"PGRST203","details":null,"hint":"Try renaming the parameters or the function itself in the database so function overloading can be resolved",` +
				`"message":"Could not choose the best candidate function between: api.dflt(), api.dflt( => text)"}`},
	})
	doc := ts.get("/pgway/openapi.json").Body
	for _, want := range []string{`"/rpc/echo_json"`, `"/rpc/echo_text"`, `"/rpc/pair"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("the document lacks %s", want)
		}
	}
	if strings.Contains(doc, `"/rpc/only_unnamed"`) {
		t.Error("the document describes a function that cannot be called")
	}
}
