package schemacache

// FindRelationships is PostgREST's findRel: the relationships from parent that name (a relation, a foreign key
// or an FK column) and hint (a foreign key, a column of it, or a junction table) select, among those whose
// target is in schema (the schema being requested). Embedding (select=rel(...)) and nested writes (a body key
// naming a relationship) resolve names alike with it. A computed relationship of the same name takes precedence
// over foreign keys, as in PostgREST.
func (c *Cache) FindRelationships(parent QName, schema, name, hint string) []*Relationship {
	var out []*Relationship
	for _, r := range c.RelationshipsFrom(parent) {
		if r.Computed != nil {
			if r.Computed.Name == name {
				out = append(out, r)
			}
			continue
		}
		if r.Target.Schema != schema {
			// PostgREST only embeds relations of the schema being requested: versioned schemas of views over
			// the same tables would otherwise each offer the relationship.
			continue
		}
		self := r.Source == r.Target
		targetIsView := false
		if t, ok := c.Relation(r.Target.Schema, r.Target.Name); ok {
			targetIsView = t.Kind == KindView || t.Kind == KindMaterializedView
		}
		single := r.Cardinality != ManyToMany
		fkCol := single && len(r.SourceColumns) == 1 && r.SourceColumns[0] == name
		var match bool
		switch {
		case self && hint == "":
			match = r.Target.Name == name && r.Cardinality == OneToMany ||
				fkCol && r.Cardinality == ManyToOne
		case self:
			match = r.Target.Name == name && r.Cardinality == OneToMany &&
				single && len(r.TargetColumns) == 1 && r.TargetColumns[0] == hint
		case hint == "":
			match = r.Target.Name == name ||
				single && r.Constraint == name && !targetIsView ||
				fkCol && !targetIsView
		default:
			match = r.Target.Name == name && (single && r.Constraint == hint ||
				single && len(r.SourceColumns) == 1 && r.SourceColumns[0] == hint ||
				single && len(r.TargetColumns) == 1 && r.TargetColumns[0] == hint ||
				!single && r.Junction != nil && r.Junction.Table.Name == hint)
		}
		if match {
			out = append(out, r)
		}
	}
	var computed []*Relationship
	for _, r := range out {
		if r.Computed != nil {
			computed = append(computed, r)
		}
	}
	if len(computed) > 0 {
		return computed
	}
	return out
}
