package openapi

import (
	"slices"
	"strings"

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

// nestedProp is one relationship property of an insert schema, as planned.
type nestedProp struct {
	key    string // the property: the relationship's name in a request
	rel    *schemacache.Relationship
	item   string // the component key of its rows
	before bool   // the related row is inserted first and its key fills this row's foreign key
}

// viaPlan is the schema of rows nested through one relationship (one-to-many, one-to-one from the referenced
// side): the target's insert schema without the columns the parent row fills.
type viaPlan struct {
	rel    *schemacache.Relationship
	nested []nestedProp
}

// planNestedWrites plans the relationship properties of every insert schema, then the per-relationship schemas
// they refer to (which have relationship properties of their own), handing out their keys in that order.
func (b *builder) planNestedWrites() {
	b.vias = map[*schemacache.Relationship]string{}
	keys := map[schemacache.QName]map[*schemacache.Relationship]string{}
	for _, p := range b.relList {
		if p.insertKey != "" {
			p.nested = b.planNested(p.r, nil, keys)
		}
	}
	for len(b.viaQueue) > 0 {
		v := b.viaQueue[0]
		b.viaQueue = b.viaQueue[1:]
		target := b.c.Relations[v.rel.Target]
		v.nested = b.planNested(target, v.rel.TargetColumns, keys)
		b.schemas[b.vias[v.rel]] = func() *schema { return b.viaSchema(target, v) }
	}
}

// planNested lists the relationships of r whose rows can be nested in a row to insert into r: one the role may
// insert into (and into its junction), named as a request names it alone, and that is not a column's name.
// exclude are columns of r that the row's own parent fills: a relationship that would set them too is left out.
func (b *builder) planNested(r *schemacache.Relation, exclude []string,
	keysOf map[schemacache.QName]map[*schemacache.Relationship]string) []nestedProp {
	q := schemacache.QName{Schema: r.Schema, Name: r.Name}
	keys, ok := keysOf[q]
	if !ok {
		keys = b.c.RelationshipKeys(q, b.schema)
		keysOf[q] = keys
	}
	var out []nestedProp
	for _, rel := range b.c.RelationshipsFrom(q) {
		key, ok := keys[rel]
		if !ok {
			continue
		}
		if _, isColumn := r.Column(key); isColumn {
			continue
		}
		target, ok := b.rels[rel.Target]
		if !ok || target.insertKey == "" {
			continue
		}
		before := rel.Cardinality == schemacache.ManyToOne || rel.Cardinality == schemacache.OneToOne && rel.FKOnSource
		if rel.Cardinality == schemacache.ManyToMany {
			j, ok := b.c.Relations[rel.Junction.Table]
			if !ok || !j.Insertable || !b.allowed(rel.Junction.Table, PrivInsert) {
				continue
			}
		}
		if before && slices.ContainsFunc(rel.SourceColumns, func(c string) bool { return slices.Contains(exclude, c) }) {
			continue
		}
		item := target.insertKey
		if !before && rel.Cardinality != schemacache.ManyToMany {
			item = b.viaKey(rel, target.insertKey)
		}
		out = append(out, nestedProp{key: key, rel: rel, item: item, before: before})
	}
	return out
}

// viaKey is the component key of the rows of a target nested through rel, handed out and queued to be planned
// on first use.
func (b *builder) viaKey(rel *schemacache.Relationship, targetKey string) string {
	if key, ok := b.vias[rel]; ok {
		return key
	}
	key := b.keys.unique(targetKey + "." + componentKey(rel.Constraint))
	b.vias[rel] = key
	b.viaQueue = append(b.viaQueue, &viaPlan{rel: rel})
	return key
}

// viaSchema is the schema of rows of target nested through v.rel.
func (b *builder) viaSchema(target *schemacache.Relation, v *viaPlan) *schema {
	rel := v.rel
	s := b.rowSchema(target, true, true)
	for _, c := range rel.TargetColumns {
		s.deleteProp(c)
	}
	s.required = slices.DeleteFunc(s.required, func(c string) bool { return slices.Contains(rel.TargetColumns, c) })
	s.description = "A row to insert into " + target.Name + " nested in a row of " + rel.Source.Name +
		", whose key fills " + strings.Join(rel.TargetColumns, ", ")
	b.nestedProperties(s, v.nested)
	return s
}

// nestedProperties adds the planned relationship properties to s, a schema of rows to insert.
func (b *builder) nestedProperties(s *schema, props []nestedProp) {
	for _, np := range props {
		rel := np.rel
		item := refSchema(np.item)
		desc := "pgway nested write: "
		var prop *schema
		switch {
		case rel.Cardinality == schemacache.ManyToMany:
			desc += "rows to insert into " + rel.Target.Name + ", each linked to this row by a new " + rel.Junction.Table.Name + " row"
			prop = b.nullable(arrayOf(item))
		case rel.Cardinality == schemacache.OneToMany:
			desc += "rows to insert into " + rel.Target.Name + " that reference this row"
			prop = b.nullable(arrayOf(item))
		case np.before:
			desc += "a row to insert into " + rel.Target.Name + " first; this row's " + strings.Join(rel.SourceColumns, ", ") +
				" takes its key"
			prop = b.nullable(item)
		default:
			desc += "a row to insert into " + rel.Target.Name + " that references this row"
			prop = b.nullable(item)
		}
		prop.description = desc + " (" + cardinalityNames[rel.Cardinality] + ", " + rel.Constraint + ")."
		s.props.set(np.key, prop)
		if np.before {
			// The related row's key fills the foreign key: its columns may be left out, or null.
			s.required = slices.DeleteFunc(s.required, func(c string) bool { return slices.Contains(rel.SourceColumns, c) })
			for _, c := range rel.SourceColumns {
				if p := s.prop(c); p != nil && !nullableSchema(p) {
					np := b.nullable(p)
					s.deleteProp(c)
					s.props.set(c, np)
				}
			}
		}
	}
	if len(s.required) == 0 {
		s.required = nil
	}
}

// nullableSchema reports whether s already accepts null.
func nullableSchema(s *schema) bool {
	return s.ref == "" && (s.nullable || slices.Contains(s.typ, tNull))
}
