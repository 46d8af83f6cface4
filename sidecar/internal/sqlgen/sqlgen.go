// Package sqlgen turns a plan into the single SQL statement that answers it: quoted identifiers, values only as
// bind arguments.
package sqlgen

import (
	"strconv"
	"strings"

	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// Statement is SQL text with its positional arguments (every argument is a string or an int64).
type Statement struct {
	SQL  string
	Args []any
}

// builder accumulates SQL text and arguments.
type builder struct {
	sb   strings.Builder
	args []any
}

func (b *builder) str(s string) { b.sb.WriteString(s) }

func (b *builder) ident(s string) {
	b.sb.WriteByte('"')
	if strings.ContainsAny(s, "\"\x00") {
		b.sb.WriteString(strings.ReplaceAll(strings.ReplaceAll(s, "\x00", ""), `"`, `""`))
	} else {
		b.sb.WriteString(s)
	}
	b.sb.WriteByte('"')
}

// arg appends a bind placeholder for v.
func (b *builder) arg(v any) {
	b.args = append(b.args, v)
	b.sb.WriteByte('$')
	b.sb.WriteString(strconv.Itoa(len(b.args)))
}

// literal appends s as a SQL string literal (standard_conforming_strings is forced on per transaction).
func (b *builder) literal(s string) { b.sb.WriteString(QuoteLiteral(s)) }

func (b *builder) statement() Statement { return Statement{SQL: b.sb.String(), Args: b.args} }

// QuoteIdent quotes an identifier for PostgreSQL.
func QuoteIdent(s string) string {
	if !strings.ContainsAny(s, "\"\x00") {
		return `"` + s + `"`
	}
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, "\x00", ""), `"`, `""`) + `"`
}

// QuoteLiteral quotes a string literal for PostgreSQL with standard_conforming_strings on.
func QuoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, "\x00", ""), "'", "''") + "'"
}

// qualified is "schema"."name".
func qualified(rel *schemacache.Relation) string {
	return QuoteIdent(rel.Schema) + "." + QuoteIdent(rel.Name)
}

// expr writes a column reference with its JSON path and cast.
func (b *builder) expr(alias string, e plan.Expr) {
	wrap := e.Cast != "" && len(e.JSONPath) > 0 // (col->>'k')::int, not col->>('k'::int)
	if wrap {
		b.str("(")
	}
	// Arrows on arrays and composites go through to_jsonb, as PostgREST does.
	toJSON := len(e.JSONPath) > 0 && e.Column.BaseType != "json" && e.Column.BaseType != "jsonb"
	if toJSON {
		b.str("to_jsonb(")
	}
	if fn := e.Column.Function; fn != nil {
		// A computed field: the function applied to the row.
		b.ident(fn.Schema)
		b.str(".")
		b.ident(fn.Name)
		b.str("(")
		b.ident(alias)
		if r := e.Column.RowOf; r != nil {
			// The row typed as the relation: a mutation's result (a CTE row) is an anonymous record, which
			// would make an overloaded function ambiguous.
			b.str("::")
			b.ident(r.Schema)
			b.str(".")
			b.ident(r.Name)
		}
		b.str(")")
	} else {
		b.ident(alias)
		b.str(".")
		b.ident(e.Column.Name)
	}
	if toJSON {
		b.str(")")
	}
	b.jsonPath(e.JSONPath)
	if wrap {
		b.str(")")
	}
	if e.Cast != "" {
		b.str("::")
		b.str(e.Cast)
	}
}

// outputExpr is expr for a selected value: a column with a domain representation (a domain → json cast) is
// rendered through its function, before any cast, as PostgREST does.
func (b *builder) outputExpr(alias string, e plan.Expr) {
	fn := e.Column.Rep.ToJSON
	if fn == "" || len(e.JSONPath) > 0 || e.Column.Function != nil {
		b.expr(alias, e)
		return
	}
	b.str(fn + "(")
	b.ident(alias)
	b.str(".")
	b.ident(e.Column.Name)
	b.str(")")
	if e.Cast != "" {
		b.str("::")
		b.str(e.Cast)
	}
}

func (b *builder) jsonPath(path []request.JSONOp) {
	for _, op := range path {
		if op.Text {
			b.str("->>")
		} else {
			b.str("->")
		}
		if op.Index && isInt(op.Key) {
			b.str(op.Key)
		} else {
			b.literal(op.Key)
		}
	}
}

func isInt(s string) bool {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	if s == "" || len(s) > 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
