package schemacache

import (
	"cmp"
	"slices"
	"strings"
)

// edge is one foreign key, from a table or from a view showing the key's columns, to a table or a view
// showing the referenced columns.
type edge struct {
	name    string
	src     QName
	srcCols []string
	tgt     QName
	tgtCols []string
	o2o     bool // the FK columns are also a primary or unique key of the source table
}

// buildRelationships derives every relationship PostgREST would: M2O and O2M for each foreign key, O2O when
// the FK columns are a key, M2M through junctions, and all of them again for views that show the key columns.
// Only relationships whose source, target (and junction) are in exposed schemas are kept.
func buildRelationships(cat *catalog, tr *tracer, schemas []string) map[QName][]*Relationship {
	keys := map[QName][][]string{} // primary and unique keys, for O2O and junction detection
	for _, k := range cat.cons {
		if k.typ == 'p' || k.typ == 'u' {
			keys[k.relName] = append(keys[k.relName], k.cols)
		}
	}
	var edges []edge
	for _, k := range cat.cons {
		if k.typ != 'f' {
			continue
		}
		o2o := slices.ContainsFunc(keys[k.relName], func(key []string) bool { return sameSet(key, k.cols) })
		base := edge{name: k.name, src: k.relName, srcCols: k.cols, tgt: k.refName, tgtCols: k.refCols, o2o: o2o}
		edges = append(edges, base)
		type side struct {
			name QName
			cols [][]string
		}
		var srcViews, tgtViews []side
		for _, v := range tr.viewsOf[k.rel] {
			if combos, ok := tr.mapKey(v, k.rel, k.colNums); ok {
				srcViews = append(srcViews, side{QName{v.Schema, v.Name}, combos})
			}
		}
		for _, v := range tr.viewsOf[k.ref] {
			if combos, ok := tr.mapKey(v, k.ref, k.refColNums); ok {
				tgtViews = append(tgtViews, side{QName{v.Schema, v.Name}, combos})
			}
		}
		for _, s := range srcViews {
			for _, cols := range s.cols {
				edges = append(edges, edge{k.name, s.name, cols, k.refName, k.refCols, o2o})
			}
		}
		for _, t := range tgtViews {
			for _, cols := range t.cols {
				edges = append(edges, edge{k.name, k.relName, k.cols, t.name, cols, o2o})
			}
		}
		for _, s := range srcViews {
			for _, t := range tgtViews {
				for _, sc := range s.cols {
					for _, tc := range t.cols {
						edges = append(edges, edge{k.name, s.name, sc, t.name, tc, o2o})
					}
				}
			}
		}
	}
	for _, r := range cat.relations {
		if (r.Kind == KindView || r.Kind == KindMaterializedView) && len(r.PrimaryKey) > 0 {
			q := QName{r.Schema, r.Name}
			keys[q] = append(keys[q], r.PrimaryKey)
		}
	}

	exposed := func(q QName) bool { return slices.Contains(schemas, q.Schema) }
	out := map[QName][]*Relationship{}
	add := func(r *Relationship) {
		if exposed(r.Source) && exposed(r.Target) && (r.Junction == nil || exposed(r.Junction.Table)) {
			out[r.Source] = append(out[r.Source], r)
		}
	}
	for _, e := range edges {
		fwd, inv := ManyToOne, OneToMany
		if e.o2o {
			fwd, inv = OneToOne, OneToOne
		}
		add(&Relationship{Source: e.src, Target: e.tgt, Cardinality: fwd, Constraint: e.name,
			SourceColumns: e.srcCols, TargetColumns: e.tgtCols, FKOnSource: true})
		add(&Relationship{Source: e.tgt, Target: e.src, Cardinality: inv, Constraint: e.name,
			SourceColumns: e.tgtCols, TargetColumns: e.srcCols})
	}
	// Many-to-many: two different FKs of one junction whose columns both belong to one of its keys.
	byJunction := map[QName][]edge{}
	for _, e := range edges {
		byJunction[e.src] = append(byJunction[e.src], e)
	}
	for j, es := range byJunction {
		for _, e1 := range es {
			for _, e2 := range es {
				// PostgREST pairs many-to-one FKs only (an FK that is itself a key makes the table no junction).
				if e1.name == e2.name || e1.o2o || e2.o2o {
					continue
				}
				if !slices.ContainsFunc(keys[j], func(key []string) bool {
					return subset(e1.srcCols, key) && subset(e2.srcCols, key)
				}) {
					continue
				}
				add(&Relationship{
					Source: e1.tgt, Target: e2.tgt, Cardinality: ManyToMany, Constraint: e1.name,
					SourceColumns: e1.tgtCols, TargetColumns: e2.tgtCols,
					Junction: &Junction{Table: j, SourceConstraint: e1.name, TargetConstraint: e2.name,
						SourceColumns: e1.srcCols, TargetColumns: e2.srcCols},
				})
			}
		}
	}
	for _, rels := range out {
		slices.SortStableFunc(rels, compareRelationships)
	}
	return out
}

func compareRelationships(a, b *Relationship) int {
	if c := cmp.Compare(a.Target.Schema, b.Target.Schema); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Target.Name, b.Target.Name); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Cardinality, b.Cardinality); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Constraint, b.Constraint); c != 0 {
		return c
	}
	if c := cmp.Compare(junctionKey(a), junctionKey(b)); c != 0 {
		return c
	}
	if c := slices.Compare(a.SourceColumns, b.SourceColumns); c != 0 {
		return c
	}
	return slices.Compare(a.TargetColumns, b.TargetColumns)
}

func junctionKey(r *Relationship) string {
	if r.Junction == nil {
		return ""
	}
	return r.Junction.Table.Schema + "." + r.Junction.Table.Name + "." + r.Junction.TargetConstraint + "." +
		strings.Join(r.Junction.SourceColumns, ",") + "." + strings.Join(r.Junction.TargetColumns, ",")
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func sameSet(a, b []string) bool { return len(a) == len(b) && subset(a, b) && subset(b, a) }
