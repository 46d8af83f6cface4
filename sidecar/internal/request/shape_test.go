package request_test

import (
	"bytes"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/pgway/pgway/sidecar/internal/request"
)

// TestShape checks Shape's claim against Parse: reads that differ only in the operands of their simple filters
// have the same Key and parse to the same Request but for those operands, which Bind puts back; and reads that
// differ in anything else have different Keys.
func TestShape(t *testing.T) {
	type param struct{ k, v string }
	cases := []struct {
		name   string
		in     request.Input
		params []param
		slots  int // simple filters (operands taken out)
	}{
		{name: "by id", params: []param{{"id", "eq.1"}}, slots: 1},
		{name: "page", params: []param{{"select", "id,name"}, {"price", "gt.5"}, {"order", "id"}, {"limit", "25"}}, slots: 1},
		{name: "negated and repeated", params: []param{{"a", "not.lte.1"}, {"a", "neq.2"}, {"b", "gte.x"}, {"c", "lt.y"}}, slots: 4},
		{name: "other operators stay in the key", params: []param{{"a", "like.x*"}, {"b", "eq(any).{1,2}"}, {"c", "is.null"},
			{"d", "in.(1,2)"}, {"e", "eq.1"}}, slots: 1},
		{name: "json path", params: []param{{"meta->>k", "eq.v"}, {"id", "gt.0"}}, slots: 2},
		{name: "embedded filters stay in the key", params: []param{{"select", "*,b(*)"}, {"b.id", "eq.1"}, {"id", "eq.2"}}, slots: 1},
		{name: "reserved keys", params: []param{{"or", "(a.eq.1,b.eq.2)"}, {"offset", "3"}, {"x.limit", "2"}, {"id", "eq.1"}}, slots: 1},
		{name: "a key without value", params: []param{{"flag", ""}, {"id", "eq.1"}}, slots: 1},
		{name: "headers", in: request.Input{Method: "HEAD", Accept: "text/csv", Prefer: "count=exact", Range: "0-9",
			AcceptProfile: "other"}, params: []param{{"id", "lt.9"}}, slots: 1},
	}
	operands := []string{"", "5", "a.b", "not.eq.5", "eq.1", "(1,2)", "{1,2}", "*", "x\x00y", "é", "\xff", "+", "%",
		"%zz", "&", ";", "=", ".", "null", "  spaced  "}
	query := func(ps []param, with func(i int, p param) string) string {
		var b strings.Builder
		for i, p := range ps {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(p.k))
			if p.k == "flag" {
				continue
			}
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(with(i, p)))
		}
		return b.String()
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.Method == "" {
				in.Method = "GET"
			}
			in.Path = "/items"
			in.Query = query(tc.params, func(_ int, p param) string { return p.v })
			var sh request.Shape
			if !sh.Of(in) {
				t.Fatal("no shape")
			}
			if len(sh.Slots) != tc.slots {
				t.Fatalf("%d slots %v, want %d", len(sh.Slots), sh.Operands, tc.slots)
			}
			key := bytes.Clone(sh.Key)
			tmpl, err := request.Parse(in)
			if err != nil {
				t.Fatal(err)
			}
			for i, f := range sh.Slots {
				if got := tmpl.Filters[f].Cond.Value; got != sh.Operands[i] {
					t.Fatalf("operand %d is %q, Filters[%d] has %q", i, sh.Operands[i], f, got)
				}
			}
			for n := range operands {
				other := in
				other.Query = query(tc.params, func(i int, p param) string {
					if prefix, ok := slotPrefix(p); ok {
						return prefix + operands[(n+i)%len(operands)]
					}
					return p.v
				})
				var sh2 request.Shape
				if !sh2.Of(other) || !bytes.Equal(sh2.Key, key) {
					t.Fatalf("%s: another key", other.Query)
				}
				want, err := request.Parse(other)
				if err != nil {
					t.Fatalf("%s: %v", other.Query, err)
				}
				if got := sh2.Bind(tmpl, nil); !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: Bind gives\n%+v\nParse gives\n%+v", other.Query, got, want)
				}
			}
			// Anything else is in the key: another method, path, header or non-operand value.
			for _, change := range []func(request.Input) request.Input{
				func(in request.Input) request.Input {
					in.Method = map[string]string{"GET": "HEAD", "HEAD": "GET"}[in.Method]
					return in
				},
				func(in request.Input) request.Input { in.Path = "/other"; return in },
				func(in request.Input) request.Input { in.Accept += "x"; return in },
				func(in request.Input) request.Input { in.Prefer += "x"; return in },
				func(in request.Input) request.Input { in.Range += "x"; return in },
				func(in request.Input) request.Input { in.RangeUnit += "x"; return in },
				func(in request.Input) request.Input { in.AcceptProfile += "x"; return in },
				func(in request.Input) request.Input { in.ContentProfile += "x"; return in },
				func(in request.Input) request.Input { in.ContentType += "x"; return in },
				func(in request.Input) request.Input { in.Query += "&z=eq.1"; return in },
				func(in request.Input) request.Input { in.Query = strings.Replace(in.Query, "=", "=not.", 1); return in },
			} {
				var sh2 request.Shape
				if c := change(in); sh2.Of(c) && bytes.Equal(sh2.Key, key) {
					t.Fatalf("%+v has the same key", c)
				}
			}
		})
	}
}

// slotPrefix is a simple filter's operator prefix, as the cases above write them.
func slotPrefix(p struct{ k, v string }) (string, bool) {
	if strings.Contains(p.k, ".") {
		return "", false
	}
	v := strings.TrimPrefix(p.v, "not.")
	op, _, _ := strings.Cut(v, ".")
	switch op {
	case "eq", "neq", "gt", "gte", "lt", "lte":
		return p.v[:len(p.v)-len(v)] + op + ".", true
	}
	return "", false
}

func TestShapeOnlyReadsOfRelations(t *testing.T) {
	for _, in := range []request.Input{
		{Method: "POST", Path: "/items"},
		{Method: "GET", Path: "/"},
		{Method: "GET", Path: "/rpc/fn", Query: "a=eq.1"},
		{Method: "OPTIONS", Path: "/items"},
		{Method: "GET", Path: "/items", Body: []byte("x")},
	} {
		var sh request.Shape
		if sh.Of(in) {
			t.Errorf("%+v has a shape", in)
		}
	}
}

// FuzzShape checks Shape against Parse on any input: the operands it takes out are the values of the filters
// its slots number, which are simple filters, and binding them to the parsed request changes nothing.
func FuzzShape(f *testing.F) {
	for _, in := range fuzzSeeds {
		f.Add(in.Method, in.Path, in.Query, in.Accept, in.Prefer, in.Range)
	}
	f.Add("GET", "/items", "id=eq.1&select=id&a.b=eq.2&not=not.gt.x&limit=1&c=lte.&d", "", "", "")
	f.Fuzz(func(t *testing.T, method, path, query, accept, prefer, rng string) {
		in := request.Input{Method: method, Path: path, Query: query, Accept: accept, Prefer: prefer, Range: rng}
		var sh request.Shape
		if !sh.Of(in) {
			return
		}
		req, err := request.Parse(in)
		if err != nil {
			return
		}
		for i, f := range sh.Slots {
			c := req.Filters[f].Cond
			if c.Value != sh.Operands[i] || c.Quant != "" || len(req.Filters[f].Path) > 0 {
				t.Fatalf("slot %d (filter %d): operand %q, filter %+v", i, f, sh.Operands[i], req.Filters[f])
			}
			switch c.Op {
			case "eq", "neq", "gt", "gte", "lt", "lte":
			default:
				t.Fatalf("slot %d is a filter with operator %q", i, c.Op)
			}
		}
		if got := sh.Bind(req, nil); !reflect.DeepEqual(got, req) {
			t.Fatalf("Bind changed the request:\n%+v\n%+v", got, req)
		}
	})
}
