// Package config reads PostgREST-compatible configuration (file < PGRST_* environment < flags) into a Config.
package config

import "time"

// Config is pgway's validated configuration. Field comments give the PostgREST key.
type Config struct {
	DBURI                    string        // db-uri
	DBSchemas                []string      // db-schemas (comma list; first is the default)
	DBAnonRole               string        // db-anon-role ("" = anonymous requests rejected)
	DBPool                   int           // db-pool (default 10)
	DBPoolAcquisitionTimeout time.Duration // db-pool-acquisition-timeout (seconds, default 10)
	DBMaxRows                int64         // db-max-rows (0 = unlimited)
	DBExtraSearchPath        []string      // db-extra-search-path (default "public")
	DBPlanEnabled            bool          // db-plan-enabled
	DBAggregatesEnabled      bool          // db-aggregates-enabled
	DBTxEnd                  string        // db-tx-end: commit | commit-allow-override | rollback | rollback-allow-override
	DBChannel                string        // db-channel (default "pgrst")
	DBChannelEnabled         bool          // db-channel-enabled (default true)
	DBPreRequest             string        // db-pre-request

	ServerHost           string // server-host (default "!4")
	ServerPort           int    // server-port (default 3000)
	ServerUnixSocket     string // server-unix-socket
	ServerUnixSocketMode string // server-unix-socket-mode (default "660")
	// ServerCorsAllowedOrigins is server-cors-allowed-origins (comma list; empty = any origin).
	ServerCorsAllowedOrigins []string

	JWTSecret         string // jwt-secret
	JWTSecretIsBase64 bool   // jwt-secret-is-base64
	JWTAud            string // jwt-aud
	JWTRoleClaimKey   string // jwt-role-claim-key (default ".role")

	LogLevel string // log-level: crit | error | warn | info | debug (default "error")
	// LogFormat is how log lines are written (pgway: log-format): text (default, slog's key=value lines) or
	// json (one JSON object per line).
	LogFormat string

	OpenAPIMode           string // openapi-mode: follow-privileges | ignore-privileges | disabled
	OpenAPIServerProxyURI string // openapi-server-proxy-uri
	OpenAPIVersion        string // openapi-version (pgway): "3.0" (default) | "3.1"
	OpenAPIValidate       string // openapi-validate (pgway): strict (default) | off

	AdminServerPort int // admin-server-port (0 = off)
	// AdminServerUnixSocket serves the admin endpoints on a Unix socket instead of admin-server-port
	// (admin-server-unix-socket); AdminServerUnixSocketMode is its file mode (admin-server-unix-socket-mode,
	// octal, default "660").
	AdminServerUnixSocket     string
	AdminServerUnixSocketMode string
	// AdminServerPprof serves Go's runtime profiles at /debug/pprof/ on the admin server (pgway:
	// admin-server-pprof, default false). They expose internals and cost CPU while taken: enable it only where
	// the admin port is private.
	AdminServerPprof bool
	// AdminServerConfigEnabled serves the running configuration at /config on the admin server
	// (admin-server-config-enabled, PostgREST 12.2.12's key, default false), secrets redacted.
	AdminServerConfigEnabled bool

	DBPreparedStatements bool              // db-prepared-statements (default true)
	DBConfig             bool              // db-config (default true)
	URLLegacyTargetNames bool              // url-use-legacy-target-names (default true)
	ServerTraceHeader    string            // server-trace-header: a request header echoed on the response
	ServerTimingEnabled  bool              // server-timing-enabled
	JWTCacheMaxLifetime  int               // jwt-cache-max-lifetime (seconds, 0 = off)
	AppSettings          map[string]string // app.settings.* (key without the prefix)

	DBPoolMaxIdletime    int    // db-pool-max-idletime (seconds, default 30)
	DBPoolMaxLifetime    int    // db-pool-max-lifetime (seconds, default 1800)
	AdminServerHost      string // admin-server-host (default: server-host)
	JWTCacheMaxEntries   int    // jwt-cache-max-entries (default 1000, 0 = no cache)
	ClientErrorVerbosity string // client-error-verbosity: verbose (default) | minimal (no details, no hint)

	// Accepted for PostgREST config compatibility; pgway's behaviour does not depend on them (see README).
	DBPoolAutomaticRecovery bool     // db-pool-automatic-recovery (pgway always reconnects)
	ServerReusePort         bool     // server-reuseport
	DBHoistedTxSettings     []string // db-hoisted-tx-settings: function settings applied to the whole transaction
	DBRootSpec              string   // db-root-spec: a function answering GET / instead of the document
	DBPreConfig             string   // db-pre-config
	OpenAPISecurityActive   bool     // openapi-security-active (pgway always documents bearerAuth)

	// LogQuery adds each request's main SQL statement (its text, not its arguments) to the request's log line
	// (log-query; PostgREST 14+: a boolean; "main-query"/"disabled" of older versions are read too).
	LogQuery bool

	// MaxBodyBytes is the request body limit (pgway: server-max-body-size, default 10 MiB).
	MaxBodyBytes int
	// ResponseBufferBytes is how large a response body may grow while it is buffered (pgway:
	// server-response-buffer-size, default 256 KiB; 0 = never stream): up to it a read keeps PostgREST's exact
	// semantics, past it the rows stream to the client as PostgreSQL produces them.
	ResponseBufferBytes int
	// MaxHeaderBytes bounds the request line and headers together (pgway: server-max-header-size, default
	// 64 KiB): fasthttp's read buffer, large enough for long in.(…) lists; beyond it 431.
	MaxHeaderBytes int
	// RequestTimeout bounds a request's whole time in pgway (pgway: server-request-timeout, seconds, default
	// 60; 0 = none): past it the request's statement is cancelled in PostgreSQL.
	RequestTimeout time.Duration
	// ShutdownTimeout is how long SIGTERM waits for in-flight requests before cancelling them in PostgreSQL
	// (pgway: server-shutdown-timeout, seconds, default 10).
	ShutdownTimeout time.Duration
	// DBStatementTimeout is set as statement_timeout in every request's transaction before the impersonated
	// role's and the function's own settings, which may override it (pgway: db-statement-timeout, seconds,
	// default 30; 0 = leave PostgreSQL's setting).
	DBStatementTimeout time.Duration
	// DBMaxEmbedDepth and DBMaxEmbeds bound the embedded resources of one request: how deep they nest and how
	// many there are in all (pgway: db-max-embed-depth, default 8; db-max-embeds, default 32; 0 = no limit).
	DBMaxEmbedDepth int
	DBMaxEmbeds     int
	// StreamBodyBytes: JSON write bodies this large or larger are streamed to PostgreSQL with COPY instead of
	// bound as a parameter (pgway: server-stream-body-size, default 1 MiB; 0 = never).
	StreamBodyBytes int
	// Compression lists the content codings responses are compressed with when the client accepts one (pgway:
	// server-compression, default zstd,br,gzip; "off": none), in pgway's order of preference among codings the
	// client accepts equally. Request bodies are decompressed whatever it says.
	Compression []string
	// CompressionMinSize: response bodies smaller than this many bytes are sent uncompressed (pgway:
	// server-compression-min-size, default 8192): below it compression saves no round trip and costs more CPU
	// than it saves bandwidth.
	CompressionMinSize int
	// BatchMaxOperations bounds the operations of one atomic batch (POST / with application/vnd.pgway.batch+json;
	// pgway: server-batch-max-operations, default 100; 0 = batches are off) and BatchMaxBodyBytes its body
	// (pgway: server-batch-max-body-size, default 1 MiB; never more than server-max-body-size).
	BatchMaxOperations int
	BatchMaxBodyBytes  int

	// DBReplicaURIs are the connection URIs of read replicas, each with a pool of db-pool connections (pgway:
	// db-replica-uris, a comma list of postgres:// URIs): reads go to a healthy one (see README "Read
	// replicas").
	DBReplicaURIs []string
	// DBReplicaMaxLag is how far a replica may fall behind the primary and stay in rotation (pgway:
	// db-replica-max-lag, bytes of WAL or time; default 10 s; zero: no bound).
	DBReplicaMaxLag Lag
	// DBReplicaCheckInterval is how often each replica's health and replay position are checked (pgway:
	// db-replica-check-interval, seconds or a duration such as 250ms; default 1 s).
	DBReplicaCheckInterval time.Duration
	// DBListenerURI is where the listener LISTENs (pgway: db-listener-uri; "": db-uri), for a db-uri that goes
	// through a transaction-pooling proxy, which cannot carry LISTEN.
	DBListenerURI string

	// Warnings are what Load tolerated and the caller should log: keys PostgREST has removed, older forms of
	// a value.
	Warnings []string
	// source is what Load read, for Reread.
	source *Source
}

// Default returns the configuration PostgREST uses when nothing is set.
func Default() Config {
	return Config{
		DBSchemas:                 []string{"public"},
		DBPool:                    10,
		DBPoolAcquisitionTimeout:  10 * time.Second,
		DBExtraSearchPath:         []string{"public"},
		DBTxEnd:                   "commit",
		DBChannel:                 "pgrst",
		DBChannelEnabled:          true,
		ServerHost:                "!4",
		ServerPort:                3000,
		ServerUnixSocketMode:      "660",
		AdminServerUnixSocketMode: "660",
		JWTRoleClaimKey:           ".role",
		LogLevel:                  "error",
		LogFormat:                 "text",
		OpenAPIMode:               "follow-privileges",
		OpenAPIVersion:            "3.0",
		OpenAPIValidate:           "strict",
		MaxBodyBytes:              10 << 20,
		MaxHeaderBytes:            64 << 10,
		ResponseBufferBytes:       256 << 10,
		RequestTimeout:            60 * time.Second,
		ShutdownTimeout:           10 * time.Second,
		DBStatementTimeout:        30 * time.Second,
		DBMaxEmbedDepth:           8,
		DBMaxEmbeds:               32,
		StreamBodyBytes:           1 << 20,
		Compression:               []string{"zstd", "br", "gzip"},
		CompressionMinSize:        8 << 10,
		DBReplicaMaxLag:           Lag{Time: 10 * time.Second},
		DBReplicaCheckInterval:    time.Second,
		BatchMaxOperations:        100,
		BatchMaxBodyBytes:         1 << 20,
		DBPreparedStatements:      true,
		DBConfig:                  true,
		URLLegacyTargetNames:      true,
		DBPoolMaxIdletime:         30,
		DBPoolMaxLifetime:         1800,
		JWTCacheMaxEntries:        1000,
		ClientErrorVerbosity:      "verbose",
		DBPoolAutomaticRecovery:   true,
		DBHoistedTxSettings:       []string{"statement_timeout", "plan_filter.statement_cost_limit", "default_transaction_isolation"},
	}
}
