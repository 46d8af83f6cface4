package versioning_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/pgway/pgway/versioning"
)

func TestSplitPath(t *testing.T) {
	for _, tc := range []struct {
		path, ver, rest string
		ok              bool
	}{
		{"/v1/books", "v1", "/books", true},
		{"/v12", "v12", "/", true},
		{"/v2/rpc/fn", "v2", "/rpc/fn", true},
		{"/books", "", "", false},
		{"/vx/books", "", "", false},
		{"/v/books", "", "", false},
		{"/v-1/books", "", "", false},
		{"/", "", "", false},
	} {
		ver, rest, ok := versioning.SplitPath(tc.path)
		if ver != tc.ver || rest != tc.rest || ok != tc.ok {
			t.Errorf("SplitPath(%q) = %q %q %v, want %q %q %v", tc.path, ver, rest, ok, tc.ver, tc.rest, tc.ok)
		}
	}
}

func TestHeaders(t *testing.T) {
	dep := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sun := time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
	c := versioning.New([]versioning.Version{
		{Name: "v1", Schema: "api_v1", Status: versioning.StatusDeprecated, DeprecatedAt: dep, SunsetAt: sun, Successor: "v2"},
		{Name: "v2", Schema: "api_v2", Status: versioning.StatusCurrent},
	})
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	v1, _ := c.ByName("v1")
	got := c.Headers(v1, now, "/books")
	want := [][2]string{{"Deprecation", "@1767225600"}, {"Sunset", "Wed, 30 Jun 2027 00:00:00 GMT"},
		{"Link", `</v2/books>; rel="successor-version"`}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("headers %v, want %v", got, want)
	}
	if v1.Gone(now) || !v1.Gone(sun) {
		t.Fatal("Gone: wrong around the sunset date")
	}
	v2, _ := c.BySchema("api_v2")
	if h := c.Headers(v2, now, "/books"); h != nil {
		t.Fatalf("current version has headers %v", h)
	}
	if cur, ok := c.Current(); !ok || cur.Name != "v2" {
		t.Fatalf("Current = %v", cur)
	}
	if c.SchemaFor("v9") != "api_v9" || c.SchemaFor("v1") != "api_v1" {
		t.Fatal("SchemaFor")
	}
}
