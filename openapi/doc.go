// Package openapi derives an OpenAPI 3.0 or 3.1 description of one exposed schema from a schema cache snapshot.
//
// Build is pure and deterministic: the same *schemacache.Cache and Options give the same document, so callers
// build it once per snapshot (and per schema, role and version) and cache the marshalled bytes.
package openapi
