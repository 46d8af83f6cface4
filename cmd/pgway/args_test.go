package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pgway/pgway/internal/pgtest"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args    []string
		pos     []string
		cfg     map[string]string
		dir     string
		verbose bool
		err     string
	}{
		{args: nil, cfg: map[string]string{}},
		{args: []string{"up", "--dir", "d", "x.conf"}, pos: []string{"up", "x.conf"}, cfg: map[string]string{}, dir: "d"},
		{args: []string{"-dir=d", "--db-uri", "postgres://h/db", "--db-schemas=a,b", "down", "1"}, pos: []string{"down", "1"},
			cfg: map[string]string{"db-uri": "postgres://h/db", "db-schemas": "a,b"}, dir: "d"},
		{args: []string{"--version", "3.1", "--server-url=/x"}, cfg: map[string]string{"openapi-version": "3.1", "openapi-server-proxy-uri": "/x"}},
		{args: []string{"--verbose", "a"}, pos: []string{"a"}, cfg: map[string]string{}, verbose: true},
		{args: []string{"--verbose=false", "--", "--dir", "-"}, pos: []string{"--dir", "-"}, cfg: map[string]string{}},
		{args: []string{"--no-such-key", "1"}, cfg: map[string]string{"no-such-key": "1"}},
		{args: []string{"--dir"}, err: "flag -dir needs a value"},
		{args: []string{"--db-uri"}, err: "flag -db-uri needs a value"},
		{args: []string{"--verbose=maybe"}, err: "flag -verbose"},
		{args: []string{"up", "-h"}, err: flag.ErrHelp.Error()},
		{args: []string{"--help"}, err: flag.ErrHelp.Error()},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		dir := fs.String("dir", "", "")
		verbose := fs.Bool("verbose", false, "")
		pos, cfg, err := parseArgs(fs, map[string]string{"version": "openapi-version", "server-url": "openapi-server-proxy-uri"}, tt.args)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.args, err, tt.err)
			}
			if tt.err == flag.ErrHelp.Error() && !errors.Is(err, flag.ErrHelp) {
				t.Errorf("%q: %v is not flag.ErrHelp", tt.args, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(pos, tt.pos) || !reflect.DeepEqual(cfg, tt.cfg) || *dir != tt.dir || *verbose != tt.verbose {
			t.Errorf("%q: pos %q cfg %v dir %q verbose %v err %v", tt.args, pos, cfg, *dir, *verbose, err)
		}
	}
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "up")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(dir, "pgway.conf")
	if err := os.WriteFile(real, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		pos  []string
		file string
		rest []string
	}{
		{nil, "", nil},
		{[]string{real, "up"}, real, []string{"up"}},
		{[]string{real}, real, []string{}},
		{[]string{"up", real}, "", []string{"up", real}},     // an action comes first, the file cannot follow it
		{[]string{"sideways"}, "", []string{"sideways"}},     // not a file: left for the command to reject
		{[]string{dir, "up"}, "", []string{dir, "up"}},       // a directory is no config file
		{[]string{conf, "status"}, conf, []string{"status"}}, // a path to a file named like an action is a file
	} {
		file, rest := configFile(tt.pos, "up", "status")
		if file != tt.file || !reflect.DeepEqual(rest, tt.rest) {
			t.Errorf("%q: %q %q, want %q %q", tt.pos, file, rest, tt.file, tt.rest)
		}
	}
}

// TestConfigFileEveryCommand: migrate, versions and openapi diff read db-uri (and versions db-channel) from
// a config file, like serve and openapi.
func TestConfigFileEveryCommand(t *testing.T) {
	db := pgtest.NewDatabase(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "pgway.conf")
	if err := os.WriteFile(file, []byte("db-uri = \""+db.URL+"\"\ndb-channel = \"elsewhere\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		out  string
		code int
	}{
		{args: []string{"migrate", file, "status"}, out: "version 0 of 5"},
		{args: []string{"migrate", file}, out: "version 5 of 5"},
		{args: []string{"migrate", "--db-uri", "postgres://127.0.0.1:1/none", file, "status"}, code: 1}, // flags beat the file
		{args: []string{"versions", file}, out: "v2       api_v2  current"},
		{args: []string{"versions", file, "list"}, out: "v1       api_v1  active"},
		{args: []string{"versions", file, "deprecate", "v1"}, out: "v1: deprecated"},
		{args: []string{"openapi", "diff", file, "api_v1", "api_v2"}, out: "change(s)", code: 1},
		{args: []string{"openapi", file, "--schema", "api_v2"}, out: `"/books"`},
		{args: []string{"versions", "new", "v3", "--from", "v2", "--dir", dir, file}, code: 2}, // the file comes first
	} {
		code, out, errOut := pgwayCmd(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) {
			t.Fatalf("pgway %q: exit %d, want %d; output lacks %q?\n%s%s", tc.args, code, tc.code, tc.out, out, errOut)
		}
	}
	if got := scalar(t, db.URL, "SELECT status FROM pgway.api_versions WHERE name = 'v1'"); got != "deprecated" {
		t.Fatalf("v1 is %s", got)
	}
}
