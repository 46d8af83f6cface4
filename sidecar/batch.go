package sidecar

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/sidecar/internal/dbexec"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/respond"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// Atomic batches: POST / with Content-Type application/vnd.pgway.batch+json carries an ordered list of
// operations, each written as its own request would be (method, path with its query string, a few headers, a
// body), run in one transaction, in order, all or nothing. The root path is never a relation, and POST / is
// otherwise refused (405), so a batch cannot be mistaken for anything else. See README "Atomic batches".

// BatchMediaType is the Content-Type of a batch request.
const BatchMediaType = "application/vnd.pgway.batch+json"

// batchOpHeaders are the headers an operation may carry (lower case): what the request stage reads. Anything
// else (Authorization above all: one JWT for the batch) is refused.
var batchOpHeaders = []string{"accept", "accept-profile", "content-profile", "content-type", "prefer", "range", "range-unit"}

// batchInput is a batch request's body.
type batchInput struct {
	Operations []batchOpInput `json:"operations"`
}

// batchOpInput is one operation as the client wrote it.
type batchOpInput struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	// Body is the JSON body for a JSON Content-Type (the default), a JSON string holding the body otherwise.
	Body json.RawMessage `json:"body"`
	// Refs map targets in this operation to sources in earlier results (batchref.go).
	Refs map[string]string `json:"refs"`
}

// batchItem is one operation as it goes through the stages.
type batchItem struct {
	in      request.Input
	headers map[string]string // the operation's headers, lower-case names
	refs    []batchRef
	// bodyJSON: the body is JSON (references may target it).
	bodyJSON bool

	req     *request.Request
	act     *plan.Action
	st      sqlgen.Statements
	schema  string
	version [][2]string // deprecation headers of its API version
	tx      dbexec.Tx
	guc     dbexec.GUCResponse
	sink    batchSink
	res     dbexec.Result
	// What it answered: status, headers and body (none when skipBody).
	status   int
	head     []respond.Header
	skipBody bool
	done     bool
}

// batchError is an error of one operation (-1: the transaction's end), or of the batch as a whole (op < -1).
type batchError struct {
	op  int
	err error
}

func (e *batchError) Error() string { return e.err.Error() }
func (e *batchError) Unwrap() error { return e.err }

// opErr names operation i in err.
func opErr(i int, err error) error { return &batchError{op: i, err: err} }

// isBatch reports whether in (routed: /vN/ is the root of version N) is a batch.
func isBatch(in request.Input) bool {
	if in.Method != "POST" || in.Path != "/" && in.Path != "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(in.ContentType)
	return err == nil && mt == BatchMediaType
}

func batchMalformed(details string) *apierr.Error {
	return apierr.New(http.StatusBadRequest, "PGWAY110", "Invalid batch").WithDetails(details)
}

// serveBatch answers a batch: authenticate once, read the operations, run them round trip by round trip in one
// transaction, and answer every result, or the first failure.
func (s *Server) serveBatch(h *handling, in request.Input, version string) error {
	cfg := &h.snap.set.cfg
	if len(in.Body) > cfg.BatchMaxBodyBytes && cfg.BatchMaxBodyBytes > 0 {
		return apierr.New(http.StatusRequestEntityTooLarge, "PGWAY111", "Batch too large").
			WithDetails("The batch body exceeds server-batch-max-body-size (" + strconv.Itoa(cfg.BatchMaxBodyBytes) + " bytes).")
	}
	if err := s.authenticate(h); err != nil {
		return err
	}
	items, err := s.readBatch(h, in.Body, version)
	if err != nil {
		return err
	}
	h.timing.lap(stageParse)
	return s.runBatch(h, items)
}

// readBatch decodes and checks the batch's operations (every rule that needs no database and no earlier
// result), and splits their paths and query strings.
func (s *Server) readBatch(h *handling, body []byte, version string) ([]*batchItem, error) {
	cfg := &h.snap.set.cfg
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var bi batchInput
	if err := dec.Decode(&bi); err != nil {
		return nil, batchMalformed("The body is not a batch: " + jsonProblem(err) + ".").
			WithHint(`Send {"operations": [{"method": "GET", "path": "/items?id=eq.1"}, …]}.`)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, batchMalformed("The body has data after the batch object.")
	}
	if len(bi.Operations) == 0 {
		return nil, batchMalformed(`The batch has no operations ("operations" is missing or empty).`)
	}
	if len(bi.Operations) > cfg.BatchMaxOperations {
		return nil, apierr.New(http.StatusRequestEntityTooLarge, "PGWAY112", "Too many operations in the batch").
			WithDetails(strconv.Itoa(len(bi.Operations)) + " operations, more than server-batch-max-operations (" +
				strconv.Itoa(cfg.BatchMaxOperations) + ").")
	}
	items := make([]*batchItem, len(bi.Operations))
	for i := range bi.Operations {
		it, err := s.readOp(h, i, &bi.Operations[i], version)
		if err != nil {
			return nil, opErr(i, err)
		}
		items[i] = it
	}
	return items, nil
}

// jsonProblem describes a decoding error without Go's type names.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return "member " + strconv.Quote(te.Field) + " has the wrong type (" + te.Value + ")"
	case errors.As(err, &se):
		return "invalid JSON at byte " + strconv.FormatInt(se.Offset, 10)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends early"
	}
	msg := err.Error()
	if m, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown member " + m
	}
	return "invalid JSON"
}

// batchOpPattern is a query parameter value a reference completes: an operator taking one operand, taken as it
// is (its dot ends the value), or nothing at all (a function's argument).
var batchOpPattern = regexp.MustCompile(`^(not\.)?(eq|neq|gt|gte|lt|lte|like|ilike|match|imatch|isdistinct|cs|cd|ov|sl|sr|nxr|nxl|adj|(fts|plfts|phfts|wfts)(\([A-Za-z0-9_]*\))?)\.$`)

// readOp checks operation i and makes its request input (its body and query targets are completed later).
func (s *Server) readOp(h *handling, i int, op *batchOpInput, version string) (*batchItem, error) {
	it := &batchItem{headers: make(map[string]string, len(op.Headers))}
	switch op.Method {
	case "GET", "HEAD", "POST", "PATCH", "PUT", "DELETE":
	case "":
		return nil, batchMalformed(`Operation ` + strconv.Itoa(i) + ` has no "method".`)
	default:
		return nil, batchMalformed("Operation " + strconv.Itoa(i) + ": method " + strconv.Quote(op.Method) +
			" is not one of GET, HEAD, POST, PATCH, PUT, DELETE.")
	}
	for k, v := range op.Headers {
		lk := strings.ToLower(k)
		if !slices.Contains(batchOpHeaders, lk) {
			return nil, batchMalformed("Operation " + strconv.Itoa(i) + ": header " + strconv.Quote(k) +
				" cannot be given per operation; an operation may carry Accept, Accept-Profile, Content-Profile, " +
				"Content-Type, Prefer, Range and Range-Unit (the batch's Authorization applies to all).")
		}
		if _, dup := it.headers[lk]; dup {
			return nil, batchMalformed("Operation " + strconv.Itoa(i) + ": header " + strconv.Quote(k) + " is given twice.")
		}
		it.headers[lk] = v
	}
	rawPath, query, _ := strings.Cut(op.Path, "?")
	path, err := url.PathUnescape(rawPath)
	if err != nil || !strings.HasPrefix(path, "/") || strings.ContainsAny(op.Path, "#") {
		return nil, batchMalformed("Operation " + strconv.Itoa(i) + ": path " + strconv.Quote(op.Path) +
			" is not a path with a query string (/items?id=eq.1).")
	}
	if version != "" {
		path = "/" + version + path
	}
	it.in = request.Input{
		Method: op.Method, Path: path, Query: query,
		Accept: it.headers["accept"], Prefer: it.headers["prefer"], Range: it.headers["range"],
		RangeUnit: it.headers["range-unit"], AcceptProfile: it.headers["accept-profile"],
		ContentProfile: it.headers["content-profile"], ContentType: it.headers["content-type"],
	}
	ct := it.in.ContentType
	if ct == "" {
		ct = "application/json"
	}
	mt, _, _ := mime.ParseMediaType(ct)
	it.bodyJSON = mt == "application/json" || strings.HasSuffix(mt, "+json")
	if len(op.Body) > 0 && op.Method != "GET" && op.Method != "HEAD" {
		switch {
		case it.bodyJSON:
			it.in.Body = op.Body
		default:
			var text string
			if json.Unmarshal(op.Body, &text) != nil {
				return nil, batchMalformed("Operation " + strconv.Itoa(i) + ": a " + mt +
					" body is given as a JSON string (only a JSON body is given as JSON).")
			}
			it.in.Body = []byte(text)
		}
	}
	if it.refs, err = parseRefs(i, op.Refs); err != nil {
		return nil, err
	}
	for _, r := range it.refs {
		switch {
		case r.to.body != nil && !it.bodyJSON:
			return nil, refError("Invalid reference target "+strconv.Quote(r.to.text), "Only a JSON body can be a target.")
		case r.to.body != nil && (op.Method == "GET" || op.Method == "HEAD" || len(it.in.Body) == 0):
			return nil, refError("Invalid reference target "+strconv.Quote(r.to.text), "The operation has no body.")
		case r.to.query != "":
			if err := checkQueryTarget(it.in, r.to); err != nil {
				return nil, err
			}
		}
	}
	return it, nil
}

// queryParams splits a raw query string as the request stage does (on & and ;).
func queryParams(q string) []string {
	return strings.FieldsFunc(q, func(r rune) bool { return r == '&' || r == ';' })
}

func queryUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// checkQueryTarget checks that t names exactly one query parameter of in whose value a reference can complete.
func checkQueryTarget(in request.Input, t refTarget) error {
	n := 0
	val := ""
	for _, p := range queryParams(in.Query) {
		k, v, ok := strings.Cut(p, "=")
		if ok && queryUnescape(k) == t.query {
			n++
			val = queryUnescape(v)
		}
	}
	bad := func(d string) error { return refError("Invalid reference target "+strconv.Quote(t.text), d) }
	rpcRead := strings.HasPrefix(strings.TrimPrefix(in.Path, "/"), "rpc/") || strings.Contains(in.Path, "/rpc/")
	rpcRead = rpcRead && (in.Method == "GET" || in.Method == "HEAD")
	switch {
	case n != 1:
		return bad("The query string must have exactly one parameter " + strconv.Quote(t.query) + " (it has " + strconv.Itoa(n) + ").")
	case val == "" && !rpcRead:
		return bad("An empty value is completed only for a function's argument (GET /rpc/fn?arg=).")
	case val != "" && !batchOpPattern.MatchString(val):
		return bad("The parameter's value must end with an operator and its dot, e.g. " + t.query + "=eq. (or be " +
			"empty for a function's argument); the reference is its operand. select, order, columns, on_conflict, " +
			"limit, offset, or and and are never targets.")
	case t.query == "select" || t.query == "order" || t.query == "columns" || t.query == "on_conflict" ||
		t.query == "limit" || t.query == "offset" || t.query == "or" || t.query == "and":
		return bad("select, order, columns, on_conflict, limit, offset, or and and are never targets.")
	}
	return nil
}

// runBatch runs the operations: round trip by round trip (an operation that refers to a result of its own round
// trip starts the next one), in one transaction, and answers.
func (s *Server) runBatch(h *handling, items []*batchItem) error {
	cfg := &h.snap.set.cfg
	// Rounds: [start, end) of each round trip.
	var rounds [][2]int
	start := 0
	for i, it := range items {
		for _, r := range it.refs {
			if r.from.op >= start && i > start {
				rounds = append(rounds, [2]int{start, i})
				start = i
				break
			}
		}
	}
	rounds = append(rounds, [2]int{start, len(items)})

	readOnly := true
	for _, it := range items {
		readOnly = readOnly && (it.in.Method == "GET" || it.in.Method == "HEAD")
	}
	rollback, applied := plan.TxEnd(cfg.DBTxEnd, batchTxPreference(peekJoined(&h.ctx.Request.Header, "Prefer")))
	if applied != "" {
		h.ctx.Response.Header.Set("Preference-Applied", "tx="+applied)
	}
	sentinel := newSentinel()
	baseHeaders := batchBaseHeaders(h)

	// The first round trip is planned before the transaction begins: its problems cost no connection, and its
	// functions' isolation levels decide the transaction's.
	first, hold, err := s.prepareRound(h, items, rounds[0], sentinel, baseHeaders, readOnly, len(rounds) == 1)
	if err != nil {
		return err
	}
	iso := h.snap.roleIsolation[h.who.Role]
	for _, it := range items[rounds[0][0]:rounds[0][1]] {
		iso = max(iso, opIsolation(it.act))
	}
	b := dbexec.Batch{
		ReadOnly: readOnly, Isolation: iso, Rollback: rollback,
		Explicit:   len(rounds) > 1 || iso != dbexec.IsolationDefault || rollback || hold,
		Generation: h.snap.generation, Waiter: &h.state.wait, Interrupter: &h.state.interrupt,
	}
	k := 0
	next := func() ([]dbexec.BatchOp, bool, error) {
		if k == 0 {
			k++
			return first, len(rounds) == 1 && !hold, nil
		}
		prev := rounds[min(k, len(rounds))-1]
		if err := s.finishRound(h, items[prev[0]:prev[1]], prev[0]); err != nil {
			return nil, false, err
		}
		if k == len(rounds) {
			k++
			return nil, true, nil // the commit held back until the last round's responses were known
		}
		r := rounds[k]
		ops, hold, err := s.prepareRound(h, items, r, sentinel, baseHeaders, readOnly, k == len(rounds)-1)
		if err != nil {
			return nil, false, err
		}
		for _, it := range items[r[0]:r[1]] {
			if l := opIsolation(it.act); l > b.Isolation && l > dbexec.IsolationDefault {
				return nil, false, opErr(r[0], apierr.New(http.StatusBadRequest, "PGWAY114",
					"The function's isolation level is stricter than the batch's transaction").
					WithDetails("The function sets default_transaction_isolation to "+l.String()+", and the batch's "+
						"transaction began at "+b.Isolation.String()+".").
					WithHint("Call it in the batch's first round trip: before any operation that refers to an earlier result."))
			}
		}
		k++
		return ops, k == len(rounds) && !hold, nil
	}
	_, err = h.snap.set.exec.RunBatch(h.db, b, next)
	h.timing.lap(stageTransaction)
	if err != nil {
		var be *dbexec.BatchError
		if errors.As(err, &be) {
			return opErr(be.Op, be.Err)
		}
		return err
	}
	if last := rounds[len(rounds)-1]; !items[last[0]].done {
		if err := s.finishRound(h, items[last[0]:last[1]], last[0]); err != nil {
			return err
		}
	}
	s.writeBatch(h, items)
	return nil
}

// batchTxPreference is the tx= preference of the batch's Prefer header ("" when none).
func batchTxPreference(prefer string) string {
	for item := range strings.SplitSeq(prefer, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(item), "tx="); ok && (v == "commit" || v == "rollback") {
			return v
		}
	}
	return ""
}

// opIsolation is the isolation level a called function asks for.
func opIsolation(a *plan.Action) dbexec.Isolation {
	if a != nil && a.Call != nil && a.Call.Isolation != "" {
		return dbexec.ParseIsolation(a.Call.Isolation)
	}
	return dbexec.IsolationDefault
}

// newSentinel is a stand-in for the operands references complete, which no request text can guess.
func newSentinel() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "pgwayref" + hex.EncodeToString(b[:])
}

// prepareRound resolves, parses, validates, plans and builds the operations of one round trip; hold reports
// whether an operation of the last round may still fail once its result is known (a singular or counted read's
// 406 or 416), so that the commit waits for it.
func (s *Server) prepareRound(h *handling, items []*batchItem, r [2]int, sentinel string, base []byte, readOnly, last bool) ([]dbexec.BatchOp, bool, error) {
	ops := make([]dbexec.BatchOp, 0, r[1]-r[0])
	hold := false
	for i := r[0]; i < r[1]; i++ {
		it := items[i]
		if err := s.prepareOp(h, items, i, sentinel, base); err != nil {
			return nil, false, opErr(i, err)
		}
		it.tx.ReadOnly = readOnly
		it.sink = batchSink{framing: it.st.Rows, explain: it.st.Explain, countOnly: it.req.Head}
		ops = append(ops, dbexec.BatchOp{Tx: it.tx, St: it.st, Sink: &it.sink, Res: &it.res})
		if last && it.act.Kind != plan.KindMutate && (it.req.Accept == request.MediaObject ||
			it.req.Accept == request.MediaObjectStripped || it.req.Prefer.Count != request.CountNone) {
			hold = true
		}
	}
	return ops, hold, nil
}

// prepareOp takes operation i through the stages of a request sent alone: its references completed, version
// routing, parsing, profile, validation, planning and SQL.
func (s *Server) prepareOp(h *handling, items []*batchItem, i int, sentinel string, base []byte) error {
	it := items[i]
	in := it.in
	// Body targets: the referenced JSON values spliced into the body, before parsing (the body is one bind
	// parameter). Query targets: a stand-in operand now, the value once parsed.
	binds := map[string]string{}
	for n, r := range it.refs {
		v, err := resolveRef(items, r.from)
		if err != nil {
			return err
		}
		if r.to.body != nil {
			if !json.Valid(in.Body) {
				return refError("Invalid reference target "+strconv.Quote(r.to.text), "The operation's body is not valid JSON.")
			}
			b, err := jsonSet(in.Body, r.to.body, v)
			if err != nil {
				return refError("Invalid reference target "+strconv.Quote(r.to.text), "The body has no place there: "+err.Error()+".")
			}
			in.Body = b
			continue
		}
		text, ok := queryText(v)
		if !ok {
			return refError("Reference "+strconv.Quote(r.from.text)+" is null",
				"A null value cannot complete a query parameter (use is.null).")
		}
		stand := sentinel + "x" + strconv.Itoa(n)
		binds[stand] = text
		in.Query = completeQuery(in.Query, r.to.query, stand)
	}
	if _, err := s.routeVersion(h, &in); err != nil {
		return err
	}
	if _, ok := pgwayPage(in, h.snap); ok || in.Path == "/" || in.Path == "" {
		return batchMalformed("Operation " + strconv.Itoa(i) + ": " + strconv.Quote(in.Path) +
			" is not a table, view or function (the root and pgway's pages are not operations).")
	}
	req, err := request.Parse(in)
	if err != nil {
		return scrubStandIns(err, sentinel)
	}
	if err := bindQueryRefs(req, binds); err != nil {
		return err
	}
	if req.Prefer.Tx != "" {
		return apierr.New(http.StatusBadRequest, "PGWAY115", "Prefer: tx= is the batch's").
			WithDetails("An operation cannot end the transaction; send Prefer: tx=rollback with the batch.")
	}
	it.req = req
	if it.schema, err = h.snap.schemaFor(req); err != nil {
		return err
	}
	if it.version, err = versionHeaders(h.snap, it.schema, in.Path); err != nil {
		return err
	}
	oh := &handling{ctx: h.ctx, snap: h.snap, who: h.who, req: req, schema: it.schema, db: h.db, state: h.state}
	if err := s.validateRequest(oh); err != nil {
		return err
	}
	rules := h.snap.rules
	rules.TxEnd, rules.StreamBodyBytes = "commit", 0 // the batch ends the transaction; bodies are bound
	act, err := plan.New(req, s.roleView(oh), it.schema, &rules)
	if err != nil {
		return err
	}
	if act.Kind != plan.KindRead && act.Kind != plan.KindMutate && act.Kind != plan.KindCall {
		return batchMalformed("Operation " + strconv.Itoa(i) + " is not a read, a write or a call.")
	}
	it.act, it.st = act, sqlgen.For(act)
	it.tx = s.batchOpTx(h, it, base)
	return nil
}

// scrubStandIns replaces the stand-ins of references in an error's text, which may quote the query string.
func scrubStandIns(err error, sentinel string) error {
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		return err
	}
	re := regexp.MustCompile(sentinel + `x[0-9]+`)
	c := *ae
	c.Message = re.ReplaceAllString(c.Message, "<reference>")
	c.Details = re.ReplaceAllString(c.Details, "<reference>")
	c.Hint = re.ReplaceAllString(c.Hint, "<reference>")
	return &c
}

// completeQuery gives the one parameter key of q the stand-in operand stand after its operator.
func completeQuery(q, key, stand string) string {
	ps := queryParams(q)
	for j, p := range ps {
		if k, _, ok := strings.Cut(p, "="); ok && queryUnescape(k) == key {
			ps[j] = p + stand
		}
	}
	return strings.Join(ps, "&")
}

// bindQueryRefs puts the referenced values where the stand-ins were parsed: each must be exactly one filter's
// operand or one function argument (anything else is refused), so a value is only ever bound.
func bindQueryRefs(req *request.Request, binds map[string]string) error {
	for stand, v := range binds {
		n := 0
		for j := range req.Filters {
			if c := &req.Filters[j].Cond; c.Value == stand && c.Quant == "" && c.Op != "in" && c.Op != "is" {
				c.Value = v
				n++
			}
		}
		for j := range req.Params {
			if req.Params[j].Value == stand {
				req.Params[j].Value = v
				n++
			}
		}
		if n != 1 {
			return refError("Invalid reference target", "A query reference completes one filter's operand or one function argument.")
		}
	}
	return nil
}

// resolveRef is the JSON value a source names in an earlier operation's result.
func resolveRef(items []*batchItem, src refSource) ([]byte, error) {
	it := items[src.op]
	switch src.kind {
	case "status":
		return strconv.AppendInt(nil, int64(it.status), 10), nil
	case "headers":
		for _, hv := range it.head {
			if strings.EqualFold(hv[0], src.tokens[0]) {
				return apierr.AppendJSONString(nil, hv[1]), nil
			}
		}
		return nil, refMissing(src, "operation "+strconv.Itoa(src.op)+" answered no header "+strconv.Quote(src.tokens[0]))
	}
	body, isJSON := it.responseBody()
	if it.skipBody || !isJSON {
		return nil, refMissing(src, "operation "+strconv.Itoa(src.op)+" answered no JSON body (ask for one with Prefer: return=representation)")
	}
	sp, err := jsonLookup(body, src.tokens)
	if err != nil {
		return nil, refMissing(src, "its body has no value there: "+err.Error())
	}
	return body[sp.start:sp.end], nil
}

func refMissing(src refSource, why string) error {
	return apierr.New(http.StatusBadRequest, "PGWAY116", "Reference "+strconv.Quote(src.text)+" has no value").
		WithDetails(strings.ToUpper(why[:1]) + why[1:] + ".")
}

// batchBaseHeaders are the batch request's headers as each operation's request.headers starts from: all but
// those the operations carry for themselves.
func batchBaseHeaders(h *handling) []byte {
	var all []byte
	all = appendHeadersJSON(all, &h.ctx.Request.Header)
	var m map[string]string
	if json.Unmarshal(all, &m) != nil {
		return []byte("{}")
	}
	for _, k := range batchOpHeaders {
		delete(m, k)
	}
	delete(m, "content-length")
	b, _ := json.Marshal(m)
	return b
}

// batchOpTx is operation it's transaction settings: the batch's role and claims, its own method, path,
// headers (the batch's, with its own), search path, time zone and the function's hoisted settings.
func (s *Server) batchOpTx(h *handling, it *batchItem, base []byte) dbexec.Tx {
	roleSets := h.snap.roleSettings[h.who.Role]
	if len(it.act.FunctionSettings) > 0 {
		roleSets = append(roleSets[:len(roleSets):len(roleSets)], it.act.FunctionSettings...)
	}
	headers := base
	if len(it.headers) > 0 {
		var m map[string]string
		_ = json.Unmarshal(base, &m)
		if m == nil {
			m = map[string]string{}
		}
		for k, v := range it.headers {
			m[k] = v
		}
		headers, _ = json.Marshal(m)
	}
	tx := dbexec.Tx{
		RoleSettings: roleSets,
		Role:         h.who.Role,
		Claims:       string(h.who.Claims),
		SearchPath:   h.snap.set.searchPaths[it.schema],
		Method:       it.req.Method,
		Path:         it.in.Path,
		Headers:      string(headers),
		Cookies:      cookiesJSON(&h.ctx.Request.Header),
		Timezone:     it.req.Prefer.Timezone,
		Generation:   h.snap.generation,
	}
	if it.act.Kind != plan.KindRead || it.act.Read.Handler != nil || h.snap.set.exec.PreRequest != "" {
		tx.Response = &it.guc
	}
	return tx
}

// finishRound builds the responses of a round trip's operations (numbered from base), as respond does for a
// request sent alone; an error there is the operation's.
func (s *Server) finishRound(h *handling, items []*batchItem, base int) error {
	for j, it := range items {
		it.sink.finish()
		out, err := respond.Build(it.act, it.req, responseResult(&it.res, nil), it.in.Query)
		if err != nil {
			return opErr(base+j, err)
		}
		it.status, it.head, it.skipBody, it.done = out.Status, out.Headers, out.SkipBody, true
		for _, v := range it.version {
			it.head = append(it.head, respond.Header(v))
		}
		if len(h.snap.set.cfg.DBSchemas) > 1 {
			it.head = append(it.head, respond.Header{"Content-Profile", it.schema})
		}
	}
	return nil
}

// contentType is the operation's response Content-Type ("" for none).
func (it *batchItem) contentType() string {
	ct := ""
	for _, hv := range it.head {
		if strings.EqualFold(hv[0], "Content-Type") {
			ct = hv[1]
		}
	}
	return ct
}

// responseBody is the operation's response body, and whether it is JSON to embed as it is.
func (it *batchItem) responseBody() ([]byte, bool) {
	body := it.sink.body
	mt, _, _ := mime.ParseMediaType(it.contentType())
	jsonType := mt == "application/json" || strings.HasSuffix(mt, "+json")
	return body, jsonType && json.Valid(body)
}

// writeBatch answers a batch that succeeded: 200 with every operation's status, headers and body.
func (s *Server) writeBatch(h *handling, items []*batchItem) {
	b := make([]byte, 0, 256)
	b = append(b, `{"results":[`...)
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"status":`...)
		b = strconv.AppendInt(b, int64(it.status), 10)
		b = append(b, `,"headers":{`...)
		var names []string
		vals := map[string]string{}
		for _, hv := range it.head {
			name := http.CanonicalHeaderKey(hv[0])
			if old, ok := vals[name]; ok {
				vals[name] = old + ", " + hv[1]
				continue
			}
			names = append(names, name)
			vals[name] = hv[1]
		}
		for j, n := range names {
			if j > 0 {
				b = append(b, ',')
			}
			b = apierr.AppendJSONString(b, n)
			b = append(b, ':')
			b = apierr.AppendJSONString(b, vals[n])
		}
		b = append(b, '}')
		if !it.skipBody && !it.req.Head {
			body, isJSON := it.responseBody()
			switch {
			case isJSON:
				b = append(b, `,"body":`...)
				b = append(b, bytes.TrimSpace(body)...)
			case utf8.Valid(body):
				b = append(b, `,"body":`...)
				b = apierr.AppendJSONString(b, string(body))
			default:
				b = append(b, `,"body":"`...)
				b = base64.StdEncoding.AppendEncode(b, body)
				b = append(b, `","encoding":"base64"`...)
			}
		}
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	resp := &h.ctx.Response
	resp.SetStatusCode(http.StatusOK)
	resp.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp.SetBody(b)
}

// withOperation adds "operation" to the error object of a batch's failure, naming the operation that failed
// (null when the transaction's end did); other errors are left as they are.
func withOperation(obj []byte, err error) []byte {
	var be *batchError
	if !errors.As(err, &be) || be.op < -1 || len(obj) == 0 || obj[len(obj)-1] != '}' {
		return obj
	}
	obj = obj[:len(obj)-1]
	if be.op < 0 {
		return append(obj, `,"operation":null}`...)
	}
	obj = append(obj, `,"operation":`...)
	obj = strconv.AppendInt(obj, int64(be.op), 10)
	return append(obj, '}')
}

// batchSink buffers one operation's body (a batch's response is never streamed).
type batchSink struct {
	framing   *sqlgen.Framing
	explain   bool
	countOnly bool
	body      []byte
	rows      int64
	lines     int
}

func (b *batchSink) Body(p []byte) error {
	if b.explain && b.lines > 0 {
		b.body = append(b.body, '\n')
	}
	b.lines++
	b.body = append(b.body, p...)
	return nil
}

func (b *batchSink) Row(_ int64, row []byte) error {
	if row == nil || b.countOnly {
		return nil
	}
	if b.rows == 0 {
		b.body = append(b.body, b.framing.Open...)
	} else {
		b.body = append(b.body, b.framing.Sep...)
	}
	b.rows++
	b.body = append(b.body, row...)
	return nil
}

func (b *batchSink) Reset() { b.body, b.rows, b.lines = b.body[:0], 0, 0 }

func (b *batchSink) Emitted() bool { return false }

// finish completes a body of rows: the framing's end, or its empty body.
func (b *batchSink) finish() {
	if b.framing == nil || b.countOnly {
		return
	}
	if b.rows == 0 {
		b.body = append(b.body[:0], b.framing.Empty...)
		return
	}
	b.body = append(b.body, b.framing.Close...)
}
