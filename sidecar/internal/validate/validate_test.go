package validate

import (
	"encoding/json"
	"testing"

	"github.com/pgway/pgway/internal/schemacache"
)

func TestParsers(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func(string) bool
		ok   []string
		bad  []string
	}{
		{"int32", func(v string) bool { return parseInt(v, 32) }, []string{"1", " -2 ", "+3", "2147483647", "0x1F"}, []string{"", "1.5", "abc", "2147483648", "1e3", "null"}},
		{"int16", func(v string) bool { return parseInt(v, 16) }, []string{"32767"}, []string{"32768"}},
		{"number", parseNumber, []string{"1", "-1.5", ".5", "5.", "1e400", "NaN", "-Infinity", " 2 "}, []string{"", "abc", "1,5", "1.2.3"}},
		{"bool", parseBool, []string{"t", "TRUE", "fa", "yes", "n", "on", "off", "1", "0", " true "}, []string{"", "maybe", "2", "o", "truee"}},
		{"uuid", parseUUID, []string{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "A0EEBC999C0B4EF8BB6D6BB9BD380A11", "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}"},
			[]string{"", "123", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11"}},
	} {
		for _, v := range tc.ok {
			if !tc.fn(v) {
				t.Errorf("%s(%q) rejected", tc.name, v)
			}
		}
		for _, v := range tc.bad {
			if tc.fn(v) {
				t.Errorf("%s(%q) accepted", tc.name, v)
			}
		}
	}
}

// TestVarcharLength: varchar(n) rejects a longer value (22001) unless the excess is only spaces, which
// PostgreSQL truncates.
func TestVarcharLength(t *testing.T) {
	col := compileColumn(&schemacache.Column{Name: "v", Type: "character varying(3)", BaseType: "character varying", MaxLength: 3})
	for v, ok := range map[string]bool{"abc": true, "😀😀😀": true, "ab   ": true, "abc ": true, "abcd": false, "a b c": false, "ab  c": false} {
		var p Problems
		col.checkJSON(v, loc{kind: locBody, name: "v"}, &p)
		if err := p.Err(); (err == nil) != ok {
			t.Errorf("%q: %v, want ok=%v", v, err, ok)
		}
	}
	// Numbers and booleans are stored as their text.
	for _, tc := range []struct {
		v  any
		ok bool
	}{{json.Number("123"), true}, {json.Number("1234"), false}, {json.Number("1e10"), false}, {true, false}, {false, false}} {
		var p Problems
		col.checkJSON(tc.v, loc{kind: locBody, name: "v"}, &p)
		if err := p.Err(); (err == nil) != tc.ok {
			t.Errorf("%v: %v, want ok=%v", tc.v, err, tc.ok)
		}
	}
}
