package schemacache

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// colRef is a column of a relation by OID and attribute number.
type colRef struct {
	rel uint32
	col int
}

// viewColumnOrigins parses a view's _RETURN rule (pg_rewrite.ev_action as text, a pg_node_tree) and returns,
// for each column of the view (by resno), the table column it is taken from unchanged (resorigtbl and
// resorigcol of the top-level query's target list). Computed columns have no origin and are left out.
// This is the information PostgREST extracts with its allViewsKeyDependencies query.
func viewColumnOrigins(tree string) (map[int]colRef, error) {
	p := &nodeParser{s: tree}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	if len(v.list) == 0 || v.list[0].node == nil {
		return nil, errors.New("rewrite action is not a list of queries")
	}
	q := v.list[0].node
	out := map[int]colRef{}
	for _, te := range q.field("targetList").list {
		n := te.node
		if n == nil || n.typ != "TARGETENTRY" {
			continue
		}
		if n.field("resjunk").tok == "true" {
			continue
		}
		resno, err1 := strconv.Atoi(n.field("resno").tok)
		tbl, err2 := strconv.ParseUint(n.field("resorigtbl").tok, 10, 32)
		col, err3 := strconv.Atoi(n.field("resorigcol").tok)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("malformed target entry %d", resno)
		}
		if tbl != 0 && col > 0 {
			out[resno] = colRef{uint32(tbl), col}
		}
	}
	return out, nil
}

// pnode is a parsed pg_node_tree node: {TYPE :field value ...}.
type pnode struct {
	typ    string
	fields map[string]pval
}

func (n *pnode) field(name string) pval { return n.fields[name] }

// pval is a token, a node or a list.
type pval struct {
	tok  string
	node *pnode
	list []pval
}

// nodeParser reads PostgreSQL's node-tree text format (see src/backend/nodes/read.c): tokens are separated
// by whitespace, ( ) { } are tokens of their own, and a backslash escapes the next character.
type nodeParser struct {
	s   string
	pos int
}

// next returns the next raw token without consuming it.
func (p *nodeParser) peek() (tok string, end int) {
	i := p.pos
	for i < len(p.s) && (p.s[i] == ' ' || p.s[i] == '\n' || p.s[i] == '\t') {
		i++
	}
	if i >= len(p.s) {
		return "", i
	}
	switch p.s[i] {
	case '(', ')', '{', '}':
		return p.s[i : i+1], i + 1
	}
	j := i
	for j < len(p.s) {
		ch := p.s[j]
		if ch == ' ' || ch == '\n' || ch == '\t' || ch == '(' || ch == ')' || ch == '{' || ch == '}' {
			break
		}
		if ch == '\\' && j+1 < len(p.s) {
			j++
		}
		j++
	}
	return p.s[i:j], j
}

func (p *nodeParser) token() string {
	tok, end := p.peek()
	p.pos = end
	return tok
}

func (p *nodeParser) value() (pval, error) {
	tok := p.token()
	switch tok {
	case "":
		return pval{}, errors.New("unexpected end of node tree")
	case "{":
		n, err := p.node()
		return pval{node: n}, err
	case "(":
		var list []pval
		for {
			t, _ := p.peek()
			if t == ")" {
				p.token()
				return pval{list: list}, nil
			}
			v, err := p.value()
			if err != nil {
				return pval{}, err
			}
			list = append(list, v)
		}
	case ")", "}":
		return pval{}, fmt.Errorf("unexpected %q at offset %d", tok, p.pos)
	}
	return pval{tok: unescapeToken(tok)}, nil
}

func (p *nodeParser) node() (*pnode, error) {
	n := &pnode{typ: p.token(), fields: map[string]pval{}}
	for {
		t, _ := p.peek()
		switch {
		case t == "":
			return nil, errors.New("unterminated node")
		case t == "}":
			p.token()
			return n, nil
		case strings.HasPrefix(t, ":"):
			p.token()
			// A field has at least one value (which may itself start with ':', e.g. a column named ":x");
			// a few (constvalue) have several tokens, kept as the first one here.
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			for {
				t2, _ := p.peek()
				if t2 == "" || t2 == "}" || strings.HasPrefix(t2, ":") {
					break
				}
				if _, err := p.value(); err != nil {
					return nil, err
				}
			}
			n.fields[t[1:]] = v
		default:
			// Stray token (should not happen): skip it.
			if _, err := p.value(); err != nil {
				return nil, err
			}
		}
	}
}

func unescapeToken(t string) string {
	if !strings.Contains(t, `\`) {
		return t
	}
	var sb strings.Builder
	for i := 0; i < len(t); i++ {
		if t[i] == '\\' && i+1 < len(t) {
			i++
		}
		sb.WriteByte(t[i])
	}
	return sb.String()
}
