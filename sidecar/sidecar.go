// Package sidecar is pgway's HTTP edge and composition root: server, handler pipeline, admin endpoints, shutdown.
package sidecar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/valyala/fasthttp"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/auth"
	"github.com/pgway/pgway/sidecar/internal/dbexec"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
	"github.com/pgway/pgway/sidecar/internal/validate"
	"github.com/pgway/pgway/versioning"
)

// Server is a running pgway instance.
type Server struct {
	cfg   config.Config
	log   *slog.Logger
	pool  *pgxpool.Pool
	exec  dbexec.Executor
	auth  *auth.Authenticator
	cache schemacache.Holder
	// versions is pgway's API version catalog, reloaded with the schema cache.
	versions atomic.Pointer[versioning.Catalog]
	// validators are the request checkers compiled from the current schema cache.
	validators atomic.Pointer[validate.Set]
	// searchPaths maps each exposed schema to its quoted search_path value (schema + extra search path).
	searchPaths map[string]string
	// schemaList is the comma list of exposed schemas for PGRST106 hints.
	schemaList string

	reloadMu sync.Mutex
	metrics  *metrics

	docsMu sync.Mutex
	docs   *docCache
}

// Run serves the API described by cfg until ctx is cancelled, then shuts down gracefully.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	s, err := New(cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Serve(ctx)
}

// New builds a server: pool (not yet connected), authenticator, per-schema settings.
func New(cfg config.Config, log *slog.Logger) (*Server, error) {
	if len(cfg.DBSchemas) == 0 {
		return nil, errors.New("db-schemas: at least one schema is required")
	}
	pcfg, err := pgxpool.ParseConfig(cfg.DBURI)
	if err != nil {
		return nil, fmt.Errorf("db-uri: %w", err)
	}
	pcfg.MaxConns = int32(max(cfg.DBPool, 1))
	pcfg.ConnConfig.RuntimeParams["application_name"] = "pgway"
	// Statements must be parsed after the batch's set_config('role', …) ran: a prepare (or describe) round
	// trip would resolve names as the authenticator, which typically has no USAGE on the exposed schemas.
	// Exec mode sends Parse/Bind/Execute with untyped text parameters in the same pipeline, as PostgREST's
	// unknown-typed literals do, so PostgreSQL infers every parameter's type from its context.
	pcfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	pool, err := pgxpool.NewWithConfig(context.Background(), pcfg)
	if err != nil {
		return nil, fmt.Errorf("creating connection pool: %w", err)
	}
	a, err := auth.New(auth.Options{
		Secret:           []byte(cfg.JWTSecret),
		SecretIsBase64:   cfg.JWTSecretIsBase64,
		Audience:         cfg.JWTAud,
		RoleClaimKey:     cfg.JWTRoleClaimKey,
		AnonRole:         cfg.DBAnonRole,
		CacheMaxLifetime: time.Duration(cfg.JWTCacheMaxLifetime) * time.Second,
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("jwt: %w", err)
	}
	s := &Server{
		cfg:         cfg,
		log:         log,
		pool:        pool,
		exec:        dbexec.Executor{Pool: pool, AcquireTimeout: cfg.DBPoolAcquisitionTimeout, NoPrepare: !cfg.DBPreparedStatements},
		auth:        a,
		searchPaths: make(map[string]string, len(cfg.DBSchemas)),
		schemaList:  strings.Join(cfg.DBSchemas, ", "),
		metrics:     newMetrics(),
	}
	if s.exec.AcquireTimeout <= 0 {
		s.exec.AcquireTimeout = 10 * time.Second
	}
	if cfg.DBPreRequest != "" {
		parts := strings.Split(cfg.DBPreRequest, ".")
		for i, p := range parts {
			parts[i] = sqlgen.QuoteIdent(p)
		}
		s.exec.PreRequest = strings.Join(parts, ".")
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.AppSettings)) {
		s.exec.AppSettings = append(s.exec.AppSettings, [2]string{k, cfg.AppSettings[k]})
	}
	for _, sch := range cfg.DBSchemas {
		parts := []string{sqlgen.QuoteIdent(sch)}
		for _, x := range cfg.DBExtraSearchPath {
			if x != "" && x != sch {
				parts = append(parts, sqlgen.QuoteIdent(x))
			}
		}
		s.searchPaths[sch] = strings.Join(parts, ", ")
	}
	return s, nil
}

// Close releases the pool.
func (s *Server) Close() { s.pool.Close() }

// Serve listens and serves until ctx is done.
func (s *Server) Serve(ctx context.Context) error {
	ln, _, err := s.listen()
	if err != nil {
		return err
	}
	return s.ServeListener(ctx, ln)
}

// ServeListener serves on ln until ctx is done.
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

	var admin *fasthttp.Server
	if s.cfg.AdminServerPort > 0 {
		admin = s.adminServer()
		aln, err := net.Listen("tcp", net.JoinHostPort(hostFor(s.cfg.ServerHost), strconv.Itoa(s.cfg.AdminServerPort)))
		if err != nil {
			ln.Close()
			return fmt.Errorf("admin-server-port: %w", err)
		}
		go func() {
			if err := admin.Serve(aln); err != nil {
				s.log.Error("admin server stopped", "err", err)
			}
		}()
	}

	s.log.Info("listening", "addr", addr)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err = <-errc:
		cancel()
	case <-ctx.Done():
		s.log.Info("shutting down")
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = srv.ShutdownWithContext(sctx)
		scancel()
	}
	if admin != nil {
		_ = admin.Shutdown()
	}
	cancel()
	wg.Wait()
	return err
}

// listen opens the TCP port or the Unix socket.
func (s *Server) listen() (net.Listener, string, error) {
	if p := s.cfg.ServerUnixSocket; p != "" {
		_ = os.Remove(p)
		ln, err := net.Listen("unix", p)
		if err != nil {
			return nil, "", fmt.Errorf("server-unix-socket: %w", err)
		}
		mode, err := strconv.ParseUint(s.cfg.ServerUnixSocketMode, 8, 32)
		if err != nil {
			mode = 0o660
		}
		if err := os.Chmod(p, os.FileMode(mode)); err != nil {
			ln.Close()
			return nil, "", fmt.Errorf("server-unix-socket-mode: %w", err)
		}
		return ln, "unix:" + p, nil
	}
	addr := net.JoinHostPort(hostFor(s.cfg.ServerHost), strconv.Itoa(s.cfg.ServerPort))
	network := "tcp"
	if s.cfg.ServerHost == "!4" || s.cfg.ServerHost == "*4" {
		network = "tcp4"
	} else if s.cfg.ServerHost == "!6" {
		network = "tcp6"
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, "", fmt.Errorf("listening on %s: %w", addr, err)
	}
	return ln, ln.Addr().String(), nil
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

func (s *Server) httpServer() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                       s.handle,
		Name:                          "pgway",
		ReadTimeout:                   30 * time.Second,
		WriteTimeout:                  60 * time.Second,
		IdleTimeout:                   120 * time.Second,
		MaxRequestBodySize:            s.cfg.MaxBodyBytes,
		DisableHeaderNamesNormalizing: false,
		NoDefaultContentType:          true,
		ErrorHandler:                  s.transportError,
		Logger:                        slogAdapter{s.log},
	}
}

// loadLoop loads the schema cache at start, retrying with PostgREST's exponential backoff (1s … 32s).
func (s *Server) loadLoop(ctx context.Context) {
	backoff := time.Second
	for attempt := 1; ; attempt++ {
		err := s.Reload(ctx)
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

// Reload rebuilds the schema cache and swaps it in; in-flight requests keep the snapshot they started with.
func (s *Server) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	lctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	conn, err := s.pool.Acquire(lctx)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer conn.Release()
	c, err := schemacache.Load(lctx, conn, s.cfg.DBSchemas)
	if err != nil {
		return fmt.Errorf("loading schema cache: %w", err)
	}
	vc, err := loadVersions(lctx, conn)
	if err != nil {
		return err
	}
	s.versions.Store(vc)
	s.validators.Store(validate.Compile(c))
	s.cache.Store(c)
	s.log.Info("schema cache loaded", "relations", len(c.Relations), "routines", len(c.Routines),
		"duration", c.LoadDuration)
	return nil
}

// listenLoop reloads on NOTIFY pgrst, 'reload schema'.
func (s *Server) listenLoop(ctx context.Context) {
	err := schemacache.Listen(ctx, s.cfg.DBURI, s.cfg.DBChannel, s.log, func(payload string) {
		switch strings.TrimSpace(payload) {
		case "", "reload schema":
			if err := s.Reload(ctx); err != nil {
				s.log.Error("schema cache reload failed", "err", err)
			}
		}
	})
	if err != nil && ctx.Err() == nil {
		s.log.Error("listener stopped", "err", err)
	}
}

// signalLoop reloads on SIGUSR1, as PostgREST does.
func (s *Server) signalLoop(ctx context.Context) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			s.log.Info("SIGUSR1: reloading schema cache")
			if err := s.Reload(ctx); err != nil {
				s.log.Error("schema cache reload failed", "err", err)
			}
		}
	}
}

type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Printf(format string, args ...any) { a.l.Debug(fmt.Sprintf(format, args...)) }
