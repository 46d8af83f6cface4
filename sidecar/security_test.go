package sidecar_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pgway/pgway/internal/config"
)

// securityFixture adds objects the anonymous role may not use (web_user may read some of them), visible
// neighbours with similar names, and functions that answer 401 themselves.
const securityFixture = `
CREATE TABLE api.vault (id int PRIMARY KEY, code text NOT NULL, owner text NOT NULL);
CREATE TABLE api.vault_items (id int PRIMARY KEY, vault_id int NOT NULL REFERENCES api.vault(id),
  item_id bigint NOT NULL REFERENCES api.items(id));
CREATE TABLE api.ledger_entries_for_the_audit_team (id int PRIMARY KEY, amount numeric NOT NULL);
GRANT SELECT ON api.vault, api.vault_items, api.ledger_entries_for_the_audit_team TO web_user;

CREATE TABLE api.item_notes (id int PRIMARY KEY, item_id bigint REFERENCES api.items(id), body text);
GRANT SELECT ON api.item_notes TO web_anon, web_user;

CREATE FUNCTION api.vault_total(a int, b int) RETURNS int LANGUAGE sql AS 'SELECT a + b';
REVOKE EXECUTE ON FUNCTION api.vault_total(int, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.vault_total(int, int) TO web_user;
CREATE FUNCTION api.item_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM api.items';

CREATE FUNCTION api.deny_pt401() RETURNS int LANGUAGE plpgsql AS
  $$BEGIN RAISE SQLSTATE 'PT401' USING MESSAGE = 'no entry'; END$$;
CREATE FUNCTION api.deny_pgrst401() RETURNS int LANGUAGE plpgsql AS
  $$BEGIN RAISE SQLSTATE 'PGRST' USING MESSAGE = '{"code":"AUTH1","message":"log in first"}',
    DETAIL = '{"status":401,"headers":{"X-Reason":"login"}}'; END$$;
`

// secCase is one request and what its error must look like.
type secCase struct {
	name    string
	method  string
	path    string
	headers []string
	body    string
	status  int
	code    string
	message string // exact when set
	hint    string // exact when set; "null" for none
	www     string // WWW-Authenticate must start with it ("" for 401s: "Bearer")
	absent  []string
}

func runSecCases(t *testing.T, ts *testServer, cases []secCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			res := ts.do(method, tc.path, tc.headers, tc.body)
			if res.Status != tc.status {
				t.Fatalf("%s %s: status %d, want %d; body %s", method, tc.path, res.Status, tc.status, res.Body)
			}
			www := tc.www
			if www == "" && tc.status == http.StatusUnauthorized {
				www = "Bearer"
			}
			if got := res.Header.Get("WWW-Authenticate"); www != "" && !strings.HasPrefix(got, www) || www == "" && got != "" {
				t.Errorf("WWW-Authenticate = %q, want %q…", got, www)
			}
			for _, s := range tc.absent {
				if strings.Contains(res.Body, s) {
					t.Errorf("body %s mentions %q", res.Body, s)
				}
			}
			if method == "HEAD" {
				return
			}
			var e struct {
				Code    string  `json:"code"`
				Message string  `json:"message"`
				Hint    *string `json:"hint"`
			}
			if err := json.Unmarshal([]byte(res.Body), &e); err != nil {
				t.Fatalf("body is not an error object: %v\n%s", err, res.Body)
			}
			if tc.code != "" && e.Code != tc.code {
				t.Errorf("code %q, want %q; body %s", e.Code, tc.code, res.Body)
			}
			if tc.message != "" && e.Message != tc.message {
				t.Errorf("message %q, want %q", e.Message, tc.message)
			}
			switch {
			case tc.hint == "null" && e.Hint != nil:
				t.Errorf("hint %q, want none", *e.Hint)
			case tc.hint != "" && tc.hint != "null" && (e.Hint == nil || *e.Hint != tc.hint):
				t.Errorf("hint %v, want %q; body %s", e.Hint, tc.hint, res.Body)
			}
		})
	}
}

// rawToken signs an arbitrary header and payload with the test secret (HS256).
func rawToken(t testing.TB, header, payload string) string {
	t.Helper()
	enc := base64.RawURLEncoding
	s := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	sig, err := jwt.SigningMethodHS256.Sign(s, []byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s + "." + enc.EncodeToString(sig)
}

// TestUnauthorized enumerates the ways a request ends in 401: each carries a WWW-Authenticate challenge
// (invalid_token with its reason for JWT errors, plain Bearer otherwise) and PostgREST's code, and none runs.
func TestUnauthorized(t *testing.T) {
	ts := start(t, nil, fixture(t), securityFixture)
	bearer := func(tok string) []string { return []string{"Authorization: Bearer " + tok} }
	claims := func(payload string) []string { return bearer(rawToken(t, `{"alg":"HS256","typ":"JWT"}`, payload)) }
	invalid := `Bearer error="invalid_token", error_description=`
	runSecCases(t, ts, []secCase{
		{name: "anonymous role lacks SELECT", path: "/vault", status: 401, code: "42501",
			message: "permission denied for table vault", www: "Bearer"},
		{name: "anonymous role lacks SELECT (HEAD)", method: "HEAD", path: "/vault", status: 401, www: "Bearer"},
		{name: "anonymous role lacks EXECUTE", path: "/rpc/vault_total?a=1&b=2", status: 401, code: "42501",
			message: "permission denied for function vault_total"},
		{name: "role claim names no role", path: "/items", headers: claims(`{"role":"no_such_role"}`), status: 401,
			code: "22023", message: `role "no_such_role" does not exist`, www: "Bearer"},
		{name: "role claim is a number", path: "/items", headers: claims(`{"role":12}`), status: 401, code: "22023"},
		{name: "role claim is an object", path: "/items", headers: claims(`{"role":{"name":"web_user"}}`), status: 401, code: "22023"},
		{name: "role claim is an array", path: "/items", headers: claims(`{"role":["web_user"]}`), status: 401, code: "22023"},
		{name: "role claim names no role (HEAD)", method: "HEAD", path: "/items", headers: claims(`{"role":"no_such_role"}`),
			status: 401, www: "Bearer"},
		{name: "role claim names no role (rpc)", method: "POST", path: "/rpc/item_count", headers: claims(`{"role":"no_such_role"}`),
			status: 401, code: "22023"},
		{name: "exp is a string", path: "/vault", headers: claims(`{"role":"web_user","exp":"9999999999"}`), status: 401,
			code: "PGRST303", message: "The JWT 'exp' claim must be a number", www: invalid + `"The JWT 'exp' claim must be a number"`},
		{name: "nbf is a string", path: "/vault", headers: claims(`{"role":"web_user","nbf":"1"}`), status: 401,
			code: "PGRST303", message: "The JWT 'nbf' claim must be a number", www: invalid},
		{name: "iat is a string", path: "/vault", headers: claims(`{"role":"web_user","iat":"1"}`), status: 401,
			code: "PGRST303", message: "The JWT 'iat' claim must be a number", www: invalid},
		{name: "exp is an object", path: "/vault", headers: claims(`{"role":"web_user","exp":{"t":9999999999}}`), status: 401,
			code: "PGRST303", message: "The JWT 'exp' claim must be a number", www: invalid},
		{name: "expired", path: "/vault", headers: claims(`{"role":"web_user","exp":1}`), status: 401,
			code: "PGRST303", message: "JWT expired", www: invalid + `"JWT expired"`},
		{name: "crit header", path: "/vault", headers: bearer(rawToken(t, `{"alg":"HS256","crit":["exp"],"exp":1}`, `{"role":"web_user"}`)),
			status: 401, code: "PGRST301", message: "Unsupported token type", www: invalid + `"Unsupported token type"`},
		{name: "alg none", path: "/vault", headers: bearer(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." +
			base64.RawURLEncoding.EncodeToString([]byte(`{"role":"web_user"}`)) + "."),
			status: 401, code: "PGRST301", message: "Wrong or unsupported encoding algorithm", www: invalid},
		{name: "empty signature", path: "/vault", headers: bearer(strings.Join(strings.Split(rawToken(t, `{"alg":"HS256"}`, `{"role":"web_user"}`), ".")[:2], ".") + "."),
			status: 401, code: "PGRST301", message: "No suitable key or wrong key type", www: invalid},
		{name: "wrong key", path: "/vault", headers: bearer(badToken(t)), status: 401, code: "PGRST301", www: invalid},
		{name: "not a JWT", path: "/vault", headers: bearer("x.y"), status: 401, code: "PGRST301",
			message: "Expected 3 parts in JWT; got 2", www: invalid},
		{name: "bad token on the OpenAPI document", path: "/openapi.json", headers: bearer(badToken(t)), status: 401,
			code: "PGRST301", www: invalid},
		{name: "bad token on the root", path: "/", headers: claims(`{"role":"web_user","exp":"1"}`), status: 401,
			code: "PGRST303", www: invalid},
		{name: "RAISE SQLSTATE PT401", method: "POST", path: "/rpc/deny_pt401", status: 401, code: "PT401",
			message: "no entry", www: "Bearer"},
		{name: "RAISE SQLSTATE PGRST with status 401", method: "POST", path: "/rpc/deny_pgrst401", status: 401, code: "AUTH1",
			message: "log in first", www: "Bearer"},
		// Not 401: an authenticated role is forbidden, with no challenge.
		{name: "authenticated role lacks INSERT is 403", method: "POST", path: "/vault", body: `{"id":1,"code":"c","owner":"o"}`,
			headers: append(claims(`{"role":"web_user"}`), "Content-Type: application/json"), status: 403, code: "42501", www: ""},
	})

	noAnon := start(t, func(c *config.Config) { c.DBAnonRole = "" }, fixture(t))
	runSecCases(t, noAnon, []secCase{
		{name: "anonymous access disabled", path: "/items", status: 401, code: "PGRST302",
			message: "Anonymous access is disabled", www: "Bearer"},
		{name: "anonymous access disabled, token without role", path: "/items",
			headers: []string{"Authorization: Bearer " + token(t, jwt.MapClaims{"sub": "x"})}, status: 401, code: "PGRST302", www: "Bearer"},
	})
}

// TestJWTNeverRunsAsSomeRole: tokens that must not authenticate never reach the data, and odd role claims end
// in a client error, never a 500.
func TestJWTNeverRunsAsSomeRole(t *testing.T) {
	ts := start(t, nil, fixture(t), securityFixture)
	sign := func(payload string) []string {
		return []string{"Authorization: Bearer " + rawToken(t, `{"alg":"HS256"}`, payload)}
	}
	for _, tc := range []struct {
		name    string
		headers []string
		status  int
	}{
		{"exp as a string", sign(`{"role":"web_user","exp":"9999999999"}`), 401},
		// set_config('role', 'none') would switch back to the authenticator.
		{"role none", sign(`{"role":"none"}`), 401},
		{"role with NUL", sign(`{"role":"web_user\u0000"}`), 401},
		{"role empty", sign(`{"role":""}`), 401},
		{"role public", sign(`{"role":"public"}`), 401},
		{"role the authenticator may not become", sign(`{"role":"postgres"}`), 403},
		{"huge token", []string{"Authorization: Bearer " + strings.Repeat("a", 100<<10)}, 431},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := ts.do("GET", "/whoami?select=role", tc.headers, "")
			if tc.status != 0 && res.Status != tc.status {
				t.Fatalf("status %d, want %d; body %s", res.Status, tc.status, res.Body)
			}
			if res.Status < 400 || res.Status >= 500 {
				t.Fatalf("status %d, want a client error; body %s", res.Status, res.Body)
			}
			if res.Status == 401 && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without a challenge: %q", res.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

// TestHintsNameOnlyVisible: "Perhaps you meant" hints (PGRST205 tables, PGRST202 functions and their
// parameters, PGRST200 relationships) name only what the caller's role may use, and only names at least 0.75
// similar to what was asked (PostgREST's rule).
func TestHintsNameOnlyVisible(t *testing.T) {
	ts := start(t, nil, fixture(t), securityFixture)
	user := []string{"Authorization: Bearer " + token(t, jwt.MapClaims{"role": "web_user"})}
	runSecCases(t, ts, []secCase{
		{name: "hidden table: no hint for anon", path: "/vaul", status: 404, code: "PGRST205", hint: "null", absent: []string{"vault"}},
		{name: "hidden table: hint for a role that may read it", path: "/vaul", headers: user, status: 404, code: "PGRST205",
			hint: "Perhaps you meant the table 'api.vault'"},
		{name: "visible table: hint for anon", path: "/item_note", status: 404, code: "PGRST205",
			hint: "Perhaps you meant the table 'api.item_notes'"},
		{name: "a hidden neighbour is skipped for the visible one", path: "/vault_item", status: 404, code: "PGRST205",
			hint: "null", absent: []string{"vault_items"}},
		{name: "long name, three edits", path: "/ledger_entries_for_the_audit_txx", headers: user, status: 404,
			code: "PGRST205", hint: "Perhaps you meant the table 'api.ledger_entries_for_the_audit_team'"},
		{name: "long name, eight edits: 0.76 similar", path: "/ledger_entries_for_the_auxxxxxxxx", headers: user,
			status: 404, code: "PGRST205", hint: "Perhaps you meant the table 'api.ledger_entries_for_the_audit_team'"},
		{name: "long name, nine edits: 0.73 similar, no hint even when visible", path: "/ledger_entries_for_the_axxxxxxxxx",
			headers: user, status: 404, code: "PGRST205", hint: "null"},
		{name: "long hidden name: no hint for anon", path: "/ledger_entries_for_the_audit_tea", status: 404, code: "PGRST205",
			hint: "null", absent: []string{"team"}},
		{name: "hidden function: no hint for anon", method: "POST", path: "/rpc/vault_totl", status: 404, code: "PGRST202",
			hint: "null", absent: []string{"vault_total"}},
		{name: "hidden function: hint for a role that may execute it", method: "POST", path: "/rpc/vault_totl", headers: user,
			status: 404, code: "PGRST202", hint: "Perhaps you meant to call the function api.vault_total"},
		{name: "visible function: hint for anon", method: "POST", path: "/rpc/item_cont", status: 404, code: "PGRST202",
			hint: "Perhaps you meant to call the function api.item_count"},
		{name: "hidden function's parameters: no hint for anon", path: "/rpc/vault_total?x=1", status: 404, code: "PGRST202",
			hint: "null", absent: []string{"(a, b)"}},
		{name: "hidden function's parameters: hint for a role that may execute it", path: "/rpc/vault_total?x=1", headers: user,
			status: 404, code: "PGRST202", hint: "Perhaps you meant to call the function api.vault_total(a, b)"},
		{name: "hidden embed: no hint for anon", path: "/items?select=id,vault_item(*)", status: 400, code: "PGRST200",
			hint: "null", absent: []string{"vault_items"}},
		{name: "hidden embed: hint for a role that may read it", path: "/items?select=id,vault_item(*)", headers: user,
			status: 400, code: "PGRST200", hint: "Perhaps you meant 'vault_items' instead of 'vault_item'."},
		{name: "visible embed: hint for anon", path: "/items?select=id,item_note(*)", status: 400, code: "PGRST200",
			hint: "Perhaps you meant 'item_notes' instead of 'item_note'."},
		{name: "hint for an unknown role: none", path: "/vaul", status: 404, code: "PGRST205", hint: "null",
			headers: []string{"Authorization: Bearer " + token(t, jwt.MapClaims{"role": "no_such_role"})}},
	})
}

// TestValidationSaysNothingHidden: request validation does not describe a relation or function the role may
// not use; it answers as PostgreSQL's privilege check would (42501: 401 anonymous, 403 authenticated).
func TestValidationSaysNothingHidden(t *testing.T) {
	ts := start(t, nil, fixture(t), securityFixture)
	user := "Authorization: Bearer " + token(t, jwt.MapClaims{"role": "web_user"})
	ct := "Content-Type: application/json"
	runSecCases(t, ts, []secCase{
		{name: "insert of an empty object as anon", method: "POST", path: "/vault", headers: []string{ct}, body: `{}`,
			status: 401, code: "42501", message: "permission denied for table vault", www: "Bearer",
			absent: []string{"owner", "code\\\"", "not-null"}},
		{name: "insert of an empty object by a role that may only read", method: "POST", path: "/vault",
			headers: []string{ct, user}, body: `{}`, status: 403, code: "42501", message: "permission denied for table vault",
			absent: []string{"owner"}},
		{name: "wrong body type as anon", method: "POST", path: "/vault", headers: []string{ct}, body: `{"id":"x"}`,
			status: 401, code: "42501", absent: []string{"integer"}},
		{name: "filter of the wrong type as anon", path: "/vault?id=eq.abc", status: 401, code: "42501",
			message: "permission denied for table vault", absent: []string{"integer"}},
		{name: "filter of the wrong type on a visible table", path: "/items?id=eq.abc", status: 400, code: "22P02"},
		{name: "filter of the wrong type by a role that may read", path: "/vault?id=eq.abc", headers: []string{user},
			status: 400, code: "22P02"},
		{name: "delete with a bad filter as anon", method: "DELETE", path: "/vault?id=eq.abc", status: 401, code: "42501"},
		{name: "update with a bad body as web_user (no UPDATE)", method: "PATCH", path: "/vault?id=eq.1",
			headers: []string{ct, user}, body: `{"id":"x"}`, status: 403, code: "42501"},
		{name: "a valid insert as anon: PostgreSQL's own answer", method: "POST", path: "/vault", headers: []string{ct},
			body: `{"id":1,"code":"c","owner":"o"}`, status: 401, code: "42501", message: "permission denied for table vault"},
		{name: "function argument of the wrong type as anon", method: "POST", path: "/rpc/vault_total", headers: []string{ct},
			body: `{"a":1,"b":"two"}`, status: 401, code: "42501", message: "permission denied for function vault_total",
			absent: []string{"integer"}},
		{name: "function argument of the wrong type by a role that may execute", method: "POST", path: "/rpc/vault_total",
			headers: []string{ct, user}, body: `{"a":1,"b":"two"}`, status: 400, code: "22P02"},
		{name: "query argument of the wrong type as anon", path: "/rpc/vault_total?a=1&b=two", status: 401, code: "42501"},
	})
}
