package openapi

import (
	"strconv"
	"strings"
	"unicode"
)

// namer hands out unique names; the first caller of a base name gets it as is, later ones get a numeric suffix.
type namer struct{ used map[string]bool }

func newNamer() *namer { return &namer{used: map[string]bool{}} }

// unique returns base, or base2, base3, ... whichever is free first, and marks it used.
func (n *namer) unique(base string) string {
	name := base
	for i := 2; n.used[name]; i++ {
		name = base + strconv.Itoa(i)
	}
	n.used[name] = true
	return name
}

// componentKey makes s a valid component key (^[a-zA-Z0-9._-]+$) by replacing other characters with '_'.
func componentKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < unicode.MaxASCII && (r == '.' || r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// pascal turns a SQL name into PascalCase: words split on anything but letters and digits, each capitalised
// ("search_books" → "SearchBooks", "my table" → "MyTable").
func pascal(s string) string {
	var b strings.Builder
	upper := true
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "X"
	}
	return b.String()
}
