package sidecar_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/pgtest"
)

// bouncerFixture: rows enough for a streamed response, a table to write, a function that sleeps.
const bouncerFixture = `
CREATE TABLE api.big AS SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 5000) g;
GRANT SELECT ON api.big TO web_anon, web_user;
CREATE TABLE api.posts (id int PRIMARY KEY, body text NOT NULL);
GRANT SELECT, INSERT ON api.posts TO web_anon;
` + sleepFixture

// TestPgBouncerTransactionMode: with db-prepared-statements = false, pgway works through PgBouncer in transaction
// mode — fewer server connections than pgway's pool, so consecutive transactions of one pgway connection run on
// different server connections — and sends no named statement at all (a protocol spy between them counts
// them): role switching and row-level security under concurrency, streamed responses, large write bodies (COPY
// into a temporary table in an explicit transaction), a statement cancelled at server-request-timeout, and a
// schema reload through a listener connected to the primary directly (db-listener-uri).
func TestPgBouncerTransactionMode(t *testing.T) {
	bouncer := pgtest.StartPgBouncer(t, pgtest.PgBouncerOptions{PoolSize: 3})
	t.Logf("PgBouncer %s (protocol-level prepared statements in transaction mode need 1.21+)", bouncer.Version())
	db := pgtest.NewDatabase(t, fixture(t), bouncerFixture)
	spy := newProtocolSpy(t, hostOf(t, bouncer.URL(db.Name)))
	ts := startOn(t, db, func(c *config.Config) {
		c.DBURI = spy.url(t, bouncer.URLAs(db.Name, "authenticator", ""))
		c.DBPreparedStatements = false
		c.DBListenerURI = db.URLAs("authenticator", "")
		c.DBPool = 8
		c.ResponseBufferBytes = 4 << 10
		c.StreamBodyBytes = 1 << 10
		c.RequestTimeout = time.Second
	})

	// Role switching and RLS, many requests at once over 3 server connections.
	alice := "Authorization: Bearer " + token(t, jwt.MapClaims{"role": "web_user", "sub": "alice"})
	bob := "Authorization: Bearer " + token(t, jwt.MapClaims{"role": "web_user", "sub": "bob"})
	var wg sync.WaitGroup
	var bad atomic.Int64
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 40 {
				var path, auth, want string
				var status int
				switch (i + n) % 4 {
				case 0:
					path, auth, status, want = "/notes?select=id&order=id", alice, 200, `[{"id":1},{"id":3}]`
				case 1:
					path, auth, status, want = "/notes?select=id&order=id", bob, 200, `[{"id":2}]`
				case 2:
					path, status = "/secrets?select=secret", 401 // anonymous: no grant
				case 3:
					path, auth, status, want = "/secrets?select=secret", alice, 200, `[{"secret":"swordfish"}]`
				}
				var h []string
				if auth != "" {
					h = append(h, auth)
				}
				res := ts.do("GET", path, h, "")
				if res.Status != status || want != "" && res.Body != want {
					if bad.Add(1) <= 5 {
						t.Errorf("GET %s as %q: %d %s, want %d %s", path, auth, res.Status, res.Body, status, want)
					}
				}
			}
		}()
	}
	wg.Wait()

	// A streamed response (past server-response-buffer-size).
	res := ts.get("/big?select=id,label&order=id")
	var rows []struct {
		ID    int
		Label string
	}
	if err := json.Unmarshal([]byte(res.Body), &rows); err != nil || res.Status != 200 || len(rows) != 5000 || rows[4999].ID != 5000 {
		t.Errorf("streamed read: %d, %d rows, %v", res.Status, len(rows), err)
	}
	if res.Header.Get("Content-Length") != "" {
		t.Errorf("the read was not streamed: Content-Length %s", res.Header.Get("Content-Length"))
	}

	// Large bodies (past server-stream-body-size go by COPY), from several clients at once.
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b strings.Builder
			b.WriteString("[")
			for i := range 100 {
				if i > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, `{"id":%d,"body":"post %d of writer %d"}`, w*1000+i, i, w)
			}
			b.WriteString("]")
			prefer := "Prefer: return=minimal"
			if w == 0 {
				prefer = "Prefer: return=representation"
			}
			res := ts.do("POST", "/posts", []string{"Content-Type: application/json", prefer}, b.String())
			if res.Status != 201 || w == 0 && !strings.Contains(res.Body, `"post 99 of writer 0"`) {
				t.Errorf("large write %d: %d %.200s", w, res.Status, res.Body)
			}
		}()
	}
	wg.Wait()
	if res := ts.get("/posts?select=id&limit=1", "Prefer: count=exact"); res.Header.Get("Content-Range") != "0-0/600" {
		t.Errorf("posts after the large writes: %s (Content-Range %s)", res.Body, res.Header.Get("Content-Range"))
	}

	// server-request-timeout cancels the statements through PgBouncer (which stays up: see cancelreq.go). As many
	// as PgBouncer has server connections: it ignores a cancel request for a client still queued for one.
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			if res := ts.get("/rpc/sleep?s=10"); res.Status != 500 || !strings.Contains(res.Body, "57014") || time.Since(start) > 5*time.Second {
				t.Errorf("timed out call: %d %s after %v", res.Status, res.Body, time.Since(start))
			}
		}()
	}
	wg.Wait()
	if !bouncer.Running() {
		t.Fatalf("PgBouncer exited:\n%s", bouncer.Log())
	}

	// A schema reload: the listener is on the primary, the requests go through PgBouncer.
	db.Exec(t, "ALTER TABLE api.posts ADD COLUMN mood text DEFAULT 'calm'; NOTIFY pgrst, 'reload schema'")
	waitUntil(t, 5*time.Second, "the new column", func() bool { return ts.get("/posts?select=mood&limit=1").Status == 200 })

	if n, all := spy.named(); n > 0 {
		t.Errorf("%d named statements sent with db-prepared-statements = false: %v", n, all)
	}
	if spy.messages.Load() < 1000 {
		t.Errorf("the spy saw only %d messages: is pgway going through it?", spy.messages.Load())
	}
}

// TestProtocolSpy: the spy sees the named statements pgway prepares with db-prepared-statements = true (direct to
// PostgreSQL), so that its zero above means none were sent.
func TestProtocolSpy(t *testing.T) {
	db := pgtest.NewDatabase(t, fixture(t))
	spy := newProtocolSpy(t, hostOf(t, db.URL))
	ts := startOn(t, db, func(c *config.Config) { c.DBURI = spy.url(t, db.URLAs("authenticator", "")) })
	for range 3 {
		if res := ts.get("/items?select=id&id=eq.1"); res.Status != 200 {
			t.Fatal(res.Status, res.Body)
		}
	}
	if n, all := spy.named(); n == 0 {
		t.Errorf("the spy saw no named statement with db-prepared-statements = true: %v", all)
	}
}

func hostOf(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Host
}

// protocolSpy is a TCP proxy in front of a PostgreSQL server (or PgBouncer) that reads the frontend messages
// going through it and records those that name a prepared statement: Parse with a name, Bind, Describe or Close
// of a named statement.
type protocolSpy struct {
	ln       net.Listener
	upstream string
	messages atomic.Int64
	mu       sync.Mutex
	names    map[string]int // "Parse pgway_1" → count
}

func newProtocolSpy(t *testing.T, upstream string) *protocolSpy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &protocolSpy{ln: ln, upstream: upstream, names: map[string]int{}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

// url is u pointing at the spy.
func (s *protocolSpy) url(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	p.Host = s.ln.Addr().String()
	return p.String()
}

func (s *protocolSpy) named() (int, map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	out := map[string]int{}
	for k, v := range s.names {
		n += v
		out[k] = v
	}
	return n, out
}

func (s *protocolSpy) serve(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", s.upstream)
	if err != nil {
		return
	}
	defer server.Close()
	go func() { _, _ = io.Copy(client, server); client.Close() }()
	r := bufio.NewReader(client)
	// The startup packet (or a cancel request) has no type byte.
	var n uint32
	if err := binary.Read(r, binary.BigEndian, &n); err != nil || n < 4 || n > 1<<20 {
		return
	}
	start := make([]byte, n-4)
	if _, err := io.ReadFull(r, start); err != nil {
		return
	}
	hdr := binary.BigEndian.AppendUint32(nil, n)
	if _, err := server.Write(append(hdr, start...)); err != nil {
		return
	}
	for {
		var head [5]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return
		}
		size := binary.BigEndian.Uint32(head[1:])
		if size < 4 || size > 1<<30 {
			return
		}
		body := make([]byte, size-4)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		s.messages.Add(1)
		s.inspect(head[0], body)
		if _, err := server.Write(append(head[:], body...)); err != nil {
			return
		}
	}
}

// inspect records a message that names a prepared statement.
func (s *protocolSpy) inspect(kind byte, body []byte) {
	cstr := func(b []byte) (string, []byte) {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return "", nil
		}
		return string(b[:i]), b[i+1:]
	}
	var what, name string
	switch kind {
	case 'P': // Parse: statement name, query, …
		what = "Parse"
		name, _ = cstr(body)
	case 'B': // Bind: portal name, statement name, …
		what = "Bind"
		_, rest := cstr(body)
		name, _ = cstr(rest)
	case 'D', 'C': // Describe, Close: 'S' and a statement name, or 'P' and a portal
		if len(body) > 0 && body[0] == 'S' {
			what = map[byte]string{'D': "Describe", 'C': "Close"}[kind]
			name, _ = cstr(body[1:])
		}
	case 'Q': // a simple query: PREPARE or EXECUTE by name would be SQL
		q := strings.ToUpper(strings.TrimSpace(string(bytes.TrimRight(body, "\x00"))))
		if strings.HasPrefix(q, "PREPARE ") || strings.HasPrefix(q, "EXECUTE ") || strings.HasPrefix(q, "DEALLOCATE ") {
			what, name = "Query", q
		}
	}
	if name == "" {
		return
	}
	s.mu.Lock()
	s.names[what+" "+name]++
	s.mu.Unlock()
}

// TestPgBouncerPreparedStatements: PgBouncer 1.22 and later track protocol-level named prepared statements in
// transaction mode (max_prepared_statements, 1.21; DEALLOCATE ALL, 1.22), so pgway may keep
// db-prepared-statements = true through it, schema reloads (which deallocate) included. Skipped with an older
// PgBouncer, with which db-prepared-statements must be false (TestPgBouncerTransactionMode).
func TestPgBouncerPreparedStatements(t *testing.T) {
	bin, err := pgtest.FindPgBouncer()
	if err != nil {
		t.Fatal(err)
	}
	version, major, minor, err := pgtest.PgBouncerVersion(bin)
	if err != nil {
		t.Fatal(err)
	}
	if major == 1 && minor < 22 {
		t.Skipf("PgBouncer %s: protocol-level prepared statements need 1.22; db-prepared-statements must be false", version)
	}
	bouncer := pgtest.StartPgBouncer(t, pgtest.PgBouncerOptions{PoolSize: 2, MaxPreparedStatements: 200})
	db := pgtest.NewDatabase(t, fixture(t), bouncerFixture)
	ts := startOn(t, db, func(c *config.Config) {
		c.DBURI = bouncer.URLAs(db.Name, "authenticator", "")
		c.DBListenerURI = db.URLAs("authenticator", "")
		c.DBPool = 6
	})
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 30 {
				if res := ts.get(fmt.Sprintf("/items?select=id&id=eq.%d", 1+(i+n)%5)); res.Status != 200 {
					t.Errorf("%d %s", res.Status, res.Body)
					return
				}
				if n == 10 && i == 0 {
					db.Exec(t, "NOTIFY pgrst, 'reload schema'")
				}
			}
		}()
	}
	wg.Wait()
}
