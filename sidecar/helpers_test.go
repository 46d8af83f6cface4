package sidecar_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/sidecar"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const testSecret = "reallyreallyreallyreallyverysafe"

// fixture is the shared test schema.
func fixture(t testing.TB) string {
	b, err := os.ReadFile("testdata/fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testServer is a pgway running in-process against a fresh database.
type testServer struct {
	t    testing.TB
	URL  string
	DB   *pgtest.DB
	srv  *sidecar.Server
	http *http.Client
}

// start runs pgway on a free loopback port over a fresh database loaded with fixture SQL; edit adjusts the config.
func start(t testing.TB, edit func(*config.Config), fixtures ...string) *testServer {
	t.Helper()
	return startOn(t, pgtest.NewDatabase(t, fixtures...), edit)
}

// startOn runs pgway over an existing test database.
func startOn(t testing.TB, db *pgtest.DB, edit func(*config.Config)) *testServer {
	t.Helper()
	return startLogged(t, db, edit, nil)
}

// startLogged runs pgway over db logging to log (nil: stderr, warnings and errors, everything with
// PGWAY_TEST_LOG set).
func startLogged(t testing.TB, db *pgtest.DB, edit func(*config.Config), log *slog.Logger) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.DBURI = db.URLAs("authenticator", "")
	cfg.DBSchemas = []string{"api", "other"}
	cfg.DBAnonRole = "web_anon"
	cfg.JWTSecret = testSecret
	cfg.DBPlanEnabled = true
	if edit != nil {
		edit(&cfg)
	}
	if log == nil {
		level := slog.LevelWarn
		if os.Getenv("PGWAY_TEST_LOG") != "" {
			level = slog.LevelDebug
		}
		log = slog.New(quietProbes{slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})})
	}
	srv, err := sidecar.New(cfg, log)
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
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	ts := &testServer{t: t, URL: "http://" + ln.Addr().String(), DB: db, srv: srv,
		http: &http.Client{Timeout: 30 * time.Second}}
	ts.waitReady()
	return ts
}

// waitReady polls until the schema cache is loaded.
func (ts *testServer) waitReady() {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		res := ts.do("GET", "/__pgway_probe__", nil, "")
		if res.Status != http.StatusServiceUnavailable {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.t.Fatal("pgway did not load its schema cache in time")
}

type response struct {
	Status int
	Header http.Header
	Body   string
}

// do sends one request; headers are "Name: value" lines.
func (ts *testServer) do(method, path string, headers []string, body string) response {
	ts.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	res, err := ts.http.Do(req)
	if err != nil {
		ts.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

func (ts *testServer) get(path string, headers ...string) response {
	ts.t.Helper()
	return ts.do("GET", path, headers, "")
}

// token signs an HS256 JWT with the test secret.
func token(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// quietProbes drops the log lines of waitReady's probes (503 PGRST002 until the schema cache is loaded).
type quietProbes struct{ slog.Handler }

func (q quietProbes) Handle(ctx context.Context, r slog.Record) error {
	probe := false
	r.Attrs(func(a slog.Attr) bool {
		probe = a.Key == "path" && a.Value.String() == "/__pgway_probe__"
		return !probe
	})
	if probe {
		return nil
	}
	return q.Handler.Handle(ctx, r)
}

func (q quietProbes) WithAttrs(as []slog.Attr) slog.Handler {
	return quietProbes{q.Handler.WithAttrs(as)}
}
func (q quietProbes) WithGroup(name string) slog.Handler {
	return quietProbes{q.Handler.WithGroup(name)}
}

// readLoad starts n clients that GET the paths of base in turn until stop is called; stop waits for them and
// reports how many reads answered 200 and how many failed (the first five failures are reported as errors).
func readLoad(t *testing.T, base string, paths []string, n int) (stop func() (reads, failed int64)) {
	t.Helper()
	done := make(chan struct{})
	var ok, bad atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for k := 0; ; k++ {
				select {
				case <-done:
					return
				default:
				}
				path := paths[(i+k)%len(paths)]
				res, err := client.Get(base + path)
				msg := ""
				if err == nil {
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode == 200 {
						ok.Add(1)
						continue
					}
					msg = fmt.Sprintf("%d %s", res.StatusCode, b)
				} else {
					msg = err.Error()
				}
				if bad.Add(1) <= 5 {
					t.Errorf("GET %s: %s", path, msg)
				}
			}
		}()
	}
	return func() (int64, int64) {
		close(done)
		wg.Wait()
		return ok.Load(), bad.Load()
	}
}
