package sidecar

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/pgway/pgway/internal/apierr"
)

// A batch operation's references take values from the results of earlier operations. They are declared beside
// the operation's data, never inside it, so that no value of a body or a query string is ever read as a
// reference: "refs" maps a target in the operation to a source in an earlier result, both JSON Pointers
// (RFC 6901):
//
//	"refs": {"/body/author_id": "/0/body/0/id", "/query/author_id": "/0/body/0/id"}
//
// Targets: /body/<pointer> sets a member or an element of the operation's JSON body (the value as JSON: a
// number stays a number); /query/<name> completes the one query parameter of that name, whose value must be an
// operator and its dot (eq., not.gt., like., …) or, for a function's GET argument, empty: the value becomes that
// filter's operand or that argument, bound as every operand is. Nothing else can be a target: no path segment,
// select, order, columns, on_conflict, logic tree, limit, header or body key.
//
// Sources: /<i>/body/<pointer> (a JSON value of operation i's response body), /<i>/status, /<i>/headers/<Name>;
// i must be an earlier operation.

// refTarget is where a reference puts its value.
type refTarget struct {
	query string   // the query parameter's name (query target)
	body  []string // the body pointer's tokens (body target)
	text  string   // the target as written
}

// refSource is where a reference takes its value from.
type refSource struct {
	op     int
	kind   string   // "body", "status" or "headers"
	tokens []string // the body pointer's tokens, or the header's name
	text   string
}

// batchRef is one reference of an operation.
type batchRef struct {
	to   refTarget
	from refSource
}

// refError is PGWAY113: a reference that cannot be used, named in the error.
func refError(msg, details string) *apierr.Error {
	return apierr.New(http.StatusBadRequest, "PGWAY113", msg).WithDetails(details)
}

// parseRefs reads operation i's "refs": each target and source checked, sorted by target, no target inside
// another.
func parseRefs(i int, refs map[string]string) ([]batchRef, error) {
	out := make([]batchRef, 0, len(refs))
	for to, from := range refs {
		r := batchRef{to: refTarget{text: to}, from: refSource{text: from}}
		toks, err := pointerTokens(to)
		if err != nil || len(toks) < 2 || toks[0] != "body" && toks[0] != "query" || toks[0] == "query" && len(toks) != 2 {
			return nil, refError("Invalid reference target "+strconv.Quote(to),
				"A target is /body/<JSON pointer> (a value of the operation's JSON body) or /query/<name> (the operand of "+
					"a filter or a function argument).")
		}
		if toks[0] == "query" {
			r.to.query = toks[1]
		} else {
			r.to.body = toks[1:]
		}
		ftoks, err := pointerTokens(from)
		bad := err != nil || len(ftoks) < 2
		if !bad {
			n, nerr := strconv.Atoi(ftoks[0])
			r.from.op, r.from.kind, r.from.tokens = n, ftoks[1], ftoks[2:]
			bad = nerr != nil || n < 0 || strconv.Itoa(n) != ftoks[0] ||
				!(r.from.kind == "body" || r.from.kind == "status" && len(ftoks) == 2 || r.from.kind == "headers" && len(ftoks) == 3)
		}
		if bad {
			return nil, refError("Invalid reference source "+strconv.Quote(from),
				"A source is /<operation>/body/<JSON pointer>, /<operation>/status or /<operation>/headers/<name>.")
		}
		if r.from.op >= i {
			return nil, refError("Invalid reference source "+strconv.Quote(from),
				"An operation may refer only to the results of operations before it (operation "+strconv.Itoa(i)+
					" refers to operation "+strconv.Itoa(r.from.op)+").")
		}
		out = append(out, r)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].to.text < out[b].to.text })
	for k := 1; k < len(out); k++ {
		prev, cur := out[k-1].to, out[k].to
		if prev.query == "" && cur.query == "" && prefixOf(prev.body, cur.body) {
			return nil, refError("Overlapping reference targets "+strconv.Quote(prev.text)+" and "+strconv.Quote(cur.text),
				"No target may be inside another.")
		}
		if prev.query != "" && prev.query == cur.query {
			return nil, refError("Duplicate reference target "+strconv.Quote(cur.text), "")
		}
	}
	return out, nil
}

func prefixOf(a, b []string) bool {
	if len(a) > len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// pointerTokens splits a JSON Pointer into its unescaped reference tokens ("" is the whole document).
func pointerTokens(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, errors.New("a JSON pointer starts with /")
	}
	parts := strings.Split(p[1:], "/")
	for i, t := range parts {
		for j := 0; j < len(t); j++ {
			if t[j] == '~' && (j+1 == len(t) || t[j+1] != '0' && t[j+1] != '1') {
				return nil, errors.New("~ must be followed by 0 or 1")
			}
		}
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

// jsonSpan is a value's extent in a JSON text.
type jsonSpan struct{ start, end int }

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value at b[i:] (b is valid JSON, i at the value's first byte).
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = skipString(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && !strings.ContainsRune(",}] \t\r\n", rune(b[j])) {
		j++
	}
	return j
}

func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// jsonChild finds the member (object) or element (array) tok of the container at span c: its value's span,
// found true; for an object's missing member, found false. A duplicate key's last member is the one found, as
// jsonb keeps it. arrayIndex is tok's index in an array, -1 for "-" (past the end).
func jsonChild(b []byte, c jsonSpan, tok string) (v jsonSpan, found bool, err error) {
	switch b[c.start] {
	case '{':
		i := skipWS(b, c.start+1)
		for i < c.end && b[i] == '"' {
			kend := skipString(b, i)
			var key string
			if err := json.Unmarshal(b[i:kend], &key); err != nil {
				return v, false, err
			}
			vs := skipWS(b, skipWS(b, kend)+1) // past the colon
			ve := skipValue(b, vs)
			if key == tok {
				v, found = jsonSpan{vs, ve}, true
			}
			i = skipWS(b, ve)
			if i < c.end && b[i] == ',' {
				i = skipWS(b, i+1)
			}
		}
		return v, found, nil
	case '[':
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || strconv.Itoa(n) != tok {
			return v, false, errors.New("not an array index")
		}
		i := skipWS(b, c.start+1)
		for k := 0; i < c.end && b[i] != ']'; k++ {
			ve := skipValue(b, i)
			if k == n {
				return jsonSpan{i, ve}, true, nil
			}
			i = skipWS(b, ve)
			if i < c.end && b[i] == ',' {
				i = skipWS(b, i+1)
			}
		}
		return v, false, errors.New("no such element")
	}
	return v, false, errors.New("not an object or an array")
}

// jsonLookup is the value at the pointer's tokens in the valid JSON text b.
func jsonLookup(b []byte, toks []string) (jsonSpan, error) {
	start := skipWS(b, 0)
	cur := jsonSpan{start, skipValue(b, start)}
	for _, t := range toks {
		v, found, err := jsonChild(b, cur, t)
		if err != nil {
			return cur, err
		}
		if !found {
			return cur, errors.New("no member " + strconv.Quote(t))
		}
		cur = v
	}
	return cur, nil
}

// jsonSet returns b with val at the pointer's tokens: an existing member or element replaced, a new member
// added to an object, "-" appending to an array. Everything else of b is kept byte for byte.
func jsonSet(b []byte, toks []string, val []byte) ([]byte, error) {
	parent, err := jsonLookup(b, toks[:len(toks)-1])
	if err != nil {
		return nil, err
	}
	last := toks[len(toks)-1]
	splice := func(at, end int, with ...[]byte) []byte {
		out := make([]byte, 0, len(b)+len(val)+len(last)+8)
		out = append(out, b[:at]...)
		for _, w := range with {
			out = append(out, w...)
		}
		return append(out, b[end:]...)
	}
	if b[parent.start] == '[' && last == "-" {
		closing := parent.end - 1
		if len(bytes.TrimSpace(b[parent.start+1:closing])) == 0 {
			return splice(closing, closing, val), nil
		}
		return splice(closing, closing, []byte(","), val), nil
	}
	v, found, err := jsonChild(b, parent, last)
	if err != nil {
		return nil, err
	}
	if found {
		return splice(v.start, v.end, val), nil
	}
	// A new member of an object.
	closing := parent.end - 1
	key := apierr.AppendJSONString(nil, last)
	if len(bytes.TrimSpace(b[parent.start+1:closing])) == 0 {
		return splice(closing, closing, key, []byte(":"), val), nil
	}
	return splice(closing, closing, []byte(","), key, []byte(":"), val), nil
}

// queryText is a referenced JSON value as a query operand: a string's text, a number's or a boolean's, an
// object's or an array's JSON; null has none.
func queryText(v []byte) (string, bool) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0 || string(v) == "null":
		return "", false
	case v[0] == '"':
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return s, true
	}
	return string(v), true
}
