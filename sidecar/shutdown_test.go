package sidecar_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/sidecar"
)

// journalFixture: a call that writes a row, then sleeps.
const journalFixture = `
CREATE TABLE api.journal (id serial PRIMARY KEY, label text NOT NULL);
GRANT SELECT, INSERT ON api.journal TO web_anon;
GRANT USAGE ON SEQUENCE api.journal_id_seq TO web_anon;
CREATE FUNCTION api.note_then_sleep(label text, s float8) RETURNS int LANGUAGE sql AS $$
  INSERT INTO api.journal (label) VALUES (label);
  SELECT 1 FROM pg_sleep(s);
$$;
GRANT EXECUTE ON FUNCTION api.note_then_sleep(text, float8) TO web_anon;`

// TestShutdownDrain: at shutdown pgway stops accepting, lets the requests in flight finish for
// server-shutdown-timeout, then cancels the rest in PostgreSQL; every client it accepted gets an answer (the
// cancelled ones PostgreSQL's 57014, their transactions rolled back), ServeListener returns nil and the pool
// closes at once.
func TestShutdownDrain(t *testing.T) {
	db := pgtest.NewDatabase(t, fixture(t), sleepFixture, journalFixture)
	cfg := config.Default()
	cfg.DBURI = db.URLAs("authenticator", "")
	cfg.DBSchemas = []string{"api"}
	cfg.DBAnonRole = "web_anon"
	cfg.ShutdownTimeout = time.Second
	srv, err := sidecar.New(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.ServeListener(ctx, ln) }()
	client := &http.Client{Timeout: 30 * time.Second}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if res, err := client.Get(url + "/journal"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("pgway did not start")
		}
	}

	type answer struct {
		status int
		body   string
		err    error
	}
	calls := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{name: "a write finishing within the drain period commits and is answered", method: "POST",
			path: "/rpc/note_then_sleep", body: `{"label":"quick","s":0.5}`, status: 200},
		{name: "a write still running after it is cancelled and rolled back", method: "POST",
			path: "/rpc/note_then_sleep", body: `{"label":"slow","s":20}`, status: 500, code: "57014"},
		{name: "a read still running after it is cancelled", method: "GET", path: "/rpc/sleep?s=20",
			status: 500, code: "57014"},
	}
	answers := make([]answer, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(c.method, url+c.path, strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			res, err := client.Do(req)
			if err != nil {
				answers[i].err = err
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			answers[i] = answer{status: res.StatusCode, body: string(b)}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	begin := time.Now()
	cancel()

	time.Sleep(100 * time.Millisecond)
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("still accepting connections while draining")
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("ServeListener: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeListener did not return")
	}
	if d := time.Since(begin); d < cfg.ShutdownTimeout || d > cfg.ShutdownTimeout+2*time.Second {
		t.Errorf("drained in %v, want a little over server-shutdown-timeout (%v)", d, cfg.ShutdownTimeout)
	}
	wg.Wait()
	for i, c := range calls {
		a := answers[i]
		if a.err != nil || a.status != c.status || (c.code != "" && errorCode(a.body) != c.code) {
			t.Errorf("%s: %d %s %v, want %d %s", c.name, a.status, a.body, a.err, c.status, c.code)
		}
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("closing the pool blocked")
	}

	conn, err := pgx.Connect(context.Background(), db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var labels string
	if err := conn.QueryRow(context.Background(), `SELECT coalesce(string_agg(label, ',' ORDER BY id), '') FROM api.journal`).
		Scan(&labels); err != nil {
		t.Fatal(err)
	}
	if labels != "quick" {
		t.Errorf("journal after shutdown: %q, want only the committed quick call", labels)
	}
	// Backends exit just after their client closes the connection.
	for deadline := time.Now().Add(time.Second); ; time.Sleep(20 * time.Millisecond) {
		var backends int
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = 'pgway'`).Scan(&backends); err != nil {
			t.Fatal(err)
		}
		if backends == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pgway connections left after Close", backends)
		}
	}
}
