package main

import (
	"strings"
	"testing"
)

// feed writes s to v in pieces of n bytes.
func feed(v validator, s string, n int) (int64, error) {
	for len(s) > 0 {
		k := min(n, len(s))
		if err := v.Write([]byte(s[:k])); err != nil {
			return 0, err
		}
		s = s[k:]
	}
	return v.Finish()
}

func TestJSONArrayCounter(t *testing.T) {
	cases := []struct {
		in    string
		count int64
		ok    bool
	}{
		{`[]`, 0, true},
		{" [ ] \n", 0, true},
		{`[{"id":1,"name":"a \"b\" ]}[,","meta":{"x":[1,2,{"y":null}]}}]`, 1, true},
		{"[{\"id\": 1},\n {\"id\": 2}, {\"s\":\"\\\\\"}]", 3, true},
		{`[1, -2.5e3, true, null, "x", [], {}]`, 7, true},
		{`[{"id":1},]`, 0, false},
		{`[{"id":1}`, 0, false},
		{`[{"id":1}}]`, 0, false},
		{`[{"id":01}]`, 0, false},
		{`[{"id":1} {"id":2}]`, 0, false},
		{`{"id":1}`, 0, false},
		{`[tru]`, 0, false},
		{`[{"a":"unterminated]`, 0, false},
		{`[] x`, 0, false},
	}
	for _, c := range cases {
		for n := 1; n <= len(c.in); n++ {
			got, err := feed(&jsonArrayCounter{}, c.in, n)
			if c.ok && (err != nil || got != c.count) {
				t.Fatalf("%q in %d-byte pieces: %d, %v; want %d", c.in, n, got, err, c.count)
			}
			if !c.ok && err == nil {
				t.Fatalf("%q in %d-byte pieces: accepted (%d elements)", c.in, n, got)
			}
		}
	}
}

func TestCSVCounter(t *testing.T) {
	cases := []struct {
		in    string
		count int64
		ok    bool
	}{
		{"id,name\n", 0, true},
		{"id,name\n1,a\n2,b\n", 2, true},
		{"id,name\r\n1,a\r\n2,b", 2, true},
		{"id,meta\n1,\"{\"\"a\"\": 1, \"\"b\"\": [2, 3]}\"\n2,\"x\ny\"\n", 2, true},
		{"id,name\n1,a,extra\n", 0, false},
		{"id,name\n1\n", 0, false},
		{"id,name\n1,\"open\n", 0, false},
		{"", 0, false},
	}
	for _, c := range cases {
		for n := 1; n <= max(len(c.in), 1); n++ {
			got, err := feed(&csvCounter{}, c.in, n)
			if c.ok && (err != nil || got != c.count) {
				t.Fatalf("%q in %d-byte pieces: %d, %v; want %d", c.in, n, got, err, c.count)
			}
			if !c.ok && err == nil {
				t.Fatalf("%q in %d-byte pieces: accepted (%d records)", c.in, n, got)
			}
		}
	}
}

// TestJSONStructureOnly: without json.Valid the counter still finds the elements and the array's structure.
func TestJSONStructureOnly(t *testing.T) {
	in := `[{"a":"x]},\"y"}, [1,[2]], "s", 3]`
	for n := 1; n <= len(in); n++ {
		if got, err := feed(&jsonArrayCounter{structureOnly: true}, in, n); err != nil || got != 4 {
			t.Fatalf("%d-byte pieces: %d, %v", n, got, err)
		}
	}
	if _, err := feed(&jsonArrayCounter{structureOnly: true}, `[{"a":1}}]`, 4); err == nil {
		t.Fatal("unbalanced array accepted")
	}
}

func BenchmarkJSONArrayCounter(b *testing.B) {
	row := `{"id":123456,"name":"item 123456","price":512.34,"meta":{"n": 123456, "tag": "tag56", "flags": [true, true]},"created_at":"2024-02-12T10:24:00+00:00"}`
	body := "[" + strings.Repeat(row+", \n ", 9999) + row + "]"
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if n, err := feed(&jsonArrayCounter{}, body, 256<<10); err != nil || n != 10000 {
			b.Fatal(n, err)
		}
	}
}
