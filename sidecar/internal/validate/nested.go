package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pgway/pgway/internal/schemacache"
)

// Nested writes: an insert's body key that is not a column but names a relationship holds related rows
// (plan.Nested). InsertBody checks them against their relation as the OpenAPI document's insert schemas
// describe them; keys whose value has the wrong shape, or that name no relationship or several, are left to
// planning (PGRST102, PGRST204, PGRST200/201).

// nestedRel is a body key resolved to the relationship it names.
type nestedRel struct {
	rel    *schemacache.Relationship
	target *Relation
	many   bool // an array of objects (one-to-many, many-to-many), else one object
	before bool // the parent's foreign key takes the nested row's key (many-to-one, one-to-one from the key's side)
}

// nested resolves key of r's objects to the relationship it names (nil when it names none, or several), as
// planning does; memo keeps what one body's check resolved.
func (r *Relation) nested(key string, memo map[nestedKey]*nestedRel) *nestedRel {
	if r.set == nil || r.set.cache == nil {
		return nil
	}
	mk := nestedKey{r, key}
	if nr, ok := memo[mk]; ok {
		return nr
	}
	var out *nestedRel
	name, hint, _ := strings.Cut(key, "!")
	rels := r.set.cache.FindRelationships(r.q, r.q.Schema, name, hint)
	if len(rels) == 1 && rels[0].Computed == nil &&
		(rels[0].Cardinality != schemacache.ManyToMany || rels[0].Junction != nil) {
		rel := rels[0]
		if t := r.set.rels[rel.Target]; t != nil {
			out = &nestedRel{rel: rel, target: t,
				many:   rel.Cardinality == schemacache.OneToMany || rel.Cardinality == schemacache.ManyToMany,
				before: rel.Cardinality == schemacache.ManyToOne || rel.Cardinality == schemacache.OneToOne && rel.FKOnSource}
		}
	}
	if memo != nil {
		memo[mk] = out
	}
	return out
}

type nestedKey struct {
	r   *Relation
	key string
}

// sets lists the columns of the nested rows that the relationship fills from their parent (one-to-many,
// one-to-one from the referenced side).
func (nr *nestedRel) sets() []string {
	if nr.before || nr.rel.Cardinality == schemacache.ManyToMany {
		return nil
	}
	return nr.rel.TargetColumns
}

// InsertBody checks the JSON body of a plain insert on r: what Body checks, and the related rows nested under
// relationship keys with their own fields and required columns (their foreign key to the row they are nested
// in excepted). The body's own rows' required columns are Required's. It decodes the body only when a key
// (keys: the body's) is not a column.
func (r *Relation) InsertBody(body []byte, keys []string, p *Problems) {
	if r == nil {
		return
	}
	nested := false
	for _, k := range keys {
		if r.cols[k] == nil {
			nested = true
		}
	}
	if !nested {
		r.Body(body, p)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return
	}
	memo := map[nestedKey]*nestedRel{}
	switch t := v.(type) {
	case map[string]any:
		r.insertObject(t, "", nil, false, memo, p)
	case []any:
		for i, el := range t {
			if obj, ok := el.(map[string]any); ok {
				r.insertObject(obj, "/"+strconv.Itoa(i), nil, false, memo, p)
			}
		}
	}
}

// insertObject checks one row to insert into r: its columns, its nested rows and, with required, its required
// columns but those set (filled by the relationship it is nested through).
func (r *Relation) insertObject(obj map[string]any, ptr string, set []string, required bool, memo map[nestedKey]*nestedRel, p *Problems) {
	if required {
		if !slices.Contains(p.nested, r.q) {
			p.nested = append(p.nested, r.q)
		}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sortStrings(keys)
	given := slices.Clone(set)
	for _, k := range keys {
		if col := r.cols[k]; col != nil {
			col.checkJSON(obj[k], loc{kind: locBody, ptr: ptr, name: k}, p)
			given = append(given, k)
			continue
		}
		nr := r.nested(k, memo)
		if nr == nil {
			continue
		}
		at := ptr + "/" + strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
		switch v := obj[k].(type) {
		case []any:
			if !nr.many {
				continue
			}
			for i, el := range v {
				if child, ok := el.(map[string]any); ok {
					nr.target.insertObject(child, at+"/"+strconv.Itoa(i), nr.sets(), true, memo, p)
				}
			}
		case map[string]any:
			if nr.many {
				continue
			}
			if nr.before {
				given = append(given, nr.rel.SourceColumns...)
			}
			nr.target.insertObject(v, at, nr.sets(), true, memo, p)
		}
	}
	if !required {
		return
	}
	for _, c := range r.required {
		if !slices.Contains(given, c) {
			p.add("23502", fmt.Sprintf("null value in column %q of relation %q violates not-null constraint", c, r.name),
				loc{kind: locBody, ptr: ptr, name: c}, "required (NOT NULL without a default), missing")
		}
	}
}
