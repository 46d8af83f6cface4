package sidecar_test

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgway/pgway/internal/config"
)

// TestRequestCache: a read whose shape was planned before (served from the snapshot's request cache, with the new
// operands bound) answers exactly as a read of a shape never seen (parsed and planned afresh), whatever the
// operands: values that fail validation or planning, that look like SQL, stand-ins' prefixes, NULs.
func TestRequestCache(t *testing.T) {
	ts := start(t, nil, fixture(t))
	operands := []string{"1", "2", "5", "abc", "", "1.5", "-1", "99999999999999999999", "1)", "1' OR '1'='1",
		"\x00pgway-operand-0-", "%", "Éclair", "{red,fruit}", "{{{{{{{{{{x}}}}}}}}}}", "[1,5)", "happy",
		"2024-01-01T00:00:00Z", "en", "null"}
	shapes := []struct {
		query   string // with %s for the operand
		headers []string
		method  string
	}{
		{query: "id=eq.%s"},
		{query: "select=id,name&id=not.eq.%s"},
		{query: "select=id&price=gt.%s&order=id&limit=2&offset=1"},
		{query: "select=id&name=neq.%s&price=lte.%[1]s&order=id"},
		{query: "select=id&meta->>lang=eq.%s"},
		{query: "select=id&tags=eq.%s"}, // an array column: planning checks the operand, so never reused
		{query: "select=id&mood=eq.%s&during=eq.%[1]s"},
		{query: "select=id&created_at=gte.%s"},
		{query: "select=id&id=lt.%s", headers: []string{"Prefer: count=exact"}},
		{query: "select=id&id=lt.%s", headers: []string{"Prefer: count=planned"}},
		{query: "select=id&id=gt.%s", headers: []string{"Prefer: count=estimated", "Range: 0-1"}},
		{query: "select=id,name&id=eq.%s", headers: []string{"Accept: application/vnd.pgrst.object+json"}},
		{query: "select=id,name&id=lte.%s", headers: []string{"Accept: text/csv"}},
		{query: "select=id&id=gte.%s", method: "HEAD", headers: []string{"Prefer: count=exact"}},
		{query: "select=id,name&id=eq.%s", headers: []string{"Accept-Profile: other"}},
	}
	for si, sh := range shapes {
		method := sh.method
		if method == "" {
			method = "GET"
		}
		// The first request plans the shape; with the same query and a key without a value added (which
		// changes the shape, not the request), every later request is planned afresh too.
		ts.do(method, "/items?"+strings.ReplaceAll(sh.query, "%s", "1"), sh.headers, "")
		for oi, op := range operands {
			query := strings.ReplaceAll(strings.ReplaceAll(sh.query, "%[1]s", "%s"), "%s", url.QueryEscape(op))
			fresh := ts.do(method, "/items?"+query+"&fresh"+strconv.Itoa(si)+"_"+strconv.Itoa(oi), sh.headers, "")
			cached := ts.do(method, "/items?"+query, sh.headers, "")
			if cached.Status != fresh.Status || cached.Body != fresh.Body {
				t.Fatalf("%s %s: from the cache %d %s, afresh %d %s", method, query, cached.Status, cached.Body,
					fresh.Status, fresh.Body)
			}
			for _, h := range []string{"Content-Range", "Content-Type", "Preference-Applied", "Content-Profile"} {
				if cached.Header.Get(h) != fresh.Header.Get(h) {
					t.Fatalf("%s %s: %s from the cache %q, afresh %q", method, query, h, cached.Header.Get(h),
						fresh.Header.Get(h))
				}
			}
		}
	}
}

// TestRequestCacheReload: the request cache belongs to the schema cache snapshot, so a read planned before a
// schema reload is planned again after it.
func TestRequestCacheReload(t *testing.T) {
	ts := start(t, nil, fixture(t))
	if r := ts.get("/items?id=eq.1"); r.Status != 200 || strings.Contains(r.Body, "extra") {
		t.Fatalf("before: %d %s", r.Status, r.Body)
	}
	ts.DB.Exec(t, `ALTER TABLE api.items ADD COLUMN extra int DEFAULT 7`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ts.DB.Exec(t, `NOTIFY pgrst, 'reload schema'`)
		r := ts.get("/items?id=eq.2")
		if r.Status == 200 && strings.Contains(r.Body, `"extra":7`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new column is not read after the reload: %d %s", r.Status, r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// insertCacheFixture: a table anonymous clients insert into.
const insertCacheFixture = `
CREATE TABLE api.entries (id serial PRIMARY KEY, name text NOT NULL UNIQUE, price numeric(10,2), note text);
GRANT SELECT, INSERT, UPDATE ON api.entries TO web_anon;
GRANT USAGE ON SEQUENCE api.entries_id_seq TO web_anon;`

// TestInsertCache: inserts of one shape (request.InsertKey: the same URL and headers, the same body keys) are
// planned once and then served from the request cache with each request's own body bound: every insert writes
// and returns its own values, whatever they contain, and a change of keys, of object/array, of headers or
// parameters is a new shape; bodies that fail keep failing as they do afresh.
func TestInsertCache(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.StreamBodyBytes = 4 << 10 }, fixture(t), insertCacheFixture)
	rep := []string{"Prefer: return=representation"}
	n := 0
	name := func() string { n++; return "entry-" + strconv.Itoa(n) }
	values := []string{`x`, `'); DROP TABLE api.entries; --`, `\x00pgway-operand-body-`, `Éclair "quoted"`, `$$`, ``}
	shapes := []struct {
		name    string
		query   string
		headers []string
		body    func(name, note string) string
		want    func(name, note string) string
	}{
		{name: "object", query: "select=name,note", headers: rep,
			body: func(nm, note string) string { return `{"name":` + jsonString(nm) + `,"note":` + jsonString(note) + `}` },
			want: func(nm, note string) string {
				return `[{"name":` + jsonString(nm) + `,"note":` + jsonString(note) + `}]`
			}},
		{name: "object, other keys", query: "select=name,note", headers: rep,
			body: func(nm, note string) string { return `{"name":` + jsonString(nm) + `,"price":1.5}` },
			want: func(nm, note string) string { return `[{"name":` + jsonString(nm) + `,"note":null}]` }},
		{name: "array", query: "select=name,note", headers: rep,
			body: func(nm, note string) string {
				return `[{"name":` + jsonString(nm) + `,"note":` + jsonString(note) + `},{"name":` + jsonString(nm+"b") + `,"note":null}]`
			},
			want: func(nm, note string) string {
				return `[{"name":` + jsonString(nm) + `,"note":` + jsonString(note) + `},{"name":` + jsonString(nm+"b") + `,"note":null}]`
			}},
		{name: "columns=", query: "columns=name&select=name,note", headers: rep,
			body: func(nm, note string) string { return `{"name":` + jsonString(nm) + `,"note":` + jsonString(note) + `}` },
			want: func(nm, note string) string { return `[{"name":` + jsonString(nm) + `,"note":null}]` }},
		{name: "upsert", query: "on_conflict=name&select=name,price",
			headers: []string{"Prefer: return=representation,resolution=merge-duplicates"},
			body:    func(nm, note string) string { return `{"name":` + jsonString(nm) + `,"price":2}` },
			want:    func(nm, note string) string { return `[{"name":` + jsonString(nm) + `,"price":2.00}]` }},
		{name: "singular", query: "select=note",
			headers: []string{"Prefer: return=representation", "Accept: application/vnd.pgrst.object+json"},
			body:    func(nm, note string) string { return `{"name":` + jsonString(nm) + `,"note":` + jsonString(note) + `}` },
			want:    func(nm, note string) string { return `{"note":` + jsonString(note) + `}` }},
		{name: "csv", query: "select=name,note", headers: append([]string{"Content-Type: text/csv"}, rep...),
			body: func(nm, note string) string { return "name,note\n" + nm + ",note-" + nm + "\n" },
			want: func(nm, note string) string {
				return `[{"name":` + jsonString(nm) + `,"note":` + jsonString("note-"+nm) + `}]`
			}},
	}
	for _, sh := range shapes {
		for _, note := range values {
			nm := name()
			r := ts.do("POST", "/entries?"+sh.query, sh.headers, sh.body(nm, note))
			if want := sh.want(nm, note); r.Status != 201 || compact([]byte(r.Body)) != want {
				t.Fatalf("%s, note %q: %d %s, want 201 %s", sh.name, note, r.Status, r.Body, want)
			}
		}
	}
	// A body of a cached shape large enough to be copied in with COPY is planned afresh, and lands whole.
	for _, size := range []int{100, 8 << 10, 100} {
		nm, note := name(), strings.Repeat("n", size)
		r := ts.do("POST", "/entries?select=name,note", rep, `{"name":`+jsonString(nm)+`,"note":"`+note+`"}`)
		if want := `[{"name":` + jsonString(nm) + `,"note":"` + note + `"}]`; r.Status != 201 || compact([]byte(r.Body)) != want {
			t.Fatalf("note of %d bytes: %d %.200s", size, r.Status, r.Body)
		}
	}
	// minimal: the rows are there, each with its own values.
	for i := range 3 {
		nm := name()
		r := ts.do("POST", "/entries", nil, `{"name":`+jsonString(nm)+`,"note":"minimal `+strconv.Itoa(i)+`"}`)
		if r.Status != 201 || r.Body != "" {
			t.Fatalf("minimal: %d %s", r.Status, r.Body)
		}
		if r := ts.get("/entries?select=note&name=eq." + nm); r.Body != `[{"note":"minimal `+strconv.Itoa(i)+`"}]` {
			t.Fatalf("minimal %d: %s", i, r.Body)
		}
	}
	// Failures after the shape was cached fail as they do afresh: a duplicate, a missing NOT NULL value, bad
	// JSON, an unknown key.
	for range 2 {
		for _, c := range []struct{ body, code string }{
			{`{"name":"entry-1","note":null}`, "23505"},
			{`{"name":null,"note":null}`, "23502"},
			{`{"name":"x","note":`, "PGRST102"},
			{`{"name":"y","nope":1}`, "PGRST204"},
		} {
			r := ts.do("POST", "/entries?select=name,note", rep, c.body)
			if errorCode(r.Body) != c.code {
				t.Fatalf("%s: %d %s, want %s", c.body, r.Status, r.Body, c.code)
			}
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
