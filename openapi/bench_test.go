package openapi_test

import (
	"fmt"
	"testing"

	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/openapi"
)

// BenchmarkBuild builds a document for 300 tables of 20 columns and 100 functions.
func BenchmarkBuild(b *testing.B) {
	c := &schemacache.Cache{Schemas: []string{"api"}, Relations: map[schemacache.QName]*schemacache.Relation{},
		Routines: map[schemacache.QName][]*schemacache.Routine{}}
	for i := range 300 {
		r := &schemacache.Relation{Schema: "api", Name: fmt.Sprintf("table_%d", i), PrimaryKey: []string{"c0"},
			Insertable: true, Updatable: true, Deletable: true}
		for j := range 20 {
			r.Columns = append(r.Columns, col(fmt.Sprintf("c%d", j), "integer", "integer", 'N', j > 0))
		}
		c.Relations[schemacache.QName{Schema: "api", Name: r.Name}] = r
	}
	for i := range 100 {
		name := fmt.Sprintf("fn_%d", i)
		c.Routines[schemacache.QName{Schema: "api", Name: name}] = []*schemacache.Routine{{Schema: "api", Name: name,
			Volatility: 's', ReturnType: "integer", ReturnsScalar: true,
			Params: []schemacache.RoutineParam{{Name: "a", Type: "integer"}, {Name: "b", Type: "text"}}}}
	}
	for _, version := range []string{"3.0", "3.1"} {
		b.Run(version, func(b *testing.B) {
			for b.Loop() {
				doc, err := openapi.Build(c, openapi.Options{Version: version})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := openapi.Marshal(doc, "json"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
