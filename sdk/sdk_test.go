package sdk_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/sidecar"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// oapiCodegen is the pinned generator, run with go run (downloaded through the module proxy).
const oapiCodegen = "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2"

// serve starts pgway over the sidecar test schema and returns its URL and the live OpenAPI document.
func serve(t *testing.T) (string, []byte) {
	t.Helper()
	fixture, err := os.ReadFile("../sidecar/testdata/fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	db := pgtest.NewDatabase(t, string(fixture))
	cfg := config.Default()
	cfg.DBURI = db.URLAs("authenticator", "")
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
	t.Cleanup(func() { cancel(); <-done; srv.Close() })
	url := "http://" + ln.Addr().String()
	for i := 0; i < 200; i++ {
		res, err := http.Get(url + "/pgway/openapi.json")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == 200 {
				return url, b
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("pgway did not serve its document")
	return "", nil
}

func runIn(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

const wantRows = "2 banana\n1 apple\n"

// TestGoClient generates a Go client with oapi-codegen from the live document, builds it and reads filtered
// rows through it.
func TestGoClient(t *testing.T) {
	url, doc := serve(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "api"), 0o755); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "openapi.json")
	if err := os.WriteFile(spec, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	main, err := os.ReadFile("testdata/goclient/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), main, 0o644); err != nil {
		t.Fatal(err)
	}
	runIn(t, dir, "go", "run", oapiCodegen, "-generate", "types,client", "-package", "api", "-o", "api/api.gen.go", spec)
	runIn(t, dir, "go", "mod", "init", "sdktest")
	runIn(t, dir, "go", "mod", "tidy")
	if out := runIn(t, dir, "go", "run", ".", url); out != wantRows {
		t.Fatalf("client output %q, want %q", out, wantRows)
	}
}

// TestTypeScriptClient generates TypeScript types with openapi-typescript, type-checks a client using
// openapi-fetch with tsc, and runs it with node against pgway: a filtered read, and an atomic batch whose second
// operation refers to the first one's result.
func TestTypeScriptClient(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatal("node and npm are needed (apt-get install nodejs npm)")
	}
	url, doc := serve(t)
	dir, err := filepath.Abs("testdata/tsclient")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openapi-fetch")); err != nil {
		runIn(t, dir, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	}
	spec := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(spec, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	runIn(t, dir, "node_modules/.bin/openapi-typescript", spec, "-o", "schema.d.ts")
	runIn(t, dir, "node_modules/.bin/tsc", "-p", "tsconfig.json")
	if out := runIn(t, dir, "node", "dist/client.js", url); out != wantRows+"batch 200 2 banana\n" {
		t.Fatalf("client output %q, want %q", out, wantRows+"batch 200 2 banana\n")
	}
}
