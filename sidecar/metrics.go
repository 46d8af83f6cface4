package sidecar

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/auth"
	"github.com/pgway/pgway/versioning"
)

// metrics are the Prometheus series of the admin server's /metrics: PostgREST's (pgrst_*: schema cache, pool,
// JWT cache) with its names, types, labels and help texts (PostgREST's src/PostgREST/Metrics.hs), so that its
// dashboards keep working; pgway's request series by route and status class; Go's runtime and process.
type metrics struct {
	registry *prometheus.Registry

	requests *prometheus.CounterVec
	byClass  [6]prometheus.Counter
	latency  *prometheus.HistogramVec
	routes   routes

	schemaLoads     *prometheus.CounterVec
	schemaQueryTime prometheus.Gauge
	// jwt counts the JWT cache of every authenticator the server builds (reloads build new ones).
	jwt auth.CacheStats
	// pool counts acquisitions waiting and timed out; its gauges are read from pgxpool.Stat when scraped.
	pool poolTracer
}

var classNames = [6]string{"", "1xx", "2xx", "3xx", "4xx", "5xx"}

func newMetrics() *metrics {
	m := &metrics{registry: prometheus.NewRegistry()}
	m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pgway_http_requests_total", Help: "HTTP requests answered, by status class.",
	}, []string{"class"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "pgway_http_request_duration_seconds",
		Help:    "Time to answer a request, by route (the relation or function, \"/\", \"docs\" or \"unknown\") and status class.",
		Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14),
	}, []string{"route", "class"})
	for i := 1; i < len(m.byClass); i++ {
		m.byClass[i] = m.requests.WithLabelValues(classNames[i])
	}
	m.routes.init()

	// PostgREST's, in the order of its Metrics.hs.
	m.pool.timeouts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "pgrst_db_pool_timeouts_total", Help: "The total number of pool connection timeouts",
	})
	m.schemaLoads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pgrst_schema_cache_loads_total", Help: "The total number of times the schema cache was loaded",
	}, []string{"status"})
	m.schemaQueryTime = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "pgrst_schema_cache_query_time_seconds", Help: "The query time in seconds of the last schema cache load",
	})
	jwt := func(name, help string, c *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(c.Load()) })
	}
	m.registry.MustRegister(m.requests, m.latency, m.pool.timeouts, m.schemaLoads, m.schemaQueryTime,
		jwt("pgrst_jwt_cache_requests_total", "The total number of JWT cache lookups", &m.jwt.Requests),
		jwt("pgrst_jwt_cache_hits_total", "The total number of JWT cache hits", &m.jwt.Hits),
		jwt("pgrst_jwt_cache_evictions_total", "The total number of JWT cache evictions", &m.jwt.Evictions))
	return m
}

// observe counts a request of route answered with status after d.
func (m *metrics) observe(r *route, status int, d time.Duration) {
	c := status / 100
	if c < 1 || c >= len(m.byClass) {
		return
	}
	m.byClass[c].Inc()
	r.observer(m.latency, c).Observe(d.Seconds())
}

// schemaLoaded counts a schema cache load, PostgREST's SchemaCacheLoadedObs and SchemaCacheErrorObs.
func (m *metrics) schemaLoaded(c *schemacache.Cache, err error) {
	if err != nil {
		m.schemaLoads.WithLabelValues("FAIL").Inc()
		return
	}
	m.schemaLoads.WithLabelValues("SUCCESS").Inc()
	m.schemaQueryTime.Set(c.QueryDuration.Seconds())
}

// registerPool adds the pool's gauges, read from pgxpool.Stat at scrape time.
func (m *metrics) registerPool(p *pgxpool.Pool) {
	m.registry.MustRegister(&poolCollector{pool: p, waiting: &m.pool.waiting})
}

// poolCollector reports PostgREST's pool gauges: pgrst_db_pool_available (idle connections: PostgREST counts
// established connections not in use), pgrst_db_pool_waiting (requests in Acquire, as PostgREST counts its
// PoolRequest until PoolRequestFullfilled) and pgrst_db_pool_max (db-pool).
type poolCollector struct {
	pool    *pgxpool.Pool
	waiting *atomic.Int64
}

var (
	poolAvailableDesc = prometheus.NewDesc("pgrst_db_pool_available", "Available connections in the pool", nil, nil)
	poolWaitingDesc   = prometheus.NewDesc("pgrst_db_pool_waiting", "Requests waiting to acquire a pool connection", nil, nil)
	poolMaxDesc       = prometheus.NewDesc("pgrst_db_pool_max", "Max pool connections", nil, nil)
)

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolAvailableDesc
	ch <- poolWaitingDesc
	ch <- poolMaxDesc
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolAvailableDesc, prometheus.GaugeValue, float64(st.IdleConns()))
	ch <- prometheus.MustNewConstMetric(poolWaitingDesc, prometheus.GaugeValue, float64(max(c.waiting.Load(), 0)))
	ch <- prometheus.MustNewConstMetric(poolMaxDesc, prometheus.GaugeValue, float64(st.MaxConns()))
}

// poolTracer is the pool's tracer (pgx.ConnConfig.Tracer): it counts the acquisitions under way and those that
// gave up because a deadline passed — db-pool-acquisition-timeout or server-request-timeout, PostgREST's
// PGRST003 — not those whose client went away or that failed to connect. Its query hooks do nothing (requests
// run on pgconn directly, which calls no tracer).
type poolTracer struct {
	waiting  atomic.Int64
	timeouts prometheus.Counter
}

func (t *poolTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (t *poolTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (t *poolTracer) TraceAcquireStart(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	t.waiting.Add(1)
	return ctx
}

func (t *poolTracer) TraceAcquireEnd(ctx context.Context, _ *pgxpool.Pool, data pgxpool.TraceAcquireEndData) {
	t.waiting.Add(-1)
	if data.Err != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		t.timeouts.Inc()
	}
}

// route is one value of the route label, with its histograms by status class, made on first use.
type route struct {
	label string
	obs   [6]atomic.Pointer[prometheus.Observer]
}

func (r *route) observer(vec *prometheus.HistogramVec, class int) prometheus.Observer {
	if o := r.obs[class].Load(); o != nil {
		return *o
	}
	o := vec.WithLabelValues(r.label, classNames[class])
	r.obs[class].Store(&o)
	return o
}

// routeKey is a relation or a function of the schema cache.
type routeKey struct {
	name schemacache.QName
	fn   bool
}

// routes are the values of the route label: a relation ("api.items") or function ("api.search()") only when
// the schema cache has it, so that the label's values are bounded by the schema whatever paths clients send;
// "/" for the root, "docs" for pgway's pages (/pgway/…: the docs page, the OpenAPI document; their /docs,
// /openapi.json and /openapi.yaml aliases), "unknown" for anything else.
// Looking one up takes no lock and allocates nothing.
type routes struct {
	mu                  sync.Mutex
	byName              atomic.Pointer[map[routeKey]*route]
	root, docs, unknown *route
}

func (t *routes) init() {
	t.byName.Store(&map[routeKey]*route{})
	t.root, t.docs, t.unknown = &route{label: "/"}, &route{label: "docs"}, &route{label: "unknown"}
}

// add returns the route of k, making it (copy on write: lookups never wait).
func (t *routes) add(k routeKey) *route {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.byName.Load()
	if r := old[k]; r != nil {
		return r
	}
	label := k.name.Schema + "." + k.name.Name
	if k.fn {
		label += "()"
	}
	k.name = schemacache.QName{Schema: strings.Clone(k.name.Schema), Name: strings.Clone(k.name.Name)}
	next := make(map[routeKey]*route, len(old)+1)
	for key, r := range old {
		next[key] = r
	}
	r := &route{label: label}
	next[k] = r
	t.byName.Store(&next)
	return r
}

// route is the request's route label.
func (s *Server) route(h *handling) *route {
	t := &s.metrics.routes
	req := h.req
	if req == nil { // not parsed: one of pgway's pages, a version or parse error, a CORS preflight
		p := b2s(h.ctx.Path())
		if _, rest, ok := versioning.SplitPath(p); ok {
			p = rest
		}
		if p == pagePrefix || strings.HasPrefix(p, pagePrefix+"/") || p == "/docs" || strings.HasPrefix(p, "/docs/") ||
			p == "/openapi.json" || p == "/openapi.yaml" || p == "/openapi.yml" {
			return t.docs
		}
		return t.unknown
	}
	if req.Relation == "" {
		return t.root
	}
	c := h.snap.cache
	if c == nil || h.schema == "" {
		return t.unknown
	}
	k := routeKey{name: schemacache.QName{Schema: h.schema, Name: req.Relation}, fn: req.RPC}
	if req.RPC && len(c.Routines[k.name]) == 0 || !req.RPC && c.Relations[k.name] == nil {
		return t.unknown
	}
	if r := (*t.byName.Load())[k]; r != nil {
		return r
	}
	return t.add(k)
}

// jwtStats are the counters every authenticator's JWT cache adds to (nil without metrics, in tests).
func (s *Server) jwtStats() *auth.CacheStats {
	if s.metrics == nil {
		return nil
	}
	return &s.metrics.jwt
}
