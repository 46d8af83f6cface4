package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	if err := os.WriteFile(bad, []byte("server-port = 1\ndb-pool = \"many\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		args        []string
		env         map[string]string
		code        int
		out, errOut string
	}{
		{name: "version", args: []string{"version"}, code: 0, out: "pgway dev"},
		{name: "help flag", args: []string{"--help"}, code: 0, out: "serve"},
		{name: "help cmd", args: []string{"help", "serve"}, code: 0, out: "usage: pgway serve"},
		{name: "version flag", args: []string{"--version"}, code: 0, out: "pgway dev"},
		{name: "version short flag", args: []string{"-v"}, code: 0, out: "pgway dev"},
		{name: "help lists PostgREST's options", args: []string{"-h"}, code: 0, out: "--dump-config"},
		{name: "program name first", args: []string{"postgrest", "--version"}, code: 0, out: "pgway dev"},
		{name: "program path first", args: []string{"/bin/postgrest", "-v"}, code: 0, out: "pgway dev"},
		{name: "example", args: []string{"--example"}, code: 0, out: "# db-uri = "},
		{name: "example short", args: []string{"-e"}, code: 0, out: "# server-port = 3000"},
		{name: "two modes", args: []string{"--dump-config", "--ready"}, code: 2, errOut: "exclude each other"},
		{name: "config file of PostgREST's command line", args: []string{bad}, code: 1, errOut: `config: db-pool: "many" is not an integer`},
		{name: "missing config file", args: []string{"./no-such.conf"}, code: 1, errOut: "config: reading ./no-such.conf"},
		{name: "bad env value of PostgREST's command line", args: nil, env: map[string]string{"PGRST_DB_POOL": "x"}, code: 1,
			errOut: `config: db-pool: "x" is not an integer`},
		{name: "unknown", args: []string{"frobnicate"}, code: 2, errOut: `unknown command "frobnicate"`},
		{name: "malformed value in the file", args: []string{"serve", bad}, code: 1, errOut: `config: db-pool: "many" is not an integer`},
		{name: "bad env value", args: []string{"serve"}, env: map[string]string{"PGRST_SERVER_PORT": "abc"}, code: 1,
			errOut: `config: server-port: "abc" is not an integer`},
		{name: "bad flag value", args: []string{"serve", "--log-level", "loud"}, code: 1, errOut: "config: log-level:"},
		{name: "unknown flag", args: []string{"serve", "--no-such-key", "1"}, code: 1, errOut: "config: no-such-key: unknown key"},
		{name: "serve help", args: []string{"serve", "--help"}, code: 0, out: "usage: pgway serve [CONFIG_FILE]"},
		{name: "openapi help", args: []string{"openapi", "-h"}, code: 0, out: "usage: pgway openapi [CONFIG_FILE]"},
		{name: "diff help", args: []string{"openapi", "diff", "--help"}, code: 0, out: "usage: pgway openapi diff [CONFIG_FILE]"},
		{name: "migrate help", args: []string{"migrate", "up", "--help"}, code: 0, out: "usage: pgway migrate [CONFIG_FILE]"},
		{name: "versions help", args: []string{"versions", "-help"}, code: 0, out: "usage: pgway versions [CONFIG_FILE]"},
		{name: "two config files", args: []string{"serve", bad, bad}, code: 2, errOut: "unexpected argument"},
		{name: "bad env value for migrate", args: []string{"migrate", "status"}, env: map[string]string{"PGRST_DB_POOL": "many"},
			code: 1, errOut: `config: db-pool: "many" is not an integer`},
		{name: "config file for migrate", args: []string{"migrate", bad, "status"}, code: 1, errOut: `config: db-pool: "many" is not an integer`},
		{name: "no database for versions", args: []string{"versions"}, code: 2, errOut: "no database: set db-uri"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tt.args, func(k string) string { return tt.env[k] }, &out, &errOut)
			if code != tt.code || !strings.Contains(out.String(), tt.out) || !strings.Contains(errOut.String(), tt.errOut) {
				t.Fatalf("code %d stdout %q stderr %q", code, out.String(), errOut.String())
			}
		})
	}
}
