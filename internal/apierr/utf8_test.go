package apierr_test

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/pgway/pgway/internal/apierr"
)

// TestJSONInvalidUTF8: whatever bytes a request echoed into an error, the body is valid UTF-8 JSON, invalid
// bytes becoming U+FFFD one for one (as encoding/json does).
func TestJSONInvalidUTF8(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"ascii", `a"b\c`, `"a\"b\\c"`},
		{"controls", "a\x00b\x1f\n\r\t", `"a\u0000b\u001f\n\r\t"`},
		{"valid multibyte", "Éclair ☃ 😀", `"Éclair ☃ 😀"`},
		{"lone bytes", "\xff\xfe", "\"\uFFFD\uFFFD\""},
		{"truncated sequence", "a\xe2\x98", "\"a\uFFFD\uFFFD\""},
		{"overlong encoding", "\xc0\xaf", "\"\uFFFD\uFFFD\""},
		{"surrogate half", "\xed\xa0\x80", "\"\uFFFD\uFFFD\uFFFD\""},
		{"mixed", "api.\xff\xfe's", "\"api.\uFFFD\uFFFD's\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := string(apierr.AppendJSONString(nil, tc.in))
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			e := apierr.New(404, "PGRST205", "Could not find the table '"+tc.in+"'").WithDetails(tc.in).WithHint(tc.in)
			if b := e.JSON(); !utf8.Valid(b) || !json.Valid(b) {
				t.Errorf("error body is not valid UTF-8 JSON: %q", b)
			}
		})
	}
}

// FuzzAppendJSONString: the output is valid JSON that decodes to what encoding/json makes of the same bytes.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "abc", "\xff", "a\x00\"\\", "Éclair", "\xed\xa0\x80", "\xf4\x90\x80\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := apierr.AppendJSONString(nil, s)
		if !utf8.Valid(b) || !json.Valid(b) {
			t.Fatalf("invalid JSON %q for %q", b, s)
		}
		var got, want string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		std, _ := json.Marshal(s)
		if err := json.Unmarshal(std, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("decodes to %q, encoding/json gives %q", got, want)
		}
	})
}
