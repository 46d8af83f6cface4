package sidecar_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/config"
)

// isolationFixture: serializable_anon's requests run SERIALIZABLE, rr_anon's REPEATABLE READ (ALTER ROLE … SET
// default_transaction_isolation); functions report
// the transaction's level and mode, some declare their own level; api.bump updates a counter row after waiting
// for an advisory lock the test holds, so that the test can commit a concurrent update in between.
const isolationFixture = `
DO $$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'serializable_anon') THEN
    CREATE ROLE serializable_anon NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rr_anon') THEN
    CREATE ROLE rr_anon NOLOGIN;
  END IF;
END$$;
GRANT serializable_anon, rr_anon TO authenticator;
ALTER ROLE serializable_anon SET default_transaction_isolation = 'serializable';
ALTER ROLE serializable_anon SET work_mem = '9MB';
ALTER ROLE rr_anon SET default_transaction_isolation TO 'REPEATABLE READ';
GRANT USAGE ON SCHEMA api TO serializable_anon, rr_anon;
GRANT SELECT ON api.items TO serializable_anon, rr_anon;
CREATE TABLE api.counter (id int PRIMARY KEY, n int NOT NULL);
INSERT INTO api.counter VALUES (1, 0);
CREATE TABLE api.isolog (id int PRIMARY KEY, iso text NOT NULL DEFAULT current_setting('transaction_isolation'));
GRANT SELECT, INSERT ON api.isolog TO serializable_anon;
GRANT SELECT, INSERT, UPDATE ON api.counter TO web_anon, serializable_anon, rr_anon;
CREATE FUNCTION api.iso() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('transaction_isolation') $$;
CREATE FUNCTION api.iso_mode() RETURNS json LANGUAGE sql AS $$
  SELECT json_build_object('iso', current_setting('transaction_isolation'), 'ro', current_setting('transaction_read_only'),
    'pid', pg_backend_pid()) $$;
CREATE FUNCTION api.iso_rr() RETURNS text LANGUAGE sql STABLE SET default_transaction_isolation = 'repeatable read'
  AS $$ SELECT current_setting('transaction_isolation') $$;
CREATE FUNCTION api.iso_serializable() RETURNS text LANGUAGE sql SET default_transaction_isolation TO 'serializable'
  AS $$ SELECT current_setting('transaction_isolation') $$;
CREATE FUNCTION api.setting(name text) RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting(name) $$;
CREATE FUNCTION api.fail() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'failed on purpose'; END $$;
CREATE FUNCTION api.bump(lock bigint) RETURNS int LANGUAGE plpgsql AS $$
DECLARE v int;
BEGIN
  PERFORM pg_advisory_xact_lock(lock);
  UPDATE api.counter SET n = n + 1 WHERE id = 1 RETURNING n INTO v;
  RETURN v;
END $$;
CREATE FUNCTION api.bump_serializable(lock bigint) RETURNS int LANGUAGE plpgsql
  SET default_transaction_isolation = 'serializable' AS $$
DECLARE v int;
BEGIN
  PERFORM pg_advisory_xact_lock(lock);
  UPDATE api.counter SET n = n + 1 WHERE id = 1 RETURNING n INTO v;
  RETURN v;
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO web_anon, serializable_anon, rr_anon;
`

// TestRoleIsolationLevel: an impersonated role's default_transaction_isolation is the isolation level of its
// requests' transactions, read-only for reads and read-write for volatile calls, as PostgREST begins them
// (its "Transaction Isolation" reference: ALTER ROLE webuser SET default_transaction_isolation TO 'repeatable
// read'); the role's other settings still apply; a request that fails or rolls back leaves its connection clean.
func TestRoleIsolationLevel(t *testing.T) {
	// One connection: every request reuses it, so the prepared (batch) path and the clean-up after a failed
	// explicit transaction are both exercised.
	ts := start(t, func(c *config.Config) {
		c.DBAnonRole = "serializable_anon"
		c.DBPool = 1
		c.DBTxEnd = "commit-allow-override"
	}, fixture(t), isolationFixture)
	runCases(t, ts, []readCase{
		{name: "a read-only call runs serializable", path: "/rpc/iso", status: 200, body: `"serializable"`},
		{name: "again, prepared", path: "/rpc/iso", status: 200, body: `"serializable"`},
		{name: "and once more, as a batch", path: "/rpc/iso", status: 200, body: `"serializable"`},
		{name: "a volatile call runs serializable, read-write", method: "POST", path: "/rpc/iso_mode", status: 200,
			contains: []string{`"iso" : "serializable"`, `"ro" : "off"`}},
		{name: "a GET call runs serializable, read-only", path: "/rpc/iso_mode", status: 200,
			contains: []string{`"iso" : "serializable"`, `"ro" : "on"`}},
		{name: "a write in a GET call fails read-only", path: "/rpc/bump?lock=1", status: 405, contains: []string{`"code":"25006"`}},
		{name: "the role's other settings apply", path: "/rpc/setting?name=work_mem", status: 200, body: `"9MB"`},
		{name: "default_transaction_isolation is not set with set_config", path: "/rpc/setting?name=default_transaction_isolation",
			status: 200, body: `"read committed"`},
		{name: "a table read", path: "/items?select=id&id=lt.3&order=id", status: 200, body: `[{"id":1},{"id":2}]`},
		{name: "a table read, prepared", path: "/items?select=id&id=lt.3&order=id", status: 200, body: `[{"id":1},{"id":2}]`},
		{name: "a function's own level wins over the role's", path: "/rpc/iso_rr", status: 200, body: `"repeatable read"`},
	})
	pid := func() float64 {
		t.Helper()
		res := ts.do("POST", "/rpc/iso_mode", nil, "")
		if res.Status != 200 {
			t.Fatalf("iso_mode: %d %s", res.Status, res.Body)
		}
		return jsonField(t, res.Body, "pid").(float64)
	}
	if res := ts.do("POST", "/counter", []string{"Prefer: return=representation"}, `{"id":8,"n":8}`); res.Status != 201 ||
		res.Body != `[{"id":8,"n":8}]` {
		t.Fatalf("a write: %d %s", res.Status, res.Body)
	}
	if res := ts.get("/counter?id=eq.8"); res.Body != `[{"id":8,"n":8}]` {
		t.Fatalf("the written row: %d %s", res.Status, res.Body)
	}
	before := pid()
	if res := ts.do("POST", "/rpc/fail", nil, ""); res.Status != 400 {
		t.Fatalf("fail: %d %s", res.Status, res.Body)
	}
	if res := ts.get("/rpc/iso"); res.Status != 200 || res.Body != `"serializable"` {
		t.Fatalf("after a failed request: %d %s", res.Status, res.Body)
	}
	res := ts.do("POST", "/counter", []string{"Prefer: tx=rollback", "Prefer: return=representation"}, `{"id":7,"n":7}`)
	if res.Status != 201 || res.Header.Get("Preference-Applied") == "" {
		t.Fatalf("rolled back insert: %d %v %s", res.Status, res.Header, res.Body)
	}
	if res := ts.get("/counter?id=eq.7"); res.Status != 200 || res.Body != `[]` {
		t.Fatalf("the rolled back row: %d %s", res.Status, res.Body)
	}
	if after := pid(); after != before {
		t.Errorf("the connection was replaced after a failed explicit transaction (backend %v, then %v)", before, after)
	}

	// A write whose body is streamed with COPY runs in an explicit transaction of its own: of the role's level.
	copied := startOn(t, ts.DB, func(c *config.Config) { c.DBAnonRole = "serializable_anon"; c.StreamBodyBytes = 1 })
	if res := copied.do("POST", "/isolog", []string{"Prefer: return=representation"}, `{"id":1}`); res.Status != 201 ||
		res.Body != `[{"id":1,"iso":"serializable"}]` {
		t.Fatalf("a streamed write: %d %s", res.Status, res.Body)
	}

	rr := startOn(t, ts.DB, func(c *config.Config) { c.DBAnonRole = "rr_anon" })
	runCases(t, rr, []readCase{
		{name: "another role, another level (any case)", path: "/rpc/iso", status: 200, body: `"repeatable read"`},
	})
	plain := startOn(t, ts.DB, nil)
	runCases(t, plain, []readCase{
		{name: "without a setting, read committed", path: "/rpc/iso", status: 200, body: `"read committed"`},
		{name: "a function's default_transaction_isolation", method: "POST", path: "/rpc/iso_serializable", status: 200,
			body: `"serializable"`},
		{name: "a function's repeatable read, read-only", path: "/rpc/iso_rr", status: 200, body: `"repeatable read"`},
		{name: "not subject to db-hoisted-tx-settings", path: "/rpc/iso_rr", status: 200, body: `"repeatable read"`},
	})
	none := startOn(t, ts.DB, func(c *config.Config) { c.DBHoistedTxSettings = nil })
	runCases(t, none, []readCase{
		{name: "with no hoisted settings, the level still applies", path: "/rpc/iso_rr", status: 200, body: `"repeatable read"`},
	})
}

// TestSerializationFailure: a concurrent update committed after a serializable transaction took its snapshot
// fails that transaction's update with 40001, which PostgREST answers 500 (its SQLSTATE table maps class 40
// to 500) without retrying; under READ COMMITTED the same sequence succeeds.
func TestSerializationFailure(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBAnonRole = "serializable_anon" }, fixture(t), isolationFixture)
	plain := startOn(t, ts.DB, nil)
	admin, err := pgx.Connect(context.Background(), ts.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())

	// race calls fn while the test holds the advisory lock the function waits for, commits an update of the
	// counter row once the call waits, then lets it go on.
	race := func(ts *testServer, fn string, lock int64) response {
		t.Helper()
		ctx := context.Background()
		if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", lock); err != nil {
			t.Fatal(err)
		}
		done := make(chan response, 1)
		go func() {
			done <- ts.do("POST", "/rpc/"+fn, []string{"Content-Type: application/json"}, `{"lock":`+strconv.FormatInt(lock, 10)+`}`)
		}()
		deadline := time.Now().Add(10 * time.Second)
		for {
			var waiting int
			if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
				AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND objid = $1`,
				lock).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if waiting > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the call never waited for the lock")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := admin.Exec(ctx, "UPDATE api.counter SET n = n + 100 WHERE id = 1"); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(ctx, "SELECT pg_advisory_unlock($1)", lock); err != nil {
			t.Fatal(err)
		}
		return <-done
	}

	res := race(ts, "bump", 101)
	if res.Status != http.StatusInternalServerError {
		t.Fatalf("serializable role: status %d, want 500; body %s", res.Status, res.Body)
	}
	assertBody(t, res.Body, `{"code":"40001","details":null,"hint":null,"message":"could not serialize access due to concurrent update"}`)

	res = race(plain, "bump_serializable", 102)
	if res.Status != http.StatusInternalServerError {
		t.Fatalf("serializable function: status %d, want 500; body %s", res.Status, res.Body)
	}
	assertBody(t, res.Body, `{"code":"40001","details":null,"hint":null,"message":"could not serialize access due to concurrent update"}`)

	res = race(plain, "bump", 103)
	if res.Status != http.StatusOK {
		t.Fatalf("read committed: status %d, want 200; body %s", res.Status, res.Body)
	}
	if res.Body != `301` {
		t.Errorf("read committed: body %s, want 301 (three concurrent updates of 100, then this one)", res.Body)
	}
	// The serializable transactions were not retried: only this call's update counted.
	var n int
	if err := admin.QueryRow(context.Background(), "SELECT n FROM api.counter WHERE id = 1").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 301 {
		t.Errorf("counter = %d, want 301", n)
	}
}

// jsonField is one field of a JSON object body.
func jsonField(t *testing.T, body, key string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, body)
	}
	return m[key]
}
