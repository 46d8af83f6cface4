package sidecar_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDocsPage opens /pgway/docs in headless Chromium and checks that Swagger UI rendered the test schema's
// relations from the live document, with the Authorize button of the bearer scheme.
func TestDocsPage(t *testing.T) {
	ts := start(t, nil, fixture(t))
	for _, p := range []string{"/pgway/docs", "/docs"} {
		res := ts.get(p)
		if res.Status != 200 || !strings.Contains(res.Body, "/pgway/docs/swagger-ui-bundle.js") || !strings.Contains(res.Body, `"/pgway/openapi.json"`) {
			t.Fatalf("%s: %d %s", p, res.Status, res.Body)
		}
	}
	if a := ts.get("/pgway/docs/swagger-ui-bundle.js"); a.Status != 200 || !strings.HasPrefix(a.Header.Get("Content-Type"), "text/javascript") || len(a.Body) < 100000 {
		t.Fatalf("bundle: %d %s %d bytes", a.Status, a.Header.Get("Content-Type"), len(a.Body))
	}
	if a := ts.get("/pgway/docs/nope.js"); a.Status != 404 {
		t.Fatalf("missing asset: %d", a.Status)
	}
	var bin string
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(b); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Fatal("no Chromium: run scripts/ensure-chromium.sh (make test does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=15000", "--dump-dom", ts.URL+"/pgway/docs")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	for _, want := range []string{`class="swagger-ui"`, "items", "cheap_items", "whoami", "Authorize", "/items"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered page lacks %q (%d bytes of DOM)", want, len(dom))
		}
	}
}
