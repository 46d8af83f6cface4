package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The config file is PostgREST's format, that of its configurator-pg library (Data.Configurator.Syntax and
// Load):
//
//	# a comment
//	key = "string"          # \n \t \r \" \\ \uXXXX escapes; $(NAME) interpolates, $$ is a $
//	key = true              # on, off, true, false
//	key = 10                # numbers
//	group { key = 1 }       # sets group.key (app.settings { region = "eu" })
//	import "other.conf"     # relative to this file
//	#; key = "x"            # comments out one directive
//
// $(NAME) is first an earlier key of the file (looked up from the innermost group outwards), then the
// environment variable NAME; an unknown NAME is an error. pgway also takes unquoted words as strings
// (`db-schemas = api`), which configurator rejects.

// fileValue is one key's value as written.
type fileValue struct {
	text string
	kind valueKind
	line int
	file string
}

type valueKind uint8

const (
	valString valueKind = iota
	valBool
	valNumber
	valWord // an unquoted word (pgway)
	valList
)

// fileParser reads one file.
type fileParser struct {
	src   string
	pos   int
	file  string
	depth int
	// vals accumulates bindings, shared across imports; order records first-binding order.
	vals  map[string]fileValue
	order *[]string
	env   func(string) (string, bool)
}

func (p *fileParser) errorf(format string, args ...any) error {
	line := 1 + strings.Count(p.src[:min(p.pos, len(p.src))], "\n")
	return fmt.Errorf("config: %s:%d: %s", p.file, line, fmt.Sprintf(format, args...))
}

func (p *fileParser) line() int { return 1 + strings.Count(p.src[:min(p.pos, len(p.src))], "\n") }

func (p *fileParser) eof() bool { return p.pos >= len(p.src) }

func (p *fileParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.pos]
}

// skipSpace skips white space, newlines and comments ("#;" starts a directive comment, not a plain one).
func (p *fileParser) skipSpace() {
	for !p.eof() {
		c := p.src[p.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			p.pos++
		case c == '#' && !strings.HasPrefix(p.src[p.pos:], "#;"):
			for !p.eof() && p.src[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

// skipLineSpace skips blanks and a comment up to the end of the line.
func (p *fileParser) skipLineSpace() {
	for !p.eof() {
		c := p.src[p.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			p.pos++
		case c == '#':
			for !p.eof() && p.src[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

func isIdentChar(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// ident reads a key: words of letters, digits, _ and - (starting with a letter), joined by dots.
func (p *fileParser) ident() (string, error) {
	start := p.pos
	for {
		r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
		if !unicode.IsLetter(r) {
			return "", p.errorf("expected a key")
		}
		for !p.eof() && isIdentChar(p.src[p.pos]) {
			p.pos++
		}
		if p.peek() != '.' {
			return p.src[start:p.pos], nil
		}
		p.pos++
	}
}

// directives reads directives until EOF or a closing brace (in a group).
func (p *fileParser) directives(prefix string, inGroup bool) error {
	for {
		p.skipSpace()
		if p.eof() {
			if inGroup {
				return p.errorf("missing } of a group")
			}
			return nil
		}
		if p.peek() == '}' {
			if !inGroup {
				return p.errorf("unexpected }")
			}
			p.pos++
			return nil
		}
		if err := p.directive(prefix, false); err != nil {
			return err
		}
		p.skipLineSpace()
		if !p.eof() && p.peek() != '\n' && p.peek() != '}' {
			return p.errorf("expected the end of the line")
		}
	}
}

// directive reads one directive; skip parses it without applying it (#;).
func (p *fileParser) directive(prefix string, skip bool) error {
	if strings.HasPrefix(p.src[p.pos:], "#;") {
		p.pos += 2
		p.skipLineSpace()
		return p.directive(prefix, true)
	}
	if strings.HasPrefix(p.src[p.pos:], "import") && (len(p.src) == p.pos+6 || !isIdentChar(p.src[p.pos+6]) && p.src[p.pos+6] != '.') {
		p.pos += 6
		p.skipSpace()
		if p.peek() != '"' {
			return p.errorf("import needs a quoted file name")
		}
		name, err := p.quoted()
		if err != nil {
			return err
		}
		if skip {
			return nil
		}
		return p.importFile(prefix, name)
	}
	key, err := p.ident()
	if err != nil {
		return err
	}
	p.skipLineSpace()
	switch p.peek() {
	case '=':
		p.pos++
		p.skipLineSpace()
		line := p.line()
		v, err := p.value()
		if err != nil {
			return fmt.Errorf("%w (key %s)", err, prefix+key)
		}
		if skip {
			return nil
		}
		v.line, v.file = line, p.file
		if v.kind == valString && strings.Contains(v.text, "$") {
			if v.text, err = p.interpolate(prefix, v.text); err != nil {
				return err
			}
		}
		full := prefix + key
		if _, seen := p.vals[full]; !seen {
			*p.order = append(*p.order, full)
		}
		p.vals[full] = v
		return nil
	case '{':
		p.pos++
		if skip {
			savedVals, savedOrder := p.vals, p.order
			p.vals, p.order = map[string]fileValue{}, new([]string)
			err := p.directives(prefix+key+".", true)
			p.vals, p.order = savedVals, savedOrder
			return err
		}
		return p.directives(prefix+key+".", true)
	}
	return p.errorf("expected = or { after %s", key)
}

// value reads a string, boolean, number, list or (pgway) unquoted word.
func (p *fileParser) value() (fileValue, error) {
	rest := p.src[p.pos:]
	switch {
	case p.peek() == '"':
		s, err := p.quoted()
		return fileValue{text: s, kind: valString}, err
	case p.peek() == '[':
		depth := 0
		for !p.eof() {
			c := p.src[p.pos]
			p.pos++
			if c == '"' {
				p.pos--
				if _, err := p.quoted(); err != nil {
					return fileValue{}, err
				}
				continue
			}
			if c == '[' {
				depth++
			} else if c == ']' {
				if depth--; depth == 0 {
					return fileValue{text: rest[:len(rest)-len(p.src[p.pos:])], kind: valList}, nil
				}
			}
		}
		return fileValue{}, p.errorf("unterminated list")
	}
	end := 0
	for end < len(rest) && rest[end] != '\n' && rest[end] != '#' && rest[end] != '}' {
		end++
	}
	word := strings.TrimSpace(rest[:end])
	if word == "" {
		return fileValue{}, p.errorf("expected a value")
	}
	p.pos += end
	switch word {
	case "on", "off", "true", "false":
		return fileValue{text: word, kind: valBool}, nil
	}
	if isNumber(word) {
		return fileValue{text: normalizeNumber(word), kind: valNumber}, nil
	}
	return fileValue{text: word, kind: valWord}, nil
}

// isNumber matches configurator's numbers (Megaparsec's scientific): digits, an optional fraction and exponent.
func isNumber(s string) bool {
	i := 0
	digits := func() bool {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > start
	}
	if !digits() {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

// normalizeNumber writes a whole number given with a fraction or exponent (1e3, 10.0) as an integer.
func normalizeNumber(s string) string {
	if strings.ContainsAny(s, ".eE") {
		if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int64(f)) {
			return strconv.FormatInt(int64(f), 10)
		}
	}
	return s
}

// quoted reads a double-quoted string with configurator's escapes.
func (p *fileParser) quoted() (string, error) {
	p.pos++ // "
	var b strings.Builder
	for {
		if p.eof() {
			return "", p.errorf("unterminated string")
		}
		c := p.src[p.pos]
		p.pos++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if p.eof() {
				return "", p.errorf("unterminated string")
			}
			e := p.src[p.pos]
			p.pos++
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '"':
				b.WriteByte('"')
			case '\\':
				b.WriteByte('\\')
			case 'u':
				r, err := p.hexQuad()
				if err != nil {
					return "", err
				}
				if r >= 0xd800 && r <= 0xdbff && strings.HasPrefix(p.src[p.pos:], `\u`) {
					p.pos += 2
					lo, err := p.hexQuad()
					if err != nil {
						return "", err
					}
					if lo < 0xdc00 || lo > 0xdfff {
						return "", p.errorf("invalid UTF-16 surrogates")
					}
					r = (r-0xd800)<<10 + (lo - 0xdc00) + 0x10000
				} else if r >= 0xd800 && r <= 0xdfff {
					return "", p.errorf("invalid UTF-16 surrogates")
				}
				b.WriteRune(r)
			default:
				return "", p.errorf("unknown escape \\%c", e)
			}
		default:
			b.WriteByte(c)
		}
	}
}

func (p *fileParser) hexQuad() (rune, error) {
	if len(p.src)-p.pos < 4 {
		return 0, p.errorf("expected four hexadecimal digits")
	}
	n, err := strconv.ParseUint(p.src[p.pos:p.pos+4], 16, 32)
	if err != nil {
		return 0, p.errorf("expected four hexadecimal digits")
	}
	p.pos += 4
	return rune(n), nil
}

// interpolate replaces $(NAME) with an earlier key (innermost group first) or the environment variable NAME,
// and $$ with $. A $ followed by anything else is kept (configurator rejects it).
func (p *fileParser) interpolate(prefix, s string) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			s = s[i+2:]
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end <= 0 {
				return "", p.errorf("unterminated $( in a string")
			}
			name := s[i+2 : i+2+end]
			v, err := p.lookup(prefix, name)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			s = s[i+2+end+1:]
		default:
			b.WriteByte('$')
			s = s[i+1:]
		}
	}
}

func (p *fileParser) lookup(prefix, name string) (string, error) {
	scope := strings.Split(strings.TrimSuffix(prefix, "."), ".")
	if prefix == "" {
		scope = nil
	}
	for n := len(scope); n >= 0; n-- {
		full := strings.Join(append(append([]string{}, scope[:n]...), name), ".")
		if v, ok := p.vals[full]; ok {
			switch v.kind {
			case valString, valNumber, valWord:
				return v.text, nil
			}
			return "", p.errorf("variable '%s' is not a string or number", name)
		}
	}
	if p.env != nil {
		if v, ok := p.env(name); ok {
			return v, nil
		}
	}
	return "", p.errorf("no such variable: '%s'", name)
}

// importFile reads another file, relative to this one, with the same group prefix.
func (p *fileParser) importFile(prefix, name string) error {
	if p.depth >= 16 {
		return p.errorf("imports nested too deep")
	}
	path := name
	if !filepath.IsAbs(name) {
		path = filepath.Join(filepath.Dir(p.file), name)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: reading %s: %w", path, err)
	}
	sub := &fileParser{src: string(data), file: path, depth: p.depth + 1, vals: p.vals, order: p.order, env: p.env}
	return sub.directives(prefix, false)
}

// parseFileText parses a config file's text (named file, for messages and imports) into its bindings, in the
// order their keys were first bound; env looks up $(NAME) in the environment.
func parseFileText(file, text string, env func(string) (string, bool)) ([]string, map[string]fileValue, error) {
	var order []string
	p := &fileParser{src: text, file: file, vals: map[string]fileValue{}, order: &order, env: env}
	if err := p.directives("", false); err != nil {
		return nil, nil, err
	}
	return order, p.vals, nil
}
