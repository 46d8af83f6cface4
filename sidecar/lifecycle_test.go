package sidecar_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/config"
)

// sleepFixture: a call that sleeps in PostgreSQL, and one that sleeps n tenths of a second ignoring cancels.
const sleepFixture = `
CREATE FUNCTION api.sleep(s float8) RETURNS int LANGUAGE sql AS $$ SELECT 1 FROM pg_sleep(s) $$;
CREATE FUNCTION api.stubborn(n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  until timestamptz := clock_timestamp() + n * interval '100 ms';
BEGIN
  -- A cancel is caught by the block around the sleep it interrupts, or, when the backend was between two sleeps
  -- as it arrived (a loaded machine deschedules it there), by the block around the loop, which starts it again.
  LOOP
    BEGIN
      WHILE clock_timestamp() < until LOOP
        BEGIN
          PERFORM pg_sleep(0.1);
        EXCEPTION WHEN query_canceled THEN
          NULL;
        END;
      END LOOP;
      RETURN 1;
    EXCEPTION WHEN query_canceled THEN
      NULL;
    END;
  END LOOP;
END $$;
GRANT EXECUTE ON FUNCTION api.sleep(float8), api.stubborn(int) TO web_anon;`

// superuser connects to the test database as superuser.
func superuser(t *testing.T, ts *testServer) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), ts.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// sleeping counts pgway's backends sleeping in pg_sleep.
func sleeping(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'pgway' AND state = 'active'
		  AND wait_event = 'PgSleep'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAbandonedCallsAreCancelled: clients that give up on slow calls get them cancelled in PostgreSQL, so they
// do not hold the pool's connections: ten 20-second calls abandoned after a second free every backend within a
// second, and the next client is served at once.
func TestAbandonedCallsAreCancelled(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBPool = 10 }, fixture(t), sleepFixture)
	su := superuser(t, ts)
	impatient := &http.Client{Timeout: time.Second}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := impatient.Get(ts.URL + "/rpc/sleep?s=20")
			if err == nil {
				res.Body.Close()
				t.Errorf("a 20 s call answered within a second: %d", res.StatusCode)
			}
		}()
	}
	begin := time.Now()
	n := 0
	for ; n < 10 && time.Since(begin) < 900*time.Millisecond; time.Sleep(20 * time.Millisecond) {
		n = sleeping(t, su)
	}
	if n != 10 {
		t.Fatalf("%d backends sleeping before the clients gave up, want 10", n)
	}
	wg.Wait()
	abandoned := time.Now()
	for n := sleeping(t, su); n > 0; n = sleeping(t, su) {
		if time.Since(abandoned) > time.Second {
			t.Fatalf("%d backends still sleeping a second after their clients went away", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("backends idle %v after the clients went away", time.Since(abandoned).Round(time.Millisecond))
	begin = time.Now()
	res, err := impatient.Get(ts.URL + "/items?select=id&id=eq.1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || time.Since(begin) > 500*time.Millisecond {
		t.Fatalf("next client: %d after %v", res.StatusCode, time.Since(begin))
	}
}

// TestRequestTimeout: server-request-timeout cancels a request's statement in PostgreSQL (57014, 500 as
// PostgREST maps it) and leaves its connection fit for the next requests; a request that never got a
// connection in time is 504 PGRST003.
func TestRequestTimeout(t *testing.T) {
	ts := start(t, func(c *config.Config) {
		c.RequestTimeout = time.Second
		c.DBPool = 1 // every request below runs on the one connection
		c.DBPoolAcquisitionTimeout = 10 * time.Second
	}, fixture(t), sleepFixture)
	su := superuser(t, ts)
	begin := time.Now()
	r := ts.get("/rpc/sleep?s=5")
	if r.Status != 500 || errorCode(r.Body) != "57014" {
		t.Fatalf("got %d %s, want 500 57014", r.Status, r.Body)
	}
	if d := time.Since(begin); d > 2500*time.Millisecond {
		t.Fatalf("answered after %v", d)
	}
	if n := sleeping(t, su); n != 0 {
		t.Fatalf("%d backends still sleeping", n)
	}
	for i := range 20 {
		if r := ts.get("/rpc/sleep?s=0.001"); r.Status != 200 {
			t.Fatalf("request %d on the connection after the cancel: %d %s", i, r.Status, r.Body)
		}
	}

	// The connection held past the timeout by a call that ignores cancels: the next request waits for it
	// until its own timeout.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); ts.get("/rpc/stubborn?n=30") }()
	for deadline := time.Now().Add(2 * time.Second); sleeping(t, su) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the holding call did not start")
		}
	}
	begin = time.Now()
	r = ts.get("/items?select=id&id=eq.1")
	if r.Status != 504 || errorCode(r.Body) != "PGRST003" {
		t.Fatalf("waiting for a connection: %d %s, want 504 PGRST003", r.Status, r.Body)
	}
	if d := time.Since(begin); d > 1500*time.Millisecond {
		t.Fatalf("504 after %v", d)
	}
	wg.Wait()
	if r := ts.get("/items?select=id&id=eq.1"); r.Status != 200 {
		t.Fatalf("after: %d %s", r.Status, r.Body)
	}
}
