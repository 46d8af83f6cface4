package openapi

import (
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Media types PostgREST serves and accepts.
const (
	mtJSON    = "application/json"
	mtObject  = "application/vnd.pgrst.object+json"
	mtCSV     = "text/csv"
	mtForm    = "application/x-www-form-urlencoded"
	mtText    = "text/plain"
	mtBinary  = "application/octet-stream"
	mtXML     = "text/xml"
	mtOpenAPI = "application/openapi+json"
)

// reservedParams are query keys PostgREST interprets itself; a column of that name cannot be filtered on.
var reservedParams = map[string]bool{
	"select": true, "order": true, "limit": true, "offset": true, "on_conflict": true, "columns": true,
	"or": true, "and": true, "not.or": true, "not.and": true,
}

// Operators lists PostgREST's filter operators with what they mean.
var Operators = [][2]string{
	{"eq", "equals"},
	{"neq", "not equal"},
	{"gt", "greater than"},
	{"gte", "greater than or equal"},
	{"lt", "less than"},
	{"lte", "less than or equal"},
	{"like", "LIKE, with * as the wildcard"},
	{"ilike", "ILIKE (case-insensitive LIKE), with * as the wildcard"},
	{"match", "~ (POSIX regular expression)"},
	{"imatch", "~* (case-insensitive POSIX regular expression)"},
	{"in", "one of a list: in.(1,2,3)"},
	{"is", "IS null, not_null, true, false or unknown"},
	{"isdistinct", "IS DISTINCT FROM"},
	{"fts", "full-text search with to_tsquery, optional language: fts(english).term"},
	{"plfts", "full-text search with plainto_tsquery"},
	{"phfts", "full-text search with phraseto_tsquery"},
	{"wfts", "full-text search with websearch_to_tsquery"},
	{"cs", "contains (@>): cs.{1,2} or cs.[1,2)"},
	{"cd", "contained in (<@)"},
	{"ov", "overlaps (&&)"},
	{"sl", "strictly left of (<<)"},
	{"sr", "strictly right of (>>)"},
	{"nxr", "does not extend to the right of (&<)"},
	{"nxl", "does not extend to the left of (&>)"},
	{"adj", "adjacent to (-|-)"},
}

// FilterPattern is the regular expression a column filter value (op.value) matches.
const FilterPattern = `^(not\.)?(((eq|gt|gte|lt|lte|like|ilike|match|imatch)(\((any|all)\))?)|neq|in|is|isdistinct|cs|cd|ov|sl|sr|nxr|nxl|adj|((fts|plfts|phfts|wfts)(\([^)]*\))?))\..*$`

// filterHelp is the short help of a column filter parameter; the API description has the operator list.
const filterHelp = "Use `operator.value`, e.g. `eq.5`, `in.(1,2)`, `not.is.null`; repeat to AND filters."

// operatorHelp is the filter section of the API description.
func operatorHelp() string {
	var b strings.Builder
	b.WriteString("## Filters\n\nFilter rows with a query parameter per column as `operator.value`, e.g. `eq.5`; prefix `not.` to negate; `eq`, `gt`, `gte`, `lt`, " +
		"`lte`, `like`, `ilike`, `match` and `imatch` take `(any)` or `(all)` with a list: `like(any).{a*,b*}`. " +
		"Repeat the parameter to combine filters with AND. Operators:\n")
	for _, op := range Operators {
		b.WriteString("- `" + op[0] + "`: " + op[1] + "\n")
	}
	return b.String()
}

func stringSchema() *openapi3.Schema { return typed(openapi3.TypeString, "") }

func (b *builder) paramRef(key string) *openapi3.ParameterRef {
	return &openapi3.ParameterRef{Ref: "#/components/parameters/" + key, Value: b.doc.Components.Parameters[key].Value}
}

func (b *builder) responseRef(key string) *openapi3.ResponseRef {
	return &openapi3.ResponseRef{Ref: "#/components/responses/" + key, Value: b.doc.Components.Responses[key].Value}
}

func (b *builder) headerRef(key string) *openapi3.HeaderRef {
	return &openapi3.HeaderRef{Ref: "#/components/headers/" + key, Value: b.doc.Components.Headers[key].Value}
}

// schemaRef refers to a component schema, which must exist (read schemas are created up front).
func (b *builder) schemaRef(key string) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Ref: "#/components/schemas/" + key, Value: b.doc.Components.Schemas[key].Value}
}

// errorResponses maps a status to its shared response component.
var errorResponses = []struct {
	status, key, description string
}{
	{"400", "BadRequest", "Bad request: the URL, headers or body could not be parsed or do not fit the schema"},
	{"401", "Unauthorized", "Unauthorized: the JWT is missing, invalid or expired, or the anonymous role may not do this"},
	{"403", "Forbidden", "Forbidden: the role lacks the privilege"},
	{"404", "NotFound", "Not found: the relation, function or schema does not exist"},
	{"406", "NotAcceptable", "Not acceptable: the requested media type cannot be produced, or a single object was requested and the result is not exactly one row"},
	{"409", "Conflict", "Conflict: a unique, foreign-key or exclusion constraint was violated"},
	{"416", "RangeNotSatisfiable", "Range not satisfiable: the requested range is beyond the result"},
}

// addShared adds the components every document has: the Error schema, error responses, headers, common
// parameters and the bearer security scheme.
func (b *builder) addShared() {
	comp := b.doc.Components
	nullStr := func(desc string) *openapi3.SchemaRef {
		return b.nullable(&openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, Description: desc}})
	}
	errSchema := &openapi3.Schema{
		Type:        &openapi3.Types{openapi3.TypeObject},
		Description: "PostgREST error object",
		Required:    []string{"code", "message", "details", "hint"},
		Properties: openapi3.Schemas{
			"code":    {Value: &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, Description: "PostgREST error code (PGRSTnnn) or PostgreSQL SQLSTATE"}},
			"message": {Value: &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}}},
			"details": nullStr("more details, or null"),
			"hint":    nullStr("a hint to fix the problem, or null"),
		},
	}
	comp.Schemas["Error"] = &openapi3.SchemaRef{Value: errSchema}
	b.keys.unique("Error")

	for _, e := range errorResponses {
		desc := e.description
		r := &openapi3.Response{Description: &desc, Content: openapi3.NewContentWithJSONSchemaRef(b.schemaRef("Error"))}
		if e.status == "401" {
			r.Headers = openapi3.Headers{"WWW-Authenticate": {Value: &openapi3.Header{Parameter: openapi3.Parameter{
				Description: "Bearer challenge with the JWT error", Schema: &openapi3.SchemaRef{Value: stringSchema()}}}}}
		}
		comp.Responses[e.key] = &openapi3.ResponseRef{Value: r}
	}

	hdr := func(desc, pattern string) *openapi3.HeaderRef {
		s := stringSchema()
		s.Pattern = pattern
		return &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{Description: desc,
			Schema: &openapi3.SchemaRef{Value: s}}}}
	}
	comp.Headers["ContentRange"] = hdr("Range of the returned rows and the total when counted: `0-24/3573`, `0-24/*`, `*/0`",
		`^(\d+-\d+|\*)/(\d+|\*)$`)
	comp.Headers["Location"] = hdr("Location of the created row (with Prefer: return=headers-only), e.g. `/books?id=eq.1`", "")
	comp.Headers["PreferenceApplied"] = hdr("The preferences of the Prefer header that were honoured", "")

	qp := func(name, desc string, s *openapi3.Schema) *openapi3.ParameterRef {
		return &openapi3.ParameterRef{Value: &openapi3.Parameter{Name: name, In: openapi3.ParameterInQuery,
			Description: desc, Schema: &openapi3.SchemaRef{Value: s}}}
	}
	nonNeg := func() *openapi3.Schema {
		s := typed(openapi3.TypeInteger, "int64")
		s.Min = ptrF64(0)
		return s
	}
	comp.Parameters["select"] = qp("select", "Columns to return, with renames (`alias:col`), casts (`col::text`), "+
		"JSON paths (`data->a->>b`), aggregates (`amount.sum()`) and embedded relations (`*,author(name)`).", stringSchema())
	comp.Parameters["order"] = qp("order", "Ordering: comma-separated `col[.asc|.desc][.nullsfirst|.nullslast]`, e.g. `age.desc,name`.", stringSchema())
	comp.Parameters["limit"] = qp("limit", "Return at most this many rows.", nonNeg())
	comp.Parameters["offset"] = qp("offset", "Skip this many rows.", nonNeg())
	logic := stringSchema()
	logic.Pattern = `^\(.*\)$`
	comp.Parameters["or"] = qp("or", "Filters combined with OR: `(age.lt.18,age.gt.65)`; nests `and(...)`/`or(...)`.", logic)
	logic2 := stringSchema()
	logic2.Pattern = `^\(.*\)$`
	comp.Parameters["and"] = qp("and", "Filters combined with AND: `(age.gte.18,student.is.true)`.", logic2)
	comp.Parameters["on_conflict"] = qp("on_conflict", "Comma-separated unique columns that decide an upsert (with Prefer: resolution=...).", stringSchema())
	comp.Parameters["columns"] = qp("columns", "Comma-separated columns to take from the body; others get their defaults.", stringSchema())

	hp := func(name, desc string, s *openapi3.Schema) *openapi3.ParameterRef {
		return &openapi3.ParameterRef{Value: &openapi3.Parameter{Name: name, In: openapi3.ParameterInHeader,
			Description: desc, Schema: &openapi3.SchemaRef{Value: s}}}
	}
	rng := stringSchema()
	rng.Pattern = `^\d+-\d*$`
	comp.Parameters["range"] = hp("Range", "Rows to return, zero-based and inclusive: `0-24`, `25-`.", rng)
	unit := stringSchema()
	unit.Default = "items"
	comp.Parameters["rangeUnit"] = hp("Range-Unit", "Unit of the Range header; always `items`.", unit)
	comp.Parameters["preferRead"] = hp("Prefer", "Comma-separated preferences: `count=exact|planned|estimated` (total in "+
		"Content-Range), `handling=strict|lenient`, `timezone=Area/City`.", stringSchema())
	comp.Parameters["preferWrite"] = hp("Prefer", "Comma-separated preferences: `return=minimal|headers-only|representation`, "+
		"`count=exact|planned|estimated`, `resolution=merge-duplicates|ignore-duplicates` (POST upsert), "+
		"`missing=default` (POST/PATCH: absent columns get their defaults), `max-affected=N`, `tx=commit|rollback`, "+
		"`handling=strict|lenient`, `timezone=Area/City`.", stringSchema())
	comp.Parameters["preferRpc"] = hp("Prefer", "Comma-separated preferences: `count=exact|planned|estimated`, "+
		"`params=single-object`, `max-affected=N`, `tx=commit|rollback`, `handling=strict|lenient`, `timezone=Area/City`.", stringSchema())
	if len(b.c.Schemas) > 1 {
		prof := func(name, desc string) *openapi3.ParameterRef {
			s := stringSchema()
			s.Enum = []any{b.schema}
			if b.schema != b.c.Schemas[0] {
				s.Default = nil
			}
			p := hp(name, desc, s)
			p.Value.Required = b.schema != b.c.Schemas[0]
			return p
		}
		comp.Parameters["acceptProfile"] = prof("Accept-Profile", "Schema to read from; this document describes schema `"+b.schema+"`.")
		comp.Parameters["contentProfile"] = prof("Content-Profile", "Schema to write to; this document describes schema `"+b.schema+"`.")
	}
	comp.SecuritySchemes["bearerAuth"] = &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{
		Type: "http", Scheme: "bearer", BearerFormat: "JWT",
		Description: "A JWT whose role claim selects the database role; without one, requests run as the anonymous role.",
	}}
}
