package sidecar_test

import (
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/pgtest"
)

func TestCORS(t *testing.T) {
	ts := start(t, nil, fixture(t))
	runCases(t, ts, []readCase{
		{name: "no Origin, no CORS headers", path: "/items?id=eq.1", status: 200, header: []string{"Access-Control-Allow-Origin:"}},
		{name: "simple request", path: "/items?id=eq.1", headers: []string{"Origin: http://example.com"}, status: 200,
			header: []string{"Access-Control-Allow-Origin: *", "Access-Control-Expose-Headers: " +
				"Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, Transfer-Encoding, Range-Unit"}},
		{name: "preflight", method: "OPTIONS", path: "/items",
			headers: []string{"Origin: http://example.com", "Access-Control-Request-Method: POST",
				"Access-Control-Request-Headers: Content-Type, Prefer"}, status: 200,
			header: []string{"Access-Control-Allow-Origin: *", "Access-Control-Allow-Methods: GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD",
				"Access-Control-Allow-Headers: Authorization, Content-Type, Prefer, Accept, Accept-Language, Content-Language", "Access-Control-Max-Age: 86400"}},
	})
	restricted := start(t, func(c *config.Config) { c.ServerCorsAllowedOrigins = []string{"http://good.example"} }, fixture(t))
	runCases(t, restricted, []readCase{
		{name: "allowed origin", path: "/items?id=eq.1", headers: []string{"Origin: http://good.example"}, status: 200,
			header: []string{"Access-Control-Allow-Origin: http://good.example"}},
		{name: "other origin", path: "/items?id=eq.1", headers: []string{"Origin: http://evil.example"}, status: 200,
			header: []string{"Access-Control-Allow-Origin:"}},
	})
}

const preRequestFixture = `
CREATE FUNCTION api.check_request() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('request.headers', true)::json->>'x-blocked' = 'yes' THEN
    RAISE SQLSTATE 'PGRST' USING MESSAGE = '{"code":"BLOCKED","message":"blocked by pre-request"}', DETAIL = '{"status":403}';
  END IF;
END $$;
GRANT EXECUTE ON FUNCTION api.check_request() TO web_anon, web_user;
CREATE VIEW api.app_setting AS SELECT current_setting('app.settings.greeting', true) AS greeting;
GRANT SELECT ON api.app_setting TO web_anon;
`

func TestPreRequestAndAppSettings(t *testing.T) {
	ts := start(t, func(c *config.Config) {
		c.DBPreRequest = "api.check_request"
		c.AppSettings = map[string]string{"greeting": "hi there"}
	}, fixture(t), preRequestFixture)
	runCases(t, ts, []readCase{
		{name: "pre-request passes", path: "/items?select=id&id=eq.1", status: 200, body: `[{"id":1}]`},
		{name: "pre-request rejects", path: "/items?id=eq.1", headers: []string{"X-Blocked: yes"}, status: 403,
			body: `{"code":"BLOCKED","message":"blocked by pre-request","details":null,"hint":null}`},
		{name: "app settings are visible", path: "/app_setting", status: 200, body: `[{"greeting":"hi there"}]`},
	})
}

func TestPreferTimezone(t *testing.T) {
	ts := start(t, nil, fixture(t))
	runCases(t, ts, []readCase{
		{name: "timezone applied", path: "/items?select=created_at&id=eq.1", headers: []string{"Prefer: timezone=America/Los_Angeles"},
			status: 200, body: `[{"created_at":"2023-12-31T16:00:00-08:00"}]`,
			header: []string{"Preference-Applied: timezone=America/Los_Angeles"}},
		{name: "an invalid timezone is PostgreSQL's error whatever the handling", path: "/items?id=eq.1",
			headers: []string{"Prefer: handling=lenient, timezone=Invalid/Timezone"}, status: 400,
			body: `{"code":"22023","message":"invalid value for parameter \"TimeZone\": \"Invalid/Timezone\"","details":null,"hint":null}`},
		{name: "offsets", path: "/items?select=created_at&id=eq.1", headers: []string{"Prefer: timezone=-4"},
			status: 200, body: `[{"created_at":"2023-12-31T20:00:00-04:00"}]`, header: []string{"Preference-Applied: timezone=-4"}},
	})
}

func TestJSONPathCasts(t *testing.T) {
	ts := start(t, nil, fixture(t))
	runCases(t, ts, []readCase{
		{name: "cast applies to the whole path", path: "/items?select=n:meta->>n::int,first:meta->arr->>0::int&id=eq.1",
			status: 200, body: `[{"n":1,"first":10}]`},
		{name: "text to json", path: "/items?select=meta->>lang::json&id=eq.2", status: 400, contains: []string{`"code":"22P02"`}},
	})
}

var serverTiming = regexp.MustCompile(`^jwt;dur=\d+\.\d, parse;dur=\d+\.\d, plan;dur=\d+\.\d, transaction;dur=\d+\.\d, response;dur=\d+\.\d$`)

func TestServerTiming(t *testing.T) {
	rpc, err := os.ReadFile("testdata/rpc_fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	off := start(t, nil, fixture(t), writeFixture(t), string(rpc))
	if h := off.get("/items?id=eq.1").Header.Get("Server-Timing"); h != "" {
		t.Fatalf("Server-Timing without server-timing-enabled: %q", h)
	}
	on := startOn(t, off.DB, func(c *config.Config) { c.ServerTimingEnabled = true })
	for _, r := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"read", "GET", "/items?id=eq.1", "", 200},
		{"write", "POST", "/clients", `{"id":9001,"name":"timed"}`, 201},
		{"call", "GET", "/rpc/add?a=1&b=2", "", 200},
		{"error", "GET", "/items?id=eq.abc", "", 400},
	} {
		t.Run(r.name, func(t *testing.T) {
			res := on.do(r.method, r.path, []string{"Content-Type: application/json"}, r.body)
			if res.Status != r.status {
				t.Fatalf("status %d: %s", res.Status, res.Body)
			}
			if h := res.Header.Get("Server-Timing"); !serverTiming.MatchString(h) {
				t.Fatalf("Server-Timing %q", h)
			}
		})
	}
}

const preparedFixture = `
CREATE FUNCTION api.prepared_count() RETURNS bigint LANGUAGE sql STABLE AS
  $$ SELECT count(*) FROM pg_prepared_statements $$;
GRANT EXECUTE ON FUNCTION api.prepared_count() TO web_anon;
`

// TestPreparedStatements: db-prepared-statements = false leaves no named statement on pgway's connections
// (what transaction-pooling proxies need); the default prepares.
func TestPreparedStatements(t *testing.T) {
	db := pgtest.NewDatabase(t, fixture(t), preparedFixture)
	for _, r := range []struct {
		prepare bool
		want    string
	}{{true, "nonzero"}, {false, "0"}} {
		ts := startOn(t, db, func(c *config.Config) { c.DBPool = 1; c.DBPreparedStatements = r.prepare })
		for range 3 {
			if res := ts.get("/items?id=eq.1"); res.Status != 200 {
				t.Fatalf("status %d: %s", res.Status, res.Body)
			}
		}
		res := ts.get("/rpc/prepared_count")
		if res.Status != 200 {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		if got := res.Body; (r.want == "0") != (got == "0") {
			t.Fatalf("db-prepared-statements=%v: %s statements prepared on the connection", r.prepare, got)
		}
	}
}

// TestInDatabaseConfig: the authenticator's pgrst.* settings override the file and environment at start and
// again on NOTIFY pgrst, 'reload config' (db-config); with db-config off they are not read.
func TestInDatabaseConfig(t *testing.T) {
	db := pgtest.NewDatabase(t, fixture(t))
	db.Exec(t, `ALTER ROLE authenticator IN DATABASE `+db.Name+` SET pgrst.db_schemas = 'other';
		ALTER ROLE authenticator IN DATABASE `+db.Name+` SET pgrst.db_max_rows = '1'`)

	off := startOn(t, db, func(c *config.Config) { c.DBConfig = false })
	if res := off.get("/items?select=id"); res.Status != 200 || res.Body == `[{"id":1}]` {
		t.Fatalf("db-config off: %d %s", res.Status, res.Body)
	}

	ts := startOn(t, db, nil)
	runCases(t, ts, []readCase{
		{name: "schemas from the database", path: "/widgets?select=id&order=id", status: 200, body: `[{"id":1}]`},
		{name: "the file's schemas are replaced", path: "/items", headers: []string{"Accept-Profile: api"}, status: 406,
			contains: []string{`"code":"PGRST106"`}},
	})

	db.Exec(t, `ALTER ROLE authenticator IN DATABASE `+db.Name+` SET pgrst.db_schemas = 'api, other';
		NOTIFY pgrst, 'reload config'`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := ts.get("/items?select=id&order=id")
		if res.Status == 200 {
			if res.Body != `[{"id":1}]` {
				t.Fatalf("after reload config: %s (db-max-rows from the database should still apply)", res.Body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reload config did not expose api: %d %s", res.Status, res.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTraceHeader(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.ServerTraceHeader = "X-Request-Id" }, fixture(t))
	for _, path := range []string{"/items?id=eq.1", "/no_such_table", "/"} {
		if got := ts.get(path, "X-Request-Id: abc-123").Header.Get("X-Request-Id"); got != "abc-123" {
			t.Fatalf("%s: X-Request-Id %q", path, got)
		}
	}
	if got := ts.get("/items?id=eq.1").Header.Get("X-Request-Id"); got != "" {
		t.Fatalf("no trace header sent, got %q back", got)
	}
}

func TestClientErrorVerbosity(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.ClientErrorVerbosity = "minimal" }, fixture(t))
	runCases(t, ts, []readCase{
		{name: "only code and message", path: "/itemsx", status: 404,
			body: `{"code":"PGRST205","message":"Could not find the table 'api.itemsx' in the schema cache"}`},
	})
}

// roleSettingsFixture gives a dedicated anonymous role a short statement_timeout (roles are cluster-wide: the
// shared web_anon is left alone).
const roleSettingsFixture = `
DO $$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'impatient_anon') THEN
    CREATE ROLE impatient_anon NOLOGIN;
  END IF;
END$$;
GRANT impatient_anon TO authenticator;
ALTER ROLE impatient_anon SET statement_timeout = '100ms';
ALTER ROLE impatient_anon SET work_mem = '8MB';
GRANT SET ON PARAMETER log_min_duration_statement TO authenticator;
ALTER ROLE impatient_anon SET log_min_duration_statement = '1234';
GRANT USAGE ON SCHEMA api TO impatient_anon;
CREATE FUNCTION api.slow() RETURNS int LANGUAGE sql AS $$ SELECT 1 FROM pg_sleep(1) $$;
CREATE FUNCTION api.setting(name text) RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting(name) $$;
GRANT EXECUTE ON FUNCTION api.slow(), api.setting(text) TO impatient_anon;
`

// TestImpersonatedRoleSettings: a role's own settings (ALTER ROLE … SET) apply to its requests, as PostgREST
// applies the impersonated role's settings; statement_timeout turns a slow call into 57014 (500).
func TestImpersonatedRoleSettings(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBAnonRole = "impatient_anon" }, fixture(t), roleSettingsFixture)
	runCases(t, ts, []readCase{
		{name: "the role's settings are in effect", path: "/rpc/setting?name=work_mem", status: 200, body: `"8MB"`},
		{name: "a superuser parameter granted to the authenticator is set before the role switch",
			path: "/rpc/setting?name=log_min_duration_statement", status: 200, body: `"1234ms"`},
		{name: "statement_timeout cancels a slow call", path: "/rpc/slow", status: 500,
			contains: []string{`"code":"57014"`}, header: []string{"Proxy-Status: PostgREST; error=57014"}},
	})
}

// TestHoistedFunctionSettings: a statement_timeout declared on a function bounds the call's transaction
// (db-hoisted-tx-settings), other function settings stay function-local.
func TestHoistedFunctionSettings(t *testing.T) {
	ts := start(t, nil, fixture(t), `
CREATE FUNCTION api.slow_hoisted() RETURNS int LANGUAGE sql SET statement_timeout = '100ms' AS $$ SELECT 1 FROM pg_sleep(1) $$;
GRANT EXECUTE ON FUNCTION api.slow_hoisted() TO web_anon;`)
	runCases(t, ts, []readCase{
		{name: "hoisted statement_timeout", path: "/rpc/slow_hoisted", status: 500, contains: []string{`"code":"57014"`}},
	})
	off := startOn(t, ts.DB, func(c *config.Config) { c.DBHoistedTxSettings = nil })
	runCases(t, off, []readCase{
		{name: "not hoisted, the function's own SET does not bound its statement", path: "/rpc/slow_hoisted", status: 200, body: `1`},
	})
}

// TestRootSpec: db-root-spec answers the root with a function's result (PostgREST's OpenAPI override).
func TestRootSpec(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBRootSpec = "root" }, fixture(t), `
CREATE FUNCTION api.root() RETURNS json LANGUAGE sql STABLE AS $$ SELECT '{"swagger":"2.0","info":{"title":"Overridden"}}'::json $$;
GRANT EXECUTE ON FUNCTION api.root() TO web_anon;`)
	runCases(t, ts, []readCase{
		{name: "overridden", path: "/", status: 200, body: `{"swagger":"2.0","info":{"title":"Overridden"}}`,
			header: []string{"Content-Type: application/openapi+json; charset=utf-8"}},
		{name: "with Accept: application/json", path: "/", headers: []string{"Accept: application/json"}, status: 200,
			body: `{"swagger":"2.0","info":{"title":"Overridden"}}`},
	})
}

// TestPreConfig: a db-pre-config function's pgrst.* settings configure pgway, below the role's own settings.
func TestPreConfig(t *testing.T) {
	db := pgtest.NewDatabase(t, fixture(t), `
CREATE SCHEMA conf;
CREATE FUNCTION conf.pre_config() RETURNS void LANGUAGE sql AS $$
  SELECT set_config('pgrst.db_schemas', 'other', true), set_config('pgrst.db_max_rows', '1', true);
$$;
GRANT USAGE ON SCHEMA conf TO authenticator;`)
	db.Exec(t, `ALTER ROLE authenticator IN DATABASE `+db.Name+` SET pgrst.db_max_rows = '2'`)
	ts := startOn(t, db, func(c *config.Config) { c.DBPreConfig = "conf.pre_config" })
	runCases(t, ts, []readCase{
		{name: "schemas from the function, max rows from the role", path: "/widgets?select=id&order=id", status: 200,
			body: `[{"id":1},{"id":2}]`},
	})
}
