package sidecar_test

import (
	"os"
	"strings"
	"testing"

	"github.com/pgway/pgway/internal/config"
)

func nestedFixture(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/nested_fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const rep = "Prefer: return=representation"

// TestNestedWrites: a POST whose body nests related rows under relationship keys inserts them all in one
// statement, linked to their parents, and renders them as select= asks; anything that fails leaves nothing.
func TestNestedWrites(t *testing.T) {
	ts := start(t, nil, fixture(t), nestedFixture(t))
	runWrites(t, ts, []writeCase{
		{name: "one-to-many", method: "POST", path: "/authors?select=name,books(title)",
			headers: []string{jsonCT, rep}, reqBody: `{"name":"Ursula","books":[{"title":"Earthsea"},{"title":"Lathe"}]}`,
			status: 201, body: `[{"name":"Ursula","books":[{"title":"Earthsea"},{"title":"Lathe"}]}]`,
			table: "api.books", rows: `[{"id":1,"title":"Earthsea","author_id":2,"year":null},{"id":2,"title":"Lathe","author_id":2,"year":null}]`},
		{name: "a read of the written rows agrees", method: "GET", path: "/authors?select=name,books(title)&id=eq.2",
			status: 200, body: `[{"name":"Ursula","books":[{"title":"Earthsea"},{"title":"Lathe"}]}]`},
		{name: "many-to-one: the referenced row first, its key in the foreign key", method: "POST",
			path: "/books?select=title,authors(name)", headers: []string{jsonCT, rep},
			reqBody: `{"title":"Mort","authors":{"name":"Terry"}}`, status: 201,
			body:  `[{"title":"Mort","authors":{"name":"Terry"}}]`,
			table: "api.books WHERE id = 3", rows: `[{"id":3,"title":"Mort","author_id":3,"year":null}]`},
		{name: "many-to-one in bulk, mixed with a foreign key to an existing row", method: "POST",
			path: "/books?select=title,authors(name)", headers: []string{jsonCT, rep},
			reqBody: `[{"title":"Good Omens","author_id":null,"authors":{"name":"Neil"}},{"title":"Sequel","author_id":1,"authors":null}]`,
			status:  201, body: `[{"title":"Good Omens","authors":{"name":"Neil"}},{"title":"Sequel","authors":{"name":"Existing"}}]`,
			table: "api.books WHERE id > 3", rows: `[{"id":4,"title":"Good Omens","author_id":4,"year":null},{"id":5,"title":"Sequel","author_id":1,"year":null}]`},
		{name: "one-to-one from the referenced side", method: "POST", path: "/authors?select=name,author_bios(bio)",
			headers: []string{jsonCT, rep}, reqBody: `{"name":"Octavia","author_bios":{"bio":"Wrote Kindred"}}`,
			status: 201, body: `[{"name":"Octavia","author_bios":{"bio":"Wrote Kindred"}}]`,
			table: "api.author_bios", rows: `[{"author_id":5,"bio":"Wrote Kindred"}]`},
		{name: "one-to-one from the side holding the key", method: "POST", path: "/author_bios?select=bio,authors(name)",
			headers: []string{jsonCT, rep}, reqBody: `{"bio":"Wrote Dune","authors":{"name":"Frank"}}`,
			status: 201, body: `[{"bio":"Wrote Dune","authors":{"name":"Frank"}}]`,
			table: "api.author_bios WHERE author_id = 6", rows: `[{"author_id":6,"bio":"Wrote Dune"}]`},
		{name: "many-to-many: both sides and the junction rows", method: "POST", path: "/books?select=title,tags(name)&tags.order=name",
			headers: []string{jsonCT, rep}, reqBody: `{"title":"Kindred","author_id":5,"tags":[{"name":"scifi"},{"name":"history"}]}`,
			status: 201, body: `[{"title":"Kindred","tags":[{"name":"history"},{"name":"scifi"}]}]`,
			table: "api.book_tags", rows: `[{"book_id":6,"tag_id":1},{"book_id":6,"tag_id":2}]`},
		{name: "depth 3, in bulk: every row under its own parent", method: "POST",
			path:    "/authors?select=name,books(title,reviews(stars),tags(name))&books.order=title&books.reviews.order=stars",
			headers: []string{jsonCT, rep},
			reqBody: `[{"name":"A","books":[{"title":"A1","reviews":[{"stars":5,"body":"a1"},{"stars":1,"body":"a1"}],"tags":[{"name":"a1"}]},{"title":"A2","reviews":[],"tags":[]}]},` +
				`{"name":"B","books":[{"title":"B1","reviews":[{"stars":3,"body":"b1"}],"tags":[{"name":"b1"},{"name":"b1x"}]}]}]`,
			status: 201,
			body: `[{"name":"A","books":[{"title":"A1","reviews":[{"stars":1},{"stars":5}],"tags":[{"name":"a1"}]},{"title":"A2","reviews":[],"tags":[]}]},` +
				`{"name":"B","books":[{"title":"B1","reviews":[{"stars":3}],"tags":[{"name":"b1"},{"name":"b1x"}]}]}]`,
			table: "api.reviews", rows: `[{"id":1,"book_id":7,"stars":5,"body":"a1"},{"id":2,"book_id":7,"stars":1,"body":"a1"},{"id":3,"book_id":9,"stars":3,"body":"b1"}]`},
		{name: "the junction rows of depth 3 link the right rows", method: "GET",
			path: "/tags?select=name,books(title,authors(name))&name=in.(a1,b1,b1x)&order=name", status: 200,
			body: `[{"name":"a1","books":[{"title":"A1","authors":{"name":"A"}}]},{"name":"b1","books":[{"title":"B1","authors":{"name":"B"}}]},{"name":"b1x","books":[{"title":"B1","authors":{"name":"B"}}]}]`},
		{name: "the requested shape: aliases, spread, embedded filter and order, object", method: "POST",
			path:    "/books?select=t:title,...authors(writer:name),reviews(stars)&reviews.stars=gt.2",
			headers: []string{jsonCT, rep, "Accept: application/vnd.pgrst.object+json"},
			reqBody: `{"title":"Dune","authors":{"name":"Herbert"},"reviews":[{"stars":5},{"stars":1}]}`, status: 201,
			body: `{"t":"Dune","writer":"Herbert","reviews":[{"stars":5}]}`},
		{name: "return=minimal", method: "POST", path: "/authors", headers: []string{jsonCT},
			reqBody: `{"name":"Quiet","books":[{"title":"Silent"}]}`, status: 201, body: "-",
			table: "api.books WHERE title = 'Silent'", rows: `[{"id":11,"title":"Silent","author_id":10,"year":null}]`},
		{name: "return=headers-only locates the body's row", method: "POST", path: "/authors",
			headers: []string{jsonCT, "Prefer: return=headers-only"}, reqBody: `{"name":"Located","books":[{"title":"Here"}]}`,
			status: 201, body: "-", header: []string{"Location: /authors?id=eq.11"}},
		{name: "missing=default in nested rows", method: "POST", path: "/authors?select=name,books(title)",
			headers: []string{jsonCT, "Prefer: return=representation, missing=default"},
			reqBody: `{"name":"Defaults","books":[{"title":"One"},{"title":"Two"}]}`, status: 201,
			body: `[{"name":"Defaults","books":[{"title":"One"},{"title":"Two"}]}]`},
	})
}

// TestNestedWritesAllOrNothing: a nested row that fails (row-level security, column privileges, a CHECK, a
// missing column) fails the whole request, and nothing of it is written.
func TestNestedWritesAllOrNothing(t *testing.T) {
	ts := start(t, nil, fixture(t), nestedFixture(t))
	const nothing = "api.authors WHERE id > 1"
	runWrites(t, ts, []writeCase{
		{name: "row-level security denies a review: nothing written", method: "POST", path: "/authors",
			headers: []string{jsonCT},
			reqBody: `{"name":"Spammer","books":[{"title":"Fine","reviews":[{"stars":5,"body":"ok"},{"stars":5,"body":"buy spam"}]}]}`,
			status:  401, contains: []string{`"42501"`, `row-level security policy for table \"reviews\"`},
			table: nothing, rows: "null"},
		{name: "nor in the other tables", method: "GET", path: "/books?select=id", status: 200, body: `[]`},
		{name: "a column the role may not insert: nothing written", method: "POST", path: "/authors",
			headers: []string{jsonCT}, reqBody: `{"name":"Dated","books":[{"title":"T","year":2000}]}`,
			status: 401, contains: []string{`"42501"`, `permission denied for table books`}, table: nothing, rows: "null"},
		{name: "a column the role may insert but not read: written, and not read back", method: "POST",
			path: "/books?select=title,authors(name)", headers: []string{jsonCT, rep},
			reqBody: `{"title":"T","authors":{"name":"Hidden","secret":"s3cret"}}`, status: 201,
			body: `[{"title":"T","authors":{"name":"Hidden"}}]`},
		{name: "unless the representation asks for it", method: "POST", path: "/books?select=title,authors(*)",
			headers: []string{jsonCT, rep}, reqBody: `{"title":"U","authors":{"name":"Hidden2","secret":"s"}}`,
			status: 401, contains: []string{`"42501"`}, table: "api.authors WHERE name = 'Hidden2'", rows: "null"},
		{name: "a CHECK violated by a nested row: nothing written", method: "POST", path: "/authors",
			headers: []string{jsonCT}, reqBody: `{"name":"Checked","books":[{"title":"T","reviews":[{"stars":9}]}]}`,
			status: 400, contains: []string{`"23514"`, `reviews_stars_check`}, table: "api.authors WHERE name = 'Checked'", rows: "null"},
		{name: "a validation problem in a nested row names its place", method: "POST", path: "/authors",
			headers: []string{jsonCT}, reqBody: `{"name":"V","books":[{"title":"ok"},{"title":"no","year":"soon"}]}`,
			status: 400, contains: []string{`"22P02"`, `body /books/1/year`}, table: "api.authors WHERE name = 'V'", rows: "null"},
		{name: "a required column missing in a nested row", method: "POST", path: "/authors",
			headers: []string{jsonCT}, reqBody: `{"name":"V","author_bios":{}}`,
			status: 400, contains: []string{`"23502"`, `body /author_bios/bio`}},
		{name: "a many-to-one row makes the foreign key optional", method: "POST", path: "/books",
			headers: []string{jsonCT}, reqBody: `{"title":"Orphan"}`, status: 400, contains: []string{`"23502"`, `author_id`}},
	})
}

// TestNestedWritesErrors: what a nested key may not be, and how PostgREST's meaning of a body key is kept.
func TestNestedWritesErrors(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBMaxEmbedDepth = 2; c.DBMaxEmbeds = 3; c.StreamBodyBytes = 256 },
		fixture(t), nestedFixture(t))
	runWrites(t, ts, []writeCase{
		{name: "a key that is neither a column nor a relationship is PGRST204", method: "POST", path: "/authors",
			headers: []string{jsonCT}, reqBody: `{"name":"x","novels":[{"title":"t"}]}`, status: 400,
			contains: []string{`"PGRST204"`, `Could not find the 'novels' column of 'authors' in the schema cache`}},
		{name: "an unknown relationship with a hint is PGRST200", method: "POST", path: "/authors",
			headers: []string{jsonCT}, reqBody: `{"name":"x","novels!books_author_id_fkey":[{"title":"t"}]}`, status: 400,
			contains: []string{`"PGRST200"`}},
		{name: "an ambiguous relationship is PGRST201", method: "POST", path: "/loans",
			headers: []string{jsonCT}, reqBody: `{"people":{"name":"x"}}`, status: 300,
			contains: []string{`"PGRST201"`, `'people!loans_borrower_id_fkey'`}},
		{name: "the hint picks one", method: "POST", path: "/loans?select=lender:people!loans_lender_id_fkey(name)",
			headers: []string{jsonCT, rep}, reqBody: `{"borrower_id":null,"people!loans_lender_id_fkey":{"name":"Bank"}}`,
			status: 201, body: `[{"lender":{"name":"Bank"}}]`},
		{name: "too deep is PGWAY101", method: "POST", path: "/authors", headers: []string{jsonCT},
			reqBody: `{"name":"x","books":[{"title":"t","reviews":[{"stars":1}],"tags":[{"name":"n","books":[]}]}]}`,
			status:  400, contains: []string{`"PGWAY101"`}, table: "api.authors WHERE name = 'x'", rows: "null"},
		{name: "too many is PGWAY102", method: "POST", path: "/authors", headers: []string{jsonCT},
			reqBody: `{"name":"x","author_bios":{"bio":"b"},"books":[{"title":"t","reviews":[],"tags":[]}]}`,
			status:  400, contains: []string{`"PGWAY102"`}},
		{name: "PATCH with related rows is PGWAY103", method: "PATCH", path: "/authors?id=eq.1", headers: []string{jsonCT},
			reqBody: `{"name":"x","books":[{"title":"t"}]}`, status: 400, contains: []string{`"PGWAY103"`}},
		{name: "an upsert with related rows is PGWAY103", method: "POST", path: "/authors",
			headers: []string{jsonCT, "Prefer: resolution=merge-duplicates"}, reqBody: `{"id":1,"name":"x","books":[{"title":"t"}]}`,
			status: 400, contains: []string{`"PGWAY103"`}},
		{name: "a foreign key given with the row that sets it is PGWAY104", method: "POST", path: "/books",
			headers: []string{jsonCT}, reqBody: `{"title":"t","author_id":1,"authors":{"name":"x"}}`, status: 400,
			contains: []string{`"PGWAY104"`}},
		{name: "a to-many key takes an array", method: "POST", path: "/authors", headers: []string{jsonCT},
			reqBody: `{"name":"x","books":{"title":"t"}}`, status: 400, contains: []string{`"PGRST102"`}},
		{name: "nested rows share their keys", method: "POST", path: "/authors", headers: []string{jsonCT},
			reqBody: `{"name":"x","books":[{"title":"t"},{"title":"u","id":99}]}`, status: 400,
			contains: []string{`"PGRST102"`, `All object keys must match`}},
		{name: "CSV bodies keep PostgREST's meaning", method: "POST", path: "/authors", headers: []string{"Content-Type: text/csv"},
			reqBody: "name,books\nx,y\n", status: 400, contains: []string{`"PGWAY103"`}},
		{name: "a column keeps its meaning", method: "POST", path: "/authors?select=name", headers: []string{jsonCT, rep},
			reqBody: `{"name":"plain"}`, status: 201, body: `[{"name":"plain"}]`},
		{name: "a large body is streamed (COPY) and nests all the same", method: "POST",
			path: "/authors?select=name,books(title)&books.order=title", headers: []string{jsonCT, rep},
			reqBody: `{"name":"streamed","books":[` + strings.Repeat(`{"title":"a title long enough to stream"},`, 8) + `{"title":"z"}]}`,
			status:  201, body: `[{"name":"streamed","books":[` + strings.Repeat(`{"title":"a title long enough to stream"},`, 8) + `{"title":"z"}]}]`,
			table: "api.books WHERE title = 'z'", rows: `[{"id":9,"title":"z","author_id":3,"year":null}]`},
	})
}
