package sqlgen

import (
	"strings"

	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// ForCall builds the statement for an RPC. It has the shape of a read (total, page_total, body) so the read
// executor and response apply: the function is called in the FROM clause with named arguments unpacked from
// the bound JSON object, as PostgREST's callPlanToQuery.
func ForCall(c *plan.Call) Read {
	var fb builder
	fb.callFrom(c)
	from := fb.sb.String()

	alias := "pgrst_call"
	var where string
	if c.Read != nil {
		alias = c.Read.Alias
		wb := builder{args: fb.args}
		wb.where(alias, c.Read.Where)
		where = wb.sb.String()
		fb.args = wb.args
	}
	b := builder{args: fb.args}
	if c.Media == request.MediaCustom && c.Scalar {
		// The function's own media type: the value itself, in binary so bytea arrives as bytes (PostgREST).
		return Read{Main: Statement{SQL: "SELECT NULL::bigint AS total, 1::bigint AS page_total, pgrst_call.pgrst_scalar AS body, " +
			ResponseGUCColumns + " FROM " + from, Args: b.args}, BinaryBody: true, GUCColumns: true}
	}
	var inner, body, counted string
	switch {
	case c.Read != nil:
		inner = b.innerSelect(c.Read, from+" AS "+QuoteIdent(alias), where)
		countFrom := from + " AS " + QuoteIdent(alias)
		if c.Count != request.CountNone && needsJoins(c.Read) {
			countFrom += b.joins(c.Read) // the filter tests embeds (!inner, rel=is.null): count over the same joins
		}
		counted = "SELECT 1 FROM " + countFrom + where
		if !c.SetOf && c.Media == request.MediaJSON && c.Read.Handler == nil {
			body = "coalesce((json_agg(_pgway_t)->0)::text, 'null')"
		} else {
			body = b.body(c.Read)
		}
	case c.Scalar:
		counted = "SELECT 1 FROM " + from
		inner = "SELECT pgrst_call.pgrst_scalar FROM " + from + b.window(c)
		switch {
		case c.SetOf && !c.Singular:
			body = "coalesce(json_agg(_pgway_t.pgrst_scalar)::text, '[]')"
		default:
			body = "coalesce((json_agg(_pgway_t.pgrst_scalar)->0)::text, 'null')"
		}
	default:
		counted = "SELECT 1 FROM " + from + " AS pgrst_call"
		inner = "SELECT pgrst_call.* FROM " + from + " AS pgrst_call" + b.window(c)
		if c.SetOf && !c.Singular {
			body = "coalesce(json_agg(_pgway_t)::text, '[]')"
		} else {
			body = "coalesce((json_agg(_pgway_t)->0)::text, 'null')"
		}
	}
	total := "NULL::bigint"
	if c.Count != request.CountNone {
		total = "(SELECT pg_catalog.count(*) FROM (" + counted + ") _pgway_c)"
	}
	check := buildCheck(false, c.Singular && !c.ReadOnly, c.MaxAffected, c.Rollback)
	affected := ""
	if check != "" {
		affected = ", set_config('pgway.affected', pg_catalog.count(_pgway_t)::text, true) AS affected"
	}
	if c.Media == request.MediaPlan {
		sql := "SELECT " + total + " AS total, pg_catalog.count(_pgway_t) AS page_total, " + body +
			" AS body FROM (" + inner + ") _pgway_t"
		return Read{Main: Statement{SQL: explainPrefix(c.Explain) + sql, Args: b.args}, Explain: true}
	}
	// The response GUCs the function set come back in the same statement.
	sql := "SELECT " + total + " AS total, pg_catalog.count(_pgway_t) AS page_total, " + body +
		" AS body, " + ResponseGUCColumns + affected + " FROM (" + inner + ") _pgway_t"
	return Read{Main: Statement{SQL: sql, Args: b.args}, Check: check, BinaryBody: c.Read != nil && c.Read.Handler != nil,
		GUCColumns: true}
}

// callFrom writes the FROM items that produce the function's rows. For a scalar result the call is wrapped as
// (SELECT fn(...) AS pgrst_scalar) pgrst_call; otherwise the last item is the bare call, to be aliased.
func (b *builder) callFrom(c *plan.Call) {
	fn := QuoteIdent(c.Routine.Schema) + "." + QuoteIdent(c.Routine.Name)
	var call strings.Builder
	call.WriteString(fn)
	call.WriteString("(")
	switch {
	case c.RawParam != "":
		call.WriteString(b.placeholder(c.Body) + "::" + c.RawParam)
	default:
		for i, p := range c.Args {
			if i > 0 {
				call.WriteString(", ")
			}
			if p.Variadic {
				call.WriteString("VARIADIC ")
			}
			call.WriteString(QuoteIdent(p.Name))
			call.WriteString(" := pgrst_body.")
			call.WriteString(QuoteIdent(p.Name))
		}
	}
	call.WriteString(")")
	if len(c.Args) > 0 {
		b.str("(SELECT ")
		b.arg(c.Body)
		b.str("::json AS json_data) pgrst_payload, LATERAL (SELECT ")
		for i, p := range c.Args {
			if i > 0 {
				b.str(", ")
			}
			b.ident(p.Name)
		}
		if c.ArrayBody {
			b.str(" FROM json_to_recordset(pgrst_payload.json_data) AS _(")
		} else {
			b.str(" FROM json_to_record(pgrst_payload.json_data) AS _(")
		}
		for i, p := range c.Args {
			if i > 0 {
				b.str(", ")
			}
			b.ident(p.Name)
			b.str(" ")
			b.str(unboundedType(p.Type))
		}
		if c.ArrayBody {
			b.str(") LIMIT 1) pgrst_body, LATERAL ")
		} else {
			b.str(")) pgrst_body, LATERAL ")
		}
	}
	if c.Scalar {
		b.str("(SELECT " + call.String() + " AS pgrst_scalar) pgrst_call")
		return
	}
	b.str(call.String())
}

// window is LIMIT/OFFSET for results that are not a relation's rows.
func (b *builder) window(c *plan.Call) string {
	var sb strings.Builder
	if c.Limit >= 0 {
		sb.WriteString(" LIMIT ")
		sb.WriteString(b.placeholder(c.Limit))
	}
	if c.Offset > 0 {
		sb.WriteString(" OFFSET ")
		sb.WriteString(b.placeholder(c.Offset))
	}
	return sb.String()
}

// unboundedType is a parameter's type as a record column: "character" and "bit" name length-1 types there, but
// a function parameter declared so takes any length.
func unboundedType(t string) string {
	base, arr := strings.CutSuffix(t, "[]")
	switch base {
	case "character":
		base = "bpchar"
	case "bit":
		base = "varbit"
	default:
		return t
	}
	if arr {
		return base + "[]"
	}
	return base
}
