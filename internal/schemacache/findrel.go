package schemacache

// FindRelationships is PostgREST's findRel: the relationships from parent that name (a relation, a foreign key
// or an FK column) and hint (a foreign key, a column of it, or a junction table) select, among those whose
// target is in schema (the schema being requested). Embedding (select=rel(...)) and nested writes (a body key
// naming a relationship) resolve names alike with it. A computed relationship of the same name takes precedence
// over foreign keys, as in PostgREST.
func (c *Cache) FindRelationships(parent QName, schema, name, hint string) []*Relationship {
	return c.findIn(c.RelationshipsFrom(parent), schema, name, hint)
}

// findIn is FindRelationships among rels.
func (c *Cache) findIn(rels []*Relationship, schema, name, hint string) []*Relationship {
	var out []*Relationship
	computed := false
	for _, r := range rels {
		if c.matches(r, schema, name, hint) {
			out = append(out, r)
			computed = computed || r.Computed != nil
		}
	}
	if computed {
		fks := out
		out = nil
		for _, r := range fks {
			if r.Computed != nil {
				out = append(out, r)
			}
		}
	}
	return out
}

// matches reports whether name and hint select r (see FindRelationships).
func (c *Cache) matches(r *Relationship, schema, name, hint string) bool {
	if r.Computed != nil {
		return r.Computed.Name == name
	}
	if r.Target.Schema != schema {
		// PostgREST only embeds relations of the schema being requested: versioned schemas of views over the
		// same tables would otherwise each offer the relationship.
		return false
	}
	self := r.Source == r.Target
	targetIsView := false
	if t, ok := c.Relation(r.Target.Schema, r.Target.Name); ok {
		targetIsView = t.Kind == KindView || t.Kind == KindMaterializedView
	}
	single := r.Cardinality != ManyToMany
	fkCol := single && len(r.SourceColumns) == 1 && r.SourceColumns[0] == name
	switch {
	case self && hint == "":
		return r.Target.Name == name && r.Cardinality == OneToMany ||
			fkCol && r.Cardinality == ManyToOne
	case self:
		return r.Target.Name == name && r.Cardinality == OneToMany &&
			single && len(r.TargetColumns) == 1 && r.TargetColumns[0] == hint
	case hint == "":
		return r.Target.Name == name ||
			single && r.Constraint == name && !targetIsView ||
			fkCol && !targetIsView
	default:
		return r.Target.Name == name && (single && r.Constraint == hint ||
			single && len(r.SourceColumns) == 1 && r.SourceColumns[0] == hint ||
			single && len(r.TargetColumns) == 1 && r.TargetColumns[0] == hint ||
			!single && r.Junction != nil && r.Junction.Table.Name == hint)
	}
}

// RelationshipKeys names each foreign-key relationship from parent to a relation of schema the way a request
// can select it alone: its target's name when that is unambiguous, else name!hint with the foreign key (or,
// many-to-many, the junction table) as the hint. A relationship no such name selects alone is left out. It is
// FindRelationships turned around (the OpenAPI document publishes these names), in time linear in the
// relationships.
func (c *Cache) RelationshipKeys(parent QName, schema string) map[*Relationship]string {
	rels := c.RelationshipsFrom(parent)
	if len(rels) == 0 {
		return nil
	}
	// The relationships a name may select: by target, computed function, constraint and FK column name.
	cands := map[string][]*Relationship{}
	add := func(s string, r *Relationship) {
		if l := cands[s]; len(l) == 0 || l[len(l)-1] != r {
			cands[s] = append(l, r)
		}
	}
	for _, r := range rels {
		if r.Computed != nil {
			add(r.Computed.Name, r)
			continue
		}
		add(r.Target.Name, r)
		add(r.Constraint, r)
		if len(r.SourceColumns) == 1 {
			add(r.SourceColumns[0], r)
		}
	}
	out := map[*Relationship]string{}
	for _, r := range rels {
		if r.Computed != nil || r.Target.Schema != schema {
			continue
		}
		name := r.Target.Name
		if found := c.findIn(cands[name], schema, name, ""); len(found) == 1 && found[0] == r {
			out[r] = name
			continue
		}
		hint := r.Constraint
		if r.Cardinality == ManyToMany && r.Junction != nil {
			hint = r.Junction.Table.Name
		}
		if found := c.findIn(cands[name], schema, name, hint); len(found) == 1 && found[0] == r {
			out[r] = name + "!" + hint
		}
	}
	return out
}
