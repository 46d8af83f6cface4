package config

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// Source is where the configuration is read from, lowest precedence first: a config file, the environment
// (PGRST_*), command-line flags (kebab-case keys).
type Source struct {
	File   string
	Getenv func(string) string
	// Environ lists the environment as KEY=VALUE, for PGRST_APP_SETTINGS_* (and $(NAME) in the file of a
	// variable set to ""); nil: no PGRST_APP_SETTINGS_* is read.
	Environ func() []string
	Flags   map[string]string
}

// Load reads file (none when ""), then PGRST_* variables from getenv, then flags, over Default.
func Load(file string, getenv func(string) string, flags map[string]string) (Config, error) {
	return LoadFrom(Source{File: file, Getenv: getenv, Flags: flags})
}

// rawValue is one value as found, with the name it was given under and where.
type rawValue struct {
	name, value string
}

// LoadFrom reads the configuration as PostgREST does (Config.hs): the file, overridden by the environment,
// overridden (pgway) by flags. A key's own name wins over its alias wherever either is set (PostgREST's
// optWithAlias). Keys PostgREST has removed, and keys it does not know, load from the file with a warning in
// Config.Warnings, as PostgREST ignores them (a file that starts PostgREST starts pgway); an unknown flag is an
// error naming it. jwt-secret and db-uri of the form "@/path" are read from that
// file (the secret without one trailing newline, the URI without surrounding white space).
func LoadFrom(src Source) (Config, error) {
	c := Default()
	var warnings []string
	own := map[string]rawValue{}
	viaAlias := map[string]rawValue{}
	app := map[string]string{}
	add := func(name, value string, flag bool) error {
		switch {
		case strings.HasPrefix(name, "app.settings.") && len(name) > len("app.settings."):
			app[strings.TrimPrefix(name, "app.settings.")] = value
		case keys[name] != nil:
			own[name] = rawValue{name, value}
		case aliases[name].key != "":
			viaAlias[aliases[name].key] = rawValue{name, value}
		case removed[name] != "":
			warnings = append(warnings, fmt.Sprintf("%s is ignored: %s", name, removed[name]))
		case flag:
			return fmt.Errorf("config: %s: unknown key", name)
		default:
			warnings = append(warnings, fmt.Sprintf("%s is not a configuration key: ignored, as PostgREST does (a typo?)", name))
		}
		return nil
	}

	env := envLookup(src)
	if src.File != "" {
		data, err := os.ReadFile(src.File)
		if err != nil {
			return Config{}, fmt.Errorf("config: reading %s: %w", src.File, err)
		}
		order, vals, err := parseFileText(src.File, string(data), env)
		if err != nil {
			return Config{}, err
		}
		for _, k := range order {
			v := vals[k]
			if v.kind == valList {
				return Config{}, fmt.Errorf("config: %s: a list is not a value of this key", k)
			}
			if err := add(k, v.text, false); err != nil {
				return Config{}, err
			}
		}
	}
	if src.Getenv != nil {
		for _, name := range envNames() {
			if v := src.Getenv(envName(name)); v != "" {
				if err := add(name, v, false); err != nil {
					return Config{}, err
				}
			}
		}
	}
	if src.Environ != nil {
		for _, kv := range src.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			if s, ok := strings.CutPrefix(k, "PGRST_APP_SETTINGS_"); ok && s != "" {
				app[s] = v
			}
		}
	}
	flagKeys := make([]string, 0, len(src.Flags))
	for k := range src.Flags {
		flagKeys = append(flagKeys, k)
	}
	sort.Strings(flagKeys)
	for _, k := range flagKeys {
		if err := add(k, src.Flags[k], true); err != nil {
			return Config{}, err
		}
	}

	for key, r := range viaAlias {
		var first bool
		for _, a := range aliases {
			if a.key == key && a.aliasFirst {
				first = true
			}
		}
		if _, set := own[key]; !set || first {
			own[key] = r
		}
	}
	names := make([]string, 0, len(own))
	for k := range own {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		r := own[k]
		if err := set(&c, k, r.value); err != nil {
			return Config{}, fmt.Errorf("config: %s: %w", r.name, err)
		}
	}
	if len(app) > 0 {
		c.AppSettings = app
	}
	c.Warnings = append(warnings, c.Warnings...)
	if err := c.check(); err != nil {
		return Config{}, err
	}
	if err := c.readFiles(true); err != nil {
		return Config{}, err
	}
	s := src
	c.source = &s
	return c, nil
}

// envNames are the names whose PGRST_* variable is read: every key, alias and removed key.
func envNames() []string {
	out := Keys()
	for a := range aliases {
		out = append(out, a)
	}
	for r := range removed {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// envLookup finds $(NAME) of the config file in the environment: with Getenv, and in Environ for a variable
// set to the empty string.
func envLookup(src Source) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if src.Getenv != nil {
			if v := src.Getenv(name); v != "" {
				return v, true
			}
		}
		if src.Environ != nil {
			for _, kv := range src.Environ() {
				if k, v, ok := strings.Cut(kv, "="); ok && k == name {
					return v, true
				}
			}
		}
		return "", false
	}
}

// emptyable keys keep an empty value; for any other key "" means the default, as PostgREST reads an empty
// string as not set (Config.hs optString).
var emptyable = map[string]bool{"db-extra-search-path": true, "admin-server-host": true, "db-uri": true,
	"db-replica-uris": true, "db-listener-uri": true}

// set parses one value of key (its own name) into c.
func set(c *Config, key, v string) error {
	s := keys[key]
	if s == nil {
		return fmt.Errorf("unknown key")
	}
	if v == "" && !emptyable[key] {
		d := Default()
		v = s.get(&d)
	}
	return s.set(c, v)
}

// check applies PostgREST's rules across keys.
func (c *Config) check() error {
	if c.AdminServerPort != 0 && c.AdminServerPort == c.ServerPort {
		return fmt.Errorf("config: admin-server-port cannot be the same as server-port")
	}
	return nil
}

// readFiles reads jwt-secret (and, with uri, db-uri) from a file when its value is "@/path", as PostgREST
// (Config.hs readSecretFile strips one trailing newline, readDbUriFile strips white space).
func (c *Config) readFiles(uri bool) error {
	if name, ok := strings.CutPrefix(c.JWTSecret, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("config: jwt-secret: %w", err)
		}
		c.JWTSecret = strings.TrimSuffix(string(b), "\n")
	}
	if name, ok := strings.CutPrefix(c.DBURI, "@"); ok && uri {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("config: db-uri: %w", err)
		}
		c.DBURI = strings.TrimSpace(string(b))
		if err := checkDBURI(c.DBURI); err != nil {
			return fmt.Errorf("config: db-uri (from %s): %w", name, err)
		}
	}
	return nil
}

// Reread loads the configuration again from where c was loaded (the file and the environment as they are
// now, and the same flags), for SIGUSR2 and NOTIFY 'reload config'. A Config not made by Load is returned as
// it is.
func (c Config) Reread() (Config, error) {
	if c.source == nil {
		return c, nil
	}
	return LoadFrom(*c.source)
}

// KeepFixed gives next the values running has for the keys that cannot change while running (the
// connection, the pool, the listener, the servers) and returns those whose value next had differed.
func KeepFixed(next *Config, running Config) (changed []string) {
	for _, s := range specs {
		if !s.fixed {
			continue
		}
		if s.get(next) != s.get(&running) {
			changed = append(changed, s.name)
		}
	}
	next.DBURI, next.DBConfig, next.DBPreConfig = running.DBURI, running.DBConfig, running.DBPreConfig
	next.DBPool, next.DBPoolAcquisitionTimeout = running.DBPool, running.DBPoolAcquisitionTimeout
	next.DBPoolMaxIdletime, next.DBPoolMaxLifetime = running.DBPoolMaxIdletime, running.DBPoolMaxLifetime
	next.DBPoolAutomaticRecovery = running.DBPoolAutomaticRecovery
	next.DBChannel, next.DBChannelEnabled = running.DBChannel, running.DBChannelEnabled
	next.ServerHost, next.ServerPort, next.ServerReusePort = running.ServerHost, running.ServerPort, running.ServerReusePort
	next.ServerUnixSocket, next.ServerUnixSocketMode = running.ServerUnixSocket, running.ServerUnixSocketMode
	next.AdminServerHost, next.AdminServerPort = running.AdminServerHost, running.AdminServerPort
	next.AdminServerUnixSocket, next.AdminServerUnixSocketMode = running.AdminServerUnixSocket, running.AdminServerUnixSocketMode
	next.AdminServerPprof, next.AdminServerConfigEnabled = running.AdminServerPprof, running.AdminServerConfigEnabled
	next.LogLevel, next.LogFormat = running.LogLevel, running.LogFormat
	next.MaxBodyBytes, next.MaxHeaderBytes, next.ShutdownTimeout = running.MaxBodyBytes, running.MaxHeaderBytes, running.ShutdownTimeout
	next.DBReplicaURIs, next.DBReplicaMaxLag = running.DBReplicaURIs, running.DBReplicaMaxLag
	next.DBReplicaCheckInterval, next.DBListenerURI = running.DBReplicaCheckInterval, running.DBListenerURI
	return changed
}

// Redacted renders the configuration for logging, its secrets hidden as Redact hides them.
func (c Config) Redacted() string {
	r := Redact(c)
	r.source = nil
	return fmt.Sprintf("%+v", r)
}

// ApplyDatabase applies PostgREST's in-database settings (db-config): each pair is a pgrst.* role setting of the
// authenticator with the prefix removed and underscores for dashes ("db_schemas" = db-schemas). Keys that are
// unknown or cannot change while running are returned in ignored; a malformed value is an error naming the key.
// A jwt_secret of the form "@/path" is read from that file.
func ApplyDatabase(c *Config, settings [][2]string) (ignored []string, err error) {
	for _, kv := range settings {
		key := strings.ReplaceAll(kv[0], "_", "-")
		if s := keys[key]; s == nil || s.fixed {
			ignored = append(ignored, kv[0])
			continue
		}
		if err := set(c, key, kv[1]); err != nil {
			return ignored, fmt.Errorf("in-database setting pgrst.%s: config: %s: %w", kv[0], key, err)
		}
	}
	return ignored, c.readFiles(false)
}
