// Package sqlgen turns a plan into the single SQL statement that answers it: names from the schema cache,
// quoted; values only as bind arguments (see builder.go for what SQL text may be made of).
package sqlgen

import (
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/plan"
)

// Statement is SQL text with its positional arguments (every argument is a string, []byte or int64).
type Statement struct {
	SQL  string
	Args []any
}

// alias names a relation within a statement: a relation by its own name, the n-th embed's table, or one of
// pgway's fixed names (pgrst_body, _pgway_l).
type alias struct {
	rel   *schemacache.Relation
	n     int
	named bool // the embed's table as "<table>_<n>" (plan.Read.NamedAlias)
	name  fixed
}

// readAlias is the alias of a read's relation.
func readAlias(r *plan.Read) alias { return alias{rel: r.Rel, n: r.Alias, named: r.NamedAlias} }

// alias writes a.
func (b *builder) alias(a alias) {
	switch {
	case a.name != "":
		b.sql(a.name)
	case a.n > 0 && a.named:
		b.name(embedAlias(a.rel, a.n))
	case a.n > 0:
		b.sql(`"pgrst_`)
		b.num(a.n)
		b.sql(`_t"`)
	default:
		_, n := relName(a.rel)
		b.name(n)
	}
}

// readAlias writes the alias of a read's relation.
func (b *builder) readAlias(r *plan.Read) { b.alias(readAlias(r)) }

// junctionAlias names the junction table of the n-th embed (many-to-many).
func (b *builder) junctionAlias(n int) {
	b.sql(`"pgrst_`)
	b.num(n)
	b.sql(`_t_j"`)
}

// lateral names the n-th embed's LATERAL subquery.
func (b *builder) lateral(n int) {
	b.sql(`"pgrst_`)
	b.num(n)
	b.sql(`"`)
}

// from writes "schema"."name" AS alias for a read's relation.
func (b *builder) fromRelation(r *plan.Read) {
	b.qualified(relName(r.Rel))
	b.sql(" AS ")
	b.readAlias(r)
}

// column writes a."column", or a computed field's call with the row.
func (b *builder) column(a alias, e plan.Expr) {
	c := e.Column
	if c.Function != nil {
		// A computed field: the function applied to the row.
		b.qualified(computedFn(c))
		b.sql("(")
		b.alias(a)
		if c.RowOf != nil {
			// The row typed as the relation: a mutation's result (a CTE row) is an anonymous record, which
			// would make an overloaded function ambiguous.
			b.sql("::")
			b.qualified(rowOf(c))
		}
		b.sql(")")
		return
	}
	b.alias(a)
	b.sql(".")
	b.name(colName(c))
}

// expr writes a column reference with its JSON path and cast.
func (b *builder) expr(a alias, e plan.Expr) {
	wrap := e.Cast != nil && len(e.Path) > 0 // (col->>'k')::int, not col->>('k'::int)
	if wrap {
		b.sql("(")
	}
	// Arrows on arrays and composites go through to_jsonb, as PostgREST does.
	toJSON := len(e.Path) > 0 && e.Column.BaseType != "json" && e.Column.BaseType != "jsonb"
	if toJSON {
		b.sql("to_jsonb(")
	}
	b.column(a, e)
	if toJSON {
		b.sql(")")
	}
	for _, s := range e.Path {
		if s.Text {
			b.sql("->>")
		} else {
			b.sql("->")
		}
		b.pathStep(s)
	}
	if wrap {
		b.sql(")")
	}
	if e.Cast != nil {
		b.sql("::")
		b.catalog(castType(e.Cast))
	}
}

// readExpr is expr for an expression over a read's relation.
func (b *builder) readExpr(r *plan.Read, e plan.Expr) { b.expr(readAlias(r), e) }

// outputExpr is expr for a selected value: a column with a domain representation (a domain → json cast) is
// rendered through its function, before any cast, as PostgREST does.
func (b *builder) outputExpr(r *plan.Read, e plan.Expr) {
	if e.Column.Rep.ToJSON == "" || len(e.Path) > 0 || e.Column.Function != nil {
		b.readExpr(r, e)
		return
	}
	b.catalog(repToJSON(e.Column))
	b.sql("(")
	b.column(readAlias(r), plan.Expr{Column: e.Column})
	b.sql(")")
	if e.Cast != nil {
		b.sql("::")
		b.catalog(castType(e.Cast))
	}
}
