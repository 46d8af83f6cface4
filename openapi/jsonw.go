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

// get returns the value of key k (the last one set).
func (o object) get(k string) (any, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].k == k {
			return o[i].v, true
		}
	}
	return nil, false
}

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

func (j *jsonWriter) newline(depth int) {
	if j.indent == "" {
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
		j.object(object{{"$ref", string(v)}}, depth)
	case *schema:
		j.object(v.members(), depth)
	case object:
		j.object(v, depth)
	case []any:
		j.array(len(v), func(i int) any { return v[i] }, depth)
	case []string:
		j.array(len(v), func(i int) any { return v[i] }, depth)
	case []*schema:
		j.array(len(v), func(i int) any { return v[i] }, depth)
	default:
		panic(fmt.Sprintf("openapi: cannot write a %T", v))
	}
}

func (j *jsonWriter) object(o object, depth int) {
	if len(o) == 0 {
		j.buf = append(j.buf, '{', '}')
		return
	}
	if !slices.IsSortedFunc(o, compareMembers) {
		o = slices.Clone(o)
		slices.SortStableFunc(o, compareMembers)
	}
	j.buf = append(j.buf, '{')
	for i, m := range o {
		if i+1 < len(o) && o[i+1].k == m.k {
			continue // a key set twice: like a map, keep the last value
		}
		if j.buf[len(j.buf)-1] != '{' {
			j.buf = append(j.buf, ',')
		}
		j.newline(depth + 1)
		j.buf = appendString(j.buf, m.k)
		j.colon()
		j.value(m.v, depth+1)
	}
	j.newline(depth)
	j.buf = append(j.buf, '}')
}

// compareMembers orders members by key (a stable sort keeps a key set twice in the order it was set).
func compareMembers(a, b member) int { return strings.Compare(a.k, b.k) }

func (j *jsonWriter) array(n int, at func(int) any, depth int) {
	if n == 0 {
		j.buf = append(j.buf, '[', ']')
		return
	}
	j.buf = append(j.buf, '[')
	for i := range n {
		if i > 0 {
			j.buf = append(j.buf, ',')
		}
		j.newline(depth + 1)
		j.value(at(i), depth+1)
	}
	j.newline(depth)
	j.buf = append(j.buf, ']')
}

// appendString appends s quoted as encoding/json quotes it (HTML-safe: <, > and & escaped).
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// appendFloat writes f as encoding/json does.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	b, _ := json.Marshal(f)
	return append(dst, b...)
}
