package sidecar

import (
	"crypto/rand"
	"encoding/hex"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// reqCacheMax bounds the shapes one snapshot's reqCache holds, and reqCacheKeyMax the size of a shape's key and of
// its query string (a request with a longer one is planned afresh): a full cache holds a few MiB at most.
const (
	reqCacheMax    = 1024
	reqCacheKeyMax = 2 << 10
)

// reqCache keeps the parsed request, plan and statements of reads by their shape (request.Shape: everything
// that decides how a read parses, less the operands of its simple filters, such as the id of ?id=eq.7). A read
// whose shape was planned before skips parsing, planning and SQL building: the cached Request gets the new
// operands (Shape.Bind) and the cached statements get them as arguments. That is sound because planning does
// not look at those operands (plan.InspectsOperand, checked per filter when a shape is learned) and SQL binds
// them, never writes them (checked by building the statements a second time with stand-ins, see learn).
// Authentication, the version policy and validation still run on every request, on the bound Request.
//
// The cache belongs to a snapshot, so a reload (schema cache or configuration) starts an empty one. It holds at
// most reqCacheMax shapes; a new shape past that evicts one at random. A shape whose operands cannot be bound
// that way is remembered as such (an entry without a plan), so that it is not examined again.
type reqCache struct {
	mu     sync.RWMutex
	shapes map[string]*shaped
}

// shaped is one shape's cache entry. Nothing in it changes once stored; requests share it.
type shaped struct {
	// req, act and st are nil/zero for a shape that is planned afresh for every request.
	req *request.Request // parsed from the first request of the shape (its strings are its own)
	act *plan.Action
	st  sqlgen.Statements
	// main[i] and estimate[i] are the positions of operand i among st.Main.Args and st.Estimate.Args.
	main, estimate []int
}

func newReqCache() *reqCache { return &reqCache{shapes: map[string]*shaped{}} }

// get is the entry of a shape key (nil: none yet).
func (c *reqCache) get(key []byte) *shaped {
	c.mu.RLock()
	e := c.shapes[string(key)]
	c.mu.RUnlock()
	return e
}

// put stores a shape's entry, evicting a random one when full.
func (c *reqCache) put(key []byte, e *shaped) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.shapes[string(key)]; ok {
		return
	}
	if len(c.shapes) >= reqCacheMax {
		for k := range c.shapes {
			delete(c.shapes, k)
			break
		}
	}
	c.shapes[string(key)] = e
}

// reusable reports whether requests of the shape run from the entry.
func (e *shaped) reusable() bool { return e != nil && e.act != nil }

// statements are the cached statements with ops, the operands of a request of the shape, bound; buf is room
// for the main statement's arguments.
func (e *shaped) statements(ops []string, buf []any) sqlgen.Statements {
	st := e.st
	st.Main.Args = bindArgs(e.st.Main.Args, e.main, ops, buf)
	if e.st.Estimate != nil {
		est := *e.st.Estimate
		est.Args = bindArgs(est.Args, e.estimate, ops, nil)
		st.Estimate = &est
	}
	return st
}

// bindArgs is args with ops at their positions (args itself when there are none), in buf when it is large enough.
// An operand is bound as a pointer to it (which dbexec reads as the string), which costs no allocation.
func bindArgs(args []any, at []int, ops []string, buf []any) []any {
	if len(at) == 0 {
		return args
	}
	out := append(buf[:0], args...)
	for i, k := range at {
		out[k] = &ops[i]
	}
	return out
}

// standInNonce makes the stand-in operands learn binds unguessable, so that no request can contain one.
var standInNonce = func() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

// learn makes the cache entry of a read's shape from its request, plan and statements, built from the
// request's own operands; planAgain plans and builds a request of the same shape again. The entry is reusable
// when each operand is a filter on a column of the relation that planning does not inspect, and when the
// statements built for unique stand-in operands are the same SQL with the same arguments but for the operands,
// each bound exactly once per statement: those positions are where a later request's operands go.
func learn(sh *request.Shape, req *request.Request, act *plan.Action, st sqlgen.Statements,
	planAgain func(*request.Request) (*plan.Action, sqlgen.Statements, error)) *shaped {
	none := &shaped{}
	if act.Kind != plan.KindRead || act.Read == nil || st.StreamBody != nil {
		return none
	}
	for _, f := range sh.Slots {
		filter := &req.Filters[f]
		col, ok := act.Read.Rel.Column(filter.Field.Name)
		if len(filter.Path) > 0 || !ok || plan.InspectsOperand(col, filter.Cond.Op) {
			return none
		}
	}
	probe := request.Shape{Slots: sh.Slots, Operands: make([]string, len(sh.Operands))}
	for i := range probe.Operands {
		probe.Operands[i] = "\x00pgway-operand-" + strconv.Itoa(i) + "-" + standInNonce
	}
	_, pst, err := planAgain(probe.Bind(req, nil))
	if err != nil {
		return none
	}
	e := &shaped{req: req, act: act, st: st}
	var ok bool
	if e.main, ok = locate(st.Main, pst.Main, sh.Operands, probe.Operands); !ok {
		return none
	}
	e.st.Main.Args = textArgs(st.Main.Args)
	switch {
	case (st.Estimate == nil) != (pst.Estimate == nil):
		return none
	case st.Estimate != nil:
		if e.estimate, ok = locate(*st.Estimate, *pst.Estimate, sh.Operands, probe.Operands); !ok {
			return none
		}
		est := *st.Estimate
		est.Args = textArgs(est.Args)
		e.st.Estimate = &est
	}
	if !sameForm(st, pst) {
		return none
	}
	return e
}

// sameForm reports whether the statements built for a request and for its stand-in (probe) are run and answered
// alike: everything but their SQL and arguments, which locate compares, and the probe copies no body in.
func sameForm(st, probe sqlgen.Statements) bool {
	return st.Explain == probe.Explain && st.Check == probe.Check && st.BinaryBody == probe.BinaryBody &&
		st.GUCColumns == probe.GUCColumns && st.ReadGUCsAfter == probe.ReadGUCsAfter && probe.StreamBody == nil &&
		(st.Rows == nil) == (probe.Rows == nil) && (st.Rows == nil || *st.Rows == *probe.Rows)
}

// learnInsert makes the cache entry of an insert's shape (request.InsertKey) from its request, plan and
// statements; planAgain plans and builds a request of the same shape again. The entry is reusable when the
// insert is a plain one (no nested writes, its body bound rather than copied in) and the statements built for an
// unique stand-in body are the same SQL with the same arguments but for the body, bound exactly once: that
// position is where a later insert's body goes.
func learnInsert(req *request.Request, act *plan.Action, st sqlgen.Statements,
	planAgain func(*request.Request) (*plan.Action, sqlgen.Statements, error)) *shaped {
	none := &shaped{}
	if act.Kind != plan.KindMutate || act.Mutate == nil || act.Mutate.Payload == nil || len(act.Mutate.Nested) > 0 ||
		st.StreamBody != nil || st.Estimate != nil || req.Payload == nil {
		return none
	}
	probe := *req
	payload := *req.Payload
	payload.JSON = []byte("\x00pgway-operand-body-" + standInNonce)
	probe.Payload = &payload
	_, pst, err := planAgain(&probe)
	if err != nil {
		return none
	}
	// The entry keeps neither body: the action's payload is only its shape, and the body's argument is empty
	// until a request's is bound there.
	cached, m := *act, *act.Mutate
	m.Payload = &request.Payload{Object: req.Payload.Object, Keys: req.Payload.Keys}
	cached.Mutate = &m
	e := &shaped{act: &cached, st: st}
	var ok bool
	if e.main, ok = locate(stringBody(st.Main), stringBody(pst.Main), []string{string(req.Payload.JSON)},
		[]string{string(payload.JSON)}); !ok {
		return none
	}
	e.st.Main.Args = textArgs(st.Main.Args)
	e.st.Main.Args[e.main[0]] = nil
	if pst.Estimate != nil || !sameForm(st, pst) {
		return none
	}
	return e
}

// stringBody is st with its []byte arguments (an insert's bound body) as strings, so that locate finds them.
func stringBody(st sqlgen.Statement) sqlgen.Statement {
	args := slices.Clone(st.Args)
	for i, a := range args {
		if b, ok := a.([]byte); ok {
			args[i] = string(b)
		}
	}
	st.Args = args
	return st
}

// textArgs is args with integers as the decimal text they are sent as, so that requests bound to cached
// arguments do not format them again.
func textArgs(args []any) []any {
	out := slices.Clone(args)
	for i, a := range out {
		switch n := a.(type) {
		case int64:
			out[i] = strconv.FormatInt(n, 10)
		case int:
			out[i] = strconv.Itoa(n)
		}
	}
	return out
}

// locate finds where each operand is bound in a statement built from the request's operands (st) and from
// stand-ins (probe): the SQL must be the same, and the arguments too but for the operands, each stand-in bound
// exactly once where st binds the request's operand.
func locate(st, probe sqlgen.Statement, ops, standIns []string) ([]int, bool) {
	if st.SQL != probe.SQL || len(st.Args) != len(probe.Args) {
		return nil, false
	}
	at := make([]int, len(ops))
	for i := range at {
		at[i] = -1
	}
	for k, a := range probe.Args {
		s, isString := a.(string)
		i := -1
		if isString && strings.HasPrefix(s, "\x00pgway-operand-") {
			i = slices.Index(standIns, s)
		}
		switch {
		case i < 0:
			if !reflect.DeepEqual(st.Args[k], a) {
				return nil, false // an argument that is neither an operand nor the same in both
			}
		case at[i] >= 0 || st.Args[k] != any(ops[i]):
			return nil, false // bound twice, or not as it is
		default:
			at[i] = k
		}
	}
	if slices.Contains(at, -1) {
		return nil, false
	}
	return at, true
}
