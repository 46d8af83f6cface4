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
