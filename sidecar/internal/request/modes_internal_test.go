package request

import "testing"

// FuzzGrammarModes checks that the untracked (fast) and tracked (error-building) runs of every rule agree
// on success, consumption and end position: the tracked run is only ever used to explain a failure.
func FuzzGrammarModes(f *testing.F) {
	for _, s := range []string{
		"id,name,price", "a(b(c)),...d!h!inner(*),x:y::int,count(),p.sum()::int", "id,,", "data->>-78xy", "data->>--34",
		"a.desc.nullslast,b(c).asc", "id.asc.nullslasttt", "or(a.eq.1,and(b.gt.2,c.not.is.null))", "or()",
		"not.in.(1,\"a,b\",)", "eq(any).{1,2}", "fts(english).x", "is.NOT_NULL", "isdistinct.1", "\"a\\\"b\"->c->>0",
		"a-b->c-d", "a\t,\tb", "\"unterminated", "x->(", "t!leftover(*)", "count(id)", "{a,b}", "a.eq.\"x\")",
	} {
		f.Add(s)
	}
	rules := []func(p *parser) res{
		func(p *parser) res { _, r := p.fieldForest(0); return r },
		func(p *parser) res { _, r := p.order(); return r },
		func(p *parser) res { _, r := p.logicTree(0); return r },
		func(p *parser) res { _, r := p.columns(); return r },
		func(p *parser) res { _, _, r := p.treePath(); return r },
		func(p *parser) res { var c Condition; return p.opExpr(singleVal, &c) },
		func(p *parser) res { var c Condition; return p.opExpr(logicVal, &c) },
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i, rule := range rules {
			fast := parser{s: s}
			slow := parser{s: s, track: true}
			rf, rs := rule(&fast), rule(&slow)
			if rf != rs || (rf.ok && fast.pos != slow.pos) {
				t.Fatalf("rule %d on %q: fast %+v@%d, tracked %+v@%d", i, s, rf, fast.pos, rs, slow.pos)
			}
			if !rs.ok {
				_, details := render("x", s, slow.err)
				if details == "" {
					t.Fatalf("rule %d on %q: empty error details", i, s)
				}
			}
		}
	})
}
