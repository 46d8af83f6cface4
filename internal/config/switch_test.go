package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgway/pgway/internal/config"
)

func mapEnv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func environ(m map[string]string) func() []string {
	return func() []string {
		var out []string
		for k, v := range m {
			out = append(out, k+"="+v)
		}
		return out
	}
}

func write(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAliases: PostgREST's older key names load (Config.hs optWithAlias), and a key's own name beats its
// alias wherever each is set, but for db-pool-timeout, which PostgREST reads before db-pool-max-idletime.
func TestAliases(t *testing.T) {
	c, err := config.Load(filepath.Join("testdata", "aliases.conf"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.DBSchemas, []string{"through_alias"}) || c.DBPoolMaxIdletime != 5 || c.DBMaxRows != 1000 ||
		c.DBPreRequest != "check_alias" || c.JWTRoleClaimKey != ".aliased" || c.DBRootSpec != "open_alias" || !c.JWTSecretIsBase64 {
		t.Fatalf("aliases not applied: %+v", c)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings for aliases: %q", c.Warnings)
	}

	c, err = config.Load(write(t, "c.conf", "db-max-rows = 10\nmax-rows = 20\ndb-pool-max-idletime = 7\ndb-pool-timeout = 8\n"),
		mapEnv(map[string]string{"PGRST_MAX_ROWS": "30", "PGRST_DB_SCHEMA": "from_env"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.DBMaxRows != 10 || c.DBPoolMaxIdletime != 8 || !slices.Equal(c.DBSchemas, []string{"from_env"}) {
		t.Fatalf("alias precedence: max rows %d, idletime %d, schemas %v", c.DBMaxRows, c.DBPoolMaxIdletime, c.DBSchemas)
	}
	c, err = config.Load("", mapEnv(map[string]string{"PGRST_MAX_ROWS": "30", "PGRST_SECRET_IS_BASE64": "true"}), nil)
	if err != nil || c.DBMaxRows != 30 || !c.JWTSecretIsBase64 {
		t.Fatalf("aliases from the environment: %v %+v", err, c)
	}
	if got := config.Aliases()["max-rows"]; got != "db-max-rows" {
		t.Errorf("Aliases()[max-rows] = %q", got)
	}
}

// TestRemovedKeys: keys PostgREST no longer reads load with a warning instead of failing.
func TestRemovedKeys(t *testing.T) {
	c, err := config.Load(filepath.Join("testdata", "removed.conf"),
		mapEnv(map[string]string{"PGRST_DB_USE_LEGACY_GUCS": "true"}), map[string]string{"raw-media-types": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.DBSchemas, []string{"api"}) {
		t.Fatalf("schemas %v", c.DBSchemas)
	}
	joined := strings.Join(c.Warnings, "\n")
	for _, k := range []string{"db-use-legacy-gucs is ignored", "raw-media-types is ignored", "server-proxy-uri is ignored: renamed openapi-server-proxy-uri"} {
		if !strings.Contains(joined, k) {
			t.Errorf("no warning %q in %q", k, c.Warnings)
		}
	}
	// An unknown key in the file is ignored with a warning, as PostgREST ignores it; an unknown flag is an error.
	if c, err := config.Load(write(t, "c.conf", "db-use-legacy-gucs = true\nno-such-key = 1\n"), nil, nil); err != nil ||
		!strings.Contains(strings.Join(c.Warnings, "\n"), "no-such-key is not a configuration key") {
		t.Errorf("an unknown key in the file: %v %q", err, c.Warnings)
	}
	if _, err := config.Load("", nil, map[string]string{"no-such-key": "1"}); err == nil ||
		err.Error() != "config: no-such-key: unknown key" {
		t.Errorf("an unknown flag: %v", err)
	}
}

// TestBooleans: booleans as PostgREST's coerceBool reads them, from the file and the environment.
func TestBooleans(t *testing.T) {
	c, err := config.Load(filepath.Join("testdata", "booleans.conf"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.DBChannelEnabled || c.DBPreparedStatements || !c.JWTSecretIsBase64 || !c.DBPlanEnabled || !c.DBAggregatesEnabled ||
		!c.ServerTimingEnabled || c.OpenAPISecurityActive {
		t.Fatalf("booleans: %+v", c)
	}
	for v, want := range map[string]bool{"1": true, "0": false, "true": true, "False": false, "TRUE": true, "-1": false, "yes": true, "off": false} {
		c, err := config.Load("", mapEnv(map[string]string{"PGRST_DB_PLAN_ENABLED": v}), nil)
		if err != nil || c.DBPlanEnabled != want {
			t.Errorf("PGRST_DB_PLAN_ENABLED=%s: %v, %v", v, c.DBPlanEnabled, err)
		}
	}
	if _, err := config.Load("", mapEnv(map[string]string{"PGRST_DB_PLAN_ENABLED": "maybe"}), nil); err == nil ||
		!strings.Contains(err.Error(), `"maybe" is not a boolean`) {
		t.Errorf("maybe: %v", err)
	}
}

// TestLogQuery: log-query is a boolean since PostgREST 14; PostgREST 13's "main-query" and "disabled" load too.
func TestLogQuery(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "false": false, `"main-query"`: true, `"disabled"`: false} {
		c, err := config.Load(write(t, "c.conf", "log-query = "+v+"\n"), nil, nil)
		if err != nil || c.LogQuery != want {
			t.Errorf("log-query = %s: %v, %v", v, c.LogQuery, err)
		}
		if v == `"main-query"` && len(c.Warnings) != 1 {
			t.Errorf("main-query: warnings %q", c.Warnings)
		}
	}
}

// TestFileSyntax: comments, interpolation of the environment and of earlier keys, $$, \u escapes, #; directive
// comments, numbers, groups and import, as configurator-pg reads them.
func TestFileSyntax(t *testing.T) {
	c, err := config.LoadFrom(config.Source{File: filepath.Join("testdata", "syntax.conf"),
		Environ: environ(map[string]string{"SCHEMA_FROM_ENV": "tenant"})})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"schemas":     []string{"api", "tenant"},
		"pre-request": "web_anon_check",
		"aud":         "price: $5",
		"trace":       "X-été",
		"max-rows":    int64(1000),
		"app":         map[string]string{"region": "eu", "greeting": "hello from eu", "plain": "x"},
		"search path": []string{"public", "extensions"},
	}
	got := map[string]any{
		"schemas": c.DBSchemas, "pre-request": c.DBPreRequest, "aud": c.JWTAud, "trace": c.ServerTraceHeader,
		"max-rows": c.DBMaxRows, "app": c.AppSettings, "search path": c.DBExtraSearchPath,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	for text, wantErr := range map[string]string{
		`db-anon-role = "$(NO_SUCH_VARIABLE_X)"`: "no such variable: 'NO_SUCH_VARIABLE_X'",
		`db-anon-role = "unterminated`:           "unterminated string",
		"app {\n x = 1\n":                        "missing } of a group",
		`db-schemas = ["a", "b"]`:                "a list is not a value of this key",
	} {
		if _, err := config.Load(write(t, "c.conf", text+"\n"), nil, nil); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: err %v, want %q", text, err, wantErr)
		}
	}
}

// TestFileValues: "@/path" reads jwt-secret (one trailing newline dropped) and db-uri (white space trimmed) from
// a file, as PostgREST's readSecretFile and readDbUriFile.
func TestFileValues(t *testing.T) {
	secret := write(t, "secret", "reallyreallyreallyreallyverysafe\n\n")
	uri := write(t, "uri", "  postgres://authenticator@db:5432/app\n")
	c, err := config.Load(write(t, "c.conf", "jwt-secret = \"@"+secret+"\"\ndb-uri = \"@"+uri+"\"\n"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.JWTSecret != "reallyreallyreallyreallyverysafe\n" || c.DBURI != "postgres://authenticator@db:5432/app" {
		t.Fatalf("secret %q uri %q", c.JWTSecret, c.DBURI)
	}
	if _, err := config.Load("", mapEnv(map[string]string{"PGRST_JWT_SECRET": "@/no/such/file"}), nil); err == nil ||
		!strings.HasPrefix(err.Error(), "config: jwt-secret:") {
		t.Errorf("missing secret file: %v", err)
	}
	d := config.Default()
	if _, err := config.ApplyDatabase(&d, [][2]string{{"jwt_secret", "@" + secret}}); err != nil || d.JWTSecret != "reallyreallyreallyreallyverysafe\n" {
		t.Errorf("in-database @file: %q %v", d.JWTSecret, err)
	}
}

// TestAppSettingsEnvironment: PGRST_APP_SETTINGS_* set app.settings.*, over the file's.
func TestAppSettingsEnvironment(t *testing.T) {
	c, err := config.LoadFrom(config.Source{File: write(t, "c.conf", "app.settings.region = \"eu\"\napp.settings.keep = \"1\"\n"),
		Environ: environ(map[string]string{"PGRST_APP_SETTINGS_region": "us", "PGRST_APP_SETTINGS_JWT_EXP": "3600", "OTHER": "x"})})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"region": "us", "keep": "1", "JWT_EXP": "3600"}; !reflect.DeepEqual(c.AppSettings, want) {
		t.Fatalf("app settings %v, want %v", c.AppSettings, want)
	}
}

// TestServerKeys: server-host "!6", the admin server's Unix socket, PostgREST's checks of socket modes and ports,
// and the empty string meaning the default.
func TestServerKeys(t *testing.T) {
	c, err := config.Load(write(t, "c.conf", "server-host = \"!6\"\nadmin-server-unix-socket = \"/tmp/a.sock\"\nadmin-server-unix-socket-mode = \"600\"\ndb-pool = \"\"\nadmin-server-port = \"\"\n"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.ServerHost != "!6" || c.AdminServerUnixSocket != "/tmp/a.sock" || c.AdminServerUnixSocketMode != "600" || c.DBPool != 10 || c.AdminServerPort != 0 {
		t.Fatalf("%+v", c)
	}
	for text, wantErr := range map[string]string{
		"admin-server-unix-socket-mode = \"999\"":      "not an octal file mode",
		"server-unix-socket-mode = \"500\"":            "needs to be between 600 and 777",
		"server-port = 3000\nadmin-server-port = 3000": "admin-server-port cannot be the same as server-port",
		"db-schemas = \"api, pg_catalog\"":             "db-schemas does not allow schema: 'pg_catalog'",
		"jwt-aud = \"not a uri: x\"":                   "jwt-aud should be a string or a valid URI",
	} {
		if _, err := config.Load(write(t, "c.conf", text+"\n"), nil, nil); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: err %v, want %q", text, err, wantErr)
		}
	}
}

// TestDumpRoundTrip: --dump-config's output loads back to the same configuration, for the defaults and for a
// configuration that sets every key.
func TestDumpRoundTrip(t *testing.T) {
	full := config.Default()
	full.DBURI = "postgres://u:pa$s@h/db?application_name=a%20b"
	full.DBSchemas = []string{"a", "b"}
	full.DBAnonRole = "anon"
	full.DBMaxRows = 5
	full.DBExtraSearchPath = nil
	full.JWTSecret = "line1\nline2 \\ $(NOT_A_VAR)"
	full.JWTRoleClaimKey = "$.user[0].role"
	full.LogQuery = true
	full.AdminServerPort = 3001
	full.AdminServerUnixSocket = "/tmp/admin.sock"
	full.ServerCorsAllowedOrigins = []string{"https://a.example", "https://b.example"}
	full.AppSettings = map[string]string{"region": "eu", "quote": `"q"`}
	full.DBStatementTimeout = 7 * time.Second
	for _, c := range []config.Config{config.Default(), full} {
		dump := config.Dump(c)
		back, err := config.Load(write(t, "dump.conf", dump), nil, nil)
		if err != nil {
			t.Fatalf("%v\n%s", err, dump)
		}
		if again := config.Dump(back); again != dump {
			t.Fatalf("dump → load → dump changed:\n%s\n---\n%s", dump, again)
		}
	}
	dump := config.Dump(config.Default())
	for _, line := range []string{`db-uri = "postgresql://"`, `db-max-rows = ""`, `admin-server-port = ""`, `admin-server-host = "!4"`,
		"db-pool = 10", "log-query = false", `db-schemas = "public"`, `jwt-role-claim-key = ".role"`} {
		if !strings.Contains(dump, "\n"+line+"\n") && !strings.HasPrefix(dump, line+"\n") {
			t.Errorf("dump lacks %q:\n%s", line, dump)
		}
	}
	for _, k := range config.Keys() {
		if !strings.Contains(dump, "\n"+k+" = ") && !strings.HasPrefix(dump, k+" = ") {
			t.Errorf("dump lacks %s", k)
		}
	}
}

// TestExample: --example's file names every key and loads to the defaults.
func TestExample(t *testing.T) {
	ex := config.Example()
	for _, k := range config.Keys() {
		if !strings.Contains(ex, "\n# "+k+" = ") {
			t.Errorf("example lacks %s", k)
		}
	}
	c, err := config.Load(write(t, "example.conf", ex), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if config.Dump(c) != config.Dump(config.Default()) {
		t.Error("the example does not load to the defaults")
	}
	// Uncommented, it loads too.
	if _, err := config.Load(write(t, "example.conf", strings.ReplaceAll(ex, "\n# ", "\n")), nil, nil); err != nil {
		t.Errorf("uncommented example: %v", err)
	}
}

// TestReread: Reread reads the file and the environment again; KeepFixed keeps what cannot change while
// running and names it.
func TestReread(t *testing.T) {
	file := write(t, "c.conf", "db-max-rows = 5\nserver-port = 4000\n")
	env := map[string]string{"PGRST_DB_ANON_ROLE": "anon"}
	c, err := config.Load(file, mapEnv(env), map[string]string{"db-tx-end": "rollback"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("db-max-rows = 9\nserver-port = 4001\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env["PGRST_DB_ANON_ROLE"] = "other"
	next, err := c.Reread()
	if err != nil {
		t.Fatal(err)
	}
	if next.DBMaxRows != 9 || next.ServerPort != 4001 || next.DBAnonRole != "other" || next.DBTxEnd != "rollback" {
		t.Fatalf("reread: %+v", next)
	}
	changed := config.KeepFixed(&next, c)
	if !slices.Equal(changed, []string{"server-port"}) || next.ServerPort != 4000 || next.DBMaxRows != 9 {
		t.Fatalf("KeepFixed: changed %v, port %d, max rows %d", changed, next.ServerPort, next.DBMaxRows)
	}
	if d, err := config.Default().Reread(); err != nil || d.ServerPort != 3000 {
		t.Errorf("Reread of a Config not loaded: %v", err)
	}
}

// TestCompressionKeys: server-compression is on, off or a list of codings in an order; server-compression-min-size
// a byte count. Both load from the file and the environment and dump back.
func TestCompressionKeys(t *testing.T) {
	d := config.Default()
	if !slices.Equal(d.Compression, []string{"zstd", "br", "gzip"}) || d.CompressionMinSize != 8192 {
		t.Fatalf("defaults %q %d", d.Compression, d.CompressionMinSize)
	}
	for v, want := range map[string][]string{
		`"gzip"`: {"gzip"}, `"br, GZIP"`: {"br", "gzip"}, "off": {}, "false": {}, `"off"`: {}, "on": {"zstd", "br", "gzip"},
		"true": {"zstd", "br", "gzip"}, `"gzip,zstd,br"`: {"gzip", "zstd", "br"},
	} {
		c, err := config.Load(write(t, "c.conf", "server-compression = "+v+"\nserver-compression-min-size = 0\n"), nil, nil)
		if err != nil || !slices.Equal(c.Compression, want) || c.CompressionMinSize != 0 {
			t.Errorf("server-compression = %s: %q %d, %v", v, c.Compression, c.CompressionMinSize, err)
			continue
		}
		back, err := config.Load(write(t, "d.conf", config.Dump(c)), nil, nil)
		if err != nil || !slices.Equal(back.Compression, want) {
			t.Errorf("%s dumped and loaded: %q, %v", v, back.Compression, err)
		}
	}
	c, err := config.Load("", mapEnv(map[string]string{"PGRST_SERVER_COMPRESSION": "gzip", "PGRST_SERVER_COMPRESSION_MIN_SIZE": "1024"}), nil)
	if err != nil || !slices.Equal(c.Compression, []string{"gzip"}) || c.CompressionMinSize != 1024 {
		t.Errorf("environment: %q %d, %v", c.Compression, c.CompressionMinSize, err)
	}
	for text, wantErr := range map[string]string{
		`server-compression = "deflate"`:   "not a content coding",
		`server-compression = "gzip,gzip"`: "listed twice",
		`server-compression-min-size = -1`: "not a non-negative integer",
	} {
		if _, err := config.Load(write(t, "c.conf", text+"\n"), nil, nil); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: err %v, want %q", text, err, wantErr)
		}
	}
}
