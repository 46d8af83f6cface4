package main

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"

	"github.com/pgway/pgway/internal/schemacache"
)

// The JSON of --dump-schema is pgway's own shape, not PostgREST's (whose --dump-schema says its output
// structure is unstable): the schema cache's Go types (internal/schemacache) with their field names, as lists
// sorted by schema and name, enums as text.
type schemaDump struct {
	Schemas       []string                    `json:"schemas"`
	ServerVersion int                         `json:"serverVersion"`
	Relations     []relationDump              `json:"relations"`
	Routines      []routineDump               `json:"routines"`
	Relationships []relationshipDump          `json:"relationships"`
	MediaHandlers []*schemacache.MediaHandler `json:"mediaHandlers"`
}

type relationDump struct {
	*schemacache.Relation
	Kind string
}

type routineDump struct {
	*schemacache.Routine
	Volatility string
}

type relationshipDump struct {
	*schemacache.Relationship
	Cardinality string
}

var volatility = map[byte]string{'i': "immutable", 's': "stable", 'v': "volatile"}

func byName(a, b schemacache.QName) int {
	return cmp.Or(cmp.Compare(a.Schema, b.Schema), cmp.Compare(a.Name, b.Name))
}

// dumpSchema renders c as --dump-schema's JSON.
func dumpSchema(c *schemacache.Cache) ([]byte, error) {
	d := schemaDump{Schemas: c.Schemas, ServerVersion: c.ServerVersion, Relations: []relationDump{},
		Routines: []routineDump{}, Relationships: []relationshipDump{}, MediaHandlers: []*schemacache.MediaHandler{}}
	for _, q := range slices.SortedFunc(maps.Keys(c.Relations), byName) {
		r := c.Relations[q]
		d.Relations = append(d.Relations, relationDump{Relation: r, Kind: r.Kind.String()})
	}
	for _, q := range slices.SortedFunc(maps.Keys(c.Routines), byName) {
		for _, r := range c.Routines[q] {
			d.Routines = append(d.Routines, routineDump{Routine: r, Volatility: volatility[r.Volatility]})
		}
	}
	for _, q := range slices.SortedFunc(maps.Keys(c.Relationships), byName) {
		for _, r := range c.Relationships[q] {
			d.Relationships = append(d.Relationships, relationshipDump{Relationship: r, Cardinality: r.Cardinality.String()})
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(c.MediaHandlers), func(a, b schemacache.HandlerKey) int {
		return cmp.Or(byName(a.Target, b.Target), cmp.Compare(a.Media, b.Media))
	}) {
		d.MediaHandlers = append(d.MediaHandlers, c.MediaHandlers[k])
	}
	return json.MarshalIndent(d, "", "  ")
}
