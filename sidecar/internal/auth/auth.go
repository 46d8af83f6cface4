// Package auth turns an Authorization header into a database role and JWT claims, as PostgREST does.
package auth

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pgway/pgway/internal/apierr"
)

// Options configure an Authenticator (PostgREST's jwt-* and db-anon-role settings).
type Options struct {
	// Secret is jwt-secret: a text secret (HMAC, at least 32 bytes), a JWK or a JWKS (JSON). Empty: no JWT support.
	Secret []byte
	// SecretIsBase64 is jwt-secret-is-base64: Secret is base64 (standard or URL alphabet) of the HMAC key.
	SecretIsBase64 bool
	// Audience is jwt-aud: when set, a token's aud claim must contain it.
	Audience string
	// RoleClaimKey is jwt-role-claim-key, e.g. `.role` (default), `.realm_access.roles[0]`, `."https://x".role`.
	RoleClaimKey string
	// AnonRole is db-anon-role; empty rejects requests without a role (PGRST302).
	AnonRole string
	// CacheMaxLifetime caps how long a verified token stays cached (0: until it expires).
	CacheMaxLifetime time.Duration
	// CacheMaxEntries bounds the verified-token cache (0: 1000, PostgREST's jwt-cache-max-entries default;
	// negative: no cache).
	CacheMaxEntries int
	// CacheStats, when set, counts the cache's lookups, hits and evictions.
	CacheStats *CacheStats
}

// Result is who a request runs as.
type Result struct {
	Role   string // database role to SET LOCAL ROLE to
	Claims []byte // the JWT claims JSON as received (nil for anonymous requests), for request.jwt.claims; shared, read-only
	// Authenticated is PostgREST's "authed": the role is not the anonymous role (a permission error is then 403, not 401).
	Authenticated bool
}

// Authenticator verifies bearer tokens. It is safe for concurrent use.
type Authenticator struct {
	keys     []key
	audience string
	path     claimPath
	anonRole string
	// anonClaims is request.jwt.claims without a token: {"role": anon role}, as PostgREST.
	anonClaims []byte
	cache      *cache
}

// New validates opts and builds an Authenticator.
func New(opts Options) (*Authenticator, error) {
	a := &Authenticator{audience: opts.Audience, anonRole: opts.AnonRole}
	if opts.AnonRole != "" {
		a.anonClaims = apierr.AppendJSONString([]byte(`{"role":`), opts.AnonRole)
		a.anonClaims = append(a.anonClaims, '}')
	}
	rk := opts.RoleClaimKey
	if rk == "" {
		rk = ".role"
	}
	p, err := parseClaimPath(rk)
	if err != nil {
		return nil, fmt.Errorf("jwt-role-claim-key: %w", err)
	}
	a.path = p
	if len(opts.Secret) > 0 {
		if a.keys, err = parseSecret(opts.Secret, opts.SecretIsBase64); err != nil {
			return nil, fmt.Errorf("jwt-secret: %w", err)
		}
	}
	if n := opts.CacheMaxEntries; n >= 0 && len(a.keys) > 0 {
		if n == 0 {
			n = 1000
		}
		a.cache = newCache(n, opts.CacheMaxLifetime, opts.CacheStats)
	}
	return a, nil
}

// Authenticate checks the raw Authorization header value at time now.
// No bearer token means the anonymous role; PostgREST's PGRST30x errors otherwise.
// authorization is not retained, so it may alias a buffer the caller reuses (e.g. fasthttp's header bytes).
func (a *Authenticator) Authenticate(authorization string, now time.Time) (Result, *apierr.Error) {
	tok, ok := bearer(authorization)
	if !ok {
		if a.anonRole == "" {
			return Result{}, apierr.New(http.StatusUnauthorized, "PGRST302", "Anonymous access is disabled").
				WithHeader("WWW-Authenticate", "Bearer")
		}
		return Result{Role: a.anonRole, Claims: a.anonClaims}, nil
	}
	if len(a.keys) == 0 {
		return Result{}, apierr.New(http.StatusInternalServerError, "PGRST300", "Server lacks JWT secret")
	}
	var t *token
	if a.cache != nil {
		t = a.cache.get(tok, now)
	}
	if t == nil {
		var err *apierr.Error
		if t, err = a.decode(tok); err != nil {
			return Result{}, err
		}
		if a.cache != nil {
			a.cache.put(tok, t, now)
		}
	}
	if msg := t.check(now.Unix(), a.audience); msg != "" {
		return Result{}, claimsErr(msg)
	}
	if !t.hasRole {
		if a.anonRole == "" {
			return Result{}, apierr.New(http.StatusUnauthorized, "PGRST302", "Anonymous access is disabled").
				WithHeader("WWW-Authenticate", "Bearer")
		}
		return Result{Role: a.anonRole, Claims: t.claims}, nil
	}
	if impossibleRole(t.role) {
		// PostgreSQL's answer for a role that does not exist, which this one cannot (401 as PostgREST maps it).
		return Result{}, apierr.New(http.StatusUnauthorized, "22023", `role "`+t.role+`" does not exist`).
			WithHeader("WWW-Authenticate", "Bearer")
	}
	return Result{Role: t.role, Claims: t.claims, Authenticated: t.role != a.anonRole}, nil
}

// impossibleRole tells a role claim no database role can have: "none", which set_config('role', …) takes as
// RESET ROLE — the request would run as the authenticator — and names with a NUL byte, which PostgreSQL
// rejects before looking the role up.
func impossibleRole(role string) bool {
	return role == "none" || strings.IndexByte(role, 0) >= 0
}

// bearer extracts the token of a "Bearer <token>" header (scheme case-insensitive), as wai's extractBearerAuth.
func bearer(h string) (string, bool) {
	i := 0
	for i < len(h) && !isSpace(h[i]) {
		i++
	}
	if !asciiEqualFold(h[:i], "bearer") {
		return "", false
	}
	for i < len(h) && isSpace(h[i]) {
		i++
	}
	return h[i:], true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func asciiEqualFold(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// decodeErr is PostgREST's JwtDecodeErr: PGRST301, 401, with an invalid_token challenge.
func decodeErr(msg, details string) *apierr.Error {
	e := apierr.New(http.StatusUnauthorized, "PGRST301", msg).WithHeader("WWW-Authenticate", challenge(msg))
	e.Details = details
	return e
}

// claimsErr is PostgREST's JwtClaimsErr: PGRST303, 401, with an invalid_token challenge.
func claimsErr(msg string) *apierr.Error {
	return apierr.New(http.StatusUnauthorized, "PGRST303", msg).WithHeader("WWW-Authenticate", challenge(msg))
}

// challenge is the WWW-Authenticate value; the description is quoted like Haskell's show.
func challenge(msg string) string {
	return `Bearer error="invalid_token", error_description=` + strconv.Quote(msg)
}

var b64 = base64.RawURLEncoding

// decodeSegment decodes one base64url JWT segment, tolerating padding.
func decodeSegment(s string) ([]byte, error) {
	return b64.DecodeString(strings.TrimRight(s, "="))
}
