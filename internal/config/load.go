package config

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// setter parses a raw value into one Config field.
type setter func(c *Config, v string) error

func str(f func(*Config) *string) setter {
	return func(c *Config, v string) error { *f(c) = v; return nil }
}

func enum(f func(*Config) *string, allowed ...string) setter {
	return func(c *Config, v string) error {
		for _, a := range allowed {
			if v == a {
				*f(c) = v
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}

func integer(f func(*Config) *int) setter {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		*f(c) = n
		return nil
	}
}

// seconds reads a whole number of seconds (negative is an error).
func seconds(f func(*Config) *time.Duration) setter {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a number of seconds", v)
		}
		*f(c) = time.Duration(n) * time.Second
		return nil
	}
}

// nonNegative reads an integer that is 0 or more.
func nonNegative(f func(*Config) *int) setter {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a non-negative integer", v)
		}
		*f(c) = n
		return nil
	}
}

func boolean(f func(*Config) *bool) setter {
	return func(c *Config, v string) error {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "on", "yes":
			*f(c) = true
		case "false", "off", "no":
			*f(c) = false
		default:
			return fmt.Errorf("%q is not a boolean", v)
		}
		return nil
	}
}

func list(f func(*Config) *[]string) setter {
	return func(c *Config, v string) error {
		var out []string
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		*f(c) = out
		return nil
	}
}

var keys = map[string]setter{
	"db-uri": func(c *Config, v string) error {
		if err := checkDBURI(v); err != nil {
			return err
		}
		c.DBURI = v
		return nil
	},
	"db-schemas":   list(func(c *Config) *[]string { return &c.DBSchemas }),
	"db-schema":    list(func(c *Config) *[]string { return &c.DBSchemas }),
	"db-anon-role": str(func(c *Config) *string { return &c.DBAnonRole }),
	"db-pool":      integer(func(c *Config) *int { return &c.DBPool }),
	"db-pool-acquisition-timeout": func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		c.DBPoolAcquisitionTimeout = time.Duration(n) * time.Second
		return nil
	},
	"db-max-rows": func(c *Config, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		c.DBMaxRows = n
		return nil
	},
	"db-extra-search-path":        list(func(c *Config) *[]string { return &c.DBExtraSearchPath }),
	"db-plan-enabled":             boolean(func(c *Config) *bool { return &c.DBPlanEnabled }),
	"db-aggregates-enabled":       boolean(func(c *Config) *bool { return &c.DBAggregatesEnabled }),
	"db-tx-end":                   enum(func(c *Config) *string { return &c.DBTxEnd }, "commit", "commit-allow-override", "rollback", "rollback-allow-override"),
	"db-channel":                  str(func(c *Config) *string { return &c.DBChannel }),
	"db-channel-enabled":          boolean(func(c *Config) *bool { return &c.DBChannelEnabled }),
	"db-pre-request":              str(func(c *Config) *string { return &c.DBPreRequest }),
	"db-prepared-statements":      boolean(func(c *Config) *bool { return &c.DBPreparedStatements }),
	"db-config":                   boolean(func(c *Config) *bool { return &c.DBConfig }),
	"server-host":                 str(func(c *Config) *string { return &c.ServerHost }),
	"server-port":                 integer(func(c *Config) *int { return &c.ServerPort }),
	"server-cors-allowed-origins": list(func(c *Config) *[]string { return &c.ServerCorsAllowedOrigins }),
	"server-unix-socket":          str(func(c *Config) *string { return &c.ServerUnixSocket }),
	"server-unix-socket-mode":     str(func(c *Config) *string { return &c.ServerUnixSocketMode }),
	"server-timing-enabled":       boolean(func(c *Config) *bool { return &c.ServerTimingEnabled }),
	"server-stream-body-size":     integer(func(c *Config) *int { return &c.StreamBodyBytes }),
	"server-max-body-size":        integer(func(c *Config) *int { return &c.MaxBodyBytes }),
	"server-max-header-size":      nonNegative(func(c *Config) *int { return &c.MaxHeaderBytes }),
	"server-response-buffer-size": nonNegative(func(c *Config) *int { return &c.ResponseBufferBytes }),
	"server-request-timeout":      seconds(func(c *Config) *time.Duration { return &c.RequestTimeout }),
	"server-shutdown-timeout":     seconds(func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
	"db-statement-timeout":        seconds(func(c *Config) *time.Duration { return &c.DBStatementTimeout }),
	"db-max-embed-depth":          nonNegative(func(c *Config) *int { return &c.DBMaxEmbedDepth }),
	"db-max-embeds":               nonNegative(func(c *Config) *int { return &c.DBMaxEmbeds }),
	"admin-server-port":           integer(func(c *Config) *int { return &c.AdminServerPort }),
	"admin-server-pprof":          boolean(func(c *Config) *bool { return &c.AdminServerPprof }),
	"jwt-secret":                  str(func(c *Config) *string { return &c.JWTSecret }),
	"jwt-secret-is-base64":        boolean(func(c *Config) *bool { return &c.JWTSecretIsBase64 }),
	"jwt-aud":                     str(func(c *Config) *string { return &c.JWTAud }),
	"jwt-role-claim-key":          str(func(c *Config) *string { return &c.JWTRoleClaimKey }),
	"jwt-cache-max-lifetime":      integer(func(c *Config) *int { return &c.JWTCacheMaxLifetime }),
	"log-level":                   enum(func(c *Config) *string { return &c.LogLevel }, "crit", "error", "warn", "info", "debug"),
	"openapi-mode":                enum(func(c *Config) *string { return &c.OpenAPIMode }, "follow-privileges", "ignore-privileges", "disabled"),
	"openapi-server-proxy-uri":    str(func(c *Config) *string { return &c.OpenAPIServerProxyURI }),
	"openapi-version":             enum(func(c *Config) *string { return &c.OpenAPIVersion }, "3.0", "3.1"),
	"db-pool-max-idletime":        integer(func(c *Config) *int { return &c.DBPoolMaxIdletime }),
	"db-pool-max-lifetime":        integer(func(c *Config) *int { return &c.DBPoolMaxLifetime }),
	"db-pool-automatic-recovery":  boolean(func(c *Config) *bool { return &c.DBPoolAutomaticRecovery }),
	"admin-server-host":           str(func(c *Config) *string { return &c.AdminServerHost }),
	"jwt-cache-max-entries":       integer(func(c *Config) *int { return &c.JWTCacheMaxEntries }),
	"client-error-verbosity":      enum(func(c *Config) *string { return &c.ClientErrorVerbosity }, "verbose", "minimal"),
	"server-reuseport":            boolean(func(c *Config) *bool { return &c.ServerReusePort }),
	"db-hoisted-tx-settings":      list(func(c *Config) *[]string { return &c.DBHoistedTxSettings }),
	"db-root-spec":                str(func(c *Config) *string { return &c.DBRootSpec }),
	"db-pre-config":               str(func(c *Config) *string { return &c.DBPreConfig }),
	"log-query":                   enum(func(c *Config) *string { return &c.LogQuery }, "disabled", "main-query"),
	"openapi-security-active":     boolean(func(c *Config) *bool { return &c.OpenAPISecurityActive }),
	"server-trace-header":         str(func(c *Config) *string { return &c.ServerTraceHeader }),
	"url-use-legacy-target-names": boolean(func(c *Config) *bool { return &c.URLLegacyTargetNames }),
	"openapi-validate":            enum(func(c *Config) *string { return &c.OpenAPIValidate }, "strict", "off"),
}

// Keys returns every configuration key Load accepts (besides app.settings.*), sorted.
func Keys() []string {
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
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

func set(c *Config, key, v string) error {
	if strings.HasPrefix(key, "app.settings.") {
		if c.AppSettings == nil {
			c.AppSettings = map[string]string{}
		}
		c.AppSettings[strings.TrimPrefix(key, "app.settings.")] = v
		return nil
	}
	s, ok := keys[key]
	if !ok {
		return fmt.Errorf("config: %s: unknown key", key)
	}
	if err := s(c, v); err != nil {
		return fmt.Errorf("config: %s: %w", key, err)
	}
	return nil
}

// Load starts from Default, applies the config file (if file != ""), then PGRST_* variables from getenv,
// then flags (kebab-case keys), and returns the result or the first error.
func Load(file string, getenv func(string) string, flags map[string]string) (Config, error) {
	c := Default()
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return Config{}, fmt.Errorf("config: reading %s: %w", file, err)
		}
		if err := parseFile(&c, string(data)); err != nil {
			return Config{}, err
		}
	}
	if getenv != nil {
		for _, k := range Keys() {
			if v := getenv("PGRST_" + strings.ToUpper(strings.ReplaceAll(k, "-", "_"))); v != "" {
				if err := set(&c, k, v); err != nil {
					return Config{}, err
				}
			}
		}
	}
	fk := make([]string, 0, len(flags))
	for k := range flags {
		fk = append(fk, k)
	}
	sort.Strings(fk)
	for _, k := range fk {
		if err := set(&c, k, flags[k]); err != nil {
			return Config{}, err
		}
	}
	return c, nil
}

func parseFile(c *Config, text string) error {
	sc := bufio.NewScanner(strings.NewReader(text))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("config: line %d: expected key = value", n)
		}
		k = strings.TrimSpace(k)
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, `"`) {
			end := closingQuote(v)
			if end < 0 {
				return fmt.Errorf("config: %s: unterminated string", k)
			}
			s, err := strconv.Unquote(v[:end+1])
			if err != nil {
				return fmt.Errorf("config: %s: bad string: %v", k, err)
			}
			v = s
		} else if i := strings.Index(v, "#"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		if err := set(c, k, v); err != nil {
			return err
		}
	}
	return sc.Err()
}

func closingQuote(v string) int {
	for i := 1; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// Redacted renders the configuration for logging with secrets (JWT secret, db-uri password) hidden.
func (c Config) Redacted() string {
	r := c
	if r.JWTSecret != "" {
		r.JWTSecret = "<redacted>"
	}
	if u, err := url.Parse(r.DBURI); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "redacted")
		}
		r.DBURI = u.String()
	} else if strings.Contains(r.DBURI, "password=") {
		r.DBURI = "<redacted>"
	}
	return fmt.Sprintf("%+v", r)
}

// fixedKeys cannot come from the database (db-config): they are needed before connecting, or they shape the
// listener and the pool, which a running server keeps.
var fixedKeys = map[string]bool{
	"db-uri": true, "db-config": true, "db-pool": true, "db-pool-acquisition-timeout": true,
	"db-channel": true, "db-channel-enabled": true, "server-host": true, "server-port": true,
	"server-unix-socket": true, "server-unix-socket-mode": true, "server-max-body-size": true,
	"server-max-header-size": true, "server-shutdown-timeout": true,
	"admin-server-port": true, "admin-server-pprof": true, "log-level": true, "db-pool-max-idletime": true, "db-pool-max-lifetime": true,
	"db-pool-automatic-recovery": true, "admin-server-host": true, "server-reuseport": true, "db-pre-config": true,
}

// ApplyDatabase applies PostgREST's in-database settings (db-config): each pair is a pgrst.* role setting of the
// authenticator with the prefix removed and underscores for dashes ("db_schemas" = db-schemas). Keys that are
// unknown or cannot change while running are returned in ignored; a malformed value is an error naming the key.
func ApplyDatabase(c *Config, settings [][2]string) (ignored []string, err error) {
	for _, kv := range settings {
		key := strings.ReplaceAll(kv[0], "_", "-")
		if _, ok := keys[key]; !ok || fixedKeys[key] {
			ignored = append(ignored, kv[0])
			continue
		}
		if err := set(c, key, kv[1]); err != nil {
			return ignored, fmt.Errorf("in-database setting pgrst.%s: %w", kv[0], err)
		}
	}
	return ignored, nil
}
