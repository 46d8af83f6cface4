package sidecar_test

import (
	"testing"
	"time"

	"github.com/pgway/pgway/internal/config"
)

// statementTimeoutFixture: a sleeping function, one declaring its own statement_timeout, and a dedicated role
// whose own statement_timeout is long (roles are cluster-wide: the shared web_anon is left alone).
const statementTimeoutFixture = `
DO $$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'patient_anon') THEN
    CREATE ROLE patient_anon NOLOGIN;
  END IF;
END$$;
GRANT patient_anon TO authenticator;
ALTER ROLE patient_anon SET statement_timeout = '5s';
GRANT USAGE ON SCHEMA api TO patient_anon;
CREATE FUNCTION api.nap(s float8) RETURNS int LANGUAGE sql AS $$ SELECT 1 FROM pg_sleep(s) $$;
CREATE FUNCTION api.patient_nap(s float8) RETURNS int LANGUAGE sql SET statement_timeout = '5s'
  AS $$ SELECT 1 FROM pg_sleep(s) $$;
CREATE VIEW api.slow_view AS SELECT 1 AS id FROM pg_sleep(1);
GRANT SELECT ON api.slow_view TO web_anon;
CREATE FUNCTION api.setting(name text) RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting(name) $$;
GRANT EXECUTE ON FUNCTION api.nap(float8), api.patient_nap(float8), api.setting(text) TO web_anon, patient_anon;
`

// TestStatementTimeout: db-statement-timeout bounds every request's statements (57014, 500 as PostgREST maps it);
// the impersonated role's own statement_timeout and a function's hoisted one override it.
func TestStatementTimeout(t *testing.T) {
	short := func(c *config.Config) { c.DBStatementTimeout = 200 * time.Millisecond }
	ts := start(t, short, fixture(t), statementTimeoutFixture)
	runCases(t, ts, []readCase{
		{name: "set in the transaction", path: "/rpc/setting?name=statement_timeout", status: 200, body: `"200ms"`},
		{name: "a statement beyond it is cancelled", path: "/rpc/nap?s=1", status: 500,
			contains: []string{`"code":"57014"`, `statement timeout`},
			header:   []string{"Proxy-Status: PostgREST; error=57014"}},
		{name: "a statement within it runs", path: "/rpc/nap?s=0.01", status: 200, body: `1`},
		{name: "a function's hoisted statement_timeout overrides it", path: "/rpc/patient_nap?s=0.5", status: 200,
			body: `1`},
		{name: "reads are bounded too", path: "/slow_view", status: 500, contains: []string{`"code":"57014"`}},
	})

	role := startOn(t, ts.DB, func(c *config.Config) { short(c); c.DBAnonRole = "patient_anon" })
	runCases(t, role, []readCase{
		{name: "the role's statement_timeout overrides it", path: "/rpc/nap?s=0.5", status: 200, body: `1`},
		{name: "the role's value is in effect", path: "/rpc/setting?name=statement_timeout", status: 200, body: `"5s"`},
	})

	off := startOn(t, ts.DB, func(c *config.Config) { c.DBStatementTimeout = 0 })
	runCases(t, off, []readCase{
		{name: "0 leaves the server's setting", path: "/rpc/setting?name=statement_timeout", status: 200, body: `"0"`},
	})
}
