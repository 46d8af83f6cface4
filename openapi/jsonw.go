package openapi

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The document is written directly as JSON (or YAML), piece by piece, from small values: object (members
// written sorted by key, as encoding/json writes a map, which is how kin-openapi's types marshal), ref ({"$ref":
// …}), *schema, []any, []string, []*schema, string, bool, int, uint64, float64 and nil. Nothing holds the whole
// document: each path item and component is made, written and dropped.

// object is a JSON object; its members are written sorted by key.
type object []member

type member struct {
	k string
	v any
}

func (o *object) set(k string, v any) { *o = append(*o, member{k, v}) }

// ref is a reference object: {"$ref": "…"}.
type ref string

// jsonWriter appends JSON to a buffer it hands to w in large pieces. indent "" writes compact JSON; otherwise
// the layout is json.Indent's with that indent and no prefix.
type jsonWriter struct {
	w      io.Writer
	buf    []byte
	err    error
	indent string
}

const flushAt = 64 << 10

func (j *jsonWriter) maybeFlush() {
	if len(j.buf) >= flushAt {
		j.flush()
	}
}

func (j *jsonWriter) flush() {
	if len(j.buf) > 0 && j.err == nil {
		_, j.err = j.w.Write(j.buf)
	}
	j.buf = j.buf[:0]
}

// newlines is a line break and indentation, sliced to depth.
var newlines = "\n" + strings.Repeat(" ", 256)

func (j *jsonWriter) newline(depth int) {
	if j.indent == "" {
		return
	}
	if n := 1 + depth*len(j.indent); n <= len(newlines) && j.indent == "  " {
		j.buf = append(j.buf, newlines[:n]...)
		return
	}
	j.buf = append(j.buf, '\n')
	for range depth {
		j.buf = append(j.buf, j.indent...)
	}
}

func (j *jsonWriter) colon() {
	if j.indent == "" {
		j.buf = append(j.buf, ':')
	} else {
		j.buf = append(j.buf, ':', ' ')
	}
}

// value writes v, whose first line is already indented to depth.
func (j *jsonWriter) value(v any, depth int) {
	switch v := v.(type) {
	case nil:
		j.buf = append(j.buf, "null"...)
	case string:
		j.buf = appendString(j.buf, v)
	case bool:
		j.buf = strconv.AppendBool(j.buf, v)
	case int:
		j.buf = strconv.AppendInt(j.buf, int64(v), 10)
	case uint64:
		j.buf = strconv.AppendUint(j.buf, v, 10)
	case float64:
		j.buf = appendFloat(j.buf, v)
	case ref:
		j.ref(string(v), depth)
	case *schema:
		j.schema(v, depth)
	case object:
		j.object(v, depth)
	case []any:
		writeArray(j, v, depth, func(x any) { j.value(x, depth+1) })
	case []string:
		writeArray(j, v, depth, func(x string) { j.buf = appendString(j.buf, x) })
	case []*schema:
		j.schemas(v, depth)
	default:
		panic(fmt.Sprintf("openapi: cannot write a %T", v))
	}
}

// item starts the i-th element of an array.
func (j *jsonWriter) item(i, depth int) {
	if i > 0 {
		j.buf = append(j.buf, ',')
	}
	j.newline(depth + 1)
}

func (j *jsonWriter) schemas(v []*schema, depth int) {
	writeArray(j, v, depth, func(x *schema) { j.schema(x, depth+1) })
}

// writeArray writes v as a JSON array at depth, each element by each.
func writeArray[T any](j *jsonWriter, v []T, depth int, each func(T)) {
	if len(v) == 0 {
		j.buf = append(j.buf, '[', ']')
		return
	}
	j.buf = append(j.buf, '[')
	for i, x := range v {
		j.item(i, depth)
		each(x)
	}
	j.newline(depth)
	j.buf = append(j.buf, ']')
}

// key starts a member of an object: first tells whether it is the first one.
func (j *jsonWriter) key(k string, first bool, depth int) {
	if !first {
		j.buf = append(j.buf, ',')
	}
	j.newline(depth + 1)
	j.buf = appendString(j.buf, k)
	j.colon()
}

func (j *jsonWriter) ref(r string, depth int) {
	j.buf = append(j.buf, '{')
	j.key("$ref", true, depth)
	j.buf = appendString(j.buf, r)
	j.newline(depth)
	j.buf = append(j.buf, '}')
}

func (j *jsonWriter) object(o object, depth int) {
	if len(o) == 0 {
		j.buf = append(j.buf, '{', '}')
		return
	}
	if !slices.IsSortedFunc(o, compareMembers) {
		slices.SortStableFunc(o, compareMembers) // in place: objects are made for one write
	}
	j.buf = append(j.buf, '{')
	first := true
	for i, m := range o {
		if i+1 < len(o) && o[i+1].k == m.k {
			continue // a key set twice: like a map, keep the last value
		}
		j.key(m.k, first, depth)
		first = false
		j.value(m.v, depth+1)
	}
	j.newline(depth)
	j.buf = append(j.buf, '}')
}

// compareMembers orders members by key (a stable sort keeps a key set twice in the order it was set).
func compareMembers(a, b member) int { return strings.Compare(a.k, b.k) }

// schema writes s with its members in key order, as kin-openapi writes an openapi3.Schema.
func (j *jsonWriter) schema(s *schema, depth int) {
	if s.ref != "" {
		j.ref(s.ref, depth)
		return
	}
	j.buf = append(j.buf, '{')
	first := true
	k := func(name string) {
		j.key(name, first, depth)
		first = false
	}
	if s.additional != nil {
		k("additionalProperties")
		j.schema(s.additional, depth+1)
	} else if s.closed {
		k("additionalProperties")
		j.buf = append(j.buf, "false"...)
	}
	if len(s.allOf) != 0 {
		k("allOf")
		j.schemas(s.allOf, depth+1)
	}
	if len(s.anyOf) != 0 {
		k("anyOf")
		j.schemas(s.anyOf, depth+1)
	}
	if s.def != nil {
		k("default")
		j.value(s.def, depth+1)
	}
	if s.description != "" {
		k("description")
		j.buf = appendString(j.buf, s.description)
	}
	if len(s.enum) != 0 {
		k("enum")
		j.value(s.enum, depth+1)
	}
	if s.format != "" {
		k("format")
		j.buf = appendString(j.buf, s.format)
	}
	if s.items != nil {
		k("items")
		j.schema(s.items, depth+1)
	}
	if s.maxItems != nil {
		k("maxItems")
		j.buf = strconv.AppendUint(j.buf, *s.maxItems, 10)
	}
	if s.maxLength != nil {
		k("maxLength")
		j.buf = strconv.AppendUint(j.buf, *s.maxLength, 10)
	}
	if s.max != nil {
		k("maximum")
		j.buf = appendFloat(j.buf, *s.max)
	}
	if s.minItems != 0 {
		k("minItems")
		j.buf = strconv.AppendUint(j.buf, s.minItems, 10)
	}
	if s.min != nil {
		k("minimum")
		j.buf = appendFloat(j.buf, *s.min)
	}
	if s.nullable {
		k("nullable")
		j.buf = append(j.buf, "true"...)
	}
	if len(s.oneOf) != 0 {
		k("oneOf")
		j.schemas(s.oneOf, depth+1)
	}
	if s.pattern != "" {
		k("pattern")
		j.buf = appendString(j.buf, s.pattern)
	}
	if len(s.props) != 0 {
		k("properties")
		j.object(s.props, depth+1)
	}
	if s.readOnly {
		k("readOnly")
		j.buf = append(j.buf, "true"...)
	}
	if len(s.required) != 0 {
		k("required")
		j.value(s.required, depth+1)
	}
	switch len(s.typ) {
	case 0:
	case 1:
		k("type")
		j.buf = appendString(j.buf, s.typ[0])
	default:
		k("type")
		j.value(s.typ, depth+1)
	}
	if first {
		j.buf = append(j.buf, '}')
		return
	}
	j.newline(depth)
	j.buf = append(j.buf, '}')
}

// plainByte tells the ASCII bytes appendString copies as they are.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s quoted as encoding/json quotes it (HTML-safe: <, > and & escaped; invalid UTF-8 as
// U+FFFD; U+2028 and U+2029 escaped).
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainByte[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendFloat writes f as encoding/json does.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	b, _ := json.Marshal(f)
	return append(dst, b...)
}
