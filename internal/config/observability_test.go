package config_test

import (
	"strings"
	"testing"

	"github.com/pgway/pgway/internal/config"
)

// TestObservabilityKeys: log-format (pgway's: text or json) and admin-server-config-enabled (PostgREST 12.2's,
// off by default) load from the file and the environment, are fixed while running, and a bad format is an error.
func TestObservabilityKeys(t *testing.T) {
	d := config.Default()
	if d.LogFormat != "text" || d.AdminServerConfigEnabled {
		t.Fatalf("defaults: log-format %q, admin-server-config-enabled %v", d.LogFormat, d.AdminServerConfigEnabled)
	}
	c, err := config.Load(write(t, "c.conf", "log-format = \"json\"\nadmin-server-config-enabled = true\n"), nil, nil)
	if err != nil || c.LogFormat != "json" || !c.AdminServerConfigEnabled || len(c.Warnings) != 0 {
		t.Fatalf("file: %v %q %v %q", err, c.LogFormat, c.AdminServerConfigEnabled, c.Warnings)
	}
	c, err = config.Load("", mapEnv(map[string]string{"PGRST_LOG_FORMAT": "json", "PGRST_ADMIN_SERVER_CONFIG_ENABLED": "true"}), nil)
	if err != nil || c.LogFormat != "json" || !c.AdminServerConfigEnabled {
		t.Fatalf("environment: %v %q %v", err, c.LogFormat, c.AdminServerConfigEnabled)
	}
	if _, err := config.Load(write(t, "c.conf", "log-format = \"apache\"\n"), nil, nil); err == nil ||
		!strings.Contains(err.Error(), "log-format") {
		t.Errorf("log-format = apache: %v", err)
	}
	next := config.Default()
	next.LogFormat, next.AdminServerConfigEnabled = "json", true
	if changed := config.KeepFixed(&next, config.Default()); len(changed) != 2 || next.LogFormat != "text" {
		t.Errorf("KeepFixed: %v, log-format %q", changed, next.LogFormat)
	}
}

// TestRedact: the admin server's /config shows no secret: jwt-secret, db-uri's password (in the user
// information, as a password parameter, in a key=value string) and credential-like app.settings are REDACTED;
// the rest is as --dump-config writes it.
func TestRedact(t *testing.T) {
	for uri, want := range map[string]string{
		"postgres://app:s3cr%40t@db.example:5432/app?sslmode=require": "postgres://app:REDACTED@db.example:5432/app?sslmode=require",
		"postgresql://app:pw@h1:5432,h2:5433/app":                     "postgresql://app:REDACTED@h1:5432,h2:5433/app",
		"postgresql://app@h/app":                                      "postgresql://app@h/app",
		"postgresql://h/app?user=app&password=pw&sslmode=require":     "postgresql://h/app?user=app&password=REDACTED&sslmode=require",
		"postgresql://?dbname=postgres&host=/run/pg&password=x?y":     "postgresql://?dbname=postgres&host=/run/pg&password=REDACTED",
		"host=h user=app password='a b\\' c' dbname=app":              "host=h user=app password=REDACTED dbname=app",
		"host=h password = pw dbname=app":                             "host=h password = REDACTED dbname=app",
		"postgresql://":                                               "postgresql://",
		"":                                                            "",
	} {
		c := config.Default()
		c.DBURI = uri
		if got := config.Redact(c).DBURI; got != want {
			t.Errorf("%q → %q, want %q", uri, got, want)
		}
	}
	c := config.Default()
	c.DBURI = "postgres://app:hunter2@h/app"
	c.JWTSecret = "reallyreallyreallyreallyverysafe"
	c.AppSettings = map[string]string{"jwt_secret": "s1", "api_key": "s2", "DB_PASSWORD": "s3", "region": "eu", "token": ""}
	r := config.Redact(c)
	dump := config.Dump(r)
	for _, want := range []string{`jwt-secret = "REDACTED"`, `db-uri = "postgres://app:REDACTED@h/app"`,
		`app.settings.jwt_secret = "REDACTED"`, `app.settings.api_key = "REDACTED"`, `app.settings.DB_PASSWORD = "REDACTED"`,
		`app.settings.region = "eu"`, `app.settings.token = ""`} {
		if !strings.Contains(dump, want+"\n") {
			t.Errorf("redacted dump lacks %s:\n%s", want, dump)
		}
	}
	for _, secret := range []string{"hunter2", "reallyreally", "s1", "s2", "s3"} {
		if strings.Contains(dump, `"`+secret) || strings.Contains(dump, ":"+secret) {
			t.Errorf("redacted dump shows %s:\n%s", secret, dump)
		}
	}
	if c.AppSettings["jwt_secret"] != "s1" || c.JWTSecret == "REDACTED" {
		t.Error("Redact changed the configuration it was given")
	}
	if d := config.Default(); config.Dump(config.Redact(d)) != config.Dump(d) {
		t.Error("a configuration without secrets changed")
	}
}
