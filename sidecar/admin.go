package sidecar

import (
	"bytes"
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
	"github.com/valyala/fasthttp/pprofhandler"
)

// metrics are the Prometheus series served on the admin port.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  prometheus.Histogram
	byClass  [6]prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{registry: prometheus.NewRegistry()}
	m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pgway_http_requests_total", Help: "HTTP requests answered, by status class.",
	}, []string{"class"})
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "pgway_http_request_duration_seconds", Help: "Time to answer a request.",
		Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14),
	})
	m.registry.MustRegister(m.requests, m.latency)
	for i := 1; i < len(m.byClass); i++ {
		m.byClass[i] = m.requests.WithLabelValues(strconv.Itoa(i) + "xx")
	}
	return m
}

func (m *metrics) observe(status int, d time.Duration) {
	if c := status / 100; c >= 1 && c < len(m.byClass) {
		m.byClass[c].Inc()
	}
	m.latency.Observe(d.Seconds())
}

// adminServer serves PostgREST's admin endpoints (/live, /ready), Prometheus /metrics and, with
// admin-server-pprof, Go's runtime profiles under /debug/pprof/.
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
