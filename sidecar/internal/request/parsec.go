package request

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file is a small Parsec emulator: PostgREST parses its query parameters with Parsec, and its error
// messages ("unexpected ... expecting ...", line/column) are part of the wire contract. The grammar rules
// in grammar.go follow PostgREST's QueryParams.hs one to one on top of these primitives, with Parsec's
// consumed/empty semantics, so both what is accepted and the error text match.
//
// Every rule returns a res (did it consume input, did it succeed) and leaves the Parsec error attached to
// its result in p.err. Error bookkeeping is only done when p.track is set: a parse first runs untracked
// (no allocations for errors) and is re-run tracked only when it fails, to build the message.

// msgKind orders Parsec's message types (errorMessages sorts by it).
type msgKind uint8

const (
	kSysUnexpect msgKind = iota // text is the shown token ("" = end of input)
	kUnexpect
	kExpect
	kMessage
)

type pmsg struct {
	kind msgKind
	text string
}

// perr is a Parsec ParseError: a position (byte offset into the input) and messages; no messages is
// Parsec's "unknown error".
type perr struct {
	pos  int
	msgs []pmsg
}

// res is the outcome of a rule: c reports whether input was consumed, ok whether it succeeded.
type res struct{ c, ok bool }

type parser struct {
	s     string
	pos   int
	track bool
	err   perr
}

// peek returns the rune at the current position and its width (0 at end of input).
func (p *parser) peek() (rune, int) {
	if p.pos >= len(p.s) {
		return 0, 0
	}
	c := p.s[p.pos]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(p.s[p.pos:])
}

// merge is Parsec's mergeError.
func merge(e1, e2 perr) perr {
	switch {
	case len(e2.msgs) == 0 && len(e1.msgs) > 0:
		return e1
	case len(e1.msgs) == 0 && len(e2.msgs) > 0:
		return e2
	}
	switch {
	case e1.pos > e2.pos:
		return e1
	case e1.pos < e2.pos:
		return e2
	}
	if len(e2.msgs) == 0 {
		return e1
	}
	m := make([]pmsg, 0, len(e1.msgs)+len(e2.msgs))
	m = append(m, e1.msgs...)
	m = append(m, e2.msgs...)
	return perr{pos: e1.pos, msgs: m}
}

func (p *parser) unknownErr() { p.err = perr{pos: p.pos} }

// mergeWith merges a saved error into the current one when the latest rule consumed nothing.
func (p *parser) mergeWith(saved perr, r res) {
	if p.track && !r.c {
		p.err = merge(saved, p.err)
	}
}

// label is Parsec's <?>: on an empty result, the expected messages become the label.
func (p *parser) label(r res, l string) res {
	if !p.track || r.c {
		return r
	}
	if r.ok && len(p.err.msgs) == 0 {
		return r
	}
	m := make([]pmsg, 0, len(p.err.msgs)+1)
	for _, x := range p.err.msgs {
		if x.kind != kExpect {
			m = append(m, x)
		}
	}
	m = append(m, pmsg{kExpect, l})
	p.err = perr{pos: p.err.pos, msgs: m}
	return r
}

// try is Parsec's try: a consumed failure becomes an empty one and the position is restored.
func (p *parser) try(start int, r res) res {
	if !r.ok {
		p.pos = start
		r.c = false
	}
	return r
}

// seq combines the result of a first rule (r1, with error e1) with the second one (r2, current error).
func (p *parser) seq(r1 res, e1 perr, r2 res) res {
	p.mergeWith(e1, r2)
	return res{c: r1.c || r2.c, ok: r2.ok}
}

func (p *parser) failSys(pos int, shown, expect string) {
	if !p.track {
		return
	}
	if expect == "" {
		p.err = perr{pos: pos, msgs: []pmsg{{kSysUnexpect, shown}}}
	} else {
		p.err = perr{pos: pos, msgs: []pmsg{{kSysUnexpect, shown}, {kExpect, expect}}}
	}
}

// char is Parsec's char c.
func (p *parser) char(c byte) res {
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		if p.track {
			p.unknownErr()
		}
		return res{c: true, ok: true}
	}
	if p.track {
		_, w := p.peek()
		shown := ""
		if w > 0 {
			shown = showString(p.s[p.pos : p.pos+w])
		}
		p.failSys(p.pos, shown, showString(string(c)))
	}
	return res{}
}

// str is Parsec's string s (errors are reported at the start, showing the mismatching character).
func (p *parser) str(s string) res {
	start := p.pos
	i := 0
	for i < len(s) {
		if p.pos+i >= len(p.s) {
			if p.track {
				p.failSys(start, "", showString(s))
			}
			return res{c: i > 0}
		}
		if p.s[p.pos+i] != s[i] {
			if p.track {
				// the mismatching character (s is ASCII, so a rune boundary is at p.pos+i)
				_, w := utf8.DecodeRuneInString(p.s[p.pos+i:])
				p.failSys(start, showString(p.s[p.pos+i:p.pos+i+w]), showString(s))
			}
			return res{c: i > 0}
		}
		i++
	}
	p.pos += len(s)
	if p.track {
		p.unknownErr()
	}
	return res{c: len(s) > 0, ok: true}
}

// ciStr is PostgREST's ciString: each character as itself or its upper case (traverse of char <|> char).
func (p *parser) ciStr(s string) res {
	consumed := false
	var saved perr
	for i := 0; i < len(s); i++ {
		lo := s[i]
		up := byte(unicode.ToUpper(rune(lo)))
		r := p.char(lo)
		if !r.ok {
			e := p.err
			r = p.char(up)
			p.mergeWith(e, r)
		}
		if i > 0 {
			p.mergeWith(saved, r)
		}
		if !r.ok {
			return res{c: consumed}
		}
		consumed = true
		saved = p.err
	}
	return res{c: consumed, ok: true}
}

// eofP is Parsec's eof (notFollowedBy anyToken <?> "end of input").
func (p *parser) eofP() res {
	if p.pos < len(p.s) {
		if p.track {
			_, w := p.peek()
			p.err = perr{pos: p.pos, msgs: []pmsg{{kUnexpect, showChar(p.s[p.pos : p.pos+w])}, {kExpect, "end of input"}}}
		}
		return res{}
	}
	if p.track {
		p.err = perr{pos: p.pos, msgs: []pmsg{{kSysUnexpect, ""}, {kExpect, "end of input"}}}
	}
	return res{ok: true}
}

// notFollowedByChar is notFollowedBy (char c): fails (without consuming) when c is next.
func (p *parser) notFollowedByChar(c byte) res {
	if p.pos < len(p.s) && p.s[p.pos] == c {
		if p.track {
			p.err = perr{pos: p.pos + 1, msgs: []pmsg{{kUnexpect, showChar(string(c))}}}
		}
		return res{}
	}
	// try (char c) failed empty, then `<|> return ()` merges that error.
	p.char(c)
	return res{ok: true}
}

// lookAheadStr is try (lookAhead (string s)) / try (lookAhead (char c)).
func (p *parser) lookAheadStr(s string) res {
	start := p.pos
	r := p.str(s)
	p.pos = start
	if r.ok {
		if p.track {
			p.unknownErr()
		}
		return res{ok: true}
	}
	return res{}
}

// fail is Parsec's parserFail (a Message at the current position).
func (p *parser) fail(msg string) res {
	if p.track {
		p.err = perr{pos: p.pos, msgs: []pmsg{{kMessage, msg}}}
	}
	return res{}
}

// showString renders a Haskell `show` of a String.
func showString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	prevNumEsc := false
	for _, r := range s {
		if prevNumEsc && r >= '0' && r <= '9' {
			b.WriteString(`\&`)
		}
		prevNumEsc = false
		switch {
		case r == '"':
			b.WriteString(`\"`)
		default:
			prevNumEsc = writeHsChar(&b, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// showChar renders a Haskell `show` of a Char given as a one-rune string.
func showChar(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	var b strings.Builder
	b.WriteByte('\'')
	if r == '\'' {
		b.WriteString(`\'`)
	} else {
		writeHsChar(&b, r)
	}
	b.WriteByte('\'')
	return b.String()
}

var hsAscii = [...]string{"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "a", "b", "t", "n", "v", "f", "r", "SO", "SI",
	"DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US"}

// writeHsChar writes r as Haskell's showLitChar does; it reports a numeric escape (which needs \& before a digit).
func writeHsChar(b *strings.Builder, r rune) bool {
	switch {
	case r == '\\':
		b.WriteString(`\\`)
	case r >= ' ' && r < 0x7f:
		b.WriteRune(r)
	case r < ' ':
		b.WriteByte('\\')
		b.WriteString(hsAscii[r])
		return false
	case r == 0x7f:
		b.WriteString(`\DEL`)
	default:
		b.WriteByte('\\')
		b.WriteString(strconv.Itoa(int(r)))
		return true
	}
	return false
}

// render turns a Parsec error into PostgREST's (message, details) pair.
func render(name, input string, e perr) (string, string) {
	line, col := 1, 1
	for i, r := range input {
		if i >= e.pos {
			break
		}
		switch r {
		case '\n':
			line++
			col = 1
		case '\t':
			col = col + 8 - ((col - 1) % 8)
		default:
			col++
		}
	}
	msg := `"` + name + `" (line ` + strconv.Itoa(line) + ", column " + strconv.Itoa(col) + ")"
	return msg, showMessages(e.msgs)
}

// showMessages is Parsec's showErrorMessages "or" "unknown parse error" "expecting" "unexpected" "end of input",
// with newlines turned into spaces (as PostgREST does).
func showMessages(msgs []pmsg) string {
	if len(msgs) == 0 {
		return "unknown parse error"
	}
	var sys, unexp, exp, other []string
	for _, m := range msgs {
		switch m.kind {
		case kSysUnexpect:
			sys = append(sys, m.text)
		case kUnexpect:
			unexp = append(unexp, m.text)
		case kExpect:
			exp = append(exp, m.text)
		default:
			other = append(other, m.text)
		}
	}
	var parts []string
	if len(unexp) == 0 && len(sys) > 0 {
		if sys[0] == "" {
			parts = append(parts, "unexpected end of input")
		} else {
			parts = append(parts, "unexpected "+sys[0])
		}
	}
	if s := commasOr(clean(unexp)); s != "" {
		parts = append(parts, "unexpected "+s)
	}
	if s := commasOr(clean(exp)); s != "" {
		parts = append(parts, "expecting "+s)
	}
	if s := commasOr(clean(other)); s != "" {
		parts = append(parts, s)
	}
	out := strings.Join(parts, " ")
	out = strings.ReplaceAll(out, "\n", " ")
	return strings.TrimSpace(out)
}

func clean(ms []string) []string {
	var out []string
	for _, m := range ms {
		if m == "" {
			continue
		}
		dup := false
		for _, o := range out {
			if o == m {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, m)
		}
	}
	return out
}

func commasOr(ms []string) string {
	switch len(ms) {
	case 0:
		return ""
	case 1:
		return ms[0]
	}
	return strings.Join(ms[:len(ms)-1], ", ") + " or " + ms[len(ms)-1]
}
