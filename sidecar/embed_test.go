package sidecar_test

import (
	"os"
	"testing"

	"github.com/pgway/pgway/internal/config"
)

func embedFixture(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/embed_fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEmbedding(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBAggregatesEnabled = true }, fixture(t), embedFixture(t))
	runCases(t, ts, []readCase{
		{name: "many-to-one with a column hint and alias", path: "/books?select=title,author:authors!author_id(name)&id=lt.3&order=id",
			status: 200, body: `[{"title":"Earthsea","author":{"name":"Ursula"}},{"title":"Dispossessed","author":{"name":"Ursula"}}]`},
		{name: "many-to-one with no match is null", path: "/books?select=title,authors!author_id(name)&id=eq.5",
			status: 200, body: `[{"title":"Anonymous","authors":null}]`},
		{name: "embedding by the FK column name", path: "/books?select=title,author_id(name)&id=eq.1",
			status: 200, body: `[{"title":"Earthsea","author_id":{"name":"Ursula"}}]`},
		{name: "ambiguous is 300 PGRST201", path: "/books?select=title,authors(name)", status: 300,
			contains: []string{`"code":"PGRST201"`, `"cardinality":"many-to-one"`, `books_author_id_fkey`, `books_co_author_id_fkey`,
				`Try changing 'authors' to one of the following: 'authors!books_author_id_fkey', 'authors!books_co_author_id_fkey'`}},
		{name: "no relationship is 400 PGRST200 with a hint", path: "/books?select=title,review(stars)", status: 400,
			body: `{"code":"PGRST200","message":"Could not find a relationship between 'books' and 'review' in the schema cache","details":"Searched for a foreign key relationship between 'books' and 'review' in the schema 'api', but no matches were found.","hint":"Perhaps you meant 'reviews' instead of 'review'."}`},
		{name: "one-to-many with a constraint hint, nested and ordered", path: "/authors?select=name,books!books_author_id_fkey(title,reviews(stars))&id=eq.1&books.order=id",
			status: 200, body: `[{"name":"Ursula","books":[{"title":"Earthsea","reviews":[{"stars":5},{"stars":4}]},{"title":"Dispossessed","reviews":[]}]}]`},
		{name: "one-to-one is an object", path: "/authors?select=name,author_bios(bio)&order=id",
			status: 200, body: `[{"name":"Ursula","author_bios":{"bio":"Wrote Earthsea"}},{"name":"Terry","author_bios":{"bio":"Wrote Discworld"}},{"name":"Neil","author_bios":null}]`},
		{name: "many-to-many through the junction", path: "/books?select=title,tags(name)&id=eq.3&tags.order=name",
			status: 200, body: `[{"title":"Good Omens","tags":[{"name":"comedy"},{"name":"fantasy"}]}]`},
		{name: "many-to-many reverse", path: "/tags?select=name,books(id)&id=eq.2", status: 200,
			body: `[{"name":"scifi","books":[{"id":2}]}]`},
		{name: "self-reference: parent by FK column, children by table name", path: "/employees?select=name,manager:manager_id(name),reports:employees(name)&id=eq.2",
			status: 200, body: `[{"name":"Alice","manager":{"name":"Boss"},"reports":[{"name":"Carol"}]}]`},
		{name: "composite foreign key", path: "/edition_notes?select=note,editions(book_id,edition)&order=id",
			status: 200, body: `[{"note":"revised","editions":{"book_id":1,"edition":2}},{"note":"first","editions":{"book_id":3,"edition":1}}]`},
		{name: "view relationships by column tracing", path: "/books_view?select=title,authors(name)&id=eq.3",
			status: 200, body: `[{"title":"Good Omens","authors":{"name":"Terry"}}]`},
		{name: "view over a view with renamed columns", path: "/books_view2?select=name,authors(name)&id=eq.4",
			status: 200, body: `[{"name":"Mort","authors":{"name":"Terry"}}]`},
		{name: "table to view", path: "/authors?select=name,books_view(title)&id=eq.2&books_view.order=id",
			status: 200, body: `[{"name":"Terry","books_view":[{"title":"Good Omens"},{"title":"Mort"}]}]`},
		{name: "star with embed", path: "/reviews?select=*,books(title)&id=eq.3",
			status: 200, body: `[{"id":3,"book_id":3,"stars":5,"books":{"title":"Good Omens"}}]`},
		{name: "embedded filters, or, limit and offset", path: "/authors?select=name,books!books_author_id_fkey(title)&id=eq.2&books.or=(year.lt.1980,title.like.M*)&books.order=title.desc&books.limit=1",
			status: 200, body: `[{"name":"Terry","books":[{"title":"Mort"}]}]`},
		{name: "inner join filters parents", path: "/authors?select=name,books!books_author_id_fkey!inner(title)&books.year=gt.1980&order=id",
			status: 200, body: `[{"name":"Terry","books":[{"title":"Good Omens"},{"title":"Mort"}]}]`},
		{name: "inner join counts right", path: "/authors?select=name,books!books_author_id_fkey!inner()&books.year=gt.1980",
			headers: []string{"Prefer: count=exact"}, status: 200, body: `[{"name":"Terry"}]`, header: []string{"Content-Range: 0-0/1"}},
		{name: "planned count with an inner embed filter", path: "/authors?select=name,books!books_author_id_fkey!inner(title)&books.year=gt.1980",
			headers: []string{"Prefer: count=planned"}, status: 206, contains: []string{`"Terry"`}},
		{name: "explain shows the one statement", path: "/authors?select=name,books!books_author_id_fkey(title)&id=eq.1",
			headers: []string{"Accept: application/vnd.pgrst.plan+json"}, status: 200, contains: []string{`"Plan"`, `Nested Loop`}},
		{name: "filter by embed absence", path: "/books?select=title,reviews()&reviews=is.null&order=id",
			status: 200, body: `[{"title":"Dispossessed"},{"title":"Anonymous"}]`},
		{name: "a planned count with an embed filter (the estimate joins the embed too)",
			path: "/books?select=title,reviews()&reviews=is.null&order=id", headers: []string{"Prefer: count=planned"},
			contains: []string{`{"title":"Dispossessed"}`}},
		{name: "filter by embed presence", path: "/books?select=title,reviews(stars)&reviews=not.is.null&order=id&reviews.stars=eq.5",
			status: 200, body: `[{"title":"Earthsea","reviews":[{"stars":5}]},{"title":"Good Omens","reviews":[{"stars":5}]}]`},
		{name: "spread a to-one embed", path: "/books?select=title,...authors!author_id(author:name)&id=eq.1",
			status: 200, body: `[{"title":"Earthsea","author":"Ursula"}]`},
		{name: "spread a to-many embed as arrays", path: "/authors?select=name,...books!books_author_id_fkey(title)&id=eq.1&books.order=id",
			status: 200, body: `[{"name":"Ursula","title":["Earthsea","Dispossessed"]}]`},
		{name: "order by a to-one embed column", path: "/books?select=title,authors!author_id(name)&order=authors(name).desc,id&id=lt.5",
			status: 200, body: `[{"title":"Earthsea","authors":{"name":"Ursula"}},{"title":"Dispossessed","authors":{"name":"Ursula"}},{"title":"Good Omens","authors":{"name":"Terry"}},{"title":"Mort","authors":{"name":"Terry"}}]`},
		{name: "order by a to-many embed is PGRST118", path: "/authors?select=name,books!books_author_id_fkey(title)&order=books(title)",
			status: 400, contains: []string{`"code":"PGRST118"`}},
		{name: "a missing relationship is reported before an unknown column", path: "/books?select=nope,no_such_rel(id)",
			status: 400, contains: []string{`"code":"PGRST200"`}},
		{name: "filter on a missing embed is PGRST108", path: "/authors?select=name&books.year=gt.1", status: 400,
			contains: []string{`"code":"PGRST108"`}},
		{name: "an aliased embed's relation name still works, with a deprecation Warning",
			path: "/authors?select=name,written:books!books_author_id_fkey(title)&books.year=gt.1970&books.order=id&id=eq.1", status: 200,
			body: `[{"name":"Ursula","written":[{"title":"Dispossessed"}]}]`,
			header: []string{"Warning: 299 pgway \"Embedded resource was referenced by relation name even though it has an alias. " +
				"This is deprecated and will stop working in a future release. Update `books` to `written` in query string filters, orders or limits.\""}},
		{name: "aggregate in an embed", path: "/authors?select=name,books!books_author_id_fkey(count())&order=id",
			status: 200, body: `[{"name":"Ursula","books":[{"count":2}]},{"name":"Terry","books":[{"count":2}]},{"name":"Neil","books":[{"count":0}]}]`},
		{name: "aggregates in a to-one spread are computed over the parent's groups",
			path: "/reviews?select=total:stars.sum(),...books(year,n:id.count())&order=books(year)", status: 200,
			body: `[{"total":9,"year":1968,"n":2},{"total":3,"year":1987,"n":1},{"total":5,"year":1990,"n":1}]`},
		{name: "aggregates in a to-many spread are PGRST127", path: "/authors?select=name,...books!books_author_id_fkey(id.count())",
			status: 400, contains: []string{`"code":"PGRST127"`}},
		{name: "top-level aggregate with grouping", path: "/reviews?select=book_id,stars.sum(),count()&order=book_id",
			status: 200, body: `[{"book_id":1,"sum":9,"count":2},{"book_id":3,"sum":5,"count":1},{"book_id":4,"sum":3,"count":1}]`},
		{name: "csv with an embed", path: "/books?select=title,authors!author_id(name)&id=eq.1", headers: []string{"Accept: text/csv"},
			status: 200, body: "title,authors\nEarthsea,\"{\"\"name\"\": \"\"Ursula\"\"}\""},
		{name: "object media type with an embed", path: "/books?select=title,tags(name)&id=eq.2",
			headers: []string{"Accept: application/vnd.pgrst.object+json"}, status: 200, body: `{"title":"Dispossessed","tags":[{"name":"scifi"}]}`},
		{name: "computed field selected, filtered and ordered", path: "/books?select=id,title_upper,age&age=gt.40&order=age.desc",
			status: 200, body: `[{"id":1,"title_upper":"EARTHSEA","age":56},{"id":2,"title_upper":"DISPOSSESSED","age":50}]`},
		{name: "star leaves computed fields out", path: "/books?select=*&id=eq.5", status: 200,
			body: `[{"id":5,"title":"Anonymous","author_id":null,"co_author_id":null,"year":2001}]`},
		{name: "computed to-many relationship", path: "/books?select=title,top_reviews(stars)&id=eq.1", status: 200,
			body: `[{"title":"Earthsea","top_reviews":[{"stars":5},{"stars":4}]}]`},
		{name: "computed to-one relationship", path: "/books?select=title,first_author(name)&id=eq.4", status: 200,
			body: `[{"title":"Mort","first_author":{"name":"Terry"}}]`},
		{name: "rpc result with an embed", path: "/rpc/books_since?y=1990&select=title,authors!author_id(name)&order=id",
			status: 200, body: `[{"title":"Good Omens","authors":{"name":"Terry"}},{"title":"Anonymous","authors":null}]`},
	})
	runWrites(t, ts, []writeCase{
		{name: "return=representation with an embed", method: "POST", path: "/books?select=title,authors!author_id(name)",
			headers: []string{jsonCT, "Prefer: return=representation"}, reqBody: `{"id":9,"title":"New","author_id":3}`,
			status: 201, body: `[{"title":"New","authors":{"name":"Neil"}}]`},
	})
}

func TestStrictTargetNames(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.URLLegacyTargetNames = false }, fixture(t), embedFixture(t))
	runCases(t, ts, []readCase{
		{name: "PGRST108", path: "/authors?select=name,written:books!books_author_id_fkey(title)&books.year=gt.1970", status: 400,
			body: `{"code":"PGRST108","message":"'books' is not an embedded resource in this request",` +
				`"details":"Target names are not allowed in filters if they have an alias","hint":"Change 'books' to 'written' in filters, orders or limits."}`},
	})
}

func TestAggregatesDisabled(t *testing.T) {
	ts := start(t, nil, fixture(t), embedFixture(t))
	runCases(t, ts, []readCase{
		{name: "PGRST123", path: "/reviews?select=stars.sum()", status: 400,
			body: `{"code":"PGRST123","message":"Use of aggregate functions is not allowed","details":null,"hint":null}`},
		{name: "in an embed too", path: "/authors?select=name,books!books_author_id_fkey(count())", status: 400,
			contains: []string{`"code":"PGRST123"`}},
	})
}

// TestEmbedLimits: db-max-rows caps embedded arrays too, and rel.offset on a to-one embed skips its row, as
// PostgREST's QueryLimitedSpec.
func TestEmbedLimits(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBMaxRows = 1 }, fixture(t), embedFixture(t))
	runCases(t, ts, []readCase{
		{name: "max rows on an embedded array", path: "/authors?select=name,books!books_author_id_fkey(title)&books.order=id&order=id",
			status: 200, body: `[{"name":"Ursula","books":[{"title":"Earthsea"}]}]`},
		{name: "offset on a to-one embed", path: "/books?select=title,author:authors!author_id(name)&author.offset=1&id=eq.1",
			status: 200, body: `[{"title":"Earthsea","author":null}]`},
	})
}

// TestEmbedTableAliases: an embed's table is aliased "<table>_<n>" as PostgREST aliases it ("cities_1"), so a
// plan's text names it as PostgREST's does; where that name is another relation's (here the root's), pgway's
// own alias is kept and the embed still joins its parent.
func TestEmbedTableAliases(t *testing.T) {
	ts := start(t, nil, fixture(t), `
CREATE TABLE api.countries (id int PRIMARY KEY, name text);
CREATE TABLE api.cities (id int PRIMARY KEY, country_id int NOT NULL REFERENCES api.countries, name text);
CREATE TABLE api.countries_1 (id int PRIMARY KEY, country_id int REFERENCES api.countries);
INSERT INTO api.countries VALUES (10, 'United Kingdom'), (11, 'United States');
INSERT INTO api.cities VALUES (1, 10, 'London'), (2, 10, 'Manchester'), (5, 11, 'Miami');
INSERT INTO api.countries_1 VALUES (100, 11);
GRANT SELECT ON api.countries, api.cities, api.countries_1 TO web_anon;`)
	plan := []string{`Accept: application/vnd.pgrst.plan+text; options=verbose; for="application/json"`}
	runCases(t, ts, []readCase{
		{name: "an inner embed with an or filter names its table cities_1",
			path: "/countries?select=name,cities!inner(name)&cities.or=(country_id.eq.10,name.eq.Paris)", headers: plan, status: 200,
			contains: []string{`((cities_1.country_id = countries.id) AND ((cities_1.country_id = 10) OR (cities_1.name = 'Paris'::text)))`}},
		{name: "the same rows as without the plan",
			path: "/countries?select=name,cities!inner(name)&cities.or=(country_id.eq.10,name.eq.Paris)&cities.order=id", status: 200,
			body: `[{"name":"United Kingdom","cities":[{"name":"London"},{"name":"Manchester"}]}]`},
		{name: "embeds are numbered in select order", path: "/countries?select=name,cities(name),countries_1(id)&id=eq.11", headers: plan,
			status: 200, contains: []string{`on api.cities cities_1`, `on api.countries_1 countries_1_2`}},
		{name: "and answer as before", path: "/countries?select=name,cities(name),countries_1(id)&id=eq.11", status: 200,
			body: `[{"name":"United States","cities":[{"name":"Miami"}],"countries_1":[{"id":100}]}]`},
		{name: "a name taken by another relation keeps pgway's alias", path: "/countries_1?select=id,countries(name)", headers: plan,
			status: 200, contains: []string{`api.countries pgrst_1_t`, `(pgrst_1_t.id = countries_1.country_id)`}},
		{name: "and joins the root", path: "/countries_1?select=id,countries(name)", status: 200,
			body: `[{"id":100,"countries":{"name":"United States"}}]`},
	})
}
