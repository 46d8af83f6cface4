// Package refsrv is what the benchmark's reference servers (bench/baseline, bench/bare) share: the few PGRST_*
// settings they read, the API listener and the admin port (/live, /ready, Prometheus /metrics and
// /debug/pprof/ for the driver's -profile).
package refsrv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
	"github.com/valyala/fasthttp/pprofhandler"
)

// Env is the environment variable k, or def when it is unset or empty.
func Env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// PoolConfig is pgxpool's configuration for PGRST_DB_URI (or uri when not empty) with PGRST_DB_POOL
// connections at most, as pgway sizes its pool, and the given application_name.
func PoolConfig(uri, appName string) (*pgxpool.Config, error) {
	if uri == "" {
		uri = os.Getenv("PGRST_DB_URI")
	}
	poolSize, _ := strconv.Atoi(Env("PGRST_DB_POOL", "10"))
	pcfg, err := pgxpool.ParseConfig(uri)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	pcfg.MaxConns = int32(max(poolSize, 1))
	pcfg.ConnConfig.RuntimeParams["application_name"] = appName
	return pcfg, nil
}

// Run serves h on 127.0.0.1:$PGRST_SERVER_PORT (keep-alive, the same server settings for every reference;
// responses gzipped when asked for, as fasthttp's CompressHandler does it) and the admin endpoints on
// $PGRST_ADMIN_SERVER_PORT until SIGINT or SIGTERM. ready answers /ready.
func Run(name string, h fasthttp.RequestHandler, ready func(context.Context) error) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &fasthttp.Server{
		// A request asking for gzip (page-1000-gzip) gets it at pgway's level, gzip's fastest; the others send no
		// Accept-Encoding and cost one header lookup more.
		Handler: fasthttp.CompressHandlerLevel(h, fasthttp.CompressBestSpeed), Name: name,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
		MaxRequestBodySize: 10 << 20, NoDefaultContentType: true,
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:"+Env("PGRST_SERVER_PORT", "3000"))
	if err != nil {
		return err
	}
	if p := os.Getenv("PGRST_ADMIN_SERVER_PORT"); p != "" {
		prom := fasthttpadaptor.NewFastHTTPHandler(promhttp.Handler())
		admin := &fasthttp.Server{Name: name + "-admin", Handler: func(c *fasthttp.RequestCtx) {
			switch path := string(c.Path()); {
			case path == "/live":
				c.SetStatusCode(http.StatusOK)
			case path == "/ready":
				rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				if err := ready(rctx); err != nil {
					c.SetStatusCode(http.StatusServiceUnavailable)
					return
				}
				c.SetStatusCode(http.StatusOK)
			case path == "/metrics":
				prom(c)
			case strings.HasPrefix(path, "/debug/pprof/"):
				pprofhandler.PprofHandler(c)
			default:
				c.SetStatusCode(http.StatusNotFound)
			}
		}}
		aln, err := net.Listen("tcp4", "127.0.0.1:"+p)
		if err != nil {
			return err
		}
		go admin.Serve(aln)
		defer admin.Shutdown()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return srv.Shutdown()
	}
}
