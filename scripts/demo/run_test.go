package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgway/pgway/internal/pgtest"
)

// TestMain lets the test binary stand in for pgway: with PGWAY_DEMO_FAKE set it has no migrate command and
// `serve` answers HTTP with the PGRST_* settings it was given.
func TestMain(m *testing.M) {
	if os.Getenv("PGWAY_DEMO_FAKE") != "" {
		os.Exit(fakePgway(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func fakePgway(args []string) int {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprintf(os.Stderr, "pgway: unknown command %q\n", strings.Join(args, " "))
		return 2
	}
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PGRST_") {
			env = append(env, kv)
		}
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, strings.Join(env, "\n")) })
	if err := http.ListenAndServe("127.0.0.1:"+os.Getenv("PGRST_SERVER_PORT"), nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestRunUntilInterrupt runs the whole demo with the fake pgway: it serves with the PostgREST settings and a
// cancelled context (Ctrl-C) stops pgway and PostgreSQL.
func TestRunUntilInterrupt(t *testing.T) {
	if _, err := pgtest.FindBinDir(); err != nil {
		t.Skip(err)
	}
	t.Setenv("PGWAY_DEMO_FAKE", "1")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, self, port) }()

	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	var body []byte
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(url)
		if err == nil {
			body = make([]byte, 4096)
			n, _ := resp.Body.Read(body)
			body = body[:n]
			resp.Body.Close()
			break
		}
		select {
		case err := <-done:
			t.Fatalf("demo ended before serving: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("fake pgway never answered")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{"PGRST_DB_SCHEMAS=api_v2,api_v1", "PGRST_DB_ANON_ROLE=web_anon",
		"PGRST_DB_URI=postgres://authenticator@127.0.0.1:", "PGRST_SERVER_PORT=" + strconv.Itoa(port)} {
		if !strings.Contains(string(body), want) {
			t.Errorf("pgway serve env lacks %s:\n%s", want, body)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop after interrupt")
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Error("pgway still serving after the demo stopped")
	}
}
