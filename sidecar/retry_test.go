package sidecar_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
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

	stop := make(chan struct{})
	var reads, failed atomic.Int64
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				path := paths[(i+n)%len(paths)]
				res, err := client.Get(ts.URL + path)
				var msg string
				if err == nil {
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode == 200 {
						reads.Add(1)
						continue
					}
					msg = fmt.Sprintf("%d %s", res.StatusCode, b)
				} else {
					msg = err.Error()
				}
				if failed.Add(1) <= 5 {
					t.Errorf("GET %s: %s", path, msg)
				}
			}
		}()
	}
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
	close(stop)
	wg.Wait()
	t.Logf("%d reads, %d failed; %d backends terminated, %d of them running a statement",
		reads.Load(), failed.Load(), killed, killedActive)
	if failed.Load() > 0 {
		t.Fatalf("%d of %d reads failed", failed.Load(), failed.Load()+reads.Load())
	}
	if killedActive < 10 {
		t.Fatalf("only %d backends were terminated mid-statement: the test did not exercise the retry", killedActive)
	}
}
