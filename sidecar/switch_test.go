package sidecar_test

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/config"
)

// appNames are the application_name of this database's other backends.
func appNames(t *testing.T, ts *testServer) map[string]bool {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), ts.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT application_name FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}

// TestApplicationName: an application_name given in db-uri is kept for the pool and the listener (PostgREST only
// adds a fallback_application_name); libpq's fallback_application_name is honoured; "pgway" is the default.
func TestApplicationName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		params string
		pool   string
		lis    string
	}{
		{"", "pgway", "pgway listener"},
		{"&application_name=orders-api", "orders-api", "orders-api"},
		{"&fallback_application_name=billing", "billing", "billing"},
	} {
		ts := start(t, func(c *config.Config) { c.DBURI += tc.params }, fixture(t))
		if res := ts.get("/items?select=id&limit=1"); res.Status != 200 {
			t.Fatalf("%s: %d %s", tc.params, res.Status, res.Body)
		}
		var names map[string]bool
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if names = appNames(t, ts); names[tc.pool] && names[tc.lis] || time.Now().After(deadline) {
				break
			}
		}
		if !names[tc.pool] || !names[tc.lis] {
			t.Errorf("db-uri …%s: application names %v, want %q (pool) and %q (listener)", tc.params, names, tc.pool, tc.lis)
		}
	}
}

// TestAdminUnixSocket: admin-server-unix-socket serves the admin endpoints on a Unix socket, instead of
// admin-server-port.
func TestAdminUnixSocket(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "admin.sock")
	start(t, func(c *config.Config) { c.AdminServerUnixSocket = sock; c.AdminServerUnixSocketMode = "600" }, fixture(t))
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}}
	for _, path := range []string{"/live", "/ready"} {
		res, err := client.Get("http://admin" + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
}
