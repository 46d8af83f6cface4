package sidecar

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/auth"
	"github.com/pgway/pgway/sidecar/internal/dbexec"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
	"github.com/pgway/pgway/sidecar/internal/validate"
	"github.com/pgway/pgway/versioning"
)

// snapshot is everything a request reads that a reload may change, built together and published by one
// atomic pointer: the schema cache (nil until the first load) and what is compiled from it (validators,
// OpenAPI documents, role privileges), the version catalog, the impersonated roles' settings, and the
// reloadable configuration. Nothing in it changes once published.
type snapshot struct {
	cache        *schemacache.Cache
	validators   *validate.Set
	versions     *versioning.Catalog
	roleSettings schemacache.RoleSettings
	// roleIsolation are the isolation levels the impersonated roles' settings name (taken out of roleSettings).
	roleIsolation map[string]dbexec.Isolation
	set           *settings
	// rules are the configuration the planner applies.
	rules plan.Rules
	// docs are the OpenAPI documents and role privileges of this snapshot, built on demand.
	docs *docCache
	// generation numbers schema cache loads (prepared statements of an older one are dropped).
	generation uint64
	// reqs are the plans of reads by request shape, made under this snapshot.
	reqs *reqCache
	// lsn is the primary's WAL position once the schema cache was read: with read replicas, one serves this
	// snapshot's reads once it has replayed that far (replicas.go).
	lsn dbexec.LSN
}

// newSnapshot assembles a snapshot of cache (nil: not loaded yet) under set.
func newSnapshot(cache *schemacache.Cache, set *settings, generation uint64) *snapshot {
	snap := &snapshot{cache: cache, set: set, generation: generation, versions: versioning.New(nil), reqs: newReqCache()}
	cfg := &set.cfg
	snap.rules = plan.Rules{
		Limits:            plan.Limits{MaxRows: cfg.DBMaxRows, MaxEmbedDepth: cfg.DBMaxEmbedDepth, MaxEmbeds: cfg.DBMaxEmbeds},
		PlanEnabled:       cfg.DBPlanEnabled,
		AggregatesEnabled: cfg.DBAggregatesEnabled,
		TxEnd:             cfg.DBTxEnd,
		StreamBodyBytes:   cfg.StreamBodyBytes,
		RootSpec:          cfg.DBRootSpec,
		HoistedSettings:   cfg.DBHoistedTxSettings,
		StrictTargetNames: !cfg.URLLegacyTargetNames,
	}
	snap.docs = newDocCache()
	return snap
}

// settings are the reloadable configuration and what is derived from it.
type settings struct {
	cfg  config.Config
	auth *auth.Authenticator
	exec dbexec.Executor
	// searchPaths maps each exposed schema to its quoted search_path value (schema + extra search path).
	searchPaths map[string]string
	// schemaList is the comma list of exposed schemas for PGRST106 hints.
	schemaList string
	// codings are server-compression's content codings, in its order (none: responses are not compressed).
	codings []coding
}

// cacheEntries maps jwt-cache-max-entries (0 disables the cache) to auth's convention (negative disables).
func cacheEntries(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// newSettings derives the authenticator, executor and search paths from cfg.
func (s *Server) newSettings(cfg config.Config) (*settings, error) {
	if len(cfg.DBSchemas) == 0 {
		return nil, errors.New("db-schemas: at least one schema is required")
	}
	a, err := auth.New(auth.Options{
		Secret:           []byte(cfg.JWTSecret),
		SecretIsBase64:   cfg.JWTSecretIsBase64,
		Audience:         cfg.JWTAud,
		RoleClaimKey:     cfg.JWTRoleClaimKey,
		AnonRole:         cfg.DBAnonRole,
		CacheMaxLifetime: time.Duration(cfg.JWTCacheMaxLifetime) * time.Second,
		CacheMaxEntries:  cacheEntries(cfg.JWTCacheMaxEntries),
		CacheStats:       s.jwtStats(),
	})
	if err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	set := &settings{
		cfg:  cfg,
		auth: a,
		exec: dbexec.Executor{Pool: s.pool, AcquireTimeout: cfg.DBPoolAcquisitionTimeout, NoPrepare: !cfg.DBPreparedStatements,
			CancelHandler: cancelHandler},
		searchPaths: make(map[string]string, len(cfg.DBSchemas)),
		schemaList:  strings.Join(cfg.DBSchemas, ", "),
		codings:     parseCodings(cfg.Compression),
	}
	if set.exec.AcquireTimeout <= 0 {
		set.exec.AcquireTimeout = 10 * time.Second
	}
	if ms := cfg.DBStatementTimeout.Milliseconds(); ms > 0 {
		set.exec.StatementTimeout = strconv.FormatInt(ms, 10)
	}
	if cfg.DBPreRequest != "" {
		set.exec.PreRequest = qualifiedName(cfg.DBPreRequest)
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.AppSettings)) {
		set.exec.AppSettings = append(set.exec.AppSettings, [2]string{k, cfg.AppSettings[k]})
	}
	for _, sch := range cfg.DBSchemas {
		// The schema, then db-extra-search-path as given: PostgREST keeps a schema that is in both twice
		// ("public", "public", "extensions"), which is what current_setting('search_path') and a plan's Settings show.
		parts := []string{sqlgen.QuoteIdent(sch)}
		for _, x := range cfg.DBExtraSearchPath {
			if x != "" {
				parts = append(parts, sqlgen.QuoteIdent(x))
			}
		}
		set.searchPaths[sch] = strings.Join(parts, ", ")
	}
	return set, nil
}

// qualifiedName quotes a configured function name ("schema.fn" or "fn") for SQL.
func qualifiedName(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = sqlgen.QuoteIdent(p)
	}
	return strings.Join(parts, ".")
}

// schemaFor picks the request's schema from its profile header (PGRST106 when not exposed).
func (snap *snapshot) schemaFor(req *request.Request) (string, error) {
	schemas := snap.set.cfg.DBSchemas
	if req.Schema == "" {
		return schemas[0], nil
	}
	if i := slices.Index(schemas, req.Schema); i >= 0 {
		return schemas[i], nil // the configured string: req.Schema may live in a request buffer
	}
	return "", apierr.New(http.StatusNotAcceptable, "PGRST106", "Invalid schema: "+req.Schema).
		WithHint("Only the following schemas are exposed: " + snap.set.schemaList)
}

// Reload rebuilds the schema cache with the version catalog and the impersonated roles' settings, and
// publishes them with the running configuration as one snapshot; requests in flight keep the one they started
// with.
func (s *Server) Reload(ctx context.Context) error {
	return s.reload(ctx, s.snap.Load().set)
}

// reload loads the catalog under set and publishes the snapshot; the load is counted in the metrics
// (pgrst_schema_cache_loads_total, _query_time_seconds) and logged (logLoad).
func (s *Server) reload(ctx context.Context, set *settings) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	start := time.Now()
	snap, err := s.load(ctx, set)
	if err != nil {
		if ctx.Err() == nil {
			s.metrics.schemaLoaded(nil, err)
		}
		return err
	}
	s.snap.Store(snap)
	s.metrics.schemaLoaded(snap.cache, nil)
	s.logLoad(snap, time.Since(start))
	return nil
}

// load reads the schema cache, the version catalog and the impersonated roles' settings under set, on one
// connection, into a new snapshot.
func (s *Server) load(ctx context.Context, set *settings) (*snapshot, error) {
	lctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	conn, err := s.pool.Acquire(lctx)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	defer conn.Release()
	// The columns are read on a second connection, in parallel with the other catalog queries: an idle pooled
	// one when the pool has two (one is left for requests), else, while the pool is below its size (as at
	// start), one taken out of the pool for this load and closed after it (none is left idle, none waited for).
	conns := []schemacache.Querier{conn}
	switch st := s.pool.Stat(); {
	case st.IdleConns() >= 2:
		if conn2, err := s.pool.Acquire(lctx); err == nil {
			defer conn2.Release()
			conns = append(conns, conn2)
		}
	case st.TotalConns() < st.MaxConns():
		if conn2, err := s.pool.Acquire(lctx); err == nil {
			own := conn2.Hijack()
			defer own.Close(context.Background())
			conns = append(conns, own)
		}
	}
	c, err := schemacache.LoadOn(lctx, conns, set.cfg.DBSchemas)
	if err != nil {
		return nil, fmt.Errorf("loading schema cache: %w", err)
	}
	vc, err := versioning.Load(lctx, conn)
	if err != nil {
		return nil, err
	}
	rs, err := schemacache.LoadRoleSettings(lctx, conn)
	if err != nil {
		return nil, err
	}
	lsn := s.replicas.schemaLSN(lctx, conn)
	snap := newSnapshot(c, set, s.snap.Load().generation+1)
	snap.lsn = lsn
	snap.versions, snap.validators = vc, validate.Compile(c)
	snap.roleSettings, snap.roleIsolation = splitIsolation(rs)
	return snap, nil
}

// ReloadConfig reads the configuration again, as PostgREST does on SIGUSR2 and NOTIFY 'reload config': the
// config file and the environment (and the same flags) as they are now, then the database's pgrst.* settings
// of the authenticator role (db-config) over them; then it reloads the schema cache under the result and
// publishes both as one snapshot. Keys that cannot change while running (connection, pool, listener, servers)
// keep their started values, and those that changed are logged. A configuration that does not load or
// validate keeps the running one.
func (s *Server) ReloadConfig(ctx context.Context) error {
	running := s.snap.Load().set
	cfg, err := s.cfg.Reread()
	if err != nil {
		s.log.Error("configuration rejected; keeping the running one", "err", err)
		return s.reload(ctx, running)
	}
	if !slices.Equal(cfg.Warnings, s.cfg.Warnings) { // the ones of the start were logged then
		for _, w := range cfg.Warnings {
			s.log.Warn("configuration: " + w)
		}
	}
	if changed := config.KeepFixed(&cfg, s.cfg); len(changed) > 0 {
		s.log.Warn("configuration keys that cannot change while running were changed and are ignored until a restart",
			"keys", changed)
	}
	pairs := 0
	if s.cfg.DBConfig {
		lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		conn, err := s.pool.Acquire(lctx)
		if err != nil {
			return fmt.Errorf("connecting: %w", err)
		}
		preConfig := ""
		if s.cfg.DBPreConfig != "" {
			preConfig = qualifiedName(s.cfg.DBPreConfig)
		}
		settings, err := schemacache.LoadDBSettings(lctx, conn, preConfig, config.Keys())
		conn.Release()
		if err != nil {
			return err
		}
		pairs = len(settings)
		ignored, err := config.ApplyDatabase(&cfg, settings)
		if err != nil {
			s.log.Error("in-database configuration rejected; keeping the running one", "err", err)
			return s.reload(ctx, running)
		}
		if len(ignored) > 0 {
			s.log.Warn("in-database settings ignored (unknown, or fixed while running)", "keys", ignored)
		}
	}
	set, err := s.newSettings(cfg)
	if err != nil {
		s.log.Error("configuration rejected; keeping the running one", "err", err)
		return s.reload(ctx, running)
	}
	s.notice("config reloaded", "in_database_settings", pairs)
	return s.reload(ctx, set)
}
