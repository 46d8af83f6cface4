package schemacache

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
)

// The JSON of a Cache (pgway --dump-schema, the admin server's /schema_cache) is pgway's own shape, not
// PostgREST's (whose --dump-schema says its output structure is unstable): the cache's Go types with their
// field names, as lists sorted by schema and name, enums as text.
type cacheJSON struct {
	Schemas       []string           `json:"schemas"`
	ServerVersion int                `json:"serverVersion"`
	Relations     []relationJSON     `json:"relations"`
	Routines      []routineJSON      `json:"routines"`
	Relationships []relationshipJSON `json:"relationships"`
	MediaHandlers []*MediaHandler    `json:"mediaHandlers"`
}

type relationJSON struct {
	*Relation
	Kind string
}

type routineJSON struct {
	*Routine
	Volatility string
}

type relationshipJSON struct {
	*Relationship
	Cardinality string
}

var volatilityNames = map[byte]string{'i': "immutable", 's': "stable", 'v': "volatile"}

func byQName(a, b QName) int {
	return cmp.Or(cmp.Compare(a.Schema, b.Schema), cmp.Compare(a.Name, b.Name))
}

// JSON renders c as one JSON object: {"schemas", "serverVersion", "relations", "routines", "relationships",
// "mediaHandlers"}, lists sorted by schema and name.
func (c *Cache) JSON() ([]byte, error) {
	d := cacheJSON{Schemas: c.Schemas, ServerVersion: c.ServerVersion, Relations: []relationJSON{},
		Routines: []routineJSON{}, Relationships: []relationshipJSON{}, MediaHandlers: []*MediaHandler{}}
	for _, q := range slices.SortedFunc(maps.Keys(c.Relations), byQName) {
		r := c.Relations[q]
		d.Relations = append(d.Relations, relationJSON{Relation: r, Kind: r.Kind.String()})
	}
	for _, q := range slices.SortedFunc(maps.Keys(c.Routines), byQName) {
		for _, r := range c.Routines[q] {
			d.Routines = append(d.Routines, routineJSON{Routine: r, Volatility: volatilityNames[r.Volatility]})
		}
	}
	for _, q := range slices.SortedFunc(maps.Keys(c.Relationships), byQName) {
		for _, r := range c.Relationships[q] {
			d.Relationships = append(d.Relationships, relationshipJSON{Relationship: r, Cardinality: r.Cardinality.String()})
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(c.MediaHandlers), func(a, b HandlerKey) int {
		return cmp.Or(byQName(a.Target, b.Target), cmp.Compare(a.Media, b.Media))
	}) {
		d.MediaHandlers = append(d.MediaHandlers, c.MediaHandlers[k])
	}
	return json.Marshal(d)
}
