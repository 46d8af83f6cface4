package openapi

import "strings"

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

// param is a parameter object.
func param(name, in, desc string, required bool, s *schema) object {
	o := object{{"name", name}, {"in", in}, {"description", desc}, {"schema", s}}
	if required {
		o.set("required", true)
	}
	return o
}

func paramRef(key string) ref    { return ref("#/components/parameters/" + key) }
func responseRef(key string) ref { return ref("#/components/responses/" + key) }
func headerRef(key string) ref   { return ref("#/components/headers/" + key) }

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

// errorSchema is the Error component.
func (b *builder) errorSchema() *schema {
	nullStr := func(desc string) *schema {
		return b.nullable(&schema{typ: []string{tString}, description: desc})
	}
	return &schema{
		typ:         []string{tObject},
		description: "PostgREST error object",
		required:    []string{"code", "message", "details", "hint"},
		props: object{
			{"code", &schema{typ: []string{tString}, description: "PostgREST error code (PGRSTnnn) or PostgreSQL SQLSTATE"}},
			{"message", &schema{typ: []string{tString}}},
			{"details", nullStr("more details, or null")},
			{"hint", nullStr("a hint to fix the problem, or null")},
		},
	}
}

// sharedResponses are the error responses.
func sharedResponses() object {
	out := make(object, 0, len(errorResponses))
	for _, e := range errorResponses {
		r := object{{"description", e.description},
			{"content", object{{mtJSON, object{{"schema", refSchema("Error")}}}}}}
		if e.status == "401" {
			r.set("headers", object{{"WWW-Authenticate", object{
				{"description", "Bearer challenge with the JWT error"}, {"schema", stringSchema()}}}})
		}
		out.set(e.key, r)
	}
	return out
}

// sharedHeaders are the response headers.
func sharedHeaders() object {
	hdr := func(desc, pattern string) object {
		s := stringSchema()
		s.pattern = pattern
		return object{{"description", desc}, {"schema", s}}
	}
	return object{
		{"ContentRange", hdr("Range of the returned rows and the total when counted: `0-24/3573`, `0-24/*`, `*/0`",
			`^(\d+-\d+|\*)/(\d+|\*)$`)},
		{"Location", hdr("Location of the created row (with Prefer: return=headers-only), e.g. `/books?id=eq.1`", "")},
		{"PreferenceApplied", hdr("The preferences of the Prefer header that were honoured", "")},
	}
}

// selectDescription is the shared select parameter's description.
const selectDescription = "Columns to return, with renames (`alias:col`), casts (`col::text`), " +
	"JSON paths (`data->a->>b`), aggregates (`amount.sum()`) and embedded relations (`*,author(name)`)."

// sharedParams are the parameters every document has (and the profile headers when several schemas are
// exposed), by component key.
func (b *builder) sharedParams() map[string]object {
	qp := func(name, desc string, s *schema) object { return param(name, "query", desc, false, s) }
	nonNeg := func() *schema {
		s := typed(tInteger, "int64")
		s.min = ptrF64(0)
		return s
	}
	logic := func() *schema {
		s := stringSchema()
		s.pattern = `^\(.*\)$`
		return s
	}
	hp := func(name, desc string, s *schema) object { return param(name, "header", desc, false, s) }
	rng := stringSchema()
	rng.pattern = `^\d+-\d*$`
	unit := stringSchema()
	unit.def = "items"
	ps := map[string]object{
		"select":      qp("select", selectDescription, stringSchema()),
		"order":       qp("order", "Ordering: comma-separated `col[.asc|.desc][.nullsfirst|.nullslast]`, e.g. `age.desc,name`.", stringSchema()),
		"limit":       qp("limit", "Return at most this many rows.", nonNeg()),
		"offset":      qp("offset", "Skip this many rows.", nonNeg()),
		"or":          qp("or", "Filters combined with OR: `(age.lt.18,age.gt.65)`; nests `and(...)`/`or(...)`.", logic()),
		"and":         qp("and", "Filters combined with AND: `(age.gte.18,student.is.true)`.", logic()),
		"on_conflict": qp("on_conflict", "Comma-separated unique columns that decide an upsert (with Prefer: resolution=...).", stringSchema()),
		"columns":     qp("columns", "Comma-separated columns to take from the body; others get their defaults.", stringSchema()),
		"range":       hp("Range", "Rows to return, zero-based and inclusive: `0-24`, `25-`.", rng),
		"rangeUnit":   hp("Range-Unit", "Unit of the Range header; always `items`.", unit),
		"preferRead": hp("Prefer", "Comma-separated preferences: `count=exact|planned|estimated` (total in "+
			"Content-Range), `handling=strict|lenient`, `timezone=Area/City`.", stringSchema()),
		"preferWrite": hp("Prefer", "Comma-separated preferences: `return=minimal|headers-only|representation`, "+
			"`count=exact|planned|estimated`, `resolution=merge-duplicates|ignore-duplicates` (POST upsert), "+
			"`missing=default` (POST/PATCH: absent columns get their defaults), `max-affected=N`, `tx=commit|rollback`, "+
			"`handling=strict|lenient`, `timezone=Area/City`.", stringSchema()),
		"preferRpc": hp("Prefer", "Comma-separated preferences: `count=exact|planned|estimated`, "+
			"`params=single-object`, `max-affected=N`, `tx=commit|rollback`, `handling=strict|lenient`, `timezone=Area/City`.", stringSchema()),
	}
	if b.profiles {
		prof := func(name, desc string) object {
			s := stringSchema()
			s.enum = []any{b.schema}
			return param(name, "header", desc, b.schema != b.c.Schemas[0], s)
		}
		ps["acceptProfile"] = prof("Accept-Profile", "Schema to read from; this document describes schema `"+b.schema+"`.")
		ps["contentProfile"] = prof("Content-Profile", "Schema to write to; this document describes schema `"+b.schema+"`.")
	}
	return ps
}

// securitySchemes are the bearer scheme.
func securitySchemes() object {
	return object{{"bearerAuth", object{{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"},
		{"description", "A JWT whose role claim selects the database role; without one, requests run as the anonymous role."}}}}
}
