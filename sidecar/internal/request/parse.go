package request

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pgway/pgway/internal/apierr"
)

// Notes for the stages that consume a Request:
//   - Select is nil when there is no select= (meaning "*"), and an empty non-nil slice for "select=".
//   - Input.Path is taken as already percent-decoded (as fasthttp's ctx.Path()); it is split on '/'.
//   - in.(...) items are always values (PostgREST quotes every item, so a bare null is the string "null");
//     ListNull is never set. any/all operands are parsed into List (Value keeps the raw literal).
//   - The Accept-Profile/Content-Profile schema, db-plan-enabled (MediaPlan) and db-tx-end (Prefer tx) are
//     checked against the config by the caller.

// selectCache keeps parsed select= trees by their text: applications send the same few selects with different
// filters, and the select grammar is the costliest part of parsing. Entries are immutable and shared; the cache
// stops growing at selectCacheMax distinct texts.
var (
	selectCache     sync.Map // string → []SelectItem
	selectCacheSize atomic.Int64
)

const selectCacheMax = 4096

// Parse turns a raw request into a Request, following PostgREST's ApiRequest: resource from the path
// (404 PGRST125), action from the method (405 PGRST117/PGRST101), query parameters (400 PGRST100),
// ranges (416 PGRST103), body media type (400 PGRST102), Accept negotiation (406 PGRST107) and the
// Prefer header (400 PGRST122 with handling=strict). Errors are always *apierr.Error.
func Parse(in Input) (*Request, error) {
	req := &Request{Method: in.Method, Head: in.Method == "HEAD", Body: in.Body}
	req.Prefer.MaxAffected = -1

	if err := req.route(in.Method, in.Path); err != nil {
		return nil, err
	}
	switch in.Method {
	case "DELETE", "PATCH", "POST", "PUT":
		req.Schema = cutNul(in.ContentProfile)
	default:
		req.Schema = cutNul(in.AcceptProfile)
	}
	req.ProfileGiven = req.Schema != ""

	rpcRead := req.Action == ActionCall && (in.Method == "GET" || in.Method == "HEAD")
	var buf [16]qparam
	params := splitQuery(in.Query, buf[:0])
	var p parser
	ranges, err := req.parseQuery(&p, params, rpcRead)
	if err != nil {
		return nil, err
	}
	if err := req.setRanges(&p, in, ranges); err != nil {
		return nil, err
	}
	if err := req.setContentType(in.ContentType); err != nil {
		return nil, err
	}
	if req.Action == ActionInsert || req.Action == ActionUpdate || req.Action == ActionUpsert {
		if err := req.parsePayload(); err != nil {
			return nil, err
		}
	}
	if req.Action == ActionCall && in.Method == "POST" {
		switch req.ContentType {
		case "application/json", "application/x-www-form-urlencoded", "text/csv":
			if len(strings.TrimSpace(string(req.Body))) == 0 && req.ContentType == "application/json" {
				req.Payload = &Payload{JSON: []byte("{}"), Object: true, Keys: []string{}}
			} else if err := req.parsePayload(); err != nil {
				return nil, err
			}
		}
	}
	parsePrefer(in.Prefer, &req.Prefer)
	strict := func() error {
		if req.Prefer.Handling == "strict" && len(req.Prefer.Unrecognized) > 0 {
			return apierr.New(http.StatusBadRequest, "PGRST122", "Invalid preferences given with handling=strict").
				WithDetails("Invalid preferences: " + strings.Join(req.Prefer.Unrecognized, ", "))
		}
		return nil
	}
	// PostgREST checks handling=strict in its plans: before negotiating for mutations, after it for reads
	// and calls, not at all for the root and OPTIONS.
	mutation := req.Action == ActionInsert || req.Action == ActionUpdate || req.Action == ActionUpsert || req.Action == ActionDelete
	if mutation {
		if err := strict(); err != nil {
			return nil, err
		}
	}
	if err := req.negotiate(in.Accept, true); err != nil {
		return nil, err
	}
	if req.Action == ActionRead || req.Action == ActionCall {
		if err := strict(); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// route sets Action and Relation from the method and path (PostgREST's getResource and getAction).
func (req *Request) route(method, path string) error {
	// decodePathSegments: drop one leading '/', split on '/'; "" and "/" have no segments.
	path = strings.TrimPrefix(path, "/")
	n := 0
	var segs [2]string
	if path != "" {
		n = strings.Count(path, "/") + 1
		if i := strings.IndexByte(path, '/'); i >= 0 {
			segs[0], segs[1] = path[:i], path[i+1:]
		} else {
			segs[0] = path
		}
	}
	switch {
	case n == 0:
		switch method {
		case "GET", "HEAD":
			req.Action = ActionSchema
		case "OPTIONS":
			req.Action = ActionInfo
		default:
			return unsupportedMethod(method)
		}
	case n == 1:
		req.Relation = cutNul(segs[0])
		switch method {
		case "GET", "HEAD":
			req.Action = ActionRead
		case "POST":
			req.Action = ActionInsert
		case "PUT":
			req.Action = ActionUpsert
		case "PATCH":
			req.Action = ActionUpdate
		case "DELETE":
			req.Action = ActionDelete
		case "OPTIONS":
			req.Action = ActionInfo
		default:
			return unsupportedMethod(method)
		}
	case n == 2 && segs[0] == "rpc":
		req.Relation = cutNul(segs[1])
		req.RPC = true
		switch method {
		case "GET", "HEAD", "POST":
			req.Action = ActionCall
		case "OPTIONS":
			req.Action = ActionInfo
		default:
			return apierr.New(http.StatusMethodNotAllowed, "PGRST101", "Cannot use the "+method+" method on RPC")
		}
	default:
		return apierr.New(http.StatusNotFound, "PGRST125", "Invalid path specified in request URL")
	}
	return nil
}

func unsupportedMethod(method string) error {
	return apierr.New(http.StatusMethodNotAllowed, "PGRST117", "Unsupported HTTP method: "+method)
}

// qpError is PostgREST's QueryParamError: 400 PGRST100 with Parsec's position and messages.
func qpError(name, input string, e perr) error {
	msg, details := render(name, input, e)
	return apierr.New(http.StatusBadRequest, "PGRST100", msg).WithDetails(details)
}

// run parses input with rule, untracked first and, on failure, again with error tracking.
func run(p *parser, name, input string, rule func(p *parser) res) error {
	*p = parser{s: input}
	if rule(p).ok {
		return nil
	}
	*p = parser{s: input, track: true}
	if rule(p).ok { // cannot happen: both runs take the same path
		return nil
	}
	return qpError(name, input, p.err)
}

// rawRange is a limit/offset query parameter pair for one embed path (key "limit" or "a.b.limit").
type rawRange struct {
	key           string
	limit, offset string
	hasL, hasO    bool
}

// parseQuery classifies and parses the query parameters (PostgREST's QueryParams.parse).
func (req *Request) parseQuery(p *parser, params []qparam, rpcRead bool) ([]rawRange, error) {
	var selectV, columnsV, onConflictV *string
	seenSelect, seenColumns, seenOnConflict := false, false, false
	var ranges []rawRange
	// first pass: reserved parameters (first occurrence wins, as L.lookup)
	for i := range params {
		q := &params[i]
		switch q.key {
		case "select":
			if !seenSelect {
				seenSelect = true
				if q.hasVal {
					selectV = &q.val
				}
			}
			continue
		case "columns":
			if !seenColumns {
				seenColumns = true
				if q.hasVal {
					columnsV = &q.val
				}
			}
			continue
		case "on_conflict":
			if !seenOnConflict {
				seenOnConflict = true
				if q.hasVal {
					onConflictV = &q.val
				}
			}
			continue
		}
	}
	// order
	for i := range params {
		q := &params[i]
		if !q.hasVal || lastSegment(q.key) != "order" {
			continue
		}
		path, err := parseTreePath(p, q.key)
		if err != nil {
			return nil, err
		}
		var terms []OrderTerm
		err = run(p, "failed to parse order ("+q.val+")", q.val, func(p *parser) res {
			var r res
			terms, r = p.order()
			return r
		})
		if err != nil {
			return nil, err
		}
		req.Order = append(req.Order, OrderSpec{Path: path, Terms: terms})
	}
	// logic
	for i := range params {
		q := &params[i]
		if !q.hasVal {
			continue
		}
		if ls := lastSegment(q.key); ls != "and" && ls != "or" {
			continue
		}
		l, err := parseLogic(p, q.key, q.val)
		if err != nil {
			return nil, err
		}
		req.Logic = append(req.Logic, l)
	}
	// columns
	if columnsV != nil {
		v := *columnsV
		err := run(p, "failed to parse columns parameter ("+v+")", v, func(p *parser) res {
			var r res
			req.Columns, r = p.columns()
			return r
		})
		if err != nil {
			return nil, err
		}
	}
	// select
	if selectV != nil {
		v := *selectV
		if cached, ok := selectCache.Load(v); ok {
			req.Select = cached.([]SelectItem)
		} else {
			// The tree keeps substrings of v, which may live in the server's request buffer: parse a copy
			// so the cached tree owns its strings.
			v = strings.Clone(v)
			err := run(p, "failed to parse select parameter ("+v+")", v, func(p *parser) res {
				var r res
				req.Select, r = p.fieldForest(0)
				return r
			})
			if err != nil {
				return nil, err
			}
			if selectCacheSize.Add(1) <= selectCacheMax {
				selectCache.Store(v, req.Select)
			}
		}
	}
	// filters (and RPC arguments)
	for i := range params {
		q := &params[i]
		if !q.hasVal {
			continue
		}
		switch lastSegment(q.key) {
		case "limit", "offset":
			k := q.key
			isLimit := lastSegment(k) == "limit"
			k = k[:len(k)-len(lastSegment(k))] + "limit"
			j := -1
			for x := range ranges {
				if ranges[x].key == k {
					j = x
					break
				}
			}
			if j < 0 {
				ranges = append(ranges, rawRange{key: k})
				j = len(ranges) - 1
			}
			if isLimit { // HM.fromList: the last one wins
				ranges[j].limit, ranges[j].hasL = q.val, true
			} else {
				ranges[j].offset, ranges[j].hasO = q.val, true
			}
			continue
		}
		if !isFilterKey(q.key) {
			continue
		}
		f, ok, err := parseFilter(p, q.key, q.val, rpcRead)
		if err != nil {
			return nil, err
		}
		if ok {
			req.Filters = append(req.Filters, f)
		} else if rpcRead {
			// A value that is not an operator expression is an argument (PostgREST's NoOpExpr).
			req.Params = append(req.Params, Param{Name: cutNul(q.key), Value: q.val})
		}
	}
	// on_conflict
	if onConflictV != nil {
		v := *onConflictV
		err := run(p, "failed to parse on_conflict parameter ("+v+")", v, func(p *parser) res {
			var r res
			req.OnConflict, r = p.columns()
			return r
		})
		if err != nil {
			return nil, err
		}
	}
	return ranges, nil
}

// isFilterKey reports whether a query parameter with a value and this key is a filter (or an RPC argument):
// any key but the reserved ones (Shape relies on it to number filters as parseQuery does).
func isFilterKey(k string) bool {
	switch k {
	case "select", "columns", "on_conflict":
		return false
	}
	switch lastSegment(k) {
	case "order", "and", "or", "limit", "offset":
		return false
	}
	return true
}

// parseTreePath parses a parameter key into its embed path (PostgREST's pTreePath, the field ignored).
func parseTreePath(p *parser, k string) ([]string, error) {
	if k == "order" || k == "limit" || k == "offset" {
		return nil, nil
	}
	var path []string
	err := run(p, "failed to parse tree path ("+k+")", k, func(p *parser) res {
		var r res
		path, _, r = p.treePath()
		return r
	})
	return path, err
}

// parseFilter parses key=value into a Filter. For RPC reads a value that is not an operator expression
// (and fails without consuming, as PostgREST's `pOpExpr pSingleVal <|> pure (NoOpExpr v)`) is not a filter.
func parseFilter(p *parser, k, v string, rpcRead bool) (Filter, bool, error) {
	var f Filter
	err := run(p, "failed to parse tree path ("+k+")", k, func(p *parser) res {
		var r res
		f.Path, f.Field, r = p.treePath()
		return r
	})
	if err != nil {
		return f, false, err
	}
	rule := func(p *parser) res {
		f.Cond = Condition{}
		return p.opExpr(singleVal, &f.Cond)
	}
	*p = parser{s: v}
	r := rule(p)
	if !r.ok {
		if rpcRead && !r.c {
			return f, false, nil
		}
		*p = parser{s: v, track: true}
		rule(p)
		return f, false, qpError("failed to parse filter ("+v+")", v, p.err)
	}
	if err := finishCond(&f.Cond); err != nil {
		return f, false, err
	}
	return f, true, nil
}

// finishCond normalises operands: in.() / in.("") is the empty list; any/all operands are array literals.
func finishCond(c *Condition) error {
	switch {
	case c.Op == "in":
		if len(c.List) == 1 && c.List[0] == "" {
			c.List = []string{}
		}
	case c.Quant != "":
		list, ok := parseArrayLiteral(c.Value)
		if !ok {
			return apierr.New(http.StatusBadRequest, "22P02", `malformed array literal: "`+c.Value+`"`).
				WithDetails(`Array value must start with "{" or dimension information.`)
		}
		c.List = list
	}
	return nil
}

// parseArrayLiteral splits a PostgreSQL array literal {a,"b c",d} into its items (nested braces flattened).
func parseArrayLiteral(v string) ([]string, bool) {
	v = strings.TrimSpace(v)
	if len(v) < 2 || v[0] != '{' || v[len(v)-1] != '}' {
		return nil, false
	}
	body := v[1 : len(v)-1]
	items := []string{}
	if strings.TrimSpace(body) == "" {
		return items, true
	}
	var b strings.Builder
	inQuote, quoted := false, false
	flush := func() {
		s := b.String()
		if !quoted {
			s = strings.TrimSpace(s)
		}
		items = append(items, s)
		b.Reset()
		quoted = false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && i+1 < len(body):
			i++
			b.WriteByte(body[i])
		case c == '"':
			inQuote = !inQuote
			quoted = true
		case c == ',' && !inQuote:
			flush()
		case (c == '{' || c == '}') && !inQuote: // multi-dimensional: ANY/ALL see the elements flattened
		default:
			b.WriteByte(c)
		}
	}
	if inQuote {
		return nil, false
	}
	flush()
	return items, true
}

// parseLogic parses [path.][not.]or|and = (...) (PostgREST's pLogicPath and pLogicTree).
func parseLogic(p *parser, k, v string) (Logic, error) {
	var names []string
	err := run(p, "failed to parse logic path ("+k+")", k, func(p *parser) res {
		names = names[:0]
		return p.sepBy1(func() res {
			n, r := p.fieldName()
			if r.ok {
				names = append(names, n)
			}
			return r
		}, p.delim)
	})
	if err != nil {
		return Logic{}, err
	}
	op := names[len(names)-1]
	var path []string
	neg := false
	for i, n := range names {
		if n == "not" {
			neg = true
			continue
		}
		if i < len(names)-1 {
			path = append(path, n)
		}
	}
	if neg {
		op = "not." + op
	}
	input := op + v
	var node LogicNode
	err = run(p, "failed to parse logic tree ("+v+")", input, func(p *parser) res {
		var r res
		node, r = p.logicTree(0)
		return r
	})
	if err != nil {
		return Logic{}, err
	}
	if err := finishNode(&node); err != nil {
		return Logic{}, err
	}
	if node.Logic == nil { // "or.eq.1" parses as a plain filter on a column named "or"
		return Logic{Path: path, Children: []LogicNode{node}}, nil
	}
	l := *node.Logic
	l.Path = path
	return l, nil
}

func finishNode(n *LogicNode) error {
	if n.Filter != nil {
		return finishCond(&n.Filter.Cond)
	}
	for i := range n.Logic.Children {
		if err := finishNode(&n.Logic.Children[i]); err != nil {
			return err
		}
	}
	return nil
}
