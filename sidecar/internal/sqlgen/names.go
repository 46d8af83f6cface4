package sqlgen

import (
	"strconv"

	"github.com/pgway/pgway/internal/schemacache"
)

// The only conversions to ident and catalogSQL: each takes a schema cache value (or a plan value that points
// into the schema cache) and returns a name or SQL text PostgreSQL's catalogs hold.

func relName(r *schemacache.Relation) (schema, name ident) { return ident(r.Schema), ident(r.Name) }

// embedAlias is the n-th embed's table alias, "<table>_<n>" (the planner checked that it is free).
func embedAlias(r *schemacache.Relation, n int) ident { return ident(r.Name + "_" + strconv.Itoa(n)) }

func colName(c *schemacache.Column) ident { return ident(c.Name) }

// colType is the column's type as format_type wrote it (a record definition's column type).
func colType(c *schemacache.Column) catalogSQL { return catalogSQL(c.Type) }

// colDefault is the column's default expression as pg_get_expr wrote it.
func colDefault(c *schemacache.Column) catalogSQL { return catalogSQL(c.Default) }

// repToJSON, repFromJSON and repFromText are a domain representation's cast functions, quoted and qualified
// by the catalog query.
func repToJSON(c *schemacache.Column) catalogSQL   { return catalogSQL(c.Rep.ToJSON) }
func repFromJSON(c *schemacache.Column) catalogSQL { return catalogSQL(c.Rep.FromJSON) }
func repFromText(c *schemacache.Column) catalogSQL { return catalogSQL(c.Rep.FromText) }

// computedFn is a computed field's function; rowOf the relation whose row it takes.
func computedFn(c *schemacache.Column) (schema, name ident) {
	return ident(c.Function.Schema), ident(c.Function.Name)
}
func rowOf(c *schemacache.Column) (schema, name ident) {
	return ident(c.RowOf.Schema), ident(c.RowOf.Name)
}

// castType is a resolved cast target as format_type names it.
func castType(t *schemacache.Type) catalogSQL { return catalogSQL(t.SQL) }

// relationshipCols are the i-th source and target columns of a relationship's foreign key.
func relationshipCols(r *schemacache.Relationship, i int) (source, target ident) {
	return ident(r.SourceColumns[i]), ident(r.TargetColumns[i])
}

// junctionTable and junctionCols name a many-to-many relationship's junction table and its i-th columns.
func junctionTable(j *schemacache.Junction) (schema, name ident) {
	return ident(j.Table.Schema), ident(j.Table.Name)
}
func junctionSourceCol(j *schemacache.Junction, i int) ident { return ident(j.SourceColumns[i]) }
func junctionTargetCol(j *schemacache.Junction, i int) ident { return ident(j.TargetColumns[i]) }

// computedRel is a computed relationship's function.
func computedRel(r *schemacache.Relationship) (schema, name ident) {
	return ident(r.Computed.Schema), ident(r.Computed.Name)
}

// handlerAggregate and handlerTarget name a media type handler's aggregate and the relation it takes.
func handlerAggregate(h *schemacache.MediaHandler) (schema, name ident) {
	return ident(h.Aggregate.Schema), ident(h.Aggregate.Name)
}
func handlerTarget(h *schemacache.MediaHandler) (schema, name ident) {
	return ident(h.Target.Schema), ident(h.Target.Name)
}

// geoJSONFn is PostGIS's ST_AsGeoJSON(record), as the catalog names it.
func geoJSONFn(fn *schemacache.QName) (schema, name ident) { return ident(fn.Schema), ident(fn.Name) }

func routineName(fn *schemacache.Routine) (schema, name ident) {
	return ident(fn.Schema), ident(fn.Name)
}

func paramName(p *schemacache.RoutineParam) ident { return ident(p.Name) }

// paramRecordType is a parameter's type as a record column: "character" and "bit" name length-1 types there,
// but a function parameter declared so takes any length.
func paramRecordType(p *schemacache.RoutineParam) catalogSQL {
	switch p.Type {
	case "character":
		return "bpchar"
	case "character[]":
		return "bpchar[]"
	case "bit":
		return "varbit"
	case "bit[]":
		return "varbit[]"
	}
	return catalogSQL(p.Type)
}

// paramType is a parameter's type as format_type wrote it.
func paramType(p *schemacache.RoutineParam) catalogSQL { return catalogSQL(p.Type) }
