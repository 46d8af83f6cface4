package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// key is one verification key: HMAC bytes, *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey.
type key struct {
	kid      string
	alg      string // the JWK's alg; "" accepts any algorithm of the key's family
	family   string // "HS", "RS" (also PS), "ES", "EdDSA"
	material any
}

// accepts tells whether the key can verify tokens signed with alg.
func (k key) accepts(alg string) bool {
	if k.alg != "" {
		return k.alg == alg
	}
	switch k.family {
	case "HS":
		return alg == "HS256" || alg == "HS384" || alg == "HS512"
	case "RS":
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case "ES":
		return strings.HasPrefix(alg, "ES")
	case "EdDSA":
		return alg == "EdDSA"
	}
	return false
}

// parseSecret reads jwt-secret as PostgREST does: a JWKS, else a JWK, else a text (HMAC) secret of ≥ 32 bytes.
func parseSecret(secret []byte, isBase64 bool) ([]key, error) {
	if isBase64 {
		s := strings.TrimRight(strings.TrimSpace(string(secret)), "=")
		s = strings.NewReplacer("-", "+", "_", "/").Replace(s)
		b, err := base64.RawStdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("decoding base64 secret: %w", err)
		}
		return hmacKey(b)
	}
	trimmed := strings.TrimSpace(string(secret))
	if strings.HasPrefix(trimmed, "-----BEGIN ") {
		// PostgREST would take a PEM key as an HMAC secret: anyone holding the public key could then sign
		// HS256 tokens. Asymmetric keys are given as a JWK or JWKS.
		return nil, errors.New("a PEM key is not supported: give a public key as a JWK or JWKS " +
			"(as text it would be an HMAC secret, and anyone with the public key could sign tokens)")
	}
	if strings.HasPrefix(trimmed, "{") {
		var set struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal([]byte(trimmed), &set); err == nil && set.Keys != nil {
			keys := make([]key, 0, len(set.Keys))
			for i, raw := range set.Keys {
				k, err := parseJWK(raw)
				if err != nil {
					return nil, fmt.Errorf("JWKS key %d: %w", i, err)
				}
				keys = append(keys, k)
			}
			return keys, nil
		}
		if k, err := parseJWK([]byte(trimmed)); err == nil {
			return []key{k}, nil
		}
	}
	return hmacKey(secret)
}

func hmacKey(b []byte) ([]key, error) {
	if len(b) < 32 {
		//lint:ignore ST1005 PostgREST's message, word for word
		return nil, errors.New("The JWT secret must be at least 32 characters long.")
	}
	return []key{{family: "HS", material: b}}, nil
}

// jwk is the subset of RFC 7517/7518 members pgway reads.
type jwk struct {
	Kty, Kid, Alg, Use, Crv string
	K, N, E, X, Y           string
}

func parseJWK(raw []byte) (key, error) {
	var j jwk
	if err := json.Unmarshal(raw, &j); err != nil {
		return key{}, fmt.Errorf("parsing JWK: %w", err)
	}
	if j.Use != "" && j.Use != "sig" {
		return key{}, fmt.Errorf("JWK use %q is not sig", j.Use)
	}
	k := key{kid: j.Kid, alg: j.Alg}
	b := func(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "=")) }
	switch j.Kty {
	case "oct":
		secret, err := b(j.K)
		if err != nil || len(secret) == 0 {
			return key{}, errors.New("JWK oct: bad k")
		}
		k.family, k.material = "HS", secret
	case "RSA":
		n, err1 := b(j.N)
		e, err2 := b(j.E)
		if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return key{}, errors.New("JWK RSA: bad n or e")
		}
		k.family = "RS"
		k.material = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	case "EC":
		var curve elliptic.Curve
		switch j.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return key{}, fmt.Errorf("JWK EC: unsupported curve %q", j.Crv)
		}
		x, err1 := b(j.X)
		y, err2 := b(j.Y)
		size := (curve.Params().BitSize + 7) / 8
		if err1 != nil || err2 != nil || len(x) > size || len(y) > size {
			return key{}, errors.New("JWK EC: bad x or y")
		}
		// The uncompressed point 0x04 || X || Y, each coordinate left-padded to the curve's size.
		point := make([]byte, 1+2*size)
		point[0] = 4
		copy(point[1+size-len(x):1+size], x)
		copy(point[1+2*size-len(y):], y)
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return key{}, fmt.Errorf("JWK EC: %w", err)
		}
		k.family, k.material = "ES", pub
	case "OKP":
		x, err := b(j.X)
		if j.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return key{}, errors.New("JWK OKP: only Ed25519 public keys are supported")
		}
		k.family, k.material = "EdDSA", ed25519.PublicKey(x)
	default:
		return key{}, fmt.Errorf("JWK: unsupported kty %q", j.Kty)
	}
	return k, nil
}
