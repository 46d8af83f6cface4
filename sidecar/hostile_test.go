package sidecar_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pgway/pgway/internal/hostile"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/config"
)

// The hostile-input suite: every payload of testdata/hostile/payloads.txt at every input point of the HTTP
// contract (path, query grammar, headers, bodies, JWT), sent over raw HTTP/1.1 to a pgway over the whole test
// fixture, anonymously and (a subset) as web_user. Each answer must be a PostgREST answer, not a sign that
// request text reached SQL: see checkHostile. Before and after the run the database's data and catalog are
// fingerprinted as superuser (nothing may change: writes carry Prefer: tx=rollback), and probes check that no
// request left a connection running as another role.

// hostileFixture adds the probes and targets of the suite to the shared fixtures.
const hostileFixture = `
-- Only web_user may read the canary: an anonymous request that sees it ran as another role.
CREATE TABLE api.canary (id int PRIMARY KEY, word text NOT NULL);
INSERT INTO api.canary VALUES (1, 'canary-3f9c1e7a');
GRANT SELECT ON api.canary TO web_user;

-- A writable table with a column of each kind hostile bodies aim at.
CREATE TABLE api.scratch (
  id serial PRIMARY KEY, label text, doc jsonb, tags text[], n int, at timestamptz, span int4range
);
INSERT INTO api.scratch (label, doc, tags, n, at, span) VALUES ('one', '{"k":"v"}', '{a,b}', 1, '2024-01-01', '[1,5)');
GRANT SELECT, INSERT, UPDATE, DELETE ON api.scratch TO web_anon, web_user;
GRANT USAGE ON SEQUENCE api.scratch_id_seq TO web_anon, web_user;

-- What a request's transaction sees of the timeouts.
CREATE VIEW api.timeouts AS SELECT current_setting('statement_timeout') AS statement_timeout;
GRANT SELECT ON api.timeouts TO web_anon, web_user;

-- No statement the suite sends may run long, whether or not pgway sets db-statement-timeout itself: pgway's
-- connections to this database (only this one: roles are cluster-wide) start with a 2 s statement_timeout.
DO $$ BEGIN
  EXECUTE format('ALTER ROLE authenticator IN DATABASE %I SET statement_timeout = %L', current_database(), '2s');
END $$;
`

// canaryWord is api.canary's only value; no anonymous answer may contain it.
const canaryWord = "canary-3f9c1e7a"

// hostileMaxDuration is the longest any answer may take: a pg_sleep(3) that ran would exceed it.
const hostileMaxDuration = 3 * time.Second

// hostileKnownIssues are failures the suite reports with t.Log instead of failing on. Each names the input
// point ("" for any), the payload ("" for any), the problem checkHostile reports (a substring) and why it is
// not fixed here. A request is a known issue only when every one of its problems is.
var hostileKnownIssues = []hostileKnown{}

// triggerHeaderPoint is the input point whose fixture trigger copies a column of the written row into
// response.headers (X-Created): a value with control characters cannot be a header, and that is the
// database's fault, which PostgREST answers with its 500 PGRST111 (malformed response.headers). The payload
// never reaches a header.
const triggerHeaderPoint = `body POST no_pk {"a":P} (trigger header)`

// hostileKnown is a known issue: point and payload ("" for any) and a substring of the problem.
type hostileKnown struct{ point, payload, problem, reason string }

// knownIssue returns the reasons for problems if all of them are known issues of j.
func knownIssue(j *hostileJob, problems []string) (string, bool) {
	var reasons []string
	for _, pr := range problems {
		found := false
		for _, k := range hostileKnownIssues {
			if (k.point == "" || k.point == j.point) && (k.payload == "" || k.payload == j.payload) && strings.Contains(pr, k.problem) {
				found = true
				if !slices.Contains(reasons, k.reason) {
					reasons = append(reasons, k.reason)
				}
				break
			}
		}
		if !found {
			return "", false
		}
	}
	return strings.Join(reasons, "; "), true
}

// hostileJob is one request of the suite.
type hostileJob struct {
	point   string   // the input point, e.g. "filter name=like.P"
	payload string   // the payload at that point (decoded)
	method  string   // HTTP method
	target  string   // request-target exactly as sent (path and query)
	headers []string // "Name: value" lines, sent byte for byte
	body    string
	user    bool // sent with web_user's JWT
	canary  bool // the request's own credentials may read api.canary (a JWT naming web_user)
	strict  bool // sent to the server with openapi-validate = strict (else to the one with validation off)
	probe   bool // a role probe (see checkProbe), not a payload
}

func (j *hostileJob) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", printable(j.method), printable(j.target))
	for _, h := range j.headers {
		fmt.Fprintf(&b, "\n    %q", h)
	}
	if j.user {
		b.WriteString("\n    (as web_user)")
	}
	if j.strict {
		b.WriteString("\n    (openapi-validate = strict)")
	}
	if j.body != "" {
		body := j.body
		if len(body) > 300 {
			body = body[:300] + "…"
		}
		fmt.Fprintf(&b, "\n    body %q", body)
	}
	return b.String()
}

// TestHostile sends every payload to every input point and checks every answer (see the file comment).
func TestHostile(t *testing.T) {
	rpc, err := os.ReadFile("testdata/rpc_fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	lenient := start(t, func(c *config.Config) {
		hostileConfig(c)
		c.OpenAPIValidate = "off" // everything reaches plan, sqlgen and PostgreSQL
	}, fixture(t), writeFixture(t), string(rpc), embedFixture(t), hostileFixture)
	strict := startOn(t, lenient.DB, func(c *config.Config) {
		hostileConfig(c)
		c.DBMaxRows = 3 // limits, offsets, ranges and counts meet db-max-rows here
	})
	userJWT := token(t, jwt.MapClaims{"role": "web_user", "sub": "alice"})

	for _, ts := range []*testServer{lenient, strict} {
		if r := ts.get("/timeouts"); r.Status != 200 || !strings.Contains(r.Body, `"2s"`) {
			t.Fatalf("requests do not run under a 2 s statement_timeout: %d %s", r.Status, r.Body)
		}
	}
	names := fixtureNames(t, lenient.DB.URL)
	before := snapshotDB(t, lenient.DB.URL)

	payloads := hostilePayloads(t)
	jobs := hostileJobs(t, payloads)
	if len(jobs) < 200*len(payloads) {
		t.Fatalf("only %d requests for %d payloads", len(jobs), len(payloads))
	}
	runner := &hostileRunner{
		addrs:   [2]string{strings.TrimPrefix(lenient.URL, "http://"), strings.TrimPrefix(strict.URL, "http://")},
		userJWT: userJWT,
		names:   names,
		logf:    t.Logf,
	}
	if re := os.Getenv("PGWAY_HOSTILE_LOG"); re != "" {
		runner.logPoints = regexp.MustCompile(re)
	}
	began := time.Now()
	runner.run(jobs, 4)
	elapsed := time.Since(began)
	t.Logf("%d payloads, %d requests in %s (%.0f/s); slowest %s: %s", len(payloads), runner.sent, elapsed.Round(time.Millisecond),
		float64(runner.sent)/elapsed.Seconds(), runner.slowest.Round(time.Millisecond), runner.slowestReq)
	t.Logf("statuses %v", runner.statuses)

	after := snapshotDB(t, lenient.DB.URL)
	for _, d := range before.diff(after) {
		t.Errorf("the database changed during the run: %s", d)
	}
	// A last round of probes on every connection, after everything else.
	var probes []*hostileJob
	for i := 0; i < 16; i++ {
		probes = append(probes, &hostileJob{point: "probe", probe: true, strict: i%2 == 1})
	}
	runner.run(probes, 4)
	runner.report(t)
}

// hostileConfig is the configuration of both servers of the suite.
func hostileConfig(c *config.Config) {
	c.DBAggregatesEnabled = true
	c.DBPlanEnabled = true
	c.DBStatementTimeout = 2 * time.Second
	c.DBTxEnd = "commit-allow-override"  // reads commit (an injected write would show); writes send tx=rollback
	c.DBPool = 4                         // few connections, so the probes visit each of them
	c.StreamBodyBytes = 2048             // padded bodies take the COPY path
	c.ServerTraceHeader = "X-Request-Id" // echoed: a header the request controls
}

// hostileRunner sends jobs with a small worker pool and collects what failed.
type hostileRunner struct {
	addrs   [2]string // lenient, strict
	userJWT string
	names   map[string]bool // every name of the fixture (relations, columns, functions, types, schemas)
	// logPoints (PGWAY_HOSTILE_LOG, a regular expression) selects input points whose every exchange is logged.
	logPoints *regexp.Regexp
	logf      func(format string, args ...any)

	mu         sync.Mutex
	sent       int
	statuses   map[int]int
	slowest    time.Duration
	slowestReq string
	failures   []hostileFailure
	known      []hostileFailure
}

type hostileFailure struct {
	job      *hostileJob
	problems []string
	res      *hostileResponse
	reason   string // for known issues
}

func (r *hostileRunner) run(jobs []*hostileJob, workers int) {
	if r.statuses == nil {
		r.statuses = map[int]int{}
	}
	ch := make(chan *hostileJob)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clients := [2]*hostileClient{{addr: r.addrs[0]}, {addr: r.addrs[1]}}
			defer clients[0].close()
			defer clients[1].close()
			for j := range ch {
				r.one(clients, j)
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
}

func (r *hostileRunner) one(clients [2]*hostileClient, j *hostileJob) {
	c := clients[0]
	if j.strict {
		c = clients[1]
	}
	var problems []string
	var res *hostileResponse
	if j.probe {
		problems = r.checkProbe(c)
	} else {
		var err error
		res, err = c.do(j, r.userJWT)
		if err != nil {
			problems = []string{"no answer: " + err.Error()}
		} else {
			problems = r.checkHostile(j, res)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.logPoints != nil && r.logPoints.MatchString(j.point) {
		if res != nil {
			r.logf("%s\n  %s\n  -> %d in %s: %s", j.point, j, res.status, res.took.Round(time.Millisecond), truncate(string(res.body), 300))
		} else {
			r.logf("%s\n  %s\n  -> %q", j.point, j, problems)
		}
	}
	r.sent++
	if j.probe {
		r.sent += probeRequests - 1
	}
	if res != nil {
		r.statuses[res.status]++
		if res.took > r.slowest {
			r.slowest, r.slowestReq = res.took, j.method+" "+truncate(j.target, 200)
		}
	}
	if len(problems) == 0 {
		return
	}
	f := hostileFailure{job: j, problems: problems, res: res}
	if reason, ok := knownIssue(j, problems); ok {
		f.reason = reason
		r.known = append(r.known, f)
		return
	}
	r.failures = append(r.failures, f)
}

// report fails t with the first failures of each input point (all of them are counted) and logs the known
// issues, a few examples of each.
func (r *hostileRunner) report(t *testing.T) {
	t.Helper()
	byReason := map[string][]hostileFailure{}
	var reasons []string
	for _, f := range r.known {
		if _, ok := byReason[f.reason]; !ok {
			reasons = append(reasons, f.reason)
		}
		byReason[f.reason] = append(byReason[f.reason], f)
	}
	for _, reason := range reasons {
		fs := byReason[reason]
		points := map[string]bool{}
		for _, f := range fs {
			points[f.job.point] = true
		}
		var b strings.Builder
		fmt.Fprintf(&b, "known issue, %d requests at %d input points: %s", len(fs), len(points), reason)
		for _, f := range fs[:min(3, len(fs))] {
			fmt.Fprintf(&b, "\n  %s\n  -> %s", f.job, f.describe())
		}
		t.Log(b.String())
	}
	perPoint := map[string]int{}
	for _, f := range r.failures {
		perPoint[f.job.point]++
		if perPoint[f.job.point] <= 5 {
			t.Errorf("%s\n  %s\n  -> %s", f.job.point, f.job, f.describe())
		}
	}
	if len(r.failures) > 0 {
		points := make([]string, 0, len(perPoint))
		for p := range perPoint {
			points = append(points, p)
		}
		sort.Strings(points)
		var b strings.Builder
		for _, p := range points {
			fmt.Fprintf(&b, "\n  %5d  %s", perPoint[p], p)
		}
		t.Errorf("%d failing requests (at most 5 shown per input point):%s", len(r.failures), b.String())
	}
}

func (f hostileFailure) describe() string {
	s := strings.Join(f.problems, "; ")
	if f.res != nil {
		s += fmt.Sprintf("\n     %d in %s, %s\n     %s", f.res.status, f.res.took.Round(time.Millisecond),
			truncate(string(f.res.head), 600), truncate(string(f.res.body), 600))
	}
	return s
}

// printable quotes s when it has control characters or is not UTF-8.
func printable(s string) string {
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// leakMarkers are strings no answer may contain: rows of api.canary or api.secrets (but for web_user), role
// names from pg_roles (a UNION over the catalog that ran), and /etc/passwd (pg_read_file that ran).
var leakMarkers = []string{canaryWord, "swordfish", "pg_read_server_files", "pg_signal_backend", "pg_monitor", "root:x:0:0"}

// forbiddenNames are names that must not appear in PostgreSQL's unknown-relation/function errors: they would
// mean request text was resolved by PostgreSQL.
var forbiddenNames = []string{"pg_roles", "pg_sleep", "set_config", "current_setting", "pg_read_file", "rolname"}

var sqlWord = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_$]*`)

// checkHostile returns what is wrong with the answer to j (nothing when it is a proper PostgREST answer).
func (r *hostileRunner) checkHostile(j *hostileJob, res *hostileResponse) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if res.status >= 500 && !(j.point == triggerHeaderPoint && res.status == 500 && strings.Contains(string(res.body), `"code":"PGRST111"`)) {
		bad("server error %d", res.status)
	}
	if res.took > hostileMaxDuration {
		bad("took %s (more than %s)", res.took.Round(time.Millisecond), hostileMaxDuration)
	}
	if res.extra > 0 {
		bad("%d bytes after the response (response splitting)", res.extra)
	}
	// The header block: CRLF-separated lines of "Name: value" without control characters (HTAB aside; bytes
	// above 0x7f are obs-text, allowed).
	lines := strings.Split(strings.TrimSuffix(string(res.head), "\r\n\r\n"), "\r\n")
	for i, l := range lines {
		if strings.IndexFunc(l, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) >= 0 {
			bad("header line with a control character: %q", l)
		}
		if i == 0 {
			continue
		}
		name, _, ok := strings.Cut(l, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			bad("malformed header line %q", l)
		}
		if strings.EqualFold(strings.TrimSpace(name), "X-Injected") {
			bad("a header injected by the request: %q", l)
		}
	}
	body := res.body
	if !utf8.Valid(body) {
		bad("body is not valid UTF-8")
	}
	ct := strings.ToLower(res.header.Get("Content-Type"))
	if len(body) > 0 && isJSONMedia(ct) && !json.Valid(body) {
		bad("Content-Type %q but the body is not JSON", ct)
	}
	for _, m := range leakMarkers {
		if bytes.Contains(body, []byte(m)) || bytes.Contains(res.head, []byte(m)) {
			if (m == canaryWord || m == "swordfish") && (j.user || j.canary) {
				continue // web_user may read them
			}
			bad("the answer contains %q", m)
		}
	}
	if bytes.Contains(body, []byte("syntax error at or near")) || bytes.Contains(body, []byte("syntax error at end of input")) {
		bad("PostgreSQL syntax error in the body")
	}
	if res.status < 400 {
		return problems
	}
	if j.method == "HEAD" {
		return problems
	}
	// Errors are PostgREST's object: code, message, details, hint.
	if !strings.HasPrefix(ct, "application/json") {
		bad("error with Content-Type %q", ct)
	}
	var e map[string]json.RawMessage
	if err := json.Unmarshal(body, &e); err != nil {
		bad("error body is not a JSON object: %v", err)
		return problems
	}
	var code, message string
	var hint any
	okCode := json.Unmarshal(e["code"], &code) == nil && code != ""
	okMsg := json.Unmarshal(e["message"], &message) == nil
	_ = json.Unmarshal(e["hint"], &hint)
	_, hasDetails := e["details"]
	_, hasHint := e["hint"]
	_, hintIsString := hint.(string)
	keys := len(e)
	if _, ok := e["operation"]; ok && j.method == "POST" && j.target == "/" {
		keys-- // an atomic batch's failure names its operation
	}
	if keys != 4 || !okCode || !okMsg || !hasDetails || !hasHint || (hint != nil && !hintIsString) {
		bad("error body is not PostgREST's {code, message, details, hint}")
	}
	switch code {
	case "42601":
		// PostgreSQL's parsers of tsquery values report their syntax errors with 42601 too: a value's fault.
		if !strings.Contains(message, "tsquery") && !strings.HasPrefix(message, "there is no escaped character") {
			bad("PostgreSQL syntax error 42601")
		}
	case "42P02":
		bad("PostgreSQL saw a parameter the request wrote (42P02)")
	case "42P01", "42883":
		text := strings.ToLower(string(body))
		for _, n := range forbiddenNames {
			if strings.Contains(text, n) {
				bad("%s names %s", code, n)
			}
		}
		for _, w := range sqlWord.FindAllString(strings.ToLower(j.payload), -1) {
			if len(w) >= 3 && !r.names[w] && !messageWords[w] && regexp.MustCompile(`\b`+regexp.QuoteMeta(w)+`\b`).MatchString(text) {
				bad("%s names %q from the payload, which the fixture does not have", code, w)
			}
		}
	}
	return problems
}

// isJSONMedia tells whether a Content-Type is JSON (application/json, …+json), parameters aside.
func isJSONMedia(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, _, _ = strings.Cut(ct, ";")
	}
	mt = strings.TrimSpace(mt)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// messageWords are words of PostgreSQL's and pgway's own error messages (and type names), which an unknown
// relation or function error may contain whatever the payload.
var messageWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`relation function operator does not exist the could find schema cache table column
		text integer bigint numeric boolean unknown json jsonb array record void int int4 int8 smallint double precision
		character varying varchar timestamp timestamptz with time zone date tsvector tsquery range int4range anyelement
		you might need add explicit type casts candidate named argument types any all and for public api other
		perhaps meant pg_catalog`) {
		messageWords[w] = true
	}
}

// probeRequests is how many requests checkProbe sends.
const probeRequests = 5

// checkProbe asks, anonymously, who the request runs as and whether it may read the canary, and as web_user
// that the probe itself works: a payload that switched a connection's role would show here.
func (r *hostileRunner) checkProbe(c *hostileClient) []string {
	var problems []string
	ask := func(target string, user bool) *hostileResponse {
		res, err := c.do(&hostileJob{point: "probe", method: "GET", target: target, user: user}, r.userJWT)
		if err != nil {
			problems = append(problems, target+": "+err.Error())
			return nil
		}
		return res
	}
	if res := ask("/whoami?select=role", false); res != nil && (res.status != 200 || string(res.body) != `[{"role":"web_anon"}]`) {
		problems = append(problems, fmt.Sprintf("anonymous /whoami: %d %s", res.status, res.body))
	}
	if res := ask("/canary", false); res != nil && (res.status != 401 || bytes.Contains(res.body, []byte(canaryWord))) {
		problems = append(problems, fmt.Sprintf("anonymous /canary: %d %s", res.status, res.body))
	}
	if res := ask("/secrets", false); res != nil && res.status != 401 {
		problems = append(problems, fmt.Sprintf("anonymous /secrets: %d %s", res.status, res.body))
	}
	if res := ask("/canary", true); res != nil && (res.status != 200 || !bytes.Contains(res.body, []byte(canaryWord))) {
		problems = append(problems, fmt.Sprintf("web_user /canary: %d %s", res.status, res.body))
	}
	if res := ask("/timeouts", false); res != nil && !bytes.Contains(res.body, []byte(`"2s"`)) {
		problems = append(problems, fmt.Sprintf("anonymous /timeouts: %d %s", res.status, res.body))
	}
	return problems
}

// hostileClient speaks HTTP/1.1 over one keep-alive connection, so requests go out byte for byte (no encoding,
// no header validation) and the response's header block can be checked as received.
type hostileClient struct {
	addr string
	conn net.Conn
	rec  hostileRecorder
	br   *bufio.Reader
}

// hostileRecorder keeps what the bufio.Reader reads from the connection.
type hostileRecorder struct {
	r   io.Reader
	buf bytes.Buffer
}

func (rc *hostileRecorder) Read(p []byte) (int, error) {
	n, err := rc.r.Read(p)
	rc.buf.Write(p[:n])
	return n, err
}

type hostileResponse struct {
	status int
	header http.Header
	head   []byte // status line and headers as received
	body   []byte
	took   time.Duration
	extra  int // bytes received after the response
}

func (c *hostileClient) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// do sends j; a request whose line or headers could desynchronise the connection gets one of its own.
func (c *hostileClient) do(j *hostileJob, userJWT string) (*hostileResponse, error) {
	var b bytes.Buffer
	b.WriteString(j.method + " " + j.target + " HTTP/1.1\r\nHost: pgway.test\r\n")
	own := strings.ContainsAny(j.method+j.target, " \t\r\n\x00")
	if j.user {
		b.WriteString("Authorization: Bearer " + userJWT + "\r\n")
	}
	if writes(j.method) {
		// First, so that it wins over any tx= preference of the payload.
		b.WriteString("Prefer: tx=rollback\r\n")
	}
	for _, h := range j.headers {
		own = own || strings.ContainsAny(h, "\r\n\x00")
		b.WriteString(h + "\r\n")
	}
	if own {
		b.WriteString("Connection: close\r\n")
	}
	if j.body != "" || writes(j.method) {
		b.WriteString("Content-Length: " + strconv.Itoa(len(j.body)) + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(j.body)
	if own {
		c.close()
	}
	res, err := c.roundTrip(b.Bytes(), j.method)
	if err != nil && !own {
		// A kept-alive connection the server had closed: once more on a new one.
		c.close()
		res, err = c.roundTrip(b.Bytes(), j.method)
	}
	if own || (res != nil && res.header.Get("Connection") == "close") {
		c.close()
	}
	return res, err
}

func (c *hostileClient) roundTrip(req []byte, method string) (*hostileResponse, error) {
	if c.conn == nil {
		conn, err := net.Dial("tcp", c.addr)
		if err != nil {
			return nil, err
		}
		c.conn = conn
		c.rec = hostileRecorder{r: conn}
		c.br = bufio.NewReaderSize(&c.rec, 64<<10)
	}
	start := time.Now()
	if err := c.conn.SetDeadline(start.Add(15 * time.Second)); err != nil {
		return nil, err
	}
	c.rec.buf.Reset()
	if _, err := c.conn.Write(req); err != nil {
		c.close()
		return nil, err
	}
	res, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		got := truncate(c.rec.buf.String(), 600)
		c.close()
		return nil, fmt.Errorf("%w; received %q", err, got)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		c.close()
		return nil, err
	}
	out := &hostileResponse{status: res.StatusCode, header: res.Header, body: body, took: time.Since(start), extra: c.br.Buffered()}
	raw := c.rec.buf.Bytes()
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		out.head = slices.Clone(raw[:i+4])
	} else {
		out.head = slices.Clone(raw)
	}
	if out.extra > 0 {
		c.close()
	}
	return out, nil
}

func writes(method string) bool {
	return method == "POST" || method == "PATCH" || method == "PUT" || method == "DELETE"
}

// hostilePayloads reads the shared payload list (internal/hostile).
func hostilePayloads(tb testing.TB) []string {
	p, err := hostile.Payloads("testdata/hostile/payloads.txt")
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// dbState fingerprints the database as superuser: every table's rows, and the catalog objects a payload could
// create or alter (roles, memberships, role settings, relations, functions, types, schemas, policies, triggers,
// privileges, postgresql.auto.conf). Sequences are left out: a rolled-back insert still advances them.
type dbState map[string]string

func snapshotDB(t *testing.T, dbURL string) dbState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	out := dbState{}
	var tables []string
	rows, err := conn.Query(ctx, `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname IN ('api', 'other', 'public') AND c.relkind IN ('r', 'p', 'm') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) == 0 {
		t.Fatal("no tables to fingerprint")
	}
	for _, tbl := range tables {
		var sum string
		if err := conn.QueryRow(ctx, `SELECT count(*) || ' rows ' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '')
			FROM `+tbl+` t`).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		out["table "+tbl] = sum
	}
	notTemp := `NOT (%s ~ '^pg_(toast_)?temp_')`
	catalog := map[string]string{
		"roles": `SELECT string_agg(format('%s %s%s%s%s%s%s %s', rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb,
			rolcanlogin, rolbypassrls, rolconfig), ',' ORDER BY rolname) FROM pg_roles`,
		"role memberships": `SELECT string_agg(format('%s>%s', roleid::regrole, member::regrole), ',' ORDER BY 1) FROM pg_auth_members`,
		"role settings":    `SELECT string_agg(format('%s/%s %s', setdatabase, setrole, setconfig), ',' ORDER BY 1) FROM pg_db_role_setting`,
		"relations": `SELECT count(*) || ' ' || md5(string_agg(format('%s.%s %s %s %s %s', n.nspname, c.relname, c.relkind, c.relacl,
			c.relrowsecurity, c.relowner::regrole), ',' ORDER BY 1)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE ` + fmt.Sprintf(notTemp, "n.nspname"),
		"columns": `SELECT count(*) || ' ' || md5(string_agg(format('%s %s %s %s', a.attrelid, a.attname, a.atttypid, a.attacl), ','
			ORDER BY 1)) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE ` + fmt.Sprintf(notTemp, "n.nspname"),
		"functions": `SELECT count(*) || ' ' || md5(string_agg(format('%s.%s %s %s %s %s', pronamespace::regnamespace, proname,
			md5(prosrc), proacl, prosecdef, proconfig), ',' ORDER BY 1)) FROM pg_proc`,
		"types": `SELECT count(*) || ' ' || md5(string_agg(format('%s.%s %s', n.nspname, t.typname, t.typacl), ',' ORDER BY 1))
			FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ` + fmt.Sprintf(notTemp, "n.nspname"),
		"schemas": `SELECT string_agg(format('%s %s', nspname, nspacl), ',' ORDER BY 1) FROM pg_namespace WHERE ` +
			fmt.Sprintf(notTemp, "nspname"),
		"policies":           `SELECT count(*) || ' ' || md5(coalesce(string_agg(format('%s %s %s', polrelid, polname, polqual), ',' ORDER BY 1), '')) FROM pg_policy`,
		"triggers":           `SELECT count(*) || ' ' || md5(coalesce(string_agg(format('%s %s %s', tgrelid, tgname, tgenabled), ',' ORDER BY 1), '')) FROM pg_trigger`,
		"database":           `SELECT format('%s %s', datname, datacl) FROM pg_database WHERE datname = current_database()`,
		"extensions":         `SELECT string_agg(extname, ',' ORDER BY 1) FROM pg_extension`,
		"large objects":      `SELECT count(*)::text FROM pg_largeobject_metadata`,
		"auto.conf":          `SELECT coalesce(string_agg(format('%s=%s', name, setting), ',' ORDER BY seqno), '') FROM pg_file_settings WHERE sourcefile LIKE '%auto.conf'`,
		"default privileges": `SELECT count(*)::text FROM pg_default_acl`,
	}
	for name, q := range catalog {
		var v *string
		if err := conn.QueryRow(ctx, q).Scan(&v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if v != nil {
			out[name] = *v
		}
	}
	return out
}

func (a dbState) diff(b dbState) []string {
	var out []string
	for k, v := range a {
		if b[k] != v {
			out = append(out, fmt.Sprintf("%s: %q -> %q", k, truncate(v, 300), truncate(b[k], 300)))
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			out = append(out, fmt.Sprintf("%s appeared: %q", k, truncate(v, 300)))
		}
	}
	sort.Strings(out)
	return out
}

// fixtureNames lists the names of the fixture (lower case): a payload word an unknown-object error may mention.
func fixtureNames(t *testing.T, dbURL string) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `
		SELECT lower(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('api', 'other')
		UNION SELECT lower(a.attname) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('api', 'other')
		UNION SELECT lower(p.proname) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN ('api', 'other')
		UNION SELECT lower(unnest(p.proargnames)) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		  WHERE n.nspname IN ('api', 'other')
		UNION SELECT lower(t.typname) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		  WHERE n.nspname IN ('api', 'other', 'pg_catalog')
		UNION SELECT cfgname FROM pg_ts_config
		UNION SELECT nspname FROM pg_namespace`)
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

// TestHostileRegressions: the reported anonymous injection through select= casts and its variants, then the
// probes: nothing they sent switched a role.
func TestHostileRegressions(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBAggregatesEnabled = true }, fixture(t), embedFixture(t), hostileFixture)
	pgrst100 := []string{`"code":"PGRST100"`}
	setRole := url.QueryEscape("set_config('role','web_user',false)")
	runCases(t, ts, []readCase{
		{name: "the reported attack: a second cast with a UNION over pg_roles", status: 400,
			path:     "/books?select=id::text::text%20FROM%20books%20UNION%20SELECT%20rolname%20FROM%20pg_roles%20UNION%20SELECT%20NULL",
			contains: []string{`"code":"PGRST100"`, "invalid cast type"}},
		{name: "the same, first cast", status: 400, contains: pgrst100,
			path: "/books?select=id::text%20FROM%20books%20UNION%20SELECT%20rolname%20FROM%20pg_roles%20UNION%20SELECT%20NULL"},
		{name: "the same, aggregate cast", status: 400, contains: pgrst100,
			path: "/books?select=id.count()::text%20FROM%20books%20UNION%20SELECT%20rolname%20FROM%20pg_roles--"},
		{name: "a dollar-quoted cast and a quoted JSON key", status: 400, contains: pgrst100,
			path: "/items?select=id::text$q$,%22x%22:name"},
		{name: "a dollar-quoted cast closed in a quoted JSON key that calls set_config", status: 400, contains: pgrst100,
			path: "/items?select=id::text%20$q$,x:meta-%3E%3E%22$q$||" + setRole + "||$q$%22,name::text%20$q$"},
		{name: "the quoted JSON key alone is only a key", status: 200, body: `[{"x":null}]`,
			path: "/items?select=x:meta-%3E%3E%22$q$||" + setRole + "||$q$%22&id=eq.1"},
		{name: "the key in a filter is only a key", status: 200, body: `[]`,
			path: "/items?select=id&meta-%3E%3E%22$q$||" + setRole + "||$q$%22=eq.x"},
		{name: "set_config as a select item", status: 400, path: "/items?select=id," + setRole},
		{name: "set_config as a cast", status: 400, contains: pgrst100, path: "/items?select=id::" + setRole},
		{name: "pg_sleep as a cast", status: 400, contains: pgrst100, path: "/items?select=id::text%20||%20pg_sleep(3)"},
		{name: "anonymous still runs as web_anon", path: "/whoami?select=role", status: 200, body: `[{"role":"web_anon"}]`},
		{name: "anonymous still may not read the canary", path: "/canary", status: 401, contains: []string{`"code":"42501"`}},
	})
	for i := 0; i < 8; i++ { // pgway's default pool is 10: visit most connections
		if r := ts.get("/whoami?select=role"); r.Body != `[{"role":"web_anon"}]` {
			t.Fatalf("anonymous request %d runs as another role: %d %s", i, r.Status, r.Body)
		}
	}
}

// TestHostileChecks: the suite's own detectors catch what they are for (a suite that cannot fail proves
// nothing): each synthetic answer below must be flagged, or not, as marked.
func TestHostileChecks(t *testing.T) {
	r := &hostileRunner{names: map[string]bool{"items": true, "name": true}}
	// head is a header block without its final blank line.
	head := func(extra string) []byte {
		return []byte("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8" + extra)
	}
	errBody := func(code, msg string) string {
		return `{"code":"` + code + `","details":null,"hint":null,"message":"` + msg + `"}`
	}
	for _, tc := range []struct {
		name    string
		payload string
		status  int
		head    []byte
		body    string
		took    time.Duration
		flagged bool
	}{
		{"a PostgREST error", "x", 400, head(""), errBody("PGRST100", "bad"), 0, false},
		{"a 500", "x", 500, head(""), errBody("PGWAY500", "Internal server error"), 0, true},
		{"a 503", "x", 503, head(""), errBody("PGRST001", "down"), 0, true},
		{"a SQL syntax error", "x", 400, head(""), errBody("42601", `syntax error at or near \"x\"`), 0, true},
		{"a tsquery syntax error", "'", 400, head(""), errBody("42601", `syntax error in tsquery: \"'\"`), 0, false},
		{"a parameter of the request", "$1", 400, head(""), errBody("42P02", "there is no parameter $1"), 0, true},
		{"42P01 naming pg_roles", "x", 404, head(""), errBody("42P01", `relation \"pg_roles\" does not exist`), 0, true},
		{"42883 naming a payload function", "evil_fn(1)", 404, head(""), errBody("42883", "function evil_fn(integer) does not exist"), 0, true},
		{"42883 about operator types", "x", 404, head(""), errBody("42883", "operator does not exist: text > integer"), 0, false},
		{"42P01 naming a fixture relation", "items", 404, head(""), errBody("42P01", `relation \"items\" does not exist`), 0, false},
		{"a slow answer", "x", 400, head(""), errBody("PGRST100", "bad"), 4 * time.Second, true},
		{"an error that is not JSON", "x", 400, head(""), "oops", 0, true},
		{"an error without hint", "x", 400, head(""), `{"code":"X","message":"m","details":null}`, 0, true},
		{"an error with extra keys", "x", 400, head(""), `{"code":"X","message":"m","details":null,"hint":null,"sql":"SELECT"}`, 0, true},
		{"an error that is not UTF-8", "x", 400, head(""), errBody("PGRST100", "\xff"), 0, true},
		{"a header with a control character", "x", 400, head("\r\nX-A: \x01"), errBody("PGRST100", "bad"), 0, true},
		{"an injected header", "x", 400, head("\r\nX-Injected: 1"), errBody("PGRST100", "bad"), 0, true},
		{"the canary", "x", 200, []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json"), `[{"word":"` + canaryWord + `"}]`, 0, true},
		{"role names from pg_roles", "x", 200, []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json"), `[{"id":"pg_monitor"}]`, 0, true},
		{"JSON that is not", "x", 200, []byte("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.pgrst.object+json"), `{"a":`, 0, true},
		{"a text plan for JSON", "x", 200, []byte("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.pgrst.plan+text; for=\"application/json\""), `Seq Scan`, 0, false},
	} {
		hdr := http.Header{}
		for _, l := range strings.Split(string(tc.head), "\r\n")[1:] {
			if k, v, ok := strings.Cut(l, ":"); ok {
				hdr.Add(k, strings.TrimSpace(v))
			}
		}
		res := &hostileResponse{status: tc.status, header: hdr, head: append(tc.head, "\r\n\r\n"...), body: []byte(tc.body), took: tc.took}
		problems := r.checkHostile(&hostileJob{method: "GET", payload: tc.payload}, res)
		if (len(problems) > 0) != tc.flagged {
			t.Errorf("%s: problems %q, want flagged = %v", tc.name, problems, tc.flagged)
		}
	}

	// The fingerprint sees a changed row and a new role; the probe sees requests running as another role.
	ts := start(t, func(c *config.Config) { c.DBAnonRole = "web_user" }, fixture(t), hostileFixture)
	before := snapshotDB(t, ts.DB.URL)
	ts.DB.Exec(t, `UPDATE api.items SET price = price + 1 WHERE id = 1;
		DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hostile_probe_role') THEN CREATE ROLE hostile_probe_role; END IF; END $$`)
	defer ts.DB.Exec(t, "DROP ROLE hostile_probe_role")
	diff := before.diff(snapshotDB(t, ts.DB.URL))
	if len(diff) != 2 || !strings.HasPrefix(diff[0], "roles:") || !strings.HasPrefix(diff[1], "table api.items:") {
		t.Errorf("diff %q, want the roles and api.items", diff)
	}
	r = &hostileRunner{userJWT: token(t, jwt.MapClaims{"role": "web_user"})}
	c := &hostileClient{addr: strings.TrimPrefix(ts.URL, "http://")}
	defer c.close()
	if problems := r.checkProbe(c); len(problems) < 2 {
		t.Errorf("the probe does not see anonymous requests running as web_user: %q", problems)
	}
}
