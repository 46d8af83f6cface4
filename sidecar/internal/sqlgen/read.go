package sqlgen

import (
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// Statements are what answers one request, run in one transaction: Estimate (when set) is an EXPLAIN (FORMAT
// JSON) of the count query, before Main (Prefer: count=planned|estimated); Main is the request's statement;
// Check (when set) runs after it.
//
// Main's result columns are named: a one-row statement returns the body (body), the row counts (total,
// page_total; the write's affected rows as page_total), a write's location and inserted, and the response GUCs
// (response_headers, response_status) when GUCColumns; a statement rendered row by row (Rows set) returns
// total and row for every row instead.
type Statements struct {
	Main     Statement
	Estimate *Statement
	// Explain is true when Main is itself an EXPLAIN (application/vnd.pgrst.plan): its rows are the plan.
	Explain bool
	// Check is a DO block enforcing the rules PostgREST checks after the statement (singular object,
	// max-affected, PUT's key, a requested rollback); Main then stores its row count in pgway.affected.
	Check string
	// BinaryBody asks for the body column in binary format: the raw value of a function's media type domain.
	BinaryBody bool
	// GUCColumns: Main returns response_headers and response_status itself.
	GUCColumns bool
	// ReadGUCsAfter: read the response GUCs again after Main (AFTER triggers set them when the statement ends).
	ReadGUCsAfter bool
	// StreamBody, when set, is the request body Main reads from StreamTable, where it is copied first (COPY),
	// instead of from a bound parameter.
	StreamBody []byte
	// Rows, when set, says Main returns one row per result row — columns total (the same in every row) and
	// row (the row rendered in the media type, NULL in the one row of an empty counted result) — to be joined
	// by the caller as Rows frames them; otherwise Main returns one row with the whole body.
	Rows *Framing
}

// For builds the statements answering a planned request.
func For(a *plan.Action) Statements {
	switch a.Kind {
	case plan.KindRead:
		return ForRead(a.Read)
	case plan.KindMutate:
		return ForMutate(a.Mutate)
	case plan.KindCall:
		return ForCall(a.Call)
	}
	return Statements{}
}

// Framing joins a result's rendered rows into a body: Open, the rows separated by Sep, Close; Empty is the body
// of a result without rows.
type Framing struct {
	Open, Sep, Close, Empty string
}

// rowsFraming is how rows are joined for media rendered row by row (nil for the others: one aggregated value).
func rowsFraming(r *plan.Read) *Framing {
	if r.Handler != nil || r.Singular {
		return nil
	}
	switch r.Media {
	case request.MediaJSON, request.MediaArrayStripped:
		return &jsonFraming
	case request.MediaNDJSON:
		return &ndjsonFraming
	case request.MediaGeoJSON:
		return &geoFraming
	case request.MediaCSV:
		keys := outputKeys(r)
		header := make([]byte, 0, 16*len(keys)+1)
		for i, k := range keys {
			if i > 0 {
				header = append(header, ',')
			}
			header = appendCSVField(header, k.String())
		}
		header = append(header, '\n')
		return &Framing{Open: string(header), Sep: "\n", Empty: string(header)}
	}
	return nil
}

var (
	jsonFraming   = Framing{Open: "[", Sep: ",", Close: "]", Empty: "[]"}
	ndjsonFraming = Framing{Sep: "\n", Close: "\n"}
)

// rowExpr renders one row of _pgway_t in r's media type.
func (b *builder) rowExpr(r *plan.Read) {
	switch r.Media {
	case request.MediaGeoJSON:
		b.geoFeature(r.GeoJSON)
	case request.MediaCSV:
		b.sql("substring(_pgway_t::text, 2, length(_pgway_t::text) - 2)")
	case request.MediaArrayStripped:
		b.sql("json_strip_nulls(row_to_json(_pgway_t))::text")
	default:
		b.sql("row_to_json(_pgway_t)::text")
	}
}

// rowsStatement writes the row-by-row form of a read: each row of inner rendered as row, with the total; a
// counted result is a LEFT JOIN LATERAL of the rows to the count, so that an empty page still carries it.
func (b *builder) rowsStatement(r *plan.Read, total, inner *builder, counted bool) {
	b.rowsStatementOf(func() { b.rowExpr(r) }, total, inner, counted)
}

// rowsStatementOf is rowsStatement with each row rendered by rowExpr (which writes to b).
func (b *builder) rowsStatementOf(rowExpr func(), total, inner *builder, counted bool) {
	if !counted {
		b.sql("SELECT NULL::bigint AS total, ")
		rowExpr()
		b.sql(" AS row FROM (")
		b.add(inner)
		b.sql(") _pgway_t")
		return
	}
	b.sql("SELECT _pgway_c.total, _pgway_r.row FROM (SELECT ")
	b.add(total)
	b.sql(" AS total) _pgway_c LEFT JOIN LATERAL (SELECT ")
	rowExpr()
	b.sql(" AS row FROM (")
	b.add(inner)
	b.sql(") _pgway_t) _pgway_r ON TRUE")
}

// ForRead builds the statements answering r.
func ForRead(r *plan.Read) Statements {
	b := newBuilder()
	from := b.sub()
	from.fromRelation(r)

	// The WHERE clause is shared by the page query and the count queries; its placeholders are numbered once.
	where := b.sub()
	where.where(readAlias(r), r.Where)

	inner := b.innerSelect(r, from, where)
	countFrom := from
	if needsJoins(r) && (r.Count == request.CountExact || r.Count == request.CountEstimated) {
		// The filter tests embeds: count over the same joins (their arguments are bound again).
		countFrom = b.sub()
		countFrom.add(from)
		countFrom.add(b.joins(r))
	}

	total := b.sub()
	switch {
	case r.Count == request.CountExact || r.Count == request.CountEstimated && r.MaxRows == 0:
		if r.GroupBy {
			total.sql("(SELECT pg_catalog.count(*) FROM (")
			total.add(b.groupedSource(r, from, where))
			total.sql(") _pgway_c)")
		} else {
			total.sql("(SELECT pg_catalog.count(*) FROM ")
			total.add(countFrom)
			total.add(where)
			total.sql(")")
		}
	case r.Count == request.CountEstimated:
		// Exact up to max-rows (+1 to detect "more"); the caller falls back to the planner's estimate above that.
		total.sql("(SELECT pg_catalog.count(*) FROM (SELECT 1 FROM ")
		total.add(countFrom)
		total.add(where)
		total.sql(" LIMIT ")
		total.arg(r.MaxRows + 1)
		total.sql(") _pgway_c)")
	default:
		total.sql("NULL::bigint")
	}

	explain := r.Media == request.MediaPlan
	out := Statements{Explain: explain, BinaryBody: r.Handler != nil && !explain}
	if out.Rows = rowsFraming(r); out.Rows != nil {
		b.rowsStatement(r, total, inner, r.Count == request.CountExact || r.Count == request.CountEstimated)
	} else {
		if explain {
			b.explainPrefix(r.Explain)
		}
		b.sql("SELECT ")
		b.add(total)
		b.sql(" AS total, pg_catalog.count(_pgway_t) AS page_total, ")
		first := b.body(r)
		b.sql(" AS body")
		b.fromRows(inner, first)
	}
	out.Main = b.statement()
	if r.Count == request.CountPlanned || r.Count == request.CountEstimated {
		// Its own statement and arguments: only the filter's and the joins'.
		eb := newBuilder()
		eb.sql("EXPLAIN (FORMAT JSON) SELECT 1 FROM ")
		eb.fromRelation(r)
		if needsJoins(r) {
			eb.add(eb.joins(r))
		}
		eb.where(readAlias(r), r.Where)
		st := eb.statement()
		out.Estimate = &st
	}
	return out
}

// innerSelect is the page query: projection, filter, grouping, order, window.
func (b *builder) innerSelect(r *plan.Read, from, where *builder) *builder {
	s := b.sub()
	s.sql("SELECT ")
	s.writeSelectList(r)
	s.sql(" FROM ")
	s.add(from)
	if len(r.Embeds) > 0 {
		s.add(s.joins(r))
	}
	s.add(where)
	s.writeGroupBy(r)
	for i, o := range r.Order {
		if i == 0 {
			s.sql(" ORDER BY ")
		} else {
			s.sql(", ")
		}
		s.orderTerm(r, i)
		if o.Desc {
			s.sql(" DESC")
		} else {
			s.sql(" ASC")
		}
		s.nulls(o.Nulls)
	}
	s.window(r.Limit, r.Offset)
	return s
}

// window writes LIMIT and OFFSET (limit -1: none).
func (b *builder) window(limit, offset int64) {
	if limit >= 0 {
		b.sql(" LIMIT ")
		b.arg(limit)
	}
	if offset > 0 {
		b.sql(" OFFSET ")
		b.arg(offset)
	}
}

func (b *builder) nulls(n plan.Nulls) {
	switch n {
	case plan.NullsFirst:
		b.sql(" NULLS FIRST")
	case plan.NullsLast:
		b.sql(" NULLS LAST")
	}
}

// groupedSource is the unwindowed grouped query, for counting groups.
func (b *builder) groupedSource(r *plan.Read, from, where *builder) *builder {
	s := b.sub()
	s.sql("SELECT ")
	s.writeOutputs(r)
	s.sql(" FROM ")
	s.add(from)
	s.add(where)
	s.writeGroupBy(r)
	return s
}

func (b *builder) writeGroupBy(r *plan.Read) {
	if !r.GroupBy {
		return
	}
	// Every output that is not an aggregate, embedded objects and arrays (jsonb, so groupable) included.
	n := 0
	sep := func() {
		if n == 0 {
			b.sql(" GROUP BY ")
		} else {
			b.sql(", ")
		}
		n++
	}
	for i, agg := range outputAggs(r) {
		if !agg {
			sep()
			b.num(i + 1)
		}
	}
	// Related orders sort by a to-one embed's column, which is one value per row: group by it too.
	for i, o := range r.Order {
		if o.Embed != nil {
			sep()
			b.orderTerm(r, i)
		}
	}
}

// aggregates are the SQL aggregate functions.
var aggregates = map[plan.Agg]fixed{
	plan.AggCount: "pg_catalog.count", plan.AggSum: "pg_catalog.sum", plan.AggAvg: "pg_catalog.avg",
	plan.AggMin: "pg_catalog.min", plan.AggMax: "pg_catalog.max",
}

func (b *builder) writeOutputs(r *plan.Read) {
	if len(r.Select) == 0 {
		// No columns (select= empty): rows are still counted; each is an empty object.
		b.sql(`NULL AS ""`)
		return
	}
	for i, o := range r.Select {
		if i > 0 {
			b.sql(", ")
		}
		switch {
		case r.Hoisted && o.Agg == plan.AggCount && o.Expr.Column == nil:
			b.sql("1") // counted by the parent
		case r.Hoisted && o.Agg != plan.AggNone:
			b.readExpr(r, o.Expr) // aggregated by the parent
			b.sql(" AS ")
			b.key(o.Key)
			continue
		case o.Agg == plan.AggCount && o.Expr.Column == nil:
			b.sql("pg_catalog.count(*)")
		case o.Agg != plan.AggNone:
			b.sql(aggregates[o.Agg])
			b.sql("(")
			b.readExpr(r, o.Expr)
			b.sql(")")
		default:
			b.outputExpr(r, o.Expr)
		}
		if o.AggCast != nil {
			b.sql("::")
			b.catalog(castType(o.AggCast))
		}
		b.sql(" AS ")
		b.key(o.Key)
	}
}

// body writes the aggregate that renders the page in the negotiated media type.
// Singular bodies (a vnd.pgrst.object+json read, a function's single result) keep only the first row: their
// statement numbers the rows (fromRows with first) and aggregates the one numbered 1, so that PostgreSQL holds
// one row however many there are. The others are still counted: PGRST116 says how many there were.
const (
	firstRowJSON      fixed = "coalesce((json_agg(_pgway_t.r) FILTER (WHERE _pgway_t.n = 1)->0)::text, 'null')"
	firstRowStripped  fixed = "coalesce(json_strip_nulls(json_agg(_pgway_t.r) FILTER (WHERE _pgway_t.n = 1)->0)::text, 'null')"
	firstScalarJSON   fixed = "coalesce((json_agg((_pgway_t.r).pgrst_scalar) FILTER (WHERE _pgway_t.n = 1)->0)::text, 'null')"
	numberedRowsStart fixed = "SELECT _pgway_t AS r, pg_catalog.row_number() OVER () AS n FROM ("
)

// fromRows writes FROM (inner) _pgway_t; with first, inner's rows numbered: _pgway_t.r is the row and
// _pgway_t.n its number (for firstRowJSON and the other singular bodies).
func (b *builder) fromRows(inner *builder, first bool) {
	b.sql(" FROM (")
	if first {
		b.sql(numberedRowsStart)
	}
	b.add(inner)
	b.sql(") _pgway_t")
	if first {
		b.sql(") _pgway_t")
	}
}

// body writes the aggregate rendering the rows of _pgway_t in r's media type; it reports whether that is a
// singular body, which needs fromRows with first.
func (b *builder) body(r *plan.Read) (first bool) {
	if h := r.Handler; h != nil {
		// An aggregate media type handler over the page's rows, typed as the relation it takes.
		b.qualified(handlerAggregate(h))
		if h.Target == (schemacache.QName{}) {
			b.sql("(_pgway_t)") // anyelement: the selected columns as they are
			return false
		}
		b.sql("(_pgway_t::")
		b.qualified(handlerTarget(h))
		b.sql(")")
		return false
	}
	switch r.Media {
	case request.MediaGeoJSON:
		b.geoBody(r.GeoJSON)
	case request.MediaCSV:
		keys := outputKeys(r)
		header := make([]byte, 0, 16*len(keys))
		for i, k := range keys {
			if i > 0 {
				header = append(header, ',')
			}
			header = appendCSVField(header, k.String())
		}
		b.arg(string(header))
		b.sql("::text || chr(10) || coalesce(string_agg(substring(_pgway_t::text, 2, length(_pgway_t::text) - 2), chr(10)), '')")
	case request.MediaObject:
		b.sql(firstRowJSON)
		return true
	case request.MediaObjectStripped:
		b.sql(firstRowStripped)
		return true
	case request.MediaArrayStripped:
		b.sql("coalesce(json_strip_nulls(json_agg(_pgway_t))::text, '[]')")
	default:
		b.sql("coalesce(json_agg(_pgway_t)::text, '[]')")
	}
	return false
}

// appendCSVField quotes a header name the way PostgreSQL's record output quotes values (a bound value).
func appendCSVField(buf []byte, s string) []byte {
	plain := s != ""
	for i := 0; plain && i < len(s); i++ {
		switch s[i] {
		case '"', ',', '\\', '(', ')', '\n', '\r', '\t', ' ':
			plain = false
		}
	}
	if plain {
		return append(buf, s...)
	}
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			buf = append(buf, '"', '"')
		case '\\':
			buf = append(buf, '\\', '\\')
		default:
			buf = append(buf, s[i])
		}
	}
	return append(buf, '"')
}

// explainPrefix writes EXPLAIN with the requested options.
func (b *builder) explainPrefix(o request.PlanOptions) {
	if o.Format == "json" {
		b.sql("EXPLAIN (FORMAT JSON")
	} else {
		b.sql("EXPLAIN (FORMAT TEXT")
	}
	for _, opt := range []struct {
		on   bool
		name fixed
	}{{o.Analyze, ", ANALYZE"}, {o.Verbose, ", VERBOSE"}, {o.Settings, ", SETTINGS"}, {o.Buffers, ", BUFFERS"}, {o.WAL, ", WAL"}} {
		if opt.on {
			b.sql(opt.name)
		}
	}
	b.sql(") ")
}
