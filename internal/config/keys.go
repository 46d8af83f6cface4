package config

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// setter parses a raw value into one Config field.
type setter func(c *Config, v string) error

// shape is how --dump-config writes a key's value: quoted, or bare (booleans, numbers).
type shape uint8

const (
	quoted shape = iota
	bare
)

// keySpec is one configuration key: how it is read and written back, and what it is.
type keySpec struct {
	name  string
	set   setter
	get   func(c *Config) string // the value as the file takes it (unquoted); "" for an unset number
	shape shape
	// fixed keys cannot change while running: they are needed before connecting, or shape the listener, the
	// pool and the servers. A reload keeps their started values, and they cannot come from the database.
	fixed bool
	// pgway marks pgway's own keys (PostgREST has none of that name).
	pgway bool
	doc   string
}

func (k keySpec) fixedKey() keySpec { k.fixed = true; return k }
func (k keySpec) pgwayKey() keySpec { k.pgway = true; return k }

func strKey(name string, f func(*Config) *string, doc string) keySpec {
	return keySpec{name: name, doc: doc,
		set: func(c *Config, v string) error { *f(c) = v; return nil },
		get: func(c *Config) string { return *f(c) }}
}

func enumKey(name string, f func(*Config) *string, doc string, allowed ...string) keySpec {
	return keySpec{name: name, doc: doc,
		set: func(c *Config, v string) error {
			for _, a := range allowed {
				if v == a {
					*f(c) = v
					return nil
				}
			}
			return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
		},
		get: func(c *Config) string { return *f(c) }}
}

// parseBool reads a boolean as PostgREST does (Config.hs coerceBool): the letters of the value, in any case,
// spell true or false ("TRUE", "\"true\""); else an integer, true when positive ("1", "0"). pgway also takes
// on/off/yes/no, as the config file's own on/off literals.
func parseBool(v string) (bool, bool) {
	var letters strings.Builder
	for _, r := range v {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			letters.WriteRune(r)
		}
	}
	switch strings.ToLower(letters.String()) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
		return n > 0, true
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "yes":
		return true, true
	case "off", "no":
		return false, true
	}
	return false, false
}

func boolKey(name string, f func(*Config) *bool, doc string) keySpec {
	return keySpec{name: name, doc: doc, shape: bare,
		set: func(c *Config, v string) error {
			b, ok := parseBool(v)
			if !ok {
				return fmt.Errorf("%q is not a boolean", v)
			}
			*f(c) = b
			return nil
		},
		get: func(c *Config) string { return strconv.FormatBool(*f(c)) }}
}

// parseInt reads an integer; "" is 0 (PostgREST dumps an unset number as "").
func parseInt(v string, what string) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not %s", v, what)
	}
	return n, nil
}

// intKey reads an integer of at least min; unsetZero writes 0 back as "" (nothing set).
func intKey(name string, f func(*Config) *int, min int, unsetZero bool, doc string) keySpec {
	return keySpec{name: name, doc: doc, shape: bare,
		set: func(c *Config, v string) error {
			n, err := parseInt(v, "an integer")
			if err != nil {
				return err
			}
			if n < int64(min) {
				if min == 0 {
					return fmt.Errorf("%q is not a non-negative integer", v)
				}
				return fmt.Errorf("%q is less than %d", v, min)
			}
			*f(c) = int(n)
			return nil
		},
		get: func(c *Config) string {
			if unsetZero && *f(c) == 0 {
				return ""
			}
			return strconv.Itoa(*f(c))
		}}
}

// secondsKey reads a whole number of seconds (negative is an error).
func secondsKey(name string, f func(*Config) *time.Duration, doc string) keySpec {
	return keySpec{name: name, doc: doc, shape: bare,
		set: func(c *Config, v string) error {
			n, err := parseInt(v, "a number of seconds")
			if err != nil || n < 0 {
				return fmt.Errorf("%q is not a number of seconds", v)
			}
			*f(c) = time.Duration(n) * time.Second
			return nil
		},
		get: func(c *Config) string { return strconv.FormatInt(int64(*f(c)/time.Second), 10) }}
}

// listKey reads a comma-separated list.
func listKey(name string, f func(*Config) *[]string, doc string) keySpec {
	return keySpec{name: name, doc: doc,
		set: func(c *Config, v string) error {
			var out []string
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
			*f(c) = out
			return nil
		},
		get: func(c *Config) string { return strings.Join(*f(c), ",") }}
}

// modeKey reads a Unix socket file mode: octal, 600 to 777 (Config.hs parseSocketFileMode).
func modeKey(name string, f func(*Config) *string, doc string) keySpec {
	return keySpec{name: name, doc: doc,
		set: func(c *Config, v string) error {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			if err != nil {
				return fmt.Errorf("%q is not an octal file mode", v)
			}
			if m < 0o600 || m > 0o777 {
				return fmt.Errorf("%q needs to be between 600 and 777", v)
			}
			*f(c) = strings.TrimSpace(v)
			return nil
		},
		get: func(c *Config) string { return *f(c) }}
}

// codings are the content codings server-compression may list, in pgway's default order of preference.
var codings = []string{"zstd", "br", "gzip"}

// compressionKey is server-compression: "off" (or false), "on" (or true: every coding, in the default order), or
// a comma list of codings in pgway's order of preference.
func compressionKey() keySpec {
	return keySpec{name: "server-compression", pgway: true,
		doc: "Compress responses with these codings when the client accepts one (zstd, br, gzip, in this order of preference), or off.",
		set: func(c *Config, v string) error {
			v = strings.ToLower(strings.TrimSpace(v))
			switch v {
			case "off", "false", "none", "":
				c.Compression = []string{}
				return nil
			case "on", "true":
				c.Compression = append([]string(nil), codings...)
				return nil
			}
			var out []string
			for _, p := range strings.Split(v, ",") {
				p = strings.TrimSpace(p)
				if p == "" {
					continue
				}
				known := false
				for _, k := range codings {
					known = known || p == k
				}
				if !known {
					return fmt.Errorf("%q is not a content coding pgway compresses with (zstd, br, gzip), on or off", p)
				}
				for _, o := range out {
					if o == p {
						return fmt.Errorf("%q is listed twice", p)
					}
				}
				out = append(out, p)
			}
			c.Compression = out
			return nil
		},
		get: func(c *Config) string {
			if len(c.Compression) == 0 {
				return "off"
			}
			return strings.Join(c.Compression, ",")
		}}
}

// specs are every key pgway reads, PostgREST's (configuration reference, Config.hs) and pgway's own.
var specs = append([]keySpec{
	strKey("admin-server-host", func(c *Config) *string { return &c.AdminServerHost },
		"Host of the admin server (/live, /ready, /metrics). Default: server-host.").fixedKey(),
	intKey("admin-server-port", func(c *Config) *int { return &c.AdminServerPort }, 0, true,
		"Port of the admin server; it is off unless a port (or admin-server-unix-socket) is set. Cannot be server-port.").fixedKey(),
	strKey("admin-server-unix-socket", func(c *Config) *string { return &c.AdminServerUnixSocket },
		"Unix socket of the admin server; takes precedence over admin-server-port.").fixedKey(),
	modeKey("admin-server-unix-socket-mode", func(c *Config) *string { return &c.AdminServerUnixSocketMode },
		"File mode of admin-server-unix-socket (octal, 600 to 777).").fixedKey(),
	boolKey("admin-server-config-enabled", func(c *Config) *bool { return &c.AdminServerConfigEnabled },
		"Serve the running configuration at /config on the admin server (secrets redacted).").fixedKey(),
	boolKey("admin-server-pprof", func(c *Config) *bool { return &c.AdminServerPprof },
		"Serve Go's runtime profiles at /debug/pprof/ on the admin server (only where the admin port is private).").fixedKey().pgwayKey(),
	enumKey("client-error-verbosity", func(c *Config) *string { return &c.ClientErrorVerbosity },
		"Error bodies: verbose (code, message, details, hint) or minimal (code and message).", "verbose", "minimal"),
	boolKey("db-aggregates-enabled", func(c *Config) *bool { return &c.DBAggregatesEnabled },
		"Allow aggregate functions (count(), sum(), ...) in select."),
	strKey("db-anon-role", func(c *Config) *string { return &c.DBAnonRole },
		"The role of requests without a JWT; none: they are rejected."),
	strKey("db-channel", func(c *Config) *string { return &c.DBChannel },
		"Notification channel that reloads the schema cache and the configuration.").fixedKey(),
	boolKey("db-channel-enabled", func(c *Config) *bool { return &c.DBChannelEnabled },
		"LISTEN on db-channel.").fixedKey(),
	boolKey("db-config", func(c *Config) *bool { return &c.DBConfig },
		"Read the in-database configuration (the authenticator's pgrst.* settings, db-pre-config).").fixedKey(),
	strKey("db-pre-config", func(c *Config) *string { return &c.DBPreConfig },
		"Function that sets pgrst.* settings for the in-database configuration.").fixedKey(),
	listKey("db-extra-search-path", func(c *Config) *[]string { return &c.DBExtraSearchPath },
		"Schemas appended to every request's search_path."),
	listKey("db-hoisted-tx-settings", func(c *Config) *[]string { return &c.DBHoistedTxSettings },
		"Function settings applied to the whole transaction of a call."),
	{name: "db-max-rows", shape: bare, doc: "Cap on the rows any read returns; unset: no cap.",
		set: func(c *Config, v string) error {
			n, err := parseInt(v, "an integer")
			c.DBMaxRows = n
			return err
		},
		get: func(c *Config) string {
			if c.DBMaxRows == 0 {
				return ""
			}
			return strconv.FormatInt(c.DBMaxRows, 10)
		}},
	intKey("db-max-embed-depth", func(c *Config) *int { return &c.DBMaxEmbedDepth }, 0, false,
		"How deep embedded resources may nest in one request (0: no limit).").pgwayKey(),
	intKey("db-max-embeds", func(c *Config) *int { return &c.DBMaxEmbeds }, 0, false,
		"How many embedded resources one request may have (0: no limit).").pgwayKey(),
	boolKey("db-plan-enabled", func(c *Config) *bool { return &c.DBPlanEnabled },
		"Allow Accept: application/vnd.pgrst.plan (EXPLAIN)."),
	intKey("db-pool", func(c *Config) *int { return &c.DBPool }, 1, false,
		"Connections in the pool.").fixedKey(),
	secondsKey("db-pool-acquisition-timeout", func(c *Config) *time.Duration { return &c.DBPoolAcquisitionTimeout },
		"Seconds to wait for a pool connection (then 504 PGRST003).").fixedKey(),
	boolKey("db-pool-automatic-recovery", func(c *Config) *bool { return &c.DBPoolAutomaticRecovery },
		"Reconnect to the database when the connection is lost (pgway always does).").fixedKey(),
	intKey("db-pool-max-idletime", func(c *Config) *int { return &c.DBPoolMaxIdletime }, 0, false,
		"Seconds an idle pool connection is kept.").fixedKey(),
	intKey("db-pool-max-lifetime", func(c *Config) *int { return &c.DBPoolMaxLifetime }, 0, false,
		"Seconds any pool connection is kept.").fixedKey(),
	strKey("db-pre-request", func(c *Config) *string { return &c.DBPreRequest },
		"Function called before every request's statement."),
	boolKey("db-prepared-statements", func(c *Config) *bool { return &c.DBPreparedStatements },
		"Prepare statements; false behind a transaction-pooling proxy (PgBouncer)."),
	strKey("db-root-spec", func(c *Config) *string { return &c.DBRootSpec },
		"Function whose result answers GET / instead of the OpenAPI document."),
	{name: "db-schemas", doc: "Exposed schemas, comma-separated; the first is the default.",
		set: func(c *Config, v string) error {
			var out []string
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					if p == "pg_catalog" || p == "information_schema" {
						return fmt.Errorf("db-schemas does not allow schema: '%s'", p)
					}
					out = append(out, p)
				}
			}
			if len(out) == 0 {
				out = []string{"public"}
			}
			c.DBSchemas = out
			return nil
		},
		get: func(c *Config) string { return strings.Join(c.DBSchemas, ",") }},
	secondsKey("db-statement-timeout", func(c *Config) *time.Duration { return &c.DBStatementTimeout },
		"statement_timeout (seconds) of every request's transaction; 0: the server's setting.").pgwayKey(),
	enumKey("db-tx-end", func(c *Config) *string { return &c.DBTxEnd },
		"How transactions end: commit, commit-allow-override, rollback, rollback-allow-override.",
		"commit", "commit-allow-override", "rollback", "rollback-allow-override"),
	keySpec{name: "db-uri", doc: "Connection URI or libpq key=value string of the authenticator role (\"@/path\": read from a file).",
		set: func(c *Config, v string) error {
			if !strings.HasPrefix(v, "@") {
				if err := checkDBURI(v); err != nil {
					return err
				}
			}
			c.DBURI = v
			return nil
		},
		get: func(c *Config) string {
			if c.DBURI == "" {
				return "postgresql://"
			}
			return c.DBURI
		}}.fixedKey(),
	{name: "jwt-aud", doc: "Required aud claim of JWTs.",
		set: func(c *Config, v string) error {
			if strings.Contains(v, ":") {
				if u, err := url.Parse(v); err != nil || u.Scheme == "" {
					return fmt.Errorf("jwt-aud should be a string or a valid URI")
				}
			}
			c.JWTAud = v
			return nil
		},
		get: func(c *Config) string { return c.JWTAud }},
	intKey("jwt-cache-max-entries", func(c *Config) *int { return &c.JWTCacheMaxEntries }, 0, false,
		"Verified tokens kept in the cache (0: no cache)."),
	intKey("jwt-cache-max-lifetime", func(c *Config) *int { return &c.JWTCacheMaxLifetime }, 0, false,
		"Seconds a verified token stays cached at most (0: until it expires); PostgREST 12-13's key.").pgwayKey(),
	strKey("jwt-role-claim-key", func(c *Config) *string { return &c.JWTRoleClaimKey },
		"Path of the role claim in the JWT: .role, .realm_access.roles[0], $.role."),
	strKey("jwt-secret", func(c *Config) *string { return &c.JWTSecret },
		"HS256/384/512 secret (at least 32 characters), JWK or JWKS (\"@/path\": read from a file)."),
	boolKey("jwt-secret-is-base64", func(c *Config) *bool { return &c.JWTSecretIsBase64 },
		"jwt-secret is base64-encoded."),
	enumKey("log-level", func(c *Config) *string { return &c.LogLevel },
		"Logging level: crit, error, warn, info, debug.", "crit", "error", "warn", "info", "debug").fixedKey(),
	enumKey("log-format", func(c *Config) *string { return &c.LogFormat },
		"Log lines: text (key=value) or json (one object per line).", "text", "json").fixedKey().pgwayKey(),
	{name: "log-query", shape: bare, doc: "Add each request's main SQL statement (text, not arguments) to its log line.",
		set: func(c *Config, v string) error {
			switch strings.TrimSpace(v) {
			case "main-query":
				c.LogQuery = true
				c.Warnings = append(c.Warnings, `log-query: "main-query" is PostgREST 13's form; PostgREST 14 and later take a boolean (true)`)
				return nil
			case "disabled":
				c.LogQuery = false
				return nil
			}
			b, ok := parseBool(v)
			if !ok {
				return fmt.Errorf("%q is not a boolean", v)
			}
			c.LogQuery = b
			return nil
		},
		get: func(c *Config) string { return strconv.FormatBool(c.LogQuery) }},
	enumKey("openapi-mode", func(c *Config) *string { return &c.OpenAPIMode },
		"The OpenAPI document: follow-privileges, ignore-privileges or disabled.",
		"follow-privileges", "ignore-privileges", "disabled"),
	boolKey("openapi-security-active", func(c *Config) *bool { return &c.OpenAPISecurityActive },
		"Document the JWT security scheme (pgway always does)."),
	strKey("openapi-server-proxy-uri", func(c *Config) *string { return &c.OpenAPIServerProxyURI },
		"Base URL of the API in the OpenAPI document."),
	enumKey("openapi-validate", func(c *Config) *string { return &c.OpenAPIValidate },
		"Check requests against the published contract before any SQL: strict or off.", "strict", "off").pgwayKey(),
	enumKey("openapi-version", func(c *Config) *string { return &c.OpenAPIVersion },
		"OpenAPI version of the document: 3.0 or 3.1.", "3.0", "3.1").pgwayKey(),
	listKey("server-cors-allowed-origins", func(c *Config) *[]string { return &c.ServerCorsAllowedOrigins },
		"Origins allowed by CORS, comma-separated; unset: any."),
	intKey("server-batch-max-body-size", func(c *Config) *int { return &c.BatchMaxBodyBytes }, 0, false,
		"Body limit in bytes of an atomic batch (413 PGWAY111 beyond).").pgwayKey(),
	intKey("server-batch-max-operations", func(c *Config) *int { return &c.BatchMaxOperations }, 0, false,
		"Operations one atomic batch may carry (413 PGWAY112 beyond; 0: batches are off).").pgwayKey(),
	strKey("server-host", func(c *Config) *string { return &c.ServerHost },
		"Listen address: a host, or !4 (IPv4), !6 (IPv6), * (any), *4, *6.").fixedKey(),
	compressionKey(),
	intKey("server-compression-min-size", func(c *Config) *int { return &c.CompressionMinSize }, 0, false,
		"Response bodies smaller than this many bytes are not compressed.").pgwayKey(),
	intKey("server-max-body-size", func(c *Config) *int { return &c.MaxBodyBytes }, 0, false,
		"Request body limit in bytes (413 beyond).").fixedKey().pgwayKey(),
	intKey("server-max-header-size", func(c *Config) *int { return &c.MaxHeaderBytes }, 0, false,
		"Limit in bytes on the request line and headers (431 beyond).").fixedKey().pgwayKey(),
	intKey("server-port", func(c *Config) *int { return &c.ServerPort }, 0, false,
		"Listen port.").fixedKey(),
	secondsKey("server-request-timeout", func(c *Config) *time.Duration { return &c.RequestTimeout },
		"Seconds a request may take; past it its statement is cancelled (0: no limit).").pgwayKey(),
	intKey("server-response-buffer-size", func(c *Config) *int { return &c.ResponseBufferBytes }, 0, false,
		"Bytes of a response buffered before it streams (0: never stream).").pgwayKey(),
	boolKey("server-reuseport", func(c *Config) *bool { return &c.ServerReusePort },
		"SO_REUSEPORT on the listen socket (accepted; pgway does not set it).").fixedKey(),
	secondsKey("server-shutdown-timeout", func(c *Config) *time.Duration { return &c.ShutdownTimeout },
		"Seconds SIGTERM lets requests in flight finish before cancelling them.").fixedKey().pgwayKey(),
	intKey("server-stream-body-size", func(c *Config) *int { return &c.StreamBodyBytes }, 0, false,
		"JSON write bodies this large are streamed with COPY (0: never).").pgwayKey(),
	boolKey("server-timing-enabled", func(c *Config) *bool { return &c.ServerTimingEnabled },
		"Send the Server-Timing header."),
	strKey("server-trace-header", func(c *Config) *string { return &c.ServerTraceHeader },
		"A request header (e.g. X-Request-Id) echoed on the response."),
	strKey("server-unix-socket", func(c *Config) *string { return &c.ServerUnixSocket },
		"Listen on this Unix socket instead of server-host and server-port.").fixedKey(),
	modeKey("server-unix-socket-mode", func(c *Config) *string { return &c.ServerUnixSocketMode },
		"File mode of server-unix-socket (octal, 600 to 777).").fixedKey(),
	boolKey("url-use-legacy-target-names", func(c *Config) *bool { return &c.URLLegacyTargetNames },
		"An aliased embed may still be named by its relation in filters (with a Warning)."),
}, replicaSpecs...)

var keys = func() map[string]*keySpec {
	m := make(map[string]*keySpec, len(specs))
	for i := range specs {
		m[specs[i].name] = &specs[i]
	}
	return m
}()

// alias is an older name PostgREST still reads for a key (Config.hs optWithAlias). The key's own name wins
// over the alias from any source, except where PostgREST reads the alias first (db-pool-timeout).
type alias struct {
	key        string
	aliasFirst bool
}

var aliases = map[string]alias{
	"db-schema":        {key: "db-schemas"},
	"max-rows":         {key: "db-max-rows"},
	"pre-request":      {key: "db-pre-request"},
	"root-spec":        {key: "db-root-spec"},
	"role-claim-key":   {key: "jwt-role-claim-key"},
	"secret-is-base64": {key: "jwt-secret-is-base64"},
	// Config.hs: optWithAlias (optInt "db-pool-timeout") (optInt "db-pool-max-idletime").
	"db-pool-timeout": {key: "db-pool-max-idletime", aliasFirst: true},
}

// removed are keys of earlier PostgREST versions that it no longer reads: a file with them loads, with a
// warning (PostgREST ignores them silently).
var removed = map[string]string{
	"db-use-legacy-gucs":                               "removed in PostgREST 12 (the request GUCs are always JSON)",
	"raw-media-types":                                  "removed in PostgREST 12 (use media type handlers: functions returning a domain named as the media type)",
	"server-proxy-uri":                                 "renamed openapi-server-proxy-uri in PostgREST 7; set that key instead",
	"db-embed-default-join":                            "removed in PostgREST 9",
	"db-timezone-enabled":                              "reverted before PostgREST 16 (Prefer: timezone needs no schema cache)",
	"internal-schema-cache-sleep":                      "PostgREST's internal testing key",
	"internal-schema-cache-query-sleep":                "PostgREST's internal testing key",
	"internal-schema-cache-query-sleep-before-queries": "PostgREST's internal testing key",
	"internal-schema-cache-load-sleep":                 "PostgREST's internal testing key",
	"internal-schema-cache-relationship-load-sleep":    "PostgREST's internal testing key",
}

// Keys returns every configuration key Load accepts under its own name (besides app.settings.*), sorted.
func Keys() []string {
	out := make([]string, 0, len(specs))
	for _, k := range specs {
		out = append(out, k.name)
	}
	sort.Strings(out)
	return out
}

// Aliases returns the older key names PostgREST still reads, each with the key it sets.
func Aliases() map[string]string {
	out := make(map[string]string, len(aliases))
	for a, k := range aliases {
		out[a] = k.key
	}
	return out
}

// Removed returns the keys of earlier PostgREST versions that load with a warning, each with why.
func Removed() map[string]string {
	out := make(map[string]string, len(removed))
	for k, why := range removed {
		out[k] = why
	}
	return out
}

// envName is a key's environment variable: PGRST_ and the key in capitals with underscores.
func envName(key string) string {
	return "PGRST_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(key))
}

// checkDBURI accepts postgres:// and postgresql:// URIs and libpq key=value strings.
func checkDBURI(v string) error {
	if strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://") {
		if _, err := url.Parse(v); err != nil {
			return fmt.Errorf("malformed URI: %v", err)
		}
		return nil
	}
	if v == "" {
		return nil
	}
	for _, f := range strings.Fields(v) {
		if !strings.Contains(f, "=") {
			return fmt.Errorf("%q is neither a postgres:// URI nor a key=value connection string", v)
		}
	}
	return nil
}
