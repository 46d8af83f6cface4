-- Version 2 changes the interface over the same data: books.year is renamed published_year, books.pages is
-- removed, reviews appear (a new embedded relationship books -> reviews) and a function average_rating is new.
-- v1 keeps working unchanged; v2 becomes the current version.
CREATE SCHEMA api_v2;

CREATE VIEW api_v2.authors AS
  SELECT id, name, country FROM library.authors;

CREATE VIEW api_v2.books AS
  SELECT id, title, author_id, published_year, isbn FROM library.books;
COMMENT ON VIEW api_v2.books IS 'Books (v2)';

CREATE VIEW api_v2.reviews AS
  SELECT id, book_id, stars, body, created FROM library.reviews;

CREATE FUNCTION api_v2.average_rating(book_id int) RETURNS numeric
  LANGUAGE sql STABLE
  AS $$ SELECT round(avg(stars), 2) FROM library.reviews r WHERE r.book_id = average_rating.book_id $$;
COMMENT ON FUNCTION api_v2.average_rating(int) IS 'Average stars of a book, two decimals';

GRANT USAGE ON SCHEMA api_v2 TO web_anon, web_user;
GRANT SELECT ON ALL TABLES IN SCHEMA api_v2 TO web_anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA api_v2 TO web_user;
GRANT SELECT ON library.reviews TO web_anon, web_user;
GRANT EXECUTE ON FUNCTION api_v2.average_rating(int) TO web_anon, web_user;

UPDATE pgway.api_versions SET status = 'active' WHERE name = 'v1';
INSERT INTO pgway.api_versions (name, schema_name, status) VALUES ('v2', 'api_v2', 'current');
UPDATE pgway.api_versions SET successor = 'v2' WHERE name = 'v1';

---- create above / drop below ----

UPDATE pgway.api_versions SET successor = NULL WHERE successor = 'v2';
DELETE FROM pgway.api_versions WHERE name = 'v2';
UPDATE pgway.api_versions SET status = 'current' WHERE name = 'v1';
DROP SCHEMA api_v2 CASCADE;
