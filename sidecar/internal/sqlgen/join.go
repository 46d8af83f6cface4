package sqlgen

import (
	"strconv"
	"strings"

	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/plan"
)

// foundColumn is the column every embed's LATERAL subquery carries to tell whether it matched: true (to-one)
// or the row count (to-many), NULL when nothing matched.
const foundColumn = `"pgrst_found"`

// embedSelects writes the parent's select-list items for its embeds: the JSON object or array under the embed's
// name, or a spread embed's columns.
func (b *builder) embedSelects(sb *strings.Builder, r *plan.Read, first bool) {
	for _, e := range r.Embeds {
		if e.Empty {
			continue
		}
		lat := QuoteIdent(e.Lateral)
		if e.Spread {
			for _, name := range outputNames(e.Read) {
				if !first {
					sb.WriteString(", ")
				}
				first = false
				if e.ToOne {
					sb.WriteString(lat + "." + QuoteIdent(name))
				} else {
					sb.WriteString("coalesce(" + lat + "." + QuoteIdent(name) + ", '[]')")
				}
				sb.WriteString(" AS " + QuoteIdent(name))
			}
			continue
		}
		if !first {
			sb.WriteString(", ")
		}
		first = false
		if e.ToOne {
			sb.WriteString(lat + ".body AS " + QuoteIdent(e.Name))
		} else {
			sb.WriteString("coalesce(" + lat + ".body, '[]') AS " + QuoteIdent(e.Name))
		}
	}
}

// outputNames are the keys a read renders: its columns, then its embeds' (spread ones flattened).
func outputNames(r *plan.Read) []string {
	var out []string
	for _, o := range r.Select {
		out = append(out, o.Name)
	}
	for _, e := range r.Embeds {
		switch {
		case e.Empty:
		case e.Spread:
			out = append(out, outputNames(e.Read)...)
		default:
			out = append(out, e.Name)
		}
	}
	return out
}

// joins writes the LATERAL subqueries of r's embeds, to follow r's FROM item.
func (b *builder) joins(r *plan.Read) string {
	var sb strings.Builder
	for _, e := range r.Embeds {
		join := " LEFT JOIN LATERAL ("
		if e.Inner {
			join = " INNER JOIN LATERAL ("
		}
		sb.WriteString(join)
		sb.WriteString(b.embedQuery(r, e))
		sb.WriteString(") AS ")
		sb.WriteString(QuoteIdent(e.Lateral))
		if e.Inner && !e.ToOne {
			sb.WriteString(" ON " + QuoteIdent(e.Lateral) + "." + foundColumn + " IS NOT NULL")
		} else {
			sb.WriteString(" ON TRUE")
		}
	}
	return sb.String()
}

// embedQuery is the LATERAL subquery of e, correlated with its parent p.
func (b *builder) embedQuery(p *plan.Read, e *plan.Embed) string {
	c := e.Read
	ca := QuoteIdent(c.Alias)
	var from strings.Builder
	var conds []string
	rel := e.Rel
	if fn := rel.Computed; fn != nil {
		// A computed relationship: the function called with the parent's row.
		from.WriteString(QuoteIdent(fn.Schema) + "." + QuoteIdent(fn.Name) + "(" + QuoteIdent(p.Alias) + ") AS " + ca)
	} else {
		from.WriteString(qualified(c.Rel) + " AS " + ca)
	}
	if rel.Computed != nil {
		conds = append(conds, "true")
	} else if rel.Cardinality == schemacache.ManyToMany && rel.Junction != nil {
		j := rel.Junction
		ja := QuoteIdent(c.Alias + "_j")
		from.WriteString(" INNER JOIN " + QuoteIdent(j.Table.Schema) + "." + QuoteIdent(j.Table.Name) + " AS " + ja + " ON ")
		for i := range j.TargetColumns {
			if i > 0 {
				from.WriteString(" AND ")
			}
			from.WriteString(ja + "." + QuoteIdent(j.TargetColumns[i]) + " = " + ca + "." + QuoteIdent(rel.TargetColumns[i]))
		}
		for i := range j.SourceColumns {
			conds = append(conds, ja+"."+QuoteIdent(j.SourceColumns[i])+" = "+QuoteIdent(p.Alias)+"."+QuoteIdent(rel.SourceColumns[i]))
		}
	} else {
		for i := range rel.TargetColumns {
			conds = append(conds, ca+"."+QuoteIdent(rel.TargetColumns[i])+" = "+QuoteIdent(p.Alias)+"."+QuoteIdent(rel.SourceColumns[i]))
		}
	}
	if e.ToOne {
		from.WriteString(b.joins(c)) // innerSelect adds them for to-many
	}

	var wb builder
	wb.args = b.args
	wb.str(" WHERE ")
	wb.str(strings.Join(conds, " AND "))
	for i := range c.Where {
		wb.str(" AND ")
		wb.cond(c.Alias, &c.Where[i])
	}
	b.args = wb.args
	where := wb.sb.String()

	if e.ToOne {
		var sb strings.Builder
		sb.WriteString("SELECT ")
		if e.Spread {
			b.writeSelectList(&sb, c)
		} else {
			sb.WriteString("(SELECT row_to_json(_pgway_x) FROM (SELECT ")
			b.writeSelectList(&sb, c)
			sb.WriteString(") _pgway_x) AS body")
		}
		sb.WriteString(", true AS " + foundColumn)
		for i, o := range orderedBy(p, e) {
			var eb builder
			eb.expr(c.Alias, o.Expr)
			sb.WriteString(", " + eb.sb.String() + " AS " + QuoteIdent(orderColumn(i)))
		}
		sb.WriteString(" FROM ")
		sb.WriteString(from.String())
		sb.WriteString(where)
		sb.WriteString(" LIMIT 1")
		return sb.String()
	}
	inner := b.innerSelect(c, from.String(), where)
	var sb strings.Builder
	sb.WriteString("SELECT ")
	if e.Spread {
		for _, name := range outputNames(c) {
			sb.WriteString("json_agg(_pgway_x." + QuoteIdent(name) + ") AS " + QuoteIdent(name) + ", ")
		}
	} else {
		sb.WriteString("json_agg(_pgway_x) AS body, ")
	}
	sb.WriteString("nullif(pg_catalog.count(_pgway_x), 0) AS " + foundColumn + " FROM (")
	sb.WriteString(inner)
	sb.WriteString(") _pgway_x")
	return sb.String()
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

func orderColumn(i int) string { return "pgrst_order_" + strconv.Itoa(i) }

// orderTerm writes r.Order[i]'s expression: a column of r, or of a to-one embed (through its lateral).
func (b *builder) orderTerm(r *plan.Read, i int) string {
	o := r.Order[i]
	if o.Embed == nil {
		var eb builder
		eb.expr(r.Alias, o.Expr)
		return eb.sb.String()
	}
	n := 0
	for j := 0; j < i; j++ {
		if r.Order[j].Embed == o.Embed {
			n++
		}
	}
	return QuoteIdent(o.Embed.Lateral) + "." + QuoteIdent(orderColumn(n))
}

// writeSelectList writes r's columns and embeds.
func (b *builder) writeSelectList(sb *strings.Builder, r *plan.Read) {
	if len(r.Select) == 0 {
		if hasRendered(r) {
			b.embedSelects(sb, r, true)
		} else {
			sb.WriteString(`NULL AS "pgrst_empty"`) // rel(): joined only to filter
		}
		return
	}
	b.writeOutputs(sb, r)
	b.embedSelects(sb, r, false)
}

func hasRendered(r *plan.Read) bool {
	for _, e := range r.Embeds {
		if !e.Empty {
			return true
		}
	}
	return false
}

// embedPresence writes the test for rel=is.null / rel=not.is.null.
func (b *builder) embedPresence(l *plan.Leaf) {
	b.str(QuoteIdent(l.Embed.Lateral) + "." + foundColumn)
	if strings.EqualFold(l.Op.Value, "null") {
		b.str(" IS NULL")
	} else {
		b.str(" IS NOT NULL")
	}
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
