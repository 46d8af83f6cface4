package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgway/pgway/internal/config"
)

func TestLoad(t *testing.T) {
	full := filepath.Join("testdata", "full.conf")
	tests := []struct {
		name    string
		file    string // file contents; "" = no file
		env     map[string]string
		flags   map[string]string
		check   func(config.Config) bool
		wantErr string
	}{
		{name: "defaults", check: func(c config.Config) bool {
			return c.ServerPort == 3000 && c.DBPreparedStatements && !c.AdminServerPprof
		}},
		{name: "admin-server-pprof from the environment", env: map[string]string{"PGRST_ADMIN_SERVER_PPROF": "true"},
			check: func(c config.Config) bool { return c.AdminServerPprof }},
		{name: "admin-server-pprof in a file", file: "admin-server-pprof = true\n", check: func(c config.Config) bool { return c.AdminServerPprof }},
		{name: "file", file: "@" + full, check: func(c config.Config) bool {
			return c.ServerPort == 3001 && c.DBPlanEnabled && c.JWTSecret == `s"ecret` &&
				c.AppSettings["region"] == "eu" && len(c.DBSchemas) == 2 && c.DBSchemas[1] == "v2"
		}},
		{name: "env over file", file: "@" + full, env: map[string]string{"PGRST_SERVER_PORT": "4000"},
			check: func(c config.Config) bool { return c.ServerPort == 4000 }},
		{name: "flag over env", file: "@" + full, env: map[string]string{"PGRST_SERVER_PORT": "4000"},
			flags: map[string]string{"server-port": "5000"}, check: func(c config.Config) bool { return c.ServerPort == 5000 }},
		{name: "libpq db-uri", flags: map[string]string{"db-uri": "host=/tmp dbname=x"},
			check: func(c config.Config) bool { return c.DBURI == "host=/tmp dbname=x" }},
		{name: "bad int", file: "server-port = abc\n", wantErr: `config: server-port: "abc" is not an integer`},
		{name: "bad bool", file: "db-plan-enabled = maybe\n", wantErr: `config: db-plan-enabled: "maybe" is not a boolean`},
		{name: "bad enum", flags: map[string]string{"db-tx-end": "nope"}, wantErr: "config: db-tx-end:"},
		{name: "unknown flag", flags: map[string]string{"no-such-key": "1"}, wantErr: "config: no-such-key: unknown key"},
		{name: "bad uri", flags: map[string]string{"db-uri": "postgres://a b:%zz@h/db"}, wantErr: "config: db-uri: malformed URI"},
		{name: "not a uri", flags: map[string]string{"db-uri": "hello"}, wantErr: "config: db-uri:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := ""
			if strings.HasPrefix(tt.file, "@") {
				file = tt.file[1:]
			} else if tt.file != "" {
				file = filepath.Join(t.TempDir(), "c.conf")
				if err := os.WriteFile(file, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := config.Load(file, func(k string) string { return tt.env[k] }, tt.flags)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Fatalf("unexpected config: %+v", c)
			}
		})
	}
}

func TestRedacted(t *testing.T) {
	c := config.Default()
	c.DBURI = "postgres://u:hunter2@h/db"
	c.JWTSecret = "topsecret"
	s := c.Redacted()
	if strings.Contains(s, "hunter2") || strings.Contains(s, "topsecret") {
		t.Fatalf("secret leaked: %s", s)
	}
}

func TestApplyDatabase(t *testing.T) {
	tests := []struct {
		name        string
		settings    [][2]string
		check       func(config.Config) bool
		wantIgnored string
		wantErr     string
	}{
		{name: "schemas and max rows", settings: [][2]string{{"db_schemas", "a, b"}, {"db_max_rows", "5"}},
			check: func(c config.Config) bool { return len(c.DBSchemas) == 2 && c.DBSchemas[1] == "b" && c.DBMaxRows == 5 }},
		{name: "jwt secret", settings: [][2]string{{"jwt_secret", "abc"}}, check: func(c config.Config) bool { return c.JWTSecret == "abc" }},
		{name: "fixed keys are ignored", settings: [][2]string{{"db_uri", "postgres://x"}, {"server_port", "1"}, {"admin_server_pprof", "true"}},
			check:       func(c config.Config) bool { return c.DBURI == "" && c.ServerPort == 3000 && !c.AdminServerPprof },
			wantIgnored: "db_uri,server_port,admin_server_pprof"},
		{name: "unknown keys are ignored", settings: [][2]string{{"no_such", "1"}}, wantIgnored: "no_such"},
		{name: "bad value", settings: [][2]string{{"db_max_rows", "many"}}, wantErr: `in-database setting pgrst.db_max_rows: config: db-max-rows:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			ignored, err := config.ApplyDatabase(&c, tt.settings)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ignored, ","); got != tt.wantIgnored {
				t.Fatalf("ignored %q, want %q", got, tt.wantIgnored)
			}
			if tt.check != nil && !tt.check(c) {
				t.Fatalf("config not applied: %+v", c)
			}
		})
	}
}

// TestPostgRESTKeys: a config file using every key of PostgREST's configuration reference loads.
func TestPostgRESTKeys(t *testing.T) {
	c, err := config.Load(filepath.Join("testdata", "postgrest-keys.conf"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminServerHost != "127.0.0.1" || c.DBPoolMaxIdletime != 30 || c.ServerTraceHeader != "X-Request-Id" || c.JWTCacheMaxEntries != 1000 {
		t.Fatalf("keys not applied: %+v", c)
	}
}
