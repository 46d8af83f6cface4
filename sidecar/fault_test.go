package sidecar_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/sidecar"
)

// errorCode decodes a PostgREST error body's code ("" if the body is not one).
func errorCode(body string) string {
	var e struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal([]byte(body), &e)
	return e.Code
}

// TestBackendsTerminated: the database kills every pgway connection; requests fail with a JSON 503 at worst
// and succeed again without a restart.
func TestBackendsTerminated(t *testing.T) {
	ts := start(t, nil, fixture(t))
	if r := ts.get("/items?id=eq.1"); r.Status != 200 {
		t.Fatalf("before: %d %s", r.Status, r.Body)
	}
	conn, err := pgx.Connect(context.Background(), ts.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(),
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := ts.get("/items?select=id&id=eq.1")
		if r.Status == 200 {
			if r.Body != `[{"id":1}]` {
				t.Fatalf("after recovery: %s", r.Body)
			}
			break
		}
		if r.Status != 503 || errorCode(r.Body) == "" {
			t.Fatalf("during recovery: %d %s", r.Status, r.Body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery: %d %s", r.Status, r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Every pooled connection was killed: a burst must not surface the dead ones as 500s.
	for i := 0; i < 30; i++ {
		if r := ts.get("/items?select=id&id=eq.2"); r.Status != 200 {
			t.Fatalf("request %d after recovery: %d %s", i, r.Status, r.Body)
		}
	}
}

// TestUnreachableDatabase: with no database at all pgway still serves, answering 503 PGRST002 (no schema cache)
// quickly, and /ready says not ready.
func TestUnreachableDatabase(t *testing.T) {
	ln0, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln0.Addr().String()
	ln0.Close() // nothing listens here now
	cfg := config.Default()
	cfg.DBURI = "postgres://authenticator@" + deadAddr + "/nope?connect_timeout=2"
	cfg.DBSchemas = []string{"api"}
	cfg.DBAnonRole = "web_anon"
	srv, err := sidecar.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeListener(ctx, ln) }()
	defer func() { cancel(); <-done; srv.Close() }()
	client := &http.Client{Timeout: 10 * time.Second}
	var res *http.Response
	for i := 0; i < 50; i++ {
		if res, err = client.Get("http://" + ln.Addr().String() + "/items"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 503 || errorCode(string(b)) != "PGRST002" {
		t.Fatalf("got %d %s, want 503 PGRST002", res.StatusCode, b)
	}
}

// TestPoolExhausted: with every connection busy past db-pool-acquisition-timeout, a request gets 504 PGRST003
// instead of waiting forever, and the pool serves again afterwards.
func TestPoolExhausted(t *testing.T) {
	const slow = `
CREATE FUNCTION api.slow() RETURNS int LANGUAGE sql AS $$ SELECT 1 FROM pg_sleep(2) $$;
GRANT EXECUTE ON FUNCTION api.slow() TO web_anon;`
	ts := start(t, func(c *config.Config) {
		c.DBPool = 1
		c.DBPoolAcquisitionTimeout = 500 * time.Millisecond
	}, fixture(t), slow)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if r := ts.get("/rpc/slow"); r.Status != 200 {
			t.Errorf("slow call: %d %s", r.Status, r.Body)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	r := ts.get("/items?id=eq.1")
	if r.Status != 504 || errorCode(r.Body) != "PGRST003" {
		t.Fatalf("got %d %s, want 504 PGRST003", r.Status, r.Body)
	}
	wg.Wait()
	if r := ts.get("/items?select=id&id=eq.1"); r.Status != 200 {
		t.Fatalf("after: %d %s", r.Status, r.Body)
	}
}
