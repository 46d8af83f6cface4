package sqlgen

import (
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/plan"
)

// foundColumn is the column every embed's LATERAL subquery carries to tell whether it matched: true (to-one)
// or the row count (to-many), NULL when nothing matched.
const foundColumn = `"pgrst_found"`

// embedSelects writes the parent's select-list items for its embeds: the JSON object or array under the embed's
// key, or a spread embed's columns.
func (b *builder) embedSelects(r *plan.Read, first bool) {
	sep := func() {
		if !first {
			b.sql(", ")
		}
		first = false
	}
	for _, e := range r.Embeds {
		if e.Empty {
			continue
		}
		if e.Spread {
			var aggs []hoisted
			if e.ToOne && !r.Hoisted {
				aggs = hoistedAggs(e.Read)
			}
			for i, k := range outputKeys(e.Read) {
				sep()
				switch {
				case !e.ToOne:
					b.sql("coalesce(")
					b.lateralColumn(e, k)
					b.sql(", '[]')")
				case i < len(aggs) && aggs[i].agg != plan.AggNone:
					// An aggregate of the spread embed, computed over this level's rows and groups.
					b.sql(aggregates[aggs[i].agg])
					b.sql("(")
					b.lateralColumn(e, k)
					b.sql(")")
					if aggs[i].cast != nil {
						b.sql("::")
						b.catalog(castType(aggs[i].cast))
					}
				default:
					b.lateralColumn(e, k)
				}
				b.sql(" AS ")
				b.key(k)
			}
			continue
		}
		sep()
		if !e.ToOne {
			b.sql("coalesce(")
		}
		b.lateral(e.Lateral)
		b.sql(".body")
		if !e.ToOne {
			b.sql(", '[]')")
		}
		b.sql(" AS ")
		b.key(e.Key)
	}
}

// lateralColumn writes "pgrst_n"."key": a column of an embed's LATERAL subquery.
func (b *builder) lateralColumn(e *plan.Embed, k plan.Key) {
	b.lateral(e.Lateral)
	b.sql(".")
	b.key(k)
}

// outputKeys are the keys a read renders: its columns, then its embeds' (spread ones flattened).
func outputKeys(r *plan.Read) []plan.Key {
	out := make([]plan.Key, 0, len(r.Select)+len(r.Embeds))
	for _, o := range r.Select {
		out = append(out, o.Key)
	}
	for _, e := range r.Embeds {
		switch {
		case e.Empty:
		case e.Spread:
			out = append(out, outputKeys(e.Read)...)
		default:
			out = append(out, e.Key)
		}
	}
	return out
}

// joins writes the LATERAL subqueries of r's embeds, to follow r's FROM item.
func (b *builder) joins(r *plan.Read) *builder {
	s := b.sub()
	for _, e := range r.Embeds {
		if e.Inner {
			s.sql(" INNER JOIN LATERAL (")
		} else {
			s.sql(" LEFT JOIN LATERAL (")
		}
		s.add(s.embedQuery(r, e))
		s.sql(") AS ")
		s.lateral(e.Lateral)
		if e.Inner && !e.ToOne {
			s.sql(" ON ")
			s.lateral(e.Lateral)
			s.sql("." + foundColumn + " IS NOT NULL")
		} else {
			s.sql(" ON TRUE")
		}
	}
	return s
}

// embedQuery is the LATERAL subquery of e, correlated with its parent p.
func (b *builder) embedQuery(p *plan.Read, e *plan.Embed) *builder {
	c := e.Read
	from := b.sub()
	where := b.sub()
	where.sql(" WHERE ")
	rel := e.Rel
	switch {
	case rel.Computed != nil:
		// A computed relationship: the function called with the parent's row.
		from.qualified(computedRel(rel))
		from.sql("(")
		from.readAlias(p)
		from.sql(") AS ")
		from.readAlias(c)
		where.sql("true")
	case rel.Cardinality == schemacache.ManyToMany && rel.Junction != nil:
		j := rel.Junction
		junction := func(bb *builder) { bb.junctionAlias(c.Alias) }
		if e.Written != nil {
			from.writtenRows(e)
			from.sql(" INNER JOIN ")
			from.writtenJunction(e)
		} else {
			from.fromRelation(c)
			from.sql(" INNER JOIN ")
			from.qualified(junctionTable(j))
		}
		from.sql(" AS ")
		junction(from)
		from.sql(" ON ")
		for i := range j.TargetColumns {
			if i > 0 {
				from.sql(" AND ")
			}
			_, target := relationshipCols(rel, i)
			junction(from)
			from.sql(".")
			from.name(junctionTargetCol(j, i))
			from.sql(" = ")
			from.readAlias(c)
			from.sql(".")
			from.name(target)
		}
		for i := range j.SourceColumns {
			if i > 0 {
				where.sql(" AND ")
			}
			source, _ := relationshipCols(rel, i)
			junction(where)
			where.sql(".")
			where.name(junctionSourceCol(j, i))
			where.sql(" = ")
			where.readAlias(p)
			where.sql(".")
			where.name(source)
		}
	default:
		if e.Written != nil {
			from.writtenRows(e)
		} else {
			from.fromRelation(c)
		}
		for i := range rel.TargetColumns {
			if i > 0 {
				where.sql(" AND ")
			}
			source, target := relationshipCols(rel, i)
			where.readAlias(c)
			where.sql(".")
			where.name(target)
			where.sql(" = ")
			where.readAlias(p)
			where.sql(".")
			where.name(source)
		}
	}
	if e.ToOne {
		from.add(from.joins(c)) // innerSelect adds them for to-many
	}
	for i := range c.Where {
		where.sql(" AND ")
		where.cond(readAlias(c), &c.Where[i])
	}

	s := b.sub()
	if e.ToOne && !e.Spread && c.GroupBy && len(orderedBy(p, e)) == 0 {
		// Aggregates next to the embed's own embeds or spreads: its row is computed grouped, then rendered
		// (PostgreSQL allows no aggregate over the related row and an ungrouped lateral value in one list).
		s.sql("SELECT row_to_json(_pgway_x)::jsonb AS body, true AS " + foundColumn + " FROM (SELECT ")
		s.writeSelectList(c)
		s.sql(" FROM ")
		s.add(from)
		s.add(where)
		s.writeGroupBy(c)
		s.sql(" LIMIT 1")
		if c.Offset > 0 {
			s.sql(" OFFSET ")
			s.arg(c.Offset)
		}
		s.sql(") _pgway_x")
		return s
	}
	if e.ToOne {
		s.sql("SELECT ")
		if e.Spread {
			s.writeSelectList(c)
		} else {
			s.sql("(SELECT row_to_json(_pgway_x)::jsonb FROM (SELECT ")
			s.writeSelectList(c)
			s.sql(") _pgway_x) AS body")
		}
		s.sql(", true AS " + foundColumn)
		for i, o := range orderedBy(p, e) {
			s.sql(", ")
			s.readExpr(c, o.Expr)
			s.sql(" AS ")
			s.orderColumn(i)
		}
		s.sql(" FROM ")
		s.add(from)
		s.add(where)
		s.sql(" LIMIT 1")
		if c.Offset > 0 {
			s.sql(" OFFSET ") // rel.offset on a to-one embed skips its row
			s.arg(c.Offset)
		}
		return s
	}
	inner := b.innerSelect(c, from, where)
	s.sql("SELECT ")
	if e.Spread {
		for _, k := range outputKeys(c) {
			s.sql("json_agg(_pgway_x.")
			s.key(k)
			s.sql(")::jsonb AS ")
			s.key(k)
			s.sql(", ")
		}
	} else {
		s.sql("json_agg(_pgway_x)::jsonb AS body, ")
	}
	s.sql("nullif(pg_catalog.count(_pgway_x), 0) AS " + foundColumn + " FROM (")
	s.add(inner)
	s.sql(") _pgway_x")
	return s
}

// orderedBy lists p's order terms that sort by a column of the to-one embed e.
func orderedBy(p *plan.Read, e *plan.Embed) []plan.Order {
	var out []plan.Order
	for _, o := range p.Order {
		if o.Embed == e {
			out = append(out, o)
		}
	}
	return out
}

func (b *builder) orderColumn(i int) {
	b.sql(`"pgrst_order_`)
	b.num(i)
	b.sql(`"`)
}

// orderTerm writes r.Order[i]'s expression: a column of r, or of a to-one embed (through its lateral).
func (b *builder) orderTerm(r *plan.Read, i int) {
	o := r.Order[i]
	if o.Embed == nil {
		b.readExpr(r, o.Expr)
		return
	}
	n := 0
	for j := 0; j < i; j++ {
		if r.Order[j].Embed == o.Embed {
			n++
		}
	}
	b.lateral(o.Embed.Lateral)
	b.sql(".")
	b.orderColumn(n)
}

// writeSelectList writes r's columns and embeds.
func (b *builder) writeSelectList(r *plan.Read) {
	if len(r.Select) == 0 {
		if hasRendered(r) {
			b.embedSelects(r, true)
		} else {
			b.sql(`NULL AS "pgrst_empty"`) // rel(): joined only to filter
		}
		return
	}
	b.writeOutputs(r)
	b.embedSelects(r, false)
}

func hasRendered(r *plan.Read) bool {
	for _, e := range r.Embeds {
		if !e.Empty {
			return true
		}
	}
	return false
}

// needsJoins reports whether r's filter depends on its embeds (an embed presence test or an inner join), so
// counting its rows must include the joins.
func needsJoins(r *plan.Read) bool {
	for _, e := range r.Embeds {
		if e.Inner {
			return true
		}
	}
	var walk func(cs []plan.Cond) bool
	walk = func(cs []plan.Cond) bool {
		for _, c := range cs {
			if c.Leaf != nil && c.Leaf.Embed != nil || walk(c.Children) {
				return true
			}
		}
		return false
	}
	return walk(r.Where)
}

// hoisted is an output of a spread to-one read: the aggregate the parent applies to it (AggNone for none).
type hoisted struct {
	agg  plan.Agg
	cast *schemacache.Type
}

// hoistedAggs lists a hoisted read's outputs in outputKeys order with the aggregates they carry up.
func hoistedAggs(r *plan.Read) []hoisted {
	var out []hoisted
	for _, o := range r.Select {
		out = append(out, hoisted{agg: o.Agg, cast: o.AggCast})
	}
	for _, e := range r.Embeds {
		switch {
		case e.Empty:
		case e.Spread && e.ToOne:
			out = append(out, hoistedAggs(e.Read)...)
		case e.Spread:
			for range outputKeys(e.Read) {
				out = append(out, hoisted{})
			}
		default:
			out = append(out, hoisted{})
		}
	}
	return out
}

// outputAggs flags r's outputs (outputKeys order) that are aggregates at r's level.
func outputAggs(r *plan.Read) []bool {
	var out []bool
	for _, o := range r.Select {
		out = append(out, o.Agg != plan.AggNone && !r.Hoisted)
	}
	for _, e := range r.Embeds {
		switch {
		case e.Empty:
		case e.Spread && e.ToOne && !r.Hoisted:
			for _, h := range hoistedAggs(e.Read) {
				out = append(out, h.agg != plan.AggNone)
			}
		case e.Spread:
			for range outputKeys(e.Read) {
				out = append(out, false)
			}
		default:
			out = append(out, false)
		}
	}
	return out
}
