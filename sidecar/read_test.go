package sidecar_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pgway/pgway/internal/config"
)

// readCase is one HTTP exchange: request, then expected status, headers and body.
type readCase struct {
	name    string
	method  string // default GET
	path    string
	headers []string
	status  int
	// body is compared as JSON when it starts with [ or {, otherwise exactly; "" skips the comparison.
	body string
	// contains lists substrings the body must contain.
	contains []string
	// header lists "Name: value" pairs the response must carry exactly.
	header []string
}

func runCases(t *testing.T, ts *testServer, cases []readCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			res := ts.do(method, tc.path, tc.headers, "")
			if tc.status != 0 && res.Status != tc.status {
				t.Fatalf("%s %s: status %d, want %d; body %s", method, tc.path, res.Status, tc.status, res.Body)
			}
			for _, h := range tc.header {
				k, v, _ := strings.Cut(h, ":")
				if got := res.Header.Get(k); got != strings.TrimSpace(v) {
					t.Errorf("header %s = %q, want %q", k, got, strings.TrimSpace(v))
				}
			}
			for _, sub := range tc.contains {
				if !strings.Contains(res.Body, sub) {
					t.Errorf("body %s\ndoes not contain %q", res.Body, sub)
				}
			}
			if tc.body != "" {
				assertBody(t, res.Body, tc.body)
			}
		})
	}
}

func assertBody(t *testing.T, got, want string) {
	t.Helper()
	if strings.HasPrefix(want, "[") || strings.HasPrefix(want, "{") {
		var g, w any
		if err := json.Unmarshal([]byte(got), &g); err != nil {
			t.Fatalf("body is not JSON: %v\n%s", err, got)
		}
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			t.Fatalf("bad expectation %q: %v", want, err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("body\n got %s\nwant %s", got, want)
		}
		return
	}
	if got != want {
		t.Fatalf("body\n got %q\nwant %q", got, want)
	}
}

func q(s string) string { return url.PathEscape(s) }

func TestFoundationRead(t *testing.T) {
	ts := start(t, nil, fixture(t))
	runCases(t, ts, []readCase{
		{name: "select list, eq filter", path: "/items?select=id,name&id=eq.2", status: 200,
			body: `[{"id":2,"name":"banana"}]`,
			header: []string{"Content-Type: application/json; charset=utf-8", "Content-Range: 0-0/*",
				"Content-Location: /items?id=eq.2&select=id%2Cname", "Vary: Accept, Prefer, Range"}},
		{name: "star", path: "/items?select=*&id=eq.1", status: 200,
			contains: []string{`"mood":"happy"`, `"lang": "en"`, `"tags":["red","fruit"]`}},
		{name: "default select is star", path: "/cheap_items?order=id", status: 200,
			body: `[{"id":1,"name":"apple","price":1.50},{"id":2,"name":"banana","price":0.25}]`},
		{name: "order desc, limit, offset", path: "/items?select=id&order=id.desc&limit=2&offset=1", status: 200,
			body: `[{"id":4},{"id":3}]`, header: []string{"Content-Range: 1-2/*"}},
		{name: "empty result", path: "/items?id=eq.99", status: 200, body: `[]`,
			header: []string{"Content-Range: */*"}},
		{name: "HEAD", method: "HEAD", path: "/items?id=eq.1", status: 200, body: "",
			header: []string{"Content-Range: 0-0/*"}},
		{name: "unknown relation", path: "/itemz", status: 404,
			body: `{"code":"PGRST205","details":null,"hint":"Perhaps you meant the table 'api.items'","message":"Could not find the table 'api.itemz' in the schema cache"}`},
		{name: "unknown column in select", path: "/items?select=nope", status: 400,
			contains: []string{`"code":"42703"`, `nope`}},
		{name: "unknown column in filter", path: "/items?nope=eq.1", status: 400,
			contains: []string{`"code":"42703"`}},
		{name: "wrong type", path: "/items?id=eq.abc", status: 400,
			contains: []string{`"code":"22P02"`, `invalid input syntax for type bigint`}},
		{name: "sql in values is inert", path: "/items?name=eq." + q("x'; DROP TABLE api.items; --"), status: 200, body: `[]`},
		{name: "sql in identifiers is inert", path: "/items?select=" + q(`id";drop table api.items;--`), status: 400,
			contains: []string{`"code"`}},
		{name: "granted only to web_user: anon gets 401", path: "/secrets", status: 401,
			contains: []string{`"code":"42501"`}, header: []string{"WWW-Authenticate: Bearer"}},
	})
	// The table still exists after the injection attempts.
	if res := ts.get("/items?select=id&id=eq.1"); res.Status != 200 {
		t.Fatalf("items gone: %d %s", res.Status, res.Body)
	}
}

func TestJWTRole(t *testing.T) {
	ts := start(t, nil, fixture(t))
	user := "Authorization: Bearer " + token(t, jwt.MapClaims{"role": "web_user", "sub": "alice"})
	runCases(t, ts, []readCase{
		{name: "web_user reads secrets", path: "/secrets", headers: []string{user}, status: 200,
			body: `[{"id":1,"secret":"swordfish"}]`},
		{name: "RLS by sub", path: "/notes?select=id,body&order=id", headers: []string{user}, status: 200,
			body: `[{"id":1,"body":"alice note"},{"id":3,"body":"second alice note"}]`},
		{name: "bad signature", path: "/items", status: 401,
			headers:  []string{"Authorization: Bearer " + badToken(t)},
			contains: []string{`"code":"PGRST301"`}},
		{name: "expired", path: "/items", status: 401,
			headers: []string{"Authorization: Bearer " + token(t, jwt.MapClaims{"role": "web_user",
				"exp": time.Now().Add(-time.Hour).Unix()})},
			contains: []string{`"code":"PGRST303"`}},
	})
	res := ts.get("/items", "Authorization: Bearer "+badToken(t))
	if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate = %q", res.Header.Get("WWW-Authenticate"))
	}
}

func badToken(t testing.TB) string {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"role": "web_user"}).SignedString([]byte("another secret that is long enough"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSchemaReloadOnNotify(t *testing.T) {
	ts := start(t, nil, fixture(t))
	if res := ts.get("/fresh"); res.Status != http.StatusNotFound {
		t.Fatalf("fresh exists before creation: %d", res.Status)
	}
	ts.DB.Exec(t, `CREATE TABLE api.fresh (id int); INSERT INTO api.fresh VALUES (7);
		GRANT SELECT ON api.fresh TO web_anon;`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		// Notify again each round: the listener may still be connecting when the first one is sent.
		ts.DB.Exec(t, `NOTIFY pgrst, 'reload schema'`)
		res := ts.get("/fresh")
		if res.Status == 200 {
			assertBody(t, res.Body, `[{"id":7}]`)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("new table not served after NOTIFY: %d %s", res.Status, res.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRequestSettings(t *testing.T) {
	ts := start(t, nil, fixture(t))
	user := "Authorization: Bearer " + token(t, jwt.MapClaims{"role": "web_user", "sub": "bob"})
	runCases(t, ts, []readCase{
		{name: "anon", path: "/whoami", headers: []string{"X-Trace: abc"}, status: 200,
			body: `[{"role":"web_anon","method":"GET","path":"/whoami","trace":"abc","sub":null,"search_path":"\"api\", \"public\""}]`},
		{name: "jwt", path: "/whoami?select=role,sub", headers: []string{user}, status: 200,
			body: `[{"role":"web_user","sub":"bob"}]`},
		{name: "profile", path: "/whoami?select=search_path", headers: []string{"Accept-Profile: other"}, status: 404},
	})
}

// TestSearchPathAsPostgREST: the search_path is the schema then db-extra-search-path as configured, a schema in
// both kept twice, as PostgREST sets it (a plan's Settings and current_setting show it so).
func TestSearchPathAsPostgREST(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBExtraSearchPath = []string{"api", "public"} }, fixture(t))
	runCases(t, ts, []readCase{
		{name: "repeated schema", path: "/whoami?select=search_path", status: 200,
			body: `[{"search_path":"\"api\", \"api\", \"public\""}]`},
	})
}
