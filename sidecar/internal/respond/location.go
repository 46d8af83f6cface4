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
	var buf [8]kv
	params := buf[:0]
	for rest := rawQuery; rest != ""; {
		var part string
		if i := strings.IndexAny(rest, "&;"); i >= 0 {
			part, rest = rest[:i], rest[i+1:]
		} else {
			part, rest = rest, ""
		}
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		params = append(params, kv{unescapePlus(k), unescapePlus(v)})
	}
	if len(params) == 0 {
		return "/" + relation
	}
	slices.SortStableFunc(params, func(a, b kv) int { return strings.Compare(a.k, b.k) })
	b := make([]byte, 0, len(relation)+len(rawQuery)*2+2)
	b = append(b, '/')
	b = append(b, relation...)
	b = append(b, '?')
	for i, p := range params {
		if i > 0 && params[i-1].k == p.k {
			b = append(b, ',')
			b = appendStrict(b, p.v)
			continue
		}
		if i > 0 {
			b = append(b, '&')
		}
		b = appendStrict(b, p.k)
		b = append(b, '=')
		b = appendStrict(b, p.v)
	}
	return string(b)
}

func unescapePlus(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// appendStrict percent-encodes every byte but ASCII letters, digits and -_.~ (Haskell's urlEncode).
func appendStrict(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}
