package auth_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pgway/pgway/sidecar/internal/auth"
)

// TestECJWK: EC JWKs of every supported curve verify their tokens, also with coordinates whose leading zero
// bytes were left out; a point off the curve verifies nothing.
func TestECJWK(t *testing.T) {
	enc := base64.RawURLEncoding
	for _, tc := range []struct {
		crv    string
		curve  elliptic.Curve
		method jwt.SigningMethod
	}{
		{"P-256", elliptic.P256(), jwt.SigningMethodES256},
		{"P-384", elliptic.P384(), jwt.SigningMethodES384},
		{"P-521", elliptic.P521(), jwt.SigningMethodES512},
	} {
		// A key whose x coordinate starts with a zero byte (1 in 256 for P-256 and P-384, 1 in 2 for P-521), so
		// that leaving leading zeros out makes a shorter coordinate.
		var priv *ecdsa.PrivateKey
		var point []byte // 0x04 || X || Y
		for i := 0; i < 10000 && (point == nil || point[1] != 0); i++ {
			var err error
			if priv, err = ecdsa.GenerateKey(tc.curve, rand.Reader); err != nil {
				t.Fatal(err)
			}
			if point, err = priv.PublicKey.Bytes(); err != nil {
				t.Fatal(err)
			}
		}
		size := (len(point) - 1) / 2
		x, y := point[1:1+size], point[1+size:]
		tok, err := jwt.NewWithClaims(tc.method, jwt.MapClaims{"role": "web_user"}).SignedString(priv)
		if err != nil {
			t.Fatal(err)
		}
		offCurve := append([]byte(nil), y...)
		offCurve[len(offCurve)-1] ^= 1
		for _, k := range []struct {
			name string
			x, y []byte
			ok   bool
		}{
			{"full-size coordinates", x, y, true},
			{"leading zeros left out", bytes.TrimLeft(x, "\x00"), bytes.TrimLeft(y, "\x00"), true},
			{"point off the curve", x, offCurve, false},
		} {
			jwk := fmt.Sprintf(`{"kty":"EC","crv":%q,"x":%q,"y":%q}`, tc.crv, enc.EncodeToString(k.x), enc.EncodeToString(k.y))
			a, err := auth.New(auth.Options{Secret: []byte(jwk), AnonRole: "web_anon"})
			if err != nil {
				t.Fatalf("%s %s: %v", tc.crv, k.name, err)
			}
			res, aerr := a.Authenticate("Bearer "+tok, time.Now())
			if ok := aerr == nil && res.Role == "web_user"; ok != k.ok {
				t.Errorf("%s %s: role %q, error %v; want ok=%v", tc.crv, k.name, res.Role, aerr, k.ok)
			}
		}
	}
}
