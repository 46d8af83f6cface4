package request_test

import (
	"strings"
	"testing"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/sidecar/internal/request"
)

func TestPayload(t *testing.T) {
	cases := []struct {
		name, method, query, ctype, body string
		wantKeys                         string // comma-joined, sorted
		wantObject                       bool
		wantJSON                         string // "" = the body itself
		wantErr                          string // PostgREST message
	}{
		{name: "object", body: `{"b":1,"a":{"x":[1,{"y":2}]}}`, wantKeys: "a,b", wantObject: true},
		{name: "array of objects", body: ` [ {"a":1,"b":"}"}, {"b":null,"a":2} ] `, wantKeys: "a,b"},
		{name: "escaped key", body: `{"a\"b":1,"\u00e9":2}`, wantKeys: `a"b,é`, wantObject: true},
		{name: "duplicate keys count once", body: `{"a":1,"a":2}`, wantKeys: "a", wantObject: true},
		{name: "empty array", body: `[]`, wantKeys: ""},
		{name: "array of empty objects", body: `[{},{}]`, wantKeys: ""},
		{name: "scalar becomes empty array", body: `42`, wantKeys: "", wantJSON: "[]"},
		{name: "keys differ", body: `[{"a":1},{"b":1}]`, wantErr: "All object keys must match"},
		{name: "fewer keys", body: `[{"a":1,"b":2},{"a":1}]`, wantErr: "All object keys must match"},
		{name: "non-object element", body: `[{"a":1},2]`, wantErr: "All object keys must match"},
		{name: "invalid json", body: `{"a":`, wantErr: "Empty or invalid json"},
		{name: "empty body", body: ``, wantErr: "Empty or invalid json"},
		{name: "columns= skips parsing", query: "columns=b,a", body: `[{"a":1,"zzz":2}]`, wantKeys: "a,b"},
		{name: "csv", ctype: "text/csv", body: "a,b\n1,NULL\n\"x,y\",2\n", wantKeys: "a,b",
			wantJSON: `[{"a":"1","b":null},{"a":"x,y","b":"2"}]`},
		{name: "csv ragged", ctype: "text/csv", body: "a,b\n1\n", wantErr: "All lines must have same number of fields"},
		{name: "form", ctype: "application/x-www-form-urlencoded", body: "b=x+y&a=%C3%A9&a=2", wantKeys: "a,b",
			wantObject: true, wantJSON: `{"b":"x y","a":"2"}`},
		{name: "patch object", method: "PATCH", body: `{"a":1}`, wantKeys: "a", wantObject: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "POST"
			}
			ctype := tc.ctype
			if ctype == "" {
				ctype = "application/json"
			}
			req, err := request.Parse(request.Input{Method: method, Path: "/t", Query: tc.query, ContentType: ctype, Body: []byte(tc.body)})
			if tc.wantErr != "" {
				e, ok := err.(*apierr.Error)
				if !ok || e.Code != "PGRST102" || e.Message != tc.wantErr || e.Status != 400 {
					t.Fatalf("err = %v, want PGRST102 %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := req.Payload
			if got := strings.Join(p.Keys, ","); got != tc.wantKeys {
				t.Errorf("keys %q, want %q", got, tc.wantKeys)
			}
			if p.Object != tc.wantObject {
				t.Errorf("object %v, want %v", p.Object, tc.wantObject)
			}
			want := tc.wantJSON
			if want == "" {
				want = tc.body
			}
			if string(p.JSON) != want {
				t.Errorf("json %s, want %s", p.JSON, want)
			}
		})
	}
}

func FuzzPayload(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[{"a":1},{"a":2}]`, `[]`, `"x"`, `[{"a":"\"}"}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		_, err := request.Parse(request.Input{Method: "POST", Path: "/t", ContentType: "application/json", Body: []byte(body)})
		if err != nil {
			if _, ok := err.(*apierr.Error); !ok {
				t.Fatalf("non-API error %v", err)
			}
		}
	})
}
