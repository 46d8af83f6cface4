// Package sidecar is pgway's HTTP edge and composition root: server, handler pipeline, admin endpoints, shutdown.
package sidecar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/valyala/fasthttp"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/schemacache"
)

// Server is a running pgway instance.
type Server struct {
	// cfg is the configuration from file, environment and flags; what cannot change while running (db-uri,
	// db-pool, server-*, admin-server-port, db-channel, db-config) is always read from here.
	cfg  config.Config
	log  *slog.Logger
	pool *pgxpool.Pool
	// snap is everything requests read that a reload may change — the schema cache and what is derived from
	// it, the version catalog, the impersonated roles' settings and the reloadable configuration — published
	// whole; a request takes it once and keeps it.
	snap atomic.Pointer[snapshot]

	reloadMu sync.Mutex
	metrics  *metrics
	// reqMin is the lowest level of the request lines log-level keeps (logs.go).
	reqMin slog.Level

	// inflight are the requests being handled, with their contexts.
	inflight inflight
	// replicas are the read replicas (db-replica-uris) and their health; nil without any.
	replicas *replicas
}

// cancelWait is how long a cancelled statement may take to stop once PostgreSQL was sent the cancel request;
// past it pgconn closes the connection, which the pool then drops.
const cancelWait = 5 * time.Second

// cancelHandler handles a connection's cancelled statement: a cancel request, and a deadline of cancelWait on
// the socket (cancelreq.go). pgconn uses it when a context it watches is done; requests' exchanges use it through
// their interrupter (dbexec.Executor.CancelHandler).
func cancelHandler(pc *pgconn.PgConn) ctxwatch.Handler { return &cancelRequest{conn: pc} }

// Run serves the API described by cfg until ctx is cancelled, then shuts down gracefully.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	s, err := New(cfg, log)
	if err != nil {
		return err
	}
	err = s.Serve(ctx)
	// Every request was answered, or given up on: the pool's connections are back, or pgconn closes them
	// within cancelWait. Closing waits for them, but not forever.
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(cancelWait + time.Second):
		s.log.Error("database connections still in use; exiting without closing them")
	}
	return err
}

// New builds a server: pool (not yet connected), authenticator, per-schema settings.
func New(cfg config.Config, log *slog.Logger) (*Server, error) {
	if len(cfg.DBSchemas) == 0 {
		return nil, errors.New("db-schemas: at least one schema is required")
	}
	m := newMetrics()
	pcfg, err := poolConfig(cfg, cfg.DBURI, m)
	if err != nil {
		return nil, fmt.Errorf("db-uri: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), pcfg)
	if err != nil {
		return nil, fmt.Errorf("creating connection pool: %w", err)
	}
	m.registerPool(pool)
	s := &Server{cfg: cfg, log: log, pool: pool, metrics: m, reqMin: requestMin(cfg.LogLevel)}
	if s.replicas, err = newReplicas(s); err != nil {
		pool.Close()
		return nil, err
	}
	set, err := s.newSettings(cfg)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.snap.Store(newSnapshot(nil, set, 0)) // no schema cache yet: requests get 503 PGRST002
	return s, nil
}

// Close releases the pools.
func (s *Server) Close() {
	s.pool.Close()
	s.replicas.close()
}

// poolConfig is the configuration of a pool of db-pool connections to uri (db-uri, or a read replica's).
func poolConfig(cfg config.Config, uri string, m *metrics) (*pgxpool.Config, error) {
	pcfg, err := pgxpool.ParseConfig(uri)
	if err != nil {
		return nil, err
	}
	pcfg.MaxConns = int32(max(cfg.DBPool, 1))
	if cfg.DBPoolMaxIdletime > 0 {
		pcfg.MaxConnIdleTime = time.Duration(cfg.DBPoolMaxIdletime) * time.Second
	}
	if cfg.DBPoolMaxLifetime > 0 {
		pcfg.MaxConnLifetime = time.Duration(cfg.DBPoolMaxLifetime) * time.Second
	}
	// An application_name given in db-uri (or PGAPPNAME) is kept, as PostgREST keeps it (it only adds a
	// fallback_application_name); "pgway" is the default.
	schemacache.ApplicationName(pcfg.ConnConfig.RuntimeParams, "pgway")
	// Statements must be parsed after the batch's set_config('role', …) ran: a prepare (or describe) round
	// trip would resolve names as the authenticator, which typically has no USAGE on the exposed schemas.
	// Exec mode sends Parse/Bind/Execute with untyped text parameters in the same pipeline, as PostgREST's
	// unknown-typed literals do, so PostgreSQL infers every parameter's type from its context.
	pcfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	// A cancelled request context (client gone, server-request-timeout, shutdown) sends PostgreSQL a cancel
	// request for the running statement: closing the socket alone leaves a backend busy in pg_sleep or a long
	// scan. The statement ends with 57014, the exchange reads up to its Sync and the connection goes back to
	// the pool idle; one that does not answer within cancelWait is closed and dropped.
	pcfg.ConnConfig.BuildContextWatcherHandler = cancelHandler
	pcfg.ConnConfig.Tracer = &m.pool // pgrst_db_pool_waiting and _timeouts_total
	return pcfg, nil
}

// drain shuts the HTTP server down gracefully: it stops accepting, lets the requests in flight finish for
// server-shutdown-timeout, then cancels those still running (PostgreSQL is sent a cancel request, so their
// transactions roll back, and each client is answered with the error that produces) and waits for those answers,
// at most cancelWait more. Requests that arrive on open connections after that start cancelled (503).
func (s *Server) drain(srv *fasthttp.Server) {
	s.notice("shutting down", "requests", s.inflight.count(), "drain", s.cfg.ShutdownTimeout)
	sctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.ShutdownWithContext(sctx) }()
	grace := time.NewTimer(s.cfg.ShutdownTimeout)
	defer grace.Stop()
	select {
	case err := <-done:
		s.shutdownDone(err)
		return
	case <-grace.C:
	}
	if n := s.inflight.cancelAll(errShutdown); n > 0 {
		s.log.Warn("server-shutdown-timeout passed; cancelling the requests still running", "requests", n)
	}
	late := time.NewTimer(cancelWait + time.Second)
	defer late.Stop()
	select {
	case err := <-done:
		s.shutdownDone(err)
	case <-late.C:
		stop()
		<-done
		s.log.Error("requests still running after their cancellation; stopping anyway", "requests", s.inflight.count())
	}
}

// shutdownDone logs how the HTTP server's shutdown ended.
func (s *Server) shutdownDone(err error) {
	if err != nil {
		s.log.Warn("closing the listener", "err", err)
		return
	}
	s.notice("every request answered")
}

// Serve listens and serves until ctx is done.
func (s *Server) Serve(ctx context.Context) error {
	ln, _, err := s.listen()
	if err != nil {
		return err
	}
	return s.ServeListener(ctx, ln)
}

// ServeListener serves on ln until ctx is done, then drains: see drain. It returns nil after a graceful
// shutdown, whatever the requests it cancelled answered.
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	addr := ln.Addr().String()
	srv := s.httpServer()
	var err error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.loadLoop(ctx) }()
	if s.cfg.DBChannelEnabled {
		wg.Add(1)
		go func() { defer wg.Done(); s.listenLoop(ctx) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); s.signalLoop(ctx) }()
	s.replicas.start(ctx, &wg)
	// The request watcher outlives ctx: it keeps enforcing timeouts and disconnects while requests drain.
	s.inflight.resume()
	stopWatch := make(chan struct{})
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); s.inflight.watch(stopWatch) }()
	defer func() { close(stopWatch); <-watchDone }()

	var admin *fasthttp.Server
	if aln, err := s.adminListen(); err != nil {
		ln.Close()
		return err
	} else if aln != nil {
		admin = s.adminServer()
		s.notice("admin server listening", "addr", aln.Addr().String())
		go func() {
			if err := admin.Serve(aln); err != nil {
				s.log.Error("admin server stopped", "err", err)
			}
		}()
	}

	s.notice("listening", "addr", addr, "db_pool", s.cfg.DBPool, "log_level", s.cfg.LogLevel)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(idleWriteListener{Listener: ln, idle: writeIdleTimeout}) }()
	select {
	case err = <-errc:
		cancel()
	case <-ctx.Done():
		s.drain(srv)
	}
	if admin != nil {
		actx, acancel := context.WithTimeout(context.Background(), time.Second)
		_ = admin.ShutdownWithContext(actx)
		acancel()
	}
	cancel()
	wg.Wait()
	return err
}

// listen opens the TCP port or the Unix socket.
func (s *Server) listen() (net.Listener, string, error) {
	if p := s.cfg.ServerUnixSocket; p != "" {
		ln, err := listenUnix(p, s.cfg.ServerUnixSocketMode)
		if err != nil {
			return nil, "", fmt.Errorf("server-unix-socket: %w", err)
		}
		return ln, "unix:" + p, nil
	}
	addr := net.JoinHostPort(hostFor(s.cfg.ServerHost), strconv.Itoa(s.cfg.ServerPort))
	network := networkFor(s.cfg.ServerHost)
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, "", fmt.Errorf("listening on %s: %w", addr, err)
	}
	return ln, ln.Addr().String(), nil
}

// adminListen opens the admin server's Unix socket (admin-server-unix-socket, which takes precedence, as in
// PostgREST) or TCP port (admin-server-port, on admin-server-host or else server-host); nil when neither is set.
func (s *Server) adminListen() (net.Listener, error) {
	if p := s.cfg.AdminServerUnixSocket; p != "" {
		ln, err := listenUnix(p, s.cfg.AdminServerUnixSocketMode)
		if err != nil {
			return nil, fmt.Errorf("admin-server-unix-socket: %w", err)
		}
		return ln, nil
	}
	if s.cfg.AdminServerPort <= 0 {
		return nil, nil
	}
	host := s.cfg.ServerHost
	if s.cfg.AdminServerHost != "" {
		host = s.cfg.AdminServerHost
	}
	ln, err := net.Listen(networkFor(host), net.JoinHostPort(hostFor(host), strconv.Itoa(s.cfg.AdminServerPort)))
	if err != nil {
		return nil, fmt.Errorf("admin-server-port: %w", err)
	}
	return ln, nil
}

// listenUnix replaces a stale socket file at path, listens there and sets the file's mode (octal text).
func listenUnix(path, mode string) (net.Listener, error) {
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	m, err := strconv.ParseUint(mode, 8, 32)
	if err != nil {
		m = 0o660
	}
	if err := os.Chmod(path, os.FileMode(m)); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// networkFor is the network of a server-host: IPv4 only for !4, IPv6 only for !6 (warp's host preferences,
// as PostgREST binds them), either for anything else.
func networkFor(h string) string {
	switch h {
	case "!4":
		return "tcp4"
	case "!6":
		return "tcp6"
	}
	return "tcp"
}

// hostFor maps PostgREST's special server-host values (warp's host preferences) to a listen host.
func hostFor(h string) string {
	switch h {
	case "!4", "*4":
		return "0.0.0.0"
	case "*", "*6", "!6", "":
		return ""
	}
	return h
}

// httpServer is the API's fasthttp server. It has no WriteTimeout, which would bound a whole response: the
// connections ServeListener hands it time out a write that makes no progress for writeIdleTimeout instead
// (idleWriteListener).
func (s *Server) httpServer() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                       s.handle,
		Name:                          "pgway",
		ReadBufferSize:                s.maxHeaderBytes(), // beyond it 431
		ReadTimeout:                   readTimeout,
		IdleTimeout:                   120 * time.Second,
		MaxRequestBodySize:            s.cfg.MaxBodyBytes,
		DisableHeaderNamesNormalizing: false,
		NoDefaultContentType:          true,
		CloseOnShutdown:               true,
		ErrorHandler:                  s.transportError,
		SecureErrorLogMessage:         true, // fasthttp's errors would quote the request bytes, credentials included
		Logger:                        slogAdapter{s.log},
	}
}

// loadLoop loads the schema cache at start, retrying with PostgREST's exponential backoff (1s … 32s).
func (s *Server) loadLoop(ctx context.Context) {
	backoff := time.Second
	for attempt := 1; ; attempt++ {
		var err error
		if s.cfg.DBConfig {
			err = s.ReloadConfig(ctx)
		} else {
			err = s.Reload(ctx)
		}
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			return
		}
		s.log.Error("schema cache load failed; retrying", "attempt", attempt, "in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 32*time.Second)
	}
}

// listenLoop reloads on NOTIFY pgrst: 'reload schema' the schema cache; 'reload config' and an empty payload
// the configuration (file, environment, database) and the schema cache, as PostgREST's listener. Bursts of
// notifications arrive debounced into one call (schemacache.Listen).
func (s *Server) listenLoop(ctx context.Context) {
	uri := s.cfg.DBURI
	if s.cfg.DBListenerURI != "" {
		uri = s.cfg.DBListenerURI // db-uri goes through a transaction-pooling proxy
	}
	err := schemacache.Listen(ctx, uri, s.cfg.DBChannel, s.log, func(payload string) {
		var err error
		if payload == schemacache.PayloadSchema {
			s.notice("NOTIFY: reloading the schema cache", "channel", s.cfg.DBChannel)
			err = s.Reload(ctx)
		} else {
			s.notice("NOTIFY: reloading the configuration and the schema cache", "channel", s.cfg.DBChannel)
			err = s.ReloadConfig(ctx)
		}
		if err != nil && ctx.Err() == nil {
			s.log.Error("reload failed", "err", err)
		}
	})
	if err != nil && ctx.Err() == nil {
		s.log.Error("listener stopped", "err", err)
	}
}

// signalLoop reloads the schema cache on SIGUSR1 and the configuration on SIGUSR2, as PostgREST does.
func (s *Server) signalLoop(ctx context.Context) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case sig := <-ch:
			var err error
			if sig == syscall.SIGUSR2 {
				s.notice("SIGUSR2: reloading the configuration (file, environment, database) and the schema cache")
				err = s.ReloadConfig(ctx)
			} else {
				s.notice("SIGUSR1: reloading schema cache")
				err = s.Reload(ctx)
			}
			if err != nil {
				s.log.Error("reload failed", "err", err)
			}
		}
	}
}

type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Printf(format string, args ...any) { a.l.Debug(fmt.Sprintf(format, args...)) }
