package auth_test

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pgway/pgway/sidecar/internal/auth"
)

// FuzzAuthenticate feeds arbitrary Authorization headers: never a panic, and every failure is a 401: PGRST30x,
// or 22023 for a role claim no role can have.
func FuzzAuthenticate(f *testing.F) {
	for _, s := range []string{"", "Bearer", "Bearer ", "Basic x", "Bearer a.b.c", "Bearer ..", "Bearer e30.e30.e30",
		hs(f, jwt.MapClaims{"role": "a", "exp": 1}), raw(`{"aud":[1]}`), raw(`null`), raw(`{"role":{"x":[1]}}`), raw(`{"role":"none"}`)} {
		f.Add(s)
	}
	a, err := auth.New(auth.Options{Secret: []byte(secret), AnonRole: "web_anon", RoleClaimKey: `.role[?(@ == "x")]`})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, h string) {
		_, aerr := a.Authenticate(h, now)
		if aerr != nil && (aerr.Status != 401 || aerr.Code != "22023" && (len(aerr.Code) != 8 || aerr.Code[:6] != "PGRST3")) {
			t.Fatalf("%q: unexpected error %d %s", h, aerr.Status, aerr.Code)
		}
	})
}
