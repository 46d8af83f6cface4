package plan

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// Relation finds the target relation of a request in schema, or returns PostgREST's PGRST205 with a hint naming
// the closest relation.
func Relation(c *schemacache.Cache, schema, name string) (*schemacache.Relation, error) {
	if rel, ok := c.Relation(schema, name); ok {
		return rel, nil
	}
	e := apierr.New(http.StatusNotFound, "PGRST205",
		fmt.Sprintf("Could not find the table '%s.%s' in the schema cache", schema, name))
	if q, ok := c.ClosestRelation(schema, name); ok {
		e.Hint = fmt.Sprintf("Perhaps you meant the table '%s.%s'", q.Schema, q.Name)
	}
	return nil, e
}

// ForRead resolves a GET/HEAD request on rel. c resolves embedded resources and cast types (nil: none allowed).
func ForRead(req *request.Request, c *schemacache.Cache, rel *schemacache.Relation, lim Limits) (*Read, error) {
	maxRows := lim.MaxRows
	r := &Read{
		Rel:     rel,
		Offset:  0,
		Limit:   -1,
		Count:   req.Prefer.Count,
		Media:   req.Accept,
		Explain: req.Plan,
		MaxRows: maxRows,

		legacyTargets: !req.StrictTargetNames,
	}
	r.Singular = req.Accept == request.MediaObject || req.Accept == request.MediaObjectStripped
	if req.Action == request.ActionRead || req.Action == request.ActionCall {
		h, err := relationMedia(req, c, rel)
		if err != nil {
			return nil, err
		}
		if h != nil {
			r.Handler, r.Media, r.Singular = h, request.MediaCustom, false
		}
	}
	if r.Media == request.MediaGeoJSON && c != nil {
		r.GeoJSON = c.GeoJSON // New negotiated geo+json only where PostGIS is installed
	}
	rv := &resolver{cache: c, schema: rel.Schema, limits: lim, root: rel}
	if err := r.resolveSelect(rv, req.Select, 1); err != nil {
		return nil, err
	}
	for i := range req.Filters {
		f := &req.Filters[i]
		target := r
		if len(f.Path) > 0 {
			e, err := r.findEmbed(f.Path)
			if err != nil {
				return nil, err
			}
			target = e.Read
		}
		if leaf, ok, err := target.embedNullFilter(f.Field, f.Cond); err != nil {
			return nil, err
		} else if ok {
			target.Where = append(target.Where, Cond{Leaf: leaf})
			continue
		}
		leaf, err := resolveLeaf(target.Rel, target.qualifier(), f.Field, &f.Cond)
		if err != nil {
			return nil, err
		}
		target.Where = append(target.Where, Cond{Leaf: leaf})
	}
	for i := range req.Logic {
		l := &req.Logic[i]
		target := r
		if len(l.Path) > 0 {
			e, err := r.findEmbed(l.Path)
			if err != nil {
				return nil, err
			}
			target = e.Read
		}
		c, err := target.resolveLogicIn(l)
		if err != nil {
			return nil, err
		}
		target.Where = append(target.Where, c)
	}
	for _, o := range req.Order {
		target := r
		if len(o.Path) > 0 {
			e, err := r.findEmbed(o.Path)
			if err != nil {
				return nil, err
			}
			target = e.Read
		}
		for _, t := range o.Terms {
			if t.Relation != "" {
				ord, err := target.relatedOrder(t)
				if err != nil {
					return nil, err
				}
				target.Order = append(target.Order, ord)
				continue
			}
			e, err := resolveExpr(target.Rel, target.qualifier(), t.Field)
			if err != nil {
				return nil, err
			}
			target.Order = append(target.Order, Order{Expr: e, Desc: t.Desc, Nulls: nullsOf(t.Nulls)})
		}
	}
	for _, rg := range req.Ranges {
		if len(rg.Path) > 0 {
			e, err := r.findEmbed(rg.Path)
			if err != nil {
				return nil, err
			}
			e.Read.Offset, e.Read.Limit = rg.Offset, rg.Limit
			continue
		}
		r.Offset, r.Limit = rg.Offset, rg.Limit
	}
	if maxRows > 0 && (r.Limit < 0 || r.Limit > maxRows) {
		r.Limit = maxRows
	}
	if maxRows > 0 {
		capEmbeds(r, maxRows)
	}
	return r, nil
}

// capEmbeds applies db-max-rows to every to-many embed too, as PostgREST does.
func capEmbeds(r *Read, maxRows int64) {
	for _, e := range r.Embeds {
		if !e.ToOne && (e.Read.Limit < 0 || e.Read.Limit > maxRows) {
			e.Read.Limit = maxRows
		}
		capEmbeds(e.Read, maxRows)
	}
}

// relatedOrder is order=rel(col): rel must be a to-one embed of r (PGRST118 otherwise).
func (r *Read) relatedOrder(t request.OrderTerm) (Order, error) {
	e := r.embedNamed(t.Relation)
	if e == nil {
		// An aliased embed named by its relation (url-use-legacy-target-names), or PGRST108.
		found, err := r.findEmbed([]string{t.Relation})
		if err != nil {
			return Order{}, err
		}
		e = found
	}
	if !e.ToOne {
		return Order{}, apierr.New(http.StatusBadRequest, "PGRST118", "A related order on '"+t.Relation+"' is not possible").
			WithDetails("'" + r.Rel.Name + "' and '" + t.Relation + "' do not form a many-to-one or one-to-one relationship")
	}
	if len(t.Field.JSONPath) == 0 {
		// An alias of the embed's select list names its column (order=rel(alias)).
		for _, o := range e.Read.Select {
			if o.Key.text == t.Field.Name && o.Agg == AggNone && o.Expr.Column != nil && o.Key.text != o.Expr.Column.Name {
				return Order{Expr: Expr{Column: o.Expr.Column, Path: o.Expr.Path}, Desc: t.Desc, Nulls: nullsOf(t.Nulls), Embed: e}, nil
			}
		}
	}
	ex, err := resolveExpr(e.Read.Rel, e.Read.Rel.Name, t.Field)
	if err != nil {
		return Order{}, err
	}
	return Order{Expr: ex, Desc: t.Desc, Nulls: nullsOf(t.Nulls), Embed: e}, nil
}

// resolveLogicIn resolves an or=/and= tree on r, where a leaf may also test an embed's presence.
func (r *Read) resolveLogicIn(l *request.Logic) (Cond, error) {
	c := Cond{Or: l.Or, Negate: l.Negate, Children: make([]Cond, 0, len(l.Children))}
	for _, ch := range l.Children {
		switch {
		case ch.Filter != nil:
			if leaf, ok, err := r.embedNullFilter(ch.Filter.Field, ch.Filter.Cond); err != nil {
				return Cond{}, err
			} else if ok {
				c.Children = append(c.Children, Cond{Leaf: leaf})
				continue
			}
			leaf, err := resolveLeaf(r.Rel, r.qualifier(), ch.Filter.Field, &ch.Filter.Cond)
			if err != nil {
				return Cond{}, err
			}
			c.Children = append(c.Children, Cond{Leaf: leaf})
		case ch.Logic != nil:
			sub, err := r.resolveLogicIn(ch.Logic)
			if err != nil {
				return Cond{}, err
			}
			c.Children = append(c.Children, sub)
		}
	}
	return c, nil
}

// relationMedia is PostgREST's negotiateContent for a relation's rows: for each accepted type in order, the
// vendored types go to the built-in handlers, then an aggregate handler of the relation (or of anyelement)
// wins over the built-in one; PGRST107 when nothing matches.
func relationMedia(req *request.Request, c *schemacache.Cache, rel *schemacache.Relation) (*schemacache.MediaHandler, error) {
	if c != nil && len(c.MediaHandlers) > 0 {
		def := defaultSelect(req.Select)
		for i, a := range req.AcceptList() {
			if a.Vendored {
				if i == req.AcceptIndex {
					break
				}
				continue
			}
			if h := c.MediaHandler(schemacache.QName{Schema: rel.Schema, Name: rel.Name}, a.Mime, def); h != nil {
				return h, nil
			}
			if i == req.AcceptIndex {
				break
			}
		}
	}
	return nil, req.AcceptErr
}

func (r *Read) resolveSelect(rv *resolver, items []request.SelectItem, depth int) error {
	if len(items) == 0 {
		r.selectStar()
		return nil
	}
	hasAgg, hasPlain := false, false
	// Embeds first: PostgREST finds relationship errors (PGRST200/201) while planning, before PostgreSQL
	// could report an unknown column, so they take precedence.
	for i := range items {
		if it := &items[i]; it.Embed != nil {
			e, err := rv.embed(r, it, depth)
			if err != nil {
				return err
			}
			for _, o := range r.Embeds {
				if o.Key == e.Key {
					// Two embedded resources under one name (alias, else relation): PostgREST's SQL joins each
					// embed, spread or empty one too, as <table>_<name>_<depth>, which PostgreSQL refuses (42712,
					// no detail or hint); a response with a duplicated key would be worse.
					return apierr.New(http.StatusBadRequest, "42712",
						fmt.Sprintf("table name %q specified more than once", r.Rel.Name+"_"+e.Key.text+"_"+strconv.Itoa(depth)))
				}
			}
			r.Embeds = append(r.Embeds, e)
		}
	}
	for i := range items {
		it := &items[i]
		switch {
		case it.Star:
			r.selectStar()
			hasPlain = true
		case it.Embed != nil:
		case it.Aggregate == "count" && it.Field.Name == "":
			aggCast, err := rv.castType(it.AggregateCast)
			if err != nil {
				return err
			}
			r.Select = append(r.Select, Output{Key: Key{nonEmpty(it.Alias, "count")}, Agg: AggCount, AggCast: aggCast})
			hasAgg = true
		case it.Aggregate == "" && it.Field.Name == "count" && len(it.Field.JSONPath) == 0 && it.Cast == "" && !r.hasColumn("count"):
			// select=count without parentheses counts rows, as PostgREST.
			r.Select = append(r.Select, Output{Key: Key{nonEmpty(it.Alias, "count")}, Agg: AggCount})
			hasAgg = true
		default:
			e, err := resolveExpr(r.Rel, r.qualifier(), it.Field)
			if err != nil {
				return err
			}
			if e.Cast, err = rv.castType(it.Cast); err != nil {
				return err
			}
			agg := AggNone
			if it.Aggregate != "" {
				var ok bool
				if agg, ok = aggNames[it.Aggregate]; !ok {
					return apierr.New(http.StatusBadRequest, "PGRST100",
						fmt.Sprintf("\"failed to parse select parameter\" unknown aggregate %q", it.Aggregate))
				}
			}
			aggCast, err := rv.castType(it.AggregateCast)
			if err != nil {
				return err
			}
			name := it.Alias
			if name == "" {
				name = defaultName(it.Field)
				if it.Aggregate != "" {
					name = it.Aggregate
				}
			}
			if name == "" {
				return apierr.New(http.StatusBadRequest, "PGRST100",
					"\"failed to parse select parameter\" an empty JSON key cannot name a selected value")
			}
			r.Select = append(r.Select, Output{Expr: e, Key: Key{name}, Agg: agg, AggCast: aggCast})
			if agg != AggNone {
				hasAgg = true
			} else {
				hasPlain = true
			}
		}
	}
	if n := len(r.Select) + len(r.Embeds); n > maxOutputs {
		return apierr.New(http.StatusBadRequest, "PGRST100", "\"failed to parse select parameter\" too many items").
			WithDetails(fmt.Sprintf("A select list has %d items; the limit is %d.", n, maxOutputs))
	}
	r.GroupBy = hasAgg && (hasPlain || rendersAnything(r))
	r.finishGrouping()
	return nil
}

func (r *Read) selectStar() {
	r.Select = slices.Grow(r.Select, len(r.Rel.Columns))
	for _, c := range r.Rel.Columns {
		r.Select = append(r.Select, Output{Expr: Expr{Column: c}, Key: Key{c.Name}})
	}
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// defaultName is PostgREST's key for a selected field: the last key of its JSON path (an array index is skipped
// back to the key before it), else the column name.
func defaultName(f request.Field) string {
	for i := len(f.JSONPath) - 1; i >= 0; i-- {
		if !f.JSONPath[i].Index {
			return f.JSONPath[i].Key
		}
	}
	return f.Name
}

// castType resolves a cast target in the schema cache's types (nil for no cast): a type name that PostgreSQL
// would find on the request's search path, never SQL text.
func (rv *resolver) castType(name string) (*schemacache.Type, error) {
	if name == "" {
		return nil, nil
	}
	if rv.cache != nil {
		if t, ok := rv.cache.CastType(name, rv.schema); ok {
			return t, nil
		}
	}
	return nil, apierr.New(http.StatusBadRequest, "PGRST100",
		fmt.Sprintf("\"failed to parse select parameter\" invalid cast type %q", name)).
		WithDetails("A cast names a data type of PostgreSQL or of an exposed schema.")
}

func resolveExpr(rel *schemacache.Relation, qualifier string, f request.Field) (Expr, error) {
	col, ok := rel.Column(f.Name)
	if !ok {
		return Expr{}, UnknownColumn(qualifier, f.Name)
	}
	path, err := jsonPath(f.JSONPath)
	if err != nil {
		return Expr{}, err
	}
	return Expr{Column: col, Path: path}, nil
}

// Complexity bounds that keep a request from reaching PostgreSQL's own limits (54xxx errors, which are
// server faults to PostgREST's clients): JSON path length, outputs per select list, array literal nesting.
const (
	maxJSONPath   = 64
	maxOutputs    = 1000
	maxArrayDepth = 6 // PostgreSQL's MAXDIM
)

// jsonPath turns the parsed arrows into path steps: integer indexes that fit an int4 stay indexes (col->0), any
// other key is an object key. Empty keys are refused.
func jsonPath(ops []request.JSONOp) ([]PathStep, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	if len(ops) > maxJSONPath {
		return nil, apierr.New(http.StatusBadRequest, "PGRST100", "\"failed to parse json path\" too many keys").
			WithDetails(fmt.Sprintf("A JSON path has at most %d keys.", maxJSONPath))
	}
	out := make([]PathStep, len(ops))
	for i, op := range ops {
		out[i] = PathStep{Key: op.Key, Text: op.Text}
		if op.Index {
			if n, err := strconv.ParseInt(op.Key, 10, 32); err == nil {
				out[i] = PathStep{Index: int32(n), IsIndex: true, Text: op.Text}
				continue
			}
		}
		if op.Key == "" {
			return nil, apierr.New(http.StatusBadRequest, "PGRST100", "\"failed to parse json path\" empty JSON key").
				WithDetails("A JSON path names a key or an array index after -> or ->>.")
		}
	}
	return out, nil
}

// UnknownColumn is PostgreSQL's 42703 as PostgREST reports it, found before any SQL runs: qualifier is the
// name PostgREST's SQL gives the relation (Read.qualifier).
func UnknownColumn(qualifier, name string) error {
	return apierr.New(http.StatusBadRequest, "42703", fmt.Sprintf("column %s.%s does not exist", qualifier, name))
}

// qualifier is the name PostgREST's SQL gives r's table: an embedded table's alias, else its own name.
func (r *Read) qualifier() string {
	if r.sqlName != "" {
		return r.sqlName
	}
	return r.Rel.Name
}

func resolveLeaf(rel *schemacache.Relation, qualifier string, f request.Field, c *request.Condition) (*Leaf, error) {
	e, err := resolveExpr(rel, qualifier, f)
	if err != nil {
		return nil, err
	}
	return leafOf(e, c)
}

// leafOf turns a parsed condition into a leaf: the operator and its modifiers become enums, the operands stay
// values to bind.
func leafOf(e Expr, c *request.Condition) (*Leaf, error) {
	op, ok := opNames[c.Op]
	if !ok {
		return nil, apierr.New(http.StatusBadRequest, "PGRST100", fmt.Sprintf("\"failed to parse filter\" unknown operator %q", c.Op))
	}
	l := &Leaf{Expr: e, Op: op, Negate: c.Negate, Value: c.Value, List: c.List, ListNull: c.ListNull}
	switch c.Quant {
	case "any":
		l.Quant = QuantAny
	case "all":
		l.Quant = QuantAll
	}
	if op == OpIs {
		l.Is = isValues[strings.ToLower(c.Value)]
	}
	if e.Column != nil && checksArrayDepth(e.Column, op) {
		for _, v := range append([]string{c.Value}, c.List...) {
			if arrayDepth(v) > maxArrayDepth {
				return nil, apierr.New(http.StatusBadRequest, "22P02", "malformed array literal: \""+v+"\"").
					WithDetails(fmt.Sprintf("An array has at most %d dimensions.", maxArrayDepth))
			}
		}
	}
	if c.Lang != "" {
		if err := checkTSConfig(c.Lang); err != nil {
			return nil, err
		}
		l.Lang = c.Lang
	}
	return l, nil
}

// checksArrayDepth reports whether leafOf checks the nesting of a filter's operands: those of array columns and of
// the array operators.
func checksArrayDepth(col *schemacache.Column, op Op) bool {
	return col.TypeCategory == 'A' || op == OpCs || op == OpCd || op == OpOv
}

// InspectsOperand reports whether planning a filter with operator op (PostgREST's name) on column col looks at its
// operand: is's operand is the test, and array operands have their nesting checked. Every other operand is only
// bound as a parameter, so that a plan made for one operand holds for any other (the server caches plans by
// request shape, relying on this). Keep it in step with leafOf.
func InspectsOperand(col *schemacache.Column, op string) bool {
	o, ok := opNames[op]
	return !ok || o == OpIs || checksArrayDepth(col, o)
}

// arrayDepth is how deeply braces nest in an array literal (outside double quotes).
func arrayDepth(v string) int {
	depth, deepest, quoted := 0, 0, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == '{' && !quoted:
			depth++
			deepest = max(deepest, depth)
		case c == '}' && !quoted:
			depth--
		}
	}
	return deepest
}

// checkTSConfig refuses a text search configuration that regconfig's input would read as an OID (fts(0)
// would reach an internal error) or that is not a plain name.
func checkTSConfig(name string) error {
	plain := name != "" && len(name) <= 63
	for i := 0; plain && i < len(name); i++ {
		ch := name[i]
		plain = ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch == '_' || ch >= 0x80 || i > 0 && ch >= '0' && ch <= '9'
	}
	if plain {
		return nil
	}
	return apierr.New(http.StatusBadRequest, "42704", "text search configuration \""+name+"\" does not exist").
		WithHint("Name a text search configuration, e.g. fts(english).")
}

// nullsOf maps the parsed nulls placement.
func nullsOf(s string) Nulls {
	switch s {
	case "first":
		return NullsFirst
	case "last":
		return NullsLast
	}
	return NullsDefault
}

func resolveLogic(rel *schemacache.Relation, l *request.Logic) (Cond, error) {
	c := Cond{Or: l.Or, Negate: l.Negate, Children: make([]Cond, 0, len(l.Children))}
	for _, ch := range l.Children {
		switch {
		case ch.Filter != nil:
			leaf, err := resolveLeaf(rel, rel.Name, ch.Filter.Field, &ch.Filter.Cond)
			if err != nil {
				return Cond{}, err
			}
			c.Children = append(c.Children, Cond{Leaf: leaf})
		case ch.Logic != nil:
			sub, err := resolveLogic(rel, ch.Logic)
			if err != nil {
				return Cond{}, err
			}
			c.Children = append(c.Children, sub)
		}
	}
	return c, nil
}

func (r *Read) hasColumn(name string) bool {
	_, ok := r.Rel.Column(name)
	return ok
}
