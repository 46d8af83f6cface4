package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/pgtest"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestDumpConfig: --dump-config prints every key = value as PostgREST's does, from the environment alone or
// a file, with the in-database configuration applied when db-config is on; its output loads back.
func TestDumpConfig(t *testing.T) {
	code, out, errOut := runCLI(t, map[string]string{"PGRST_DB_SCHEMAS": "api, v2", "PGRST_DB_CONFIG": "false",
		"PGRST_MAX_ROWS": "7", "PGRST_DB_PLAN_ENABLED": "1"}, "--dump-config")
	if code != 0 {
		t.Fatalf("%d %s", code, errOut)
	}
	for _, line := range []string{`db-schemas = "api,v2"`, "db-max-rows = 7", "db-plan-enabled = true", "db-config = false",
		`db-uri = "postgresql://"`, `admin-server-port = ""`} {
		if !strings.Contains("\n"+out, "\n"+line+"\n") {
			t.Errorf("dump lacks %q:\n%s", line, out)
		}
	}
	file := filepath.Join(t.TempDir(), "dumped.conf")
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, again, errOut := runCLI(t, nil, "--dump-config", file); code != 0 || again != out {
		t.Errorf("dump of the dump differs (%d %s):\n%s", code, errOut, again)
	}

	fixture, err := os.ReadFile("../../sidecar/testdata/fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	db := pgtest.NewDatabase(t, string(fixture))
	db.Exec(t, "ALTER ROLE authenticator IN DATABASE "+db.Name+" SET pgrst.db_max_rows = '42'")
	t.Cleanup(func() { db.Exec(t, "ALTER ROLE authenticator IN DATABASE "+db.Name+" RESET pgrst.db_max_rows") })
	code, out, errOut = runCLI(t, map[string]string{"PGRST_DB_URI": db.URLAs("authenticator", ""), "PGRST_DB_MAX_ROWS": "7"}, "--dump-config")
	if code != 0 || !strings.Contains(out, "\ndb-max-rows = 42\n") {
		t.Errorf("in-database setting not dumped: %d %s\n%s", code, errOut, out)
	}
	// An unreachable database: the rest of the configuration is dumped, as PostgREST does.
	code, out, errOut = runCLI(t, map[string]string{"PGRST_DB_URI": "postgres://nobody@127.0.0.1:1/x?connect_timeout=2"}, "--dump-config")
	if code != 0 || !strings.Contains(errOut, "in-database configuration not read") || !strings.Contains(out, "db-pool = 10\n") {
		t.Errorf("unreachable database: %d %s\n%s", code, errOut, out)
	}
}

// TestDumpSchema: --dump-schema prints the schema cache as JSON.
func TestDumpSchema(t *testing.T) {
	fixture, err := os.ReadFile("../../sidecar/testdata/fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	db := pgtest.NewDatabase(t, string(fixture), "CREATE FUNCTION api.add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';")
	code, out, errOut := runCLI(t, map[string]string{"PGRST_DB_URI": db.URLAs("authenticator", ""), "PGRST_DB_SCHEMAS": "api"}, "--dump-schema")
	if code != 0 {
		t.Fatalf("%d %s", code, errOut)
	}
	var dump struct {
		Schemas   []string
		Relations []struct {
			Schema, Name, Kind string
			Columns            []struct{ Name, Type string }
		}
		Routines      []struct{ Name, Volatility string }
		Relationships []struct{ Cardinality string }
	}
	if err := json.Unmarshal([]byte(out), &dump); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	found := false
	for _, r := range dump.Relations {
		if r.Schema == "api" && r.Name == "items" && r.Kind == "table" && len(r.Columns) > 0 && r.Columns[0].Name == "id" {
			found = true
		}
	}
	if !found || len(dump.Schemas) != 1 || dump.Schemas[0] != "api" || len(dump.Routines) == 0 || dump.Routines[0].Volatility != "immutable" {
		t.Errorf("unexpected dump: %+v", dump)
	}
	if code, _, errOut := runCLI(t, map[string]string{"PGRST_DB_URI": "postgres://nobody@127.0.0.1:1/x?connect_timeout=2"}, "--dump-schema"); code != 1 ||
		!strings.Contains(errOut, "connecting") {
		t.Errorf("unreachable database: %d %s", code, errOut)
	}
}

// TestReady: --ready as PostgREST's (Client.hs): GET /ready of the admin server, 2xx → "OK: URL" and status 0,
// anything else → "ERROR: …" on stderr and status 1.
func TestReady(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusOK)
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ready" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(int(status.Load()))
	}))
	defer admin.Close()
	_, port, _ := net.SplitHostPort(admin.Listener.Addr().String())
	env := map[string]string{"PGRST_ADMIN_SERVER_HOST": "127.0.0.1", "PGRST_ADMIN_SERVER_PORT": port}
	url := "http://127.0.0.1:" + port + "/ready"
	if code, out, errOut := runCLI(t, env, "--ready"); code != 0 || out != "OK: "+url+"\n" {
		t.Errorf("ready: %d %q %q", code, out, errOut)
	}
	status.Store(http.StatusServiceUnavailable)
	if code, _, errOut := runCLI(t, env, "--ready"); code != 1 || errOut != "ERROR: "+url+"\n" {
		t.Errorf("not ready: %d %q", code, errOut)
	}
	tests := []struct {
		env  map[string]string
		want string
	}{
		{nil, "ERROR: Admin server is not running. Please check admin-server-port config.\n"},
		{map[string]string{"PGRST_ADMIN_SERVER_PORT": port},
			"ERROR: The `--ready` flag cannot be used when server-host is configured as \"!4\". Please update your server-host config to \"localhost\".\n"},
		{map[string]string{"PGRST_SERVER_HOST": "*", "PGRST_ADMIN_SERVER_PORT": port},
			"ERROR: The `--ready` flag cannot be used when server-host is configured as \"*\". Please update your server-host config to \"localhost\".\n"},
		{map[string]string{"PGRST_ADMIN_SERVER_HOST": "127.0.0.1", "PGRST_ADMIN_SERVER_PORT": strconv.Itoa(freePort(t))}, "ERROR: connection refused to "},
	}
	for _, tt := range tests {
		if code, _, errOut := runCLI(t, tt.env, "--ready"); code != 1 || !strings.HasPrefix(errOut, tt.want) {
			t.Errorf("%v: %d %q, want %q", tt.env, code, errOut, tt.want)
		}
	}
}

// TestExampleLoads: --example's output is a config file pgway reads.
func TestExampleLoads(t *testing.T) {
	code, out, _ := runCLI(t, nil, "--example")
	file := filepath.Join(t.TempDir(), "example.conf")
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(file, nil, nil); code != 0 || err != nil {
		t.Fatalf("%d %v", code, err)
	}
}

// TestREADMEConfiguration: the README documents every key, alias and removed key pgway reads, and PostgREST's
// command line options.
func TestREADMEConfiguration(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	names := config.Keys()
	for a := range config.Aliases() {
		names = append(names, a)
	}
	for r := range config.Removed() {
		if !strings.HasPrefix(r, "internal-") {
			names = append(names, r)
		}
	}
	for _, k := range names {
		short := k
		if i := strings.LastIndex(k, "-mode"); i > 0 {
			short = "_mode" // documented as `key` / `_mode`
		}
		if !strings.Contains(readme, "`"+k+"`") && !strings.Contains(readme, "`"+k+"` /") && !strings.Contains(readme, short) {
			t.Errorf("README does not document %s", k)
		}
	}
	for _, opt := range []string{"--dump-config", "--dump-schema", "--ready", "--example", "--version", "PGRST_APP_SETTINGS_"} {
		if !strings.Contains(readme, opt) {
			t.Errorf("README does not document %s", opt)
		}
	}
}
