package request_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// fuzzSeeds are realistic and nasty inputs; every testdata/parse case is added too.
var fuzzSeeds = []request.Input{
	{Method: "GET", Path: "/items", Query: "select=id,name,price&price=gt.10&order=id&limit=25"},
	{Method: "GET", Path: "/items", Query: "select=a(b(c(d(e(f(g(h(i(j(k(*)))))))))))"},
	{Method: "GET", Path: "/items", Query: "select=" + strings.Repeat("a(", 200) + strings.Repeat(")", 200)},
	{Method: "GET", Path: "/items", Query: "or=" + strings.Repeat("(and", 100) + "(a.eq.1" + strings.Repeat(")", 101)},
	{Method: "GET", Path: "/items", Query: "and=(" + strings.Repeat("or(a.eq.1,", 300) + "b.eq.2" + strings.Repeat(")", 301)},
	{Method: "GET", Path: "/items", Query: "select=\"unterminated&a=eq.\"x"},
	{Method: "GET", Path: "/items", Query: "select=\"a\\"},
	{Method: "GET", Path: "/items", Query: "select=%00&%00=eq.%00&order=%00&or=(%00.eq.1)"},
	{Method: "GET", Path: "/items", Query: "select=\"\x00\",\"a\x00\"(\"\x00b\"),x->\"\x00\""},
	{Method: "GET", Path: "/items", Query: "a=in.(\"\\\",\")&b=in.(,,,)&c=in.(\"\"x)&d=in.((()))"},
	{Method: "GET", Path: "/items", Query: "a=eq(any).{\"a\\\"b\",c}&b=like(all).{&c=gt(any).{\"}"},
	{Method: "GET", Path: "/items", Query: "order=a->>b.desc.nullsfirst,c(d->e).asc,%22x%22"},
	{Method: "GET", Path: "/items", Query: "limit=99999999999999999999999&offset=-99999999999999999999"},
	{Method: "GET", Path: "/items", Query: "x.y.z.limit=1&x.y.offset=-1&.limit=2&limit.limit=3"},
	{Method: "GET", Path: "/items", Query: "a=%ZZ%&b=%E2%28%A1&c=+%2B+&select=%F0%9F%98%80"},
	{Method: "GET", Path: "/items", Query: "select=\t a \t, b\t&a=\teq.1"},
	{Method: "GET", Path: "/items", Query: "select=a\nb&a\n=eq.\n"},
	{Method: "GET", Path: "/items", Query: ";;&&==&=&a=&=b"},
	{Method: "GET", Path: "/rpc/f", Query: "a=1&b=not.&c=in.(&d=fts(&e=eq(any"},
	{Method: "POST", Path: "/rpc/f", Query: "a=eq.1", ContentType: "text/plain", Body: []byte("x")},
	{Method: "GET", Path: "/items", Accept: "*/*;q=0, text/csv;q=0.0001, application/vnd.pgrst.plan+json;for=\"application/vnd.pgrst.plan\""},
	{Method: "GET", Path: "/items", Accept: ";;;,,,/,*/,/*,a/b;c=\"d"},
	{Method: "GET", Path: "/items", Accept: "application/vnd.pgrst.plan; for=\"application/vnd.pgrst.plan; for=\\\"x\\\"\""},
	{Method: "GET", Path: "/items", Prefer: ",,, ,handling=strict,,max-affected=-1,max-affected=99999999999999999999"},
	{Method: "GET", Path: "/items", Range: "99999999999999999999-1"},
	{Method: "GET", Path: "/items", Range: "-5"},
	{Method: "GET", Path: "/items", Range: "0-9223372036854775807", Query: "offset=9223372036854775807&limit=9223372036854775807"},
	{Method: "PUT", Path: "/items", Query: "limit=0"},
	{Method: "", Path: ""},
	{Method: "GET", Path: "//"},
	{Method: "GET", Path: "/rpc/"},
	{Method: "GET", Path: "/rpc"},
	{Method: "GET", Path: "/\x00"},
	{Method: "GET", Path: "/items", AcceptProfile: "a\x00b"},
}

// FuzzParse checks that Parse never panics, fails only with 4xx *apierr.Errors, never puts NUL in an
// identifier, and is deterministic.
func FuzzParse(f *testing.F) {
	for _, in := range fuzzSeeds {
		f.Add(in.Method, in.Path, in.Query, in.Accept, in.Prefer, in.Range, in.ContentType, string(in.Body))
	}
	files, _ := filepath.Glob("testdata/parse/*.txt")
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		input, _, _ := strings.Cut(string(raw), sep)
		in, err := readInput(input)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(in.Method, in.Path, in.Query, in.Accept, in.Prefer, in.Range, in.ContentType, string(in.Body))
	}
	f.Fuzz(func(t *testing.T, method, path, query, accept, prefer, rng, contentType, body string) {
		in := request.Input{Method: method, Path: path, Query: query, Accept: accept, Prefer: prefer, Range: rng,
			ContentType: contentType, AcceptProfile: prefer, ContentProfile: accept, Body: []byte(body)}
		req, err := request.Parse(in)
		req2, err2 := request.Parse(in)
		if err != nil {
			var ae *apierr.Error
			if !errors.As(err, &ae) {
				t.Fatalf("error is %T, not *apierr.Error: %v", err, err)
			}
			if ae.Status < 400 || ae.Status > 499 {
				t.Fatalf("status %d for %+v: %v", ae.Status, in, err)
			}
			if err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("not deterministic: %v vs %v", err, err2)
			}
			return
		}
		if err2 != nil {
			t.Fatalf("not deterministic: nil vs %v", err2)
		}
		a, _ := json.Marshal(req)
		b, _ := json.Marshal(req2)
		if string(a) != string(b) {
			t.Fatalf("not deterministic")
		}
		for _, id := range identifiers(req) {
			if strings.IndexByte(id, 0) >= 0 {
				t.Fatalf("identifier %q has a NUL (input %+v)", id, in)
			}
		}
	})
}

// identifiers lists every name in a Request that ends up as an SQL identifier.
func identifiers(r *request.Request) []string {
	out := []string{r.Relation, r.Schema}
	out = append(out, r.Columns...)
	out = append(out, r.OnConflict...)
	for _, p := range r.Params {
		out = append(out, p.Name)
	}
	field := func(f request.Field) {
		out = append(out, f.Name)
		for _, j := range f.JSONPath {
			out = append(out, j.Key)
		}
	}
	var sel func([]request.SelectItem)
	sel = func(items []request.SelectItem) {
		for _, it := range items {
			field(it.Field)
			out = append(out, it.Alias, it.Cast, it.AggregateCast)
			if it.Embed != nil {
				out = append(out, it.Embed.Name, it.Embed.Hint)
				sel(it.Embed.Select)
			}
		}
	}
	sel(r.Select)
	filter := func(f request.Filter) {
		out = append(out, f.Path...)
		field(f.Field)
	}
	for _, f := range r.Filters {
		filter(f)
	}
	var logic func(l request.Logic)
	logic = func(l request.Logic) {
		out = append(out, l.Path...)
		for _, c := range l.Children {
			if c.Filter != nil {
				filter(*c.Filter)
			}
			if c.Logic != nil {
				logic(*c.Logic)
			}
		}
	}
	for _, l := range r.Logic {
		logic(l)
	}
	for _, o := range r.Order {
		out = append(out, o.Path...)
		for _, t := range o.Terms {
			out = append(out, t.Relation)
			field(t.Field)
		}
	}
	for _, rg := range r.Ranges {
		out = append(out, rg.Path...)
	}
	return out
}
