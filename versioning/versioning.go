// Package versioning is pgway's API-version policy: the catalog of versions (read from and changed in
// pgway.api_versions, and new versions scaffolded as migrations), /vN path routing, and the deprecation, sunset
// and successor headers clients see.
package versioning

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Statuses of a version.
const (
	StatusCurrent    = "current"    // what the bare path serves
	StatusActive     = "active"     // served under /vN
	StatusDeprecated = "deprecated" // served with Deprecation/Sunset/Link headers
	StatusSunset     = "sunset"     // answered 410 Gone
)

// Version is one row of pgway.api_versions.
type Version struct {
	Name         string // "v1"
	Schema       string // "api_v1"
	Status       string
	DeprecatedAt time.Time // zero: not set
	SunsetAt     time.Time // zero: not set
	Successor    string    // name of the version to move to ("" if none)
}

// Catalog is an immutable set of versions.
type Catalog struct {
	versions []Version
	byName   map[string]int
	bySchema map[string]int
}

// New builds a catalog; later duplicates of a name or schema are ignored.
func New(vs []Version) *Catalog {
	c := &Catalog{byName: map[string]int{}, bySchema: map[string]int{}}
	for _, v := range vs {
		if _, dup := c.byName[v.Name]; dup {
			continue
		}
		if _, dup := c.bySchema[v.Schema]; dup {
			continue
		}
		c.byName[v.Name] = len(c.versions)
		c.bySchema[v.Schema] = len(c.versions)
		c.versions = append(c.versions, v)
	}
	return c
}

// Versions lists the catalog in load order.
func (c *Catalog) Versions() []Version {
	if c == nil {
		return nil
	}
	return c.versions
}

// ByName finds a version by its name ("v1").
func (c *Catalog) ByName(name string) (Version, bool) {
	if c == nil {
		return Version{}, false
	}
	i, ok := c.byName[name]
	if !ok {
		return Version{}, false
	}
	return c.versions[i], true
}

// BySchema finds the version a schema serves.
func (c *Catalog) BySchema(schema string) (Version, bool) {
	if c == nil {
		return Version{}, false
	}
	i, ok := c.bySchema[schema]
	if !ok {
		return Version{}, false
	}
	return c.versions[i], true
}

// Current is the version the bare path serves.
func (c *Catalog) Current() (Version, bool) {
	for _, v := range c.Versions() {
		if v.Status == StatusCurrent {
			return v, true
		}
	}
	return Version{}, false
}

// SplitPath splits a versioned path: "/v2/books" is ("v2", "/books"), "/v2" is ("v2", "/"); ok is false for
// paths without a /vN prefix.
func SplitPath(path string) (version, rest string, ok bool) {
	p := strings.TrimPrefix(path, "/")
	seg, rest, _ := strings.Cut(p, "/")
	if len(seg) < 2 || seg[0] != 'v' {
		return "", "", false
	}
	if _, err := strconv.Atoi(seg[1:]); err != nil || seg[1] == '-' || seg[1] == '+' {
		return "", "", false
	}
	return seg, "/" + rest, true
}

// SchemaFor maps a version name to its schema: the catalog's entry, else the convention vN → api_vN.
func (c *Catalog) SchemaFor(name string) string {
	if v, ok := c.ByName(name); ok {
		return v.Schema
	}
	return "api_" + name
}

// Gone reports whether v no longer answers at now: marked sunset, or past its sunset date.
func (v Version) Gone(now time.Time) bool {
	return v.Status == StatusSunset || !v.SunsetAt.IsZero() && !now.Before(v.SunsetAt)
}

// Deprecated reports whether clients should be told to move on.
func (v Version) Deprecated(now time.Time) bool {
	return v.Status == StatusDeprecated || v.Status == StatusSunset ||
		!v.DeprecatedAt.IsZero() && !now.Before(v.DeprecatedAt)
}

// Headers are the response headers of a request served by v: Deprecation (RFC 9745, "@" and Unix seconds),
// Sunset (RFC 8594, an HTTP-date) and Link to the successor's version of path (rel="successor-version").
func (c *Catalog) Headers(v Version, now time.Time, path string) [][2]string {
	if !v.Deprecated(now) {
		return nil
	}
	var h [][2]string
	dep := v.DeprecatedAt
	if dep.IsZero() {
		h = append(h, [2]string{"Deprecation", "?1"})
	} else {
		h = append(h, [2]string{"Deprecation", "@" + strconv.FormatInt(dep.Unix(), 10)})
	}
	if !v.SunsetAt.IsZero() {
		h = append(h, [2]string{"Sunset", v.SunsetAt.UTC().Format(http.TimeFormat)})
	}
	if link := c.SuccessorPath(v, path); link != "" {
		h = append(h, [2]string{"Link", "<" + link + `>; rel="successor-version"`})
	}
	return h
}

// SuccessorPath is path (without version prefix) under v's successor, "" when v has none.
func (c *Catalog) SuccessorPath(v Version, path string) string {
	if v.Successor == "" {
		return ""
	}
	if path == "" {
		path = "/"
	}
	return "/" + v.Successor + path
}
