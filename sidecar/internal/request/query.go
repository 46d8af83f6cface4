package request

import (
	"strings"
	"unicode/utf8"
)

// qparam is one key=value pair of the query string, percent-decoded. hasVal is false for a bare key (no '=').
type qparam struct {
	key, val string
	hasVal   bool
}

// splitQuery splits a raw query string as Haskell's http-types parseQueryReplacePlus True does (which
// PostgREST uses): pairs separated by '&' or ';', key and value percent-decoded with '+' as space,
// malformed escapes kept as they are. Invalid UTF-8 is replaced with U+FFFD.
func splitQuery(raw string, buf []qparam) []qparam {
	if len(raw) > 0 && raw[0] == '?' {
		raw = raw[1:]
	}
	for len(raw) > 0 {
		i := strings.IndexAny(raw, "&;")
		var pair string
		if i < 0 {
			pair, raw = raw, ""
		} else {
			pair, raw = raw[:i], raw[i+1:]
		}
		q := qparam{}
		if j := strings.IndexByte(pair, '='); j >= 0 {
			q.key, q.val, q.hasVal = urlDecode(pair[:j]), urlDecode(pair[j+1:]), true
		} else {
			q.key = urlDecode(pair)
		}
		buf = append(buf, q)
	}
	return buf
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// urlDecode percent-decodes s with '+' as space; it allocates only when s has something to decode.
func urlDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return validUTF8(s)
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 < len(s) {
				hi, ok1 := unhex(s[i+1])
				lo, ok2 := unhex(s[i+2])
				if ok1 && ok2 {
					b = append(b, hi<<4|lo)
					i += 2
					continue
				}
			}
			b = append(b, c)
		default:
			b = append(b, c)
		}
	}
	return validUTF8(string(b))
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// lastSegment is the part of a key after its last '.' (PostgREST's endingIn).
func lastSegment(k string) string {
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		return k[i+1:]
	}
	return k
}
