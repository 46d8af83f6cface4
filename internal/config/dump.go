package config

import (
	"regexp"
	"sort"
	"strings"
)

// quote writes a string value so that the file format reads it back unchanged: PostgREST's --dump-config
// quotes and escapes double quotes; pgway also escapes backslashes, control characters and $ (as $$, since
// strings interpolate $(NAME)).
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", "$$", "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// value renders one key of c as --dump-config writes it.
func (s *keySpec) value(c *Config) string {
	v := s.get(c)
	if s.name == "admin-server-host" && v == "" {
		v = c.ServerHost
	}
	if s.shape == bare && v != "" {
		return v
	}
	return quote(v)
}

// Dump renders c as PostgREST's --dump-config does: every key = value, sorted, strings quoted, then the
// app.settings.* keys among them; the output is a config file that loads back to c.
func Dump(c Config) string {
	lines := make([]string, 0, len(specs)+len(c.AppSettings))
	for i := range specs {
		lines = append(lines, specs[i].name+" = "+specs[i].value(&c))
	}
	for k, v := range c.AppSettings {
		lines = append(lines, "app.settings."+k+" = "+quote(v))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// Example is the example config file `pgway --example` prints (as PostgREST's --example): every key with
// what it does, commented out at its default.
func Example() string {
	var b strings.Builder
	b.WriteString(`## pgway configuration, in PostgREST's format: run "pgway FILE" (or "postgrest FILE").
## Strings are double-quoted; "$(NAME)" inside one is the environment variable NAME ("$$" is a "$").
## Every key can also be set by its environment variable: PGRST_ and the key in capitals with underscores
## (PGRST_DB_URI), over the file. Keys marked (pgway) are pgway's own.
`)
	d := Default()
	sorted := make([]*keySpec, 0, len(specs))
	for i := range specs {
		sorted = append(sorted, &specs[i])
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, s := range sorted {
		b.WriteString("\n## ")
		b.WriteString(s.doc)
		if s.pgway {
			b.WriteString(" (pgway)")
		}
		b.WriteString("\n# ")
		b.WriteString(s.name)
		b.WriteString(" = ")
		b.WriteString(s.value(&d))
		b.WriteString("\n")
	}
	b.WriteString(`
## Settings for every request's transaction, read with current_setting('app.settings.name')
## (environment: PGRST_APP_SETTINGS_NAME).
# app.settings.name = "value"
`)
	return b.String()
}

// redacted replaces a secret in Redact's output.
const redacted = "REDACTED"

// secretSetting matches app.settings.* names that look like they hold a credential (PostgREST's own docs once
// kept the JWT secret in app.settings.jwt_secret).
var secretSetting = regexp.MustCompile(`(?i)secret|passw|pwd|token|key|credential|private`)

// libpqPassword matches a password in a libpq key=value string (password=x, password = 'a b') or a URI's
// query (password=x&...).
var libpqPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)`)

// Redact returns c with its secrets replaced by REDACTED, for the admin server's /config: jwt-secret, the
// password of db-uri, db-listener-uri and each of db-replica-uris (in the URI's user information, as a password=
// parameter, or in a key=value string) and the app.settings.* values whose names look like credentials (secret,
// password, token, key, …). PostgREST's
// /config (12.x) printed them as they were, which is why it made the endpoint opt-in and then dropped it.
func Redact(c Config) Config {
	if c.JWTSecret != "" {
		c.JWTSecret = redacted
	}
	c.DBURI = redactURI(c.DBURI)
	c.DBListenerURI = redactURI(c.DBListenerURI)
	if len(c.DBReplicaURIs) > 0 {
		uris := make([]string, len(c.DBReplicaURIs))
		for i, u := range c.DBReplicaURIs {
			uris[i] = redactURI(u)
		}
		c.DBReplicaURIs = uris
	}
	if len(c.AppSettings) > 0 {
		app := make(map[string]string, len(c.AppSettings))
		for k, v := range c.AppSettings {
			if secretSetting.MatchString(k) && v != "" {
				v = redacted
			}
			app[k] = v
		}
		c.AppSettings = app
	}
	return c
}

// redactURI hides the password of a connection URI (postgres://user:password@host/db?password=…) or of a
// libpq key=value string.
func redactURI(s string) string {
	if rest, ok := strings.CutPrefix(s, "postgres://"); ok {
		return "postgres://" + redactAuthority(rest)
	}
	if rest, ok := strings.CutPrefix(s, "postgresql://"); ok {
		return "postgresql://" + redactAuthority(rest)
	}
	return libpqPassword.ReplaceAllString(s, "${1}"+redacted)
}

// redactAuthority hides the password in the user information of a URI without its scheme, and any password=
// query parameter. The authority ends at the first /, ? or #, and the user information at its last @, as Go's
// url.Parse (which pgx uses) reads them.
func redactAuthority(rest string) string {
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
		if user, _, ok := strings.Cut(rest[:at], ":"); ok {
			rest = user + ":" + redacted + rest[at:]
		}
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		rest = rest[:q] + libpqPassword.ReplaceAllString(rest[q:], "${1}"+redacted)
	}
	return rest
}
