package openapi

import (
	"encoding/json"
	"testing"
)

// appendStringCases are strings whose quoting has a special case.
var appendStringCases = []string{"", "plain", `quote " backslash \ slash /`, "<pk/> & <fk table='a'/>", "tab\tnl\ncr\rbs\bff\f",
	"\x00\x01\x1f\x7f", "é ü 漢字 😀", "line\u2028para\u2029", "bad \xff utf8 \xc3", "`tick` ~ → …"}

// TestAppendString: strings are quoted exactly as encoding/json quotes them.
func TestAppendString(t *testing.T) {
	for _, s := range appendStringCases {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range appendStringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
	})
}

func BenchmarkAppendString(b *testing.B) {
	s := "Filter on `name` (text). See the operators in the document's description: `eq.5`, `in.(1,2)`, `is.null`."
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = appendString(buf[:0], s)
	}
}
