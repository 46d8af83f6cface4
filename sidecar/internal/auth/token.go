package auth

import (
	"bytes"
	"encoding/json"
	"math/big"
	"strconv"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pgway/pgway/internal/apierr"
)

// token is a verified JWT: its claims, the parts validated per request, and its role.
type token struct {
	claims        []byte
	exp, nbf, iat numClaim
	aud           audClaim
	role          string
	hasRole       bool
	parseFailed   bool // payload is not a JSON object ("Parsing claims failed")
}

// numClaim is a NumericDate claim: absent/null, not a number, or its integer value (PostgREST: non-integers are 0).
type numClaim struct {
	present, bad bool
	v            int64
}

// audClaim is the aud claim: absent/null, a string, an array of strings, or something else (bad).
type audClaim struct {
	present, bad bool
	values       []string
}

// check validates the time and audience claims in PostgREST's order with its 30 s clock skew,
// returning the error message or "".
func (t *token) check(now int64, audience string) string {
	const skew = 30
	if t.parseFailed {
		return "Parsing claims failed"
	}
	switch {
	case t.exp.bad:
		return "The JWT 'exp' claim must be a number"
	case t.exp.present && now-skew > t.exp.v:
		return "JWT expired"
	case t.nbf.bad:
		return "The JWT 'nbf' claim must be a number"
	case t.nbf.present && now+skew < t.nbf.v:
		return "JWT not yet valid"
	case t.iat.bad:
		return "The JWT 'iat' claim must be a number"
	case t.iat.present && now+skew < t.iat.v:
		return "JWT issued at future"
	case t.aud.bad:
		return "The JWT 'aud' claim must be a string or an array of strings"
	case t.aud.present && audience != "" && !audMatches(t.aud.values, audience):
		return "JWT not in audience"
	}
	return ""
}

// audMatches is PostgREST's rule: a string must equal the audience; an array must be empty or contain it.
func audMatches(vals []string, audience string) bool {
	if vals == nil {
		return true // empty array
	}
	for _, v := range vals {
		if v == audience {
			return true
		}
	}
	return false
}

// decode verifies a compact JWS and extracts its claims.
func (a *Authenticator) decode(tok string) (*token, *apierr.Error) {
	if tok == "" {
		return nil, decodeErr("Empty JWT is sent in Authorization header", "")
	}
	if n := strings.Count(tok, ".") + 1; n != 3 {
		return nil, decodeErr("Expected 3 parts in JWT; got "+strconv.Itoa(n), "")
	}
	i := strings.IndexByte(tok, '.')
	j := i + 1 + strings.IndexByte(tok[i+1:], '.')
	hdrRaw, err := decodeSegment(tok[:i])
	if err != nil {
		return nil, cryptoErr()
	}
	hdr, ok := parseHeader(hdrRaw)
	if !ok {
		return nil, cryptoErr()
	}
	sig, err := decodeSegment(tok[j+1:])
	if err != nil {
		return nil, cryptoErr()
	}
	if hdr.crit {
		// RFC 7515 §4.1.11: a recipient must reject a JWS whose crit names an extension it does not understand,
		// and pgway understands none.
		return nil, decodeErr("Unsupported token type", "The JWT header's 'crit' parameter names extensions pgway does not support")
	}
	if hdr.alg == "none" {
		return nil, decodeErr("Wrong or unsupported encoding algorithm", "JWT is unsecured but expected 'alg' was not 'none'")
	}
	method := jwt.GetSigningMethod(hdr.alg)
	if method == nil || method == jwt.SigningMethodNone {
		return nil, decodeErr("Wrong or unsupported encoding algorithm", "Unsupported algorithm: "+hdr.alg)
	}
	if !a.verify(method, hdr.kid, tok[:j], sig) {
		return nil, decodeErr("No suitable key or wrong key type", "None of the keys was able to decode the JWT")
	}
	payload, err := decodeSegment(tok[i+1 : j])
	if err != nil {
		return nil, cryptoErr()
	}
	return a.parseClaims(payload), nil
}

func cryptoErr() *apierr.Error { return decodeErr("JWT cryptographic operation failed", "") }

// header is the part of a JOSE header pgway reads.
type header struct {
	alg, kid string
	crit     bool // a crit parameter is present
}

// parseHeader reads the JOSE header. Parameter names are matched exactly (encoding/json's struct decoding would
// also take "ALG" or "Crit"); alg and kid must be strings when present; the last of duplicate names counts.
func parseHeader(b []byte) (header, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return header{}, false
	}
	var h header
	if raw, ok := m["alg"]; ok && !isNull(raw) && json.Unmarshal(raw, &h.alg) != nil {
		return header{}, false
	}
	if raw, ok := m["kid"]; ok && !isNull(raw) && json.Unmarshal(raw, &h.kid) != nil {
		return header{}, false
	}
	_, h.crit = m["crit"]
	return h, true
}

// verify tries every key usable with the token's algorithm (and kid, when both name one).
func (a *Authenticator) verify(m jwt.SigningMethod, kid, signing string, sig []byte) bool {
	alg := m.Alg()
	for _, k := range a.keys {
		if !k.accepts(alg) || (kid != "" && k.kid != "" && kid != k.kid) {
			continue
		}
		if m.Verify(signing, sig, k.material) == nil {
			return true
		}
	}
	return false
}

// parseClaims reads the claims PostgREST validates and the role; the payload is kept verbatim.
func (a *Authenticator) parseClaims(payload []byte) *token {
	t := &token{claims: payload}
	var obj map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(payload))
	if err := d.Decode(&obj); err != nil || obj == nil || d.More() {
		t.parseFailed = true
		return t
	}
	t.exp = numeric(obj["exp"])
	t.nbf = numeric(obj["nbf"])
	t.iat = numeric(obj["iat"])
	t.aud = audience(obj["aud"])
	if v, ok := a.path.eval(obj); ok {
		t.role, t.hasRole = roleText(v), true
	}
	return t
}

func isNull(raw json.RawMessage) bool { return raw == nil || string(raw) == "null" }

func numeric(raw json.RawMessage) numClaim {
	if isNull(raw) {
		return numClaim{}
	}
	// Only a JSON number: json.Number would also take a string holding one ("exp": "9999999999").
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return numClaim{present: true, bad: true}
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return numClaim{present: true, bad: true}
	}
	if v, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return numClaim{present: true, v: v}
	}
	// 1e9 and friends: an integer in range keeps its value; anything else is 0, like Scientific's toBoundedInteger.
	r, ok := new(big.Rat).SetString(string(n))
	if ok && r.IsInt() && r.Num().IsInt64() {
		return numClaim{present: true, v: r.Num().Int64()}
	}
	return numClaim{present: true}
}

func audience(raw json.RawMessage) audClaim {
	if isNull(raw) {
		return audClaim{}
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return audClaim{present: true, values: []string{s}}
	}
	var arr []string
	if json.Unmarshal(raw, &arr) == nil && arr != nil {
		if len(arr) == 0 {
			return audClaim{present: true}
		}
		return audClaim{present: true, values: arr}
	}
	return audClaim{present: true, bad: true}
}

// roleText is a string claim's text, or any other JSON value's compact encoding (PostgREST's unquoted).
func roleText(v json.RawMessage) string {
	var s string
	if !isNull(v) && json.Unmarshal(v, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, v) == nil {
		return buf.String()
	}
	return string(v)
}
