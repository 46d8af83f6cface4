package sqlgen

import (
	"strings"

	"github.com/pgway/pgway/sidecar/internal/plan"
)

// operators maps PostgREST's operators with one scalar operand to SQL.
var operators = map[plan.Op]fixed{
	plan.OpEq: "=", plan.OpNeq: "<>", plan.OpGt: ">", plan.OpGte: ">=", plan.OpLt: "<", plan.OpLte: "<=",
	plan.OpLike: "LIKE", plan.OpIlike: "ILIKE", plan.OpMatch: "~", plan.OpImatch: "~*",
	plan.OpCs: "@>", plan.OpCd: "<@", plan.OpOv: "&&", plan.OpSl: "<<", plan.OpSr: ">>", plan.OpNxr: "&<",
	plan.OpNxl: "&>", plan.OpAdj: "-|-", plan.OpIsDistinct: "IS DISTINCT FROM",
}

// tsQueries are the fts operators' tsquery functions.
var tsQueries = map[plan.Op]fixed{
	plan.OpFts: "to_tsquery", plan.OpPlFts: "plainto_tsquery", plan.OpPhFts: "phraseto_tsquery",
	plan.OpWFts: "websearch_to_tsquery",
}

// isTests are the SQL of is.null, is.true, ….
var isTests = map[plan.IsValue]fixed{
	plan.IsNull: " IS NULL", plan.IsNotNull: " IS NOT NULL", plan.IsTrue: " IS TRUE", plan.IsFalse: " IS FALSE",
	plan.IsUnknown: " IS UNKNOWN",
}

// where writes the AND of conds (nothing when empty).
func (b *builder) where(a alias, conds []plan.Cond) {
	for i := range conds {
		if i == 0 {
			b.sql(" WHERE ")
		} else {
			b.sql(" AND ")
		}
		b.cond(a, &conds[i])
	}
}

func (b *builder) cond(a alias, c *plan.Cond) {
	if c.Leaf != nil {
		b.leaf(a, c.Leaf)
		return
	}
	if c.Negate {
		b.sql("NOT ")
	}
	b.sql("(")
	if len(c.Children) == 0 {
		if c.Or {
			b.sql("false")
		} else {
			b.sql("true")
		}
	}
	for i := range c.Children {
		if i > 0 {
			if c.Or {
				b.sql(" OR ")
			} else {
				b.sql(" AND ")
			}
		}
		b.cond(a, &c.Children[i])
	}
	b.sql(")")
}

func (b *builder) leaf(a alias, l *plan.Leaf) {
	if l.Negate {
		b.sql("NOT ")
	}
	b.sql("(")
	defer b.sql(")")
	if l.Embed != nil {
		b.lateral(l.Embed.Lateral)
		b.sql("." + foundColumn)
		if l.Is == plan.IsNull {
			b.sql(" IS NULL")
		} else {
			b.sql(" IS NOT NULL")
		}
		return
	}
	switch l.Op {
	case plan.OpIs:
		b.expr(a, l.Expr)
		b.sql(isTests[l.Is])
	case plan.OpIn:
		b.expr(a, l.Expr)
		if fromText(l.Expr) {
			b.sql(" = ANY(ARRAY(SELECT ")
			b.catalog(repFromText(l.Expr.Column))
			b.sql("(_pgway_v) FROM unnest(")
			b.arg(arrayLiteral(l.List, l.ListNull))
			b.sql("::text[]) _pgway_v))")
			return
		}
		b.sql(" = ANY(")
		b.arg(arrayLiteral(l.List, l.ListNull))
		b.sql(")")
	case plan.OpFts, plan.OpPlFts, plan.OpPhFts, plan.OpWFts:
		if l.Expr.Column.BaseType == "tsvector" && len(l.Expr.Path) == 0 {
			b.expr(a, l.Expr)
		} else {
			b.sql("to_tsvector(")
			if l.Lang != "" {
				b.arg(l.Lang)
				b.sql("::regconfig, ")
			}
			b.expr(a, l.Expr)
			b.sql(")")
		}
		b.sql(" @@ ")
		b.sql(tsQueries[l.Op])
		b.sql("(")
		if l.Lang != "" {
			b.arg(l.Lang)
			b.sql("::regconfig, ")
		}
		b.arg(l.Value)
		b.sql(")")
	default:
		b.expr(a, l.Expr)
		b.sql(" ")
		b.sql(operators[l.Op])
		b.sql(" ")
		like := l.Op == plan.OpLike || l.Op == plan.OpIlike
		if l.Quant != plan.QuantNone {
			items := l.List
			if like {
				items = make([]string, len(l.List))
				for i, v := range l.List {
					items[i] = likePattern(v)
				}
			}
			if l.Quant == plan.QuantAny {
				b.sql("ANY(")
			} else {
				b.sql("ALL(")
			}
			b.arg(arrayLiteral(items, nil))
			b.sql(")")
			return
		}
		v := l.Value
		if like {
			v = likePattern(v)
		}
		if fromText(l.Expr) && !like {
			b.catalog(repFromText(l.Expr.Column))
			b.sql("(")
			b.arg(v)
			b.sql("::text)")
			return
		}
		b.arg(v)
	}
}

// fromText reports whether a filtered column's values are read through its domain representation's text →
// domain cast (not when a JSON path or cast makes the value something else).
func fromText(e plan.Expr) bool {
	return len(e.Path) == 0 && e.Cast == nil && e.Column.Function == nil && e.Column.Rep.FromText != ""
}

// likePattern turns PostgREST's '*' wildcard into SQL's '%'.
func likePattern(v string) string { return strings.ReplaceAll(v, "*", "%") }

// arrayLiteral renders items as a PostgreSQL array literal ({"a","b"}), every element quoted and escaped;
// items marked in nulls become NULL. The literal is a bound value, never SQL text.
func arrayLiteral(items []string, nulls []bool) string {
	var sb strings.Builder
	sb.WriteByte('{')
	for i, it := range items {
		if i > 0 {
			sb.WriteByte(',')
		}
		if i < len(nulls) && nulls[i] {
			sb.WriteString("NULL")
			continue
		}
		sb.WriteByte('"')
		for j := 0; j < len(it); j++ {
			if it[j] == '"' || it[j] == '\\' {
				sb.WriteByte('\\')
			}
			sb.WriteByte(it[j])
		}
		sb.WriteByte('"')
	}
	sb.WriteByte('}')
	return sb.String()
}
