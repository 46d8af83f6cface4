package sqlgen

import (
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// ForCall builds the statement for an RPC. It has the shape of a read (total, page_total, body) so the read
// executor and response apply: the function is called in the FROM clause with named arguments unpacked from
// the bound JSON object, as PostgREST's callPlanToQuery.
func ForCall(c *plan.Call) Statements {
	b := newBuilder()
	from := b.sub()
	from.callFrom(c)

	where := b.sub()
	if c.Read != nil {
		where.where(readAlias(c.Read), c.Read.Where)
	}
	if c.Media == request.MediaCustom && c.Scalar {
		// The function's own media type: the value itself, in binary so bytea arrives as bytes (PostgREST).
		b.sql("SELECT NULL::bigint AS total, 1::bigint AS page_total, pgrst_call.pgrst_scalar AS body, " +
			ResponseGUCColumns + " FROM ")
		b.add(from)
		return Statements{Main: b.statement(), BinaryBody: true, GUCColumns: true}
	}
	var inner, counted *builder
	body := b.sub()
	first := false // a singular body: see firstRowJSON
	switch {
	case c.Read != nil:
		aliased := b.sub()
		aliased.add(from)
		aliased.sql(" AS ")
		aliased.readAlias(c.Read)
		inner = b.innerSelect(c.Read, aliased, where)
		counted = b.sub()
		counted.sql("SELECT 1 FROM ")
		counted.add(aliased)
		if c.Count != request.CountNone && needsJoins(c.Read) {
			counted.add(counted.joins(c.Read)) // the filter tests embeds (!inner, rel=is.null): count over the same joins
		}
		counted.add(where)
		if !c.SetOf && c.Media == request.MediaJSON && c.Read.Handler == nil {
			body.sql(firstRowJSON)
			first = true
		} else {
			first = body.body(c.Read)
		}
	case c.Scalar:
		counted = b.sub()
		counted.sql("SELECT 1 FROM ")
		counted.add(from)
		inner = b.sub()
		inner.sql("SELECT pgrst_call.pgrst_scalar FROM ")
		inner.add(from)
		inner.window(c.Limit, c.Offset)
		if c.Media == request.MediaGeoJSON {
			body.geoBody(c.GeoJSON) // a geometry result is a feature without properties
		} else if c.SetOf && !c.Singular {
			body.sql("coalesce(json_agg(_pgway_t.pgrst_scalar)::text, '[]')")
		} else {
			body.sql(firstScalarJSON)
			first = true
		}
	default:
		counted = b.sub()
		counted.sql("SELECT 1 FROM ")
		counted.add(from)
		counted.sql(" AS pgrst_call")
		inner = b.sub()
		inner.sql("SELECT pgrst_call.* FROM ")
		inner.add(from)
		inner.sql(" AS pgrst_call")
		inner.window(c.Limit, c.Offset)
		if c.Media == request.MediaGeoJSON {
			body.geoBody(c.GeoJSON)
		} else if c.SetOf && !c.Singular {
			body.sql("coalesce(json_agg(_pgway_t)::text, '[]')")
		} else {
			body.sql(firstRowJSON)
			first = true
		}
	}
	total := b.sub()
	if c.Count != request.CountNone {
		total.sql("(SELECT pg_catalog.count(*) FROM (")
		total.add(counted)
		total.sql(") _pgway_c)")
	} else {
		total.sql("NULL::bigint")
	}
	explain := c.Media == request.MediaPlan
	check := ""
	if explain {
		b.explainPrefix(c.Explain)
	} else {
		check = buildCheck(false, c.Singular && !c.ReadOnly, c.MaxAffected, c.Rollback)
	}
	if c.Read != nil && c.SetOf && !explain && check == "" {
		if framing := rowsFraming(c.Read); framing != nil {
			// Rows of a set-returning function, rendered one by one like a relation's; the response GUCs the
			// function set are read after the statement.
			b.rowsStatement(c.Read, total, inner, c.Count != request.CountNone)
			return Statements{Main: b.statement(), Rows: framing}
		}
	}
	if c.Scalar && c.SetOf && !c.Singular && c.Media == request.MediaJSON && !explain && check == "" {
		// The values of a function returning a set of scalars (SETOF int, SETOF text…), one JSON value each,
		// streamed like rows.
		b.rowsStatementOf(func() { b.sql("coalesce(pg_catalog.to_json(_pgway_t.pgrst_scalar)::text, 'null')") }, total, inner,
			c.Count != request.CountNone)
		return Statements{Main: b.statement(), Rows: &jsonFraming}
	}
	b.sql("SELECT ")
	b.add(total)
	b.sql(" AS total, pg_catalog.count(_pgway_t) AS page_total, ")
	b.add(body)
	b.sql(" AS body")
	if !explain {
		// The response GUCs the function set come back in the same statement.
		b.sql(", " + ResponseGUCColumns)
		if check != "" {
			b.sql(", set_config('pgway.affected', pg_catalog.count(_pgway_t)::text, true) AS affected")
		}
	}
	b.fromRows(inner, first)
	if explain {
		return Statements{Main: b.statement(), Explain: true}
	}
	return Statements{Main: b.statement(), Check: check, BinaryBody: c.Read != nil && c.Read.Handler != nil, GUCColumns: true}
}

// callFrom writes the FROM items that produce the function's rows. For a scalar result the call is wrapped as
// (SELECT fn(...) AS pgrst_scalar) pgrst_call; otherwise the last item is the bare call, to be aliased.
func (b *builder) callFrom(c *plan.Call) {
	call := b.sub()
	call.qualified(routineName(c.Routine))
	call.sql("(")
	switch {
	case c.RawParam != nil:
		call.arg(c.Body)
		call.sql("::")
		call.catalog(paramType(c.RawParam))
	default:
		for i := range c.Args {
			p := &c.Args[i]
			if i > 0 {
				call.sql(", ")
			}
			if p.Variadic {
				call.sql("VARIADIC ")
			}
			call.name(paramName(p))
			call.sql(" := pgrst_body.")
			call.name(paramName(p))
		}
	}
	call.sql(")")
	if len(c.Args) > 0 {
		b.sql("(SELECT ")
		b.arg(c.Body)
		b.sql("::json AS json_data) pgrst_payload, LATERAL (SELECT ")
		for i := range c.Args {
			if i > 0 {
				b.sql(", ")
			}
			b.name(paramName(&c.Args[i]))
		}
		if c.ArrayBody {
			b.sql(" FROM json_to_recordset(pgrst_payload.json_data) AS _(")
		} else {
			b.sql(" FROM json_to_record(pgrst_payload.json_data) AS _(")
		}
		for i := range c.Args {
			if i > 0 {
				b.sql(", ")
			}
			b.name(paramName(&c.Args[i]))
			b.sql(" ")
			b.catalog(paramRecordType(&c.Args[i]))
		}
		if c.ArrayBody {
			b.sql(") LIMIT 1) pgrst_body, LATERAL ")
		} else {
			b.sql(")) pgrst_body, LATERAL ")
		}
	}
	if c.Scalar {
		b.sql("(SELECT ")
		b.add(call)
		b.sql(" AS pgrst_scalar) pgrst_call")
		return
	}
	b.add(call)
}
