package sidecar_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/pgway/pgway/internal/config"
)

const validateFixture = `
CREATE TABLE api.people (id int PRIMARY KEY, nick varchar(5), active boolean, uid uuid, score numeric, mood api.mood);
GRANT SELECT, INSERT, UPDATE, DELETE ON api.people TO web_anon;
`

func TestValidation(t *testing.T) {
	rpc, err := os.ReadFile("testdata/rpc_fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	ts := start(t, nil, fixture(t), writeFixture(t), validateFixture, string(rpc))
	runCases(t, ts, []readCase{
		{name: "wrong type names the parameter", path: "/items?id=eq.abc", status: 400,
			body: `{"code":"22P02","message":"invalid input syntax for type bigint: \"abc\"","details":"query parameter 'id': expected an integer (bigint), got \"abc\"","hint":null}`},
		{name: "every problem is listed", path: "/items?id=in.(1,x)&price=gt.cheap&or=(mood.eq.angry,id.eq.2)", status: 400,
			contains: []string{`query parameter 'id': expected an integer (bigint), got \"x\"`, `query parameter 'price': expected a number (numeric), got \"cheap\"`,
				`query parameter 'or' (mood): expected one of the enum values, got \"angry\"`}},
		{name: "valid values pass", path: "/items?select=id&id=in.(1,2)&price=gt.1.5e0&mood=eq.happy&name=eq.123&meta->>n=eq.x&id=not.eq.%201",
			status: 200, body: `[]`},
		{name: "booleans and uuids as PostgreSQL reads them", path: "/people?active=eq.yes&uid=eq.A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11&id=eq.+1",
			status: 200},
		{name: "bad boolean and uuid", path: "/people?active=eq.maybe&uid=eq.123", status: 400,
			contains: []string{`"code":"22P02"`, `expected a boolean`, `expected a uuid`}},
		{name: "an operator the type lacks is PostgreSQL's 42883 (404 as PostgREST)", path: "/items?id=like.1*", status: 404,
			contains: []string{`"code":"42883"`, `query parameter 'id': operator like does not apply to bigint`}},
		{name: "dates: only impossible values are rejected", path: "/items?created_at=eq.someday", status: 400,
			contains: []string{`"code":"22007"`, `query parameter 'created_at'`}},
		{name: "dates: special values and formats pass", path: "/items?select=id&created_at=lt.tomorrow&created_at=gt.2000-01-01%2010:00&id=eq.1",
			status: 200, body: `[{"id":1}]`},
		{name: "is and like are not type-checked", path: "/people?active=is.null&nick=like.*a*&score=is.not_null", status: 200},
	})
	runWrites(t, ts, []writeCase{
		{name: "body field of the wrong type names the JSON pointer", method: "POST", path: "/people",
			headers: []string{jsonCT}, reqBody: `[{"id":1,"score":"lots","active":true,"nick":"a","mood":"ok"},{"id":"two","score":1,"active":"nope","nick":"toolongnick","mood":"angry"}]`,
			status: 400, contains: []string{`"code":"22P02"`, `body /0/score: expected a number (numeric), got \"lots\"`,
				`body /1/id: expected an integer (integer), got \"two\"`, `body /1/active: expected a boolean`,
				`body /1/mood: expected one of the enum values`, `body /1/nick: expected at most 5 characters, got 11`},
			table: "api.people", rows: "null"},
		{name: "too long alone is 22001", method: "POST", path: "/people", headers: []string{jsonCT},
			reqBody: `{"id":1,"nick":"abcdef"}`, status: 400,
			contains: []string{`"code":"22001"`, `value too long for type character varying(5)`, `body /nick`}},
		{name: "numbers as strings and booleans as 0/1 are accepted as PostgreSQL does", method: "POST", path: "/people?select=id,active,score",
			headers: []string{jsonCT, "Prefer: return=representation"}, reqBody: `{"id":"7","active":1,"score":"2.5","nick":"héllo"}`,
			status: 201, body: `[{"id":7,"active":true,"score":2.5}]`},
		{name: "a required column missing is 23502", method: "POST", path: "/clients", headers: []string{jsonCT},
			reqBody: `[{"id":500}]`, status: 400,
			contains: []string{`"code":"23502"`, `null value in column \"name\" of relation \"clients\" violates not-null constraint`, `body /name`}},
		{name: "a table with triggers may fill required columns: left to PostgreSQL", method: "POST", path: "/no_pk",
			headers: []string{jsonCT}, reqBody: `{"b":"x"}`, status: 201},
		{name: "an empty array inserts nothing", method: "POST", path: "/clients", headers: []string{jsonCT}, reqBody: `[ ]`, status: 201},
		{name: "rpc query argument of the wrong type", method: "GET", path: "/rpc/add?a=one&b=2", status: 400,
			contains: []string{`"code":"22P02"`, `argument 'a': expected an integer (integer), got \"one\"`}},
		{name: "rpc body argument of the wrong type", method: "POST", path: "/rpc/add", headers: []string{jsonCT},
			reqBody: `{"a":1,"b":"two"}`, status: 400, contains: []string{`body /b: expected an integer`}},
		{name: "valid rpc call", method: "GET", path: "/rpc/add?a=1&b=2", status: 200, body: "3"},
		{name: "patch filter and body", method: "PATCH", path: "/people?id=eq.x", headers: []string{jsonCT},
			reqBody: `{"score":{}}`, status: 400, contains: []string{`query parameter 'id'`, `body /score`}},
	})

	off := start(t, func(c *config.Config) { c.OpenAPIValidate = "off" }, fixture(t), writeFixture(t), validateFixture)
	runCases(t, off, []readCase{
		{name: "validation off: PostgreSQL's own error", path: "/items?id=eq.abc", status: 400,
			body: `{"code":"22P02","message":"invalid input syntax for type bigint: \"abc\"","details":null,"hint":null}`},
	})
}

// TestContract drives every read endpoint of the test schema and checks each response against the published
// OpenAPI 3.0 document with kin-openapi.
func TestContract(t *testing.T) {
	ts := start(t, nil, fixture(t), writeFixture(t), embedFixture(t))
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
	checked := 0
	for path, item := range doc.Paths.Map() {
		if item.Get == nil || strings.Contains(path, "{") {
			continue
		}
		query := ""
		if strings.HasPrefix(path, "/rpc/") {
			if hasRequiredParams(item.Get) {
				continue
			}
		} else {
			query = "?limit=3"
		}
		req, _ := http.NewRequest("GET", ts.URL+path+query, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req,
				Route: &routers.Route{Spec: doc, Path: path, PathItem: item, Method: "GET", Operation: item.Get}},
			Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			t.Errorf("GET %s: %d %s\n%v", path, resp.StatusCode, trimBody(body), err)
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d endpoints checked", checked)
	}
	// Writes with return=representation, validated against their operations too.
	for _, w := range []struct{ method, path, body string }{
		{"POST", "/clients", `{"id":90,"name":"Contract"}`},
		{"PATCH", "/clients?id=eq.90", `{"name":"Contract 2"}`},
		{"PUT", "/clients?id=eq.91", `{"id":91,"name":"Put"}`},
		{"DELETE", "/clients?id=eq.90", ``},
	} {
		path, _, _ := strings.Cut(w.path, "?")
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(w.method) == nil {
			t.Errorf("%s %s is not in the document", w.method, path)
			continue
		}
		var body io.Reader
		if w.body != "" {
			body = strings.NewReader(w.body)
		}
		req, _ := http.NewRequest(w.method, ts.URL+w.path, body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Prefer", "return=representation")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Errorf("%s %s: %d %s", w.method, w.path, resp.StatusCode, rb)
			continue
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req,
				Route: &routers.Route{Spec: doc, Path: path, PathItem: item, Method: w.method, Operation: item.GetOperation(w.method)}},
			Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(rb)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			t.Errorf("%s %s: %d %s\n%v", w.method, w.path, resp.StatusCode, trimBody(rb), err)
		}
	}
}

func hasRequiredParams(op *openapi3.Operation) bool {
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.Required {
			return true
		}
	}
	return false
}

func trimBody(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
