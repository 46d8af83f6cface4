package sidecar_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
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
