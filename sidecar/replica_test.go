package sidecar_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/pgtest"
)

// replicaFixture: posts to write, views and functions that tell where they ran (pg_is_in_recovery() is true on a
// replica), a stable and a volatile one.
const replicaFixture = `
CREATE TABLE api.posts (id serial PRIMARY KEY, body text NOT NULL);
INSERT INTO api.posts (body) VALUES ('first');
GRANT SELECT, INSERT ON api.posts TO web_anon;
GRANT USAGE ON SEQUENCE api.posts_id_seq TO web_anon;
CREATE VIEW api.posts_where AS SELECT p.id, p.body, pg_is_in_recovery() AS on_replica FROM api.posts p;
CREATE VIEW api.whereami AS SELECT pg_is_in_recovery() AS on_replica;
GRANT SELECT ON api.posts_where, api.whereami TO web_anon;
CREATE FUNCTION api.in_recovery() RETURNS boolean STABLE LANGUAGE sql AS 'SELECT pg_is_in_recovery()';
CREATE FUNCTION api.in_recovery_volatile() RETURNS boolean VOLATILE LANGUAGE sql AS 'SELECT pg_is_in_recovery()';
CREATE FUNCTION api.in_recovery_serializable() RETURNS boolean STABLE LANGUAGE sql
  SET default_transaction_isolation TO 'serializable' AS 'SELECT pg_is_in_recovery()';
CREATE FUNCTION api.in_recovery_repeatable() RETURNS boolean STABLE LANGUAGE sql
  SET default_transaction_isolation TO 'repeatable read' AS 'SELECT pg_is_in_recovery()';
GRANT EXECUTE ON FUNCTION api.in_recovery(), api.in_recovery_volatile(), api.in_recovery_serializable(),
  api.in_recovery_repeatable() TO web_anon;
`

// replicated starts n streaming replicas of the test server, a database with the fixtures on it, and pgway with
// the replicas in db-replica-uris (checked every 50 ms) and an admin port; it waits until every replica is in
// rotation (and has replayed the schema cache's position).
func replicated(t *testing.T, n int, edit func(*config.Config)) (*testServer, []*pgtest.Replica, int) {
	t.Helper()
	var rs []*pgtest.Replica
	for range n {
		rs = append(rs, pgtest.StartReplica(t))
	}
	db := pgtest.NewDatabase(t, fixture(t), replicaFixture)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, r := range rs {
		if err := r.CatchUp(ctx); err != nil { // the database is there before the first check
			t.Fatal(err)
		}
	}
	admin := freeTCPPort(t)
	ts := startOn(t, db, func(c *config.Config) {
		for _, r := range rs {
			c.DBReplicaURIs = append(c.DBReplicaURIs, r.URLAs(db.Name, "authenticator", ""))
		}
		c.DBReplicaCheckInterval = 50 * time.Millisecond
		c.AdminServerPort = admin
		c.DBPool = 4
		if edit != nil {
			edit(c)
		}
	})
	// Checks run now too, for a test whose checkers' interval is long.
	waitUntil(t, 20*time.Second, "every replica in rotation", func() bool {
		ts.srv.CheckReplicas(ctx)
		return ts.srv.ReplicasInRotation() == n
	})
	waitUntil(t, 20*time.Second, "reads served by a replica", func() bool {
		ts.srv.CheckReplicas(ctx)
		return onReplica(t, ts, "/whereami")
	})
	return ts, rs, admin
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitUntil(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// onReplica GETs path (a view or function telling pg_is_in_recovery()) and reports whether a replica served it.
func onReplica(t *testing.T, ts *testServer, path string, headers ...string) bool {
	t.Helper()
	res := ts.do("GET", path, headers, "")
	if res.Status != 200 {
		t.Fatalf("GET %s: %d %s", path, res.Status, res.Body)
	}
	return strings.Contains(res.Body, "true")
}

// backendRequests reads pgway_db_backend_requests_total per backend from the admin server's /metrics.
func backendRequests(t *testing.T, admin int) map[string]int {
	t.Helper()
	out := map[string]int{}
	for b, v := range backendMetric(t, admin, "pgway_db_backend_requests_total") {
		out[b] = int(v)
	}
	return out
}

// backendMetric reads a pgway_db_backend_* series per backend from the admin server's /metrics.
func backendMetric(t *testing.T, admin int, name string) map[string]float64 {
	t.Helper()
	res, err := http.Get("http://127.0.0.1:" + strconv.Itoa(admin) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := map[string]float64{}
	for _, m := range regexp.MustCompile(`(?m)^`+name+`\{backend="(\w+)"\} (\S+)$`).FindAllStringSubmatch(string(b), -1) {
		out[m[1]], _ = strconv.ParseFloat(m[2], 64)
	}
	for _, want := range []string{"pgway_db_backend_healthy{backend=\"replica1\"}", "pgway_db_backend_lag_bytes{backend=\"replica1\"}",
		"pgway_db_backend_lag_seconds{backend=\"replica1\"}", "pgway_db_backend_in_flight{backend=\"primary\"}",
		"pgway_db_backend_fallbacks_total{backend=\"replica1\"}", "pgway_db_backend_requests_total{backend=\"primary\"}"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	return out
}

// TestReplicaRouting: with two replicas, reads and calls of stable functions run on a replica (the function sees
// pg_is_in_recovery()), spread over both; writes, volatile calls, everything that writes and serializable
// transactions run on the primary; a write's response carries its commit LSN.
func TestReplicaRouting(t *testing.T) {
	ts, _, admin := replicated(t, 2, nil)
	before := backendRequests(t, admin)
	for _, c := range []struct {
		method, path, body string
		replica            bool
	}{
		{"GET", "/whereami", "", true},
		{"GET", "/posts_where?select=on_replica", "", true},
		{"GET", "/rpc/in_recovery", "", true},
		{"POST", "/rpc/in_recovery", "{}", true}, // stable: read-only, whatever the method
		{"GET", "/rpc/in_recovery_volatile", "", false},
		{"POST", "/rpc/in_recovery_volatile", "{}", false},
		{"GET", "/whereami?select=on_replica", "", true},
		{"GET", "/rpc/in_recovery_repeatable", "", true},
		{"GET", "/rpc/in_recovery_serializable", "", false}, // a hot standby cannot run SERIALIZABLE
	} {
		res := ts.do(c.method, c.path, []string{"Content-Type: application/json"}, c.body)
		if res.Status != 200 {
			t.Fatalf("%s %s: %d %s", c.method, c.path, res.Status, res.Body)
		}
		if got := strings.Contains(res.Body, "true"); got != c.replica {
			t.Errorf("%s %s ran on a replica: %v, want %v (%s)", c.method, c.path, got, c.replica, res.Body)
		}
		// A volatile function called by POST runs read-write: its commit position is its token.
		if write := c.method == "POST" && !c.replica; (res.Header.Get("Pgway-Lsn") != "") != write {
			t.Errorf("%s %s: Pgway-Lsn %q", c.method, c.path, res.Header.Get("Pgway-Lsn"))
		}
	}
	if res := ts.do("HEAD", "/whereami", nil, ""); res.Status != 200 {
		t.Errorf("HEAD: %d", res.Status)
	}
	res := ts.do("POST", "/posts", []string{"Content-Type: application/json", "Prefer: return=representation"}, `{"body":"hello"}`)
	if res.Status != 201 {
		t.Fatalf("POST /posts: %d %s", res.Status, res.Body)
	}
	if lsn := res.Header.Get("Pgway-Lsn"); !regexp.MustCompile(`^[0-9A-F]+/[0-9A-F]+$`).MatchString(strings.ToUpper(lsn)) {
		t.Errorf("a write's Pgway-Lsn is %q", lsn)
	}
	// A write that fails commits nothing and carries no token.
	if res := ts.do("POST", "/posts", []string{"Content-Type: application/json"}, `{"body":null}`); res.Status != 400 ||
		res.Header.Get("Pgway-Lsn") != "" {
		t.Errorf("failed write: %d, Pgway-Lsn %q", res.Status, res.Header.Get("Pgway-Lsn"))
	}
	for range 20 {
		onReplica(t, ts, "/whereami")
	}
	after := backendRequests(t, admin)
	for _, b := range []string{"replica1", "replica2"} {
		if after[b]-before[b] < 5 {
			t.Errorf("%s served %d reads of 25: %v → %v", b, after[b]-before[b], before, after)
		}
	}
	if after["primary"]-before["primary"] < 4 {
		t.Errorf("primary served %d exchanges (2 volatile calls, 2 writes): %v → %v", after["primary"]-before["primary"], before, after)
	}
	// CORS clients may read the token.
	res = ts.do("POST", "/posts", []string{"Content-Type: application/json", "Origin: https://app.example"}, `{"body":"cors"}`)
	if !strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), "Pgway-Lsn") {
		t.Errorf("Access-Control-Expose-Headers: %q", res.Header.Get("Access-Control-Expose-Headers"))
	}
}

// TestReadYourWrites: while a replica's replay is paused, a read that presents a write's Pgway-Lsn sees the write
// (the primary serves it); a read without it is served by the stale replica; once the replica has replayed the
// write, the read with the token is served by the replica. A schema change the replica has not replayed sends the
// reads planned with it to the primary too.
func TestReadYourWrites(t *testing.T) {
	ts, rs, _ := replicated(t, 1, func(c *config.Config) { c.DBReplicaMaxLag = config.Lag{} })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := rs[0].PauseReplay(ctx); err != nil {
		t.Fatal(err)
	}
	res := ts.do("POST", "/posts", []string{"Content-Type: application/json", "Prefer: return=representation"}, `{"body":"mine"}`)
	if res.Status != 201 {
		t.Fatalf("POST: %d %s", res.Status, res.Body)
	}
	token := res.Header.Get("Pgway-Lsn")
	var rows []struct{ ID int }
	if err := json.Unmarshal([]byte(res.Body), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("POST body %s: %v", res.Body, err)
	}
	path := fmt.Sprintf("/posts_where?id=eq.%d", rows[0].ID)
	if got := ts.get(path).Body; got != "[]" {
		t.Errorf("without the token, the paused replica serves the read: want [], got %s", got)
	}
	for range 5 {
		got := ts.get(path, "Pgway-Lsn: "+token)
		if want := fmt.Sprintf(`[{"id":%d,"body":"mine","on_replica":false}]`, rows[0].ID); got.Body != want {
			t.Fatalf("with the token: %s, want %s", got.Body, want)
		}
	}
	// A token that is not an LSN: the primary.
	if got := ts.get(path, "Pgway-Lsn: yesterday"); !strings.Contains(got.Body, `"on_replica":false`) {
		t.Errorf("malformed token: %s", got.Body)
	}

	// A column added (and the schema cache reloaded) while the replica is paused: reads that name it are
	// planned with the new schema cache and go to the primary, which has it.
	ts.DB.Exec(t, "ALTER TABLE api.posts ADD COLUMN mood text DEFAULT 'calm'; NOTIFY pgrst, 'reload schema'")
	waitUntil(t, 5*time.Second, "the new column", func() bool { return ts.get("/posts?select=mood&limit=1").Status == 200 })
	for range 5 {
		if res := ts.get("/posts?select=id,mood&order=id"); res.Status != 200 {
			t.Fatalf("new column read: %d %s", res.Status, res.Body)
		}
	}
	if onReplica(t, ts, "/whereami") {
		t.Error("a read under the new schema cache went to the replica that has not replayed it")
	}

	if err := rs[0].ResumeReplay(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the replica to serve the token's read", func() bool {
		return strings.Contains(ts.get(path, "Pgway-Lsn: "+token).Body, `"body":"mine","on_replica":true`)
	})
	if !onReplica(t, ts, "/whereami") {
		t.Error("reads did not return to the replica once it caught up")
	}
}

// TestReplicaLagBound: a replica that lags beyond db-replica-max-lag — in WAL bytes, or in time — is taken out
// of rotation and put back once it has caught up.
func TestReplicaLagBound(t *testing.T) {
	ts, rs, _ := replicated(t, 1, func(c *config.Config) { c.DBReplicaMaxLag = config.Lag{Bytes: 64 << 10} })
	byTime := startOn(t, ts.DB, func(c *config.Config) {
		c.DBReplicaURIs = []string{rs[0].URLAs(ts.DB.Name, "authenticator", "")}
		c.DBReplicaCheckInterval = 50 * time.Millisecond
		c.DBReplicaMaxLag = config.Lag{Time: 500 * time.Millisecond}
	})
	waitUntil(t, 20*time.Second, "the replica in rotation", func() bool { return onReplica(t, byTime, "/whereami") })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := rs[0].PauseReplay(ctx); err != nil {
		t.Fatal(err)
	}
	// A small write: the replica lags by a few hundred bytes, then by more than 500 ms.
	ts.DB.Exec(t, "INSERT INTO api.posts (body) VALUES ('small')")
	time.Sleep(200 * time.Millisecond)
	if !onReplica(t, ts, "/whereami") {
		t.Error("a replica a few hundred bytes behind left the rotation of a 64kB bound")
	}
	waitUntil(t, 5*time.Second, "the time bound to take the replica out", func() bool { return !onReplica(t, byTime, "/whereami") })
	if !onReplica(t, ts, "/whereami") {
		t.Error("the byte bound took the replica out before its bytes")
	}
	// A large write: beyond 64 kB.
	ts.DB.Exec(t, "INSERT INTO api.posts (body) SELECT md5(g::text) || md5(random()::text) FROM generate_series(1, 5000) g")
	waitUntil(t, 5*time.Second, "the byte bound to take the replica out", func() bool { return !onReplica(t, ts, "/whereami") })
	if err := rs[0].ResumeReplay(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the replica back in rotation", func() bool {
		return onReplica(t, ts, "/whereami") && onReplica(t, byTime, "/whereami")
	})
}

// TestReplicaKilledUnderLoad: clients read in a loop while one replica, then the other, is killed (SIGKILL to
// every process: connections break without a word): no read fails; reads go to the surviving replica, then to
// the primary; a replica started again comes back into rotation.
func TestReplicaKilledUnderLoad(t *testing.T) {
	ts, rs, admin := replicated(t, 2, nil)
	paths := []string{"/posts_where?select=id,on_replica&limit=3", "/rpc/in_recovery", "/whereami"}
	stop := readLoad(t, ts.URL, paths, 8)
	time.Sleep(500 * time.Millisecond)
	rs[0].Kill()
	time.Sleep(time.Second)
	if !onReplica(t, ts, "/whereami") {
		t.Error("reads left the surviving replica")
	}
	rs[1].Kill()
	time.Sleep(time.Second)
	if onReplica(t, ts, "/whereami") {
		t.Error("reads went to a replica with both killed")
	}
	reads, failed := stop()
	t.Logf("%d reads, %d failed; backends: %v", reads, failed, backendRequests(t, admin))
	if failed > 0 {
		t.Fatalf("%d of %d reads failed", failed, failed+reads)
	}
	if ts.srv.ReplicasInRotation() != 0 {
		t.Errorf("%d killed replicas in rotation", ts.srv.ReplicasInRotation())
	}
	fallbacks := backendMetric(t, admin, "pgway_db_backend_fallbacks_total")
	healthy := backendMetric(t, admin, "pgway_db_backend_healthy")
	// Reads in flight on a replica when it died fell back (a checker may notice first, and then none is left).
	if fallbacks["replica1"]+fallbacks["replica2"] < 1 || healthy["replica1"] != 0 || healthy["replica2"] != 0 || healthy["primary"] != 1 {
		t.Errorf("fallbacks %v, healthy %v: want reads that fell back, both replicas out of rotation", fallbacks, healthy)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := rs[1].Restart(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "the restarted replica back in rotation", func() bool { return onReplica(t, ts, "/whereami") })
}

// TestReplicaFallback: with a checker too slow to notice, the first read after its replica died finds out: it runs
// on the primary instead (no error), and takes the replica out of rotation for the reads after it.
func TestReplicaFallback(t *testing.T) {
	ts, rs, admin := replicated(t, 1, func(c *config.Config) { c.DBReplicaCheckInterval = time.Hour })
	for range 5 {
		onReplica(t, ts, "/whereami") // the pool has connections to the replica
	}
	rs[0].Kill()
	for i := range 5 {
		if onReplica(t, ts, "/whereami") {
			t.Fatalf("read %d after the kill served by the replica", i)
		}
	}
	if f := backendMetric(t, admin, "pgway_db_backend_fallbacks_total"); f["replica1"] != 1 {
		t.Errorf("fallbacks %v: want the first read only", f)
	}
	if ts.srv.ReplicasInRotation() != 0 {
		t.Error("the dead replica is still in rotation")
	}
}
