-- Related tables for the nested-write tests (loaded after fixture.sql): every cardinality, keys from sequences,
-- a CHECK, row-level security and column privileges.
CREATE TABLE api.authors (id serial PRIMARY KEY, name text NOT NULL, secret text);
CREATE TABLE api.books (
  id        serial PRIMARY KEY,
  title     text NOT NULL,
  author_id int NOT NULL REFERENCES api.authors,
  year      int CHECK (year > 1400)
);
-- One-to-one: the foreign key is also the primary key.
CREATE TABLE api.author_bios (author_id int PRIMARY KEY REFERENCES api.authors, bio text NOT NULL);
-- Many-to-many through a junction.
CREATE TABLE api.tags (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE api.book_tags (book_id int REFERENCES api.books, tag_id int REFERENCES api.tags, PRIMARY KEY (book_id, tag_id));
-- Row-level security: no spam in reviews.
CREATE TABLE api.reviews (
  id serial PRIMARY KEY, book_id int NOT NULL REFERENCES api.books, stars int NOT NULL CHECK (stars BETWEEN 1 AND 5), body text
);
ALTER TABLE api.reviews ENABLE ROW LEVEL SECURITY;
CREATE POLICY no_spam ON api.reviews USING (true) WITH CHECK (coalesce(body, '') NOT LIKE '%spam%');
-- Two foreign keys to one table: nesting people in a loan is ambiguous without a hint.
CREATE TABLE api.people (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE api.loans (
  id          serial PRIMARY KEY,
  lender_id   int REFERENCES api.people,
  borrower_id int REFERENCES api.people
);

GRANT SELECT, INSERT ON api.author_bios, api.tags, api.book_tags, api.reviews, api.people, api.loans TO web_anon;
GRANT SELECT (id, name), INSERT (id, name, secret) ON api.authors TO web_anon;  -- secret: write only
GRANT SELECT, INSERT (id, title, author_id) ON api.books TO web_anon;          -- year: read only
GRANT UPDATE ON api.authors TO web_anon;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA api TO web_anon;

INSERT INTO api.authors (name) VALUES ('Existing');
