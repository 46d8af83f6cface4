package request

import (
	"encoding/binary"
	"slices"
	"strings"
)

// Shape is what decides how a read parses, less the operands of its simple filters: two reads with the same
// Key parse to the same Request but for those operands, which are Filters[Slots[i]].Cond.Value = Operands[i].
// The server caches a read's plan and SQL by its Key (the operands are bound parameters only).
//
// A simple filter is one whose key names a column of the read's relation (no embed path: no '.') and whose
// value is [not.]eq|neq|gt|gte|lt|lte.operand: its operand is the rest of the value, taken as it is. Every
// other part of the request — method, path, each query parameter in order, the headers Parse reads — is in
// Key verbatim. TestShape checks the claim against Parse.
type Shape struct {
	Key      []byte
	Slots    []int
	Operands []string
}

// slotOps are the operators whose operand a Shape takes out (each a bare token before the first '.').
var slotOps = [...]string{"eq", "neq", "gt", "gte", "lt", "lte"}

// Of computes in's shape into s, reusing its slices. It reports false when in is not a read of a relation (GET
// or HEAD on /name): only those have a shape.
func (s *Shape) Of(in Input) bool {
	s.Key, s.Slots, s.Operands = s.Key[:0], s.Slots[:0], s.Operands[:0]
	if in.Method != "GET" && in.Method != "HEAD" || len(in.Body) > 0 {
		return false
	}
	rel := strings.TrimPrefix(in.Path, "/")
	if rel == "" || strings.IndexByte(rel, '/') >= 0 {
		return false
	}
	k := append(s.Key, in.Method...)
	k = appendField(k, in.Path)
	for _, h := range [...]string{in.Accept, in.Prefer, in.Range, in.RangeUnit, in.AcceptProfile, in.ContentProfile,
		in.ContentType} {
		k = appendField(k, h)
	}
	var buf [16]qparam
	filters := 0
	for _, q := range splitQuery(in.Query, buf[:0]) {
		switch {
		case !q.hasVal:
			k = append(k, 'k')
			k = appendField(k, q.key)
			continue
		case !isFilterKey(q.key):
			k = append(k, 'v')
		default:
			filters++
			if n := slotPrefix(q.key, q.val); n > 0 {
				k = append(k, 's')
				k = appendField(k, q.key)
				k = appendField(k, q.val[:n])
				s.Slots = append(s.Slots, filters-1)
				s.Operands = append(s.Operands, q.val[n:])
				continue
			}
			k = append(k, 'f')
		}
		k = appendField(k, q.key)
		k = appendField(k, q.val)
	}
	s.Key = k
	return true
}

// Bind returns tmpl, a request of s's shape, with s's operands: what Parse returns for the request s was taken
// from. Without operands that is tmpl itself; otherwise it is a copy in into (nil: a new Request), which shares
// everything with tmpl but its Filters (kept in into.Filters' array when it is large enough). tmpl is not
// modified.
func (s *Shape) Bind(tmpl, into *Request) *Request {
	if len(s.Slots) == 0 {
		return tmpl
	}
	if into == nil {
		into = new(Request)
	}
	filters := into.Filters[:0]
	*into = *tmpl
	into.Filters = append(filters, tmpl.Filters...)
	for i, f := range s.Slots {
		into.Filters[f].Cond.Value = s.Operands[i]
	}
	return into
}

// slotPrefix is the length of a simple filter's operator prefix ("eq.", "not.lt.") in its value, or 0.
func slotPrefix(key, val string) int {
	if strings.IndexByte(key, '.') >= 0 {
		return 0 // an embed path, or a quoted name that may hide one
	}
	n := 0
	if strings.HasPrefix(val, "not.") {
		n = len("not.")
	}
	op, _, ok := strings.Cut(val[n:], ".")
	if !ok || !slices.Contains(slotOps[:], op) {
		return 0
	}
	return n + len(op) + 1
}

// appendField appends s length-prefixed, so that a key made of fields is unambiguous whatever they contain.
func appendField(k []byte, s string) []byte {
	k = binary.AppendUvarint(k, uint64(len(s)))
	return append(k, s...)
}

// InsertKey appends to k the shape of an insert (POST of a JSON, CSV or form body to a relation): everything
// Parse reads of in but the body, verbatim, and of the body only what decides the statement — whether it is one
// object and which keys its objects carry. Two inserts with the same key parse to the same Request but for
// Payload.JSON, which the server binds as one parameter; it caches their plan and SQL by this key. It reports
// false for any other request.
func InsertKey(k []byte, in Input, req *Request) ([]byte, bool) {
	if req.Action != ActionInsert || req.Payload == nil || in.Method != "POST" {
		return k, false
	}
	k = append(k, 'W')
	k = appendField(k, in.Method)
	k = appendField(k, in.Path)
	for _, h := range [...]string{in.Accept, in.Prefer, in.Range, in.RangeUnit, in.AcceptProfile, in.ContentProfile,
		in.ContentType, in.Query} {
		k = appendField(k, h)
	}
	if req.Payload.Object {
		k = append(k, 'o')
	} else {
		k = append(k, 'a')
	}
	k = binary.AppendUvarint(k, uint64(len(req.Payload.Keys)))
	for _, key := range req.Payload.Keys {
		k = appendField(k, key)
	}
	return k, true
}
