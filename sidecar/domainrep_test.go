package sidecar_test

import (
	"strings"
	"testing"
)

// domainRepFixture is PostgREST's domain representations example: colors stored as integers, presented,
// filtered and written as hex strings through implicit casts between the domain and json / text.
const domainRepFixture = `
CREATE DOMAIN api.color AS integer CHECK (VALUE >= 0 AND VALUE <= 16777215);
CREATE FUNCTION api.color(text) RETURNS api.color LANGUAGE sql IMMUTABLE AS
  $$ SELECT ('x' || lpad(ltrim($1, '#'), 8, '0'))::bit(32)::int $$;
CREATE FUNCTION api.json(api.color) RETURNS json LANGUAGE sql IMMUTABLE AS
  $$ SELECT to_json('#' || lpad(upper(to_hex($1)), 6, '0')) $$;
CREATE FUNCTION api.color(json) RETURNS api.color LANGUAGE sql IMMUTABLE AS $$ SELECT api.color($1 #>> '{}') $$;
CREATE CAST (api.color AS json) WITH FUNCTION api.json(api.color) AS IMPLICIT;
CREATE CAST (text AS api.color) WITH FUNCTION api.color(text) AS IMPLICIT;
CREATE CAST (json AS api.color) WITH FUNCTION api.color(json) AS IMPLICIT;
CREATE TABLE api.labels (id int PRIMARY KEY, name text, color api.color);
INSERT INTO api.labels VALUES (1, 'black', 0), (2, 'dark', 256), (3, 'green', 123456), (4, 'none', NULL);
GRANT SELECT, INSERT, UPDATE ON api.labels TO web_anon;
`

func TestDomainRepresentations(t *testing.T) {
	ts := start(t, nil, fixture(t), domainRepFixture)
	if res := ts.get("/openapi.json"); res.Status != 200 || !strings.Contains(res.Body, "domain representation of api.color") {
		t.Fatalf("OpenAPI: %d, the color column should be any JSON value", res.Status)
	}
	runCases(t, ts, []readCase{
		{name: "presented through the domain to json cast", path: "/labels?select=id,color&id=lt.4&order=id", status: 200,
			body: `[{"id":1,"color":"#000000"},{"id":2,"color":"#000100"},{"id":3,"color":"#01E240"}]`},
		{name: "star and aliases too", path: "/labels?select=*,c:color&id=eq.3", status: 200,
			body: `[{"id":3,"name":"green","color":"#01E240","c":"#01E240"}]`},
		{name: "a cast applies after the representation", path: "/labels?select=c:color::text&id=eq.2", status: 200,
			body: `[{"c":"\"#000100\""}]`},
		{name: "NULL stays null", path: "/labels?select=color&id=eq.4", status: 200, body: `[{"color":null}]`},
		{name: "filters read the text format", path: "/labels?select=id&color=eq.000100", status: 200, body: `[{"id":2}]`},
		{name: "in-lists too", path: "/labels?select=id&color=in.(000100,01E240)&order=id", status: 200, body: `[{"id":2},{"id":3}]`},
		{name: "and negated", path: "/labels?select=id&color=not.in.(000000,01E240)&order=id", status: 200, body: `[{"id":2}]`},
		{name: "ordering uses the stored value", path: "/labels?select=id&order=color.desc.nullslast", status: 200,
			body: `[{"id":3},{"id":2},{"id":1},{"id":4}]`},
	})
	runWrites(t, ts, []writeCase{
		{name: "bodies read the JSON format", method: "POST", path: "/labels?select=id,color",
			headers: []string{jsonCT, "Prefer: return=representation"}, reqBody: `{"id":5,"name":"lime","color":"#00FF00"}`,
			status: 201, body: `[{"id":5,"color":"#00FF00"}]`},
		{name: "updates too", method: "PATCH", path: "/labels?id=eq.5&select=id,color",
			headers: []string{jsonCT, "Prefer: return=representation"}, reqBody: `{"color":"#0000FF"}`,
			status: 200, body: `[{"id":5,"color":"#0000FF"}]`,
			table: "api.labels WHERE id = 5", rows: `[{"id":5,"name":"lime","color":255}]`}, // stored as the integer
	})
}
