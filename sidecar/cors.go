package sidecar

import (
	"slices"
	"strings"

	"github.com/valyala/fasthttp"
)

// corsExposed are the response headers browsers may read, as PostgREST exposes them.
const corsExposed = "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, Transfer-Encoding, Range-Unit"

// corsMethods are the methods a preflight may ask for: PostgREST's list united with the simple methods, as
// wai-cors answers them.
var corsMethods = []string{"GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS", "HEAD"}

// corsSimpleHeaders are the request headers wai-cors always allows besides the requested ones.
var corsSimpleHeaders = []string{"Accept", "Accept-Language", "Content-Language"}

// cors applies PostgREST's CORS policy (wai-cors with corsIgnoreFailures) to a request that carries an Origin
// header. It reports true when it answered a preflight request itself.
//
// A request that fails the policy — an origin not in server-cors-allowed-origins, an OPTIONS request that is
// not a valid preflight, a preflight asking for a method not in corsMethods — is passed on unchanged with no
// CORS header at all, so the browser blocks it. A disallowed preflight is therefore answered as a plain
// OPTIONS request (200 with Allow, or the resource's 404), as PostgREST does; but where PostgREST's OPTIONS
// answer then carries Access-Control-Allow-Origin: *, finishHeaders removes "*" whenever an allow-list is
// configured.
func (s *Server) cors(c *handling) bool {
	ctx := c.ctx
	origin := ctx.Request.Header.Peek("Origin")
	if len(origin) == 0 {
		return false
	}
	allowed := c.snap.set.cfg.ServerCorsAllowedOrigins
	if len(allowed) > 0 && !slices.Contains(allowed, string(origin)) {
		return false
	}
	resp := &ctx.Response.Header
	allowOrigin := func() {
		if len(allowed) == 0 {
			resp.Set("Access-Control-Allow-Origin", "*")
			return
		}
		resp.Set("Access-Control-Allow-Origin", string(origin))
		resp.Set("Access-Control-Allow-Credentials", "true")
	}
	if !ctx.IsOptions() {
		allowOrigin()
		if s.replicas != nil {
			resp.Set("Access-Control-Expose-Headers", corsExposed+", "+lsnHeader) // read-your-writes tokens
		} else {
			resp.Set("Access-Control-Expose-Headers", corsExposed)
		}
		return false
	}
	// Preflight: wai-cors treats every OPTIONS request with an Origin as one.
	reqMethod := ctx.Request.Header.Peek("Access-Control-Request-Method")
	if !slices.Contains(corsMethods, string(reqMethod)) {
		return false // missing or unsupported method (compared exactly, as wai-cors does)
	}
	allowOrigin()
	headers := "Authorization"
	var requested []string
	if h := ctx.Request.Header.Peek("Access-Control-Request-Headers"); len(h) > 0 {
		for _, x := range strings.Split(string(h), ",") {
			if x = strings.TrimSpace(x); x != "" && !strings.EqualFold(x, "authorization") {
				headers += ", " + x
				requested = append(requested, x)
			}
		}
	}
	for _, x := range corsSimpleHeaders {
		if !slices.ContainsFunc(requested, func(r string) bool { return strings.EqualFold(r, x) }) {
			headers += ", " + x
		}
	}
	resp.Set("Access-Control-Allow-Methods", strings.Join(corsMethods, ", "))
	resp.Set("Access-Control-Allow-Headers", headers)
	resp.Set("Access-Control-Max-Age", "86400")
	ctx.SetStatusCode(fasthttp.StatusOK)
	return true
}

// addVary adds token to the response's Vary header unless it is already listed (or Vary is "*").
func addVary(h *fasthttp.ResponseHeader, token string) {
	cur := h.Peek("Vary")
	if len(cur) == 0 {
		h.Set("Vary", token)
		return
	}
	for _, t := range strings.Split(string(cur), ",") {
		if t = strings.TrimSpace(t); t == "*" || strings.EqualFold(t, token) {
			return
		}
	}
	h.Set("Vary", string(cur)+", "+token)
}
