-- Test schema for the sidecar's end-to-end tests (roles are cluster-wide, so they are created idempotently).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'web_anon') THEN
    CREATE ROLE web_anon NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'web_user') THEN
    CREATE ROLE web_user NOLOGIN;
  END IF;
END $$;
GRANT web_anon, web_user TO authenticator;

CREATE SCHEMA api;
CREATE SCHEMA other;
GRANT USAGE ON SCHEMA api, other TO web_anon, web_user;

CREATE TYPE api.mood AS ENUM ('sad', 'ok', 'happy');

CREATE TABLE api.items (
  id         bigint PRIMARY KEY,
  name       text NOT NULL,
  price      numeric(10,2),
  meta       jsonb,
  tags       text[],
  mood       api.mood,
  created_at timestamptz NOT NULL DEFAULT '2024-01-01T00:00:00Z',
  search     tsvector GENERATED ALWAYS AS (to_tsvector('english', name)) STORED,
  during     int4range
);
COMMENT ON TABLE api.items IS 'Things for sale';
INSERT INTO api.items (id, name, price, meta, tags, mood, during) VALUES
  (1, 'apple',      1.50, '{"lang":"en","n":1,"arr":[10,20]}', '{red,fruit}',   'happy', '[1,5)'),
  (2, 'banana',     0.25, '{"lang":"en","n":2,"arr":[30]}',    '{yellow,fruit}', 'ok',   '[5,10)'),
  (3, 'cherry pie', 7.00, '{"lang":"fr","n":3}',               '{red,dessert}', 'sad',   '[10,20)'),
  (4, 'dragon, "fruit"', NULL, NULL,                           NULL,            NULL,    NULL),
  (5, 'Éclair',     3.10, '{"lang":"fr"}',                     '{dessert}',     'happy', '[20,30)');
GRANT SELECT ON api.items TO web_anon, web_user;

-- Only the authenticated role may read this one.
CREATE TABLE api.secrets (id int PRIMARY KEY, secret text NOT NULL);
INSERT INTO api.secrets VALUES (1, 'swordfish');
GRANT SELECT ON api.secrets TO web_user;

-- Row-level security by the JWT's sub claim.
CREATE TABLE api.notes (id int PRIMARY KEY, owner text NOT NULL, body text NOT NULL);
INSERT INTO api.notes VALUES (1, 'alice', 'alice note'), (2, 'bob', 'bob note'), (3, 'alice', 'second alice note');
ALTER TABLE api.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_notes ON api.notes
  USING (owner = current_setting('request.jwt.claims', true)::json->>'sub');
GRANT SELECT ON api.notes TO web_user;

CREATE VIEW api.cheap_items AS SELECT id, name, price FROM api.items WHERE price < 2;
GRANT SELECT ON api.cheap_items TO web_anon, web_user;

CREATE TABLE other.widgets (id int PRIMARY KEY, label text);
INSERT INTO other.widgets VALUES (1, 'gear'), (2, 'sprocket');
GRANT SELECT ON other.widgets TO web_anon, web_user;

-- A view that reads the request's GUCs, to check what pgway sets per request.
CREATE VIEW api.whoami AS
  SELECT current_user::text AS role,
         current_setting('request.method', true) AS method,
         current_setting('request.path', true) AS path,
         current_setting('request.headers', true)::json->>'x-trace' AS trace,
         current_setting('request.jwt.claims', true)::json->>'sub' AS sub,
         current_setting('search_path') AS search_path;
GRANT SELECT ON api.whoami TO web_anon, web_user;
