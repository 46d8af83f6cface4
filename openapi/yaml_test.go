package openapi_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/openapi"
)

// TestYAMLOddScalars: the YAML written directly is the one kin-openapi's document converts to, for names,
// comments and labels that YAML must quote, write as literal blocks or as complex keys.
func TestYAMLOddScalars(t *testing.T) {
	odd := []string{"yes", "No", "null", "on", "~", "200", "1e5", "0x1F", "-dash", ".dot", "#hash", "a: b", "a #b",
		"trailing ", " leading", "", "'quoted'", `"double"`, "tab\there", "multi\nline", "multi\n\nblank\n", "é ü 漢字",
		"[flow]", "{flow}", "*alias", "&anchor", "!tag", "%pct", "@at", "`tick", "|pipe", ">fold", "x\u2028y",
		strings.Repeat("long", 40), "line\r\nbreak", "  \n  indented\n", "key:", "- item", "? q", "1:20", "ctrl\x01",
	}
	c := &schemacache.Cache{Schemas: []string{"api"}, Relations: map[schemacache.QName]*schemacache.Relation{},
		Routines: map[schemacache.QName][]*schemacache.Routine{}}
	for i, name := range odd {
		if name == "" {
			continue
		}
		mood := col(name, "api.mood", "api.mood", 'E', true)
		mood.EnumValues = []string{"happy", name, "multi\nline label", "yes"}
		mood.Comment = odd[(i+1)%len(odd)]
		r := &schemacache.Relation{Schema: "api", Name: name, Kind: schemacache.KindTable, Comment: odd[(i+2)%len(odd)],
			PrimaryKey: []string{"id"}, Insertable: true, Updatable: true, Deletable: true,
			Columns: []*schemacache.Column{col("id", "integer", "integer", 'N', false), mood}}
		c.Relations[schemacache.QName{Schema: "api", Name: name}] = r
	}
	for _, version := range []string{"3.0", "3.1"} {
		opts := openapi.Options{Version: version, Description: "multi\nline\n\n  indented", Title: "yes"}
		doc, err := openapi.Build(c, opts)
		if err != nil {
			t.Fatal(err)
		}
		want, err := openapi.Marshal(doc, "yaml")
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := openapi.Write(&got, c, opts, "yaml"); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			g, w := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
			for i := range min(len(g), len(w)) {
				if g[i] != w[i] {
					t.Fatalf("%s: line %d: %q, want %q", version, i+1, g[i], w[i])
				}
			}
			t.Fatalf("%s: %d lines, want %d", version, len(g), len(w))
		}
	}
}
