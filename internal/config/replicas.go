package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Lag bounds how far a read replica may fall behind its primary: bytes of WAL not yet replayed, or time (one of
// the two; both zero: no bound).
type Lag struct {
	Bytes int64
	Time  time.Duration
}

// IsZero reports whether there is no bound.
func (l Lag) IsZero() bool { return l.Bytes <= 0 && l.Time <= 0 }

// String is the bound as db-replica-max-lag takes it: "16MB", "10s", "250ms", "0".
func (l Lag) String() string {
	switch {
	case l.Bytes > 0:
		for _, u := range byteUnits {
			if l.Bytes%u.n == 0 && l.Bytes >= u.n {
				return strconv.FormatInt(l.Bytes/u.n, 10) + u.name
			}
		}
		return strconv.FormatInt(l.Bytes, 10) + "B"
	case l.Time > 0:
		return durationText(l.Time)
	}
	return "0"
}

// byteUnits are PostgreSQL's memory units (1 kB = 1024 bytes), largest first.
var byteUnits = []struct {
	name string
	n    int64
}{{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"kB", 1 << 10}, {"B", 1}}

// ParseLag reads db-replica-max-lag: a number with a unit of WAL size (B, kB, MB, GB, TB: PostgreSQL's units,
// 1 kB = 1024 B) or of time (ms, s, min, h); a number without a unit is seconds, as pgway's other time keys.
// "0" is no bound.
func ParseLag(v string) (Lag, error) {
	v = strings.TrimSpace(v)
	i := 0
	for i < len(v) && (v[i] >= '0' && v[i] <= '9') {
		i++
	}
	if i == 0 {
		return Lag{}, fmt.Errorf("%q is not a size (16MB) or a time (10s)", v)
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if err != nil {
		return Lag{}, fmt.Errorf("%q is not a size (16MB) or a time (10s)", v)
	}
	unit := strings.TrimSpace(v[i:])
	for _, u := range byteUnits {
		if strings.EqualFold(unit, u.name) {
			return Lag{Bytes: n * u.n}, nil
		}
	}
	switch unit {
	case "", "s":
		return Lag{Time: time.Duration(n) * time.Second}, nil
	case "ms":
		return Lag{Time: time.Duration(n) * time.Millisecond}, nil
	case "min":
		return Lag{Time: time.Duration(n) * time.Minute}, nil
	case "h":
		return Lag{Time: time.Duration(n) * time.Hour}, nil
	}
	return Lag{}, fmt.Errorf("%q: unknown unit %q (B, kB, MB, GB, TB; ms, s, min, h)", v, unit)
}

// durationText writes d as whole seconds when it is, else as Go writes a duration ("250ms").
func durationText(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return d.String()
}

// splitURIs reads db-replica-uris: postgres:// or postgresql:// URIs separated by commas. A URI may itself hold
// commas (libpq's multi-host form, postgres://h1,h2/db), so the list is split only where a comma is followed by
// a new scheme.
func splitURIs(v string) ([]string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	var out []string
	start := 0
	for i := 0; i < len(v); i++ {
		if v[i] != ',' {
			continue
		}
		rest := strings.TrimLeft(v[i+1:], " \t")
		if strings.HasPrefix(rest, "postgres://") || strings.HasPrefix(rest, "postgresql://") {
			out = append(out, strings.TrimSpace(v[start:i]))
			start = len(v) - len(rest)
			i = start - 1
		}
	}
	out = append(out, strings.TrimSpace(v[start:]))
	for _, u := range out {
		if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
			return nil, fmt.Errorf("%q is not a postgres:// or postgresql:// URI", u)
		}
		if err := checkDBURI(u); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// replicaSpecs are the read-replica keys and db-listener-uri (pgway's own).
var replicaSpecs = []keySpec{
	keySpec{name: "db-replica-uris", doc: "Read replicas: postgres:// URIs, comma-separated; reads go to a healthy one, writes to db-uri.",
		set: func(c *Config, v string) error {
			uris, err := splitURIs(v)
			c.DBReplicaURIs = uris
			return err
		},
		get: func(c *Config) string { return strings.Join(c.DBReplicaURIs, ",") }}.fixedKey().pgwayKey(),
	keySpec{name: "db-replica-max-lag", shape: quoted,
		doc: "How far a replica may lag and stay in rotation: WAL size (16MB) or time (10s, 500ms); 0: no bound.",
		set: func(c *Config, v string) error {
			l, err := ParseLag(v)
			c.DBReplicaMaxLag = l
			return err
		},
		get: func(c *Config) string { return c.DBReplicaMaxLag.String() }}.fixedKey().pgwayKey(),
	keySpec{name: "db-replica-check-interval", shape: quoted,
		doc: "How often each replica's health and replay position are checked: seconds, or a duration (250ms).",
		set: func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			d, err := time.ParseDuration(v)
			if n, ierr := strconv.ParseInt(v, 10, 64); ierr == nil {
				d, err = time.Duration(n)*time.Second, nil
			}
			if err != nil || d <= 0 {
				return fmt.Errorf("%q is not a positive number of seconds or a duration (250ms)", v)
			}
			c.DBReplicaCheckInterval = d
			return nil
		},
		get: func(c *Config) string { return durationText(c.DBReplicaCheckInterval) }}.fixedKey().pgwayKey(),
	keySpec{name: "db-listener-uri", doc: "Where the listener LISTENs when db-uri goes through a transaction-pooling proxy (default: db-uri).",
		set: func(c *Config, v string) error {
			if err := checkDBURI(v); err != nil {
				return err
			}
			c.DBListenerURI = v
			return nil
		},
		get: func(c *Config) string { return c.DBListenerURI }}.fixedKey().pgwayKey(),
}
