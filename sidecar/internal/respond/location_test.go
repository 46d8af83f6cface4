package respond_test

import (
	"testing"

	"github.com/pgway/pgway/sidecar/internal/respond"
)

func TestContentLocation(t *testing.T) {
	for _, tc := range []struct{ rel, q, want string }{
		{"no_pk", "b=eq.1&a=eq.1", "/no_pk?a=eq.1&b=eq.1"},
		{"simple_pk", "", "/simple_pk"},
		{"t", "select=id,name&id=in.(1,2)", "/t?id=in.%281%2C2%29&select=id%2Cname"},
		{"t", "a=1&b=2&a=3", "/t?a=1,3&b=2"},
		{"t", "name=eq.a+b&x=%C3%A9", "/t?name=eq.a%20b&x=%C3%A9"},
		{"t", "d", "/t?d="},
	} {
		if got := respond.ContentLocation(tc.rel, tc.q); got != tc.want {
			t.Errorf("%s?%s: %q, want %q", tc.rel, tc.q, got, tc.want)
		}
	}
}
