package sidecar_test

import (
	"context"
	"testing"
	"time"

	"github.com/pgway/pgway/internal/config"
)

// TestReadsSurviveTerminatedBackends: reads whose backend is terminated under them (pg_terminate_backend, a
// failover) run again on a fresh connection, however many pooled connections are dead: eight clients reading
// in a loop while every pgway backend is terminated again and again see no failed read.
func TestReadsSurviveTerminatedBackends(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBPool = 10 }, fixture(t), `
CREATE VIEW api.slow_items AS SELECT i.id, i.name FROM api.items i, pg_sleep(0.02);
GRANT SELECT ON api.slow_items TO web_anon;`)
	su := superuser(t, ts)
	paths := []string{"/items?select=id,name&order=id", "/slow_items?select=id&order=id", "/rpc/sleep?s=0.01"}
	ts.DB.Exec(t, sleepFixture)
	ts.DB.Exec(t, "NOTIFY pgrst, 'reload schema'")
	for deadline := time.Now().Add(5 * time.Second); ts.get(paths[2]).Status != 200; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("schema cache not reloaded")
		}
	}

	stop := readLoad(t, ts.URL, paths, 8)
	var killed, killedActive int
	for end := time.Now().Add(4 * time.Second); time.Now().Before(end); time.Sleep(150 * time.Millisecond) {
		var n, active int
		if err := su.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE state = 'active')
			FROM pg_stat_activity, pg_terminate_backend(pid)
			WHERE datname = current_database() AND application_name = 'pgway' AND pid <> pg_backend_pid()`).
			Scan(&n, &active); err != nil {
			t.Fatal(err)
		}
		killed += n
		killedActive += active
	}
	reads, failed := stop()
	t.Logf("%d reads, %d failed; %d backends terminated, %d of them running a statement",
		reads, failed, killed, killedActive)
	if failed > 0 {
		t.Fatalf("%d of %d reads failed", failed, failed+reads)
	}
	if killedActive < 10 {
		t.Fatalf("only %d backends were terminated mid-statement: the test did not exercise the retry", killedActive)
	}
}
