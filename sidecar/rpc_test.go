package sidecar_test

import (
	"context"
	"os"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func TestRPC(t *testing.T) {
	rpc, err := os.ReadFile("testdata/rpc_fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	ts := start(t, nil, fixture(t), writeFixture(t), string(rpc))
	runWrites(t, ts, []writeCase{
		{name: "POST scalar", method: "POST", path: "/rpc/add", headers: []string{jsonCT}, reqBody: `{"a":1,"b":2}`,
			status: 200, body: "3", header: []string{"Content-Type: application/json; charset=utf-8"}},
		{name: "GET scalar", method: "GET", path: "/rpc/add?a=40&b=2", status: 200, body: "42"},
		{name: "default argument", method: "GET", path: "/rpc/hello", status: 200, body: `"hello world"`},
		{name: "given optional argument", method: "POST", path: "/rpc/hello", headers: []string{jsonCT},
			reqBody: `{"name":"pgway"}`, status: 200, body: `"hello pgway"`},
		{name: "setof scalar", method: "GET", path: "/rpc/series?n=3", status: 200, body: `[1,2,3]`},
		{name: "setof scalar, empty", method: "GET", path: "/rpc/series?n=0", status: 200, body: `[]`},
		{name: "setof scalar, counted page", method: "GET", path: "/rpc/series?n=5&limit=2&offset=1",
			headers: []string{"Prefer: count=exact"}, status: 206, body: `[2,3]`, header: []string{"Content-Range: 1-2/5"}},
		{name: "setof scalar, counted and empty", method: "GET", path: "/rpc/series?n=0",
			headers: []string{"Prefer: count=exact"}, status: 200, body: `[]`, header: []string{"Content-Range: */0"}},
		{name: "setof text with NULL and escapes", method: "GET", path: "/rpc/words", status: 200,
			body: `["a",null,"say \"hi\"","é\\"]`},
		{name: "setof scalar as an object: one value", method: "GET", path: "/rpc/series?n=1",
			headers: []string{"Accept: application/vnd.pgrst.object+json"}, status: 200, body: `1`},
		{name: "setof scalar as an object: many values", method: "GET", path: "/rpc/series?n=3",
			headers: []string{"Accept: application/vnd.pgrst.object+json"}, status: 406, contains: []string{`"PGRST116"`, `3 rows`}},
		{name: "setof relation with filter, select, order", method: "GET",
			path: "/rpc/projects_of?client=1&select=id,name&order=id.desc&id=gt.0", status: 200,
			body: `[{"id":2,"name":"Windows 10"},{"id":1,"name":"Windows 7"}]`, header: []string{"Content-Range: 0-1/*"}},
		{name: "setof relation POST with limit and count", method: "POST", path: "/rpc/projects_of?select=id&limit=1&order=id",
			headers: []string{jsonCT, "Prefer: count=exact"}, reqBody: `{"client":2}`, status: 206,
			body: `[{"id":3}]`, header: []string{"Content-Range: 0-0/2"}},
		{name: "single row of a relation", method: "GET", path: "/rpc/first_project?select=name", status: 200,
			body: `{"name":"Windows 7"}`},
		{name: "volatile function writes on POST", method: "POST", path: "/rpc/new_client", headers: []string{jsonCT},
			reqBody: `{"id":50,"name":"Umbrella"}`, status: 200, body: `{"id":50,"name":"Umbrella"}`,
			table: "api.clients WHERE id = 50", rows: `[{"id":50,"name":"Umbrella"}]`},
		{name: "volatile function on GET is read-only (405)", method: "GET", path: "/rpc/new_client?id=51&name=x",
			status: 405, contains: []string{`"code":"25006"`}},
		{name: "void is 204", method: "POST", path: "/rpc/noop", headers: []string{jsonCT}, reqBody: `{}`, status: 204, body: "-"},
		{name: "single unnamed json parameter gets the body", method: "POST", path: "/rpc/echo_json",
			headers: []string{jsonCT}, reqBody: `{"x":[1,2]}`, status: 200, body: `{"x":[1,2]}`},
		{name: "RETURNS TABLE", method: "GET", path: "/rpc/pairs", status: 200, body: `[{"k":"a","v":1},{"k":"b","v":2}]`},
		{name: "RETURNS TABLE with filter, select and order", method: "GET", path: "/rpc/pairs?select=k&v=gte.1&order=k.desc",
			status: 200, body: `[{"k":"b"},{"k":"a"}]`},
		{name: "RETURNS TABLE unknown column", method: "GET", path: "/rpc/pairs?nope=eq.1", status: 400,
			contains: []string{`"code":"42703"`}},
		{name: "variadic from repeated GET arguments", method: "GET", path: "/rpc/joined?v=a&v=b&v=c", status: 200, body: `"a,b,c"`},
		{name: "variadic from a JSON array", method: "POST", path: "/rpc/joined", headers: []string{jsonCT},
			reqBody: `{"v":["x","y"]}`, status: 200, body: `"x,y"`},
		{name: "array argument as a literal", method: "GET", path: "/rpc/joined?v={p,q}", status: 200, body: `"p,q"`},
		{name: "OPTIONS on a volatile function", method: "OPTIONS", path: "/rpc/new_client", status: 200,
			header: []string{"Allow: OPTIONS,POST"}},
		{name: "OPTIONS on a stable function", method: "OPTIONS", path: "/rpc/add", status: 200,
			header: []string{"Allow: OPTIONS,GET,HEAD,POST"}},
		{name: "explain a call", method: "GET", path: "/rpc/series?n=3", headers: []string{"Accept: application/vnd.pgrst.plan+json"},
			status: 200, contains: []string{`"Plan"`}},
		{name: "OUT parameters make one object", method: "GET", path: "/rpc/divmod?a=7&b=2", status: 200,
			body: `{"q":3,"r":1}`},
		{name: "object media type", method: "GET", path: "/rpc/projects_of?client=1&id=eq.1&select=id",
			headers: []string{"Accept: application/vnd.pgrst.object+json"}, status: 200, body: `{"id":1}`},
		{name: "unknown function is PGRST202", method: "POST", path: "/rpc/addd", headers: []string{jsonCT},
			reqBody: `{"a":1}`, status: 404,
			body: `{"code":"PGRST202","message":"Could not find the function api.addd(a) in the schema cache","details":"Searched for the function api.addd with parameter a or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.","hint":"Perhaps you meant to call the function api.add"}`},
		{name: "wrong arguments is PGRST202", method: "GET", path: "/rpc/add?a=1", status: 404,
			contains: []string{`"code":"PGRST202"`, `api.add(a)`}},
		{name: "ambiguous overload is PGRST203", method: "GET", path: "/rpc/overloaded?a=1", status: 300,
			contains: []string{`"code":"PGRST203"`}},
		{name: "wrong argument type is 22P02", method: "GET", path: "/rpc/add?a=x&b=1", status: 400,
			contains: []string{`"code":"22P02"`}},
		{name: "RAISE SQLSTATE PGRST sets status, headers and body", method: "POST", path: "/rpc/fail",
			headers: []string{jsonCT}, reqBody: `{"msg":"no coffee"}`, status: 418,
			body: `{"code":"X1","message":"no coffee","details":null,"hint":null}`, header: []string{"X-Teapot: yes"}},
		{name: "max-affected on a set-returning call rolls back", method: "POST", path: "/rpc/drop_counters",
			headers: []string{jsonCT, "Prefer: handling=strict, max-affected=2"}, reqBody: `{"above":1}`, status: 400,
			body:  `{"code":"PGRST124","message":"Query result exceeds max-affected preference constraint","details":"The query affects 4 rows","hint":null}`,
			table: "api.counters", rows: `[{"id":1},{"id":2},{"id":3},{"id":4},{"id":5}]`},
		{name: "max-affected within the limit", method: "POST", path: "/rpc/drop_counters?select=id",
			headers: []string{jsonCT, "Prefer: handling=strict, max-affected=2"}, reqBody: `{"above":3}`, status: 200,
			body: `[{"id":4},{"id":5}]`, table: "api.counters", rows: `[{"id":1},{"id":2},{"id":3}]`},
		{name: "max-affected needs a set-returning function", method: "POST", path: "/rpc/noop",
			headers: []string{jsonCT, "Prefer: handling=strict, max-affected=2"}, reqBody: `{}`, status: 400,
			body: `{"code":"PGRST128","message":"Function must return SETOF or TABLE when max-affected preference is used with handling=strict","details":null,"hint":null}`},
		{name: "singular object from a volatile call rolls back", method: "POST", path: "/rpc/drop_counters",
			headers: []string{jsonCT, "Accept: application/vnd.pgrst.object+json"}, reqBody: `{"above":1}`, status: 406,
			contains: []string{`"code":"PGRST116"`}, table: "api.counters", rows: `[{"id":1},{"id":2},{"id":3}]`},
		{name: "response.status and response.headers from a function", method: "POST", path: "/rpc/teapot",
			headers: []string{jsonCT}, reqBody: `{}`, status: 418, body: `"short and stout"`,
			header: []string{"X-Brew: earl grey", "Cache-Control: no-store"}},
		{name: "malformed response.headers is PGRST111", method: "GET", path: "/rpc/bad_headers", status: 500,
			contains: []string{`"code":"PGRST111"`}},
		{name: "response.headers from a trigger on insert", method: "POST", path: "/no_pk", headers: []string{jsonCT},
			reqBody: `{"a":"trig","b":"x"}`, status: 201, header: []string{"X-Created: trig"}},
	})
}

// TestRPCOpenAPI: the document describes every function of the RPC fixture, composite results included,
// and is valid OpenAPI.
func TestRPCOpenAPI(t *testing.T) {
	rpc, err := os.ReadFile("testdata/rpc_fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	ts := start(t, nil, fixture(t), writeFixture(t), string(rpc))
	res := ts.get("/openapi.json")
	if res.Status != 200 {
		t.Fatalf("%d %s", res.Status, res.Body)
	}
	doc, err := openapi3.NewLoader().LoadFromData([]byte(res.Body))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	op := doc.Paths.Find("/rpc/divmod")
	if op == nil || op.Get == nil {
		t.Fatal("no GET /rpc/divmod")
	}
	schema := op.Get.Responses.Status(200).Value.Content["application/json"].Schema.Value
	if schema.Properties["q"] == nil || schema.Properties["r"] == nil {
		t.Fatalf("divmod response schema lacks q and r: %+v", schema)
	}
}

// TestRPCDomainOverRowType: a function returning (SETOF) a domain over a table's row type returns that table's
// rows, with select and embedding, as PostgREST's getproject_domain.
func TestRPCDomainOverRowType(t *testing.T) {
	ts := start(t, nil, fixture(t), writeFixture(t), `
CREATE DOMAIN api.projects_domain AS api.projects;
CREATE FUNCTION api.getproject_domain(id int) RETURNS SETOF api.projects_domain LANGUAGE sql STABLE AS
  $$ SELECT p::api.projects_domain FROM api.projects p WHERE p.id = $1 $$;
GRANT EXECUTE ON FUNCTION api.getproject_domain(int) TO web_anon;`)
	runCases(t, ts, []readCase{
		{name: "rows with an embed", path: "/rpc/getproject_domain?id=1&select=id,name,client:clients(name)", status: 200,
			body: `[{"id":1,"name":"Windows 7","client":{"name":"Microsoft"}}]`},
	})
}

// rpcSpecFixture has functions from PostgREST's RpcSpec cases that pgway once answered differently.
const rpcSpecFixture = `
CREATE FUNCTION api.guc(name text) RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting(name, true) $$;
CREATE FUNCTION api.claim(name text) RETURNS text LANGUAGE sql STABLE AS
  $$ SELECT current_setting('request.jwt.claims', true)::json->>name $$;
CREATE FUNCTION api.cookie(name text) RETURNS text LANGUAGE sql STABLE AS
  $$ SELECT current_setting('request.cookies', true)::json->>name $$;
CREATE FUNCTION api.a_record() RETURNS record LANGUAGE sql STABLE AS $$ SELECT * FROM api.projects WHERE id = 1 $$;
CREATE FUNCTION api.some_records() RETURNS SETOF record LANGUAGE sql STABLE AS $$ SELECT * FROM api.projects WHERE id < 3 ORDER BY id $$;
CREATE FUNCTION api.variadic_words(VARIADIC v text[]) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT v $$;
CREATE FUNCTION api.int_with_headers(num int) RETURNS int LANGUAGE sql AS $$
  SET LOCAL "response.headers" = '[{"X-Test":"key1=val1; someValue"},{"Set-Cookie":"a=1"},{"Set-Cookie":"b=2"}]';
  SELECT num;
$$;
CREATE FUNCTION api.all_projects() RETURNS SETOF api.projects LANGUAGE sql STABLE AS $$ SELECT * FROM api.projects $$;
CREATE FUNCTION api.add_them(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$;
`

func TestRPCFromPostgRESTSpec(t *testing.T) {
	ts := start(t, nil, fixture(t), writeFixture(t), rpcSpecFixture)
	runWrites(t, ts, []writeCase{
		{name: "anonymous claims carry the role", method: "POST", path: "/rpc/claim", headers: []string{jsonCT},
			reqBody: `{"name":"role"}`, status: 200, body: `"web_anon"`},
		{name: "request.cookies", method: "POST", path: "/rpc/cookie", headers: []string{jsonCT, "Cookie: a=1; second=two"},
			reqBody: `{"name":"second"}`, status: 200, body: `"two"`},
		{name: "no cookies is an empty object", method: "POST", path: "/rpc/guc", headers: []string{jsonCT},
			reqBody: `{"name":"request.cookies"}`, status: 200, body: `"{}"`},
		{name: "a bare record is a scalar with the row's keys", method: "POST", path: "/rpc/a_record", status: 200,
			body: `{"id":1,"name":"Windows 7","client_id":1}`},
		{name: "a set of records", method: "GET", path: "/rpc/some_records", status: 200,
			body: `[{"id":1,"name":"Windows 7","client_id":1},{"id":2,"name":"Windows 10","client_id":1}]`},
		{name: "form fields fill a variadic parameter", method: "POST", path: "/rpc/variadic_words",
			headers: []string{"Content-Type: application/x-www-form-urlencoded"}, reqBody: "v=hi&v=there", status: 200, body: `["hi","there"]`},
		{name: "an array body uses its first object", method: "POST", path: "/rpc/add_them", headers: []string{jsonCT},
			reqBody: `[{"a":1,"b":2},{"a":4,"b":6}]`, status: 200, body: `3`},
		{name: "headers set by the function survive tx=rollback", method: "POST", path: "/rpc/int_with_headers",
			headers: []string{jsonCT, "Prefer: tx=rollback"}, reqBody: `{"num":1}`, status: 200, body: `1`,
			header: []string{"X-Test: key1=val1; someValue"}},
		{name: "the hint is the closest parameter list", method: "GET", path: "/rpc/add_them?a=1&b=2&wrong_arg=3", status: 404,
			contains: []string{`"hint":"Perhaps you meant to call the function api.add_them(a, b)"`}},
		{name: "no hint when nothing is close", method: "GET", path: "/rpc/add_them?zzzzzz=1", status: 404,
			contains: []string{`"hint":null`}},
		{name: "the count follows !inner embeds", method: "HEAD", path: "/rpc/all_projects?select=*,clients!inner(*)&clients.id=eq.1",
			headers: []string{"Prefer: count=exact"}, status: 200, header: []string{"Content-Range: 0-1/2"}},
	})
	res := ts.do("POST", "/rpc/int_with_headers", []string{jsonCT}, `{"num":1}`)
	if got := res.Header.Values("Set-Cookie"); len(got) != 2 {
		t.Fatalf("Set-Cookie headers %q, want both", got)
	}
}
