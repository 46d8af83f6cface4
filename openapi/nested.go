package openapi

import (
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/pgway/pgway/internal/schemacache"
)

// Nested writes (pgway's): an insert body's key that is not a column but names a relationship, as select=
// names an embed, holds related rows to insert in the same statement. Each insert schema lists those keys as
// optional properties: a to-one relationship takes one row, a to-many one an array of rows. The rows of a
// many-to-one (and one-to-one, from the side holding the key) relationship are rows of the target's insert
// schema, and their key fills the foreign key (whose columns are then not required); those of a one-to-many
// relationship are rows of a schema per relationship, the target's insert schema without the foreign key that
// the row they are nested in fills ("<target>_insert.<constraint>"); many-to-many rows are the target's
// insert schema, linked by new junction rows. The server's validator checks nested bodies the same way.

// nestedWrites is what the builder keeps to describe nested writes.
type nestedWrites struct {
	insertKey map[schemacache.QName]string // a relation's insert schema (only for relations the role may insert into)
	viaKey    map[*schemacache.Relationship]string
	pending   []*schemacache.Relationship // via schemas to fill
	keys      map[schemacache.QName]map[*schemacache.Relationship]string
}

func newNestedWrites() *nestedWrites {
	return &nestedWrites{insertKey: map[schemacache.QName]string{}, viaKey: map[*schemacache.Relationship]string{},
		keys: map[schemacache.QName]map[*schemacache.Relationship]string{}}
}

// addNestedWrites adds the relationship properties to every insert schema, then fills the per-relationship
// schemas they refer to (which have relationship properties of their own).
func (b *builder) addNestedWrites(rels []*schemacache.Relation) {
	for _, r := range rels {
		q := schemacache.QName{Schema: r.Schema, Name: r.Name}
		if key, ok := b.nested.insertKey[q]; ok {
			b.nestedProperties(r, b.doc.Components.Schemas[key].Value, nil)
		}
	}
	for len(b.nested.pending) > 0 {
		rel := b.nested.pending[0]
		b.nested.pending = b.nested.pending[1:]
		target := b.c.Relations[rel.Target]
		via := b.doc.Components.Schemas[b.nested.viaKey[rel]].Value
		*via = *b.rowSchema(target, true, true)
		for _, c := range rel.TargetColumns {
			delete(via.Properties, c)
		}
		via.Required = slices.DeleteFunc(via.Required, func(c string) bool { return slices.Contains(rel.TargetColumns, c) })
		via.Description = "A row to insert into " + target.Name + " nested in a row of " + rel.Source.Name +
			", whose key fills " + strings.Join(rel.TargetColumns, ", ")
		b.nestedProperties(target, via, rel.TargetColumns)
	}
}

// nestedProperties adds to s, a schema of rows to insert into r, a property for each relationship of r whose
// rows can be nested: one the role may insert into (and into its junction), named as a request names it alone,
// and that is not a column's name. exclude are columns of r that the row's own parent fills: a relationship that
// would set them too is left out.
func (b *builder) nestedProperties(r *schemacache.Relation, s *openapi3.Schema, exclude []string) {
	q := schemacache.QName{Schema: r.Schema, Name: r.Name}
	keys, ok := b.nested.keys[q]
	if !ok {
		keys = b.c.RelationshipKeys(q, b.schema)
		b.nested.keys[q] = keys
	}
	for _, rel := range b.c.RelationshipsFrom(q) {
		key, ok := keys[rel]
		if !ok {
			continue
		}
		if _, isColumn := r.Column(key); isColumn {
			continue
		}
		targetKey, ok := b.nested.insertKey[rel.Target]
		if !ok {
			continue
		}
		before := rel.Cardinality == schemacache.ManyToOne || rel.Cardinality == schemacache.OneToOne && rel.FKOnSource
		m2m := rel.Cardinality == schemacache.ManyToMany
		if m2m {
			j, ok := b.c.Relations[rel.Junction.Table]
			if !ok || !j.Insertable || !b.allowed(rel.Junction.Table, PrivInsert) {
				continue
			}
		}
		if before && slices.ContainsFunc(rel.SourceColumns, func(c string) bool { return slices.Contains(exclude, c) }) {
			continue
		}
		item := b.schemaRef(targetKey)
		if !before && !m2m {
			item = b.schemaRef(b.viaKey(rel, targetKey))
		}
		desc := "pgway nested write: "
		var prop *openapi3.SchemaRef
		switch {
		case m2m:
			desc += "rows to insert into " + rel.Target.Name + ", each linked to this row by a new " + rel.Junction.Table.Name + " row"
			prop = b.nullable(arrayOf(item))
		case rel.Cardinality == schemacache.OneToMany:
			desc += "rows to insert into " + rel.Target.Name + " that reference this row"
			prop = b.nullable(arrayOf(item))
		case before:
			desc += "a row to insert into " + rel.Target.Name + " first; this row's " + strings.Join(rel.SourceColumns, ", ") +
				" takes its key"
			prop = b.nullable(item)
		default:
			desc += "a row to insert into " + rel.Target.Name + " that references this row"
			prop = b.nullable(item)
		}
		if prop.Ref == "" {
			prop.Value.Description = desc + " (" + cardinalityNames[rel.Cardinality] + ", " + rel.Constraint + ")."
		}
		s.Properties[key] = prop
		if before {
			// The related row's key fills the foreign key: its columns may be left out, or null.
			s.Required = slices.DeleteFunc(s.Required, func(c string) bool { return slices.Contains(rel.SourceColumns, c) })
			for _, c := range rel.SourceColumns {
				if p := s.Properties[c]; p != nil && !nullableSchema(p) {
					s.Properties[c] = b.nullable(p)
				}
			}
		}
	}
	if len(s.Required) == 0 {
		s.Required = nil
	}
}

// viaKey is the component key of the rows of target nested through rel (one-to-many, one-to-one from the
// referenced side), made and queued to be filled on first use.
func (b *builder) viaKey(rel *schemacache.Relationship, targetKey string) string {
	if key, ok := b.nested.viaKey[rel]; ok {
		return key
	}
	key := b.keys.unique(targetKey + "." + componentKey(rel.Constraint))
	b.nested.viaKey[rel] = key
	b.doc.Components.Schemas[key] = &openapi3.SchemaRef{Value: &openapi3.Schema{}}
	b.nested.pending = append(b.nested.pending, rel)
	return key
}

// nullableSchema reports whether ref already accepts null.
func nullableSchema(ref *openapi3.SchemaRef) bool {
	if ref.Ref != "" || ref.Value == nil {
		return false
	}
	v := ref.Value
	return v.Nullable || v.Type != nil && v.Type.Includes(openapi3.TypeNull)
}
