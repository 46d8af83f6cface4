package sqlgen

import (
	"strconv"
	"strings"

	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// Read is the SQL for a read: Main returns one row (total bigint or null, page_total bigint, body text);
// Estimate, when set, is an EXPLAIN (FORMAT JSON) of the count query run in the same transaction before Main
// (Prefer: count=planned|estimated).
type Read struct {
	Main     Statement
	Estimate *Statement
	// Explain is true when Main is itself an EXPLAIN (application/vnd.pgrst.plan): its rows are the plan.
	Explain bool
	// Check, when set, runs after Main in the same transaction (see Mutate.Check); Main then has a fourth
	// column storing the row count.
	Check string
	// BinaryBody asks for the body column in binary format: the raw value of a function's media type domain.
	BinaryBody bool
	// GUCColumns: Main's fourth and fifth columns are response.headers and response.status.
	GUCColumns bool
}

// ForRead builds the statements answering r.
func ForRead(r *plan.Read) Read {
	var b builder
	alias := r.Alias
	from := qualified(r.Rel) + " AS " + QuoteIdent(alias)

	// The WHERE clause is shared by the page query and the count queries; its placeholders are numbered once.
	var wb builder
	wb.where(alias, r.Where)
	where := wb.sb.String()
	b.args = wb.args

	inner := b.innerSelect(r, from, where)
	countFrom := from
	if needsJoins(r) && (r.Count == request.CountExact || r.Count == request.CountEstimated) {
		// The filter tests embeds: count over the same joins (their arguments are bound again).
		countFrom = from + b.joins(r)
	}

	var total string
	switch {
	case r.Count == request.CountExact || r.Count == request.CountEstimated && r.MaxRows == 0:
		total = "(SELECT pg_catalog.count(*) FROM " + countFrom + where + ")"
		if r.GroupBy {
			total = "(SELECT pg_catalog.count(*) FROM (" + b.groupedSource(r, from, where) + ") _pgway_c)"
		}
	case r.Count == request.CountEstimated:
		// Exact up to max-rows (+1 to detect "more"); the caller falls back to the planner's estimate above that.
		total = "(SELECT pg_catalog.count(*) FROM (SELECT 1 FROM " + countFrom + where + " LIMIT " +
			strconv.FormatInt(r.MaxRows+1, 10) + ") _pgway_c)"
	default:
		total = "NULL::bigint"
	}

	var sb strings.Builder
	sb.Grow(len(inner) + len(total) + 160)
	explain := r.Media == request.MediaPlan
	if explain {
		sb.WriteString(explainPrefix(r.Explain))
	}
	sb.WriteString("SELECT ")
	sb.WriteString(total)
	sb.WriteString(" AS total, pg_catalog.count(_pgway_t) AS page_total, ")
	sb.WriteString(b.body(r))
	sb.WriteString(" AS body FROM (")
	sb.WriteString(inner)
	sb.WriteString(") _pgway_t")

	out := Read{Main: Statement{SQL: sb.String(), Args: b.args}, Explain: explain, BinaryBody: r.Handler != nil && !explain}
	if r.Count == request.CountPlanned || r.Count == request.CountEstimated {
		if needsJoins(r) {
			// Its own arguments: only the filter's and the joins'.
			var eb builder
			eb.where(alias, r.Where)
			ewhere := eb.sb.String()
			ejoins := eb.joins(r)
			out.Estimate = &Statement{SQL: "EXPLAIN (FORMAT JSON) SELECT 1 FROM " + from + ejoins + ewhere, Args: eb.args}
		} else {
			out.Estimate = &Statement{SQL: "EXPLAIN (FORMAT JSON) SELECT 1 FROM " + from + where, Args: wb.args}
		}
	}
	return out
}

// innerSelect is the page query: projection, filter, grouping, order, window.
func (b *builder) innerSelect(r *plan.Read, from, where string) string {
	var sb strings.Builder
	sb.Grow(64*len(r.Select) + len(from) + len(where) + 64)
	sb.WriteString("SELECT ")
	b.writeSelectList(&sb, r)
	sb.WriteString(" FROM ")
	sb.WriteString(from)
	if len(r.Embeds) > 0 {
		sb.WriteString(b.joins(r))
	}
	sb.WriteString(where)
	b.writeGroupBy(&sb, r)
	for i, o := range r.Order {
		if i == 0 {
			sb.WriteString(" ORDER BY ")
		} else {
			sb.WriteString(", ")
		}
		sb.WriteString(b.orderTerm(r, i))
		if o.Desc {
			sb.WriteString(" DESC")
		} else {
			sb.WriteString(" ASC")
		}
		switch o.Nulls {
		case "first":
			sb.WriteString(" NULLS FIRST")
		case "last":
			sb.WriteString(" NULLS LAST")
		}
	}
	if r.Limit >= 0 {
		sb.WriteString(" LIMIT ")
		sb.WriteString(b.placeholder(r.Limit))
	}
	if r.Offset > 0 {
		sb.WriteString(" OFFSET ")
		sb.WriteString(b.placeholder(r.Offset))
	}
	return sb.String()
}

// groupedSource is the unwindowed grouped query, for counting groups.
func (b *builder) groupedSource(r *plan.Read, from, where string) string {
	var sb strings.Builder
	sb.WriteString("SELECT ")
	b.writeOutputs(&sb, r)
	sb.WriteString(" FROM ")
	sb.WriteString(from)
	sb.WriteString(where)
	b.writeGroupBy(&sb, r)
	return sb.String()
}

func (b *builder) writeGroupBy(sb *strings.Builder, r *plan.Read) {
	if !r.GroupBy {
		return
	}
	// Every output that is not an aggregate, embedded objects and arrays (jsonb, so groupable) included.
	n := 0
	for i, agg := range outputAggs(r) {
		if agg {
			continue
		}
		if n == 0 {
			sb.WriteString(" GROUP BY ")
		} else {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.Itoa(i + 1))
		n++
	}
	// Related orders sort by a to-one embed's column, which is one value per row: group by it too.
	for i, o := range r.Order {
		if o.Embed == nil {
			continue
		}
		if n == 0 {
			sb.WriteString(" GROUP BY ")
		} else {
			sb.WriteString(", ")
		}
		sb.WriteString(b.orderTerm(r, i))
		n++
	}
}

func (b *builder) placeholder(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *builder) writeOutputs(sb *strings.Builder, r *plan.Read) {
	if len(r.Select) == 0 {
		// No columns (select= empty): rows are still counted; each is an empty object.
		sb.WriteString("NULL AS \"\"")
		return
	}
	var eb builder
	eb.sb.Grow(48 * len(r.Select))
	for i, o := range r.Select {
		if i > 0 {
			eb.str(", ")
		}
		switch {
		case r.Hoisted && o.Aggregate == "count" && o.Expr.Column == nil:
			eb.str("1") // counted by the parent
		case r.Hoisted && o.Aggregate != "":
			eb.expr(r.Alias, o.Expr) // aggregated by the parent
			eb.str(" AS ")
			eb.ident(o.Name)
			continue
		case o.Aggregate == "count" && o.Expr.Column == nil:
			eb.str("pg_catalog.count(*)")
		case o.Aggregate != "":
			eb.str(o.Aggregate)
			eb.str("(")
			eb.expr(r.Alias, o.Expr)
			eb.str(")")
		default:
			eb.outputExpr(r.Alias, o.Expr)
		}
		if o.AggregateCast != "" {
			eb.str("::")
			eb.str(o.AggregateCast)
		}
		eb.str(" AS ")
		eb.ident(o.Name)
	}
	sb.WriteString(eb.sb.String())
}

// body is the aggregate that renders the page in the negotiated media type.
func (b *builder) body(r *plan.Read) string {
	if h := r.Handler; h != nil {
		// An aggregate media type handler over the page's rows, typed as the relation it takes.
		agg := QuoteIdent(h.Aggregate.Schema) + "." + QuoteIdent(h.Aggregate.Name)
		if h.Target == (schemacache.QName{}) {
			return agg + "(_pgway_t)" // anyelement: the selected columns as they are
		}
		return agg + "(_pgway_t::" + QuoteIdent(h.Target.Schema) + "." + QuoteIdent(h.Target.Name) + ")"
	}
	switch r.Media {
	case request.MediaCSV:
		names := outputNames(r)
		header := make([]string, len(names))
		for i, n := range names {
			header[i] = csvField(n)
		}
		return b.placeholder(strings.Join(header, ",")) + "::text || chr(10) || coalesce(string_agg(" +
			"substring(_pgway_t::text, 2, length(_pgway_t::text) - 2), chr(10)), '')"
	case request.MediaObject:
		return "coalesce((json_agg(_pgway_t)->0)::text, 'null')"
	case request.MediaObjectStripped:
		return "coalesce(json_strip_nulls(json_agg(_pgway_t)->0)::text, 'null')"
	case request.MediaArrayStripped:
		return "coalesce(json_strip_nulls(json_agg(_pgway_t))::text, '[]')"
	default:
		return "coalesce(json_agg(_pgway_t)::text, '[]')"
	}
}

// csvField quotes a header name the way PostgreSQL's record output quotes values.
func csvField(s string) string {
	if s != "" && !strings.ContainsAny(s, "\",\\()\n\r\t ") {
		return s
	}
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `""`) + `"`
}

func explainPrefix(o request.PlanOptions) string {
	var sb strings.Builder
	sb.WriteString("EXPLAIN (FORMAT ")
	if o.Format == "json" {
		sb.WriteString("JSON")
	} else {
		sb.WriteString("TEXT")
	}
	for _, opt := range []struct {
		on   bool
		name string
	}{{o.Analyze, "ANALYZE"}, {o.Verbose, "VERBOSE"}, {o.Settings, "SETTINGS"}, {o.Buffers, "BUFFERS"}, {o.WAL, "WAL"}} {
		if opt.on {
			sb.WriteString(", ")
			sb.WriteString(opt.name)
		}
	}
	sb.WriteString(") ")
	return sb.String()
}
