package request

import (
	"strings"
	"unicode"
)

// The rules below mirror PostgREST's src/PostgREST/ApiRequest/QueryParams.hs (names in comments).

const (
	lblFieldName = "field name (* or [a..z0..9_$])"
	lblJSONKey   = "any non reserved character different from: .,>()"
	lblDelim     = "delimiter (.)"
	lblOperator  = "operator (eq, gt, ...)"
	lblIsVal     = "isVal: (null, not_null, true, false, unknown)"
	lblNot       = "negation operator (not)"
	lblLogicOp   = "logic operator (and, or)"
	lblSimpleOp  = "unknown single value operator"
)

func isLetter(r rune) bool {
	if r < 0x80 {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	return unicode.IsLetter(r)
}

// identChar is pIdentifierChar: letter <|> digit <|> oneOf "_ $".
func (p *parser) identChar() res {
	c, w := p.peek()
	if w > 0 && (isLetter(c) || c >= '0' && c <= '9' || c == '_' || c == ' ' || c == '$') {
		p.pos += w
		if p.track {
			p.unknownErr()
		}
		return res{c: true, ok: true}
	}
	if p.track {
		p.sysHere("letter")
		p.err.msgs = append(p.err.msgs, pmsg{kExpect, "digit"})
	}
	return res{}
}

// identifier is pIdentifier: T.strip <$> many1 pIdentifierChar.
func (p *parser) identifier() (string, res) {
	start := p.pos
	r := p.many1(p.identChar)
	if !r.ok {
		return "", r
	}
	return strings.Trim(p.s[start:p.pos], " "), r
}

// jsonKeyChar is noneOf "(-:.,>)".
func (p *parser) jsonKeyChar() res {
	c, w := p.peek()
	if w > 0 && !strings.ContainsRune("(-:.,>)", c) {
		p.pos += w
		if p.track {
			p.unknownErr()
		}
		return res{c: true, ok: true}
	}
	if p.track {
		p.sysHere("")
	}
	return res{}
}

// jsonKeyIdentifier is pJsonKeyIdentifier: T.strip <$> many1 (noneOf "(-:.,>)").
func (p *parser) jsonKeyIdentifier() (string, res) {
	start := p.pos
	r := p.many1(p.jsonKeyChar)
	if !r.ok {
		return "", r
	}
	return strings.TrimSpace(p.s[start:p.pos]), r
}

// dash is try (char '-' >> notFollowedBy (char '>')).
func (p *parser) dash() res {
	return p.tryF(func() res {
		return p.seqF(func() res { return p.char('-') }, func() res { return p.notFollowedByChar('>') })
	})
}

// sepByDash is sepByDash: T.intercalate "-" <$> (ident `sepBy1` dash).
func (p *parser) sepByDash(ident func() (string, res)) (string, res) {
	var first string
	var rest []string
	n := 0
	r := p.sepBy1(func() res {
		v, r := ident()
		if r.ok {
			if n == 0 {
				first = v
			} else {
				rest = append(rest, v)
			}
			n++
		}
		return r
	}, p.dash)
	if !r.ok {
		return "", r
	}
	if len(rest) == 0 {
		return first, r
	}
	return first + "-" + strings.Join(rest, "-"), r
}

// quoted is pQuotedValue: char '"' *> many (noneOf "\\\"" <|> (char '\\' *> anyChar)) <* char '"'.
func (p *parser) quoted() (string, res) {
	if p.pos >= len(p.s) || p.s[p.pos] != '"' {
		p.char('"')
		return "", res{}
	}
	p.pos++
	start := p.pos
	escaped := false
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '"' {
			raw := p.s[start:p.pos]
			p.pos++
			if p.track {
				p.unknownErr()
			}
			if escaped {
				raw = unescapeBackslashes(raw)
			}
			return raw, res{c: true, ok: true}
		}
		if c == '\\' {
			escaped = true
			if p.pos+1 >= len(p.s) {
				p.pos++
				p.failSys(p.pos, "", "")
				return "", res{c: true}
			}
			_, w := p.peekAt(p.pos + 1)
			p.pos += 1 + w
			continue
		}
		_, w := p.peek()
		p.pos += w
	}
	// end of input: noneOf / char '\\' failed (many ends), then char '"' fails
	if p.track {
		p.err = perr{pos: p.pos, msgs: []pmsg{{kSysUnexpect, ""}, {kSysUnexpect, ""}, {kExpect, `"\\"`}, {kSysUnexpect, ""}, {kExpect, `"\""`}}}
	}
	return "", res{c: true}
}

func (p *parser) peekAt(i int) (rune, int) {
	save := p.pos
	p.pos = i
	r, w := p.peek()
	p.pos = save
	return r, w
}

func unescapeBackslashes(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// fieldName is pFieldName: pQuotedValue <|> sepByDash pIdentifier <?> "field name (* or [a..z0..9_$])".
func (p *parser) fieldName() (string, res) {
	var name string
	r := p.alt(
		func() res { v, r := p.quoted(); name = v; return r },
		func() res { v, r := p.sepByDash(p.identifier); name = v; return r },
	)
	return cutNul(name), p.label(r, lblFieldName)
}

// jsonKeyName is pJsonKeyName.
func (p *parser) jsonKeyName() (string, res) {
	var name string
	r := p.alt(
		func() res { v, r := p.quoted(); name = v; return r },
		func() res { v, r := p.sepByDash(p.jsonKeyIdentifier); name = v; return r },
	)
	return cutNul(name), p.label(r, lblJSONKey)
}

// jsonEnd is pEnd of pJsonOperand.
func (p *parser) jsonEnd() res {
	return p.alt(
		func() res { return p.lookAheadStr("->") },
		func() res { return p.lookAheadStr("::") },
		func() res { return p.lookAheadStr(".") },
		func() res { return p.lookAheadStr(",") },
		func() res { return p.tryF(p.eofP) },
	)
}

// jsonPath is pJsonPath: many (pJsonArrow <*> pJsonOperand).
func (p *parser) jsonPath() ([]JSONOp, res) {
	var ops []JSONOp
	r := p.many(func() res {
		var op JSONOp
		r := p.seqF(
			func() res {
				return p.alt(
					func() res { r := p.tryF(func() res { return p.str("->>") }); op.Text = r.ok; return r },
					func() res { return p.tryF(func() res { return p.str("->") }) },
				)
			},
			func() res {
				return p.alt(
					func() res { // try pJIdx
						return p.tryF(func() res {
							start := p.pos
							neg := false
							r := p.seqF(
								func() res {
									r, ok := p.option(func() res { return p.char('-') })
									neg = ok
									return r
								},
								func() res { return p.many1(p.digit) },
								p.jsonEnd,
							)
							if r.ok {
								op.Index = true
								op.Key = p.s[start:p.pos]
								if !neg {
									op.Key = strings.TrimPrefix(op.Key, "+")
								}
							}
							return r
						})
					},
					func() res { // try pJKey
						return p.tryF(func() res {
							v, r := p.jsonKeyName()
							op.Key, op.Index = v, false
							return r
						})
					},
				)
			},
		)
		if r.ok {
			ops = append(ops, op)
		}
		return r
	})
	return ops, r
}

// digit is Parsec's digit.
func (p *parser) digit() res {
	if p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
		if p.track {
			p.unknownErr()
		}
		return res{c: true, ok: true}
	}
	if p.track {
		p.sysHere("digit")
	}
	return res{}
}

// field is pField: lexeme $ (,) <$> pFieldName <*> option [] pJsonPath.
func (p *parser) field() (Field, res) {
	var f Field
	r := p.lexeme(func() res {
		return p.seqF(
			func() res { v, r := p.fieldName(); f.Name = v; return r },
			func() res { r, _ := p.option(func() res { v, r := p.jsonPath(); f.JSONPath = v; return r }); return r },
		)
	})
	return f, r
}

// aliasSep is aliasSeparator: char ':' >> notFollowedBy (char ':').
func (p *parser) aliasSep() res {
	return p.seqF(func() res { return p.char(':') }, func() res { return p.notFollowedByChar(':') })
}

// alias is optionMaybe (try (pFieldName <* aliasSeparator)).
func (p *parser) alias(out *string) res {
	r, _ := p.option(func() res {
		return p.tryF(func() res {
			var v string
			r := p.seqF(func() res { var r res; v, r = p.fieldName(); return r }, p.aliasSep)
			if r.ok {
				*out = v
			}
			return r
		})
	})
	return r
}

// selectEnd is pEnd of pFieldSelect.
func (p *parser) selectEnd() res {
	return p.alt(
		func() res { return p.lookAheadStr(")") },
		func() res { return p.lookAheadStr(",") },
		func() res { return p.tryF(p.eofP) },
	)
}

// fieldForest is pFieldForest: pFieldTree `sepBy` lexeme (char ',').
func (p *parser) fieldForest(depth int) ([]SelectItem, res) {
	items := []SelectItem{}
	if depth == 0 {
		items = make([]SelectItem, 0, strings.Count(p.s, ",")+1)
	}
	if depth > maxDepth {
		return nil, p.fail("select nesting too deep")
	}
	tree := func() res {
		var it SelectItem
		var sub []SelectItem
		children := func() res {
			return p.seqF(
				func() res { return p.char('(') },
				func() res { var r res; sub, r = p.fieldForest(depth + 1); return r },
				func() res { return p.char(')') },
			)
		}
		r := p.alt(
			func() res {
				it = SelectItem{}
				return p.seqF(func() res { return p.tryF(func() res { return p.spreadSelect(&it) }) }, children)
			},
			func() res {
				it = SelectItem{}
				return p.seqF(func() res { return p.tryF(func() res { return p.relationSelect(&it) }) }, children)
			},
			func() res { it = SelectItem{}; return p.fieldSelect(&it) },
		)
		if r.ok {
			if it.Embed != nil {
				it.Embed.Select = sub
			}
			items = append(items, it)
		}
		return r
	}
	sep := func() res { return p.lexeme(func() res { return p.char(',') }) }
	r, _ := p.option(func() res { return p.sepBy1(tree, sep) })
	return items, r
}

const maxDepth = 64

// relationSelect is pRelationSelect (without the surrounding try).
func (p *parser) relationSelect(it *SelectItem) res {
	var e Embed
	r := p.lexeme(func() res {
		return p.seqF(
			func() res { return p.alias(&it.Alias) },
			func() res {
				v, r := p.fieldName()
				e.Name = v
				if r.ok && v == "count" { // guard (name /= "count")
					if p.track {
						p.err = merge(p.err, perr{pos: p.pos})
					}
					return res{c: r.c}
				}
				return r
			},
			func() res { return p.embedParams(&e) },
			func() res { return p.lookAheadStr("(") },
		)
	})
	if r.ok {
		ec := e
		it.Embed = &ec
	}
	return r
}

// spreadSelect is pSpreadRelationSelect (without the surrounding try).
func (p *parser) spreadSelect(it *SelectItem) res {
	e := Embed{Spread: true}
	r := p.lexeme(func() res {
		return p.seqF(
			func() res { return p.str("...") },
			func() res { v, r := p.fieldName(); e.Name = v; return r },
			func() res { return p.embedParams(&e) },
			func() res { return p.lookAheadStr("(") },
		)
	})
	if r.ok {
		ec := e
		it.Embed = &ec
	}
	return r
}

// embedParams is pEmbedParams: two optional !hint / !inner / !left.
func (p *parser) embedParams(e *Embed) res {
	hint, join := "", ""
	param := func() res {
		return p.seqF(
			func() res { return p.char('!') },
			func() res {
				return p.alt(
					func() res {
						r := p.tryF(func() res { return p.str("left") })
						if r.ok && join == "" {
							join = "left"
						}
						return r
					},
					func() res {
						r := p.tryF(func() res { return p.str("inner") })
						if r.ok && join == "" {
							join = "inner"
						}
						return r
					},
					func() res {
						return p.tryF(func() res {
							v, r := p.fieldName()
							if r.ok && hint == "" {
								hint = v
							}
							return r
						})
					},
				)
			},
		)
	}
	r := p.seqF(
		func() res { r, _ := p.option(param); return r },
		func() res { r, _ := p.option(param); return r },
	)
	if r.ok {
		e.Hint, e.Join = hint, join
	}
	return r
}

// fieldSelect is pFieldSelect.
func (p *parser) fieldSelect(it *SelectItem) res {
	return p.lexeme(func() res {
		return p.alt(
			func() res { // try (pStar; pEnd)
				return p.tryF(func() res {
					r := p.seqF(func() res { return p.char('*') }, p.selectEnd)
					if r.ok {
						*it = SelectItem{Star: true}
					}
					return r
				})
			},
			func() res { // try (alias; "count()"; aggCast; pEnd)
				return p.tryF(func() res {
					var alias, aggCast string
					r := p.seqF(
						func() res { return p.alias(&alias) },
						func() res { return p.str("count()") },
						func() res { return p.castOpt(&aggCast) },
						p.selectEnd,
					)
					if r.ok {
						*it = SelectItem{Alias: alias, Aggregate: "count", AggregateCast: aggCast}
					}
					return r
				})
			},
			func() res {
				var alias, cast, agg, aggCast string
				var f Field
				r := p.seqF(
					func() res { return p.alias(&alias) },
					func() res { var r res; f, r = p.field(); return r },
					func() res { return p.castOpt(&cast) },
					func() res {
						r, _ := p.option(func() res {
							return p.tryF(func() res {
								return p.seqF(
									func() res { return p.char('.') },
									func() res { var r res; agg, r = p.aggregation(); return r },
									func() res { return p.str("()") },
								)
							})
						})
						return r
					},
					func() res { return p.castOpt(&aggCast) },
					p.selectEnd,
				)
				if r.ok {
					*it = SelectItem{Field: f, Alias: alias, Cast: cast, Aggregate: agg, AggregateCast: aggCast}
				}
				return r
			},
		)
	})
}

// castOpt is optionMaybe (string "::" *> pIdentifier).
func (p *parser) castOpt(out *string) res {
	r, _ := p.option(func() res {
		return p.seqF(
			func() res { return p.str("::") },
			func() res { v, r := p.identifier(); *out = v; return r },
		)
	})
	return r
}

// aggregation is pAggregation.
func (p *parser) aggregation() (string, res) {
	var agg string
	r := p.alt(
		func() res { r := p.str("sum"); agg = "sum"; return r },
		func() res { r := p.str("avg"); agg = "avg"; return r },
		func() res { r := p.str("count"); agg = "count"; return r },
		func() res { r := p.tryF(func() res { return p.str("max") }); agg = "max"; return r },
		func() res { r := p.tryF(func() res { return p.str("min") }); agg = "min"; return r },
	)
	return agg, r
}

// treePath is pTreePath: pFieldName `sepBy1` pDelimiter, then option [] pJsonPath.
func (p *parser) treePath() ([]string, Field, res) {
	var names []string
	var f Field
	r := p.seqF(
		func() res {
			return p.sepBy1(
				func() res {
					v, r := p.fieldName()
					if r.ok {
						names = append(names, v)
					}
					return r
				},
				p.delim,
			)
		},
		func() res { r, _ := p.option(func() res { v, r := p.jsonPath(); f.JSONPath = v; return r }); return r },
	)
	if !r.ok {
		return nil, f, r
	}
	f.Name = names[len(names)-1]
	if len(names) == 1 {
		return nil, f, r
	}
	return names[: len(names)-1 : len(names)-1], f, r
}

// delim is pDelimiter: char '.' <?> "delimiter (.)".
func (p *parser) delim() res { return p.label(p.char('.'), lblDelim) }

// valMode selects pSingleVal (rest of input) or pLogicSingleVal (inside or=(...)).
type valMode uint8

const (
	singleVal valMode = iota
	logicVal
)

// opExpr is pOpExpr.
func (p *parser) opExpr(mode valMode, c *Condition) res {
	return p.seqF(
		func() res {
			return p.alt(
				func() res {
					r := p.tryF(func() res { return p.seqF(func() res { return p.str("not") }, p.delim) })
					c.Negate = r.ok
					return r
				},
				func() res { return res{ok: true} },
			)
		},
		func() res { return p.label(p.operation(mode, c), lblOperator) },
	)
}

func (p *parser) value(mode valMode, c *Condition) res {
	if mode == singleVal {
		c.Value = p.s[p.pos:]
		p.pos = len(p.s)
		if p.track {
			p.err = perr{pos: p.pos, msgs: []pmsg{{kSysUnexpect, ""}}}
		}
		return res{c: c.Value != "", ok: true}
	}
	v, r := p.logicSingleVal()
	c.Value = v
	return r
}

// operation is pOperation: pIn <|> pIs <|> pIsDist <|> try pFts <|> try pSimpleOp <|> try pQuantOp.
func (p *parser) operation(mode valMode, c *Condition) res {
	return p.alt(
		func() res { // pIn
			return p.seqF(
				func() res { return p.tryF(func() res { return p.seqF(func() res { return p.str("in") }, p.delim) }) },
				func() res {
					c.Op = "in"
					list, r := p.listVal()
					c.List = list
					return r
				},
			)
		},
		func() res { // pIs
			return p.seqF(
				func() res { return p.tryF(func() res { return p.seqF(func() res { return p.str("is") }, p.delim) }) },
				func() res { c.Op = "is"; return p.isVal(c) },
			)
		},
		func() res { // pIsDist
			return p.seqF(
				func() res {
					return p.tryF(func() res { return p.seqF(func() res { return p.str("isdistinct") }, p.delim) })
				},
				func() res { c.Op = "isdistinct"; return p.value(mode, c) },
			)
		},
		func() res { return p.tryF(func() res { return p.fts(mode, c) }) },
		func() res { return p.tryF(func() res { return p.simpleOp(mode, c) }) },
		func() res { return p.tryF(func() res { return p.quantOp(mode, c) }) },
	)
}

var simpleOps = [...]string{"neq", "cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj"}
var quantOps = [...]string{"eq", "gte", "gt", "lte", "lt", "like", "ilike", "match", "imatch"}
var ftsOps = [...]string{"fts", "plfts", "phfts", "wfts"}

// strChoice is try (string a) <|> try (string b) <|> ... returning the matched alternative.
func (p *parser) strChoice(opts []string, out *string) res {
	start := p.pos
	var saved perr
	for i, o := range opts {
		r := p.try(start, p.str(o))
		if i > 0 {
			p.mergeWith(saved, r)
		}
		if r.ok {
			*out = o
			return r
		}
		saved = p.err
	}
	return res{}
}

// simpleOp is pSimpleOp.
func (p *parser) simpleOp(mode valMode, c *Condition) res {
	return p.seqF(
		func() res { return p.label(p.strChoice(simpleOps[:], &c.Op), lblSimpleOp) },
		p.delim,
		func() res { return p.value(mode, c) },
	)
}

// quantOp is pQuantOp.
func (p *parser) quantOp(mode valMode, c *Condition) res {
	return p.seqF(
		func() res { return p.label(p.strChoice(quantOps[:], &c.Op), lblSimpleOp) },
		func() res {
			r, _ := p.option(func() res {
				return p.tryF(func() res {
					return p.seqF(
						func() res { return p.char('(') },
						func() res {
							return p.alt(
								func() res {
									r := p.tryF(func() res { return p.str("any") })
									if r.ok {
										c.Quant = "any"
									}
									return r
								},
								func() res {
									r := p.str("all")
									if r.ok {
										c.Quant = "all"
									}
									return r
								},
							)
						},
						func() res { return p.char(')') },
					)
				})
			})
			return r
		},
		p.delim,
		func() res { return p.value(mode, c) },
	)
}

// fts is pFts.
func (p *parser) fts(mode valMode, c *Condition) res {
	return p.seqF(
		func() res { return p.strChoice(ftsOps[:], &c.Op) },
		func() res {
			r, _ := p.option(func() res {
				return p.tryF(func() res {
					return p.seqF(
						func() res { return p.char('(') },
						func() res { v, r := p.identifier(); c.Lang = v; return r },
						func() res { return p.char(')') },
					)
				})
			})
			return r
		},
		p.delim,
		func() res { return p.value(mode, c) },
	)
}

// isVal is pIsVal.
func (p *parser) isVal(c *Condition) res {
	opts := [...]string{"null", "not_null", "true", "false", "unknown"}
	start := p.pos
	var saved perr
	for i, o := range opts {
		r := p.try(start, p.ciStr(o))
		if i > 0 {
			p.mergeWith(saved, r)
		}
		if r.ok {
			c.Value = o
			return r
		}
		saved = p.err
	}
	return p.label(res{}, lblIsVal)
}

// listVal is pListVal: lexeme (char '(') *> pListElement `sepBy1` char ',' <* lexeme (char ')').
func (p *parser) listVal() ([]string, res) {
	var list []string
	r := p.seqF(
		func() res { return p.lexeme(func() res { return p.char('(') }) },
		func() res {
			return p.sepBy1(func() res {
				v, r := p.listElement()
				if r.ok {
					list = append(list, v)
				}
				return r
			}, func() res { return p.char(',') })
		},
		func() res { return p.lexeme(func() res { return p.char(')') }) },
	)
	return list, r
}

// noneOfCommaParen is many (noneOf ",)").
func (p *parser) noneOfCommaParen() (string, res) {
	start := p.pos
	for p.pos < len(p.s) && p.s[p.pos] != ',' && p.s[p.pos] != ')' {
		p.pos++
	}
	if p.track {
		p.sysHere("")
	}
	return p.s[start:p.pos], res{c: p.pos > start, ok: true}
}

// quotedNotFollowed is try (pQuotedValue <* notFollowedBy (noneOf ",)")).
func (p *parser) quotedNotFollowed(out *string) res {
	return p.tryF(func() res {
		return p.seqF(
			func() res { v, r := p.quoted(); *out = v; return r },
			func() res {
				// notFollowedBy (noneOf ",)")
				if p.pos < len(p.s) && p.s[p.pos] != ',' && p.s[p.pos] != ')' {
					if p.track {
						_, w := p.peek()
						p.err = perr{pos: p.pos + w, msgs: []pmsg{{kUnexpect, showChar(p.s[p.pos : p.pos+w])}}}
					}
					return res{}
				}
				if p.track {
					p.sysHere("")
				}
				return res{ok: true}
			},
		)
	})
}

// listElement is pListElement.
func (p *parser) listElement() (string, res) {
	var v string
	r := p.alt(
		func() res { return p.quotedNotFollowed(&v) },
		func() res { var r res; v, r = p.noneOfCommaParen(); return r },
	)
	return v, r
}

// logicSingleVal is pLogicSingleVal.
func (p *parser) logicSingleVal() (string, res) {
	var v string
	r := p.alt(
		func() res { return p.quotedNotFollowed(&v) },
		func() res { // try pPgArray
			return p.tryF(func() res {
				start := p.pos
				r := p.seqF(
					func() res { return p.char('{') },
					func() res {
						s := p.pos
						for p.pos < len(p.s) && p.s[p.pos] != '{' && p.s[p.pos] != '}' {
							p.pos++
						}
						if p.track {
							p.sysHere("")
						}
						return res{c: p.pos > s, ok: true}
					},
					func() res { return p.char('}') },
				)
				if r.ok {
					v = p.s[start:p.pos]
				}
				return r
			})
		},
		func() res { var r res; v, r = p.noneOfCommaParen(); return r },
	)
	return v, r
}

// order is pOrder: lexeme (try pOrderRelationTerm <|> pOrderTerm) `sepBy1` char ','.
func (p *parser) order() ([]OrderTerm, res) {
	var terms []OrderTerm
	r := p.sepBy1(func() res {
		var t OrderTerm
		r := p.lexeme(func() res {
			return p.alt(
				func() res {
					t = OrderTerm{}
					return p.tryF(func() res {
						return p.seqF(
							func() res { v, r := p.fieldName(); t.Relation = v; return r },
							func() res { return p.char('(') },
							func() res { var r res; t.Field, r = p.field(); return r },
							func() res { return p.char(')') },
							func() res { return p.orderTail(&t) },
						)
					})
				},
				func() res {
					t = OrderTerm{}
					return p.seqF(
						func() res { var r res; t.Field, r = p.field(); return r },
						func() res { return p.orderTail(&t) },
					)
				},
			)
		})
		if r.ok {
			terms = append(terms, t)
		}
		return r
	}, func() res { return p.char(',') })
	return terms, r
}

// orderTail is: dir <- optionMaybe pOrdDir; nls <- optionMaybe pNulls <* pEnd <|> pEnd $> Nothing.
func (p *parser) orderTail(t *OrderTerm) res {
	end := func() res {
		return p.alt(
			func() res { return p.lookAheadStr(",") },
			func() res { return p.tryF(p.eofP) },
		)
	}
	return p.seqF(
		func() res {
			r, _ := p.option(func() res {
				return p.alt(
					func() res {
						r := p.tryF(func() res { return p.seqF(p.delim, func() res { return p.str("asc") }) })
						return r
					},
					func() res {
						r := p.tryF(func() res { return p.seqF(p.delim, func() res { return p.str("desc") }) })
						t.Desc = r.ok
						return r
					},
				)
			})
			return r
		},
		func() res {
			return p.alt(
				func() res {
					return p.seqF(
						func() res {
							r, _ := p.option(func() res {
								return p.alt(
									func() res {
										r := p.tryF(func() res { return p.seqF(p.delim, func() res { return p.str("nullsfirst") }) })
										if r.ok {
											t.Nulls = "first"
										}
										return r
									},
									func() res {
										r := p.tryF(func() res { return p.seqF(p.delim, func() res { return p.str("nullslast") }) })
										if r.ok {
											t.Nulls = "last"
										}
										return r
									},
								)
							})
							return r
						},
						end,
					)
				},
				func() res { t.Nulls = ""; return end() },
			)
		},
	)
}

// logicTree is pLogicTree.
func (p *parser) logicTree(depth int) (LogicNode, res) {
	var node LogicNode
	if depth > maxDepth {
		return node, p.fail("logic tree nesting too deep")
	}
	r := p.alt(
		func() res { // Stmnt <$> try pLogicFilter
			return p.tryF(func() res {
				f := &Filter{}
				r := p.seqF(
					func() res { var r res; f.Field, r = p.field(); return r },
					p.delim,
					func() res { return p.opExpr(logicVal, &f.Cond) },
				)
				if r.ok {
					node = LogicNode{Filter: f}
				}
				return r
			})
		},
		func() res { // Expr <$> pNot <*> pLogicOp <*> (lexeme (char '(') *> pLogicTree `sepBy1` lexeme (char ',') <* lexeme (char ')'))
			l := &Logic{}
			r := p.seqF(
				func() res {
					r := p.alt(
						func() res {
							r := p.tryF(func() res { return p.seqF(func() res { return p.str("not") }, p.delim) })
							l.Negate = r.ok
							return r
						},
						func() res { return res{ok: true} },
					)
					return p.label(r, lblNot)
				},
				func() res {
					r := p.alt(
						func() res {
							r := p.tryF(func() res { return p.str("and") })
							return r
						},
						func() res {
							r := p.str("or")
							l.Or = r.ok
							return r
						},
					)
					return p.label(r, lblLogicOp)
				},
				func() res { return p.lexeme(func() res { return p.char('(') }) },
				func() res {
					return p.sepBy1(func() res {
						n, r := p.logicTree(depth + 1)
						if r.ok {
							l.Children = append(l.Children, n)
						}
						return r
					}, func() res { return p.lexeme(func() res { return p.char(',') }) })
				},
				func() res { return p.lexeme(func() res { return p.char(')') }) },
			)
			if r.ok {
				node = LogicNode{Logic: l}
			}
			return r
		},
	)
	return node, r
}

// columns is pColumns: pFieldName `sepBy1` lexeme (char ',').
func (p *parser) columns() ([]string, res) {
	var cols []string
	r := p.sepBy1(func() res {
		v, r := p.fieldName()
		if r.ok {
			cols = append(cols, v)
		}
		return r
	}, func() res { return p.lexeme(func() res { return p.char(',') }) })
	return cols, r
}

// cutNul is PostgREST's trimNullChars: an identifier ends at its first NUL.
func cutNul(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}
