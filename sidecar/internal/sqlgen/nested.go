package sqlgen

import (
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/plan"
)

// An insert with nested writes (plan.Nested) is still one statement: data-modifying CTEs, one per relation
// written, in an order that lets each use the keys it needs.
//
//	pgrst_p_N  the objects of level N (0: the body's rows; N: nested write N's), one row each: its path
//	           (its position in the body: {2}, {2,1}, ...), its parent's path and the object itself
//	pgrst_w_N  INSERT INTO level N's relation: its columns from the object, its foreign key from the parent's
//	           pgrst_w (one-to-many, one-to-one) or from a to-one child's pgrst_w (many-to-one, inserted first),
//	           joined by path; RETURNING the keys others need, the columns the representation reads and the
//	           row's path
//	pgrst_j_N  INSERT INTO the junction of many-to-many level N: one row per nested object, linking the
//	           parent's pgrst_w row to the object's
//	pgrst_source  the body's rows as the representation reads them (the columns it needs, as without nesting)
//
// RETURNING sees only the inserted row, not the SELECT that produced it, so the path travels through a
// transaction-local setting: the SELECT feeding an INSERT sets pgway.nested_N to the row's path as it
// produces the row (in its own target list, the last step before the row is inserted: PostgreSQL evaluates a
// volatile target list after the ORDER BY that inserts the rows in the body's order), and RETURNING reads it back
// for that row, before the next one is produced. A row a BEFORE trigger skips returns nothing.
//
// The representation's embeds of the nested relationships (plan.Embed.Written) read the inserted rows from
// pgrst_w_N and pgrst_j_N: the statement's snapshot does not show them in the tables. A many-to-one embed reads
// the table too (UNION ALL), for the rows that name an existing row by its foreign key instead.

// level is one INSERT of a statement with nested writes: the request's own rows (n 0) or a nested write's.
type level struct {
	n      int
	rel    *schemacache.Relation
	cols   []*schemacache.Column // the objects' columns
	node   *plan.Nested          // nil for the request's own rows
	parent *level
	kids   []*level
	// ret are the columns RETURNING gives (all: every column of rel, in order).
	ret colSet
	// readers are the representation's embeds that read the rows.
	readers []*plan.Embed
}

// colSet is a set of a relation's columns in the order they were added, or all of them.
type colSet struct {
	cols []*schemacache.Column
	all  bool
}

func (s *colSet) add(c *schemacache.Column) {
	if c == nil {
		return
	}
	if c.Function != nil {
		s.all = true // a computed field takes the whole row
		return
	}
	for _, o := range s.cols {
		if o == c {
			return
		}
	}
	s.cols = append(s.cols, c)
}

func (s *colSet) addNames(rel *schemacache.Relation, names []string) {
	for _, n := range names {
		if c, ok := rel.Column(n); ok {
			s.add(c)
		}
	}
}

// list is the set's columns: every column of rel when all.
func (s *colSet) list(rel *schemacache.Relation) []*schemacache.Column {
	if s.all {
		return rel.Columns
	}
	return s.cols
}

// nestedLevels builds the levels of m (m.Nested set) and what each must return.
func nestedLevels(m *plan.Mutate) []*level {
	top := &level{rel: m.Rel, cols: m.Columns}
	levels := []*level{top}
	byNode := map[*plan.Nested]*level{}
	var walk func(parent *level, ns []*plan.Nested)
	walk = func(parent *level, ns []*plan.Nested) {
		for _, n := range ns {
			l := &level{n: n.N, rel: n.Target, cols: n.Columns, node: n, parent: parent}
			parent.kids = append(parent.kids, l)
			levels = append(levels, l)
			byNode[n] = l
			walk(l, n.Nested)
		}
	}
	walk(top, m.Nested)

	// The request's own rows: what the representation (or the Location header) reads.
	switch {
	case m.Read != nil:
		cols, all := returnedColumns(m)
		top.ret.all = all
		for _, c := range cols {
			top.ret.add(c)
		}
	case m.Return == "headers-only":
		for _, c := range m.PrimaryKey {
			top.ret.add(c)
		}
	}
	// The representation's embeds of nested relationships read those rows.
	var readers func(r *plan.Read)
	readers = func(r *plan.Read) {
		for _, e := range r.Embeds {
			if e.Written != nil {
				l := byNode[e.Written]
				l.readers = append(l.readers, e)
				readColumns(&l.ret, e.Read)
				l.ret.addNames(l.rel, e.Rel.TargetColumns)
				for _, o := range r.Order {
					if o.Embed == e {
						l.ret.add(o.Expr.Column)
					}
				}
			}
			readers(e.Read)
		}
	}
	if m.Read != nil {
		readers(m.Read)
	}
	// The keys that link the rows.
	for _, l := range levels {
		if l.node != nil && (l.node.Before || l.node.Junction() != nil) {
			l.ret.addNames(l.rel, l.node.Rel.TargetColumns) // the parent's foreign key, the junction's
		}
		for _, k := range l.kids {
			if !k.node.Before {
				l.ret.addNames(l.rel, k.node.Rel.SourceColumns) // the children's foreign key, the junction's
			}
		}
	}
	return levels
}

// readColumns adds the columns of r's relation that reading it references.
func readColumns(s *colSet, r *plan.Read) {
	for _, o := range r.Select {
		s.add(o.Expr.Column)
	}
	for _, o := range r.Order {
		if o.Embed == nil {
			s.add(o.Expr.Column)
		}
	}
	var conds func(cs []plan.Cond)
	conds = func(cs []plan.Cond) {
		for _, c := range cs {
			if c.Leaf != nil && c.Leaf.Embed == nil {
				s.add(c.Leaf.Expr.Column)
			}
			conds(c.Children)
		}
	}
	conds(r.Where)
	for _, e := range r.Embeds {
		if e.Rel.Computed != nil {
			s.all = true // a computed relationship takes the whole row
			continue
		}
		s.addNames(r.Rel, e.Rel.SourceColumns)
	}
}

// cte writes the name of level n's CTE of a kind: pgrst_p_n, pgrst_w_n or pgrst_j_n.
func (b *builder) cte(kind fixed, n int) {
	b.sql("pgrst_")
	b.sql(kind)
	b.sql("_")
	b.num(n)
}

// nestedWith writes the CTEs of an insert with nested writes, up to and including pgrst_source, after WITH.
func (b *builder) nestedWith(m *plan.Mutate, levels []*level) {
	if b.p.written == nil {
		b.p.written = map[*plan.Nested]*level{}
	}
	for _, l := range levels {
		if l.node != nil {
			b.p.written[l.node] = l
		}
	}
	for _, l := range levels {
		b.payloadLevel(m, l)
		b.sql(", ")
	}
	var emit func(l *level)
	emit = func(l *level) {
		for _, k := range l.kids {
			if k.node.Before {
				emit(k)
			}
		}
		b.insertLevel(m, l)
		b.sql(", ")
		for _, k := range l.kids {
			if !k.node.Before {
				emit(k)
				if k.node.Junction() != nil {
					b.junctionLevel(k)
					b.sql(", ")
				}
			}
		}
	}
	emit(levels[0])
	top := levels[0]
	b.sql("pgrst_source AS (SELECT ")
	if cols := top.ret.list(top.rel); len(cols) > 0 {
		for i, c := range cols {
			if i > 0 {
				b.sql(", ")
			}
			b.name(colName(c))
		}
	} else {
		b.sql("1")
	}
	b.sql(" FROM pgrst_w_0)")
}

// payloadLevel writes pgrst_p_n: the level's objects with their paths.
func (b *builder) payloadLevel(m *plan.Mutate, l *level) {
	b.cte("p", l.n)
	b.sql(" AS (SELECT ")
	if l.parent == nil {
		root := func() {
			if m.StreamBody {
				b.sql("(SELECT body::json FROM " + StreamTable + ")")
			} else {
				b.arg(m.Payload.JSON)
				b.sql("::json")
			}
		}
		if m.Payload.Object {
			b.sql("'{1}'::bigint[] AS path, ")
			root()
			b.sql(" AS val)")
			return
		}
		b.sql("ARRAY[_e.ordinality] AS path, _e.value AS val FROM json_array_elements(")
		root()
		b.sql(") WITH ORDINALITY AS _e)")
		return
	}
	value := func() {
		b.sql("_p.val -> ")
		b.pathStep(plan.PathStep{Key: l.node.Key})
	}
	// The level's rows are made by an uncorrelated subquery into an array, unnested: the planner estimates
	// a few rows for it whatever it estimates for the levels above (set-returning functions over set-returning
	// functions multiply their 100-row estimates, and a deep body would be planned as huge, and JIT-compiled).
	b.sql("_r.parent_path, _r.path, _r.val FROM unnest(ARRAY(SELECT ROW(_p.path, ")
	if l.node.Many {
		b.sql("_p.path || _e.ordinality, _e.value) FROM ")
		b.cte("p", l.parent.n)
		b.sql(" AS _p CROSS JOIN LATERAL json_array_elements(CASE WHEN json_typeof(")
		value()
		b.sql(") = 'array' THEN ")
		value()
		b.sql(" END) WITH ORDINALITY AS _e")
	} else {
		b.sql("_p.path, ")
		value()
		b.sql(") FROM ")
		b.cte("p", l.parent.n)
		b.sql(" AS _p WHERE json_typeof(")
		value()
		b.sql(") = 'object'")
	}
	b.sql(")) AS _r(parent_path bigint[], path bigint[], val json))")
}

// setting writes the name of level n's path setting as a string literal: 'pgway.nested_n'.
func (b *builder) setting(n int) {
	b.sql("'pgway.nested_")
	b.num(n)
	b.sql("'")
}

// insertLevel writes pgrst_w_n: the INSERT of a level's rows.
func (b *builder) insertLevel(m *plan.Mutate, l *level) {
	type out struct {
		name  ident
		value func()
	}
	var outs []out
	set := map[string]bool{}
	body := func(c *schemacache.Column) func() {
		return func() {
			b.sql("pgrst_body.")
			b.name(colName(c))
		}
	}
	for _, c := range l.cols {
		outs = append(outs, out{colName(c), body(c)})
		set[c.Name] = true
	}
	// The foreign key to the parent row (one-to-many, one-to-one).
	if n := l.node; n != nil && !n.Before && n.Junction() == nil {
		for i := range n.Rel.TargetColumns {
			source, target := relationshipCols(n.Rel, i)
			outs = append(outs, out{target, func() {
				b.sql("_parent.")
				b.name(source)
			}})
		}
	}
	// The foreign keys to the rows of to-one nested writes, inserted before: their key, else the column's own
	// value or default.
	for _, k := range l.kids {
		if !k.node.Before {
			continue
		}
		for i, name := range k.node.Rel.SourceColumns {
			source, target := relationshipCols(k.node.Rel, i)
			kn := k.n
			col, _ := l.rel.Column(name)
			var fallback func()
			switch {
			case set[name]:
				fallback = body(col)
			case col != nil && col.Default != "":
				fallback = func() { b.catalog(colDefault(col)) }
			}
			value := func() {
				if fallback != nil {
					b.sql("coalesce(")
				}
				b.cte("w", kn)
				b.sql(".")
				b.name(target)
				if fallback != nil {
					b.sql(", ")
					fallback()
					b.sql(")")
				}
			}
			if set[name] {
				for j := range outs {
					if outs[j].name == source {
						outs[j].value = value
					}
				}
				continue
			}
			set[name] = true
			outs = append(outs, out{source, value})
		}
	}

	b.cte("w", l.n)
	b.sql(" AS (INSERT INTO ")
	b.qualified(relName(l.rel))
	a := alias{rel: l.rel}
	b.sql(" AS ")
	b.alias(a)
	if len(outs) > 0 {
		b.sql(" (")
		for i, o := range outs {
			if i > 0 {
				b.sql(", ")
			}
			b.name(o.name)
		}
		b.sql(")")
	}
	b.sql(" SELECT ")
	for i, o := range outs {
		if i > 0 {
			b.sql(", ")
		}
		b.sql("_s.")
		b.name(o.name)
	}
	// The rows in a subquery that sets the path setting in its target list, kept from being flattened (OFFSET
	// 0): the setting is made for each row as it is produced, then the row is inserted.
	b.sql(" FROM (SELECT ")
	for _, o := range outs {
		o.value()
		b.sql(" AS ")
		b.name(o.name)
		b.sql(", ")
	}
	b.sql("set_config(")
	b.setting(l.n)
	b.sql(", _p.path::text, true) AS pgrst_path FROM ")
	b.cte("p", l.n)
	b.sql(" AS _p")
	if n := l.node; n != nil && !n.Before && n.Junction() == nil {
		b.sql(" JOIN ")
		b.cte("w", l.parent.n)
		b.sql(" AS _parent ON _parent.pgrst_path = _p.parent_path")
	}
	for _, k := range l.kids {
		if k.node.Before {
			b.sql(" LEFT JOIN ")
			b.cte("w", k.n)
			b.sql(" ON ")
			b.cte("w", k.n)
			b.sql(".pgrst_path = _p.path")
		}
	}
	if len(l.cols) > 0 {
		b.sql(" CROSS JOIN LATERAL (SELECT ")
		b.recordColumns(l.cols)
		if m.ApplyDefaults {
			b.sql(" FROM jsonb_to_record(")
			b.defaultsObject(l.cols)
			b.sql(" || _p.val::jsonb) AS _")
		} else {
			b.sql(" FROM json_to_record(_p.val) AS _")
		}
		b.recordDefinition(l.cols)
		b.sql(") AS pgrst_body")
	}
	b.sql(" ORDER BY _p.path OFFSET 0) _s RETURNING ")
	for _, c := range l.ret.list(l.rel) {
		b.alias(a)
		b.sql(".")
		b.name(colName(c))
		b.sql(", ")
	}
	b.sql("current_setting(")
	b.setting(l.n)
	b.sql(")::bigint[] AS pgrst_path)")
}

// junctionLevel writes pgrst_j_n: the junction rows linking many-to-many level n's rows to their parents.
func (b *builder) junctionLevel(l *level) {
	j := l.node.Junction()
	b.cte("j", l.n)
	b.sql(" AS (INSERT INTO ")
	b.qualified(junctionTable(j))
	b.sql(" (")
	b.junctionColumns(j)
	b.sql(") SELECT ")
	for i := range j.SourceColumns {
		source, _ := relationshipCols(l.node.Rel, i)
		b.sql("_parent.")
		b.name(source)
		b.sql(", ")
	}
	for i := range j.TargetColumns {
		if i > 0 {
			b.sql(", ")
		}
		_, target := relationshipCols(l.node.Rel, i)
		b.sql("_t.")
		b.name(target)
	}
	b.sql(" FROM ")
	b.cte("w", l.n)
	b.sql(" AS _t JOIN ")
	b.cte("p", l.n)
	b.sql(" AS _p ON _p.path = _t.pgrst_path JOIN ")
	b.cte("w", l.parent.n)
	b.sql(" AS _parent ON _parent.pgrst_path = _p.parent_path")
	if len(l.readers) > 0 {
		b.sql(" RETURNING ")
		b.junctionColumns(j)
	}
	b.sql(")")
}

// junctionColumns writes the junction's source then target columns.
func (b *builder) junctionColumns(j *schemacache.Junction) {
	for i := range j.SourceColumns {
		if i > 0 {
			b.sql(", ")
		}
		b.name(junctionSourceCol(j, i))
	}
	for i := range j.TargetColumns {
		b.sql(", ")
		b.name(junctionTargetCol(j, i))
	}
}

// writtenRows writes the FROM item of an embed whose rows a nested write inserted: those rows (with the
// table's for a many-to-one embed), as a subquery of the columns read, aliased as the embed's table.
func (b *builder) writtenRows(e *plan.Embed) {
	l := b.p.written[e.Written]
	cols := l.ret.list(l.rel)
	list := func() {
		for i, c := range cols {
			if i > 0 {
				b.sql(", ")
			}
			b.name(colName(c))
		}
	}
	b.sql("(SELECT ")
	list()
	if l.node.Before {
		b.sql(" FROM ")
		b.qualified(relName(l.rel))
		b.sql(" UNION ALL SELECT ")
		list()
	}
	b.sql(" FROM ")
	b.cte("w", l.n)
	b.sql(") AS ")
	b.readAlias(e.Read)
}

// writtenJunction writes the FROM item of a many-to-many embed's junction rows that a nested write inserted.
func (b *builder) writtenJunction(e *plan.Embed) {
	l := b.p.written[e.Written]
	b.sql("(SELECT ")
	b.junctionColumns(l.node.Junction())
	b.sql(" FROM ")
	b.cte("j", l.n)
	b.sql(")")
}
