package sidecar

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/sidecar/internal/auth"
	"github.com/pgway/pgway/sidecar/internal/dbexec"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/respond"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// handling is one request's state as it moves through the stages.
type handling struct {
	ctx *fasthttp.RequestCtx
	// snap is the snapshot the request runs under, taken once when it started.
	snap   *snapshot
	req    *request.Request
	schema string
	who    auth.Result
	timing timing
	// db is the request's context for database work: cancelled when the client goes away, at
	// server-request-timeout and at shutdown after the drain period.
	db    context.Context
	state *reqState
	// body receives the response body from the database; it streams it past the buffer size. It is sink, once
	// the request has one.
	body *bodySink
	sink bodySink
	// res is what the request's statements reported.
	res dbexec.Result
	// shape is the request's shape when shaped (a read: request.Shape.Of); cached is its snapshot's reqCache
	// entry (nil: none yet).
	shape  request.Shape
	shaped bool
	cached *shaped
	// inserting: the request is an insert whose shape key (request.InsertKey) is in shape.Key; its body, once
	// bound from the reqCache, is shape.Operands[0].
	inserting bool
	// Room for a read's shape, the Request bound from it, and its arguments, so that a read served from the
	// reqCache needs no allocation of its own for them.
	keyBuf    [256]byte
	slotBuf   [4]int
	opBuf     [4]string
	filterBuf [4]request.Filter
	bound     request.Request
	argBuf    [8]any
	// jsonBuf is request.headers (headersJSON); its array is kept when the handling is reused.
	jsonBuf []byte
	// etag: the response is a read's (GET or HEAD of a relation, a function, the OpenAPI document or the docs
	// pages), which gets an ETag and may answer If-None-Match with 304 (httpcache.go).
	etag bool
}

// handlings are the handling values of requests done, for reuse (a handling is a couple of KiB, most of it room
// that saves allocations later; nothing refers to one once its request is done).
var handlings = sync.Pool{New: func() any { return new(handling) }}

// handle is the fasthttp handler. It takes the snapshot, runs serve, and renders whatever error it returns.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	snap := s.snap.Load()
	st := s.inflight.begin(ctx.Conn(), start, snap.set.cfg.RequestTimeout)
	h := handlings.Get().(*handling)
	h.ctx, h.snap, h.db, h.state = ctx, snap, st.ctx, st
	h.shape = request.Shape{Key: h.keyBuf[:0], Slots: h.slotBuf[:0], Operands: h.opBuf[:0]}
	h.bound.Filters = h.filterBuf[:0]
	var err error
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in handler", "panic", r, "stack", string(debug.Stack()))
			err = apierr.Internal(fmt.Errorf("panic: %v", r))
			if h.body.streaming() {
				h.body.abort()
			} else {
				ctx.Response.Reset()
				s.writeError(h, err)
			}
		}
		finishHeaders(&ctx.Response, snap.set)
		s.observe(h, start, err) // metrics and the request's log line (logs.go), while its context is its own
		s.inflight.end(st)
		buf := h.jsonBuf[:0]
		*h = handling{}
		if cap(buf) <= 4<<10 {
			h.jsonBuf = buf
		}
		handlings.Put(h)
	}()
	if th := snap.set.cfg.ServerTraceHeader; th != "" {
		// PostgREST's trace header: the request's value is echoed on every response, errors included.
		if v := ctx.Request.Header.Peek(th); len(v) > 0 {
			ctx.Response.Header.SetBytesV(th, v)
		}
	}
	if s.cors(h) {
		return
	}
	if snap.set.cfg.ServerTimingEnabled {
		h.timing = timing{on: true, last: start}
		defer func() {
			h.timing.lap(stageResponse)
			ctx.Response.Header.SetBytesV("Server-Timing", h.timing.header())
		}()
	}
	err = s.serve(h)
	switch {
	case err != nil && h.body.streaming():
		// The response has begun: it cannot become an error any more. Cutting the connection short tells the
		// client it is incomplete.
		h.body.abort()
	case err != nil:
		s.writeError(h, err)
	case h.body.streaming():
		h.body.end()
	case len(ctx.Response.Header.Peek("Vary")) == 0:
		// For caches and CDNs, as PostgREST (a response.headers override wins).
		ctx.Response.Header.Set("Vary", defaultVary)
	}
	if !h.body.streaming() {
		s.finishBody(h) // ETag, If-None-Match, compression
	}
}

// retryAfter is the Retry-After of every 503, in seconds. PostgREST sends the delay until its next reconnection
// attempt (docs/references/connection_pool.rst; since v12.2 the value it reads is never updated and stays 0);
// pgway's pool dials again on the next request, so a client may retry as soon as it likes, and one second
// keeps clients that honour the header (postgrest-js) from retrying in a tight loop.
const retryAfter = "1"

// finishHeaders adds what every response carries whatever produced it: Retry-After on a 503, as PostgREST's
// addRetryHint does for errors, response.status = 503 and all (a value already set is kept); and Origin in
// Vary when CORS is restricted to server-cors-allowed-origins, since Access-Control-Allow-Origin then depends
// on the request's Origin and a cache must not serve one origin's answer to another. (PostgREST sets wai-cors'
// corsVaryOrigin = False and sends no Vary: Origin.) With an allow-list, "*" is never the answer: PostgREST's
// OPTIONS response adds Access-Control-Allow-Origin: * itself, so a preflight from an origin that is not
// allowed, which the CORS policy passes on, came back allowed for every origin.
func finishHeaders(resp *fasthttp.Response, set *settings) {
	if resp.StatusCode() == http.StatusServiceUnavailable && len(resp.Header.Peek("Retry-After")) == 0 {
		resp.Header.Set("Retry-After", retryAfter)
	}
	if len(set.cfg.ServerCorsAllowedOrigins) > 0 {
		if string(resp.Header.Peek("Access-Control-Allow-Origin")) == "*" {
			resp.Header.Del("Access-Control-Allow-Origin")
		}
		addVary(&resp.Header, "Origin")
	}
}

// serve is pgway's request pipeline, top to bottom: route, parse, authenticate, validate, plan, build the SQL,
// run it in one transaction, respond. Each stage is a function of its package; only the run does I/O.
func (s *Server) serve(h *handling) error {
	if h.snap.cache == nil {
		return apierr.New(http.StatusServiceUnavailable, "PGRST002",
			"Could not query the database for the schema cache. Retrying.")
	}
	in := input(h.ctx)
	if in.Body != nil && len(h.ctx.Request.Header.ContentEncoding()) > 0 {
		var err error
		if in.Body, err = s.requestBody(h); err != nil {
			return err
		}
	}
	version, err := s.routeVersion(h, &in)
	if err != nil {
		return err
	}
	if isBatch(in) && h.snap.set.cfg.BatchMaxOperations > 0 {
		return s.serveBatch(h, in, version) // batch.go
	}
	if pg, ok := pgwayPage(in, h.snap); ok {
		if pg.docs {
			return s.serveDocs(h, pg, version)
		}
		return s.serveDocAlias(h, in, pg.format)
	}
	req, err := s.parse(h, in)
	h.timing.lap(stageParse)
	if err != nil {
		return err
	}
	h.req = req
	if h.schema, err = h.snap.schemaFor(req); err != nil {
		return err
	}
	if len(h.snap.set.cfg.DBSchemas) > 1 {
		h.ctx.Response.Header.Set("Content-Profile", h.schema)
	}
	if err := s.versionPolicy(h, h.schema, in.Path); err != nil {
		return err
	}
	h.timing.lap(stageParse) // profile and version checks
	if err := s.authenticate(h); err != nil {
		return err
	}
	if err := s.validateRequest(h); err != nil {
		return err
	}
	act, st, err := s.plan(h)
	if err != nil {
		return err
	}
	h.etag = act.Kind == plan.KindRead || act.Kind == plan.KindDocument ||
		act.Kind == plan.KindCall && (h.ctx.IsGet() || h.ctx.IsHead())
	if act.Kind == plan.KindDocument {
		return s.serveOpenAPI(h, "json")
	}
	h.timing.lap(stagePlan)

	res := &h.res
	if act.Kind != plan.KindInfo {
		h.body = s.newBodySink(h, act, st.Rows, st.Explain, res)
		if err := s.run(h, act, st, res); err != nil {
			return err
		}
		h.timing.lap(stageTransaction)
		if h.body.streaming() {
			return nil // the status and headers went out with the first rows
		}
		h.body.finish()
	}
	out, err := respond.Build(act, req, responseResult(res, h.body), b2s(h.ctx.URI().QueryString()))
	if err != nil {
		return err
	}
	h.apply(out)
	return nil
}

// hasRelation reports whether the schema a request with this Accept-Profile would read (else the first exposed
// schema) has a relation of a name: pgway's own pages never shadow one.
func (snap *snapshot) hasRelation(profile, name string) bool {
	schema, err := snap.schemaFor(&request.Request{Schema: profile})
	if err != nil {
		return false
	}
	_, ok := snap.cache.Relation(schema, name)
	return ok
}

// parse parses the request, or binds its operands to the parsed request of its shape when the snapshot's
// reqCache has it. A read whose shape is new is parsed from a copy of in, so that the cache may keep it.
func (s *Server) parse(h *handling, in request.Input) (*request.Request, error) {
	if h.shaped = len(in.Query) <= reqCacheKeyMax && h.shape.Of(in) && len(h.shape.Key) <= reqCacheKeyMax; !h.shaped {
		req, err := request.Parse(in)
		if err != nil || len(in.Query) > reqCacheKeyMax {
			return req, err
		}
		if h.shape.Key, h.inserting = request.InsertKey(h.shape.Key[:0], in, req); !h.inserting {
			return req, nil
		}
		if n := h.snap.rules.StreamBodyBytes; n > 0 && len(req.Payload.JSON) >= n {
			h.inserting = false // a body copied in with COPY (plan.Mutate.StreamBody) is planned afresh
			return req, nil
		}
		if h.inserting = len(h.shape.Key) <= reqCacheKeyMax; h.inserting && h.snap.reqs.get(h.shape.Key) == nil {
			// The first insert of its shape: parsed again from a copy of in, so that the cache may keep its plan
			// (whose strings may be the request's).
			in = cloneInput(in)
			in.Body = bytes.Clone(in.Body)
			return request.Parse(in)
		}
		return req, nil
	}
	if h.cached = h.snap.reqs.get(h.shape.Key); h.cached.reusable() {
		return h.shape.Bind(h.cached.req, &h.bound), nil
	}
	if h.cached == nil {
		in = cloneInput(in)
	}
	return request.Parse(in)
}

// plan plans the request and builds its statements, or takes them from the reqCache entry of its shape; the
// first request of a shape makes that entry.
func (s *Server) plan(h *handling) (*plan.Action, sqlgen.Statements, error) {
	if h.inserting {
		return s.planInsert(h)
	}
	if h.cached.reusable() {
		return h.cached.act, h.cached.statements(h.shape.Operands, h.argBuf[:0]), nil
	}
	build := func(req *request.Request) (*plan.Action, sqlgen.Statements, error) { return s.build(h, req) }
	act, st, err := build(h.req)
	if err == nil && h.shaped && h.cached == nil {
		h.snap.reqs.put(h.shape.Key, learn(&h.shape, h.req, act, st, build))
	}
	return act, st, err
}

// build plans a request and builds its statements.
func (s *Server) build(h *handling, req *request.Request) (*plan.Action, sqlgen.Statements, error) {
	act, err := plan.New(req, s.roleView(h), h.schema, &h.snap.rules)
	if err != nil {
		return nil, sqlgen.Statements{}, err
	}
	if act.Kind == plan.KindDocument {
		return act, sqlgen.Statements{}, nil
	}
	return act, sqlgen.For(act), nil
}

// planInsert plans an insert, or takes its plan and statements from the reqCache entry of its shape
// (request.InsertKey) with this request's body bound; the first insert of a shape makes that entry.
func (s *Server) planInsert(h *handling) (*plan.Action, sqlgen.Statements, error) {
	e := h.snap.reqs.get(h.shape.Key)
	if e.reusable() {
		act, m := *e.act, *e.act.Mutate
		m.Payload = h.req.Payload
		act.Mutate = &m
		h.shape.Operands = append(h.shape.Operands[:0], b2s(h.req.Payload.JSON))
		return &act, e.statements(h.shape.Operands, h.argBuf[:0]), nil
	}
	act, st, err := s.build(h, h.req)
	if err == nil && e == nil {
		h.snap.reqs.put(h.shape.Key, learnInsert(h.req, act, st, func(req *request.Request) (*plan.Action, sqlgen.Statements, error) {
			return s.build(h, req)
		}))
	}
	return act, st, err
}

// cloneInput copies what Parse reads of in that may alias the server's request buffer.
func cloneInput(in request.Input) request.Input {
	for _, s := range []*string{&in.Method, &in.Path, &in.Query, &in.Accept, &in.Prefer, &in.Range, &in.RangeUnit,
		&in.AcceptProfile, &in.ContentProfile, &in.ContentType} {
		*s = strings.Clone(*s)
	}
	return in
}

// input is the raw request as the request package reads it (no fasthttp type crosses that boundary).
func input(ctx *fasthttp.RequestCtx) request.Input {
	h := &ctx.Request.Header
	in := request.Input{
		Method:         b2s(ctx.Method()),
		Path:           b2s(ctx.Path()),
		Query:          b2s(ctx.URI().QueryString()),
		Accept:         b2s(h.Peek("Accept")),
		Prefer:         peekJoined(h, "Prefer"),
		Range:          b2s(h.Peek("Range")),
		RangeUnit:      b2s(h.Peek("Range-Unit")),
		AcceptProfile:  b2s(h.Peek("Accept-Profile")),
		ContentProfile: b2s(h.Peek("Content-Profile")),
		ContentType:    b2s(h.ContentType()),
	}
	if m := in.Method; m != "GET" && m != "HEAD" {
		in.Body = ctx.Request.Body()
	}
	if in.Path == "/" || in.Path == "" {
		in.Query = "" // the root takes no query parameters but ?openapi=, read by serveOpenAPI
	}
	return in
}

// authenticate verifies the request's JWT and picks its role.
func (s *Server) authenticate(h *handling) error {
	who, err := h.snap.set.auth.Authenticate(b2s(h.ctx.Request.Header.Peek("Authorization")), time.Now())
	h.timing.lap(stageJWT)
	if err != nil {
		return err
	}
	h.who = who
	return nil
}

// tx are the request's transaction settings: PostgREST's role switch and request GUCs, the impersonated
// role's settings followed by the called function's hoisted ones, read-only for reads, and the isolation level
// the function or the role sets.
func (h *handling) tx(a *plan.Action) dbexec.Tx {
	roleSets := h.snap.roleSettings[h.who.Role]
	if len(a.FunctionSettings) > 0 {
		roleSets = append(roleSets[:len(roleSets):len(roleSets)], a.FunctionSettings...)
	}
	tx := dbexec.Tx{
		RoleSettings: roleSets,
		Role:         h.who.Role,
		Claims:       b2s(h.who.Claims), // shared and never modified (auth.Result)
		SearchPath:   h.snap.set.searchPaths[h.schema],
		Method:       h.req.Method,
		Path:         b2s(h.ctx.Path()),
		Headers:      h.headersJSON(),
		Cookies:      cookiesJSON(&h.ctx.Request.Header),
		ReadOnly:     a.ReadOnly,
		Isolation:    h.isolation(a),
		Timezone:     h.req.Prefer.Timezone,
		Generation:   h.snap.generation,
		Waiter:       &h.state.wait,
		Interrupter:  &h.state.interrupt,
	}
	// Writes and calls may set response.headers/response.status (functions, triggers), as may a read's media
	// type handler or the pre-request function: then they are read back. A plain read skips that query.
	if a.Kind != plan.KindRead || a.Read.Handler != nil || h.snap.set.exec.PreRequest != "" {
		tx.Response = &dbexec.GUCResponse{}
	}
	return tx
}

// responseResult is what respond needs of the run.
func responseResult(r *dbexec.Result, body *bodySink) respond.Result {
	out := respond.Result{Total: r.Total, PageTotal: r.PageTotal, Estimate: r.Estimate, Location: r.Location,
		Inserted: r.Inserted, GUCHeaders: r.GUC.Headers, GUCStatus: r.GUC.Status}
	return out
}

// apply writes a response head into the fasthttp response (the body is already there).
func (h *handling) apply(out respond.Response) {
	resp := &h.ctx.Response
	resp.SetStatusCode(out.Status)
	for _, hv := range out.Headers {
		if strings.EqualFold(hv[0], "Set-Cookie") {
			resp.Header.Add(hv[0], hv[1])
		} else {
			resp.Header.Set(hv[0], hv[1])
		}
	}
	if out.SkipBody {
		if out.Status == http.StatusNoContent || !h.ctx.IsHead() {
			resp.ResetBody()
		}
		if h.ctx.IsHead() {
			resp.SkipBody = true
		} else {
			resp.Header.SetContentLength(0)
		}
	}
}

// headersJSON renders the request headers as PostgREST's request.headers GUC, in h's reused buffer (valid until
// the request is done).
func (h *handling) headersJSON() string {
	h.jsonBuf = appendHeadersJSON(h.jsonBuf[:0], &h.ctx.Request.Header)
	return b2s(h.jsonBuf)
}

// appendHeadersJSON appends the request headers as PostgREST's request.headers GUC: a JSON object with lower-case
// names, cookies left out (PostgREST passes them as request.cookies).
func appendHeadersJSON(b []byte, h *fasthttp.RequestHeader) []byte {
	b = append(b, '{')
	first := true
	for k, v := range h.All() {
		if len(k) == 6 && strings.EqualFold(b2s(k), "cookie") {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		start := len(b)
		b = apierr.AppendJSONString(b, b2s(k))
		for i := start; i < len(b); i++ {
			if c := b[i]; c >= 'A' && c <= 'Z' {
				b[i] = c + ('a' - 'A')
			}
		}
		b = append(b, ':')
		b = apierr.AppendJSONString(b, b2s(v))
	}
	return append(b, '}')
}

// cookiesJSON renders the request's cookies as PostgREST's request.cookies GUC ("" when there are none).
func cookiesJSON(h *fasthttp.RequestHeader) string {
	if len(h.Peek("Cookie")) == 0 {
		return ""
	}
	b := make([]byte, 0, 64)
	b = append(b, '{')
	for k, v := range h.Cookies() {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = apierr.AppendJSONString(b, b2s(k))
		b = append(b, ':')
		b = apierr.AppendJSONString(b, b2s(v))
	}
	b = append(b, '}')
	return b2s(b)
}

// writeError renders err as PostgREST's JSON error object.
func (s *Server) writeError(h *handling, err error) {
	ctx := h.ctx
	e := apierr.As(err, h.who.Authenticated)
	resp := &ctx.Response
	resp.Header.Del("Content-Range")
	resp.SetStatusCode(e.Status)
	resp.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp.Header.Set("Proxy-Status", "PostgREST; error="+e.Code) // as PostgREST names itself: proxies and clients parse it
	challenged := false
	for _, h := range e.Headers {
		resp.Header.Set(h[0], h[1])
		challenged = challenged || strings.EqualFold(h[0], "WWW-Authenticate")
	}
	if e.Status == http.StatusUnauthorized && !challenged {
		// Every 401 carries a challenge (RFC 9110 §15.5.2), whichever stage produced it: a role the JWT names
		// that does not exist, RAISE SQLSTATE 'PT401', a permission error of the anonymous role.
		resp.Header.Set("WWW-Authenticate", "Bearer")
	}
	if ctx.IsHead() {
		resp.SkipBody = true
		return
	}
	if h.req != nil && (h.body == nil || !h.body.streaming()) {
		if _, tx := plan.TxEnd(h.snap.set.cfg.DBTxEnd, h.req.Prefer.Tx); tx != "" {
			resp.Header.Set("Preference-Applied", "tx="+tx)
		}
	}
	if h.snap.set.cfg.ClientErrorVerbosity == "minimal" {
		// client-error-verbosity = minimal: only code and message, as PostgREST.
		b := append(apierr.AppendJSONString([]byte(`{"code":`), e.Code), `,"message":`...)
		resp.SetBody(withOperation(append(apierr.AppendJSONString(b, e.Message), '}'), err))
		return
	}
	resp.SetBody(withOperation(e.JSON(), err))
}

// readTimeout bounds reading one request (request line, headers and body); a client that has not sent it
// whole by then is disconnected without an answer. A variable so that tests can shorten it.
var readTimeout = 30 * time.Second

// transportError answers errors fasthttp finds before the handler (headers too large, body too large,
// malformed HTTP). A connection that timed out or was closed by the client mid-request is closed without an
// answer, as warp (PostgREST's server) does: the client is gone or stalling, and a "400 Malformed" would only
// misreport a slow client.
func (s *Server) transportError(ctx *fasthttp.RequestCtx, err error) {
	if isTimeout(err) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		// fasthttp writes whatever the error handler leaves in ctx.Response; with the connection closed
		// that write fails quietly and nothing reaches the client.
		_ = ctx.Conn().Close()
		return
	}
	var e *apierr.Error
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.As(err, &small):
		e = apierr.New(http.StatusRequestHeaderFieldsTooLarge, "PGRST431", "Request headers too large").
			WithDetails(fmt.Sprintf("The request line and headers exceed the limit of %d bytes.", s.maxHeaderBytes()))
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		e = apierr.New(http.StatusRequestEntityTooLarge, "PGRST413", "Request body too large").
			WithDetails(fmt.Sprintf("The request body exceeds the limit of %d bytes.", s.cfg.MaxBodyBytes))
	default:
		// fasthttp's message quotes parts of the request (a header value, the request line), which may
		// carry credentials: it goes to the log only.
		s.log.Debug("malformed HTTP request", "remote", ctx.RemoteAddr().String(), "err", err)
		e = apierr.New(http.StatusBadRequest, "PGWAY400", "Malformed HTTP request")
	}
	h := handling{ctx: ctx, snap: s.snap.Load()}
	s.writeError(&h, e)
	s.observe(&h, ctx.Time(), e)
	answerAndLinger(ctx)
}

// lingerFor and lingerBytes bound how long and how much of the rest of a refused request is read after the
// answer (see answerAndLinger).
const (
	lingerFor   = 500 * time.Millisecond
	lingerBytes = 1 << 20
)

// answerAndLinger sends the error response now, ends the connection's sending side and reads (and drops) what
// the client is still sending, for a bounded time, before closing. Closing a socket with unread data makes the
// kernel reset the connection, which can destroy the answer before the client reads it: a client still sending
// an oversized header or body would see "connection reset" instead of 431 or 413 (net/http lingers the same
// way). fasthttp's own write of the response afterwards fails quietly on the closed connection.
func answerAndLinger(ctx *fasthttp.RequestCtx) {
	conn := ctx.Conn()
	ctx.Response.SetConnectionClose()
	_ = conn.SetWriteDeadline(time.Now().Add(lingerFor))
	bw := bufio.NewWriterSize(conn, 4<<10)
	if ctx.Response.Write(bw) != nil || bw.Flush() != nil {
		_ = conn.Close()
		return
	}
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		_ = conn.SetReadDeadline(time.Now().Add(lingerFor))
		_, _ = io.CopyN(io.Discard, conn, lingerBytes)
	}
	_ = conn.Close()
}

// isTimeout tells whether err is a read deadline passing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded)
}

// maxHeaderBytes is server-max-header-size: fasthttp's per-connection read buffer, which must hold the request
// line and every header (0: the default, 64 KiB).
func (s *Server) maxHeaderBytes() int {
	if s.cfg.MaxHeaderBytes > 0 {
		return s.cfg.MaxHeaderBytes
	}
	return 64 << 10
}

// peekJoined joins every value of a repeated header with ", ".
func peekJoined(h *fasthttp.RequestHeader, key string) string {
	vals := h.PeekAll(key)
	switch len(vals) {
	case 0:
		return ""
	case 1:
		return b2s(vals[0])
	}
	out := make([]byte, 0, 64)
	for i, v := range vals {
		if i > 0 {
			out = append(out, ", "...)
		}
		out = append(out, v...)
	}
	return b2s(out)
}

// b2s views bytes as a string without copying; only for values that do not outlive the request.
func b2s(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
