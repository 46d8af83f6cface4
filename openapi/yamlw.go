package openapi

import (
	"bytes"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// yamlDirect writes values as yaml.v3 lays out the nodes parsed from their JSON (indent 2, block style,
// sequences indented under their key, a mapping in a sequence item starting on the dash's line), asking yaml.v3
// only how to write each distinct scalar (plain, quoted or a literal block), once. It reports false for what it
// leaves to yaml.v3 whole: a sequence in a sequence, a key yaml.v3 writes as a complex key.
type yamlDirect struct {
	keys, vals map[string]string
}

// maxRendered bounds the scalar renderings kept (distinct names of a very large schema).
const maxRendered = 1 << 18

func (y *yamlDirect) member(buf *bytes.Buffer, key string, v any, indent int) bool {
	spaces(buf, indent)
	k, ok := y.key(key)
	if !ok {
		return false
	}
	buf.WriteString(k)
	buf.WriteByte(':')
	return y.afterKey(buf, v, indent)
}

func (y *yamlDirect) item(buf *bytes.Buffer, v any, indent int) bool {
	return y.seq(buf, []any{v}, indent)
}

func spaces(buf *bytes.Buffer, n int) {
	for range n {
		buf.WriteByte(' ')
	}
}

// members are v's members when it is an object (ok), sorted, a key set twice keeping its last value.
func members(v any) (object, bool) {
	var o object
	switch v := v.(type) {
	case object:
		o = v
	case ref:
		return object{{"$ref", string(v)}}, true
	case *schema:
		o = v.members()
	default:
		return nil, false
	}
	if !slices.IsSortedFunc(o, compareMembers) {
		slices.SortStableFunc(o, compareMembers)
	}
	out := o[:0:0]
	for i, m := range o {
		if i+1 < len(o) && o[i+1].k == m.k {
			continue
		}
		out = append(out, m)
	}
	return out, true
}

// items are v's elements when it is an array.
func items(v any) ([]any, bool) {
	switch v := v.(type) {
	case []any:
		return v, true
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out, true
	case []*schema:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// afterKey writes v after "key:" of a mapping at column indent.
func (y *yamlDirect) afterKey(buf *bytes.Buffer, v any, indent int) bool {
	if o, ok := members(v); ok {
		if len(o) == 0 {
			buf.WriteString(" {}\n")
			return true
		}
		buf.WriteByte('\n')
		return y.mapping(buf, o, indent+2, false)
	}
	if xs, ok := items(v); ok {
		if len(xs) == 0 {
			buf.WriteString(" []\n")
			return true
		}
		buf.WriteByte('\n')
		return y.seq(buf, xs, indent+2)
	}
	s, ok := y.scalar(v)
	if !ok {
		return false
	}
	buf.WriteByte(' ')
	writeLines(buf, s, indent)
	buf.WriteByte('\n')
	return true
}

// mapping writes o's members at column indent; inline: the first key goes where the line already is (after
// a sequence item's dash).
func (y *yamlDirect) mapping(buf *bytes.Buffer, o object, indent int, inline bool) bool {
	for i, m := range o {
		if i > 0 || !inline {
			spaces(buf, indent)
		}
		k, ok := y.key(m.k)
		if !ok {
			return false
		}
		buf.WriteString(k)
		buf.WriteByte(':')
		if !y.afterKey(buf, m.v, indent) {
			return false
		}
	}
	return true
}

// seq writes the items of a sequence whose dashes are at column indent.
func (y *yamlDirect) seq(buf *bytes.Buffer, xs []any, indent int) bool {
	for _, x := range xs {
		spaces(buf, indent)
		buf.WriteString("- ")
		if o, ok := members(x); ok {
			if len(o) == 0 {
				buf.WriteString("{}\n")
				continue
			}
			if !y.mapping(buf, o, indent+2, true) {
				return false
			}
			continue
		}
		if inner, ok := items(x); ok {
			if len(inner) == 0 {
				buf.WriteString("[]\n")
				continue
			}
			return false
		}
		s, ok := y.scalar(x)
		if !ok {
			return false
		}
		writeLines(buf, s, indent) // a literal block's lines go two past the dash, as a mapping value's past its key
		buf.WriteByte('\n')
	}
	return true
}

// writeLines writes a scalar's rendering, its continuation lines (a literal block's) indented by indent.
func writeLines(buf *bytes.Buffer, s string, indent int) { indentLines(buf, s, indent, false) }

// indentLines writes text, indenting by indent every line that is not empty (the first one too, with first)
// as yaml.v3 would have at that depth. A line ends at \n, and also at the other breaks yaml.v3 writes raw
// inside a quoted scalar (U+0085, U+2028, U+2029), after which it indents the rest of the scalar too.
func indentLines(buf *bytes.Buffer, text string, indent int, first bool) {
	start := first
	for i := 0; i < len(text); {
		if start {
			if text[i] != '\n' {
				spaces(buf, indent)
			}
			start = false
		}
		n := 1
		switch {
		case text[i] == '\n':
			start = true
		case strings.HasPrefix(text[i:], "\u2028"), strings.HasPrefix(text[i:], "\u2029"):
			n, start = 3, true
		case strings.HasPrefix(text[i:], "\u0085"):
			n, start = 2, true
		}
		buf.WriteString(text[i : i+n])
		i += n
	}
}

// scalar renders a non-string scalar as it comes out of JSON, or a string as yaml.v3 writes it as a value.
func (y *yamlDirect) scalar(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "null", true
	case bool:
		return strconv.FormatBool(v), true
	case int:
		return strconv.Itoa(v), true
	case uint64:
		return strconv.FormatUint(v, 10), true
	case float64:
		return string(appendFloat(nil, v)), true
	case string:
		if plainSafe(v) {
			return v, true
		}
		if r, ok := y.vals[v]; ok {
			return r, true
		}
		r, ok := render(v, false)
		if !ok {
			return "", false
		}
		if len(y.vals) >= maxRendered {
			clear(y.vals)
		}
		y.vals[v] = r
		return r, true
	}
	return "", false
}

// key renders a mapping key as yaml.v3 writes it (false: not a simple one-line key).
func (y *yamlDirect) key(k string) (string, bool) {
	if plainSafe(k) {
		return k, true
	}
	if r, ok := y.keys[k]; ok {
		return r, r != ""
	}
	r, ok := render(k, true)
	if !ok || strings.IndexByte(r, '\n') >= 0 {
		r = ""
	}
	if len(y.keys) >= maxRendered {
		clear(y.keys)
	}
	y.keys[k] = r
	return r, r != ""
}

// plainSafe reports whether yaml.v3 surely writes s plain: a letter, then letters, digits and _ . - /, and not a
// word YAML reads as a boolean or null.
func plainSafe(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	if c := s[0]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-' || c == '/') {
			return false
		}
	}
	switch strings.ToLower(s) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null":
		return false
	}
	return true
}

// render asks yaml.v3 how it writes the string s as a mapping's key (asKey) or value, in a document of one
// mapping, block style.
func render(s string, asKey bool) (string, bool) {
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	k, v := str("k"), str(s)
	if asKey {
		k, v = str(s), str("v")
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Content: []*yaml.Node{k, v}}}}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return "", false
	}
	_ = enc.Close()
	text := strings.TrimSuffix(out.String(), "\n")
	if asKey {
		r, ok := strings.CutSuffix(text, ": v")
		return r, ok
	}
	r, ok := strings.CutPrefix(text, "k: ")
	return r, ok
}
