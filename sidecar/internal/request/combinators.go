package request

// Generic Parsec combinators over rules written as func() res. The closures passed here do not escape,
// so the compiler keeps them on the stack.

// many is Parsec's many: it stops at the first failure that consumed nothing.
func (p *parser) many(f func() res) res {
	consumed := false
	for {
		start := p.pos
		r := f()
		if r.ok {
			if !r.c { // Parsec refuses many over an empty parser; stop rather than loop
				return res{c: consumed, ok: true}
			}
			consumed = true
			continue
		}
		if r.c {
			return res{c: true}
		}
		p.pos = start
		return res{c: consumed, ok: true}
	}
}

// many1 is Parsec's many1.
func (p *parser) many1(f func() res) res {
	r1 := f()
	if !r1.ok {
		return r1
	}
	e1 := p.err
	return p.seq(r1, e1, p.many(f))
}

// alt is Parsec's <|> chained left to right.
func (p *parser) alt(fs ...func() res) res {
	start := p.pos
	var saved perr
	for i, f := range fs {
		r := f()
		if i > 0 {
			p.mergeWith(saved, r)
		}
		if r.ok || r.c {
			return r
		}
		p.pos = start
		saved = p.err
	}
	return res{}
}

// tryF is Parsec's try.
func (p *parser) tryF(f func() res) res {
	start := p.pos
	return p.try(start, f())
}

// seqF runs rules in sequence (>>), merging errors as Parsec's bind does.
func (p *parser) seqF(fs ...func() res) res {
	acc := res{ok: true}
	var saved perr
	for i, f := range fs {
		r := f()
		if i > 0 {
			r = p.seq(acc, saved, r)
		}
		if !r.ok {
			return r
		}
		acc = r
		saved = p.err
	}
	return acc
}

// option is Parsec's option/optionMaybe/optional: f <|> return x. It reports whether f succeeded.
func (p *parser) option(f func() res) (res, bool) {
	start := p.pos
	r := f()
	if r.ok || r.c {
		return r, r.ok
	}
	p.pos = start
	if p.track {
		// return x: empty ok with an unknown error, merged with f's error
		p.err = merge(p.err, perr{pos: p.pos})
	}
	return res{ok: true}, false
}

// sepBy1 is Parsec's sepBy1 p sep = do { x <- p; xs <- many (sep >> p) }.
func (p *parser) sepBy1(item, sep func() res) res {
	r1 := item()
	if !r1.ok {
		return r1
	}
	e1 := p.err
	rm := p.many(func() res { return p.seqF(sep, item) })
	return p.seq(r1, e1, rm)
}

// lexeme is PostgREST's lexeme: ws *> f <* ws.
func (p *parser) lexeme(f func() res) res {
	return p.seqF(p.ws, f, p.ws)
}

// ws is many (oneOf " \t").
func (p *parser) ws() res {
	start := p.pos
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
	if p.track {
		p.sysHere("")
	}
	return res{c: p.pos > start, ok: true}
}

// sysHere sets the error of a failed satisfy at the current position (with an optional expect label).
func (p *parser) sysHere(expect string) {
	_, w := p.peek()
	shown := ""
	if w > 0 {
		shown = showString(p.s[p.pos : p.pos+w])
	}
	p.failSys(p.pos, shown, expect)
}
