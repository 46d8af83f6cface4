package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pgway/pgway/sidecar/internal/auth"
)

// secret is PostgREST's test-suite secret, so its spec tokens can be reused verbatim.
const secret = "reallyreallyreallyreallyverysafe"

var now = time.Unix(1_700_000_000, 0)

func sign(t testing.TB, m jwt.SigningMethod, claims jwt.MapClaims, key any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hs(t testing.TB, claims jwt.MapClaims) string {
	return "Bearer " + sign(t, jwt.SigningMethodHS256, claims, []byte(secret))
}

// raw signs an arbitrary payload (not necessarily a JSON object) with HS256.
func raw(payload string) string {
	enc := base64.RawURLEncoding
	s := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(payload))
	sig, _ := jwt.SigningMethodHS256.Sign(s, []byte(secret))
	return "Bearer " + s + "." + enc.EncodeToString(sig)
}

func challenge(msg string) string {
	return `Bearer error="invalid_token", error_description="` + msg + `"`
}

func TestAuthenticate(t *testing.T) {
	defaults := auth.Options{Secret: []byte(secret), AnonRole: "web_anon"}
	noAnon := auth.Options{Secret: []byte(secret)}
	withAud := auth.Options{Secret: []byte(secret), AnonRole: "web_anon", Audience: "youraudience"}
	n := now.Unix()
	tests := []struct {
		name    string
		opts    auth.Options
		header  string
		role    string // expected role on success
		authed  bool
		code    string // expected error code
		status  int
		message string
		details string
		www     string // expected WWW-Authenticate
	}{
		{name: "no header is anonymous", opts: defaults, header: "", role: "web_anon"},
		{name: "other scheme is anonymous", opts: defaults, header: "Basic dXNlcjpwYXNz", role: "web_anon"},
		{name: "no header, no anon role", opts: noAnon, header: "", code: "PGRST302", status: 401,
			message: "Anonymous access is disabled", www: "Bearer"},
		{name: "valid token", opts: defaults, header: hs(t, jwt.MapClaims{"role": "author"}), role: "author", authed: true},
		{name: "scheme is case-insensitive", opts: defaults,
			header: "bEaReR   " + strings.TrimPrefix(hs(t, jwt.MapClaims{"role": "author"}), "Bearer "), role: "author", authed: true},
		{name: "postgrest spec token (unexpired)", opts: defaults,
			header: "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjk5OTk5OTk5OTksInJvbGUiOiJwb3N0Z3Jlc3RfdGVzdF9hdXRob3IiLCJpZCI6Impkb2UifQ.Dpss-QoLYjec5OTsOaAc3FNVsSjA89wACoV-0ra3ClA",
			role:   "postgrest_test_author", authed: true},
		{name: "postgrest spec token (expired)", opts: defaults,
			header: "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE0NDY2NzgxNDksInJvbGUiOiJwb3N0Z3Jlc3RfdGVzdF9hdXRob3IiLCJpZCI6Impkb2UifQ.f8__E6VQwYcDqwHmr9PG03uaZn8Zh1b0vbJ9DYS0AdM",
			code:   "PGRST303", status: 401, message: "JWT expired", www: challenge("JWT expired")},
		{name: "HS384", opts: defaults, header: "Bearer " + sign(t, jwt.SigningMethodHS384, jwt.MapClaims{"role": "a"}, []byte(secret)), role: "a", authed: true},
		{name: "HS512", opts: defaults, header: "Bearer " + sign(t, jwt.SigningMethodHS512, jwt.MapClaims{"role": "a"}, []byte(secret)), role: "a", authed: true},
		{name: "no role claim is anon", opts: defaults, header: hs(t, jwt.MapClaims{"sub": "x"}), role: "web_anon"},
		{name: "anon role claim is not authenticated", opts: defaults, header: hs(t, jwt.MapClaims{"role": "web_anon"}), role: "web_anon"},
		{name: "no role claim, no anon role", opts: noAnon, header: hs(t, jwt.MapClaims{"sub": "x"}), code: "PGRST302", status: 401,
			message: "Anonymous access is disabled", www: "Bearer"},
		{name: "non-string role is its JSON", opts: defaults, header: hs(t, jwt.MapClaims{"role": 12}), role: "12", authed: true},
		{name: "empty token", opts: defaults, header: "Bearer ", code: "PGRST301", status: 401,
			message: "Empty JWT is sent in Authorization header", www: challenge("Empty JWT is sent in Authorization header")},
		{name: "bare Bearer", opts: defaults, header: "Bearer", code: "PGRST301", status: 401,
			message: "Empty JWT is sent in Authorization header", www: challenge("Empty JWT is sent in Authorization header")},
		{name: "two parts", opts: defaults, header: "Bearer ey9zdGdyZXN0X3Rlc3RfYXV0aG9yIiwiaWQiOiJqZG9lIn0.y4vZuu1dDdwAl0-S00MCRWRYMlJ5YAMSir6Es6WtWx0",
			code: "PGRST301", status: 401, message: "Expected 3 parts in JWT; got 2", www: challenge("Expected 3 parts in JWT; got 2")},
		{name: "random characters", opts: defaults, header: "Bearer quifquirndsjagnrgniur.fonvoienqhhdj.iuqvnvhojah",
			code: "PGRST301", status: 401, message: "JWT cryptographic operation failed", www: challenge("JWT cryptographic operation failed")},
		{name: "wrong secret", opts: defaults, header: "Bearer " + sign(t, jwt.SigningMethodHS256, jwt.MapClaims{}, []byte("wrong secret wrong secret wrong secret")),
			code: "PGRST301", status: 401, message: "No suitable key or wrong key type", details: "None of the keys was able to decode the JWT",
			www: challenge("No suitable key or wrong key type")},
		{name: "alg none", opts: defaults, header: "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.e30.yOBhlOIqn56T-4NvyEXCjfi3UmyQZ-BzXtePMO2NgRI",
			code: "PGRST301", status: 401, message: "Wrong or unsupported encoding algorithm",
			details: "JWT is unsecured but expected 'alg' was not 'none'", www: challenge("Wrong or unsupported encoding algorithm")},
		{name: "token without secret", opts: auth.Options{AnonRole: "web_anon"}, header: hs(t, jwt.MapClaims{"role": "a"}),
			code: "PGRST300", status: 500, message: "Server lacks JWT secret"},
		{name: "no secret, no token", opts: auth.Options{AnonRole: "web_anon"}, header: "", role: "web_anon"},
		{name: "expired beyond skew", opts: defaults, header: hs(t, jwt.MapClaims{"role": "a", "exp": n - 35}),
			code: "PGRST303", status: 401, message: "JWT expired", www: challenge("JWT expired")},
		{name: "expired within skew", opts: defaults, header: hs(t, jwt.MapClaims{"role": "a", "exp": n - 25}), role: "a", authed: true},
		{name: "nbf beyond skew", opts: defaults, header: hs(t, jwt.MapClaims{"role": "a", "nbf": n + 35}),
			code: "PGRST303", status: 401, message: "JWT not yet valid", www: challenge("JWT not yet valid")},
		{name: "nbf within skew", opts: defaults, header: hs(t, jwt.MapClaims{"role": "a", "nbf": n + 25}), role: "a", authed: true},
		{name: "iat in future", opts: defaults, header: hs(t, jwt.MapClaims{"role": "a", "iat": n + 35}),
			code: "PGRST303", status: 401, message: "JWT issued at future", www: challenge("JWT issued at future")},
		{name: "iat now", opts: defaults, header: hs(t, jwt.MapClaims{"role": "a", "iat": n}), role: "a", authed: true},
		{name: "exp not a number", opts: defaults, header: hs(t, jwt.MapClaims{"role": "a", "exp": "invalid"}),
			code: "PGRST303", status: 401, message: "The JWT 'exp' claim must be a number", www: challenge("The JWT 'exp' claim must be a number")},
		{name: "nbf not a number", opts: defaults, header: hs(t, jwt.MapClaims{"role": "a", "nbf": "invalid"}),
			code: "PGRST303", status: 401, message: "The JWT 'nbf' claim must be a number", www: challenge("The JWT 'nbf' claim must be a number")},
		{name: "iat not a number", opts: defaults, header: hs(t, jwt.MapClaims{"role": "a", "iat": "invalid"}),
			code: "PGRST303", status: 401, message: "The JWT 'iat' claim must be a number", www: challenge("The JWT 'iat' claim must be a number")},
		{name: "exp null is ignored", opts: defaults, header: raw(`{"role":"a","exp":null}`), role: "a", authed: true},
		{name: "exp checked before nbf", opts: defaults, header: hs(t, jwt.MapClaims{"exp": n - 100, "nbf": "x"}),
			code: "PGRST303", status: 401, message: "JWT expired", www: challenge("JWT expired")},
		{name: "payload not an object", opts: defaults, header: raw(`[1,2]`),
			code: "PGRST303", status: 401, message: "Parsing claims failed", www: challenge("Parsing claims failed")},
		{name: "aud object", opts: defaults, header: hs(t, jwt.MapClaims{"role": "a", "aud": map[string]any{"invalid": "value"}}),
			code: "PGRST303", status: 401, message: "The JWT 'aud' claim must be a string or an array of strings",
			www: challenge("The JWT 'aud' claim must be a string or an array of strings")},
		{name: "aud array of non-strings", opts: defaults, header: hs(t, jwt.MapClaims{"role": "a", "aud": []any{map[string]any{}, "test"}}),
			code: "PGRST303", status: 401, message: "The JWT 'aud' claim must be a string or an array of strings",
			www: challenge("The JWT 'aud' claim must be a string or an array of strings")},
		{name: "aud ignored without jwt-aud", opts: defaults, header: hs(t, jwt.MapClaims{"role": "a", "aud": "anything"}), role: "a", authed: true},
		{name: "aud matches", opts: withAud, header: hs(t, jwt.MapClaims{"role": "a", "aud": "youraudience"}), role: "a", authed: true},
		{name: "aud mismatch", opts: withAud, header: hs(t, jwt.MapClaims{"role": "a", "aud": "other"}),
			code: "PGRST303", status: 401, message: "JWT not in audience", www: challenge("JWT not in audience")},
		{name: "aud empty string", opts: withAud, header: hs(t, jwt.MapClaims{"role": "a", "aud": ""}),
			code: "PGRST303", status: 401, message: "JWT not in audience", www: challenge("JWT not in audience")},
		{name: "aud array contains", opts: withAud, header: hs(t, jwt.MapClaims{"role": "a", "aud": []string{"x", "youraudience"}}), role: "a", authed: true},
		{name: "aud array without", opts: withAud, header: hs(t, jwt.MapClaims{"role": "a", "aud": []string{"x", "y"}}),
			code: "PGRST303", status: 401, message: "JWT not in audience", www: challenge("JWT not in audience")},
		{name: "aud empty array", opts: withAud, header: hs(t, jwt.MapClaims{"role": "a", "aud": []string{}}), role: "a", authed: true},
		{name: "aud absent", opts: withAud, header: hs(t, jwt.MapClaims{"role": "a"}), role: "a", authed: true},
		{name: "nested role claim key", opts: auth.Options{Secret: []byte(secret), AnonRole: "web_anon", RoleClaimKey: ".realm_access.roles[1]"},
			header: hs(t, jwt.MapClaims{"realm_access": map[string]any{"roles": []string{"x", "editor"}}}), role: "editor", authed: true},
		{name: "quoted role claim key", opts: auth.Options{Secret: []byte(secret), AnonRole: "web_anon", RoleClaimKey: `."https://x.io/claims".role`},
			header: hs(t, jwt.MapClaims{"https://x.io/claims": map[string]any{"role": "editor"}}), role: "editor", authed: true},
		{name: "filter role claim key", opts: auth.Options{Secret: []byte(secret), AnonRole: "web_anon", RoleClaimKey: `.roles[?(@ ^== "pg_")]`},
			header: hs(t, jwt.MapClaims{"roles": []string{"admin", "pg_editor"}}), role: "pg_editor", authed: true},
		{name: "role claim key leads nowhere", opts: auth.Options{Secret: []byte(secret), AnonRole: "web_anon", RoleClaimKey: ".realm_access.roles[5]"},
			header: hs(t, jwt.MapClaims{"realm_access": map[string]any{"roles": []string{"x"}}}), role: "web_anon"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := auth.New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for round := range 2 { // the second round is served from the cache
				res, aerr := a.Authenticate(tc.header, now)
				if tc.code == "" {
					if aerr != nil {
						t.Fatalf("round %d: unexpected error %v", round, aerr)
					}
					if res.Role != tc.role || res.Authenticated != tc.authed {
						t.Fatalf("round %d: got role %q authenticated %v, want %q %v", round, res.Role, res.Authenticated, tc.role, tc.authed)
					}
					continue
				}
				if aerr == nil {
					t.Fatalf("round %d: got %+v, want error %s", round, res, tc.code)
				}
				if aerr.Code != tc.code || aerr.Status != tc.status || aerr.Message != tc.message || aerr.Details != tc.details {
					t.Fatalf("round %d: got %d %s %q (%q), want %d %s %q (%q)", round, aerr.Status, aerr.Code, aerr.Message, aerr.Details,
						tc.status, tc.code, tc.message, tc.details)
				}
				var www string
				for _, h := range aerr.Headers {
					if h[0] == "WWW-Authenticate" {
						www = h[1]
					}
				}
				if www != tc.www {
					t.Fatalf("round %d: WWW-Authenticate %q, want %q", round, www, tc.www)
				}
			}
		})
	}
}

func TestClaimsVerbatim(t *testing.T) {
	a, err := auth.New(auth.Options{Secret: []byte(secret), AnonRole: "web_anon"})
	if err != nil {
		t.Fatal(err)
	}
	payload := `{"role":"a", "n": 1.50, "s":"é"}`
	res, aerr := a.Authenticate(raw(payload), now)
	if aerr != nil {
		t.Fatal(aerr)
	}
	if string(res.Claims) != payload {
		t.Fatalf("claims %s, want %s", res.Claims, payload)
	}
	if res, _ := a.Authenticate("", now); string(res.Claims) != `{"role":"web_anon"}` {
		t.Fatalf("anonymous claims %s, want the anonymous role as PostgREST sets them", res.Claims)
	}
}

func TestCachedTokenExpires(t *testing.T) {
	a, err := auth.New(auth.Options{Secret: []byte(secret), AnonRole: "web_anon", CacheMaxLifetime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	h := hs(t, jwt.MapClaims{"role": "a", "exp": now.Unix() + 60})
	if _, aerr := a.Authenticate(h, now); aerr != nil {
		t.Fatal(aerr)
	}
	for _, later := range []time.Duration{30 * time.Second, 89 * time.Second} {
		if _, aerr := a.Authenticate(h, now.Add(later)); aerr != nil {
			t.Fatalf("+%v: %v", later, aerr)
		}
	}
	if _, aerr := a.Authenticate(h, now.Add(91*time.Second)); aerr == nil || aerr.Message != "JWT expired" {
		t.Fatalf("+91s: got %v, want JWT expired", aerr)
	}
}

func TestCacheBounded(t *testing.T) {
	a, err := auth.New(auth.Options{Secret: []byte(secret), AnonRole: "web_anon", CacheMaxEntries: 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		h := hs(t, jwt.MapClaims{"role": fmt.Sprint("r", i)})
		if res, aerr := a.Authenticate(h, now); aerr != nil || res.Role != fmt.Sprint("r", i) {
			t.Fatalf("token %d: %v %v", i, res, aerr)
		}
	}
	if n := auth.CacheLen(a); n > 10 {
		t.Fatalf("cache holds %d entries, want ≤ 10", n)
	}
}

// TestCacheStats: the cache counts its lookups, hits and evictions (PostgREST's pgrst_jwt_cache_* metrics):
// every bearer token is one lookup, a token verified before is a hit, and the entries dropped to make room are
// evictions. Anonymous requests and a disabled cache count nothing; the counters survive a new Authenticator.
func TestCacheStats(t *testing.T) {
	var stats auth.CacheStats
	a, err := auth.New(auth.Options{Secret: []byte(secret), AnonRole: "web_anon", CacheMaxEntries: 2, CacheStats: &stats})
	if err != nil {
		t.Fatal(err)
	}
	tok := func(i int) string { return hs(t, jwt.MapClaims{"role": fmt.Sprint("r", i)}) }
	for _, h := range []string{tok(1), tok(1), tok(1), tok(2), "", tok(3)} {
		if _, aerr := a.Authenticate(h, now); aerr != nil {
			t.Fatal(aerr)
		}
	}
	if _, aerr := a.Authenticate("Bearer x.y.z", now); aerr == nil {
		t.Fatal("a malformed token was accepted")
	}
	// Lookups: r1 ×3, r2, r3 and the malformed token; hits: r1 twice; r3 found the cache full (2 entries): one
	// evicted.
	if r, h, e := stats.Requests.Load(), stats.Hits.Load(), stats.Evictions.Load(); r != 6 || h != 2 || e != 1 {
		t.Fatalf("requests %d hits %d evictions %d, want 6 2 1", r, h, e)
	}
	b, err := auth.New(auth.Options{Secret: []byte(secret), AnonRole: "web_anon", CacheStats: &stats})
	if err != nil {
		t.Fatal(err)
	}
	if _, aerr := b.Authenticate(tok(1), now); aerr != nil || stats.Requests.Load() != 7 || stats.Hits.Load() != 2 {
		t.Fatalf("a new authenticator: %v, requests %d hits %d", aerr, stats.Requests.Load(), stats.Hits.Load())
	}
	off, err := auth.New(auth.Options{Secret: []byte(secret), AnonRole: "web_anon", CacheMaxEntries: -1, CacheStats: &stats})
	if err != nil {
		t.Fatal(err)
	}
	if _, aerr := off.Authenticate(tok(1), now); aerr != nil || stats.Requests.Load() != 7 {
		t.Fatalf("no cache: %v, requests %d, want 7", aerr, stats.Requests.Load())
	}
}

func TestSecrets(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	rsaJWK := fmt.Sprintf(`{"kty":"RSA","kid":"k1","n":%q,"e":%q}`,
		enc.EncodeToString(rsaKey.N.Bytes()), enc.EncodeToString(big.NewInt(int64(rsaKey.E)).Bytes()))
	octJWK := fmt.Sprintf(`{"kty":"oct","k":%q,"alg":"HS256"}`, enc.EncodeToString([]byte(secret)))
	rsTok := "Bearer " + sign(t, jwt.SigningMethodRS256, jwt.MapClaims{"role": "a"}, rsaKey)
	hsTok := hs(t, jwt.MapClaims{"role": "a"})
	hs512Tok := "Bearer " + sign(t, jwt.SigningMethodHS512, jwt.MapClaims{"role": "a"}, []byte(secret))

	tests := []struct {
		name     string
		opts     auth.Options
		newErr   string
		header   string
		wantCode string // "" = accepted
	}{
		{name: "short secret", opts: auth.Options{Secret: []byte("too short")}, newErr: "at least 32 characters"},
		{name: "base64 secret", opts: auth.Options{Secret: []byte(base64.StdEncoding.EncodeToString([]byte(secret))), SecretIsBase64: true},
			header: hsTok},
		{name: "bad base64 secret", opts: auth.Options{Secret: []byte("!!!"), SecretIsBase64: true}, newErr: "base64"},
		{name: "oct JWK", opts: auth.Options{Secret: []byte(octJWK)}, header: hsTok},
		{name: "oct JWK pins its alg", opts: auth.Options{Secret: []byte(octJWK)}, header: hs512Tok, wantCode: "PGRST301"},
		{name: "RSA JWK", opts: auth.Options{Secret: []byte(rsaJWK)}, header: rsTok},
		{name: "JWKS", opts: auth.Options{Secret: []byte(`{"keys":[` + octJWK + `,` + rsaJWK + `]}`)}, header: rsTok},
		{name: "HMAC secret rejects RS256", opts: auth.Options{Secret: []byte(secret)}, header: rsTok, wantCode: "PGRST301"},
		{name: "bad role claim key", opts: auth.Options{Secret: []byte(secret), RoleClaimKey: "role"}, newErr: "jwt-role-claim-key"},
		{name: "PEM public key is not an HMAC secret", opts: auth.Options{Secret: []byte("-----BEGIN PUBLIC KEY-----\n" +
			"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----\n")},
			newErr: "PEM key is not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := auth.New(tc.opts)
			if tc.newErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.newErr) {
					t.Fatalf("New: got %v, want error containing %q", err, tc.newErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, aerr := a.Authenticate(tc.header, now)
			switch {
			case tc.wantCode == "" && aerr != nil:
				t.Fatalf("unexpected error %v", aerr)
			case tc.wantCode != "" && (aerr == nil || aerr.Code != tc.wantCode):
				t.Fatalf("got %v, want %s", aerr, tc.wantCode)
			}
		})
	}
}

func TestRoleClaimKeySyntax(t *testing.T) {
	claims := `{"role":"r","a":{"b":[{"c":"deep"}]},"x.y":{"role":"dotted"},"roles":["admin","pg_editor","viewer"]}`
	tests := []struct{ key, want string }{
		{".role", "r"},
		{".a.b[0].c", "deep"},
		{`."x.y".role`, "dotted"},
		{`.roles[?(@ == "viewer")]`, "viewer"},
		{`.roles[?(@ != "admin")]`, "pg_editor"},
		{`.roles[?(@ ==^ "ewer")]`, "viewer"},
		{`.roles[?(@ *== "edit")]`, "pg_editor"},
		{`.roles[?(@ == "none")]`, "web_anon"},
		{".a", `{"b":[{"c":"deep"}]}`},
		{".missing.role", "web_anon"},
		{"$.role", "r"},
		{"$.a.b[0].c", "deep"},
		{`$['x.y'].role`, "dotted"},
		{`$["x.y"]["role"]`, "dotted"},
		{"$.roles[2]", "viewer"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			a, err := auth.New(auth.Options{Secret: []byte(secret), AnonRole: "web_anon", RoleClaimKey: tc.key})
			if err != nil {
				t.Fatal(err)
			}
			res, aerr := a.Authenticate(raw(claims), now)
			if aerr != nil {
				t.Fatal(aerr)
			}
			if res.Role != tc.want {
				t.Fatalf("role %q, want %q", res.Role, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "role", ".", "[0]x", `.a[?(@ = "x")]`, `.a[?(@ == "x")].b`, `."unterminated`,
		"$", `$['x`, `$.roles[?@ == "x"]`} {
		if bad == "" {
			continue // empty means the default
		}
		if _, err := auth.New(auth.Options{RoleClaimKey: bad}); err == nil {
			t.Errorf("%q: parsed, want an error", bad)
		}
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	a, err := auth.New(auth.Options{Secret: []byte(secret), AnonRole: "web_anon"})
	if err != nil {
		b.Fatal(err)
	}
	h := hs(b, jwt.MapClaims{"role": "author", "exp": now.Unix() + 3600, "sub": "user-1"})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, aerr := a.Authenticate(h, now); aerr != nil {
				b.Fatal(aerr)
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		u, _ := auth.New(auth.Options{Secret: []byte(secret), AnonRole: "web_anon", CacheMaxEntries: -1})
		b.ReportAllocs()
		for b.Loop() {
			if _, aerr := u.Authenticate(h, now); aerr != nil {
				b.Fatal(aerr)
			}
		}
	})
	b.Run("cached-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, aerr := a.Authenticate(h, now); aerr != nil {
					b.Fatal(aerr)
				}
			}
		})
	})
	b.Run("anonymous", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a.Authenticate("", now)
		}
	})
}
