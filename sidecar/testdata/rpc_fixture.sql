-- Functions for the RPC tests (loaded after fixture.sql and write_fixture.sql).
CREATE FUNCTION api.add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$;
CREATE FUNCTION api.hello(name text DEFAULT 'world') RETURNS text LANGUAGE sql STABLE AS $$ SELECT 'hello ' || name $$;
CREATE FUNCTION api.series(n int) RETURNS SETOF int LANGUAGE sql STABLE AS $$ SELECT generate_series(1, n) $$;
CREATE FUNCTION api.words() RETURNS SETOF text LANGUAGE sql STABLE AS $$ VALUES ('a'), (NULL), ('say "hi"'), ('é\') $$;
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
CREATE FUNCTION api.teapot() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('response.status', '418', true);
  PERFORM set_config('response.headers', '[{"X-Brew": "earl grey"}, {"Cache-Control": "no-store"}]', true);
  RETURN 'short and stout';
END $$;
CREATE FUNCTION api.bad_headers() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('response.headers', '{"not": "an array"}', true);
  RETURN 1;
END $$;
CREATE FUNCTION api.set_location() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('response.headers', json_build_array(json_build_object('X-Created', NEW.a))::text, true);
  RETURN NEW;
END $$;
CREATE TRIGGER set_location AFTER INSERT ON api.no_pk FOR EACH ROW EXECUTE FUNCTION api.set_location();
GRANT EXECUTE ON FUNCTION api.teapot(), api.bad_headers() TO web_anon, web_user;
CREATE FUNCTION api.divmod(a int, b int, OUT q int, OUT r int) LANGUAGE sql IMMUTABLE AS $$ SELECT a / b, a % b $$;
GRANT EXECUTE ON FUNCTION api.divmod(int, int) TO web_anon, web_user;
CREATE FUNCTION api.joined(VARIADIC v text[]) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT array_to_string(v, ',') $$;
GRANT EXECUTE ON FUNCTION api.joined(text[]) TO web_anon, web_user;
CREATE TABLE api.counters (id int PRIMARY KEY);
INSERT INTO api.counters SELECT generate_series(1, 5);
GRANT SELECT, DELETE ON api.counters TO web_anon, web_user;
CREATE FUNCTION api.drop_counters(above int) RETURNS SETOF api.counters LANGUAGE sql VOLATILE AS
  $$ DELETE FROM api.counters WHERE id > above RETURNING * $$;
GRANT EXECUTE ON FUNCTION api.drop_counters(int) TO web_anon, web_user;
