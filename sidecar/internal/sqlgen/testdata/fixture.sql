-- The SQL stage's golden fixture: one table of every kind of column the SQL stage treats differently.
CREATE SCHEMA api;
CREATE TABLE api.items (
  id bigint PRIMARY KEY,
  name text UNIQUE,
  price numeric,
  meta jsonb,
  tags text[],
  search tsvector,
  during int4range
);

-- Related tables for embeds of every cardinality, a computed field and functions to call.
CREATE TABLE api.authors (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE api.books (
  id int PRIMARY KEY,
  title text NOT NULL,
  author_id int REFERENCES api.authors,
  co_author_id int REFERENCES api.authors,
  meta jsonb
);
CREATE TABLE api.author_bios (author_id int PRIMARY KEY REFERENCES api.authors, bio text);
CREATE TABLE api.tags (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE api.book_tags (book_id int REFERENCES api.books, tag_id int REFERENCES api.tags, PRIMARY KEY (book_id, tag_id));
CREATE FUNCTION api.title_upper(api.books) RETURNS text LANGUAGE sql STABLE AS $$ SELECT upper($1.title) $$;
CREATE FUNCTION api.search_books(q text, lim int DEFAULT 10) RETURNS SETOF api.books LANGUAGE sql STABLE
  AS $$ SELECT * FROM api.books WHERE title ILIKE '%' || q || '%' LIMIT lim $$;
CREATE FUNCTION api.add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$;
CREATE FUNCTION api.echo(json) RETURNS json LANGUAGE sql IMMUTABLE AS $$ SELECT $1 $$;
