package plan_test

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// dump renders an action as stable, indented text for the golden files: what was resolved (relations, columns
// and their types, keys, operators, relationships with their cardinality and alias numbers, windows) and every
// request-level rule (transaction, media type, counts, limits). Empty and default fields are left out.
func dump(a *plan.Action) string {
	d := &dumper{}
	d.line("kind: %s", kindNames[a.Kind])
	var flags []string
	if a.ReadOnly {
		flags = append(flags, "read-only")
	}
	if a.Rollback {
		flags = append(flags, "rollback")
	}
	if len(flags) > 0 {
		d.line("tx: %s", strings.Join(flags, " "))
	}
	if a.TxApplied != "" {
		d.line("preference-applied: tx=%s", a.TxApplied)
	}
	for _, kv := range a.FunctionSettings {
		d.line("function-setting: %s = %s", kv[0], kv[1])
	}
	if a.Warning != "" {
		d.line("warning: %s", a.Warning)
	}
	switch {
	case a.Read != nil:
		d.read(a.Read, true)
	case a.Mutate != nil:
		d.mutate(a.Mutate)
	case a.Call != nil:
		d.call(a.Call)
	case a.Info != nil:
		d.line("allow: %s", a.Info.Allow)
	}
	return d.b.String()
}

var kindNames = map[plan.Kind]string{
	plan.KindRead: "read", plan.KindMutate: "mutate", plan.KindCall: "call", plan.KindInfo: "info",
	plan.KindDocument: "document",
}

var mediaNames = map[request.MediaType]string{
	request.MediaJSON: "json", request.MediaObject: "object", request.MediaCSV: "csv", request.MediaPlan: "plan",
	request.MediaArrayStripped: "array-stripped", request.MediaObjectStripped: "object-stripped",
	request.MediaOpenAPI: "openapi", request.MediaCustom: "custom", request.MediaNDJSON: "ndjson",
}

var countNames = map[request.Count]string{
	request.CountExact: "exact", request.CountPlanned: "planned", request.CountEstimated: "estimated",
}

var actionNames = map[request.Action]string{
	request.ActionInsert: "insert", request.ActionUpdate: "update", request.ActionUpsert: "upsert",
	request.ActionDelete: "delete",
}

var opNames = map[plan.Op]string{
	plan.OpEq: "eq", plan.OpNeq: "neq", plan.OpGt: "gt", plan.OpGte: "gte", plan.OpLt: "lt", plan.OpLte: "lte",
	plan.OpLike: "like", plan.OpIlike: "ilike", plan.OpMatch: "match", plan.OpImatch: "imatch", plan.OpIn: "in",
	plan.OpIs: "is", plan.OpIsDistinct: "isdistinct", plan.OpFts: "fts", plan.OpPlFts: "plfts",
	plan.OpPhFts: "phfts", plan.OpWFts: "wfts", plan.OpCs: "cs", plan.OpCd: "cd", plan.OpOv: "ov", plan.OpSl: "sl",
	plan.OpSr: "sr", plan.OpNxr: "nxr", plan.OpNxl: "nxl", plan.OpAdj: "adj",
}

var aggNames = map[plan.Agg]string{
	plan.AggCount: "count", plan.AggSum: "sum", plan.AggAvg: "avg", plan.AggMin: "min", plan.AggMax: "max",
}

var isNames = map[plan.IsValue]string{
	plan.IsNull: "null", plan.IsNotNull: "not null", plan.IsTrue: "true", plan.IsFalse: "false",
	plan.IsUnknown: "unknown",
}

var volatility = map[byte]string{'i': "immutable", 's': "stable", 'v': "volatile"}

type dumper struct {
	b      strings.Builder
	indent int
}

func (d *dumper) line(format string, args ...any) {
	d.b.WriteString(strings.Repeat("  ", d.indent))
	fmt.Fprintf(&d.b, format, args...)
	d.b.WriteByte('\n')
}

func (d *dumper) nest(f func()) {
	d.indent++
	f()
	d.indent--
}

func relKind(r *schemacache.Relation) string { return r.Kind.String() }

// read dumps a read; top says whether its top-level options apply.
func (d *dumper) read(r *plan.Read, top bool) {
	d.line("read %s.%s #%d (%s)", r.Rel.Schema, r.Rel.Name, r.Alias, relKind(r.Rel))
	d.nest(func() {
		if len(r.Select) > 0 {
			d.line("select:")
			d.nest(func() {
				for _, o := range r.Select {
					d.line("%q = %s", o.Key.String(), output(o))
				}
			})
		}
		d.conds("where", r.Where)
		d.orders(r.Order)
		d.window(r.Offset, r.Limit)
		var flags []string
		if r.GroupBy {
			flags = append(flags, "group-by")
		}
		if r.Hoisted {
			flags = append(flags, "hoisted")
		}
		if top {
			if r.Singular {
				flags = append(flags, "singular")
			}
		}
		if len(flags) > 0 {
			d.line("%s", strings.Join(flags, " "))
		}
		if top {
			d.line("media: %s", mediaNames[r.Media])
			if r.Media == request.MediaPlan {
				d.line("explain: %s", explainOptions(r.Explain))
			}
			if r.Count != request.CountNone {
				d.line("count: %s", countNames[r.Count])
			}
			if r.MaxRows > 0 {
				d.line("max-rows: %d", r.MaxRows)
			}
		}
		if r.Handler != nil {
			d.line("handler: %s (%s)", r.Handler.Aggregate, r.Handler.Media)
		}
		for _, e := range r.Embeds {
			d.embed(e)
		}
	})
}

func (d *dumper) embed(e *plan.Embed) {
	var flags []string
	if e.ToOne {
		flags = append(flags, "to-one")
	} else {
		flags = append(flags, "to-many")
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{e.Inner, "inner"}, {e.Spread, "spread"}, {e.Empty, "empty"}} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	if e.Written != nil {
		flags = append(flags, fmt.Sprintf("written-by-nested-#%d", e.Written.N))
	}
	d.line("embed %q lateral #%d %s", e.Key.String(), e.Lateral, strings.Join(flags, " "))
	d.nest(func() {
		d.line("relationship: %s", relationship(e.Rel))
		d.read(e.Read, false)
	})
}

// relationship describes how source and target are joined.
func relationship(r *schemacache.Relationship) string {
	cols := func(rel string, c []string) string { return rel + "(" + strings.Join(c, ", ") + ")" }
	switch {
	case r.Computed != nil:
		return fmt.Sprintf("%s computed by %s: %s -> %s", r.Cardinality, r.Computed, r.Source, r.Target)
	case r.Cardinality == schemacache.ManyToMany:
		j := r.Junction
		return fmt.Sprintf("%s through %s: %s = %s, %s = %s (%s, %s)", r.Cardinality, j.Table,
			cols(r.Source.Name, r.SourceColumns), cols(j.Table.Name, j.SourceColumns),
			cols(j.Table.Name, j.TargetColumns), cols(r.Target.Name, r.TargetColumns),
			j.SourceConstraint, j.TargetConstraint)
	}
	return fmt.Sprintf("%s %s: %s = %s", r.Cardinality, r.Constraint,
		cols(r.Source.Name, r.SourceColumns), cols(r.Target.Name, r.TargetColumns))
}

// output renders a selected value: the expression (or aggregate) and the column's type.
func output(o plan.Output) string {
	var s string
	switch {
	case o.Agg == plan.AggCount && o.Expr.Column == nil:
		s = "count(*)"
	case o.Agg != plan.AggNone:
		s = aggNames[o.Agg] + "(" + expr(o.Expr) + ")"
	default:
		s = expr(o.Expr)
	}
	if o.AggCast != nil {
		s += "::" + o.AggCast.SQL
	}
	if c := o.Expr.Column; c != nil {
		s += " [" + columnType(c) + "]"
	}
	return s
}

func columnType(c *schemacache.Column) string {
	t := c.Type
	if c.Function != nil {
		t = "computed " + c.Function.String() + " -> " + t
	}
	if c.Rep.ToJSON != "" {
		t += ", to json by " + c.Rep.ToJSON
	}
	return t
}

// expr renders a column with its JSON path and cast.
func expr(e plan.Expr) string {
	var b strings.Builder
	b.WriteString(e.Column.Name)
	for _, s := range e.Path {
		if s.Text {
			b.WriteString("->>")
		} else {
			b.WriteString("->")
		}
		if s.IsIndex {
			b.WriteString(strconv.Itoa(int(s.Index)))
		} else {
			b.WriteString(strconv.Quote(s.Key))
		}
	}
	if e.Cast != nil {
		b.WriteString("::" + e.Cast.SQL)
	}
	return b.String()
}

func (d *dumper) conds(label string, cs []plan.Cond) {
	if len(cs) == 0 {
		return
	}
	d.line("%s:", label)
	d.nest(func() {
		for i := range cs {
			d.cond(&cs[i])
		}
	})
}

func (d *dumper) cond(c *plan.Cond) {
	if c.Leaf != nil {
		d.line("%s", leaf(c.Leaf))
		return
	}
	op := "and"
	if c.Or {
		op = "or"
	}
	if c.Negate {
		op = "not " + op
	}
	d.line("%s:", op)
	d.nest(func() {
		for i := range c.Children {
			d.cond(&c.Children[i])
		}
	})
}

func leaf(l *plan.Leaf) string {
	var b strings.Builder
	if l.Embed != nil {
		b.WriteString("embed " + strconv.Quote(l.Embed.Key.String()))
	} else {
		b.WriteString(expr(l.Expr))
	}
	b.WriteByte(' ')
	if l.Negate {
		b.WriteString("not ")
	}
	b.WriteString(opNames[l.Op])
	switch l.Quant {
	case plan.QuantAny:
		b.WriteString("(any)")
	case plan.QuantAll:
		b.WriteString("(all)")
	}
	if l.Lang != "" {
		b.WriteString("(" + l.Lang + ")")
	}
	switch {
	case l.Op == plan.OpIs:
		b.WriteString(" " + isNames[l.Is])
	case l.Op == plan.OpIn || l.Quant != plan.QuantNone:
		items := make([]string, len(l.List))
		for i, v := range l.List {
			items[i] = strconv.Quote(v)
			if i < len(l.ListNull) && l.ListNull[i] {
				items[i] = "NULL"
			}
		}
		b.WriteString(" (" + strings.Join(items, ", ") + ")")
	default:
		b.WriteString(" " + strconv.Quote(l.Value))
	}
	return b.String()
}

func (d *dumper) orders(os []plan.Order) {
	if len(os) == 0 {
		return
	}
	terms := make([]string, len(os))
	for i, o := range os {
		t := expr(o.Expr)
		if o.Embed != nil {
			t = o.Embed.Key.String() + "(" + t + ")"
		}
		if o.Desc {
			t += " desc"
		}
		switch o.Nulls {
		case plan.NullsFirst:
			t += " nulls first"
		case plan.NullsLast:
			t += " nulls last"
		}
		terms[i] = t
	}
	d.line("order: %s", strings.Join(terms, ", "))
}

func (d *dumper) window(offset, limit int64) {
	switch {
	case limit >= 0:
		d.line("offset %d limit %d", offset, limit)
	case offset > 0:
		d.line("offset %d", offset)
	}
}

func explainOptions(o request.PlanOptions) string {
	parts := []string{"format=" + o.Format}
	if o.For != "" {
		parts = append(parts, "for="+o.For)
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{o.Analyze, "analyze"}, {o.Verbose, "verbose"}, {o.Settings, "settings"}, {o.Buffers, "buffers"}, {o.WAL, "wal"}} {
		if f.on {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, " ")
}

func columnNames(cs []*schemacache.Column) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

func (d *dumper) mutate(m *plan.Mutate) {
	d.line("%s %s.%s (%s)", actionNames[m.Action], m.Rel.Schema, m.Rel.Name, relKind(m.Rel))
	d.nest(func() {
		if len(m.Columns) > 0 {
			d.line("columns: %s", columnNames(m.Columns))
		}
		if p := m.Payload; p != nil {
			shape := "array"
			if p.Object {
				shape = "object"
			}
			d.line("payload: %s of %d bytes, keys %s", shape, len(p.JSON), strings.Join(p.Keys, ", "))
		}
		if m.ApplyDefaults {
			d.line("missing: default")
		}
		d.conds("where", m.Where)
		if len(m.OnConflict) > 0 {
			d.line("on-conflict: (%s) %s", columnNames(m.OnConflict), m.Resolution)
		}
		d.orders(m.Order)
		d.window(m.Offset, m.Limit)
		d.line("return: %s", m.Return)
		if len(m.PrimaryKey) > 0 {
			d.line("primary-key: %s", columnNames(m.PrimaryKey))
		}
		var flags []string
		if m.Singular {
			flags = append(flags, "singular")
		}
		if m.MaxAffected >= 0 {
			flags = append(flags, "max-affected="+strconv.FormatInt(m.MaxAffected, 10))
		}
		if m.Rollback {
			flags = append(flags, "rollback")
		}
		if m.StreamBody {
			flags = append(flags, "stream-body")
		}
		if len(flags) > 0 {
			d.line("%s", strings.Join(flags, " "))
		}
		for _, n := range m.Nested {
			d.nested(n)
		}
		if m.Read != nil {
			d.line("representation:")
			d.nest(func() { d.read(m.Read, false) })
		}
	})
}

// nested dumps a nested write.
func (d *dumper) nested(n *plan.Nested) {
	var flags []string
	if n.Many {
		flags = append(flags, "many")
	} else {
		flags = append(flags, "one")
	}
	if n.Before {
		flags = append(flags, "before")
	} else {
		flags = append(flags, "after")
	}
	d.line("nested #%d %q into %s.%s (%s) %s", n.N, n.Key, n.Target.Schema, n.Target.Name, relKind(n.Target), strings.Join(flags, " "))
	d.nest(func() {
		d.line("relationship: %s", relationship(n.Rel))
		if len(n.Columns) > 0 {
			d.line("columns: %s", columnNames(n.Columns))
		}
		for _, c := range n.Nested {
			d.nested(c)
		}
	})
}

func (d *dumper) call(c *plan.Call) {
	fn := c.Routine
	ret := fn.ReturnType
	if fn.ReturnsSet {
		ret = "setof " + ret
	}
	d.line("call %s.%s (%s, returns %s)", fn.Schema, fn.Name, volatility[fn.Volatility], ret)
	d.nest(func() {
		for _, p := range c.Args {
			arg := p.Name + " " + p.Type
			if p.Variadic {
				arg = "variadic " + arg
			}
			d.line("arg: %s", arg)
		}
		if c.RawParam != nil {
			d.line("raw-param: %s", c.RawParam.Type)
		}
		if c.Body != nil {
			d.line("body: %s", c.Body)
		}
		if c.ArrayBody {
			d.line("array-body")
		}
		var shape []string
		for _, f := range []struct {
			on   bool
			name string
		}{{c.Read != nil, "rows"}, {c.Scalar, "scalar"}, {c.SetOf, "setof"}, {c.Void, "void"}} {
			if f.on {
				shape = append(shape, f.name)
			}
		}
		d.line("shape: %s", strings.Join(shape, " "))
		var flags []string
		if c.ReadOnly {
			flags = append(flags, "read-only")
		}
		if c.Singular {
			flags = append(flags, "singular")
		}
		if c.Rollback {
			flags = append(flags, "rollback")
		}
		if c.MaxAffected >= 0 {
			flags = append(flags, "max-affected="+strconv.FormatInt(c.MaxAffected, 10))
		}
		if len(flags) > 0 {
			d.line("%s", strings.Join(flags, " "))
		}
		media := mediaNames[c.Media]
		if c.Media == request.MediaCustom {
			media += " " + c.CustomMedia
		}
		d.line("media: %s", media)
		if c.Media == request.MediaPlan {
			d.line("explain: %s", explainOptions(c.Explain))
		}
		if c.Count != request.CountNone {
			d.line("count: %s", countNames[c.Count])
		}
		if c.MaxRows > 0 {
			d.line("max-rows: %d", c.MaxRows)
		}
		d.window(c.Offset, c.Limit)
		if c.Read != nil {
			d.read(c.Read, false)
		}
	})
}
