-- Version 1 of the public interface: auto-updatable views over the private tables.
CREATE SCHEMA api_v1;

CREATE VIEW api_v1.authors AS
  SELECT id, name, country FROM library.authors;

CREATE VIEW api_v1.books AS
  SELECT id, title, author_id, published_year AS year, pages FROM library.books;
COMMENT ON VIEW api_v1.books IS 'Books (v1)';

GRANT USAGE ON SCHEMA api_v1 TO web_anon, web_user;
GRANT SELECT ON ALL TABLES IN SCHEMA api_v1 TO web_anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA api_v1 TO web_user;
GRANT USAGE ON SCHEMA library TO web_anon, web_user;

INSERT INTO pgway.api_versions (name, schema_name, status) VALUES ('v1', 'api_v1', 'current');

---- create above / drop below ----

DELETE FROM pgway.api_versions WHERE name = 'v1';
DROP SCHEMA api_v1 CASCADE;
