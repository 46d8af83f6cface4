package schemacache

import "slices"

// tracer follows view columns down to the table columns they expose, through views over views.
type tracer struct {
	cat *catalog
	// origin maps an exposed view's OID to, per view column position, the base-table column it shows.
	origin map[uint32]map[int]colRef
	oidOf  map[*Relation]uint32
	// shown maps view OID → base table OID → base column number → the view's column names showing it.
	shown map[uint32]map[uint32]map[int][]string
	// viewsOf lists, per base table OID, the exposed views showing some of its columns (in view order).
	viewsOf map[uint32][]*Relation
}

func newTracer(cat *catalog) *tracer {
	t := &tracer{cat: cat, origin: map[uint32]map[int]colRef{}, oidOf: map[*Relation]uint32{},
		shown: map[uint32]map[uint32]map[int][]string{}, viewsOf: map[uint32][]*Relation{}}
	for oid, r := range cat.relByOID {
		t.oidOf[r] = oid
	}
	for _, r := range t.views() {
		oid := t.oidOf[r]
		m := map[int]colRef{}
		byTable := map[uint32]map[int][]string{}
		for _, c := range r.Columns {
			ref, ok := t.trace(colRef{oid, c.Position})
			if !ok {
				continue
			}
			m[c.Position] = ref
			if byTable[ref.rel] == nil {
				byTable[ref.rel] = map[int][]string{}
				t.viewsOf[ref.rel] = append(t.viewsOf[ref.rel], r)
			}
			byTable[ref.rel][ref.col] = append(byTable[ref.rel][ref.col], c.Name)
		}
		t.origin[oid] = m
		t.shown[oid] = byTable
	}
	return t
}

// trace follows a view column to the non-view column it comes from.
func (t *tracer) trace(ref colRef) (colRef, bool) {
	for depth := 0; depth < 100; depth++ {
		cols, isView := t.cat.views[ref.rel]
		if !isView {
			return ref, depth > 0
		}
		next, ok := cols[ref.col]
		if !ok {
			return colRef{}, false
		}
		ref = next
	}
	return colRef{}, false
}

// views returns the exposed views in a stable order.
func (t *tracer) views() []*Relation {
	var vs []*Relation
	for _, r := range t.cat.relations {
		if r.Kind == KindView || r.Kind == KindMaterializedView {
			vs = append(vs, r)
		}
	}
	return vs
}

// viewNullability makes a view column NOT NULL when it shows a NOT NULL table column unchanged.
func (t *tracer) viewNullability() {
	for _, v := range t.views() {
		m := t.origin[t.oidOf[v]]
		for _, c := range v.Columns {
			if ref, ok := m[c.Position]; ok && slices.Contains(t.cat.notNull[ref.rel], ref.col) {
				c.Nullable = false
			}
		}
	}
}

// viewPrimaryKeys gives a view the primary key of every base table whose primary-key columns it all shows,
// concatenated in the order the tables first appear among the view's columns (as PostgREST does: a join view
// showing both tables' keys gets both). A key column shown several times is named by its first view column.
func (t *tracer) viewPrimaryKeys() {
	pks := map[uint32]constraint{}
	for _, k := range t.cat.cons {
		if k.typ == 'p' {
			pks[k.rel] = k
		}
	}
	for _, v := range t.views() {
		m := t.origin[t.oidOf[v]]
		seen := map[uint32]bool{}
		var pk []string
		for _, c := range v.Columns {
			ref, ok := m[c.Position]
			if !ok || seen[ref.rel] {
				continue
			}
			seen[ref.rel] = true
			k, ok := pks[ref.rel]
			if !ok {
				continue
			}
			if cols, ok := t.mapKey(v, ref.rel, k.colNums); ok {
				pk = append(pk, cols[0]...)
			}
		}
		v.PrimaryKey = pk
	}
}

// mapKey expresses a key of table (by column numbers) in a view's column names. When a table column is
// shown several times, every combination is returned (first names first); ok is false unless every key
// column is shown.
func (t *tracer) mapKey(view *Relation, table uint32, colNums []int) ([][]string, bool) {
	vc := t.shown[t.oidOf[view]][table]
	combos := [][]string{nil}
	for _, n := range colNums {
		names := vc[n]
		if len(names) == 0 {
			return nil, false
		}
		var next [][]string
		for _, prefix := range combos {
			for _, name := range names {
				next = append(next, append(slices.Clone(prefix), name))
			}
		}
		combos = next
	}
	return combos, true
}
