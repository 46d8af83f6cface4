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
		if e.Spread {
			var aggs []hoisted
			if e.ToOne && !r.Hoisted {
				aggs = hoistedAggs(e.Read)
			}
			for i, name := range outputNames(e.Read) {
				if !first {
					sb.WriteString(", ")
				}
				first = false
				switch {
				case !e.ToOne:
					sb.WriteString("coalesce(")
					writeColumn(sb, e.Lateral, name)
					sb.WriteString(", '[]')")
				case i < len(aggs) && aggs[i].fn != "":
					// An aggregate of the spread embed, computed over this level's rows and groups.
					sb.WriteString(aggs[i].fn + "(")
					writeColumn(sb, e.Lateral, name)
					sb.WriteString(")")
					if aggs[i].cast != "" {
						sb.WriteString("::" + aggs[i].cast)
					}
				default:
					writeColumn(sb, e.Lateral, name)
				}
				sb.WriteString(" AS ")
				writeIdent(sb, name)
			}
			continue
		}
		if !first {
			sb.WriteString(", ")
		}
		first = false
		if !e.ToOne {
			sb.WriteString("coalesce(")
		}
		writeIdent(sb, e.Lateral)
		sb.WriteString(".body")
		if !e.ToOne {
			sb.WriteString(", '[]')")
		}
		sb.WriteString(" AS ")
		writeIdent(sb, e.Name)
	}
}

// writeIdent writes s as a quoted identifier.
func writeIdent(sb *strings.Builder, s string) {
	sb.WriteByte('"')
	if strings.ContainsAny(s, "\"\x00") {
		sb.WriteString(strings.ReplaceAll(strings.ReplaceAll(s, "\x00", ""), `"`, `""`))
	} else {
		sb.WriteString(s)
	}
	sb.WriteByte('"')
}

// writeColumn writes "alias"."column".
func writeColumn(sb *strings.Builder, alias, col string) {
	writeIdent(sb, alias)
	sb.WriteByte('.')
	writeIdent(sb, col)
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
		if e.Inner {
			sb.WriteString(" INNER JOIN LATERAL (")
		} else {
			sb.WriteString(" LEFT JOIN LATERAL (")
		}
		sb.WriteString(b.embedQuery(r, e))
		sb.WriteString(") AS ")
		writeIdent(&sb, e.Lateral)
		if e.Inner && !e.ToOne {
			sb.WriteString(" ON ")
			writeIdent(&sb, e.Lateral)
			sb.WriteString("." + foundColumn + " IS NOT NULL")
		} else {
			sb.WriteString(" ON TRUE")
		}
	}
	return sb.String()
}

// embedQuery is the LATERAL subquery of e, correlated with its parent p.
func (b *builder) embedQuery(p *plan.Read, e *plan.Embed) string {
	c := e.Read
	var from strings.Builder
	from.Grow(128)
	var wb builder
	wb.sb.Grow(128)
	wb.str(" WHERE ")
	rel := e.Rel
	switch {
	case rel.Computed != nil:
		// A computed relationship: the function called with the parent's row.
		writeIdent(&from, rel.Computed.Schema)
		from.WriteByte('.')
		writeIdent(&from, rel.Computed.Name)
		from.WriteByte('(')
		writeIdent(&from, p.Alias)
		from.WriteString(") AS ")
		writeIdent(&from, c.Alias)
		wb.str("true")
	case rel.Cardinality == schemacache.ManyToMany && rel.Junction != nil:
		j := rel.Junction
		ja := c.Alias + "_j"
		from.WriteString(qualified(c.Rel))
		from.WriteString(" AS ")
		writeIdent(&from, c.Alias)
		from.WriteString(" INNER JOIN ")
		writeIdent(&from, j.Table.Schema)
		from.WriteByte('.')
		writeIdent(&from, j.Table.Name)
		from.WriteString(" AS ")
		writeIdent(&from, ja)
		from.WriteString(" ON ")
		for i := range j.TargetColumns {
			if i > 0 {
				from.WriteString(" AND ")
			}
			writeColumn(&from, ja, j.TargetColumns[i])
			from.WriteString(" = ")
			writeColumn(&from, c.Alias, rel.TargetColumns[i])
		}
		for i := range j.SourceColumns {
			if i > 0 {
				wb.str(" AND ")
			}
			writeColumn(&wb.sb, ja, j.SourceColumns[i])
			wb.str(" = ")
			writeColumn(&wb.sb, p.Alias, rel.SourceColumns[i])
		}
	default:
		from.WriteString(qualified(c.Rel))
		from.WriteString(" AS ")
		writeIdent(&from, c.Alias)
		for i := range rel.TargetColumns {
			if i > 0 {
				wb.str(" AND ")
			}
			writeColumn(&wb.sb, c.Alias, rel.TargetColumns[i])
			wb.str(" = ")
			writeColumn(&wb.sb, p.Alias, rel.SourceColumns[i])
		}
	}
	if e.ToOne {
		from.WriteString(b.joins(c)) // innerSelect adds them for to-many
	}

	wb.args = b.args
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
			sb.WriteString("(SELECT row_to_json(_pgway_x)::jsonb FROM (SELECT ")
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
		if c.Offset > 0 {
			sb.WriteString(" OFFSET " + b.placeholder(c.Offset)) // rel.offset on a to-one embed skips its row
		}
		return sb.String()
	}
	inner := b.innerSelect(c, from.String(), where)
	var sb strings.Builder
	sb.WriteString("SELECT ")
	if e.Spread {
		for _, name := range outputNames(c) {
			sb.WriteString("json_agg(_pgway_x." + QuoteIdent(name) + ")::jsonb AS " + QuoteIdent(name) + ", ")
		}
	} else {
		sb.WriteString("json_agg(_pgway_x)::jsonb AS body, ")
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

// embedOutputCount is how many select-list items r's embeds add.
func embedOutputCount(r *plan.Read) int {
	n := 0
	for _, e := range r.Embeds {
		switch {
		case e.Empty:
		case e.Spread:
			n += len(outputNames(e.Read))
		default:
			n++
		}
	}
	return n
}

// hoisted is an output of a spread to-one read: the aggregate the parent applies to it ("" for none).
type hoisted struct{ fn, cast string }

// hoistedAggs lists a hoisted read's outputs in outputNames order with the aggregates they carry up.
func hoistedAggs(r *plan.Read) []hoisted {
	var out []hoisted
	for _, o := range r.Select {
		fn := o.Aggregate
		if fn == "count" || fn == "sum" || fn == "avg" || fn == "min" || fn == "max" {
			fn = "pg_catalog." + fn
		}
		out = append(out, hoisted{fn: fn, cast: o.AggregateCast})
	}
	for _, e := range r.Embeds {
		switch {
		case e.Empty:
		case e.Spread && e.ToOne:
			out = append(out, hoistedAggs(e.Read)...)
		case e.Spread:
			for range outputNames(e.Read) {
				out = append(out, hoisted{})
			}
		default:
			out = append(out, hoisted{})
		}
	}
	return out
}

// outputAggs flags r's outputs (outputNames order) that are aggregates at r's level.
func outputAggs(r *plan.Read) []bool {
	var out []bool
	for _, o := range r.Select {
		out = append(out, o.Aggregate != "" && !r.Hoisted)
	}
	for _, e := range r.Embeds {
		switch {
		case e.Empty:
		case e.Spread && e.ToOne && !r.Hoisted:
			for _, h := range hoistedAggs(e.Read) {
				out = append(out, h.fn != "")
			}
		case e.Spread:
			for range outputNames(e.Read) {
				out = append(out, false)
			}
		default:
			out = append(out, false)
		}
	}
	return out
}
