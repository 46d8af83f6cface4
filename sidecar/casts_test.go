package sidecar_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pgway/pgway/internal/config"
)

// TestCastInjection: the cast after a select item (and the aggregate's second cast) named a type by raw text,
// which let an anonymous request append SQL. Casts are now types looked up in the schema cache.
func TestCastInjection(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBAggregatesEnabled = true }, fixture(t), embedFixture(t))
	bad := func(name, path string) readCase {
		return readCase{name: name, path: path, status: 400, contains: []string{`"code":"PGRST100"`}}
	}
	runCases(t, ts, []readCase{
		{name: "second cast with a UNION (the reported attack)", status: 400,
			path:     "/books?select=id::text::text%20FROM%20books%20UNION%20SELECT%20rolname%20FROM%20pg_roles%20UNION%20SELECT%20NULL",
			contains: []string{`"code":"PGRST100"`, `invalid cast type \"text FROM books UNION SELECT rolname FROM pg_roles UNION SELECT NULL\"`}},
		bad("first cast with a UNION", "/items?select=id::text%20FROM%20api.items%20UNION%20SELECT%20rolname%20FROM%20pg_roles"),
		bad("dollar-quoted cast", "/items?select=id::text$q$,%22x%22:name"),
		bad("reserved word", "/items?select=id::select"),
		bad("unknown type", "/items?select=id::nosuchtype"),
		bad("catalog lookup type", "/items?select=id::regclass"),
		bad("aggregate cast", "/items?select=price.sum()::numeric%20FROM%20api.items--"),
		bad("count cast", "/items?select=count()::int8%20FROM%20x"),
		bad("spread aggregate cast", "/books?select=title,...authors!author_id(id.count()::int4%20FROM%20x)"),
		{name: "SQL-standard names work", path: "/items?select=id::integer,price::double%20precision,name::character%20varying&id=eq.1",
			status: 200, body: `[{"id":1,"price":1.5,"name":"apple"}]`},
		{name: "an enum of the request's schema", path: "/items?select=name::mood&id=eq.3", status: 400,
			contains: []string{`"code":"22P02"`}},
		{name: "enum cast by its unqualified name", path: "/items?select=mood::mood,name::varchar&id=eq.1", status: 200,
			body: `[{"mood":"happy","name":"apple"}]`},
		{name: "upper case folds like an unquoted name", path: "/items?select=id::TEXT&id=eq.2", status: 200, body: `[{"id":"2"}]`},
		{name: "aggregate with casts", path: "/items?select=price::int4.sum()::text", status: 200, body: `[{"sum":"12"}]`},
		{name: "one JSON key in the select list and the order of a grouped read",
			path: "/items?select=meta->>lang,count()&order=meta->>lang.nullsfirst", status: 200,
			body: `[{"lang":null,"count":1},{"lang":"en","count":2},{"lang":"fr","count":2}]`},
	})
}

// TestRequestTextNeverSQL: request text that once reached SQL (JSON keys, fts configurations, empty keys) is a
// bound value or a clear 4xx before any SQL runs.
func TestRequestTextNeverSQL(t *testing.T) {
	ts := start(t, nil, fixture(t))
	runCases(t, ts, []readCase{
		{name: "JSON key with a quote", path: "/items?select=meta->>la'ng&id=eq.1", status: 200, body: `[{"la'ng":null}]`},
		{name: "JSON key with dollar quoting", path: "/items?select=v:meta->>$q$x&id=eq.1", status: 200, body: `[{"v":null}]`},
		{name: "quoted JSON key closing a quote", path: `/items?select=v:meta->>"')%20OR%201=1--"&id=eq.1`, status: 200, body: `[{"v":null}]`},
		{name: "empty JSON key", path: `/items?select=meta->""`, status: 400, contains: []string{`"code":"PGRST100"`, "empty JSON key"}},
		{name: "empty JSON key in a filter", path: `/items?meta->>""=eq.x`, status: 400, contains: []string{"empty JSON key"}},
		{name: "numeric fts configuration", path: "/items?search=fts(0).apple", status: 400, contains: []string{`"code":"42704"`}},
		{name: "fts configuration with SQL", path: "/items?search=fts(english')).apple", status: 400},
		{name: "known fts configuration", path: "/items?select=id&search=fts(english).apple", status: 200, body: `[{"id":1}]`},
		{name: "JSON index beyond int4 is a key", path: "/items?select=v:meta->arr->99999999999&id=eq.1", status: 200, body: `[{"v":null}]`},
		{name: "JSON key with a double quote names the result column", path: `/items?select=meta->>%22a%5C%22b%22&id=eq.1`,
			status: 200, body: `[{"a\"b":null}]`},
	})
}

// TestEmbedDepthAndCount: nested to-many embeds double their work per level; depth and count are bounded.
func TestEmbedDepthAndCount(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBMaxEmbedDepth = 3; c.DBMaxEmbeds = 4 }, fixture(t), embedFixture(t))
	runCases(t, ts, []readCase{
		{name: "three levels", path: "/books?select=id,book_tags(tag_id,books(id,book_tags(tag_id)))&id=eq.1", status: 200},
		{name: "four levels is too deep", path: "/books?select=id,book_tags(tag_id,books(id,book_tags(tag_id,books(id))))&id=eq.1",
			status: 400, contains: []string{`"code":"PGWAY101"`, "limit is 3"}},
		{name: "four embeds", path: "/books?select=id,a:book_tags(tag_id),b:book_tags(tag_id),c:book_tags(tag_id),d:book_tags(tag_id)&id=eq.1", status: 200},
		{name: "five embeds is too many", path: "/books?select=id,a:book_tags(tag_id),b:book_tags(tag_id),c:book_tags(tag_id),d:book_tags(tag_id),e:book_tags(tag_id)&id=eq.1",
			status: 400, contains: []string{`"code":"PGWAY102"`}},
	})
	var sb strings.Builder
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&sb, "x%d:book_tags(tag_id),", i)
	}
	long := "/books?select=" + sb.String() + "id"
	if res := ts.get(long); res.Status != 400 || !strings.Contains(res.Body, "PGWAY102") {
		t.Errorf("40 embeds: %d %s", res.Status, res.Body)
	}
}

// TestComplexityLimits: requests that would reach PostgreSQL's own limits (stack depth 54001, target list
// 54011, array dimensions 54000 — 500s to PostgREST's clients) are refused with a 400 first.
func TestComplexityLimits(t *testing.T) {
	ts := start(t, nil, fixture(t))
	runCases(t, ts, []readCase{
		{name: "deep JSON path", path: "/items?select=meta" + strings.Repeat("->a", 200), status: 400, contains: []string{"too many keys"}},
		{name: "long select list", path: "/items?select=" + strings.TrimSuffix(strings.Repeat("id,", 1700), ","), status: 400,
			contains: []string{"too many items"}},
		{name: "deep array literal", path: "/items?tags=cs.%7B%7B%7B%7B%7B%7B%7Ba%7D%7D%7D%7D%7D%7D%7D", status: 400,
			contains: []string{`"code":"22P02"`}},
		{name: "six dimensions are fine", path: "/items?select=id&tags=cs.%7B%7B%7B%7B%7B%7Ba%7D%7D%7D%7D%7D%7D", status: 200},
	})
}
