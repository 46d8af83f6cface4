package schemacache_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/internal/schemacache"
)

// Load must give the same cache through a pool, a pooled connection, a transaction, and whatever the
// connection's search_path is.
func TestLoadQueriers(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t, fixture)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want := load(t, db.URL, "api", "private").Dump()

	pool, err := pgxpool.New(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	pc, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Release()
	conn, err := pgx.Connect(ctx, db.URL+"&search_path=api,private")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "set local search_path = api, private, public"); err != nil {
		t.Fatal(err)
	}
	simple, err := pgx.Connect(ctx, db.URL+"&default_query_exec_mode=simple_protocol")
	if err != nil {
		t.Fatal(err)
	}
	defer simple.Close(ctx)

	for name, q := range map[string]schemacache.Querier{
		"pool": pool, "pooled conn": pc, "tx with search_path": tx, "simple protocol": simple,
	} {
		c, err := schemacache.Load(ctx, q, []string{"api", "private"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := c.Dump(); got != want {
			t.Errorf("%s: cache differs:\n%s", name, got)
		}
	}
	// Load leaves the caller's transaction with its own search_path.
	var sp string
	if err := tx.QueryRow(ctx, "select current_setting('search_path')").Scan(&sp); err != nil {
		t.Fatal(err)
	}
	if sp != "api, private, public" {
		t.Errorf("search_path after Load = %q", sp)
	}
}

func TestLoadUnknownSchema(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t, fixture)
	c := load(t, db.URL, "nope")
	if len(c.Relations) != 0 || len(c.Routines) != 0 || len(c.Relationships) != 0 {
		t.Errorf("want an empty cache, got:\n%s", c.Dump())
	}
}

// The relationships the planner relies on, spelled out (the golden file has them all).
func TestRelationships(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t, fixture)
	c := load(t, db.URL, "api", "private")
	q := func(s string) schemacache.QName {
		schema, name, _ := strings.Cut(s, ".")
		return schemacache.QName{Schema: schema, Name: name}
	}
	tests := []struct {
		from, to string
		want     []string
	}{
		{"api.books", "api.authors", []string{
			"M2O api.books(author_id) -> api.authors(id) via books_author_id_fkey",
			"M2O api.books(co_author_id) -> api.authors(id) via books_co_author_id_fkey"}},
		{"api.authors", "api.books", []string{
			"O2M api.authors(id) -> api.books(author_id) via books_author_id_fkey",
			"O2M api.authors(id) -> api.books(co_author_id) via books_co_author_id_fkey"}},
		{"api.books", "api.book_details", []string{
			"O2O api.books(id) -> api.book_details(book_id) via book_details_book_id_fkey"}},
		{"api.book_details", "api.books", []string{
			"O2O api.book_details(book_id) -> api.books(id) via book_details_book_id_fkey"}},
		{"api.books", "api.tags", []string{
			"M2M api.books(id) -> api.tags(id) via book_tags_book_id_fkey through api.book_tags(book_id | tag_id) book_tags_tag_id_fkey",
			"M2M api.books(id) -> api.tags(id) via book_tags_book_id_fkey through api.book_tags_view(book_id | tag_id) book_tags_tag_id_fkey"}},
		{"api.printings", "api.editions", []string{
			"M2O api.printings(book_id,edition_number) -> api.editions(book_id,number) via printings_edition_fkey"}},
		{"api.employees", "api.employees", []string{
			"M2O api.employees(manager_id) -> api.employees(id) via employees_manager_id_fkey",
			"O2M api.employees(id) -> api.employees(manager_id) via employees_manager_id_fkey"}},
		// views: renamed columns, view over view, both directions, view to view
		{"api.books_view2", "api.authors", []string{
			"M2O api.books_view2(writer) -> api.authors(id) via books_author_id_fkey"}},
		{"api.authors", "api.books_view2", []string{
			"O2M api.authors(id) -> api.books_view2(writer) via books_author_id_fkey"}},
		{"api.books_view", "api.authors_view", []string{
			"M2O api.books_view(writer) -> api.authors_view(author_no) via books_author_id_fkey",
			"M2O api.books_view(co_author_id) -> api.authors_view(author_no) via books_co_author_id_fkey"}},
		// across exposed schemas, through a view of a table in another schema; never to hidden schemas
		{"api.imprints", "private.publishers", []string{
			"M2O api.imprints(publisher_id) -> private.publishers(id) via imprints_publisher_id_fkey"}},
		{"api.publishers", "api.imprints", []string{
			"O2M api.publishers(id) -> api.imprints(publisher_id) via imprints_publisher_id_fkey"}},
		{"api.imprints", "hidden.secrets", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range c.RelationshipsBetween(q(tt.from), q(tt.to)) {
			got = append(got, r.String())
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s -> %s:\n got %q\nwant %q", tt.from, tt.to, got, tt.want)
		}
	}
	if n := len(c.RelationshipsFrom(q("api.logs"))); n != 0 {
		t.Errorf("api.logs has %d relationships", n)
	}
}

func TestClosest(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t, fixture)
	c := load(t, db.URL, "api", "private")
	rels := []struct {
		schema, name, want string
	}{
		{"api", "book", "books"},
		{"api", "Authors", "authors"},
		{"api", "bookz_view", "books_view"},
		{"api", "xyzzy_qwerty", ""},
		{"private", "publisher", "publishers"},
		{"api", "edition_printings", ""}, // below PostgREST's 0.75 similarity for table hints
		{"nope", "books", ""},
	}
	for _, tt := range rels {
		got, ok := c.ClosestRelation(tt.schema, tt.name)
		if (tt.want == "") == ok || ok && got != (schemacache.QName{Schema: tt.schema, Name: tt.want}) {
			t.Errorf("ClosestRelation(%q, %q) = %v, %v; want %q", tt.schema, tt.name, got, ok, tt.want)
		}
	}
	books, _ := c.Relation("api", "books")
	cols := []struct{ name, want string }{
		{"titel", "title"},
		{"author", "author_id"},
		{"zzzzzzzz", ""},
	}
	for _, tt := range cols {
		got, ok := books.ClosestColumn(tt.name)
		if (tt.want == "") == ok || got != tt.want {
			t.Errorf("ClosestColumn(%q) = %q, %v; want %q", tt.name, got, ok, tt.want)
		}
	}
	if got, ok := c.ClosestRoutine("api", "addd"); !ok || got.Name != "add" {
		t.Errorf("ClosestRoutine(addd) = %v, %v", got, ok)
	}
	if got, ok := c.ClosestRoutine("api", "ad"); ok {
		t.Errorf("ClosestRoutine(ad) = %v: below 0.75 similarity", got)
	}
	if rs, ok := c.Routine("api", "add"); !ok || len(rs) != 2 || len(rs[0].Params) != 2 {
		t.Errorf("Routine(add) = %v, %v", rs, ok)
	}
}
