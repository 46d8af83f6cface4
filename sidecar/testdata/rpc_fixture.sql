-- Functions for the RPC tests (loaded after fixture.sql and write_fixture.sql).
CREATE FUNCTION api.add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$;
CREATE FUNCTION api.hello(name text DEFAULT 'world') RETURNS text LANGUAGE sql STABLE AS $$ SELECT 'hello ' || name $$;
CREATE FUNCTION api.series(n int) RETURNS SETOF int LANGUAGE sql STABLE AS $$ SELECT generate_series(1, n) $$;
CREATE FUNCTION api.projects_of(client int) RETURNS SETOF api.projects LANGUAGE sql STABLE AS
  $$ SELECT * FROM api.projects WHERE client_id = client $$;
CREATE FUNCTION api.first_project() RETURNS api.projects LANGUAGE sql STABLE AS
  $$ SELECT * FROM api.projects ORDER BY id LIMIT 1 $$;
CREATE FUNCTION api.new_client(id int, name text) RETURNS api.clients LANGUAGE sql VOLATILE AS
  $$ INSERT INTO api.clients VALUES (id, name) RETURNING * $$;
CREATE FUNCTION api.noop() RETURNS void LANGUAGE sql VOLATILE AS $$ SELECT $$;
CREATE FUNCTION api.echo_json(json) RETURNS json LANGUAGE sql IMMUTABLE AS $$ SELECT $1 $$;
CREATE FUNCTION api.pairs() RETURNS TABLE (k text, v int) LANGUAGE sql STABLE AS $$ VALUES ('a', 1), ('b', 2) $$;
CREATE FUNCTION api.fail(msg text) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  RAISE SQLSTATE 'PGRST' USING MESSAGE = json_build_object('code', 'X1', 'message', msg)::text,
    DETAIL = '{"status": 418, "headers": {"X-Teapot": "yes"}}';
END $$;
CREATE FUNCTION api.overloaded(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$;
CREATE FUNCTION api.overloaded(a text) RETURNS text LANGUAGE sql AS $$ SELECT a $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO web_anon, web_user;
