// Package validate checks a parsed request against the API contract derived from the schema cache — the same
// column types, lengths and enums the published OpenAPI document states — before any SQL runs, so a client
// learns which parameter or field is wrong. It only rejects what PostgreSQL would reject too, with the same
// SQLSTATE, so clients that branch on PostgREST's codes behave the same.
package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// kind is how a column's values are checked.
type kind uint8

const (
	kindAny kind = iota // anything PostgreSQL might accept: not checked
	kindInt16
	kindInt32
	kindInt64
	kindNumber
	kindBool
	kindUUID
	kindEnum
	kindText // checked for maxLength only
	kindDate // date/time types: only values PostgreSQL could never read are rejected
)

// column is the compiled check of one column.
type column struct {
	name      string
	typeName  string // as PostgreSQL names it in error messages
	kind      kind
	maxLength int
	enum      map[string]bool
}

// Relation is the compiled checker of one relation.
type Relation struct {
	name string
	cols map[string]*column
	// required are the NOT NULL columns without a default that an insert must give (empty for relations with
	// triggers or rules, which may fill them).
	required []string
	// q and set resolve the body keys that name relationships (nested writes; nil set for functions).
	q   schemacache.QName
	set *Set
}

// Set holds the checkers of one schema-cache snapshot; build it once per reload.
type Set struct {
	rels map[schemacache.QName]*Relation
	// fns are the argument checkers of functions without overloads.
	fns   map[schemacache.QName]*Relation
	cache *schemacache.Cache
}

// Compile builds the checkers for every relation of c.
func Compile(c *schemacache.Cache) *Set {
	s := &Set{rels: make(map[schemacache.QName]*Relation, len(c.Relations)), fns: map[schemacache.QName]*Relation{},
		cache: c}
	for q, r := range c.Relations {
		rel := &Relation{name: r.Name, cols: make(map[string]*column, len(r.Columns)), q: q, set: s}
		for _, col := range r.Columns {
			rel.cols[col.Name] = compileColumn(col)
			if r.Kind == schemacache.KindTable && !r.HasTriggers && !col.Nullable && !col.HasDefault && !col.Generated {
				rel.required = append(rel.required, col.Name)
			}
		}
		s.rels[q] = rel
	}
	for q, overloads := range c.Routines {
		if len(overloads) != 1 {
			continue // PostgreSQL picks among overloads by the arguments: leave it to planning
		}
		fn := &Relation{name: q.Name, cols: map[string]*column{}}
		for _, p := range overloads[0].Params {
			if p.Name != "" {
				fn.cols[p.Name] = compileColumn(&schemacache.Column{Name: p.Name, Type: p.Type, BaseType: p.Type})
			}
		}
		s.fns[q] = fn
	}
	return s
}

func compileColumn(c *schemacache.Column) *column {
	col := &column{name: c.Name, typeName: c.BaseType, maxLength: c.MaxLength}
	if c.Rep.FromText != "" || c.Rep.FromJSON != "" {
		// A domain representation reads values in its own format: leave them to its cast functions.
		col.maxLength = 0
		return col
	}
	switch c.BaseType {
	case "smallint":
		col.kind = kindInt16
	case "integer":
		col.kind = kindInt32
	case "bigint":
		col.kind = kindInt64
	case "numeric", "real", "double precision":
		col.kind = kindNumber
	case "boolean":
		col.kind = kindBool
	case "uuid":
		col.kind = kindUUID
	case "date", "timestamp without time zone", "timestamp with time zone", "time without time zone", "time with time zone":
		col.kind = kindDate
	case "text", "character varying", "character":
		col.kind = kindText
		if c.BaseType == "character" {
			col.maxLength = 0 // bpchar pads and truncates trailing spaces: leave it to PostgreSQL
		}
	default:
		if len(c.EnumValues) > 0 {
			col.kind = kindEnum
			col.enum = make(map[string]bool, len(c.EnumValues))
			for _, v := range c.EnumValues {
				col.enum[v] = true
			}
		}
	}
	return col
}

// Function returns the argument checker of the function schema.name (nil when unknown or overloaded).
func (s *Set) Function(schema, name string) *Relation {
	if s == nil {
		return nil
	}
	return s.fns[schemacache.QName{Schema: schema, Name: name}]
}

// Args checks the arguments of an RPC given in the query string.
func (r *Relation) Args(params []request.Param, p *Problems) {
	if r == nil {
		return
	}
	for _, a := range params {
		if col := r.cols[a.Name]; col != nil && col.kind != kindAny && col.kind != kindText {
			col.checkText(a.Value, loc{kind: locArgument, name: a.Name}, p)
		}
	}
}

// Required checks that an insert body (object or array of objects with the keys given) names every NOT NULL
// column without a default (PostgreSQL's 23502).
func (r *Relation) Required(keys []string, p *Problems) {
	if r == nil {
		return
	}
	var given []string // the columns to-one nested writes set
	for _, k := range keys {
		if r.cols[k] == nil {
			nr := r.nested(k, nil)
			if nr == nil {
				return // an unknown key is planning's PGRST204, reported first as PostgREST does
			}
			if nr.before {
				given = append(given, nr.rel.SourceColumns...)
			}
		}
	}
	for _, c := range r.required {
		found := slices.Contains(given, c)
		for _, k := range keys {
			if k == c {
				found = true
				break
			}
		}
		if !found {
			p.add("23502", fmt.Sprintf("null value in column %q of relation %q violates not-null constraint", c, r.name),
				loc{kind: locBody, name: c}, "required (NOT NULL without a default), missing")
		}
	}
}

// Relation returns the checker of schema.name (nil when unknown: planning reports that).
func (s *Set) Relation(schema, name string) *Relation {
	if s == nil {
		return nil
	}
	return s.rels[schemacache.QName{Schema: schema, Name: name}]
}

// problem is one failed check.
type problem struct {
	code    string // SQLSTATE PostgreSQL would raise
	message string // PostgreSQL's message
	where   string // the parameter or JSON pointer
	expect  string
}

// Problems collects failed checks and renders them as one PostgREST error.
type Problems struct {
	list []problem
	// nested are the relations whose rows were checked as nested writes' (see Nested).
	nested []schemacache.QName
}

// Nested lists the relations, other than the request's, whose rows the checks read: the targets of nested
// writes, which the role must be allowed to write before a problem describes their columns.
func (p *Problems) Nested() []schemacache.QName { return p.nested }

// loc is where a checked value came from; it is rendered only when a problem is reported, so checking values
// that are fine builds no strings.
type loc struct {
	kind int
	ptr  string // body: the JSON pointer of the object ("" or "/3"); logic: "and" or "or"
	name string // the parameter, argument, column or key
}

const (
	locParam = iota
	locLogic
	locArgument
	locBody
)

func (l loc) String() string {
	switch l.kind {
	case locLogic:
		return "query parameter '" + l.ptr + "' (" + l.name + ")"
	case locArgument:
		return "argument '" + l.name + "'"
	case locBody:
		return "body " + l.ptr + "/" + strings.ReplaceAll(strings.ReplaceAll(l.name, "~", "~0"), "/", "~1")
	}
	return "query parameter '" + l.name + "'"
}

func (p *Problems) add(code, message string, where loc, expect string) {
	p.list = append(p.list, problem{code, message, where.String(), expect})
}

// Err is nil without problems, else a 400 with the first problem's SQLSTATE and message (as PostgreSQL would
// word it) and every problem, naming its parameter or JSON pointer, in details.
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	first := p.list[0]
	var sb strings.Builder
	for i, pr := range p.list {
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(pr.where)
		sb.WriteString(": ")
		sb.WriteString(pr.expect)
	}
	e := apierr.New(apierr.PgStatus(first.code, false), first.code, first.message).WithDetails(sb.String())
	return e
}

// Query checks the filters of a request on rel: the values of comparison and in filters against the column's
// type. Filters on JSON paths, embeds and unknown columns are left to later stages.
func (r *Relation) Query(req *request.Request, p *Problems) {
	if r == nil {
		return
	}
	for i := range req.Filters {
		f := &req.Filters[i]
		if len(f.Path) > 0 {
			continue
		}
		r.filter(f.Field, f.Cond, loc{kind: locParam, name: f.Field.Name}, p)
	}
	for i := range req.Logic {
		if len(req.Logic[i].Path) == 0 {
			r.logic(&req.Logic[i], p)
		}
	}
}

func (r *Relation) logic(l *request.Logic, p *Problems) {
	name := "and"
	if l.Or {
		name = "or"
	}
	for _, ch := range l.Children {
		switch {
		case ch.Filter != nil:
			r.filter(ch.Filter.Field, ch.Filter.Cond, loc{kind: locLogic, ptr: name, name: ch.Filter.Field.Name}, p)
		case ch.Logic != nil:
			r.logic(ch.Logic, p)
		}
	}
}

func (r *Relation) filter(f request.Field, c request.Condition, where loc, p *Problems) {
	if len(f.JSONPath) > 0 {
		return
	}
	col := r.cols[f.Name]
	if col == nil || col.kind == kindAny || col.kind == kindText {
		return
	}
	switch c.Op {
	case "like", "ilike", "match", "imatch", "cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj", "fts", "plfts", "phfts", "wfts":
		// Pattern, array, range and text-search operators do not exist for numbers, booleans, uuids and dates:
		// PostgreSQL would answer 42883 (PostgREST: 404).
		if col.kind != kindEnum {
			p.add("42883", fmt.Sprintf("operator does not exist: %s %s unknown", col.typeName, c.Op), where,
				"operator "+c.Op+" does not apply to "+col.typeName)
		}
		return
	}
	switch c.Op {
	case "eq", "neq", "gt", "gte", "lt", "lte", "isdistinct":
		if c.Quant != "" {
			for _, v := range c.List {
				col.checkText(v, where, p)
			}
			return
		}
		col.checkText(c.Value, where, p)
	case "in":
		for i, v := range c.List {
			if i < len(c.ListNull) && c.ListNull[i] {
				continue
			}
			col.checkText(v, where, p)
		}
	}
}

// checkText checks a value given as text, as PostgreSQL's input function of the type would.
func (c *column) checkText(v string, where loc, p *Problems) {
	ok := true
	switch c.kind {
	case kindInt16:
		ok = parseInt(v, 16)
	case kindInt32:
		ok = parseInt(v, 32)
	case kindInt64:
		ok = parseInt(v, 64)
	case kindNumber:
		ok = parseNumber(v)
	case kindBool:
		ok = parseBool(v)
	case kindUUID:
		ok = parseUUID(v)
	case kindDate:
		if !parseDateLike(v) {
			p.add("22007", fmt.Sprintf("invalid input syntax for type %s: %q", c.typeName, v), where,
				"expected a "+c.typeName+", got "+strconv.Quote(v))
		}
		return
	case kindEnum:
		if !c.enum[v] {
			p.add("22P02", fmt.Sprintf("invalid input value for enum %s: %q", c.typeName, v), where,
				"expected one of the enum values, got "+strconv.Quote(v))
		}
		return
	}
	if !ok {
		p.add("22P02", fmt.Sprintf("invalid input syntax for type %s: %q", c.typeName, v), where,
			"expected "+c.expected()+", got "+strconv.Quote(v))
	}
}

func (c *column) expected() string {
	switch c.kind {
	case kindInt16, kindInt32, kindInt64:
		return "an integer (" + c.typeName + ")"
	case kindNumber:
		return "a number (" + c.typeName + ")"
	case kindBool:
		return "a boolean"
	case kindUUID:
		return "a uuid"
	}
	return c.typeName
}

// parseInt accepts what int2in/int4in/int8in accept: optional spaces and sign, decimal digits, in range (and,
// as PostgreSQL 16 does, 0x/0o/0b prefixes and digit separators).
func parseInt(v string, bits int) bool {
	v = strings.TrimSpace(v)
	if _, err := strconv.ParseInt(v, 10, bits); err == nil {
		return true
	}
	_, err := strconv.ParseInt(v, 0, bits)
	return err == nil
}

// parseNumber accepts numeric/float input: decimal or exponent notation, NaN and infinities.
func parseNumber(v string) bool {
	v = strings.TrimSpace(v)
	switch strings.ToLower(strings.TrimLeft(v, "+-")) {
	case "nan", "infinity", "inf":
		return true
	}
	_, err := strconv.ParseFloat(strings.ReplaceAll(v, "_", ""), 64)
	if err == nil {
		return true
	}
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange // out of float64 range is still valid numeric input
}

// parseDateLike rejects only what no date/time input can be: text without a digit that is not one of
// PostgreSQL's special values.
func parseDateLike(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	switch v {
	case "epoch", "infinity", "+infinity", "-infinity", "now", "today", "tomorrow", "yesterday", "allballs":
		return true
	}
	return strings.ContainsAny(v, "0123456789")
}

// parseBool accepts boolin's input: t/true/y/yes/on/1 and f/false/n/no/off/0, any case, unique prefixes.
func parseBool(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		return false
	}
	for _, w := range []string{"true", "false", "yes", "no"} {
		if strings.HasPrefix(w, v) {
			return true
		}
	}
	switch v {
	case "on", "off", "of", "1", "0":
		return true
	}
	return false
}

// parseUUID accepts uuid_in's input: 32 hex digits, optionally in braces, with a hyphen after any group of four.
func parseUUID(v string) bool {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "{") {
		if !strings.HasSuffix(v, "}") {
			return false
		}
		v = v[1 : len(v)-1]
	}
	n := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
			n++
		case c == '-' && n%4 == 0 && n > 0 && n < 32 && i+1 < len(v) && v[i+1] != '-':
		default:
			return false
		}
	}
	return n == 32
}

// Body checks a JSON write body (object or array of objects) on rel: each field's JSON value against its
// column, varchar lengths and enum values. Unknown fields are left to planning (PGRST204).
func (r *Relation) Body(body []byte, p *Problems) {
	if r == nil || len(body) == 0 {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return // syntax is the parser's job (PGRST102)
	}
	switch t := v.(type) {
	case map[string]any:
		r.object(t, "", p)
	case []any:
		for i, el := range t {
			if obj, ok := el.(map[string]any); ok {
				r.object(obj, "/"+strconv.Itoa(i), p)
			}
		}
	}
}

func (r *Relation) object(obj map[string]any, ptr string, p *Problems) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		col := r.cols[k]
		if col == nil {
			continue
		}
		col.checkJSON(obj[k], loc{kind: locBody, ptr: ptr, name: k}, p)
	}
}

// checkJSON checks one JSON value as json_populate_record would convert it to the column's type.
func (c *column) checkJSON(v any, where loc, p *Problems) {
	switch t := v.(type) {
	case nil:
		return // NOT NULL is enforced by PostgreSQL (a trigger may fill it)
	case json.Number:
		switch c.kind {
		case kindBool, kindUUID, kindEnum:
			c.checkText(t.String(), where, p)
		case kindInt16, kindInt32, kindInt64, kindNumber:
			c.checkText(t.String(), where, p)
		case kindText:
			c.checkLength(t.String(), where, p) // PostgreSQL reads the number's text as written
		}
	case bool:
		switch c.kind {
		case kindInt16, kindInt32, kindInt64, kindNumber, kindUUID, kindEnum:
			c.checkText(strconv.FormatBool(t), where, p)
		case kindText:
			c.checkLength(strconv.FormatBool(t), where, p)
		}
	case string:
		switch c.kind {
		case kindText:
			c.checkLength(t, where, p)
		case kindAny:
		default:
			c.checkText(t, where, p)
		}
	case map[string]any, []any:
		switch c.kind {
		case kindInt16, kindInt32, kindInt64, kindNumber, kindBool, kindUUID, kindEnum:
			raw, _ := json.Marshal(t)
			c.checkText(string(raw), where, p)
		}
	}
}

// checkLength checks a varchar(n) value as varchar's input function does: longer than n characters is 22001
// unless the excess is only spaces, which PostgreSQL truncates.
func (c *column) checkLength(v string, where loc, p *Problems) {
	if c.maxLength == 0 {
		return
	}
	n := utf8.RuneCountInString(v)
	if n <= c.maxLength || utf8.RuneCountInString(strings.TrimRight(v, " ")) <= c.maxLength {
		return
	}
	p.add("22001", fmt.Sprintf("value too long for type character varying(%d)", c.maxLength), where,
		fmt.Sprintf("expected at most %d characters, got %d", c.maxLength, n))
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
