package sidecar_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pgway/pgway/internal/config"
)

// TestPostgrestJS drives pgway with the real @supabase/postgrest-js client (pinned in
// testdata/postgrest-js/package-lock.json, installed with npm ci): reads, filters, counts, single, CSV, writes,
// upserts, RPC, schemas and explain, as a supabase app uses them.
func TestPostgrestJS(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is needed for the postgrest-js test (apt-get install nodejs npm)")
	}
	dir, err := filepath.Abs("testdata/postgrest-js")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@supabase", "postgrest-js")); err != nil {
		npm := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		npm.Dir = dir
		if out, err := npm.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	rpc, err := os.ReadFile("testdata/rpc_fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	ts := start(t, func(c *config.Config) { c.DBAggregatesEnabled = true }, fixture(t), writeFixture(t), string(rpc), embedFixture(t))
	cmd := exec.Command(node, "client.mjs", ts.URL)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("postgrest-js checks failed: %v", err)
	}
}
