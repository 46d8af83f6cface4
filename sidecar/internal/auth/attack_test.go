package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pgway/pgway/sidecar/internal/auth"
)

// forge builds a compact JWS from a literal header and payload, signed with method and key (nil: empty signature).
func forge(t testing.TB, header, payload string, method jwt.SigningMethod, key any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	if method == nil {
		return "Bearer " + signing + "."
	}
	sig, err := method.Sign(signing, key)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + signing + "." + enc.EncodeToString(sig)
}

// TestNumericDateClaims: exp, nbf and iat must be JSON numbers, as PostgREST's aeson parser demands; a string
// holding digits is not one (it used to pass through json.Number and run as the token's role).
func TestNumericDateClaims(t *testing.T) {
	a, err := auth.New(auth.Options{Secret: []byte(secret), AnonRole: "web_anon"})
	if err != nil {
		t.Fatal(err)
	}
	for _, claim := range []string{"exp", "nbf", "iat"} {
		msg := "The JWT '" + claim + "' claim must be a number"
		for _, v := range []string{`"9999999999"`, `"1"`, `"-1"`, `"1e3"`, `""`, `true`, `false`, `[1]`, `{"n":1}`, `"0x10"`} {
			t.Run(claim+"="+v, func(t *testing.T) {
				for round := range 2 {
					_, aerr := a.Authenticate(raw(`{"role":"web_user","`+claim+`":`+v+`}`), now)
					if aerr == nil {
						t.Fatalf("round %d: accepted", round)
					}
					if aerr.Status != 401 || aerr.Code != "PGRST303" || aerr.Message != msg {
						t.Fatalf("round %d: got %d %s %q, want 401 PGRST303 %q", round, aerr.Status, aerr.Code, aerr.Message, msg)
					}
					if got := wwwAuth(aerr.Headers); got != challenge(msg) {
						t.Fatalf("round %d: WWW-Authenticate %q", round, got)
					}
				}
			})
		}
	}
	// Numbers of every JSON spelling still count; like PostgREST (Scientific's toBoundedInteger), a non-integer
	// is 0.
	for _, v := range []string{"9999999999", "9.999999999e9", "9999999999.5", "-0"} {
		_, aerr := a.Authenticate(raw(`{"role":"web_user","exp":`+v+`}`), now)
		if v == "-0" || strings.Contains(v, ".5") {
			if aerr == nil || aerr.Message != "JWT expired" {
				t.Errorf("exp %s: got %v, want JWT expired", v, aerr)
			}
			continue
		}
		if aerr != nil {
			t.Errorf("exp %s: %v", v, aerr)
		}
	}
}

// TestHeaderAttacks covers the JOSE header: crit (RFC 7515 §4.1.11), unsecured and unknown algorithms,
// parameters spelt in other cases, embedded keys and malformed values.
func TestHeaderAttacks(t *testing.T) {
	a, err := auth.New(auth.Options{Secret: []byte(secret), AnonRole: "web_anon"})
	if err != nil {
		t.Fatal(err)
	}
	claims := `{"role":"web_user"}`
	hs256 := jwt.SigningMethodHS256
	attacker, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	embedded := fmt.Sprintf(`{"alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":%q,"y":%q}}`,
		enc.EncodeToString(attacker.X.Bytes()), enc.EncodeToString(attacker.Y.Bytes()))
	const crit = "Unsupported token type"
	const badAlg = "Wrong or unsupported encoding algorithm"
	const noKey = "No suitable key or wrong key type"
	const crypto = "JWT cryptographic operation failed"
	tests := []struct {
		name, header string
		method       jwt.SigningMethod
		key          any
		message      string // "" = accepted
	}{
		{"plain header is accepted", `{"alg":"HS256","typ":"JWT"}`, hs256, []byte(secret), ""},
		{"crit with an extension", `{"alg":"HS256","crit":["exp"],"exp":1}`, hs256, []byte(secret), crit},
		{"crit b64", `{"alg":"HS256","b64":false,"crit":["b64"]}`, hs256, []byte(secret), crit},
		{"crit empty", `{"alg":"HS256","crit":[]}`, hs256, []byte(secret), crit},
		{"crit null", `{"alg":"HS256","crit":null}`, hs256, []byte(secret), crit},
		{"crit not an array", `{"alg":"HS256","crit":"x"}`, hs256, []byte(secret), crit},
		{"crit with a bad signature", `{"alg":"HS256","crit":["x"]}`, hs256, []byte("wrong secret wrong secret wrong secret"), crit},
		{"Crit in another case is just an unknown parameter", `{"alg":"HS256","Crit":["x"]}`, hs256, []byte(secret), ""},
		{"alg none", `{"alg":"none"}`, nil, nil, badAlg},
		{"alg None", `{"alg":"None"}`, nil, nil, badAlg},
		{"alg NONE signed", `{"alg":"NONE"}`, hs256, []byte(secret), badAlg},
		{"alg missing", `{"typ":"JWT"}`, hs256, []byte(secret), badAlg},
		{"alg empty", `{"alg":""}`, hs256, []byte(secret), badAlg},
		{"alg hs256 lower case", `{"alg":"hs256"}`, hs256, []byte(secret), badAlg},
		{"alg not a string", `{"alg":256}`, hs256, []byte(secret), crypto},
		{"ALG none beside alg HS256 counts for nothing", `{"ALG":"none","alg":"HS256"}`, hs256, []byte(secret), ""},
		{"alg none after alg HS256: the last one counts", `{"alg":"HS256","alg":"none"}`, hs256, []byte(secret), badAlg},
		{"header not an object", `["HS256"]`, hs256, []byte(secret), crypto},
		{"header null", `null`, hs256, []byte(secret), crypto},
		{"kid not a string", `{"alg":"HS256","kid":1}`, hs256, []byte(secret), crypto},
		{"kid path traversal is only a name", `{"alg":"HS256","kid":"../../../../dev/null"}`, hs256, []byte(secret), ""},
		{"kid path traversal with an empty key", `{"alg":"HS256","kid":"../../../../dev/null"}`, hs256, []byte{}, noKey},
		{"embedded jwk is not trusted", embedded, jwt.SigningMethodES256, attacker, noKey},
		{"jku is not fetched", `{"alg":"HS256","jku":"http://127.0.0.1:1/keys"}`, hs256, []byte("wrong secret wrong secret wrong secret"), noKey},
		{"empty signature", `{"alg":"HS256"}`, nil, nil, noKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := forge(t, tc.header, claims, tc.method, tc.key)
			res, aerr := a.Authenticate(h, now)
			if tc.message == "" {
				if aerr != nil || res.Role != "web_user" {
					t.Fatalf("got %+v %v, want web_user", res, aerr)
				}
				return
			}
			if aerr == nil {
				t.Fatalf("accepted as %q", res.Role)
			}
			if aerr.Status != 401 || aerr.Code != "PGRST301" || aerr.Message != tc.message {
				t.Fatalf("got %d %s %q (%s), want 401 PGRST301 %q", aerr.Status, aerr.Code, aerr.Message, aerr.Details, tc.message)
			}
			if got := wwwAuth(aerr.Headers); got != challenge(tc.message) {
				t.Fatalf("WWW-Authenticate %q", got)
			}
		})
	}
}

// TestKeyConfusion: with public keys configured, a token must not pass by choosing an algorithm whose key is
// something the attacker knows (HS256 keyed with the RSA public key, in any encoding), and kid must not let a
// key verify tokens of another family.
func TestKeyConfusion(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	rsaJWK := fmt.Sprintf(`{"kty":"RSA","kid":"rsa","n":%q,"e":%q}`,
		enc.EncodeToString(rsaKey.N.Bytes()), enc.EncodeToString(big.NewInt(int64(rsaKey.E)).Bytes()))
	ecJWK := fmt.Sprintf(`{"kty":"EC","kid":"ec","crv":"P-256","x":%q,"y":%q}`,
		enc.EncodeToString(ecKey.X.Bytes()), enc.EncodeToString(ecKey.Y.Bytes()))
	octJWK := fmt.Sprintf(`{"kty":"oct","kid":"oct","k":%q}`, enc.EncodeToString([]byte(secret)))
	jwks := `{"keys":[` + rsaJWK + `,` + ecJWK + `,` + octJWK + `]}`
	a, err := auth.New(auth.Options{Secret: []byte(jwks), AnonRole: "web_anon"})
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	pkcs1 := x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)
	ecDER, err := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	claims := `{"role":"web_user"}`
	tests := []struct {
		name, header string
		method       jwt.SigningMethod
		key          any
		ok           bool
	}{
		{"RS256 with the private key", `{"alg":"RS256","kid":"rsa"}`, jwt.SigningMethodRS256, rsaKey, true},
		{"ES256 with the private key", `{"alg":"ES256"}`, jwt.SigningMethodES256, ecKey, true},
		{"HS256 with the oct key", `{"alg":"HS256","kid":"oct"}`, jwt.SigningMethodHS256, []byte(secret), true},
		{"HS256 keyed with the RSA public key PEM", `{"alg":"HS256"}`, jwt.SigningMethodHS256, pemKey, false},
		{"HS256 keyed with the RSA public key DER", `{"alg":"HS256"}`, jwt.SigningMethodHS256, der, false},
		{"HS256 keyed with the RSA public key PKCS1", `{"alg":"HS256"}`, jwt.SigningMethodHS256, pkcs1, false},
		{"HS256 keyed with the RSA modulus", `{"alg":"HS256"}`, jwt.SigningMethodHS256, rsaKey.N.Bytes(), false},
		{"HS256 keyed with the RSA JWK text", `{"alg":"HS256","kid":"rsa"}`, jwt.SigningMethodHS256, []byte(rsaJWK), false},
		{"HS256 keyed with the EC public key DER", `{"alg":"HS256","kid":"ec"}`, jwt.SigningMethodHS256, ecDER, false},
		{"HS512 keyed with the JWKS text", `{"alg":"HS512"}`, jwt.SigningMethodHS512, []byte(jwks), false},
		{"oct key under the RSA kid", `{"alg":"HS256","kid":"rsa"}`, jwt.SigningMethodHS256, []byte(secret), false},
		{"RS256 under the oct kid", `{"alg":"RS256","kid":"oct"}`, jwt.SigningMethodRS256, rsaKey, false},
		{"PS256 with the RSA key", `{"alg":"PS256"}`, jwt.SigningMethodPS256, rsaKey, true},
		{"RS256 with an empty signature", `{"alg":"RS256"}`, nil, nil, false},
		{"ES256 with an empty signature", `{"alg":"ES256"}`, nil, nil, false},
		{"EdDSA with an empty signature", `{"alg":"EdDSA"}`, nil, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, aerr := a.Authenticate(forge(t, tc.header, claims, tc.method, tc.key), now)
			if tc.ok {
				if aerr != nil || res.Role != "web_user" {
					t.Fatalf("got %+v %v, want web_user", res, aerr)
				}
				return
			}
			if aerr == nil {
				t.Fatalf("accepted as %q", res.Role)
			}
			if aerr.Status != 401 || aerr.Code != "PGRST301" || wwwAuth(aerr.Headers) == "" {
				t.Fatalf("got %d %s %q, want 401 PGRST301 with a challenge", aerr.Status, aerr.Code, aerr.Message)
			}
		})
	}
}

// TestOddTokens: oversized and deeply nested tokens and role claims of every JSON type end in a role or a 401,
// never a panic. A non-string role is its JSON text, as PostgREST (PostgreSQL then finds no such role: 401).
func TestOddTokens(t *testing.T) {
	a, err := auth.New(auth.Options{Secret: []byte(secret), AnonRole: "web_anon"})
	if err != nil {
		t.Fatal(err)
	}
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	tests := []struct {
		name, payload, role, code string
	}{
		{"role number", `{"role":12}`, "12", ""},
		{"role float", `{"role":1.5e3}`, "1.5e3", ""},
		{"role object", `{"role":{"name":"web_user"}}`, `{"name":"web_user"}`, ""},
		{"role array", `{"role":["web_user"]}`, `["web_user"]`, ""},
		{"role bool", `{"role":true}`, "true", ""},
		{"role null", `{"role":null}`, "null", ""},
		{"role empty string", `{"role":""}`, "", ""},
		{"role with spaces is compacted", `{"role":[ "a" , 1 ]}`, `["a",1]`, ""},
		{"duplicate role: the last one counts", `{"role":"web_anon","role":"web_user"}`, "web_user", ""},
		{"deeply nested role", `{"role":` + deep + `}`, "", "PGRST303"},
		{"deeply nested other claim", `{"role":"web_user","x":` + deep + `}`, "", "PGRST303"},
		{"huge payload", `{"role":"web_user","pad":"` + strings.Repeat("x", 1<<20) + `"}`, "web_user", ""},
		{"trailing data", `{"role":"web_user"} {"role":"postgres"}`, "", "PGRST303"},
		{"invalid UTF-8 is replaced", "{\"role\":\"web\xffuser\"}", "web\uFFFDuser", ""},
		{"role none would reset to the authenticator", `{"role":"none"}`, "", "22023"},
		{"role with a NUL byte", `{"role":"web_user\u0000"}`, "", "22023"},
		{"role None is just a name", `{"role":"None"}`, "None", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, aerr := a.Authenticate(raw(tc.payload), now)
			if tc.code != "" {
				if aerr == nil || aerr.Code != tc.code || aerr.Status != 401 {
					t.Fatalf("got %+v %v, want 401 %s", res, aerr, tc.code)
				}
				return
			}
			if aerr != nil {
				t.Fatal(aerr)
			}
			if res.Role != tc.role {
				t.Fatalf("role %q, want %q", res.Role, tc.role)
			}
		})
	}
}

func wwwAuth(headers [][2]string) string {
	for _, h := range headers {
		if h[0] == "WWW-Authenticate" {
			return h[1]
		}
	}
	return ""
}
