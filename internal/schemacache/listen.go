package schemacache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultChannel is PostgREST's default NOTIFY channel (db-channel).
const DefaultChannel = "pgrst"

// Notification payloads (PostgREST's listener): "reload schema" reloads the schema cache, "reload config" the
// configuration, and an empty payload both. Any other payload is ignored.
const (
	PayloadSchema = "reload schema"
	PayloadConfig = "reload config"
	PayloadBoth   = ""
)

// Debouncing: a burst of notifications (a migration that sends one per statement) is one reload, delivered
// debounceQuiet after the last of them, and at most debounceMax after the first.
const (
	debounceQuiet = 75 * time.Millisecond
	debounceMax   = time.Second
)

type reloadKind uint8

const (
	reloadSchema reloadKind = 1 << iota
	reloadConfig
)

func kindOf(payload string) reloadKind {
	switch strings.TrimSpace(payload) {
	case "":
		return reloadSchema | reloadConfig
	case PayloadSchema:
		return reloadSchema
	case PayloadConfig:
		return reloadConfig
	}
	return 0
}

func (k reloadKind) payload() string {
	switch k {
	case reloadSchema:
		return PayloadSchema
	case reloadConfig:
		return PayloadConfig
	}
	return PayloadBoth
}

// Listen LISTENs on channel (DefaultChannel when empty) on a dedicated connection and calls onNotify with what
// to reload: PayloadSchema, PayloadConfig or PayloadBoth. Notifications are debounced: those arriving within
// debounceQuiet of each other (for at most debounceMax) are merged into one call, and onNotify runs on its own
// goroutine, one call at a time, so that notifications arriving meanwhile are merged into the next call.
//
// The connection is made with target_session_attrs=read-write, as PostgREST's listener does, so that a
// db-uri listing a read replica and its primary LISTENs on the primary (a replica cannot LISTEN). When the
// connection fails or is lost it reconnects with exponential backoff (100ms doubling to 30s), logging each
// attempt, and LISTENs again; because notifications sent meanwhile are lost, it then asks for PayloadBoth once.
// It returns nil when ctx is done, or an error if connString cannot be parsed.
func Listen(ctx context.Context, connString, channel string, log *slog.Logger, onNotify func(payload string)) error {
	if channel == "" {
		channel = DefaultChannel
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := ListenerConfig(connString)
	if err != nil {
		return err
	}
	d := newDebouncer(onNotify)
	defer d.stop()
	const minBackoff, maxBackoff = 100 * time.Millisecond, 30 * time.Second
	backoff := minBackoff
	connected := false
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return nil
		}
		conn, err := listenConn(ctx, cfg, channel)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("schema cache listener: connecting failed, retrying", "channel", channel,
				"attempt", attempt, "retry_in", backoff, "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, maxBackoff)
			continue
		}
		// At the level pgway's logger names NOTICE and writes whatever log-level (sidecar.LevelNotice), as
		// PostgREST logs its listener's connection.
		log.Log(ctx, slog.LevelInfo+2, "schema cache listener: listening", "channel", channel, "attempt", attempt)
		if connected {
			d.add(reloadSchema | reloadConfig)
		}
		connected, backoff, attempt = true, minBackoff, 0
		err = wait(ctx, conn, d)
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = conn.Close(closeCtx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("schema cache listener: connection lost, reconnecting", "channel", channel, "err", err)
	}
}

// ListenerConfig is the listener's connection configuration from db-uri: target_session_attrs=read-write
// whatever the URI says (PostgREST's addTargetSessionAttrs), libpq's fallback_application_name read as
// application_name when none is set, else application_name "pgway listener".
func ListenerConfig(connString string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("parsing listener connection string: %w", err)
	}
	cfg.ValidateConnect = pgconn.ValidateConnectTargetSessionAttrsReadWrite // checked on every host of the list
	ApplicationName(cfg.RuntimeParams, "pgway listener")
	return cfg, nil
}

// ApplicationName sets application_name in a connection's run-time parameters to def unless the connection
// string gave one; libpq's fallback_application_name, which pgx would send to the server as an unknown
// parameter, is used instead of def when given.
func ApplicationName(params map[string]string, def string) {
	if fb, ok := params["fallback_application_name"]; ok {
		delete(params, "fallback_application_name")
		def = fb
	}
	if _, ok := params["application_name"]; !ok {
		params["application_name"] = def
	}
}

func listenConn(ctx context.Context, cfg *pgx.ConnConfig, channel string) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	if _, err := conn.Exec(cctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		_ = conn.Close(context.Background())
		return nil, fmt.Errorf("LISTEN %s: %w", channel, err)
	}
	return conn, nil
}

// wait hands notifications to d until the connection fails or ctx is done.
func wait(ctx context.Context, conn *pgx.Conn, d *debouncer) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			return fmt.Errorf("waiting for notification: %w", err)
		}
		if k := kindOf(n.Payload); k != 0 {
			d.add(k)
		}
	}
}

// debouncer merges reload requests: add starts (or extends) a burst; when the burst is quiet for
// debounceQuiet, or debounceMax after it began, its merged kinds go to the deliverer, which calls onNotify one
// call at a time and merges whatever arrives while a call runs into the next one.
type debouncer struct {
	mu       sync.Mutex
	burst    reloadKind // kinds of the burst being collected
	first    time.Time  // when the burst began
	timer    *time.Timer
	ready    reloadKind // kinds waiting for the deliverer
	wake     chan struct{}
	done     chan struct{}
	finished chan struct{}
}

func newDebouncer(onNotify func(string)) *debouncer {
	d := &debouncer{wake: make(chan struct{}, 1), done: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(d.finished)
		for {
			select {
			case <-d.done:
				return
			case <-d.wake:
			}
			d.mu.Lock()
			k := d.ready
			d.ready = 0
			d.mu.Unlock()
			if k != 0 {
				onNotify(k.payload())
			}
		}
	}()
	return d
}

func (d *debouncer) add(k reloadKind) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	if d.burst == 0 {
		d.first = now
	}
	d.burst |= k
	wait := min(debounceQuiet, d.first.Add(debounceMax).Sub(now))
	if d.timer == nil {
		d.timer = time.AfterFunc(wait, d.fire)
	} else {
		d.timer.Reset(wait)
	}
}

func (d *debouncer) fire() {
	d.mu.Lock()
	d.ready |= d.burst
	d.burst = 0
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// stop ends the deliverer after the call in progress, dropping what has not been delivered.
func (d *debouncer) stop() {
	d.mu.Lock()
	if d.timer != nil {
		d.timer.Stop()
	}
	d.mu.Unlock()
	close(d.done)
	<-d.finished
}
