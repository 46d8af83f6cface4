-- Related tables and views for the embedding tests (loaded after fixture.sql).
CREATE TABLE api.authors (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO api.authors VALUES (1, 'Ursula'), (2, 'Terry'), (3, 'Neil');

-- Two foreign keys to authors: embedding authors from books is ambiguous without a hint.
CREATE TABLE api.books (
  id           int PRIMARY KEY,
  title        text NOT NULL,
  author_id    int REFERENCES api.authors,
  co_author_id int REFERENCES api.authors,
  year         int
);
INSERT INTO api.books VALUES
  (1, 'Earthsea', 1, NULL, 1968), (2, 'Dispossessed', 1, NULL, 1974),
  (3, 'Good Omens', 2, 3, 1990), (4, 'Mort', 2, NULL, 1987), (5, 'Anonymous', NULL, NULL, 2001);

CREATE TABLE api.reviews (id int PRIMARY KEY, book_id int NOT NULL REFERENCES api.books, stars int NOT NULL);
INSERT INTO api.reviews VALUES (1, 1, 5), (2, 1, 4), (3, 3, 5), (4, 4, 3);

-- Many-to-many through a junction whose foreign keys form its primary key.
CREATE TABLE api.tags (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO api.tags VALUES (1, 'fantasy'), (2, 'scifi'), (3, 'comedy');
CREATE TABLE api.book_tags (book_id int REFERENCES api.books, tag_id int REFERENCES api.tags, PRIMARY KEY (book_id, tag_id));
INSERT INTO api.book_tags VALUES (1, 1), (2, 2), (3, 1), (3, 3), (4, 1), (4, 3);

-- One-to-one: the foreign key is also the primary key.
CREATE TABLE api.author_bios (author_id int PRIMARY KEY REFERENCES api.authors, bio text);
INSERT INTO api.author_bios VALUES (1, 'Wrote Earthsea'), (2, 'Wrote Discworld');

-- Self-reference.
CREATE TABLE api.employees (id int PRIMARY KEY, name text NOT NULL, manager_id int REFERENCES api.employees);
INSERT INTO api.employees VALUES (1, 'Boss', NULL), (2, 'Alice', 1), (3, 'Bob', 1), (4, 'Carol', 2);

-- Composite keys.
CREATE TABLE api.editions (book_id int REFERENCES api.books, edition int, PRIMARY KEY (book_id, edition));
INSERT INTO api.editions VALUES (1, 1), (1, 2), (3, 1);
CREATE TABLE api.edition_notes (
  id int PRIMARY KEY, book_id int, edition int, note text,
  FOREIGN KEY (book_id, edition) REFERENCES api.editions
);
INSERT INTO api.edition_notes VALUES (1, 1, 2, 'revised'), (2, 3, 1, 'first');

-- Views, and a view over a view: relationships come from tracing their columns.
CREATE VIEW api.books_view AS SELECT id, title, author_id FROM api.books;
CREATE VIEW api.books_view2 AS SELECT id, title AS name, author_id AS writer FROM api.books_view;

CREATE FUNCTION api.books_since(y int) RETURNS SETOF api.books LANGUAGE sql STABLE AS
  $$ SELECT * FROM api.books WHERE year >= y $$;

GRANT SELECT ON api.authors, api.books, api.reviews, api.tags, api.book_tags, api.author_bios, api.employees,
  api.editions, api.edition_notes, api.books_view, api.books_view2 TO web_anon, web_user;
GRANT INSERT ON api.books TO web_anon;
GRANT EXECUTE ON FUNCTION api.books_since(int) TO web_anon;

-- Computed fields and computed relationships.
CREATE FUNCTION api.title_upper(api.books) RETURNS text LANGUAGE sql STABLE AS $$ SELECT upper($1.title) $$;
CREATE FUNCTION api.age(api.books) RETURNS int LANGUAGE sql STABLE AS $$ SELECT 2024 - $1.year $$;
CREATE FUNCTION api.top_reviews(api.books) RETURNS SETOF api.reviews LANGUAGE sql STABLE AS
  $$ SELECT * FROM api.reviews WHERE book_id = $1.id AND stars >= 4 $$;
CREATE FUNCTION api.first_author(api.books) RETURNS api.authors LANGUAGE sql STABLE AS
  $$ SELECT * FROM api.authors WHERE id = $1.author_id $$;
GRANT EXECUTE ON FUNCTION api.title_upper(api.books), api.age(api.books), api.top_reviews(api.books),
  api.first_author(api.books) TO web_anon, web_user;
