package schemacache_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/internal/schemacache"
)

// listener runs Listen in the background and collects payloads.
type listener struct {
	ch   chan string
	done chan error
}

func startListener(t *testing.T, url, channel string) *listener {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{ch: make(chan string, 16), done: make(chan error, 1)}
	go func() {
		l.done <- schemacache.Listen(ctx, url, channel, slog.New(slog.DiscardHandler), func(p string) { l.ch <- p })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-l.done:
			if err != nil {
				t.Errorf("Listen returned %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Listen did not return after cancel")
		}
	})
	return l
}

func (l *listener) next(t *testing.T) string {
	t.Helper()
	select {
	case p := <-l.ch:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("no notification")
		return ""
	}
}

// listenerPID waits until a backend of this database is LISTENing on channel (and is not oldPID).
func listenerPID(t *testing.T, conn *pgx.Conn, channel string, oldPID int32) int32 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var pid int32
		err := conn.QueryRow(context.Background(), `
			select pid from pg_stat_activity
			where datname = current_database() and query = $1 and pid <> $2 and pid <> pg_backend_pid()
			limit 1`, "LISTEN "+pgx.Identifier{channel}.Sanitize(), oldPID).Scan(&pid)
		if err == nil {
			return pid
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no backend LISTENing on %s", channel)
	return 0
}

func notify(t *testing.T, conn *pgx.Conn, channel, payload string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), "select pg_notify($1, $2)", channel, payload); err != nil {
		t.Fatal(err)
	}
}

func TestListenDeliversPayloads(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(context.Background(), db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	l := startListener(t, db.URL, "") // default channel
	listenerPID(t, conn, schemacache.DefaultChannel, 0)
	for _, p := range []string{"reload schema", "", "reload config"} {
		notify(t, conn, schemacache.DefaultChannel, p)
		if got := l.next(t); got != p {
			t.Errorf("payload = %q, want %q", got, p)
		}
	}
}

func TestListenReconnects(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(context.Background(), db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	const channel = "custom channel"
	l := startListener(t, db.URL, channel)
	pid := listenerPID(t, conn, channel, 0)
	if _, err := conn.Exec(context.Background(), "select pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	newPID := listenerPID(t, conn, channel, pid)
	if newPID == pid {
		t.Fatal("listener backend did not change")
	}
	// Notifications may have been missed while disconnected: the listener asks for a reload of both the
	// schema cache and the configuration, as PostgREST's does.
	if got := l.next(t); got != "" {
		t.Errorf("after reconnect: payload = %q, want %q", got, "")
	}
	notify(t, conn, channel, "reload config")
	if got := l.next(t); got != "reload config" {
		t.Errorf("payload = %q, want %q", got, "reload config")
	}
}

func TestListenBadConnString(t *testing.T) {
	t.Parallel()
	err := schemacache.Listen(context.Background(), "postgres://%zz", "", nil, func(string) {})
	if err == nil {
		t.Fatal("want error for malformed connection string")
	}
}

func TestListenStopsWhileRetrying(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var mu sync.Mutex
	called := false
	// Nothing listens on port 1: Listen keeps retrying until ctx ends, then returns nil.
	err := schemacache.Listen(ctx, "postgres://nobody@127.0.0.1:1/x?connect_timeout=1", "", nil,
		func(string) { mu.Lock(); called = true; mu.Unlock() })
	if err != nil {
		t.Fatalf("Listen = %v, want nil", err)
	}
	if called {
		t.Error("onNotify called without a connection")
	}
}

// TestListenDebounces: a burst of notifications is one call, with the payloads merged; other payloads are
// ignored.
func TestListenDebounces(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(context.Background(), db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	l := startListener(t, db.URL, "")
	listenerPID(t, conn, schemacache.DefaultChannel, 0)
	for i := 0; i < 50; i++ {
		notify(t, conn, schemacache.DefaultChannel, "reload schema")
	}
	if got := l.next(t); got != "reload schema" {
		t.Errorf("payload = %q, want reload schema", got)
	}
	notify(t, conn, schemacache.DefaultChannel, "something else")
	// One transaction's notifications arrive together: schema and config merge into both.
	if _, err := conn.Exec(context.Background(), `select pg_notify('pgrst', 'reload schema'), pg_notify('pgrst', 'reload config'),
		pg_notify('pgrst', 'reload schema')`); err != nil {
		t.Fatal(err)
	}
	if got := l.next(t); got != "" {
		t.Errorf("payload = %q, want both (\"\")", got)
	}
	select {
	case p := <-l.ch:
		t.Errorf("a second call %q for one burst", p)
	case <-time.After(400 * time.Millisecond):
	}
}

// TestListenReadWrite: the listener connects with target_session_attrs=read-write whatever db-uri says, as
// PostgREST's: a db-uri asking for a read-only server (a replica, which cannot LISTEN) still LISTENs on the
// primary.
func TestListenReadWrite(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(context.Background(), db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	cfg, err := schemacache.ListenerConfig(db.URL + "&target_session_attrs=read-only&fallback_application_name=mine")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ValidateConnect == nil || cfg.RuntimeParams["application_name"] != "mine" {
		t.Fatalf("listener config: %+v", cfg.RuntimeParams)
	}
	l := startListener(t, db.URL+"&target_session_attrs=read-only", "")
	listenerPID(t, conn, schemacache.DefaultChannel, 0)
	notify(t, conn, schemacache.DefaultChannel, "reload config")
	if got := l.next(t); got != "reload config" {
		t.Errorf("payload = %q", got)
	}
}
