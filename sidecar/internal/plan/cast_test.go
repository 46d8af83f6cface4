package plan_test

import (
	"testing"

	"github.com/pgway/pgway/sidecar/internal/plan"
)

func TestCastType(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"text", "text", true},
		{"INT4", "int4", true},
		{"double precision", "double precision", true},
		{"text[]", "text[]", true},
		{"int8 from pg_authid", "", false},
		{"text;drop", "", false},
		{"1abc", "", false},
		{"", "", false},
		{`"text"`, "", false},
	} {
		got, ok := plan.CastType(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("CastType(%q) = %q,%v want %q,%v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
