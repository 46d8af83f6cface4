package schemacache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultChannel is PostgREST's default NOTIFY channel (db-channel).
const DefaultChannel = "pgrst"

// Listen LISTENs on channel (DefaultChannel when empty) on a dedicated connection and calls onNotify with
// each notification's payload (PostgREST sends "reload schema", "" or "reload config"). When the connection
// fails or is lost it reconnects with exponential backoff (100ms doubling to 30s), logging each attempt, and
// LISTENs again; because notifications sent meanwhile are lost, it then calls onNotify("reload schema")
// once. It returns nil when ctx is done, or an error if connString cannot be parsed.
func Listen(ctx context.Context, connString, channel string, log *slog.Logger, onNotify func(payload string)) error {
	if channel == "" {
		channel = DefaultChannel
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return fmt.Errorf("parsing listener connection string: %w", err)
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "pgway listener"
	}
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
		log.Info("schema cache listener: listening", "channel", channel, "attempt", attempt)
		if connected {
			onNotify("reload schema")
		}
		connected, backoff, attempt = true, minBackoff, 0
		err = wait(ctx, conn, onNotify)
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = conn.Close(closeCtx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("schema cache listener: connection lost, reconnecting", "channel", channel, "err", err)
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

// wait delivers notifications until the connection fails or ctx is done.
func wait(ctx context.Context, conn *pgx.Conn, onNotify func(string)) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			return fmt.Errorf("waiting for notification: %w", err)
		}
		onNotify(n.Payload)
	}
}
