package sidecar_test

import (
	"testing"
)

// TestHugeRanges: row numbers beyond int64 in Range, limit=, offset=, rel.limit and Prefer: max-affected are
// past any table's end: they answer like an unbounded limit or an offset past the last row, never an overflow
// error or a 500.
func TestHugeRanges(t *testing.T) {
	ts := start(t, nil, fixture(t), writeFixture(t))
	all := `[{"id":1},{"id":2},{"id":3},{"id":4},{"id":5}]`
	runCases(t, ts, []readCase{
		{name: "Range to int64 max", path: "/items?select=id", headers: []string{"Range: 0-9223372036854775807"},
			status: 200, body: all, header: []string{"Content-Range: 0-4/*"}},
		{name: "Range beyond int64", path: "/items?select=id", headers: []string{"Range: 0-99999999999999999999"},
			status: 200, body: all},
		{name: "Range from 1 to int64 max, counted", path: "/items?select=id", headers: []string{"Range: 1-9223372036854775807", "Prefer: count=exact"},
			status: 206, header: []string{"Content-Range: 1-4/5"}},
		{name: "Range starting beyond int64", path: "/items?select=id", headers: []string{"Range: 99999999999999999999-"},
			status: 200, body: `[]`, header: []string{"Content-Range: */*"}},
		{name: "limit beyond int64", path: "/items?select=id&limit=99999999999999999999", status: 200, body: all},
		{name: "offset beyond int64", path: "/items?select=id&offset=99999999999999999999", status: 200, body: `[]`},
		{name: "offset beyond int64, counted", path: "/items?select=id&offset=99999999999999999999", headers: []string{"Prefer: count=exact"},
			status: 416, header: []string{"Content-Range: */5"}},
		{name: "offset and limit at int64 max", path: "/items?select=id&offset=9223372036854775807&limit=9223372036854775807",
			status: 200, body: `[]`},
		{name: "offset at int64 max, limit 2", path: "/items?select=id&offset=9223372036854775807&limit=2", status: 200, body: `[]`},
		{name: "limit below int64", path: "/items?select=id&limit=-99999999999999999999", status: 416,
			body: `{"code":"PGRST103","details":"Limit should be greater than or equal to zero.","hint":null,"message":"Requested range not satisfiable"}`},
		{name: "embedded limit beyond int64", path: "/clients?select=id,projects(id)&projects.limit=99999999999999999999&id=eq.1", status: 200,
			body: `[{"id":1,"projects":[{"id":1},{"id":2}]}]`},
		{name: "embedded offset beyond int64", path: "/clients?select=id,projects(id)&projects.offset=99999999999999999999&id=eq.1", status: 200,
			body: `[{"id":1,"projects":[]}]`},
	})
	r := ts.do("PATCH", "/clients?id=eq.1", []string{"Prefer: handling=strict, max-affected=99999999999999999999",
		"Content-Type: application/json"}, `{"name":"Microsoft"}`)
	if r.Status >= 300 || r.Header.Get("Preference-Applied") != "handling=strict, max-affected=9223372036854775807" {
		t.Errorf("max-affected beyond int64: %d %q %s", r.Status, r.Header.Get("Preference-Applied"), r.Body)
	}
}
