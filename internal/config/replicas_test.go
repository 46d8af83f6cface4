package config_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgway/pgway/internal/config"
)

func TestParseLag(t *testing.T) {
	for in, want := range map[string]config.Lag{
		"16MB": {Bytes: 16 << 20}, "16mb": {Bytes: 16 << 20}, "512kB": {Bytes: 512 << 10}, "1 GB": {Bytes: 1 << 30},
		"100B": {Bytes: 100}, "10s": {Time: 10 * time.Second}, "10": {Time: 10 * time.Second},
		"250ms": {Time: 250 * time.Millisecond}, "2min": {Time: 2 * time.Minute}, "1h": {Time: time.Hour}, "0": {},
	} {
		got, err := config.ParseLag(in)
		if err != nil || got != want {
			t.Errorf("ParseLag(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if back, err := config.ParseLag(got.String()); err != nil || back != got {
			t.Errorf("ParseLag(%q).String() = %q reads back as %+v, %v", in, got.String(), back, err)
		}
	}
	for _, bad := range []string{"", "MB", "-1s", "10 parsecs", "1.5s", "s"} {
		if _, err := config.ParseLag(bad); err == nil {
			t.Errorf("ParseLag(%q) accepted", bad)
		}
	}
}

// TestReplicaKeys: the replica keys load from the file and the environment, a multi-host URI stays one URI, the
// dump reads back, the keys are fixed while running, and the URIs' passwords are redacted.
func TestReplicaKeys(t *testing.T) {
	env := map[string]string{
		"PGRST_DB_REPLICA_URIS":           "postgres://a:pw1@r1:5432/app, postgresql://a:pw2@r2:5432,r3:5433/app?sslmode=disable",
		"PGRST_DB_REPLICA_MAX_LAG":        "8MB",
		"PGRST_DB_REPLICA_CHECK_INTERVAL": "250ms",
		"PGRST_DB_LISTENER_URI":           "postgres://a:pw3@primary:5432/app",
	}
	c, err := config.Load("", func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"postgres://a:pw1@r1:5432/app", "postgresql://a:pw2@r2:5432,r3:5433/app?sslmode=disable"}; !slices.Equal(c.DBReplicaURIs, want) {
		t.Errorf("db-replica-uris = %q, want %q", c.DBReplicaURIs, want)
	}
	if c.DBReplicaMaxLag != (config.Lag{Bytes: 8 << 20}) || c.DBReplicaCheckInterval != 250*time.Millisecond ||
		c.DBListenerURI != "postgres://a:pw3@primary:5432/app" {
		t.Errorf("loaded %+v, %v, %q", c.DBReplicaMaxLag, c.DBReplicaCheckInterval, c.DBListenerURI)
	}
	dump := config.Dump(c)
	back, err := config.Load(write(t, "replicas.conf", dump), nil, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, dump)
	}
	if config.Dump(back) != dump {
		t.Errorf("dump does not read back:\n%s\n---\n%s", dump, config.Dump(back))
	}
	d := config.Default()
	if d.DBReplicaMaxLag != (config.Lag{Time: 10 * time.Second}) || d.DBReplicaCheckInterval != time.Second || len(d.DBReplicaURIs) != 0 {
		t.Errorf("defaults: %+v %v %q", d.DBReplicaMaxLag, d.DBReplicaCheckInterval, d.DBReplicaURIs)
	}
	red := config.Dump(config.Redact(c))
	for _, pw := range []string{"pw1", "pw2", "pw3"} {
		if strings.Contains(red, pw) {
			t.Errorf("redacted dump shows %s:\n%s", pw, red)
		}
	}
	next := config.Default()
	changed := config.KeepFixed(&next, c)
	for _, k := range []string{"db-replica-uris", "db-replica-max-lag", "db-replica-check-interval", "db-listener-uri"} {
		if !slices.Contains(changed, k) {
			t.Errorf("KeepFixed did not report %s: %v", k, changed)
		}
	}
	if !slices.Equal(next.DBReplicaURIs, c.DBReplicaURIs) || next.DBReplicaMaxLag != c.DBReplicaMaxLag ||
		next.DBReplicaCheckInterval != c.DBReplicaCheckInterval || next.DBListenerURI != c.DBListenerURI {
		t.Error("KeepFixed did not keep the replica keys")
	}
	for key, bad := range map[string]string{
		"db-replica-uris": "host=r1 dbname=app", "db-replica-check-interval": "0", "db-replica-max-lag": "fast",
		"db-listener-uri": "not a uri",
	} {
		if _, err := config.Load("", nil, map[string]string{key: bad}); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s = %q: %v", key, bad, err)
		}
	}
	if _, ignored := applyDB(t, [][2]string{{"db_replica_uris", "postgres://x@y/z"}}); !slices.Contains(ignored, "db_replica_uris") {
		t.Errorf("db_replica_uris from the database was not ignored: %v", ignored)
	}
}

func applyDB(t *testing.T, settings [][2]string) (config.Config, []string) {
	t.Helper()
	c := config.Default()
	ignored, err := config.ApplyDatabase(&c, settings)
	if err != nil {
		t.Fatal(err)
	}
	return c, ignored
}
