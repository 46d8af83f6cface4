package sidecar_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/migrations"
)

// migrated is a test database with the bundled migrations applied.
func migrated(t *testing.T) *pgtest.DB {
	t.Helper()
	db := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(context.Background(), db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	r, err := migrations.New(context.Background(), conn, migrations.Example(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestVersionRouting(t *testing.T) {
	db := migrated(t)
	ts := startOn(t, db, func(c *config.Config) { c.DBSchemas = []string{"api_v2", "api_v1"} })
	runCases(t, ts, []readCase{
		{name: "v1 shape", path: "/v1/books?select=id,title,year,pages&id=eq.1", status: 200,
			body:   `[{"id":1,"title":"A Wizard of Earthsea","year":1968,"pages":183}]`,
			header: []string{"Content-Profile: api_v1", "Deprecation:"}},
		{name: "v2 shape over the same row", path: "/v2/books?select=id,title,published_year&id=eq.1", status: 200,
			body: `[{"id":1,"title":"A Wizard of Earthsea","published_year":1968}]`, header: []string{"Content-Profile: api_v2"}},
		{name: "v2 removed pages", path: "/v2/books?select=pages", status: 400, contains: []string{`"code":"42703"`}},
		{name: "v2's new relationship", path: "/v2/books?select=title,reviews(stars)&id=eq.1&reviews.order=stars.desc", status: 200,
			body: `[{"title":"A Wizard of Earthsea","reviews":[{"stars":5},{"stars":4}]}]`},
		{name: "v2's new function", path: "/v2/rpc/average_rating?book_id=1", status: 200, body: `4.50`},
		{name: "v1 has no reviews", path: "/v1/reviews", status: 404, contains: []string{`"code":"PGRST205"`}},
		{name: "bare path serves the current version", path: "/books?select=published_year&id=eq.3", status: 200,
			body: `[{"published_year":1987}]`, header: []string{"Content-Profile: api_v2"}},
		{name: "Accept-Profile still works", path: "/books?select=year&id=eq.3", headers: []string{"Accept-Profile: api_v1"},
			status: 200, body: `[{"year":1987}]`},
		{name: "unknown version", path: "/v9/books", status: 404, contains: []string{`"code":"PGRST125"`}},
		{name: "per-version OpenAPI", path: "/v1/openapi.json", status: 200, contains: []string{`"year"`, `"/books"`}},
		{name: "per-version OpenAPI v2", path: "/v2/openapi.json", status: 200, contains: []string{`"published_year"`, `"/rpc/average_rating"`}},
	})
	// Writes through a version land in the shared tables and show in the other version.
	runWrites(t, ts, []writeCase{
		{name: "insert through v1", method: "POST", path: "/v1/books?select=id,year",
			headers: []string{jsonCT, "Prefer: return=representation", "Authorization: Bearer " + token(t, map[string]any{"role": "web_user"})},
			reqBody: `{"title":"Lilith's Brood","author_id":3,"year":2000,"pages":700}`, status: 201,
			body: `[{"id":6,"year":2000}]`, table: "library.books WHERE id = 6",
			rows: `[{"id":6,"title":"Lilith's Brood","author_id":3,"published_year":2000,"pages":700,"isbn":null}]`},
	})

	// Deprecate v1 with a future sunset: headers appear; then a past sunset: 410.
	db.Exec(t, `UPDATE pgway.api_versions SET status = 'deprecated', deprecated_at = '2026-01-01T00:00:00Z',
		sunset_at = '2099-06-30T00:00:00Z' WHERE name = 'v1'; NOTIFY pgrst, 'reload schema'`)
	waitFor(t, ts, "/v1/books?id=eq.1", "Deprecation", "@1767225600")
	runCases(t, ts, []readCase{
		{name: "deprecated version carries headers", path: "/v1/books?select=id&id=eq.1", status: 200,
			header: []string{"Deprecation: @1767225600", "Sunset: Tue, 30 Jun 2099 00:00:00 GMT",
				`Link: </v2/books>; rel="successor-version"`}},
		{name: "deprecation applies through Accept-Profile too", path: "/books?select=id&id=eq.1",
			headers: []string{"Accept-Profile: api_v1"}, status: 200, header: []string{"Deprecation: @1767225600"}},
		{name: "current version has none", path: "/v2/books?select=id&id=eq.1", status: 200, header: []string{"Deprecation:"}},
	})
	db.Exec(t, `UPDATE pgway.api_versions SET sunset_at = '2020-01-01T00:00:00Z' WHERE name = 'v1'; NOTIFY pgrst, 'reload schema'`)
	waitForStatus(t, ts, "/v1/books", 410)
	runCases(t, ts, []readCase{
		{name: "after the sunset: 410 naming the successor", path: "/v1/books", status: 410,
			body:   `{"code":"PGWAY410","message":"API version v1 is no longer available","details":"It was sunset on 2020-01-01T00:00:00Z.","hint":"Use v2 instead: /v2/books"}`,
			header: []string{`Link: </v2/books>; rel="successor-version"`}},
	})
}

func waitFor(t *testing.T, ts *testServer, path, header, value string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if ts.get(path).Header.Get(header) == value {
			return
		}
		sleepBriefly()
	}
	t.Fatalf("%s never had %s: %s", path, header, value)
}

func waitForStatus(t *testing.T, ts *testServer, path string, status int) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if ts.get(path).Status == status {
			return
		}
		sleepBriefly()
	}
	t.Fatalf("%s never answered %d", path, status)
}

func sleepBriefly() { time.Sleep(50 * time.Millisecond) }

// TestBundledVersionsTogether runs embedding, the OpenAPI documents and validation over the bundled versioned
// schemas, as `make run` serves them: api_v1 and api_v2 both expose views of the same library tables, and each
// version's relationships, documents and checks stay inside its own schema.
func TestBundledVersionsTogether(t *testing.T) {
	db := migrated(t)
	ts := startOn(t, db, func(c *config.Config) { c.DBSchemas = []string{"api_v2", "api_v1"} })
	user := "Authorization: Bearer " + token(t, map[string]any{"role": "web_user"})
	runCases(t, ts, []readCase{
		{name: "v2 many-to-one embed", path: "/v2/books?select=title,authors(name)&id=eq.1", status: 200,
			body: `[{"title":"A Wizard of Earthsea","authors":{"name":"Ursula K. Le Guin"}}]`},
		{name: "v1 many-to-one embed", path: "/v1/books?select=title,authors(name)&id=eq.1", status: 200,
			body: `[{"title":"A Wizard of Earthsea","authors":{"name":"Ursula K. Le Guin"}}]`},
		{name: "bare path embed", path: "/books?select=title,authors(name)&id=eq.1", status: 200,
			body: `[{"title":"A Wizard of Earthsea","authors":{"name":"Ursula K. Le Guin"}}]`},
		{name: "v2 one-to-many embed", path: "/v2/authors?select=name,books(title)&id=eq.1&books.order=id&books.limit=1", status: 200,
			body: `[{"name":"Ursula K. Le Guin","books":[{"title":"A Wizard of Earthsea"}]}]`},
		{name: "v2 two levels", path: "/v2/reviews?select=stars,books(title,authors(name))&order=id&limit=1", status: 200,
			body: `[{"stars":5,"books":{"title":"A Wizard of Earthsea","authors":{"name":"Ursula K. Le Guin"}}}]`},
		{name: "v1 cannot embed v2's reviews", path: "/v1/books?select=title,reviews(stars)", status: 400,
			contains: []string{`"code":"PGRST200"`, `in the schema 'api_v1'`}},
		{name: "hint names only the requested schema's relations", path: "/v2/books?select=title,author(name)", status: 400,
			contains: []string{`"code":"PGRST200"`, `Perhaps you meant 'authors'`}},
		{name: "v2 document lists v2's embeds", path: "/v2/openapi.json", status: 200,
			contains: []string{`"/reviews"`, `"published_year"`}},
		{name: "v1 document has no v2 paths", path: "/v1/openapi.json", status: 200},
	})
	for _, v := range []string{"/v1/openapi.json", "/v2/openapi.json"} {
		res := ts.get(v)
		if strings.Contains(v, "v1") && (strings.Contains(res.Body, `"/reviews"`) || strings.Contains(res.Body, "api_v2")) {
			t.Errorf("%s mentions v2: %.200s", v, res.Body)
		}
		if strings.Contains(v, "v2") && strings.Contains(res.Body, "api_v1") {
			t.Errorf("%s mentions v1", v)
		}
	}
	runWrites(t, ts, []writeCase{
		{name: "v2 validation names the missing field", method: "POST", path: "/v2/books",
			headers: []string{jsonCT, user}, reqBody: `{"author_id":1}`, status: 400,
			contains: []string{`title`}},
		{name: "v2 has no pages (a v1 column)", method: "POST", path: "/v2/books",
			headers: []string{jsonCT, user}, reqBody: `{"title":"x","author_id":1,"pages":3}`, status: 400,
			contains: []string{`pages`}},
		{name: "v1 has no published_year (its v2 name)", method: "POST", path: "/v1/books",
			headers: []string{jsonCT, user}, reqBody: `{"title":"x","author_id":1,"published_year":2000}`, status: 400,
			contains: []string{`published_year`}},
		{name: "v2 insert with an embedded representation", method: "POST", path: "/v2/books?select=title,authors(name)",
			headers: []string{jsonCT, user, "Prefer: return=representation"},
			reqBody: `{"title":"The Left Hand of Darkness","author_id":1,"published_year":1969}`, status: 201,
			body: `[{"title":"The Left Hand of Darkness","authors":{"name":"Ursula K. Le Guin"}}]`},
	})
}
