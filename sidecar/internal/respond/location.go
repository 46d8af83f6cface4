package respond

import (
	"net/url"
	"slices"
	"strings"
)

// ContentLocation is PostgREST's Content-Location for a read: the relation's path and the query string in
// canonical form (parameters sorted by name, repeated names joined with commas, everything but [A-Za-z0-9-_.~]
// percent-encoded).
func ContentLocation(relation, rawQuery string) string {
	if rawQuery == "" {
		return "/" + relation
	}
	type kv struct{ k, v string }
	var params []kv
	for _, part := range strings.FieldsFunc(rawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, _ := strings.Cut(part, "=")
		params = append(params, kv{unescapePlus(k), unescapePlus(v)})
	}
	if len(params) == 0 {
		return "/" + relation
	}
	slices.SortStableFunc(params, func(a, b kv) int { return strings.Compare(a.k, b.k) })
	var sb strings.Builder
	sb.WriteString("/")
	sb.WriteString(relation)
	sb.WriteString("?")
	done := make([]bool, len(params))
	first := true
	for i, p := range params {
		if done[i] {
			continue
		}
		if !first {
			sb.WriteString("&")
		}
		first = false
		sb.WriteString(encodeStrict(p.k))
		sb.WriteString("=")
		sb.WriteString(encodeStrict(p.v))
		for j := i + 1; j < len(params); j++ {
			if !done[j] && params[j].k == p.k {
				done[j] = true
				sb.WriteString(",")
				sb.WriteString(encodeStrict(params[j].v))
			}
		}
	}
	return sb.String()
}

func unescapePlus(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// encodeStrict percent-encodes every byte but ASCII letters, digits and -_.~ (Haskell's urlEncode).
func encodeStrict(s string) string {
	const hex = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}
