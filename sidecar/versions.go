package sidecar

import (
	"net/http"
	"slices"
	"time"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/versioning"
)

// routeVersion rewrites a /vN/... request to the version's schema (as if the profile headers named it) and
// reports the version name ("" for unversioned paths). An unknown or unexposed version is 404.
func (s *Server) routeVersion(c *handling, in *request.Input) (string, error) {
	cat, schemas := c.snap.versions, c.snap.set.cfg.DBSchemas
	name, rest, ok := versioning.SplitPath(in.Path)
	if !ok {
		if in.AcceptProfile == "" && in.ContentProfile == "" {
			// The bare path serves the current version when the catalog names one that is exposed.
			if cur, ok := cat.Current(); ok && slices.Contains(schemas, cur.Schema) {
				in.AcceptProfile, in.ContentProfile = cur.Schema, cur.Schema
			}
		}
		return "", nil
	}
	schema := cat.SchemaFor(name)
	if !slices.Contains(schemas, schema) {
		return "", apierr.New(http.StatusNotFound, "PGRST125", "Invalid path specified in request URL").
			WithDetails("API version " + name + " is not served (its schema " + schema + " is not exposed)")
	}
	in.Path = rest
	in.AcceptProfile, in.ContentProfile = schema, schema
	return name, nil
}

// versionPolicy applies the catalog to a request served from schema: 410 Gone after the sunset, deprecation
// headers before it.
func (s *Server) versionPolicy(c *handling, schema, path string) error {
	hs, err := versionHeaders(c.snap, schema, path)
	for _, h := range hs {
		c.ctx.Response.Header.Set(h[0], h[1])
	}
	return err
}

// versionHeaders are the deprecation headers of a request served from schema, or 410 Gone after the sunset.
func versionHeaders(snap *snapshot, schema, path string) ([][2]string, error) {
	cat := snap.versions
	v, ok := cat.BySchema(schema)
	if !ok {
		return nil, nil
	}
	now := time.Now()
	if v.Gone(now) {
		e := apierr.New(http.StatusGone, "PGWAY410", "API version "+v.Name+" is no longer available")
		if !v.SunsetAt.IsZero() {
			e.Details = "It was sunset on " + v.SunsetAt.UTC().Format(time.RFC3339) + "."
		} else {
			e.Details = "It has been sunset."
		}
		if succ := cat.SuccessorPath(v, path); succ != "" {
			e.Hint = "Use " + v.Successor + " instead: " + succ
			e.Headers = append(e.Headers, [2]string{"Link", "<" + succ + `>; rel="successor-version"`})
		}
		return nil, e
	}
	return cat.Headers(v, now, path), nil
}
