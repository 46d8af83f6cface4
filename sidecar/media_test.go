package sidecar_test

import (
	"net/http"
	"strings"
	"testing"
)

// mediaFixture declares PostgREST media type handlers: functions returning domains named as media types.
const mediaFixture = `
CREATE DOMAIN api."text/plain" AS text;
CREATE DOMAIN api."text/html" AS text;
CREATE DOMAIN api."text/xml" AS pg_catalog.xml;
CREATE DOMAIN api."image/png" AS bytea;
CREATE DOMAIN api."*/*" AS bytea;
CREATE FUNCTION api.welcome() RETURNS api."text/plain" LANGUAGE sql AS $$ SELECT 'Welcome to PostgREST'::api."text/plain" $$;
CREATE FUNCTION api.welcome_twice() RETURNS SETOF api."text/plain" LANGUAGE sql AS
  $$ SELECT 'Welcome'::api."text/plain" UNION ALL SELECT 'Welcome'::api."text/plain" $$;
CREATE FUNCTION api."welcome.html"() RETURNS api."text/html" LANGUAGE sql AS $$ SELECT '<h1>Welcome</h1>'::api."text/html" $$;
CREATE FUNCTION api.scalar_xml() RETURNS api."text/xml" LANGUAGE sql AS $$ SELECT '<my-xml-tag/>'::api."text/xml" $$;
CREATE FUNCTION api.plain_text() RETURNS text LANGUAGE sql AS $$ SELECT 'plain' $$;
CREATE FUNCTION api.ret_image() RETURNS api."image/png" LANGUAGE sql AS $$ SELECT decode('89504e470d0a1a0a', 'hex')::api."image/png" $$;
CREATE FUNCTION api.no_image() RETURNS api."image/png" LANGUAGE sql AS $$ SELECT NULL::api."image/png" $$;
CREATE FUNCTION api.ret_any_mt() RETURNS api."*/*" LANGUAGE sql AS $$ SELECT 'any'::api."*/*" $$;
CREATE FUNCTION api.ret_some_mt() RETURNS api."*/*" LANGUAGE plpgsql AS $$
DECLARE
  req_accept text := current_setting('request.headers', true)::json->>'accept';
BEGIN
  IF req_accept = 'app/chico' THEN
    PERFORM set_config('response.headers', json_build_array(json_build_object('Content-Type', req_accept))::text, true);
    RETURN 'chico';
  ELSIF req_accept = '*/*' THEN
    PERFORM set_config('response.headers', '[{"Content-Type": "app/groucho"}]', true);
    RETURN 'groucho';
  END IF;
  RAISE SQLSTATE 'PT406' USING MESSAGE = 'Not Acceptable';
END $$;
`

// TestMediaTypeHandlers: PostgREST 12's media type handlers for functions (docs: Media Type Handlers), with
// the cases of its CustomMediaSpec.
func TestMediaTypeHandlers(t *testing.T) {
	ts := start(t, nil, fixture(t), mediaFixture)
	const notAvailable = `{"code":"PGRST107","details":null,"hint":null,"message":"None of these media types are available: `
	for _, c := range []struct {
		name, path, accept string
		status             int
		ctype, body        string
	}{
		{"text/plain domain", "/rpc/welcome", "text/plain", 200, "text/plain; charset=utf-8", "Welcome to PostgREST"},
		{"JSON still available", "/rpc/welcome", "application/json", 200, "application/json; charset=utf-8", `"Welcome to PostgREST"`},
		{"no Accept is JSON", "/rpc/welcome", "", 200, "application/json; charset=utf-8", `"Welcome to PostgREST"`},
		{"another media type", "/rpc/welcome", "text/xml", 406, "application/json; charset=utf-8", notAvailable + `text/xml"}`},
		{"setof a domain is no handler", "/rpc/welcome_twice", "text/plain", 406, "application/json; charset=utf-8", notAvailable + `text/plain"}`},
		{"text/html has no charset", "/rpc/welcome.html", "text/html", 200, "text/html", "<h1>Welcome</h1>"},
		{"xml", "/rpc/scalar_xml", "text/xml", 200, "text/xml; charset=utf-8", "<my-xml-tag/>"},
		{"plain text function has no text/plain handler", "/rpc/plain_text", "text/plain", 406, "application/json; charset=utf-8", notAvailable + `text/plain"}`},
		{"bytes", "/rpc/ret_image", "image/png", 200, "image/png", "\x89PNG\r\n\x1a\n"},
		{"first acceptable by order", "/rpc/ret_image", "text/html,application/xhtml+xml,application/xml;q=0.9,image/png,*/*;q=0.8", 200, "image/png", "\x89PNG\r\n\x1a\n"},
		{"no row, no body", "/rpc/no_image", "image/png", 200, "image/png", ""},
		{"any handler for */*", "/rpc/ret_any_mt", "*/*", 200, "application/octet-stream", "any"},
		{"any handler for anything", "/rpc/ret_any_mt", "app/bingo", 200, "application/octet-stream", "any"},
		{"any handler sets its type", "/rpc/ret_some_mt", "*/*", 200, "app/groucho", "groucho"},
		{"any handler per Accept", "/rpc/ret_some_mt", "app/chico", 200, "app/chico", "chico"},
		{"any handler refuses", "/rpc/ret_some_mt", "text/csv", 406, "application/json; charset=utf-8", `{"code":"PT406","details":null,"hint":null,"message":"Not Acceptable"}`},
		{"vendored types stay built in", "/rpc/welcome", "application/vnd.pgrst.object+json", 200, "application/vnd.pgrst.object+json; charset=utf-8", `"Welcome to PostgREST"`},
		{"tables have no text/plain", "/items?select=id&id=eq.1", "text/plain", 406, "application/json; charset=utf-8", notAvailable + `text/plain"}`},
		{"JSON in presence of text/plain", "/items?select=id&id=eq.1", "text/plain, application/json", 200, "application/json; charset=utf-8", `[{"id":1}]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h []string
			if c.accept != "" {
				h = []string{"Accept: " + c.accept}
			}
			res := ts.get(c.path, h...)
			if res.Status != c.status || res.Header.Get("Content-Type") != c.ctype || res.Body != c.body {
				t.Fatalf("got %d %q %q\nwant %d %q %q", res.Status, res.Header.Get("Content-Type"), res.Body, c.status, c.ctype, c.body)
			}
		})
	}
	if res := ts.get("/openapi.json"); res.Status != 200 {
		t.Fatalf("OpenAPI document with media type domains: %d %s", res.Status, res.Body)
	}
	if res := ts.do(http.MethodHead, "/rpc/welcome", []string{"Accept: text/plain"}, ""); res.Status != 200 || res.Body != "" {
		t.Fatalf("HEAD: %d %q", res.Status, res.Body)
	}
}

// aggregateMediaFixture: aggregate media type handlers for tables and views (PostgREST docs, Media Type Handlers):
// a text/csv override with a BOM and a Content-Disposition header, an any handler answering XML for a view, and
// a generic anyelement handler.
const aggregateMediaFixture = `
CREATE TABLE api.lines (id int PRIMARY KEY, name text);
INSERT INTO api.lines VALUES (1, 'line-1'), (2, 'line-2');
GRANT SELECT ON api.lines TO web_anon;
CREATE DOMAIN api."text/csv" AS text;
CREATE FUNCTION api.lines_csv_trans(state api."text/csv", next api.lines) RETURNS api."text/csv" LANGUAGE sql AS
  $$ SELECT (state || next.id::text || ',' || next.name || E'\n')::api."text/csv" $$;
CREATE FUNCTION api.lines_csv_final(data api."text/csv") RETURNS api."text/csv" LANGUAGE sql AS $$
  SELECT set_config('response.headers', '[{"Content-Disposition": "attachment; filename=\"lines.csv\""}]', true);
  SELECT (E'\uFEFF' || 'id,name' || E'\n' || data)::api."text/csv";
$$;
CREATE AGGREGATE api.lines_csv_agg(api.lines) (initcond = '', stype = api."text/csv",
  sfunc = api.lines_csv_trans, finalfunc = api.lines_csv_final);

CREATE DOMAIN api."*/*" AS bytea;
CREATE VIEW api.lines_xml AS SELECT id, name FROM api.lines;
GRANT SELECT ON api.lines_xml TO web_anon;
CREATE FUNCTION api.lines_xml_trans(state api."*/*", next api.lines_xml) RETURNS api."*/*" LANGUAGE sql AS
  $$ SELECT (state || convert_to('<line id="' || next.id || '">' || next.name || '</line>', 'UTF8'))::api."*/*" $$;
CREATE FUNCTION api.lines_xml_final(data api."*/*") RETURNS api."*/*" LANGUAGE plpgsql AS $$
DECLARE accept text := current_setting('request.headers', true)::json->>'accept';
BEGIN
  IF accept IS NULL OR accept IN ('*/*', 'text/xml', 'application/xml') THEN
    PERFORM set_config('response.headers', '[{"Content-Type": "text/xml"}]', true);
    RETURN ('<lines>'::bytea || data || '</lines>'::bytea)::api."*/*";
  END IF;
  RAISE SQLSTATE 'PT406' USING MESSAGE = 'Not Acceptable';
END $$;
CREATE AGGREGATE api.lines_xml_agg(api.lines_xml) (initcond = '', stype = api."*/*",
  sfunc = api.lines_xml_trans, finalfunc = api.lines_xml_final);

CREATE DOMAIN api."pg/outfunc" AS text;
CREATE FUNCTION api.outfunc_trans(state text, next anyelement) RETURNS api."pg/outfunc" LANGUAGE sql AS
  $$ SELECT (state || next::text || E'\n')::api."pg/outfunc" $$;
CREATE AGGREGATE api.outfunc_agg(anyelement) (initcond = '', stype = api."pg/outfunc", sfunc = api.outfunc_trans);

CREATE FUNCTION api.get_lines() RETURNS SETOF api.lines LANGUAGE sql STABLE AS $$ SELECT * FROM api.lines ORDER BY id $$;
`

func TestAggregateMediaHandlers(t *testing.T) {
	ts := start(t, nil, fixture(t), aggregateMediaFixture)
	const bom = "\uFEFF"
	for _, c := range []struct {
		name, path, accept string
		status             int
		ctype, body        string
		header             string // "Name: value"
	}{
		{"a table's csv handler overrides the built-in one", "/lines?order=id", "text/csv", 200, "text/csv; charset=utf-8",
			bom + "id,name\n1,line-1\n2,line-2\n", `Content-Disposition: attachment; filename="lines.csv"`},
		{"only with the default select", "/lines?select=name&order=id", "text/csv", 200, "text/csv; charset=utf-8", "name\nline-1\nline-2", ""},
		{"JSON is untouched", "/lines?id=eq.1", "application/json", 200, "application/json; charset=utf-8", `[{"id":1,"name":"line-1"}]`, ""},
		{"a table-valued function's rows use it too", "/rpc/get_lines", "text/csv", 200, "text/csv; charset=utf-8",
			bom + "id,name\n1,line-1\n2,line-2\n", ""},
		{"the any handler answers without Accept", "/lines_xml?order=id", "", 200, "text/xml",
			`<lines><line id="1">line-1</line><line id="2">line-2</line></lines>`, ""},
		{"and for application/json too", "/lines_xml?id=eq.2", "application/json", 406, "application/json; charset=utf-8",
			`{"code":"PT406","details":null,"hint":null,"message":"Not Acceptable"}`, ""},
		{"an anyelement handler for any relation and select", "/lines?select=name,id&order=id", "pg/outfunc", 200, "pg/outfunc",
			"(line-1,1)\n(line-2,2)\n", ""},
		{"unknown types are still PGRST107", "/lines", "magic/number", 406, "application/json; charset=utf-8",
			`{"code":"PGRST107","details":null,"hint":null,"message":"None of these media types are available: magic/number"}`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h []string
			if c.accept != "" {
				h = []string{"Accept: " + c.accept}
			}
			res := ts.get(c.path, h...)
			if res.Status != c.status || res.Header.Get("Content-Type") != c.ctype || res.Body != c.body {
				t.Fatalf("got %d %q %q\nwant %d %q %q", res.Status, res.Header.Get("Content-Type"), res.Body, c.status, c.ctype, c.body)
			}
			if c.header != "" {
				k, v, _ := strings.Cut(c.header, ": ")
				if got := res.Header.Get(k); got != v {
					t.Fatalf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
}
