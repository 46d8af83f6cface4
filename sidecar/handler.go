package sidecar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/auth"
	"github.com/pgway/pgway/sidecar/internal/dbexec"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/respond"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// call is one request's state as it moves through the stages.
type call struct {
	ctx    *fasthttp.RequestCtx
	req    *request.Request
	cache  *schemacache.Cache
	schema string
	who    auth.Result
	timing timing
	set    *settings // the configuration this request runs under
	// db is the request's context for database work: cancelled when the client goes away, at
	// server-request-timeout and at shutdown after the drain period.
	db context.Context
}

// handle is the fasthttp handler: parse → authenticate → plan → SQL → execute → respond.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	authenticated := false
	set := s.set()
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in handler", "panic", r, "stack", string(debug.Stack()))
			ctx.Response.Reset()
			s.writeError(ctx, apierr.Internal(fmt.Errorf("panic: %v", r)), false)
		}
		finishHeaders(&ctx.Response, set)
		s.metrics.observe(ctx.Response.StatusCode(), time.Since(start))
	}()
	c := call{ctx: ctx, set: set}
	st := s.inflight.begin(ctx.Conn(), start, c.set.cfg.RequestTimeout)
	defer s.inflight.end(st)
	c.db = st.ctx
	if th := c.set.cfg.ServerTraceHeader; th != "" {
		// PostgREST's trace header: the request's value is echoed on every response, errors included.
		if v := ctx.Request.Header.Peek(th); len(v) > 0 {
			ctx.Response.Header.SetBytesV(th, v)
		}
	}
	if s.cors(&c) {
		return
	}
	if c.set.cfg.ServerTimingEnabled {
		c.timing = timing{on: true, last: start}
		defer func() {
			c.timing.lap(stageResponse)
			ctx.Response.Header.SetBytesV("Server-Timing", c.timing.header())
		}()
	}
	if err := s.serve(&c); err != nil {
		authenticated = c.who.Authenticated
		s.writeError(ctx, err, authenticated)
		if c.req != nil {
			if _, tx := c.set.txEnd(c.req.Prefer.Tx); tx != "" {
				ctx.Response.Header.Set("Preference-Applied", "tx="+tx)
			}
		}
		return
	}
	// For caches and CDNs, as PostgREST (a response.headers override wins).
	if len(ctx.Response.Header.Peek("Vary")) == 0 {
		ctx.Response.Header.Set("Vary", "Accept, Prefer, Range")
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

func (s *Server) serve(c *call) error {
	ctx := c.ctx
	c.cache = s.cache.Load()
	if c.cache == nil {
		return apierr.New(http.StatusServiceUnavailable, "PGRST002",
			"Could not query the database for the schema cache. Retrying.")
	}
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
	version, err := s.routeVersion(c, &in)
	if err != nil {
		return err
	}
	if isDocsPath(in) {
		return s.serveDocs(c, in, version)
	}
	if in.Path == "/" || in.Path == "" {
		in.Query = "" // the root takes no query parameters but ?openapi=, read by serveOpenAPI
	}
	if format, ok := docAlias(in); ok {
		// /openapi.json and /openapi.yaml: the root document under a plain name.
		return s.serveDocAlias(c, in, format)
	}
	req, err := request.Parse(in)
	c.timing.lap(stageParse)
	if err != nil {
		return err
	}
	c.req = req
	req.StrictTargetNames = !c.set.cfg.URLLegacyTargetNames
	if c.schema, err = c.set.schemaFor(req); err != nil {
		return err
	}
	if len(c.set.cfg.DBSchemas) > 1 {
		ctx.Response.Header.Set("Content-Profile", c.schema)
	}
	if err := s.versionPolicy(c, c.schema, in.Path); err != nil {
		return err
	}
	c.timing.lap(stageParse) // profile and version checks
	who, aerr := c.set.auth.Authenticate(string(h.Peek("Authorization")), time.Now())
	c.timing.lap(stageJWT)
	if aerr != nil {
		return aerr
	}
	c.who = who
	if err := s.validateRequest(c); err != nil {
		return err
	}

	switch req.Action {
	case request.ActionRead:
		return s.read(c)
	case request.ActionInsert, request.ActionUpdate, request.ActionUpsert, request.ActionDelete:
		return s.write(c)
	case request.ActionCall:
		return s.call(c)
	case request.ActionSchema:
		if fn := c.set.cfg.DBRootSpec; fn != "" {
			// db-root-spec: the root answers with this function's result instead of the generated document.
			req.Action, req.RPC, req.Relation = request.ActionCall, true, fn
			return s.call(c)
		}
		return s.serveOpenAPI(c, "json")
	case request.ActionInfo:
		return s.options(c)
	default:
		return apierr.New(http.StatusNotImplemented, "PGRST501", "Not implemented yet in pgway").
			WithDetails("This request type is not supported yet.")
	}
}

// schemaFor picks the request's schema from its profile header (PGRST106 when not exposed).
func (set *settings) schemaFor(req *request.Request) (string, error) {
	if req.Schema == "" {
		return set.cfg.DBSchemas[0], nil
	}
	if i := slices.Index(set.cfg.DBSchemas, req.Schema); i >= 0 {
		return set.cfg.DBSchemas[i], nil // the configured string: req.Schema may live in a request buffer
	}
	return "", apierr.New(http.StatusNotAcceptable, "PGRST106", "Invalid schema: "+req.Schema).
		WithHint("Only the following schemas are exposed: " + set.schemaList)
}

func (s *Server) tx(c *call, readOnly bool) dbexec.Tx {
	var roleSets [][2]string
	if rs := s.roleSettings.Load(); rs != nil {
		roleSets = (*rs)[c.who.Role]
	}
	return dbexec.Tx{
		RoleSettings: roleSets,
		Role:         c.who.Role,
		Claims:       string(c.who.Claims),
		SearchPath:   c.set.searchPaths[c.schema],
		Method:       c.req.Method,
		Path:         b2s(c.ctx.Path()),
		Headers:      headersJSON(&c.ctx.Request.Header),
		Cookies:      cookiesJSON(&c.ctx.Request.Header),
		ReadOnly:     readOnly,
		Timezone:     c.req.Prefer.Timezone,
	}
}

// headersJSON renders the request headers as PostgREST's request.headers GUC: a JSON object with lower-case
// names, cookies left out (PostgREST passes them as request.cookies).
func headersJSON(h *fasthttp.RequestHeader) string {
	b := make([]byte, 0, 256)
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
	b = append(b, '}')
	return b2s(b)
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

// read answers GET/HEAD on a relation.
func (s *Server) read(c *call) error {
	req := c.req
	cache := s.roleView(c)
	rel, err := plan.Relation(cache, c.schema, req.Relation)
	if err != nil {
		return err
	}
	if req.Accept == request.MediaPlan && !c.set.cfg.DBPlanEnabled {
		return apierr.New(http.StatusNotAcceptable, "PGRST107",
			"None of these media types are available: "+b2s(c.ctx.Request.Header.Peek("Accept")))
	}
	if err := plan.CheckAggregates(req.Select, c.set.cfg.DBAggregatesEnabled); err != nil {
		return err
	}
	p, err := plan.ForRead(req, cache, rel, c.set.limits())
	if err != nil {
		return err
	}
	st := sqlgen.ForRead(p)
	c.timing.lap(stagePlan)
	setWarning(&c.ctx.Response, p.Warning)
	resp := &c.ctx.Response
	if st.Explain {
		first := true
		err = c.set.exec.Read(c.db, s.tx(c, true), st, func(r dbexec.ReadResult) error {
			c.timing.lap(stageTransaction)
			if !first {
				resp.AppendBodyString("\n")
			}
			first = false
			resp.AppendBody(r.Body)
			return nil
		})
		if err != nil {
			return err
		}
		resp.Header.Set("Content-Type", respond.ContentType(req.Accept, req.Plan))
		if req.Head {
			resp.SkipBody = true
		}
		return nil
	}
	tx := s.tx(c, true)
	tx.Response = c.set.gucResponse(p.Handler != nil) // a handler's final function may set headers
	err = c.set.exec.Read(c.db, tx, st, func(r dbexec.ReadResult) error {
		c.timing.lap(stageTransaction)
		total := r.Total
		switch {
		case p.Count == request.CountPlanned:
			total = r.Estimate
		case p.Count == request.CountEstimated && (p.MaxRows == 0 || total > p.MaxRows):
			// PostgREST: above db-max-rows, or with no db-max-rows at all, the larger of the (limited) exact
			// count and the planner's estimate.
			total = max(total, r.Estimate)
		}
		_, txApplied := c.set.txEnd(req.Prefer.Tx)
		head, aerr := respond.Read(req, respond.ReadResult{Offset: p.Offset, PageTotal: r.PageTotal, Total: total, TxApplied: txApplied})
		if aerr != nil {
			return aerr
		}
		resp.SetStatusCode(head.Status)
		if p.Handler != nil {
			resp.Header.Set("Content-Type", respond.CustomContentType(p.Handler.Media))
		} else {
			resp.Header.Set("Content-Type", respond.ContentType(req.Accept, req.Plan))
		}
		for _, hv := range head.Headers {
			resp.Header.Set(hv[0], hv[1])
		}
		resp.Header.Set("Content-Location", respond.ContentLocation(req.Relation, b2s(c.ctx.URI().QueryString())))
		if req.Head {
			resp.SkipBody = true
			return nil
		}
		resp.SetBody(r.Body)
		return nil
	})
	if err != nil {
		return err
	}
	return applyGUCResponse(resp, tx.Response)
}

// setWarning adds PostgREST's deprecation Warning header (RFC 7234 code 299) when the plan has one. The text
// names an alias from the request's select, which may hold any character: it is written as a well-formed
// quoted-string.
func setWarning(resp *fasthttp.Response, text string) {
	if text != "" {
		resp.Header.Set("Warning", "299 pgway "+quotedString(text))
	}
}

// quotedString renders s as an HTTP quoted-string (RFC 9110 5.6.4): '"' and '\' are escaped, control
// characters become spaces and invalid UTF-8 becomes U+FFFD.
func quotedString(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20 || r == 0x7f:
			b = append(b, ' ')
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return string(append(b, '"'))
}

// writeError renders err as PostgREST's JSON error object.
func (s *Server) writeError(ctx *fasthttp.RequestCtx, err error, authenticated bool) {
	e := apierr.As(err, authenticated)
	if e.Status >= 500 && e.Code != "PGRST002" {
		// PGRST001's cause (host, port, role, database) is kept out of its details: it is logged here.
		s.log.Error("request failed", "method", string(ctx.Method()), "path", string(ctx.Path()), "err", err)
	}
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
	if s.set().cfg.ClientErrorVerbosity == "minimal" {
		// client-error-verbosity = minimal: only code and message, as PostgREST.
		b := append(apierr.AppendJSONString([]byte(`{"code":`), e.Code), `,"message":`...)
		resp.SetBody(append(apierr.AppendJSONString(b, e.Message), '}'))
		return
	}
	resp.SetBody(e.JSON())
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
		e = apierr.New(http.StatusBadRequest, "PGRST000", "Malformed HTTP request")
	}
	s.writeError(ctx, e, false)
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
