package sidecar_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pgway/pgway/internal/config"
)

// TestReadGrammar covers PostgREST's read grammar over HTTP: vertical and horizontal filtering, ordering,
// pagination and counting, media types and profiles.
func TestReadGrammar(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBMaxRows = 1000 }, fixture(t))
	runCases(t, ts, []readCase{
		// Vertical filtering.
		{name: "alias", path: "/items?select=ident:id&id=eq.1", status: 200, body: `[{"ident":1}]`},
		{name: "cast", path: "/items?select=id::text,price::int&id=eq.1", status: 200, body: `[{"id":"1","price":2}]`},
		{name: "json path arrow", path: "/items?select=id,meta->lang&id=eq.1", status: 200, body: `[{"id":1,"lang":"en"}]`},
		{name: "json path text", path: "/items?select=meta->>lang&id=eq.1", status: 200, body: `[{"lang":"en"}]`},
		{name: "json array index", path: "/items?select=meta->arr->0&id=eq.1", status: 200, body: `[{"arr":10}]`},
		{name: "renamed json path", path: "/items?select=l:meta->>lang,n:meta->n&id=eq.2", status: 200, body: `[{"l":"en","n":2}]`},
		{name: "star and a json path", path: "/cheap_items?select=*,x:id::text&id=eq.1", status: 200,
			body: `[{"id":1,"name":"apple","price":1.50,"x":"1"}]`},

		// Horizontal filtering: every operator.
		{name: "neq", path: "/items?select=id&id=neq.1&order=id&limit=1", status: 200, body: `[{"id":2}]`},
		{name: "gt gte lt lte", path: "/items?select=id&id=gt.1&id=lte.3&price=gte.0.25&price=lt.7&order=id", status: 200, body: `[{"id":2}]`},
		{name: "like with *", path: "/items?select=id&name=like.*an*", status: 200, body: `[{"id":2}]`},
		{name: "ilike", path: "/items?select=id&name=ilike.BAN*", status: 200, body: `[{"id":2}]`},
		{name: "match", path: "/items?select=id&name=match.^ch", status: 200, body: `[{"id":3}]`},
		{name: "imatch", path: "/items?select=id&name=imatch.^CH", status: 200, body: `[{"id":3}]`},
		{name: "in", path: "/items?select=id&id=in.(1,3)&order=id", status: 200, body: `[{"id":1},{"id":3}]`},
		{name: "in with quoted reserved chars", path: "/items?select=id&name=in.(" + q(`"dragon, \"fruit\""`) + ",apple)&order=id", status: 200,
			body: `[{"id":1},{"id":4}]`},
		{name: "is null", path: "/items?select=id&price=is.null", status: 200, body: `[{"id":4}]`},
		{name: "not is null", path: "/items?select=id&price=not.is.null&order=id&limit=1", status: 200, body: `[{"id":1}]`},
		{name: "is true/false", path: "/items?select=id&id=eq.1&meta=not.is.null", status: 200, body: `[{"id":1}]`},
		{name: "isdistinct", path: "/items?select=id&mood=isdistinct.happy&order=id", status: 200, body: `[{"id":2},{"id":3},{"id":4}]`},
		{name: "fts on tsvector", path: "/items?select=id&search=fts.apple", status: 200, body: `[{"id":1}]`},
		{name: "fts with language", path: "/items?select=id&search=fts(english).pies", status: 200, body: `[{"id":3}]`},
		{name: "plfts", path: "/items?select=id&search=plfts.cherry%20pie", status: 200, body: `[{"id":3}]`},
		{name: "phfts", path: "/items?select=id&search=phfts(english).cherry%20pie", status: 200, body: `[{"id":3}]`},
		{name: "wfts", path: "/items?select=id&search=wfts.cherry%20-apple", status: 200, body: `[{"id":3}]`},
		{name: "fts on text column", path: "/items?select=id&name=fts.banana", status: 200, body: `[{"id":2}]`},
		{name: "cs array", path: "/items?select=id&tags=cs.{red,fruit}", status: 200, body: `[{"id":1}]`},
		{name: "cd array", path: "/items?select=id&tags=cd.{dessert,red,sweet}&order=id", status: 200, body: `[{"id":3},{"id":5}]`},
		{name: "ov array", path: "/items?select=id&tags=ov.{yellow,dessert}&order=id", status: 200, body: `[{"id":2},{"id":3},{"id":5}]`},
		{name: "cs jsonb", path: "/items?select=id&meta=cs." + q(`{"lang":"fr","n":3}`), status: 200, body: `[{"id":3}]`},
		{name: "range sl", path: "/items?select=id&during=sl.[7,8)", status: 200, body: `[{"id":1}]`},
		{name: "range sr", path: "/items?select=id&during=sr.[1,15)", status: 200, body: `[{"id":5}]`},
		{name: "range nxr", path: "/items?select=id&during=nxr.[1,5)", status: 200, body: `[{"id":1}]`},
		{name: "range nxl", path: "/items?select=id&during=nxl.[20,100)", status: 200, body: `[{"id":5}]`},
		{name: "range adj", path: "/items?select=id&during=adj.[5,10)&order=id", status: 200, body: `[{"id":1},{"id":3}]`},
		{name: "like any", path: "/items?select=id&name=like(any).{a*,b*}&order=id", status: 200, body: `[{"id":1},{"id":2}]`},
		{name: "eq all", path: "/items?select=id&id=gt(all).{1,2}&order=id&limit=1", status: 200, body: `[{"id":3}]`},
		{name: "json path filter", path: "/items?select=id&meta->>lang=eq.fr&order=id", status: 200, body: `[{"id":3},{"id":5}]`},
		{name: "json path filter arrow number", path: "/items?select=id&meta->n=eq.2", status: 200, body: `[{"id":2}]`},
		{name: "several filters on one column", path: "/items?select=id&id=gt.1&id=lt.3", status: 200, body: `[{"id":2}]`},
		{name: "or", path: "/items?select=id&or=(id.eq.1,id.eq.5)&order=id", status: 200, body: `[{"id":1},{"id":5}]`},
		{name: "nested and/or", path: "/items?select=id&or=(id.eq.1,and(price.gt.5,name.like.cherry*))&order=id", status: 200,
			body: `[{"id":1},{"id":3}]`},
		{name: "not.or", path: "/items?select=id&not.or=(id.lt.3,id.gt.3)", status: 200, body: `[{"id":3}]`},
		{name: "and with not inside", path: "/items?select=id&and=(id.gte.2,price.not.is.null,or(id.eq.2,id.eq.3))&order=id", status: 200,
			body: `[{"id":2},{"id":3}]`},
		{name: "unicode value", path: "/items?select=id&name=eq." + q("Éclair"), status: 200, body: `[{"id":5}]`},
		{name: "malformed filter", path: "/items?id=eq", status: 400, contains: []string{`"code":"PGRST100"`}},
		{name: "malformed select", path: "/items?select=id,,name", status: 400, contains: []string{`"code":"PGRST100"`, `select`}},
		{name: "malformed logic tree", path: "/items?or=(id.eq.1", status: 400, contains: []string{`"code":"PGRST100"`}},

		// Ordering and pagination.
		{name: "order nullslast", path: "/items?select=id&order=price.desc.nullslast&limit=2", status: 200, body: `[{"id":3},{"id":5}]`},
		{name: "order nullsfirst", path: "/items?select=id&order=price.desc.nullsfirst&limit=2", status: 200, body: `[{"id":4},{"id":3}]`},
		{name: "order two columns", path: "/items?select=id&order=mood.asc,id.desc&limit=3", status: 200, body: `[{"id":3},{"id":2},{"id":5}]`},
		{name: "order by json path", path: "/items?select=id&order=meta->>n.desc.nullslast,id&limit=2", status: 200, body: `[{"id":3},{"id":2}]`},
		{name: "Range header", path: "/items?select=id&order=id", headers: []string{"Range-Unit: items", "Range: 1-2"}, status: 200,
			body: `[{"id":2},{"id":3}]`, header: []string{"Content-Range: 1-2/*"}},
		{name: "open Range", path: "/items?select=id&order=id", headers: []string{"Range: 3-"}, status: 200,
			body: `[{"id":4},{"id":5}]`, header: []string{"Content-Range: 3-4/*"}},
		{name: "count exact, full", path: "/items?select=id", headers: []string{"Prefer: count=exact"}, status: 200,
			header: []string{"Content-Range: 0-4/5", "Preference-Applied: count=exact"}},
		{name: "count exact, partial is 206", path: "/items?select=id&limit=2", headers: []string{"Prefer: count=exact"}, status: 206,
			header: []string{"Content-Range: 0-1/5"}},
		{name: "count exact with filter", path: "/items?select=id&price=gt.1&limit=1", headers: []string{"Prefer: count=exact"}, status: 206,
			header: []string{"Content-Range: 0-0/3"}},
		{name: "count planned", path: "/items?select=id", headers: []string{"Prefer: count=planned"}, status: 0,
			header: []string{"Preference-Applied: count=planned"}},
		{name: "count estimated", path: "/items?select=id", headers: []string{"Prefer: count=estimated"}, status: 200,
			header: []string{"Content-Range: 0-4/5", "Preference-Applied: count=estimated"}},
		{name: "offset past the end", path: "/items?offset=10", headers: []string{"Prefer: count=exact"}, status: 416,
			contains: []string{`"code":"PGRST103"`, `An offset of 10 was requested, but there are only 5 rows.`},
			header:   []string{"Content-Range: */5"}},
		{name: "empty page with count", path: "/items?id=eq.99", headers: []string{"Prefer: count=exact"}, status: 200,
			body: `[]`, header: []string{"Content-Range: */0"}},

		// Media types.
		{name: "object", path: "/items?select=id,name&id=eq.2", headers: []string{"Accept: application/vnd.pgrst.object+json"}, status: 200,
			body: `{"id":2,"name":"banana"}`, header: []string{"Content-Type: application/vnd.pgrst.object+json; charset=utf-8"}},
		{name: "object of many", path: "/items?select=id", headers: []string{"Accept: application/vnd.pgrst.object+json"}, status: 406,
			body: `{"code":"PGRST116","details":"The result contains 5 rows","hint":null,"message":"Cannot coerce the result to a single JSON object"}`},
		{name: "object of none", path: "/items?id=eq.99", headers: []string{"Accept: application/vnd.pgrst.object+json"}, status: 406,
			contains: []string{`The result contains 0 rows`}},
		{name: "csv", path: "/items?select=id,name,price&id=in.(1,4)&order=id", headers: []string{"Accept: text/csv"}, status: 200,
			body:   "id,name,price\n1,apple,1.50\n4,\"dragon, \"\"fruit\"\"\",",
			header: []string{"Content-Type: text/csv; charset=utf-8"}},
		{name: "stripped nulls", path: "/items?select=id,price&id=eq.4", headers: []string{"Accept: application/vnd.pgrst.array+json;nulls=stripped"},
			status: 200, body: `[{"id":4}]`},
		{name: "any media", path: "/items?select=id&id=eq.1", headers: []string{"Accept: */*"}, status: 200, body: `[{"id":1}]`,
			header: []string{"Content-Type: application/json; charset=utf-8"}},
		{name: "quality values", path: "/items?select=id&id=eq.1", headers: []string{"Accept: text/csv;q=0.5, application/json"}, status: 200,
			body: `[{"id":1}]`},
		{name: "unsupported media", path: "/items", headers: []string{"Accept: application/xml"}, status: 406,
			contains: []string{`"code":"PGRST107"`}},
		{name: "plan text", path: "/items?id=eq.1", headers: []string{"Accept: application/vnd.pgrst.plan"}, status: 200,
			contains: []string{"Aggregate"}},
		{name: "plan json analyze", path: "/items?id=eq.1", headers: []string{"Accept: application/vnd.pgrst.plan+json; options=analyze"},
			status: 200, contains: []string{`"Actual Rows"`}},

		// Profiles.
		{name: "Accept-Profile", path: "/widgets?order=id", headers: []string{"Accept-Profile: other"}, status: 200,
			body: `[{"id":1,"label":"gear"},{"id":2,"label":"sprocket"}]`, header: []string{"Content-Profile: other"}},
		{name: "default profile", path: "/items?select=id&id=eq.1", status: 200, header: []string{"Content-Profile: api"}},
		{name: "unknown profile", path: "/items", headers: []string{"Accept-Profile: nope"}, status: 406,
			body: `{"code":"PGRST106","details":null,"hint":"Only the following schemas are exposed: api, other","message":"Invalid schema: nope"}`},
		{name: "relation in the other schema only", path: "/widgets", status: 404, contains: []string{`PGRST205`}},
	})
}

func TestMaxRowsAndPlanDisabled(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBMaxRows = 2; c.DBPlanEnabled = false }, fixture(t))
	runCases(t, ts, []readCase{
		{name: "max rows caps", path: "/items?select=id&order=id", status: 200, body: `[{"id":1},{"id":2}]`,
			header: []string{"Content-Range: 0-1/*"}},
		{name: "max rows caps a larger limit", path: "/items?select=id&order=id&limit=4", status: 200, body: `[{"id":1},{"id":2}]`},
		{name: "estimated above max rows uses the planner", path: "/items?select=id", headers: []string{"Prefer: count=estimated"}, status: 0},
		{name: "plan disabled", path: "/items", headers: []string{"Accept: application/vnd.pgrst.plan"}, status: 406,
			contains: []string{`"code":"PGRST107"`}},
	})
}

func TestOpenAPIServed(t *testing.T) {
	ts := start(t, nil, fixture(t))
	for _, tc := range []struct {
		path    string
		headers []string
		want    string
	}{
		{"/", []string{"Accept: application/openapi+json"}, `"openapi":"3.0.3"`},
		{"/", []string{"Accept: application/json"}, `"openapi":"3.0.3"`},
		{"/?openapi=3.1", nil, `"openapi":"3.1.0"`},
		{"/openapi.json", nil, `"openapi":"3.0.3"`},
		{"/openapi.yaml", nil, "openapi: 3.0.3"},
	} {
		res := ts.get(tc.path, tc.headers...)
		if res.Status != 200 || !strings.Contains(strings.ReplaceAll(res.Body, `": "`, `":"`), tc.want) {
			t.Errorf("GET %s: %d %.200s", tc.path, res.Status, res.Body)
		}
	}
	// follow-privileges: the anon role does not see secrets; an authenticated web_user does.
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(ts.get("/openapi.json").Body), &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Paths["/secrets"]; ok {
		t.Error("anon document lists /secrets")
	}
	if _, ok := doc.Paths["/items"]; !ok {
		t.Error("anon document lacks /items")
	}
	user := "Authorization: Bearer " + token(t, map[string]any{"role": "web_user"})
	if err := json.Unmarshal([]byte(ts.get("/openapi.json", user).Body), &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Paths["/secrets"]; !ok {
		t.Error("web_user document lacks /secrets")
	}
	// Accept-Profile selects the schema described.
	if err := json.Unmarshal([]byte(ts.get("/openapi.json", "Accept-Profile: other").Body), &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Paths["/widgets"]; !ok {
		t.Error("other-schema document lacks /widgets")
	}
	runCases(t, ts, []readCase{
		{name: "OPTIONS table", method: "OPTIONS", path: "/items", status: 200, header: []string{"Allow: OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"}},
		{name: "OPTIONS view", method: "OPTIONS", path: "/cheap_items", status: 200},
	})
}

func TestOpenAPIDisabled(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.OpenAPIMode = "disabled" }, fixture(t))
	runCases(t, ts, []readCase{
		{name: "disabled", path: "/", status: 404, contains: []string{`"code":"PGRST126"`}},
	})
}
