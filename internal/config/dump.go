package config

import (
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
