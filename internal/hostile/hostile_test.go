package hostile

import "testing"

func TestUnescape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`plain`, "plain"}, {`a\nb\rc\td`, "a\nb\rc\td"}, {`nul\0`, "nul\x00"}, {`back\\slash`, `back\slash`},
		{`\x27;`, "';"}, {`\xZZ`, `\xZZ`}, {`\q`, `\q`}, {`end\`, `end\`},
	} {
		if got := Unescape(tc.in); got != tc.want {
			t.Errorf("Unescape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPayloads(t *testing.T) {
	p, err := Payloads("../../sidecar/testdata/hostile/payloads.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(p) < 150 {
		t.Errorf("%d payloads", len(p))
	}
}
