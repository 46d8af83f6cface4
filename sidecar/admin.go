package sidecar

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
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

// adminServer serves PostgREST's admin endpoints (/live, /ready) and Prometheus /metrics.
func (s *Server) adminServer() *fasthttp.Server {
	prom := fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	return &fasthttp.Server{
		Name:        "pgway-admin",
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second,
		Handler: func(ctx *fasthttp.RequestCtx) {
			switch string(ctx.Path()) {
			case "/live":
				ctx.SetStatusCode(fasthttp.StatusOK)
			case "/ready":
				ctx.SetStatusCode(s.readiness())
			case "/metrics":
				prom(ctx)
			default:
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
