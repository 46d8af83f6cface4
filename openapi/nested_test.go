package openapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/openapi"
)

// TestNestedWrites: insert schemas list the relationships whose rows a body may nest, with the schemas of
// those rows, and only those the role may insert into.
func TestNestedWrites(t *testing.T) {
	db := pgtest.NewDatabase(t, fixtureSQL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	c, err := schemacache.Load(ctx, conn, []string{"api"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi.Build(c, openapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := doc.Components.Schemas
	books := s["books_insert"].Value
	authors := books.Properties["authors"]
	if authors == nil || authors.Value.AllOf[0].Ref != "#/components/schemas/authors_insert" {
		t.Fatalf("books_insert.authors = %+v, want the authors insert schema", authors)
	}
	for _, r := range books.Required {
		if r == "author_id" {
			t.Error("books_insert requires author_id, which a nested authors row fills")
		}
	}
	if !books.Properties["author_id"].Value.Nullable {
		t.Error("books_insert.author_id is not nullable: null means the nested row's key")
	}
	nestedBooks := s["authors_insert"].Value.Properties["books"]
	if nestedBooks == nil || nestedBooks.Value.Items.Ref != "#/components/schemas/books_insert.books_author_id_fkey" {
		t.Fatalf("authors_insert.books = %+v, want an array of books_insert.books_author_id_fkey", nestedBooks)
	}
	via := s["books_insert.books_author_id_fkey"].Value
	if _, ok := via.Properties["author_id"]; ok {
		t.Error("the books rows nested in an author describe author_id, which their parent fills")
	}
	if _, ok := via.Properties["authors"]; ok {
		t.Error("the books rows nested in an author may nest an author of their own")
	}
	if len(via.Required) == 0 || via.Required[0] != "title" {
		t.Errorf("nested books require %v, want title first", via.Required)
	}

	// A role that may insert into books only: no nested authors.
	limited, err := openapi.Build(c, openapi.Options{Allowed: func(q schemacache.QName, priv string) bool {
		return q.Name == "books" || priv == openapi.PrivSelect
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := limited.Components.Schemas["books_insert"].Value.Properties["authors"]; ok {
		t.Error("books_insert offers nested authors to a role that may not insert into authors")
	}
	if err := limited.Validate(ctx); err != nil {
		t.Fatal(err)
	}
}
