package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pgway/pgway/internal/pgtest"
)

// serveChildEnv makes the test binary run main() as `pgway serve` (TestServeSIGTERM's child process).
const serveChildEnv = "PGWAY_TEST_SERVE_CHILD"

// TestServeSIGTERM: `pgway serve` drains on SIGTERM and exits with status 0, having answered every request it
// accepted: a call finishing within server-shutdown-timeout with its result, one running past it with the 57014
// its cancellation produced.
func TestServeSIGTERM(t *testing.T) {
	if os.Getenv(serveChildEnv) == "1" {
		signal.Reset(os.Interrupt, syscall.SIGTERM) // pgtest.Main's handler: main installs its own
		os.Args = []string{"pgway", "serve"}
		main()
		return
	}
	fixture, err := os.ReadFile("../../sidecar/testdata/fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	db := pgtest.NewDatabase(t, string(fixture), `
CREATE FUNCTION api.sleep(s float8) RETURNS int LANGUAGE sql AS $$ SELECT 1 FROM pg_sleep(s) $$;
GRANT EXECUTE ON FUNCTION api.sleep(float8) TO web_anon;`)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestServeSIGTERM$")
	cmd.Env = append(os.Environ(), serveChildEnv+"=1",
		"PGRST_DB_URI="+db.URLAs("authenticator", ""), "PGRST_DB_SCHEMAS=api", "PGRST_DB_ANON_ROLE=web_anon",
		"PGRST_SERVER_HOST=127.0.0.1", "PGRST_SERVER_PORT="+strconv.Itoa(port),
		"PGRST_SERVER_SHUTDOWN_TIMEOUT=1", "PGRST_LOG_LEVEL=info", "PGRST_LOG_FORMAT=json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waited := false
	defer func() {
		if !waited {
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("pgway serve's log:\n%s", stderr.String())
		}
	}()

	url := "http://127.0.0.1:" + strconv.Itoa(port)
	client := &http.Client{Timeout: 30 * time.Second}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if res, err := client.Get(url + "/items?select=id&id=eq.1"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("pgway serve did not start")
		}
	}

	calls := []struct {
		path, want string
	}{
		{"/rpc/sleep?s=0.5", "200 1"},
		{"/rpc/sleep?s=20", "500 57014"},
	}
	got := make([]string, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := client.Get(url + c.path)
			if err != nil {
				got[i] = err.Error()
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			got[i] = strconv.Itoa(res.StatusCode) + " " + string(b)
		}()
	}
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		waited = true
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Errorf("exit status %d after SIGTERM, want 0", ee.ExitCode())
		} else if err != nil {
			t.Error(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("pgway serve did not exit after SIGTERM")
	}
	wg.Wait()
	for i, c := range calls {
		status, code, _ := strings.Cut(c.want, " ")
		if !strings.HasPrefix(got[i], status+" ") || !strings.Contains(got[i], code) {
			t.Errorf("GET %s: %s, want %s", c.path, got[i], c.want)
		}
	}
	// The log as pgway writes it, log-format = json: the notices, and a line per request.
	for _, want := range []string{`"level":"NOTICE","msg":"starting pgway"`, `"level":"NOTICE","msg":"schema cache loaded"`,
		`"level":"NOTICE","msg":"shutting down"`, `"level":"INFO","msg":"request","method":"GET","path":"/rpc/sleep","status":200`,
		`"level":"ERROR","msg":"request","method":"GET","path":"/rpc/sleep","status":500`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, stderr.String())
		}
	}
}
