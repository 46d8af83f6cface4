package sidecar

import (
	"bytes"
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
	"github.com/valyala/fasthttp/pprofhandler"

	"github.com/pgway/pgway/internal/config"
)

// adminServer serves PostgREST's admin endpoints — /live, /ready, Prometheus /metrics (metrics.go),
// /schema_cache, and with admin-server-config-enabled /config — and, with admin-server-pprof, Go's runtime
// profiles under /debug/pprof/.
func (s *Server) adminServer() *fasthttp.Server {
	prom := fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	pprof := s.cfg.AdminServerPprof
	return &fasthttp.Server{
		Name:        "pgway-admin",
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second,
		Handler: func(ctx *fasthttp.RequestCtx) {
			switch path := ctx.Path(); string(path) {
			case "/live":
				ctx.SetStatusCode(fasthttp.StatusOK)
			case "/ready":
				ctx.SetStatusCode(s.readiness())
			case "/metrics":
				prom(ctx)
			case "/schema_cache":
				s.adminSchemaCache(ctx)
			case "/config":
				s.adminConfig(ctx)
			default:
				if pprof && bytes.HasPrefix(path, []byte("/debug/pprof/")) {
					// A CPU profile or trace runs for ?seconds= inside the handler; WriteTimeout only bounds
					// writing the response.
					pprofhandler.PprofHandler(ctx)
					return
				}
				ctx.SetStatusCode(fasthttp.StatusNotFound)
			}
		},
	}
}

// readiness is 200 when the schema cache is loaded and the database answers, 503 otherwise.
func (s *Server) readiness() int {
	if s.snap.Load().cache == nil {
		return fasthttp.StatusServiceUnavailable
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return fasthttp.StatusServiceUnavailable
	}
	return fasthttp.StatusOK
}

// adminSchemaCache answers /schema_cache: the running snapshot's schema cache as JSON (the shape of
// --dump-schema, schemacache.Cache.JSON: pgway's own, not PostgREST's). Before the first load the body is empty,
// as PostgREST's.
func (s *Server) adminSchemaCache(ctx *fasthttp.RequestCtx) {
	c := s.snap.Load().cache
	if c == nil {
		ctx.SetStatusCode(fasthttp.StatusOK)
		return
	}
	b, err := c.JSON()
	if err != nil {
		s.log.Error("rendering the schema cache", "err", err)
		ctx.SetStatusCode(fasthttp.StatusInternalServerError)
		return
	}
	ctx.SetContentType("application/json; charset=utf-8")
	ctx.SetBody(b)
}

// adminConfig answers /config as PostgREST 12.2.12 did: 404 unless admin-server-config-enabled, else the running
// configuration (file, environment, flags, in-database settings, as reloaded) in --dump-config's format, with
// jwt-secret, db-uri's password and credential-like app.settings.* values redacted (config.Redact; PostgREST
// printed them, and dropped the endpoint in 13 for that risk).
func (s *Server) adminConfig(ctx *fasthttp.RequestCtx) {
	if !s.cfg.AdminServerConfigEnabled {
		ctx.SetStatusCode(fasthttp.StatusNotFound)
		return
	}
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString(config.Dump(config.Redact(s.snap.Load().set.cfg)))
}
