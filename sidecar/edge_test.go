package sidecar_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/sidecar"
)

// TestHugeRanges: row numbers beyond int64 in Range, limit=, offset=, rel.limit and Prefer: max-affected are
// past any table's end: they answer like an unbounded limit or an offset past the last row, never an overflow
// error or a 500.
func TestHugeRanges(t *testing.T) {
	ts := start(t, nil, fixture(t), writeFixture(t))
	all := `[{"id":1},{"id":2},{"id":3},{"id":4},{"id":5}]`
	runCases(t, ts, []readCase{
		{name: "Range to int64 max", path: "/items?select=id", headers: []string{"Range: 0-9223372036854775807"},
			status: 200, body: all, header: []string{"Content-Range: 0-4/*"}},
		{name: "Range beyond int64", path: "/items?select=id", headers: []string{"Range: 0-99999999999999999999"},
			status: 200, body: all},
		{name: "Range from 1 to int64 max, counted", path: "/items?select=id", headers: []string{"Range: 1-9223372036854775807", "Prefer: count=exact"},
			status: 206, header: []string{"Content-Range: 1-4/5"}},
		{name: "Range starting beyond int64", path: "/items?select=id", headers: []string{"Range: 99999999999999999999-"},
			status: 200, body: `[]`, header: []string{"Content-Range: */*"}},
		{name: "limit beyond int64", path: "/items?select=id&limit=99999999999999999999", status: 200, body: all},
		{name: "offset beyond int64", path: "/items?select=id&offset=99999999999999999999", status: 200, body: `[]`},
		{name: "offset beyond int64, counted", path: "/items?select=id&offset=99999999999999999999", headers: []string{"Prefer: count=exact"},
			status: 416, header: []string{"Content-Range: */5"}},
		{name: "offset and limit at int64 max", path: "/items?select=id&offset=9223372036854775807&limit=9223372036854775807",
			status: 200, body: `[]`},
		{name: "offset at int64 max, limit 2", path: "/items?select=id&offset=9223372036854775807&limit=2", status: 200, body: `[]`},
		{name: "limit below int64", path: "/items?select=id&limit=-99999999999999999999", status: 416,
			body: `{"code":"PGRST103","details":"Limit should be greater than or equal to zero.","hint":null,"message":"Requested range not satisfiable"}`},
		{name: "embedded limit beyond int64", path: "/clients?select=id,projects(id)&projects.limit=99999999999999999999&id=eq.1", status: 200,
			body: `[{"id":1,"projects":[{"id":1},{"id":2}]}]`},
		{name: "embedded offset beyond int64", path: "/clients?select=id,projects(id)&projects.offset=99999999999999999999&id=eq.1", status: 200,
			body: `[{"id":1,"projects":[]}]`},
	})
	r := ts.do("PATCH", "/clients?id=eq.1", []string{"Prefer: handling=strict, max-affected=99999999999999999999",
		"Content-Type: application/json"}, `{"name":"Microsoft"}`)
	if r.Status >= 300 || r.Header.Get("Preference-Applied") != "handling=strict, max-affected=9223372036854775807" {
		t.Errorf("max-affected beyond int64: %d %q %s", r.Status, r.Header.Get("Preference-Applied"), r.Body)
	}
}

// rawResponse is one HTTP response read off a raw connection.
type rawResponse struct {
	Status int
	Header http.Header
	Body   string
}

// rawExchange writes req (raw bytes, as an attacker would send them) on a new connection and reads one
// response; ok is false when the server closed the connection without answering.
func rawExchange(t *testing.T, ts *testServer, req string) (res rawResponse, ok bool) {
	t.Helper()
	all := rawExchangeN(t, ts, req, 1)
	if len(all) == 0 {
		return res, false
	}
	return all[0], true
}

// rawExchangeN writes req on a new connection and reads up to n responses (fewer when the server closes the
// connection first).
func rawExchangeN(t *testing.T, ts *testServer, req string, n int) []rawResponse {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []rawResponse
	for len(out) < n {
		r, err := http.ReadResponse(br, nil)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
				break
			}
			t.Fatalf("reading response %d to %q: %v", len(out)+1, req, err)
		}
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode < 200 {
			continue // an interim response (100 Continue)
		}
		out = append(out, rawResponse{Status: r.StatusCode, Header: r.Header, Body: string(b)})
	}
	return out
}

// checkErrorBody fails unless body is PostgREST's error object as valid UTF-8 JSON.
func checkErrorBody(t *testing.T, body string) {
	t.Helper()
	if !utf8.ValidString(body) {
		t.Errorf("error body is not valid UTF-8: %q", body)
	}
	var e struct {
		Code    *string `json:"code"`
		Message *string `json:"message"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code == nil || e.Message == nil {
		t.Errorf("not a PostgREST error object: %q (%v)", body, err)
	}
}

// TestInvalidUTF8Echoed: request text that is not UTF-8 (raw or percent-encoded bytes in the path, header
// values) is echoed in error messages as U+FFFD, so every error body is valid UTF-8 JSON; a header with such
// bytes no longer breaks the request.headers setting.
func TestInvalidUTF8Echoed(t *testing.T) {
	ts := start(t, nil, fixture(t))
	tests := []struct {
		name    string
		req     string
		status  int
		message string // exact message when set
	}{
		{"percent-encoded path", "GET /%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n", 404,
			"Could not find the table 'api.\uFFFD\uFFFD' in the schema cache"},
		{"raw path bytes", "GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n", 404,
			"Could not find the table 'api.\uFFFD\uFFFD' in the schema cache"},
		{"truncated sequence in path", "GET /items%e2%98 HTTP/1.1\r\nHost: x\r\n\r\n", 404, ""},
		{"profile header", "GET /items HTTP/1.1\r\nHost: x\r\nAccept-Profile: \xff\r\n\r\n", 406, "Invalid schema: \uFFFD"},
		{"accept header", "GET /items HTTP/1.1\r\nHost: x\r\nAccept: \xfe\r\n\r\n", 406,
			"None of these media types are available: \uFFFD"},
		{"select parameter", "GET /items?select=id,%ff( HTTP/1.1\r\nHost: x\r\n\r\n", 400, ""},
		{"filter column", "GET /items?%ff=eq.1 HTTP/1.1\r\nHost: x\r\n\r\n", 400, ""},
		{"order", "GET /items?order=%ff.%fe HTTP/1.1\r\nHost: x\r\n\r\n", 400, ""},
		{"rpc name", "GET /rpc/%ff HTTP/1.1\r\nHost: x\r\n\r\n", 404, ""},
		{"overlong encoding in path", "GET /%c0%af HTTP/1.1\r\nHost: x\r\n\r\n", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, ok := rawExchange(t, ts, tt.req)
			if !ok {
				t.Fatal("connection closed without a response")
			}
			if res.Status != tt.status {
				t.Errorf("status %d, want %d: %s", res.Status, tt.status, res.Body)
			}
			checkErrorBody(t, res.Body)
			if tt.message != "" && !strings.Contains(res.Body, `"message":`+strconv.Quote(tt.message)) {
				t.Errorf("body %s, want message %q", res.Body, tt.message)
			}
		})
	}
	// A header value with obs-text bytes is passed to request.headers as U+FFFD instead of failing in PostgreSQL.
	res, _ := rawExchange(t, ts, "GET /items?select=id&id=eq.1 HTTP/1.1\r\nHost: x\r\nX-Note: caf\xe9\r\n\r\n")
	if res.Status != 200 || res.Body != `[{"id":1}]` {
		t.Errorf("obs-text header: %d %s", res.Status, res.Body)
	}
}

// TestLargeRequestHeaders: server-max-header-size sizes fasthttp's read buffer, so long in.(…) URLs and big
// headers work up to it (fasthttp's default 4 KiB refused them), and beyond it the answer is a JSON 431.
func TestLargeRequestHeaders(t *testing.T) {
	ts := start(t, nil, fixture(t))
	ids := make([]string, 0, 5000)
	for i := 1; len(strings.Join(ids, ",")) < 30<<10; i++ {
		ids = append(ids, strconv.Itoa(i))
	}
	long := "/items?select=id&id=in.(" + strings.Join(ids, ",") + ")"
	if len(long) < 30<<10 {
		t.Fatalf("URL only %d bytes", len(long))
	}
	r := ts.get(long)
	if r.Status != 200 {
		t.Fatalf("30 KB in.() URL: %d %.200s", r.Status, r.Body)
	}
	assertBody(t, r.Body, `[{"id":1},{"id":2},{"id":3},{"id":4},{"id":5}]`)
	if r := ts.get("/items?select=id&id=eq.1", "X-Big: "+strings.Repeat("a", 40<<10)); r.Status != 200 {
		t.Fatalf("40 KB header: %d %.200s", r.Status, r.Body)
	}
	for _, tc := range []struct {
		name string
		req  string
	}{
		{"header beyond the default 64 KiB", "GET /items HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 70<<10) + "\r\n\r\n"},
		{"many headers beyond 64 KiB", "GET /items HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Many: "+strings.Repeat("b", 1000)+"\r\n", 70) + "\r\n"},
		{"URL beyond 64 KiB", "GET /items?id=in.(" + strings.Repeat("1,", 35<<10) + "1) HTTP/1.1\r\nHost: x\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, ok := rawExchange(t, ts, tc.req)
			if !ok {
				t.Fatal("connection closed without a response")
			}
			if res.Status != 431 || errorCode(res.Body) != "PGRST431" {
				t.Fatalf("got %d %s, want 431 PGRST431", res.Status, res.Body)
			}
			checkErrorBody(t, res.Body)
			if !strings.Contains(res.Body, "65536 bytes") {
				t.Errorf("details do not name the limit: %s", res.Body)
			}
		})
	}
	small := start(t, func(c *config.Config) { c.MaxHeaderBytes = 8 << 10 }, fixture(t))
	if r := small.get("/items?select=id&id=eq.1", "X-Big: "+strings.Repeat("a", 6<<10)); r.Status != 200 {
		t.Fatalf("6 KB header under an 8 KiB limit: %d %.200s", r.Status, r.Body)
	}
	res, ok := rawExchange(t, small, "GET /items HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 10<<10)+"\r\n\r\n")
	if !ok || res.Status != 431 || !strings.Contains(res.Body, "8192 bytes") {
		t.Fatalf("10 KB header over an 8 KiB limit: %v %d %s", ok, res.Status, res.Body)
	}
}

// TestStalledAndCutRequests: a client that sends part of a request and stalls past the read timeout, or closes
// mid-request, is disconnected without an answer (warp does the same) instead of getting "400 Malformed HTTP
// request"; the server keeps serving.
func TestStalledAndCutRequests(t *testing.T) {
	defer sidecar.SetReadTimeout(500 * time.Millisecond)()
	ts := start(t, nil, fixture(t))
	addr := strings.TrimPrefix(ts.URL, "http://")
	for _, tc := range []struct {
		name    string
		partial string
		cut     bool // close the write side instead of stalling
	}{
		{"nothing sent", "", false},
		{"half a request line", "GET /ite", false},
		{"request line, no headers", "GET /items HTTP/1.1\r\n", false},
		{"headers unfinished", "GET /items HTTP/1.1\r\nHost: x\r\nPrefer: count=ex", false},
		{"body shorter than Content-Length", "POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{}", false},
		{"chunked body unfinished", "POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[{}", false},
		{"cut in the request line", "GET /ite", true},
		{"cut in the headers", "GET /items HTTP/1.1\r\nHost: x\r\n", true},
		{"cut in the body", "POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{}", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := io.WriteString(c, tc.partial); err != nil {
				t.Fatal(err)
			}
			if tc.cut {
				_ = c.(*net.TCPConn).CloseWrite()
			}
			start := time.Now()
			_ = c.SetReadDeadline(start.Add(10 * time.Second))
			got, err := io.ReadAll(c)
			if err != nil && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("after %v: %v (read %q)", time.Since(start), err, got)
			}
			if len(got) != 0 {
				t.Fatalf("got an answer: %q", got)
			}
		})
	}
	if r := ts.get("/items?select=id&id=eq.1"); r.Status != 200 {
		t.Fatalf("afterwards: %d %s", r.Status, r.Body)
	}
}

// TestMalformedHTTP: requests fasthttp cannot parse get PostgREST's JSON error object with a 4xx, and the body
// does not quote the request's bytes back (they may carry credentials).
func TestMalformedHTTP(t *testing.T) {
	ts := start(t, nil, fixture(t))
	const secret = "Authorization: Bearer s3cr3t-t0ken\r\n"
	for _, tc := range []struct {
		name, req string
		status    int
	}{
		{"not HTTP", "GARBAGE " + secret + "\r\n\r\n", 400},
		{"NUL in a header value", "GET /items HTTP/1.1\r\nHost: x\r\n" + secret + "X-A: a\x00b\r\n\r\n", 400},
		{"CR in a header value", "GET /items HTTP/1.1\r\nHost: x\r\n" + secret + "X-A: a\rSet-Cookie: b\r\n\r\n", 400},
		{"control byte in the URI", "GET /items?a=\x01 HTTP/1.1\r\nHost: x\r\n" + secret + "\r\n", 400},
		{"raw NUL in the URI", "GET /items\x00 HTTP/1.1\r\nHost: x\r\n" + secret + "\r\n", 400},
		{"two Content-Lengths", "POST /items HTTP/1.1\r\nHost: x\r\n" + secret + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400},
		{"bad Content-Length", "POST /items HTTP/1.1\r\nHost: x\r\n" + secret + "Content-Length: -5\r\n\r\n{}", 400},
		{"bad chunk size", "POST /items HTTP/1.1\r\nHost: x\r\n" + secret + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400},
		{"header without colon", "GET /items HTTP/1.1\r\nHost: x\r\n" + secret + "NoColon\r\n\r\n", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, ok := rawExchange(t, ts, tc.req)
			if !ok {
				t.Fatal("connection closed without a response")
			}
			if res.Status != tc.status {
				t.Errorf("status %d, want %d: %s", res.Status, tc.status, res.Body)
			}
			checkErrorBody(t, res.Body)
			if strings.Contains(res.Body, "s3cr3t") {
				t.Errorf("the body quotes the request: %s", res.Body)
			}
		})
	}
}

// tcpProxy forwards loopback connections to a target address until cut, after which its port refuses
// connections: a database that goes away under a running server.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			if !p.track(c, up) {
				return
			}
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	p.conns = append(p.conns, cs...)
	return true
}

// cut stops listening and drops every forwarded connection.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestDatabaseDownDetails: while the database is unreachable every answer is a JSON 503 with Retry-After, and
// PGRST001's details say what failed without the database's host, port, role or name (PostgREST shows libpq's
// message, which names them); the full error goes to the server's log.
func TestDatabaseDownDetails(t *testing.T) {
	db := pgtest.NewDatabase(t, fixture(t))
	u, err := url.Parse(db.URLAs("authenticator", ""))
	if err != nil || u.Port() == "" {
		t.Skipf("the test database is not reached over TCP (%s)", u)
	}
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	ts := startOn(t, db, func(c *config.Config) { c.DBURI = u.String() })
	if r := ts.get("/items?select=id&id=eq.1"); r.Status != 200 {
		t.Fatalf("before: %d %s", r.Status, r.Body)
	}
	proxy.cut()
	secrets := []string{u.Hostname(), u.Port(), db.Name, "authenticator", "127.0.0.1", "localhost"}
	var last response
	deadline := time.Now().Add(15 * time.Second)
	for {
		last = ts.get("/items?select=id&id=eq.1")
		if last.Status != 503 {
			t.Fatalf("database down: %d %s, want 503", last.Status, last.Body)
		}
		checkErrorBody(t, last.Body)
		if got := last.Header.Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After %q on %s", got, last.Body)
		}
		for _, s := range secrets {
			if strings.Contains(last.Body, s) {
				t.Errorf("503 body names %q: %s", s, last.Body)
			}
		}
		if errorCode(last.Body) == "PGRST000" && strings.Contains(last.Body, "Connection refused") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// PostgREST's PGRST000: no connection can be made (PGRST001 is an established connection that failed).
	assertBody(t, last.Body, `{"code":"PGRST000","details":"Connection refused: is the database server running and accepting connections?",`+
		`"hint":null,"message":"Database connection error. Retrying the connection."}`)
	// HEAD and writes get the same.
	if r := ts.do("HEAD", "/items", nil, ""); r.Status != 503 || r.Header.Get("Retry-After") == "" {
		t.Errorf("HEAD: %d %v", r.Status, r.Header)
	}
	if r := ts.do("POST", "/items", []string{"Content-Type: application/json"}, `{"id":9,"name":"x"}`); r.Status != 503 || r.Header.Get("Retry-After") == "" {
		t.Errorf("POST: %d %s", r.Status, r.Body)
	}
}

// TestNoSchemaCacheRetryAfter: the 503 PGRST002 served while the schema cache cannot be loaded carries
// Retry-After too.
func TestNoSchemaCacheRetryAfter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	cfg := config.Default()
	cfg.DBURI = "postgres://authenticator@" + dead + "/nope?connect_timeout=2"
	cfg.DBSchemas = []string{"api"}
	cfg.DBAnonRole = "web_anon"
	srv, err := sidecar.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeListener(ctx, ln) }()
	defer func() { cancel(); <-done; srv.Close() }()
	ts := &testServer{t: t, URL: "http://" + ln.Addr().String(), http: &http.Client{Timeout: 10 * time.Second}}
	var r response
	for i := 0; i < 50; i++ {
		if r = ts.get("/items"); r.Status != 0 {
			break
		}
	}
	if r.Status != 503 || errorCode(r.Body) != "PGRST002" || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("got %d %v %s, want 503 PGRST002 with Retry-After", r.Status, r.Header, r.Body)
	}
}

// TestCORSAllowList: with server-cors-allowed-origins, an origin not in the list never gets
// Access-Control-Allow-Origin (let alone "*"): its requests and preflights are answered as if they had no
// Origin, as PostgREST's wai-cors policy (corsIgnoreFailures) does. Every response then varies by Origin.
func TestCORSAllowList(t *testing.T) {
	const good, evil = "Origin: http://good.example", "Origin: http://evil.example"
	noCORS := []string{"Access-Control-Allow-Origin:", "Access-Control-Allow-Credentials:", "Access-Control-Allow-Methods:",
		"Access-Control-Allow-Headers:", "Access-Control-Expose-Headers:", "Access-Control-Max-Age:"}
	ts := start(t, func(c *config.Config) {
		c.ServerCorsAllowedOrigins = []string{"http://good.example", "http://also.example"}
	}, fixture(t))
	runCases(t, ts, []readCase{
		{name: "allowed origin", path: "/items?select=id&id=eq.1", headers: []string{good}, status: 200,
			header: []string{"Access-Control-Allow-Origin: http://good.example", "Access-Control-Allow-Credentials: true",
				"Access-Control-Expose-Headers: " + corsExposedHeaders, "Vary: Accept, Prefer, Range, Origin"}},
		{name: "other origin", path: "/items?select=id&id=eq.1", headers: []string{evil}, status: 200, body: `[{"id":1}]`,
			header: append([]string{"Vary: Accept, Prefer, Range, Origin"}, noCORS...)},
		{name: "no origin", path: "/items?select=id&id=eq.1", status: 200,
			header: append([]string{"Vary: Accept, Prefer, Range, Origin"}, noCORS...)},
		{name: "error for an allowed origin", path: "/nope", headers: []string{good}, status: 404,
			header: []string{"Access-Control-Allow-Origin: http://good.example", "Vary: Origin"}},
		{name: "error for another origin", path: "/nope", headers: []string{evil}, status: 404,
			header: append([]string{"Vary: Origin"}, noCORS...)},
		{name: "preflight, allowed origin", method: "OPTIONS", path: "/items",
			headers: []string{good, "Access-Control-Request-Method: PATCH", "Access-Control-Request-Headers: content-type, prefer, accept"},
			status:  200, body: "", header: []string{"Access-Control-Allow-Origin: http://good.example",
				"Access-Control-Allow-Credentials: true", "Access-Control-Allow-Methods: GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD",
				"Access-Control-Allow-Headers: Authorization, content-type, prefer, accept, Accept-Language, Content-Language",
				"Access-Control-Max-Age: 86400", "Vary: Origin"}},
		{name: "preflight, other origin", method: "OPTIONS", path: "/items",
			headers: []string{evil, "Access-Control-Request-Method: DELETE", "Access-Control-Request-Headers: authorization"},
			status:  200, header: append([]string{"Vary: Accept, Prefer, Range, Origin"}, noCORS...)},
		{name: "preflight, other origin, unknown resource", method: "OPTIONS", path: "/nope",
			headers: []string{evil, "Access-Control-Request-Method: GET"}, status: 404, header: noCORS},
		{name: "preflight, origin differing in case", method: "OPTIONS", path: "/items",
			headers: []string{"Origin: http://GOOD.example", "Access-Control-Request-Method: GET"}, status: 200, header: noCORS},
		{name: "preflight for an unsupported method", method: "OPTIONS", path: "/items",
			headers: []string{good, "Access-Control-Request-Method: TRACE"}, status: 200, header: noCORS},
		{name: "OPTIONS with an origin but no requested method", method: "OPTIONS", path: "/items",
			headers: []string{good}, status: 200, header: noCORS},
	})
	for _, origin := range []string{"null", "*", "http://good.example.evil.example", "http://good.example, http://evil.example"} {
		r := ts.do("OPTIONS", "/items", []string{"Origin: " + origin, "Access-Control-Request-Method: GET"}, "")
		if v := r.Header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("origin %q got Access-Control-Allow-Origin %q", origin, v)
		}
	}

	// Without an allow-list every origin is allowed with "*", and nothing varies by Origin.
	open := start(t, nil, fixture(t))
	runCases(t, open, []readCase{
		{name: "any origin", path: "/items?select=id&id=eq.1", headers: []string{evil}, status: 200,
			header: []string{"Access-Control-Allow-Origin: *", "Access-Control-Allow-Credentials:", "Vary: Accept, Prefer, Range"}},
		{name: "preflight, any origin", method: "OPTIONS", path: "/items", headers: []string{evil, "Access-Control-Request-Method: POST"},
			status: 200, header: []string{"Access-Control-Allow-Origin: *", "Vary:"}},
	})
}

const corsExposedHeaders = "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, Transfer-Encoding, Range-Unit"

// TestHeaderInjection: request text echoed into response headers (Content-Location, Location, the trace
// header, error codes) cannot add headers or split the response, whatever it decodes to.
func TestHeaderInjection(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.ServerTraceHeader = "X-Request-Id" }, fixture(t), writeFixture(t), embedFixture(t))
	injected := func(t *testing.T, h http.Header) {
		t.Helper()
		for _, k := range []string{"Set-Cookie", "X-Injected"} {
			if v := h.Values(k); len(v) > 0 {
				t.Errorf("injected header %s: %q", k, v)
			}
		}
		for k, vs := range h {
			for _, v := range vs {
				if strings.ContainsAny(v, "\r\n\x00") {
					t.Errorf("header %s carries a control byte: %q", k, v)
				}
			}
		}
	}
	for _, tc := range []struct {
		name, req string
		status    int
	}{
		{"CRLF in the path", "GET /items%0d%0aX-Injected:%20yes HTTP/1.1\r\nHost: x\r\n\r\n", 404},
		{"CRLF in a filter value (Content-Location)", "GET /items?select=id&name=eq.a%0d%0aSet-Cookie:%20a=b HTTP/1.1\r\nHost: x\r\n\r\n", 200},
		{"CRLF in a profile", "GET /items HTTP/1.1\r\nHost: x\r\nAccept-Profile: api%0d%0aX-Injected: yes\r\n\r\n", 406},
		{"obs-fold in the trace header", "GET /items?select=id&id=eq.1 HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\r\n X-Injected: yes\r\n\r\n", 200},
		{"NUL in the path", "GET /items%00%0d%0aX-Injected:%20yes HTTP/1.1\r\nHost: x\r\n\r\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, ok := rawExchange(t, ts, tc.req)
			if !ok {
				t.Fatal("connection closed without a response")
			}
			if tc.status != 0 && res.Status != tc.status {
				t.Errorf("status %d, want %d: %s", res.Status, tc.status, res.Body)
			}
			if res.Status >= 500 {
				t.Errorf("status %d: %s", res.Status, res.Body)
			}
			injected(t, res.Header)
		})
	}
	// The deprecation Warning names the request's alias: it stays one well-formed quoted-string.
	warning := regexp.MustCompile(`^299 pgway "([^"\\\x00-\x1f\x7f]|\\["\\])*"$`)
	for _, alias := range []string{"writer", "%22wr%0d%0ai%5C%22ter%22", "%22wr%ffi%22"} {
		r := ts.get("/books?select=id," + alias + ":authors!author_id(name)&authors.name=eq.Ursula")
		if r.Status != 200 {
			t.Fatalf("alias %s: %d %s", alias, r.Status, r.Body)
		}
		injected(t, r.Header)
		if w := r.Header.Get("Warning"); !warning.MatchString(w) || !utf8.ValidString(w) {
			t.Errorf("alias %s: Warning %q is not one quoted-string", alias, w)
		}
	}
	// A key value with CR/LF, written by the client and echoed in Location.
	r := ts.do("POST", "/compound", []string{"Content-Type: application/json", "Prefer: return=headers-only"},
		`{"k1":7,"k2":"x\r\nSet-Cookie: pwn=1","extra":"e"}`)
	if r.Status != 201 {
		t.Fatalf("insert: %d %s", r.Status, r.Body)
	}
	injected(t, r.Header)
	if loc := r.Header.Get("Location"); !strings.Contains(loc, "k1=eq.7") {
		t.Errorf("Location %q", loc)
	}
}

// TestHostileRequests: odd but parseable requests (HTTP/1.0, pipelining, repeated headers, Content-Length
// mismatches, invalid percent-encoding, NUL bytes, long paths) are answered with a 2xx or a 4xx JSON error,
// never a 5xx or a non-JSON error body, and the server keeps serving.
func TestHostileRequests(t *testing.T) {
	ts := start(t, nil, fixture(t))
	get := func(target string, headers ...string) string {
		return "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + strings.Join(headers, "") + "\r\n"
	}
	for _, tc := range []struct {
		name     string
		req      string
		statuses []int  // of each response, in order
		last     string // body of the last response, compared as JSON when set
	}{
		{"HTTP/1.0", "GET /items?select=id&id=eq.1 HTTP/1.0\r\n\r\n", []int{200}, `[{"id":1}]`},
		{"HTTP/1.0 keep-alive, two requests", "GET /items?select=id&id=eq.1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" +
			"GET /items?select=id&id=eq.2 HTTP/1.0\r\n\r\n", []int{200, 200}, `[{"id":2}]`},
		{"pipelined", get("/items?select=id&id=eq.1") + get("/nope") + get("/items?select=id&id=eq.3"), []int{200, 404, 200}, `[{"id":3}]`},
		{"pipelined after an error", get("/items?id=eq.x") + get("/items?select=id&id=eq.2"), []int{400, 200}, `[{"id":2}]`},
		{"two Prefer headers", get("/items?select=id", "Prefer: count=exact\r\n", "Prefer: count=planned\r\n", "Range: 0-0\r\n"),
			[]int{206}, `[{"id":1}]`},
		{"two Range headers: the first wins", get("/items?select=id", "Range: 1-1\r\n", "Range: 0-0\r\n"), []int{200}, `[{"id":2}]`},
		{"malformed Range: ignored", get("/items?select=id&id=eq.1", "Range: bytes=0-1\r\n"), []int{200}, `[{"id":1}]`},
		{"Range with a huge lower bound only", get("/items?select=id", "Range: 99999999999999999999999999-1\r\n"), []int{416}, ""},
		{"body longer than Content-Length", "POST /rpc/nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}" +
			"GET /items?select=id&id=eq.1 HTTP/1.1\r\nHost: x\r\n\r\n", []int{404, 200}, `[{"id":1}]`},
		{"GET with a body", "GET /items?select=id&id=eq.1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", []int{200}, `[{"id":1}]`},
		{"invalid percent-encoding in the path", get("/it%zzems"), []int{404}, ""},
		{"invalid percent-encoding in a key", get("/items?%zz=eq.1"), []int{400}, ""},
		{"invalid percent-encoding in a value", get("/items?select=id&name=eq.%zz"), []int{200}, `[]`},
		{"trailing percent", get("/items?select=id&name=eq.%"), []int{200}, `[]`},
		{"NUL in the path", get("/items%00"), []int{400}, ""},
		{"NUL in a filter value", get("/items?select=id&name=eq.a%00b"), []int{400}, ""},
		{"NUL in a select", get("/items?select=id%00name"), []int{400}, ""},
		{"NUL in a Prefer header value", get("/items?select=id", "Prefer: count=exact%00\r\n"), []int{200}, ""},
		{"long path", get("/" + strings.Repeat("a", 50<<10)), []int{404}, ""},
		{"path traversal", get("/../../etc/passwd"), []int{404}, ""}, // normalised to /etc/passwd: PGRST125
		{"absolute-form target", "GET http://evil.example/items?select=id&id=eq.1 HTTP/1.1\r\nHost: x\r\n\r\n", []int{200}, `[{"id":1}]`},
		{"asterisk-form target", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", []int{404}, ""},
		{"unknown method", "BREW /items HTTP/1.1\r\nHost: x\r\n\r\n", []int{405}, ""},
		{"lower-case method", "get /items HTTP/1.1\r\nHost: x\r\n\r\n", []int{405}, ""},
		{"Expect: 100-continue", "POST /rpc/nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
			[]int{404}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := max(len(tc.statuses), 1)
			got := rawExchangeN(t, ts, tc.req, n)
			if tc.statuses != nil && len(got) != len(tc.statuses) {
				t.Fatalf("got %d responses, want %d", len(got), len(tc.statuses))
			}
			for i, r := range got {
				if tc.statuses != nil && r.Status != tc.statuses[i] {
					t.Errorf("response %d: status %d, want %d: %.300s", i+1, r.Status, tc.statuses[i], r.Body)
				}
				if r.Status >= 500 {
					t.Errorf("response %d: %d %.300s", i+1, r.Status, r.Body)
				}
				if r.Status >= 400 {
					checkErrorBody(t, r.Body)
				}
			}
			if tc.last != "" && len(got) > 0 {
				assertBody(t, got[len(got)-1].Body, tc.last)
			}
		})
	}
	if r := ts.get("/items?select=id&id=eq.1"); r.Status != 200 {
		t.Fatalf("afterwards: %d %s", r.Status, r.Body)
	}
}
