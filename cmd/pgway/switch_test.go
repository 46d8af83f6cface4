package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pgway/pgway/internal/pgtest"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines to write while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// running is pgway started in this process by run, with PostgREST's command line args.
type running struct {
	url    string
	stderr *syncBuffer
	stop   func()
}

// startCLI runs `pgway ARGS` (with the process environment) until stop or the end of the test, and waits
// until GET probe answers 200 on port. The run must end with exit status 0.
func startCLI(t *testing.T, port int, probe string, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{url: "http://127.0.0.1:" + strconv.Itoa(port), stderr: &syncBuffer{}}
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, os.Getenv, io.Discard, r.stderr) }()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("pgway %s: exit status %d\n%s", strings.Join(args, " "), code, r.stderr.String())
				}
			case <-time.After(20 * time.Second):
				t.Errorf("pgway %s did not stop", strings.Join(args, " "))
			}
		})
	}
	t.Cleanup(r.stop)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case code := <-done:
			done <- code
			t.Fatalf("pgway %s exited with %d:\n%s", strings.Join(args, " "), code, r.stderr.String())
		default:
		}
		if res, err := http.Get(r.url + probe); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgway %s did not answer GET %s:\n%s", strings.Join(args, " "), probe, r.stderr.String())
		}
	}
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (r *running) do(t *testing.T, method, path string, body string, headers ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, r.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{res.StatusCode, res.Header, string(b)}
}

// sameJSON fails unless got and want are the same JSON value.
func sameJSON(t *testing.T, what, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("%s: %v in %s", what, err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("%s:\n got %s\nwant %s", what, gb, wb)
	}
}

// hs256 signs claims as Tutorial 1's bash script does (openssl base64 -e -A | tr '+/' '-_' | tr -d '=').
func hs256(secret, claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	head := enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(claims))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(head))
	return head + "." + enc(mac.Sum(nil))
}

// TestSwitchOver: a PostgREST configuration file using every documented key (long and short names,
// comments, interpolation, @file, a removed key) loads and serves with PostgREST's command line
// (`postgrest FILE`), and PostgREST's --ready and --dump-config work with it.
func TestSwitchOver(t *testing.T) {
	fixture, err := os.ReadFile("../../sidecar/testdata/fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	db := pgtest.NewDatabase(t, string(fixture), `
CREATE SCHEMA postgrest;
GRANT USAGE ON SCHEMA postgrest TO authenticator;
CREATE FUNCTION postgrest.pre_config() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('pgrst.db_max_rows', '3', true);
END $$;
CREATE FUNCTION api.check_request() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('response.headers', '[{"X-Pre-Request": "ran"}]', true);
END $$;
CREATE FUNCTION api.greeting() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('app.settings.greeting') $$;
GRANT EXECUTE ON FUNCTION api.greeting() TO web_anon;`)
	dir := t.TempDir()
	const secret = "reallyreallyreallyreallyverysafe"
	if err := os.WriteFile(filepath.Join(dir, "jwt-secret"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "db-uri"), []byte(db.URLAs("authenticator", "")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	t.Setenv("PGWAY_SWITCH_DIR", dir)
	t.Setenv("PGWAY_SWITCH_PORT", strconv.Itoa(port))
	t.Setenv("PGWAY_SWITCH_ADMIN_PORT", strconv.Itoa(freePort(t)))
	conf, err := filepath.Abs(filepath.Join("testdata", "switchover.conf"))
	if err != nil {
		t.Fatal(err)
	}

	srv := startCLI(t, port, "/items?select=id", "postgrest", conf)
	res := srv.do(t, "GET", "/items?select=id&order=id", "", "X-Request-Id", "abc-1")
	sameJSON(t, "max rows from db-pre-config", res.body, `[{"id":1},{"id":2},{"id":3}]`)
	if res.header.Get("X-Pre-Request") != "ran" || res.header.Get("X-Request-Id") != "abc-1" || res.header.Get("Server-Timing") == "" {
		t.Errorf("pre-request, trace header, server timing: %v", res.header)
	}
	sameJSON(t, "app.settings from a group with interpolation", srv.do(t, "GET", "/rpc/greeting", "").body, `"hello from eu"`)
	token := hs256(secret, `{"role":"web_user","aud":"https://api.example.com"}`)
	if res := srv.do(t, "GET", "/secrets", "", "Authorization", "Bearer "+token); res.status != 200 {
		t.Errorf("JWT with the secret read from a file: %d %s", res.status, res.body)
	}
	if res := srv.do(t, "GET", "/secrets", "", "Authorization", "Bearer "+hs256(secret, `{"role":"web_user","aud":"other"}`)); res.status != 401 {
		t.Errorf("JWT for another audience: %d %s", res.status, res.body)
	}
	if !strings.Contains(srv.stderr.String(), "db-use-legacy-gucs is ignored") {
		t.Errorf("no warning for a removed key:\n%s", srv.stderr.String())
	}

	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--ready", conf}, os.Getenv, &out, &errOut); code != 0 ||
		!strings.HasPrefix(out.String(), "OK: unix:"+dir+"/admin.sock") {
		t.Errorf("--ready: %d %q %q", code, out.String(), errOut.String())
	}
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"--dump-config", conf}, os.Getenv, &out, &errOut); code != 0 {
		t.Fatalf("--dump-config: %d %s", code, errOut.String())
	}
	for _, line := range []string{
		"db-max-rows = 3", `db-schemas = "api"`, "db-pool-max-idletime = 30", `db-pre-request = "api.check_request"`,
		`jwt-secret = "` + secret + `"`, `app.settings.greeting = "hello from eu"`, "db-plan-enabled = true",
		"db-aggregates-enabled = true", `admin-server-unix-socket = "` + dir + `/admin.sock"`, "log-query = false",
		`db-uri = "` + strings.ReplaceAll(db.URLAs("authenticator", ""), "$", "$$") + `"`,
	} {
		if !strings.Contains("\n"+out.String(), "\n"+line+"\n") {
			t.Errorf("--dump-config lacks %q:\n%s", line, out.String())
		}
	}
}

// TestReloadConfigFile: SIGUSR2 and NOTIFY pgrst, 'reload config' (and a bare NOTIFY pgrst) read the config
// file again, as PostgREST does; keys that cannot change while running keep their values and are logged.
func TestReloadConfigFile(t *testing.T) {
	fixture, err := os.ReadFile("../../sidecar/testdata/fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	db := pgtest.NewDatabase(t, string(fixture))
	port := freePort(t)
	file := filepath.Join(t.TempDir(), "pgway.conf")
	write := func(maxRows int, port int) {
		text := "db-uri = \"" + db.URLAs("authenticator", "") + "\"\ndb-schemas = \"api\"\ndb-anon-role = \"web_anon\"\n" +
			"server-host = \"127.0.0.1\"\nserver-port = " + strconv.Itoa(port) + "\nmax-rows = " + strconv.Itoa(maxRows) + "\nlog-level = \"warn\"\n"
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(4, port)
	srv := startCLI(t, port, "/items?select=id", file)
	rows := func() int {
		var got []any
		if err := json.Unmarshal([]byte(srv.do(t, "GET", "/items?select=id", "").body), &got); err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	waitRows := func(want int, how string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); rows() != want; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d rows, want %d\n%s", how, rows(), want, srv.stderr.String())
			}
		}
	}
	waitRows(4, "start")

	write(2, port+1) // server-port cannot change while running
	db.Exec(t, "NOTIFY pgrst, 'reload config'")
	waitRows(2, "NOTIFY pgrst, 'reload config'")
	if !strings.Contains(srv.stderr.String(), "server-port") {
		t.Errorf("the changed server-port is not logged:\n%s", srv.stderr.String())
	}

	write(3, port)
	db.Exec(t, "NOTIFY pgrst")
	waitRows(3, "NOTIFY pgrst")

	write(1, port)
	db.Exec(t, "NOTIFY pgrst, 'reload schema'") // the schema cache only
	time.Sleep(300 * time.Millisecond)
	if n := rows(); n != 3 {
		t.Errorf("'reload schema' reloaded the configuration: %d rows", n)
	}
	sigusr2(t)
	waitRows(1, "SIGUSR2")
}

// sigusr2 sends this process SIGUSR2, as `killall -SIGUSR2 postgrest`; a handler of the test's own makes sure
// the signal cannot end the process.
func sigusr2(t *testing.T) {
	t.Helper()
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR2)
	defer signal.Stop(ch)
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	<-ch
}
