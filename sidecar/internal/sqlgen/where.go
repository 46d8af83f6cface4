package sqlgen

import (
	"strings"

	"github.com/pgway/pgway/sidecar/internal/plan"
)

// simpleOps maps PostgREST operators with one scalar operand to SQL.
var simpleOps = map[string]string{
	"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=",
	"like": "LIKE", "ilike": "ILIKE", "match": "~", "imatch": "~*",
	"cs": "@>", "cd": "<@", "ov": "&&", "sl": "<<", "sr": ">>", "nxr": "&<", "nxl": "&>", "adj": "-|-",
	"isdistinct": "IS DISTINCT FROM",
}

var ftsFuncs = map[string]string{
	"fts": "to_tsquery", "plfts": "plainto_tsquery", "phfts": "phraseto_tsquery", "wfts": "websearch_to_tsquery",
}

// where writes the AND of conds (nothing when empty).
func (b *builder) where(alias string, conds []plan.Cond) {
	for i := range conds {
		if i == 0 {
			b.str(" WHERE ")
		} else {
			b.str(" AND ")
		}
		b.cond(alias, &conds[i])
	}
}

func (b *builder) cond(alias string, c *plan.Cond) {
	if c.Leaf != nil {
		b.leaf(alias, c.Leaf)
		return
	}
	if c.Negate {
		b.str("NOT ")
	}
	b.str("(")
	if len(c.Children) == 0 {
		if c.Or {
			b.str("false")
		} else {
			b.str("true")
		}
	}
	for i := range c.Children {
		if i > 0 {
			if c.Or {
				b.str(" OR ")
			} else {
				b.str(" AND ")
			}
		}
		b.cond(alias, &c.Children[i])
	}
	b.str(")")
}

func (b *builder) leaf(alias string, l *plan.Leaf) {
	op := l.Op
	if l.Embed != nil {
		if op.Negate {
			b.str("NOT ")
		}
		b.str("(")
		b.embedPresence(l)
		b.str(")")
		return
	}
	if op.Negate {
		b.str("NOT ")
	}
	b.str("(")
	defer b.str(")")
	switch op.Op {
	case "is":
		b.expr(alias, l.Expr)
		switch strings.ToLower(op.Value) {
		case "null":
			b.str(" IS NULL")
		case "not_null":
			b.str(" IS NOT NULL")
		case "true":
			b.str(" IS TRUE")
		case "false":
			b.str(" IS FALSE")
		default:
			b.str(" IS UNKNOWN")
		}
	case "in":
		b.expr(alias, l.Expr)
		if fn := fromText(l.Expr); fn != "" {
			b.str(" = ANY(ARRAY(SELECT " + fn + "(_pgway_v) FROM unnest(")
			b.arg(arrayLiteral(op.List, op.ListNull))
			b.str("::text[]) _pgway_v))")
			return
		}
		b.str(" = ANY(")
		b.arg(arrayLiteral(op.List, op.ListNull))
		b.str(")")
	case "fts", "plfts", "phfts", "wfts":
		if l.Expr.Column.BaseType == "tsvector" && len(l.Expr.JSONPath) == 0 {
			b.expr(alias, l.Expr)
		} else {
			b.str("to_tsvector(")
			if op.Lang != "" {
				b.arg(op.Lang)
				b.str("::regconfig, ")
			}
			b.expr(alias, l.Expr)
			b.str(")")
		}
		b.str(" @@ ")
		b.str(ftsFuncs[op.Op])
		b.str("(")
		if op.Lang != "" {
			b.arg(op.Lang)
			b.str("::regconfig, ")
		}
		b.arg(op.Value)
		b.str(")")
	default:
		sqlOp := simpleOps[op.Op]
		b.expr(alias, l.Expr)
		b.str(" ")
		b.str(sqlOp)
		b.str(" ")
		like := op.Op == "like" || op.Op == "ilike"
		if op.Quant != "" {
			items := op.List
			if like {
				items = make([]string, len(op.List))
				for i, v := range op.List {
					items[i] = likePattern(v)
				}
			}
			b.str(strings.ToUpper(op.Quant))
			b.str("(")
			b.arg(arrayLiteral(items, nil))
			b.str(")")
			return
		}
		v := op.Value
		if like {
			v = likePattern(v)
		}
		if fn := fromText(l.Expr); fn != "" && !like {
			b.str(fn + "(")
			b.arg(v)
			b.str("::text)")
			return
		}
		b.arg(v)
	}
}

// fromText is the text → domain cast function of a filtered column with a domain representation ("" if none,
// or when a JSON path or cast makes the value something else).
func fromText(e plan.Expr) string {
	if len(e.JSONPath) > 0 || e.Cast != "" || e.Column.Function != nil {
		return ""
	}
	return e.Column.Rep.FromText
}

// likePattern turns PostgREST's '*' wildcard into SQL's '%'.
func likePattern(v string) string { return strings.ReplaceAll(v, "*", "%") }

// arrayLiteral renders items as a PostgreSQL array literal ({"a","b"}), every element quoted and escaped;
// items marked in nulls become NULL.
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
