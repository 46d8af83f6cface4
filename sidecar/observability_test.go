package sidecar_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/valyala/fasthttp"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/sidecar"
)

// logBuffer collects a server's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSpace(l.b.String()), "\n")
}

// reset drops the lines so far.
func (l *logBuffer) reset() {
	l.mu.Lock()
	l.b.Reset()
	l.mu.Unlock()
}

// find returns the lines containing every part.
func (l *logBuffer) find(parts ...string) []string {
	var out []string
	for _, line := range l.lines() {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// await waits up to 5 s for a line containing every part.
func (l *logBuffer) await(t *testing.T, parts ...string) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if found := l.find(parts...); len(found) > 0 {
			return found[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q in:\n%s", parts, strings.Join(l.lines(), "\n"))
		}
	}
}

// startLogging runs pgway with log-level and log-format, its log written to the returned buffer as
// cmd/pgway writes it (sidecar.NewLogger).
func startLogging(t *testing.T, db *pgtest.DB, level, format string, edit func(*config.Config)) (*testServer, *logBuffer) {
	t.Helper()
	buf := &logBuffer{}
	ts := startLogged(t, db, func(c *config.Config) {
		c.LogLevel, c.LogFormat = level, format
		if edit != nil {
			edit(c)
		}
	}, sidecar.NewLogger(buf, format, level))
	return ts, buf
}

// TestRequestLog: at log-level info every request is one line — method, path (without the query string),
// status, duration, role, client, size, user agent — at INFO, a 4xx at WARN with its code, a 5xx at ERROR with
// its cause; log-query adds the main statement's text but never its values; the schema cache loads are NOTICE
// lines saying what was loaded and how long it took.
func TestRequestLog(t *testing.T) {
	db := pgtest.NewDatabase(t, fixture(t), sleepFixture)
	ts, logs := startLogging(t, db, "info", "text", func(c *config.Config) {
		c.DBStatementTimeout = 200 * time.Millisecond
		c.LogQuery = true
		c.ServerTraceHeader = "X-Request-Id"
	})

	load := logs.await(t, "level=NOTICE", `msg="schema cache loaded"`)
	for _, want := range []string{`schemas=api,other`, "relations=", "relationships=", "functions=",
		"media_handlers=", "versions=", "roles_with_settings=", "query_ms=", "duration_ms=", "generation=1", "postgres="} {
		if !strings.Contains(load, want) {
			t.Errorf("load line lacks %s: %s", want, load)
		}
	}
	logs.await(t, "level=NOTICE", "msg=listening")

	logs.reset()
	if r := ts.get("/items?select=id,name&name=eq.topsecretvalue", "X-Request-Id: req-42"); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	line := logs.await(t, "msg=request", "path=/items")
	for _, want := range []string{"level=INFO", "method=GET", "status=200", "duration_ms=", "role=web_anon",
		"remote=127.0.0.1", "bytes=2", `user_agent=Go-http-client/1.1`, "trace=req-42", `sql="`, `\"api\".\"items\"`} {
		if !strings.Contains(line, want) {
			t.Errorf("request line lacks %s: %s", want, line)
		}
	}
	for _, never := range []string{"topsecretvalue", "select=", "err=", "code="} {
		if strings.Contains(line, never) {
			t.Errorf("request line has %s: %s", never, line)
		}
	}

	tok := token(t, jwt.MapClaims{"role": "web_user"})
	ts.get("/secrets", "Authorization: Bearer "+tok)
	if line := logs.await(t, "msg=request", "path=/secrets"); !strings.Contains(line, "role=web_user") {
		t.Errorf("authenticated: %s", line)
	}

	ts.get("/nope")
	line = logs.await(t, "msg=request", "path=/nope")
	for _, want := range []string{"level=WARN", "status=404", "code=PGRST205", "role=web_anon"} {
		if !strings.Contains(line, want) {
			t.Errorf("404 line lacks %s: %s", want, line)
		}
	}
	if strings.Contains(line, "sql=") || strings.Contains(line, "err=") {
		t.Errorf("a request that ran no statement logged one, or a 4xx its cause: %s", line)
	}

	ts.get("/items", "Authorization: Bearer not-a-token")
	if line := logs.await(t, "msg=request", "status=401"); !strings.Contains(line, "role=-") ||
		!strings.Contains(line, "code=PGRST301") {
		t.Errorf("401: %s", line)
	}

	// Requests fasthttp refuses before the handler have their line too.
	if res, ok := rawExchange(t, ts, "GET /items HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 70<<10)+"\r\n\r\n"); !ok || res.Status != 431 {
		t.Fatalf("headers too large: %v %d", ok, res.Status)
	}
	if line := logs.await(t, "msg=request", "status=431"); !strings.Contains(line, "level=WARN") ||
		!strings.Contains(line, "code=PGRST431") || !strings.Contains(line, "role=-") {
		t.Errorf("431: %s", line)
	}

	if r := ts.get("/rpc/sleep?s=1"); r.Status != 500 {
		t.Fatalf("statement timeout: %d %s", r.Status, r.Body)
	}
	line = logs.await(t, "msg=request", "path=/rpc/sleep")
	for _, want := range []string{"level=ERROR", "status=500", "code=57014",
		`err="SQLSTATE 57014: canceling statement due to statement timeout"`, `sql="`} {
		if !strings.Contains(line, want) {
			t.Errorf("500 line lacks %s: %s", want, line)
		}
	}
	if strings.Contains(line, "?s=") || strings.Contains(line, `"s":1`) {
		t.Errorf("the function's argument was logged: %s", line)
	}

	// A reload says what it loaded, and counts.
	logs.reset()
	if err := ts.srv.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	logs.await(t, "level=NOTICE", `msg="schema cache loaded"`, "generation=2")
}

// TestRequestLogJSON: log-format = json writes each line as one JSON object with the same fields, numbers as
// numbers.
func TestRequestLogJSON(t *testing.T) {
	ts, logs := startLogging(t, pgtest.NewDatabase(t, fixture(t)), "info", "json", nil)
	logs.await(t, `"level":"NOTICE"`, `"msg":"schema cache loaded"`)
	ts.get("/items?id=eq.1")
	line := logs.await(t, `"msg":"request"`, `"path":"/items"`)
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	for k, want := range map[string]any{"level": "INFO", "method": "GET", "path": "/items", "status": 200.0,
		"role": "web_anon", "remote": "127.0.0.1", "user_agent": "Go-http-client/1.1"} {
		if m[k] != want {
			t.Errorf("%s = %#v, want %#v (%s)", k, m[k], want, line)
		}
	}
	for _, k := range []string{"time", "duration_ms", "bytes"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %s: %s", k, line)
		}
	}
	if _, ok := m["duration_ms"].(float64); !ok {
		t.Errorf("duration_ms is not a number: %s", line)
	}
}

// TestRequestLogLevels: log-level keeps the request lines PostgREST's does — crit none, error 5xx, warn 4xx
// and 5xx, info all — while the schema cache load is logged at every level.
func TestRequestLogLevels(t *testing.T) {
	db := pgtest.NewDatabase(t, fixture(t), sleepFixture)
	short := func(c *config.Config) { c.DBStatementTimeout = 100 * time.Millisecond }
	for _, tc := range []struct {
		level  string
		logged []int
	}{
		{"crit", nil},
		{"error", []int{500}},
		{"warn", []int{404, 500}},
		{"info", []int{200, 404, 500}},
		{"debug", []int{200, 404, 500}},
	} {
		t.Run(tc.level, func(t *testing.T) {
			ts, logs := startLogging(t, db, tc.level, "text", short)
			logs.await(t, "level=NOTICE", `msg="schema cache loaded"`)
			logs.reset() // waitReady's probe
			for path, status := range map[string]int{"/items": 200, "/nope": 404, "/rpc/sleep?s=1": 500} {
				if r := ts.get(path); r.Status != status {
					t.Fatalf("%s: %d", path, r.Status)
				}
			}
			var got []int
			for _, line := range logs.find("msg=request") {
				m := regexp.MustCompile(`status=(\d+)`).FindStringSubmatch(line)
				n, _ := strconv.Atoi(m[1])
				got = append(got, n)
			}
			if !equalSorted(got, tc.logged) {
				t.Errorf("log-level %s logged statuses %v, want %v", tc.level, got, tc.logged)
			}
		})
	}
}

func equalSorted(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[int]int{}
	for _, x := range a {
		count[x]++
	}
	for _, x := range b {
		count[x]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestClientGoneLog: a request whose client went away is not a server error: its line is WARN, status 499
// (nginx's Client Closed Request), cause "client closed the connection", and it counts as 4xx.
func TestClientGoneLog(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "admin.sock")
	ts, logs := startLogging(t, pgtest.NewDatabase(t, fixture(t), sleepFixture), "warn", "text",
		func(c *config.Config) { c.AdminServerUnixSocket = sock })
	impatient := &http.Client{Timeout: 300 * time.Millisecond}
	if res, err := impatient.Get(ts.URL + "/rpc/sleep?s=10"); err == nil {
		res.Body.Close()
		t.Fatalf("a 10 s call answered: %d", res.StatusCode)
	}
	line := logs.await(t, "msg=request", "path=/rpc/sleep")
	for _, want := range []string{"level=WARN", "status=499", `err="client closed the connection"`} {
		if !strings.Contains(line, want) {
			t.Errorf("line lacks %s: %s", want, line)
		}
	}
	m := scrape(t, sock)
	if v := m[`pgway_http_request_duration_seconds_count{class="4xx",route="api.sleep()"}`]; v != "1" {
		t.Errorf("client gone counted as %v, want one 4xx", v)
	}
	if _, ok := m[`pgway_http_request_duration_seconds_count{class="5xx",route="api.sleep()"}`]; ok {
		t.Error("client gone counted as 5xx")
	}
}

// adminClient talks to an admin server on a Unix socket.
func adminClient(sock string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}}
}

// adminGet fetches path from the admin server on sock.
func adminGet(t *testing.T, sock, path string) (int, http.Header, string) {
	t.Helper()
	res, err := adminClient(sock).Get("http://admin" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, string(b)
}

// scrape reads /metrics into series → value, and "# HELP name" / "# TYPE name" → text.
func scrape(t *testing.T, sock string) map[string]string {
	t.Helper()
	status, _, body := adminGet(t, sock, "/metrics")
	if status != 200 {
		t.Fatalf("/metrics: %d", status)
	}
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			kind, rest, _ := strings.Cut(rest, " ")
			name, text, _ := strings.Cut(rest, " ")
			m["# "+kind+" "+name] = text
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			m[line[:i]] = line[i+1:]
		}
	}
	return m
}

// TestMetrics: the admin server's /metrics has PostgREST's series under its names, types and help texts —
// pool, schema cache, JWT cache — with values after requests, a pool timeout and a schema reload, and pgway's
// request histograms by route (a relation or function of the schema cache, else a fixed label) and status class.
func TestMetrics(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "admin.sock")
	ts := start(t, func(c *config.Config) {
		c.AdminServerUnixSocket = sock
		c.DBPool = 1
		c.DBPoolAcquisitionTimeout = time.Second
	}, fixture(t), sleepFixture)

	for range 2 {
		ts.get("/items?select=id")
	}
	ts.get("/rpc/sleep?s=0")
	ts.get("/no_such_table")
	ts.get("/no_such_table_either")
	ts.get("/rpc/no_such_function")
	ts.get("/")
	ts.get("/openapi.json")
	ts.get("/pgway/openapi.json")
	tok := token(t, jwt.MapClaims{"role": "web_user"})
	for range 3 {
		ts.get("/items?select=id", "Authorization: Bearer "+tok)
	}

	// A pool timeout: the one connection is held by a sleeping call while another request waits a second.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); ts.get("/rpc/sleep?s=2.5") }()
	su := superuser(t, ts)
	for deadline := time.Now().Add(2 * time.Second); sleeping(t, su) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the holding call did not start")
		}
	}
	timedOut := make(chan response, 1)
	go func() { timedOut <- ts.get("/items?select=id") }()
	for deadline := time.Now().Add(time.Second); scrape(t, sock)["pgrst_db_pool_waiting"] != "1"; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Error("pgrst_db_pool_waiting never 1 while a request waited")
			break
		}
	}
	if r := <-timedOut; r.Status != 504 || errorCode(r.Body) != "PGRST003" {
		t.Fatalf("waiting for the connection: %d %s", r.Status, r.Body)
	}
	wg.Wait()
	if err := ts.srv.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}

	m := scrape(t, sock)
	for name, want := range map[string][2]string{ // PostgREST's Metrics.hs
		"pgrst_db_pool_timeouts_total":          {"counter", "The total number of pool connection timeouts"},
		"pgrst_db_pool_available":               {"gauge", "Available connections in the pool"},
		"pgrst_db_pool_waiting":                 {"gauge", "Requests waiting to acquire a pool connection"},
		"pgrst_db_pool_max":                     {"gauge", "Max pool connections"},
		"pgrst_schema_cache_loads_total":        {"counter", "The total number of times the schema cache was loaded"},
		"pgrst_schema_cache_query_time_seconds": {"gauge", "The query time in seconds of the last schema cache load"},
		"pgrst_jwt_cache_requests_total":        {"counter", "The total number of JWT cache lookups"},
		"pgrst_jwt_cache_hits_total":            {"counter", "The total number of JWT cache hits"},
		"pgrst_jwt_cache_evictions_total":       {"counter", "The total number of JWT cache evictions"},
		"pgway_http_request_duration_seconds":   {"histogram", ""},
	} {
		if got := m["# TYPE "+name]; got != want[0] {
			t.Errorf("%s: type %q, want %q", name, got, want[0])
		}
		if got := m["# HELP "+name]; want[1] != "" && got != want[1] {
			t.Errorf("%s: help %q, want %q", name, got, want[1])
		}
	}
	for series, want := range map[string]string{
		"pgrst_db_pool_timeouts_total":                     "1",
		"pgrst_db_pool_max":                                "1",
		"pgrst_db_pool_waiting":                            "0",
		"pgrst_db_pool_available":                          "1",
		`pgrst_schema_cache_loads_total{status="SUCCESS"}`: "2",
		"pgrst_jwt_cache_requests_total":                   "3",
		"pgrst_jwt_cache_hits_total":                       "2",
		"pgrst_jwt_cache_evictions_total":                  "0",
		`pgway_http_request_duration_seconds_count{class="2xx",route="api.items"}`:   "5",
		`pgway_http_request_duration_seconds_count{class="5xx",route="api.items"}`:   "1",
		`pgway_http_request_duration_seconds_count{class="2xx",route="api.sleep()"}`: "2",
		`pgway_http_request_duration_seconds_count{class="4xx",route="unknown"}`:     "4", // and waitReady's probe
		`pgway_http_request_duration_seconds_count{class="2xx",route="/"}`:           "1",
		`pgway_http_request_duration_seconds_count{class="2xx",route="docs"}`:        "2",
		`pgway_http_requests_total{class="2xx"}`:                                     "10",
	} {
		if got := m[series]; got != want {
			t.Errorf("%s = %q, want %s", series, got, want)
		}
	}
	if v, err := strconv.ParseFloat(m["pgrst_schema_cache_query_time_seconds"], 64); err != nil || v <= 0 || v > 10 {
		t.Errorf("pgrst_schema_cache_query_time_seconds = %q", m["pgrst_schema_cache_query_time_seconds"])
	}
	for series := range m {
		if strings.Contains(series, "no_such") {
			t.Errorf("a path that names nothing became a label: %s", series)
		}
	}
}

// TestAdminSchemaCacheAndConfig: /schema_cache is the running schema cache as JSON (--dump-schema's shape);
// /config is 404 unless admin-server-config-enabled, as in PostgREST 12.2.12, and then the running configuration
// in --dump-config's format with its secrets redacted.
func TestAdminSchemaCacheAndConfig(t *testing.T) {
	db := pgtest.NewDatabase(t, fixture(t))
	sock := filepath.Join(t.TempDir(), "admin.sock")
	startOn(t, db, func(c *config.Config) { c.AdminServerUnixSocket = sock })
	status, hdr, body := adminGet(t, sock, "/schema_cache")
	if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Fatalf("/schema_cache: %d %s", status, hdr.Get("Content-Type"))
	}
	var sc struct {
		Schemas   []string
		Relations []struct{ Schema, Name, Kind string }
	}
	if err := json.Unmarshal([]byte(body), &sc); err != nil {
		t.Fatalf("%v: %.200s", err, body)
	}
	found := false
	for _, r := range sc.Relations {
		found = found || r.Schema == "api" && r.Name == "items" && r.Kind == "table"
	}
	if strings.Join(sc.Schemas, ",") != "api,other" || !found {
		t.Errorf("/schema_cache: schemas %v, api.items %v", sc.Schemas, found)
	}
	if status, _, _ := adminGet(t, sock, "/config"); status != 404 {
		t.Errorf("/config without admin-server-config-enabled: %d, want 404", status)
	}

	sock2 := filepath.Join(t.TempDir(), "admin.sock")
	ts := startOn(t, db, func(c *config.Config) {
		c.AdminServerUnixSocket = sock2
		c.AdminServerConfigEnabled = true
		c.AppSettings = map[string]string{"jwt_secret": "app-level-secret", "region": "eu"}
	})
	status, _, body = adminGet(t, sock2, "/config")
	if status != 200 {
		t.Fatalf("/config: %d", status)
	}
	for _, want := range []string{`jwt-secret = "REDACTED"`, `app.settings.jwt_secret = "REDACTED"`,
		`app.settings.region = "eu"`, `db-schemas = "api,other"`, `db-anon-role = "web_anon"`,
		"admin-server-config-enabled = true", `log-format = "text"`} {
		if !strings.Contains(body, "\n"+want+"\n") && !strings.HasPrefix(body, want+"\n") {
			t.Errorf("/config lacks %s:\n%s", want, body)
		}
	}
	for _, secret := range []string{testSecret, "app-level-secret"} {
		if strings.Contains(body, secret) {
			t.Errorf("/config shows a secret:\n%s", body)
		}
	}
	_ = ts
}

// BenchmarkRequestLog is BenchmarkHandler's filter-order request with its line written (log-level info, text
// and json, to io.Discard): what a logged line costs, against BenchmarkHandler's default (error: no line).
func BenchmarkRequestLog(b *testing.B) {
	db := pgtest.NewDatabase(b, fixture(b))
	for _, format := range []string{"text", "json"} {
		b.Run(format, func(b *testing.B) {
			ts := startLogged(b, db, func(c *config.Config) { c.LogLevel, c.LogFormat = "info", format },
				sidecar.NewLogger(io.Discard, format, "info"))
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			b.ReportAllocs()
			for b.Loop() {
				req.Reset()
				req.SetRequestURI(ts.URL + "/items?select=id,name,price&price=gt.1&order=id&limit=25")
				if err := fasthttp.Do(req, resp); err != nil {
					b.Fatal(err)
				}
				if resp.StatusCode() != 200 {
					b.Fatalf("%d %s", resp.StatusCode(), resp.Body())
				}
			}
		})
	}
}
