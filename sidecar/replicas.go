package sidecar

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/dbexec"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// lsnHeader carries read-your-writes tokens: a write's response has its commit LSN, and a read that sends it
// back is served by a replica only once that replica has replayed past it (otherwise by the primary).
const lsnHeader = "Pgway-Lsn"

// maxReplicas bounds db-replica-uris (a request's tried replicas are a bit set).
const maxReplicas = 64

// replicas route reads to read replicas (db-replica-uris). Every replica has its own pool and a checker that
// reads, every db-replica-check-interval, whether it is in recovery and how far it has replayed; one more
// goroutine samples the primary's WAL position, which gives each replica's lag in bytes and in time. A replica
// that cannot be reached, is not in recovery, or lags beyond db-replica-max-lag is out of rotation until a check
// finds it healthy again.
//
// A read (plan.Action.ReadOnly, not a volatile function, not SERIALIZABLE) goes to the healthy replica with the fewest
// requests in flight (round robin among equals) that has replayed both the request's token (lsnHeader) and the
// WAL position of the schema cache it was planned with (so that a column just added is there); else to the
// primary. A read that fails on a replica because of the replica (its connection failed, PGRST000/001/003, a
// recovery conflict, something a standby cannot do) before any of its body reached the client runs again on
// another replica or the primary. Writes go to the primary, and their response carries their commit LSN.
type replicas struct {
	s        *Server
	primary  *backend
	list     []*backend
	next     atomic.Uint32
	maxLag   config.Lag
	interval time.Duration
	// wal is the primary's WAL position over time, for the replicas' lag.
	wal walHistory
}

// backend is a database requests are sent to: the primary (db-uri) or a read replica.
type backend struct {
	name string // the metrics' backend label: primary, replica1, replica2, …
	addr string // host:port, for the log
	uri  string
	pool *pgxpool.Pool

	healthy atomic.Bool
	// checked: a check has decided healthy once (the first decision is logged either way).
	checked atomic.Bool
	// replay is the WAL position the replica had replayed at its last check.
	replay atomic.Uint64
	// lagBytes and lagNanos are its lag at its last check.
	lagBytes, lagNanos atomic.Int64
	// markedDown is when a request last found it failing (unix nanoseconds): a check begun before then does not
	// put it back.
	markedDown atomic.Int64
	inflight   atomic.Int64
	requests   atomic.Uint64
	fallbacks  atomic.Uint64
}

// newReplicas makes the pools of db-replica-uris (not connected yet) and registers the backends' metrics; nil
// without replicas.
func newReplicas(s *Server) (*replicas, error) {
	cfg := s.cfg
	if len(cfg.DBReplicaURIs) == 0 {
		return nil, nil
	}
	if len(cfg.DBReplicaURIs) > maxReplicas {
		return nil, fmt.Errorf("db-replica-uris: at most %d replicas", maxReplicas)
	}
	rs := &replicas{s: s, maxLag: cfg.DBReplicaMaxLag, interval: cfg.DBReplicaCheckInterval,
		primary: &backend{name: "primary", addr: hostPort(cfg.DBURI), uri: cfg.DBURI, pool: s.pool}}
	if rs.interval <= 0 {
		rs.interval = time.Second
	}
	rs.primary.healthy.Store(true)
	for i, uri := range cfg.DBReplicaURIs {
		pcfg, err := poolConfig(cfg, uri, s.metrics)
		if err != nil {
			rs.close()
			return nil, fmt.Errorf("db-replica-uris: replica %d: %w", i+1, err)
		}
		pool, err := pgxpool.NewWithConfig(context.Background(), pcfg)
		if err != nil {
			rs.close()
			return nil, fmt.Errorf("db-replica-uris: replica %d: %w", i+1, err)
		}
		rs.list = append(rs.list, &backend{name: "replica" + strconv.Itoa(i+1), addr: hostPort(uri), uri: uri, pool: pool})
	}
	s.metrics.registry.MustRegister(&backendCollector{rs: rs})
	return rs, nil
}

// hostPort is a connection string's first host and port, for the log (never its user or password).
func hostPort(uri string) string {
	c, err := pgconn.ParseConfig(uri)
	if err != nil {
		return "?"
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port)))
}

// close closes the replicas' pools.
func (rs *replicas) close() {
	if rs == nil {
		return
	}
	for _, b := range rs.list {
		b.pool.Close()
	}
}

// start runs the primary's sampler and each replica's checker until ctx is done.
func (rs *replicas) start(ctx context.Context, wg *sync.WaitGroup) {
	if rs == nil {
		return
	}
	names := make([]any, 0, 2*len(rs.list))
	for _, b := range rs.list {
		names = append(names, b.name, b.addr)
	}
	rs.s.notice("read replicas", append(names, "max_lag", rs.maxLag.String(), "check_interval", rs.interval)...)
	wg.Add(1 + len(rs.list))
	go func() { defer wg.Done(); rs.samplePrimary(ctx) }()
	for _, b := range rs.list {
		go func() { defer wg.Done(); rs.check(ctx, b) }()
	}
}

// checkTimeout bounds one check (connecting included).
func (rs *replicas) checkTimeout() time.Duration { return max(2*rs.interval, 2*time.Second) }

// monitorConfig is a checker's connection configuration: its own connection to uri, outside the pool, with
// the simple protocol (no prepared statement, through any proxy).
func monitorConfig(uri string) (*pgx.ConnConfig, error) {
	c, err := pgx.ParseConfig(uri)
	if err != nil {
		return nil, err
	}
	c.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	schemacache.ApplicationName(c.RuntimeParams, "pgway replica check")
	return c, nil
}

// every runs f at once and then every interval until ctx is done, on one connection to uri that it opens (again)
// when it has none; f's error closes it.
func (rs *replicas) every(ctx context.Context, uri string, f func(ctx context.Context, c *pgx.Conn) error,
	failed func(err error)) {
	cfg, err := monitorConfig(uri)
	if err != nil {
		failed(err)
		return
	}
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			_ = conn.Close(context.Background())
		}
	}()
	t := time.NewTicker(rs.interval)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, rs.checkTimeout())
		if conn == nil {
			conn, err = pgx.ConnectConfig(cctx, cfg)
		}
		if err == nil {
			if err = f(cctx, conn); err != nil {
				_ = conn.Close(context.Background())
				conn = nil
			}
		}
		cancel()
		if err != nil && ctx.Err() == nil {
			failed(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// samplePrimary records the primary's WAL position every interval.
func (rs *replicas) samplePrimary(ctx context.Context) {
	p := rs.primary
	rs.every(ctx, p.uri, func(ctx context.Context, c *pgx.Conn) error {
		var text string
		if err := c.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&text); err != nil {
			return err
		}
		lsn, ok := dbexec.ParseLSN(text)
		if !ok {
			return fmt.Errorf("pg_current_wal_lsn: %q", text)
		}
		rs.wal.add(time.Now(), lsn)
		if !p.healthy.Swap(true) {
			rs.s.notice("primary answers again: replica lag measured", "backend", p.name, "addr", p.addr)
		}
		return nil
	}, func(err error) {
		if p.healthy.Swap(false) {
			rs.s.log.Warn("primary unreachable: replica lag not measured meanwhile", "backend", p.name, "addr", p.addr, "err", err)
		}
	})
}

// check checks replica b every interval (checkReplica).
func (rs *replicas) check(ctx context.Context, b *backend) {
	rs.every(ctx, b.uri, func(ctx context.Context, c *pgx.Conn) error { return rs.checkReplica(ctx, b, c) },
		func(err error) { rs.setHealth(b, false, "unreachable", err) })
}

// checkReplica checks replica b on c: in recovery, its replay position, its lag; and puts it in or out of
// rotation. An error is c's: the replica is unreachable.
func (rs *replicas) checkReplica(ctx context.Context, b *backend, c *pgx.Conn) error {
	began := time.Now()
	var recovery bool
	var replay *string
	if err := c.QueryRow(ctx, "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text").Scan(&recovery, &replay); err != nil {
		return err
	}
	if !recovery || replay == nil {
		rs.setHealth(b, false, "not a replica: pg_is_in_recovery() is false (promoted?)", nil)
		return nil
	}
	lsn, ok := dbexec.ParseLSN(*replay)
	if !ok {
		return fmt.Errorf("pg_last_wal_replay_lsn: %q", *replay)
	}
	b.replay.Store(uint64(lsn))
	lagBytes, lagTime := rs.wal.lag(lsn, began)
	b.lagBytes.Store(lagBytes)
	b.lagNanos.Store(int64(lagTime))
	switch m := rs.maxLag; {
	case m.Bytes > 0 && lagBytes > m.Bytes:
		rs.setHealth(b, false, "lags "+strconv.FormatInt(lagBytes, 10)+" bytes, beyond db-replica-max-lag "+m.String(), nil)
	case m.Time > 0 && lagTime > m.Time:
		rs.setHealth(b, false, "lags "+lagTime.Round(time.Millisecond).String()+", beyond db-replica-max-lag "+m.String(), nil)
	case began.UnixNano() < b.markedDown.Load():
		// A request found it failing while this check ran: the next check decides.
	default:
		rs.setHealth(b, true, "", nil)
	}
	return nil
}

// setHealth puts b in or out of rotation, logging a change (and the first decision). A replica that went out
// because it failed has the idle connections of its pool dropped (they are dead, or will be).
func (rs *replicas) setHealth(b *backend, ok bool, why string, err error) {
	first := !b.checked.Swap(true)
	if b.healthy.Swap(ok) == ok && !first {
		return
	}
	if ok {
		rs.s.notice("replica in rotation", "backend", b.name, "addr", b.addr, "replay_lsn", dbexec.LSN(b.replay.Load()).String(),
			"lag_bytes", b.lagBytes.Load(), "lag", time.Duration(b.lagNanos.Load()).Round(time.Millisecond))
		return
	}
	attrs := []any{"backend", b.name, "addr", b.addr, "reason", why}
	if err != nil {
		attrs = append(attrs, "err", err)
		b.pool.Reset()
	}
	rs.s.log.Warn("replica out of rotation", attrs...)
}

// readable reports whether act may run on a replica: it runs read-only, and is not a call of a volatile function
// (which may have effects outside the database's tables, or expect the primary's state).
func readable(act *plan.Action, st *sqlgen.Statements) bool {
	if !act.ReadOnly || st.StreamBody != nil {
		return false
	}
	return act.Kind != plan.KindCall || act.Call == nil || act.Call.Routine == nil || act.Call.Routine.Volatility != 'v'
}

// run runs the request's statements where they belong (see replicas): with replicas, reads on one of them and
// writes on the primary with their commit LSN in lsnHeader.
func (s *Server) run(h *handling, act *plan.Action, st sqlgen.Statements, res *dbexec.Result) error {
	rs := s.replicas
	if rs == nil {
		return h.snap.set.exec.Run(h.db, h.tx(act), st, h.body, res)
	}
	tx := h.tx(act)
	// A hot standby cannot run a serializable transaction (0A000): the role's or function's level sends it to
	// the primary.
	if !readable(act, &st) || tx.Isolation == dbexec.IsolationSerializable {
		var lsn dbexec.LSN
		if !tx.ReadOnly {
			tx.CommitLSN = &lsn
		}
		err := rs.primary.run(h, tx, st, res)
		if lsn != 0 {
			h.ctx.Response.Header.Set(lsnHeader, lsn.String())
		}
		return err
	}
	need, ok := h.snap.lsn, true
	if v := h.ctx.Request.Header.Peek(lsnHeader); len(v) > 0 {
		var token dbexec.LSN
		if token, ok = dbexec.ParseLSN(b2s(v)); ok {
			need = max(need, token)
		}
	}
	var tried uint64
	for ok {
		i := rs.pick(need, tried)
		if i < 0 {
			break
		}
		b := rs.list[i]
		err := b.run(h, tx, st, res)
		if err == nil || !rs.fallBack(h, b, err) {
			return err
		}
		tried |= 1 << i
		h.body.Reset()
		if tx.Response != nil {
			*tx.Response = dbexec.GUCResponse{}
		}
	}
	return rs.primary.run(h, tx, st, res)
}

// run runs the request's exchange on b's pool.
func (b *backend) run(h *handling, tx dbexec.Tx, st sqlgen.Statements, res *dbexec.Result) error {
	exec := h.snap.set.exec
	exec.Pool = b.pool
	b.requests.Add(1)
	b.inflight.Add(1)
	defer b.inflight.Add(-1)
	return exec.Run(h.db, tx, st, h.body, res)
}

// pick is the index of the healthy replica, not in tried, that has replayed need, with the fewest requests in
// flight (the first after a rotating start among equals); -1 if none.
func (rs *replicas) pick(need dbexec.LSN, tried uint64) int {
	n := len(rs.list)
	start := int(rs.next.Add(1) % uint32(n))
	best, load := -1, int64(0)
	for k := range n {
		i := (start + k) % n
		b := rs.list[i]
		if tried&(1<<i) != 0 || !b.healthy.Load() || dbexec.LSN(b.replay.Load()) < need {
			continue
		}
		if l := b.inflight.Load(); best < 0 || l < load {
			best, load = i, l
		}
	}
	return best
}

// fallBack reports whether a read that failed on replica b with err runs again elsewhere: when nothing of it has
// reached the client, its request goes on, and the failure is the replica's. A replica whose connections fail is
// taken out of rotation at once (its checker puts it back).
func (rs *replicas) fallBack(h *handling, b *backend, err error) bool {
	if h.body.Emitted() || h.db.Err() != nil {
		return false
	}
	down := false
	var ae *apierr.Error
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ae):
		switch ae.Code {
		case "PGRST000", "PGRST001":
			down = true
		case "PGRST003": // its pool is exhausted or it does not answer: let another take the read
		default:
			return false
		}
	case errors.As(err, &pe):
		switch pe.Code {
		case "40001", "57P04", "0A000":
			// A recovery conflict cancelled the query; the database was dropped; a standby cannot do it
			// (SERIALIZABLE, …).
		case "57P01", "57P02", "57P03", "53300", "08000", "08001", "08003", "08006", "08P01": // 08P01: PgBouncer's own errors
			down = true
		default:
			return false
		}
	default:
		return false
	}
	b.fallbacks.Add(1)
	if down {
		b.markedDown.Store(time.Now().UnixNano())
		rs.setHealth(b, false, "a request failed on it", err)
	}
	rs.s.log.Debug("read failed on a replica; running it elsewhere", "backend", b.name, "err", err)
	return true
}

// schemaLSN is the primary's WAL position once the schema cache was read on conn: a replica serves the snapshot's
// requests only once it has replayed it (0 without replicas, or when it cannot be read).
func (rs *replicas) schemaLSN(ctx context.Context, conn *pgxpool.Conn) dbexec.LSN {
	if rs == nil {
		return 0
	}
	var text string
	if err := conn.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&text); err != nil {
		rs.s.log.Warn("reading the primary's WAL position after loading the schema cache", "err", err)
		return ^dbexec.LSN(0) // no replica qualifies until the next load
	}
	lsn, _ := dbexec.ParseLSN(text)
	return lsn
}

// walHistory is the primary's WAL position as sampled over time: each sample where it had moved on, the
// oldest dropped past walSamples.
type walHistory struct {
	mu      sync.Mutex
	samples []walSample
}

type walSample struct {
	at  time.Time
	lsn dbexec.LSN
}

const walSamples = 4096

func (w *walHistory) add(at time.Time, lsn dbexec.LSN) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.samples); n > 0 && w.samples[n-1].lsn >= lsn {
		return
	}
	if len(w.samples) == walSamples {
		w.samples = append(w.samples[:0], w.samples[walSamples/2:]...)
	}
	w.samples = append(w.samples, walSample{at, lsn})
}

// lag is how far a replica that had replayed up to replay at now is behind the primary: the WAL bytes between
// replay and the primary's last sampled position, and how long ago the primary had first written past replay
// (the replica has lacked that WAL since about then).
func (w *walHistory) lag(replay dbexec.LSN, now time.Time) (int64, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(w.samples)
	if n == 0 || w.samples[n-1].lsn <= replay {
		return 0, 0
	}
	i := sort.Search(n, func(i int) bool { return w.samples[i].lsn > replay })
	return int64(w.samples[n-1].lsn - replay), max(now.Sub(w.samples[i].at), 0)
}

// backendCollector reports each backend's requests, health, lag and requests in flight.
type backendCollector struct{ rs *replicas }

var (
	backendRequestsDesc = prometheus.NewDesc("pgway_db_backend_requests_total",
		"Exchanges run on the backend: the primary (db-uri) or a read replica (db-replica-uris).", []string{"backend"}, nil)
	backendFallbacksDesc = prometheus.NewDesc("pgway_db_backend_fallbacks_total",
		"Reads that failed on the replica because of it and ran again on another backend.", []string{"backend"}, nil)
	backendHealthyDesc = prometheus.NewDesc("pgway_db_backend_healthy",
		"1 when the backend is in rotation (a replica) or answers its WAL position checks (the primary), else 0.", []string{"backend"}, nil)
	backendLagBytesDesc = prometheus.NewDesc("pgway_db_backend_lag_bytes",
		"WAL bytes the replica had not replayed at its last check.", []string{"backend"}, nil)
	backendLagSecondsDesc = prometheus.NewDesc("pgway_db_backend_lag_seconds",
		"How long the replica had lacked WAL the primary had written, at its last check.", []string{"backend"}, nil)
	backendInFlightDesc = prometheus.NewDesc("pgway_db_backend_in_flight",
		"Exchanges running on the backend.", []string{"backend"}, nil)
)

func (c *backendCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{backendRequestsDesc, backendFallbacksDesc, backendHealthyDesc,
		backendLagBytesDesc, backendLagSecondsDesc, backendInFlightDesc} {
		ch <- d
	}
}

func (c *backendCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, b *backend) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, b.name)
	}
	healthy := func(b *backend) float64 {
		if b.healthy.Load() {
			return 1
		}
		return 0
	}
	for _, b := range append([]*backend{c.rs.primary}, c.rs.list...) {
		ch <- prometheus.MustNewConstMetric(backendRequestsDesc, prometheus.CounterValue, float64(b.requests.Load()), b.name)
		gauge(backendHealthyDesc, healthy(b), b)
		gauge(backendInFlightDesc, float64(b.inflight.Load()), b)
		if b == c.rs.primary {
			continue
		}
		ch <- prometheus.MustNewConstMetric(backendFallbacksDesc, prometheus.CounterValue, float64(b.fallbacks.Load()), b.name)
		gauge(backendLagBytesDesc, float64(b.lagBytes.Load()), b)
		gauge(backendLagSecondsDesc, time.Duration(b.lagNanos.Load()).Seconds(), b)
	}
}
